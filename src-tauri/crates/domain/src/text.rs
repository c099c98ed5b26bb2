//! Characters a reader cannot see.
//!
//! Direction overrides (U+202E turns `txt.exe` into `exe.txt` on screen), zero-width
//! characters and other Unicode *format* characters change what a reviewer sees without
//! changing what a machine runs. Identifiers, titles and commands refuse them
//! ([`find_invisible`]); free text keeps them but is displayed through [`escape_invisible`],
//! which shows each as `<U+202E>` — and does the same for control characters, so remote
//! output cannot set a terminal's title or clear its screen.

/// Whether `c` changes text without being seen: bidirectional controls, zero-width
/// characters, and the other format characters (Unicode category Cf) an attacker uses.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'                 // soft hyphen
        | '\u{034F}'               // combining grapheme joiner
        | '\u{061C}'               // Arabic letter mark
        | '\u{115F}' | '\u{1160}' // Hangul fillers
        | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'  // Mongolian selectors and vowel separator
        | '\u{200B}'..='\u{200F}'  // zero-width space/joiners, LRM, RLM
        | '\u{202A}'..='\u{202E}'  // embeddings and overrides
        | '\u{2060}'..='\u{206F}'  // word joiner, invisible operators, isolates
        | '\u{3164}'               // Hangul filler
        | '\u{FE00}'..='\u{FE0F}'  // variation selectors
        | '\u{FEFF}'               // zero-width no-break space (BOM)
        | '\u{FFA0}'               // halfwidth Hangul filler
        | '\u{FFF9}'..='\u{FFFB}'  // interlinear annotation
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E007F}' // tags
    )
}

/// The first invisible character in `text`, as `U+XXXX`, for an error message.
pub fn find_invisible(text: &str) -> Option<String> {
    text.chars().find(|c| is_invisible(*c)).map(code_point)
}

fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// `text` with invisible and control characters shown as `<U+XXXX>` (newlines and tabs
/// kept when `keep_lines`), safe to print to a terminal or show in a review.
pub fn escape_invisible(text: &str, keep_lines: bool) -> std::borrow::Cow<'_, str> {
    let hidden =
        |c: char| is_invisible(c) || (c.is_control() && !(keep_lines && matches!(c, '\n' | '\t')));
    if !text.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if hidden(c) {
            out.push('<');
            out.push_str(&code_point(c));
            out.push('>');
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// At most `max` characters of `text` for quoting in a message, with `…` when cut, and
/// escaped: a refusal must never echo megabytes or hidden characters back.
pub fn excerpt(text: &str, max: usize) -> String {
    let mut cut: String = text.chars().take(max).collect();
    if text.chars().nth(max).is_some() {
        cut.push('…');
    }
    escape_invisible(&cut, false).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_overrides_and_zero_width_characters_are_found_and_shown() {
        assert_eq!(
            find_invisible("report\u{202E}txt.exe"),
            Some("U+202E".into())
        );
        assert_eq!(find_invisible("r\u{200B}m -rf"), Some("U+200B".into()));
        assert_eq!(find_invisible("보고서 정리"), None);
        assert_eq!(
            escape_invisible("a\u{202E}b\x1b]0;owned\x07", false),
            "a<U+202E>b<U+001B>]0;owned<U+0007>"
        );
        assert_eq!(escape_invisible("two\nlines\t!", true), "two\nlines\t!");
        assert_eq!(excerpt(&"x".repeat(5000), 10), "xxxxxxxxxx…");
    }

    #[test]
    fn hardening_11_task_titles_refuse_direction_overrides() {
        let refused = crate::Title::parse("invoice\u{202E}fdp.exe").unwrap_err();
        assert_eq!(refused.problem, crate::Problem::InvisibleCharacters);
        assert!(crate::Title::parse("보고서 정리").is_ok());
    }
}
