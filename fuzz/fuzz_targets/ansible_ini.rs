//! The Ansible INI reader: never panics, stays within its host cap (a small one here),
//! numbers its refusals, and never quotes the value given to a secret variable
//! (`ansible_password = …`).
#![no_main]

use guardia_domain::inventory::{RowProblem, ansible};
use libfuzzer_sys::fuzz_target;

/// Hosts per input: the cap logic is the same at any size, and an input that reaches the
/// real cap (100,000 hosts) costs ~2 s under instrumentation, which starves the search.
const MAX_HOSTS: usize = 2_000;

/// Values set for variables whose names say they are secrets, which occur nowhere else in
/// the text (so that seeing them in a message can only mean they were quoted).
fn secret_values(text: &str) -> Vec<String> {
    let mut pairs = Vec::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        for (i, word) in words.iter().enumerate() {
            if *word == "=" {
                if let (Some(key), Some(value)) =
                    (i.checked_sub(1).map(|k| words[k]), words.get(i + 1))
                {
                    pairs.push((key, *value));
                }
            } else if let Some((key, value)) = word.split_once('=') {
                pairs.push((key, value));
            }
        }
    }
    pairs
        .into_iter()
        .filter(|(key, _)| {
            let key = key.to_ascii_lowercase();
            ["pass", "secret", "token"].iter().any(|w| key.contains(w))
        })
        .filter(|(_, value)| value.len() >= 6 && text.matches(*value).count() == 1)
        .map(|(_, value)| value.to_owned())
        .collect()
}

/// Every message a parse gave, refusals and warnings alike.
fn messages(parsed: Result<ansible::AnsibleImport, Vec<RowProblem>>) -> Vec<String> {
    match parsed {
        Ok(import) => import.warnings.into_iter().map(|w| w.message).collect(),
        Err(problems) => problems.into_iter().map(|p| p.message).collect(),
    }
}

/// Whether `said` (the messages for `text`) quotes `secret` because the input held it — not
/// because the words of a message happen to contain it (`ection` is in "section header"):
/// the same text with the value replaced must then lose it.
fn quotes(said: &[String], text: &str, secret: &str, options: &ansible::AnsibleOptions) -> bool {
    if !said.iter().any(|m| m.contains(secret)) {
        return false;
    }
    let stand_in: String = secret
        .chars()
        .map(|c| if c == 'Q' { 'K' } else { 'Q' })
        .collect();
    let without = messages(ansible::parse(
        &text.replacen(secret, &stand_in, 1),
        options,
    ));
    !without.iter().any(|m| m.contains(secret))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let options = ansible::AnsibleOptions {
        institution: "Seoul".into(),
        system: "hr".into(),
        default_user: "deploy".into(),
        max_hosts: MAX_HOSTS,
        // The import's own credential and a variable mapping, so those paths are fuzzed too.
        credential: "fuzz-key".into(),
        credential_auth: "key".into(),
        map: vec![("app_dir".into(), "app_path".into())],
    };
    let lines = text.lines().count().max(1);
    let parsed = ansible::parse(text, &options);
    match &parsed {
        Ok(import) => assert!(import.rows.len() <= MAX_HOSTS),
        Err(problems) => {
            assert!(!problems.is_empty());
            for p in problems {
                assert!(
                    p.line >= 1 && p.line <= lines + 1,
                    "problem line {}",
                    p.line
                );
            }
        }
    }
    let said = messages(parsed);
    for secret in secret_values(text) {
        assert!(
            !quotes(&said, text, &secret, &options),
            "a message quotes the secret {secret:?}: {said:?}"
        );
    }
});
