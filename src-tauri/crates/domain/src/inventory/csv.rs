//! The inventory CSV: one row per server (format: docs/inventory.md).
//!
//! The header names the columns, in any order. `institution, system, site, server, address,
//! user` are required; an unknown column is an error (a typo such as `adress` must not make
//! every address silently empty). UTF-8, with or without a byte-order mark (Excel writes one).

use super::{
    Given, ImportRow, MAX_FILE_BYTES, MAX_SERVERS, RowProblem, ServerDraft, ServerRecord,
    cross_check,
};

/// Every column, in the order export writes them.
pub const COLUMNS: [&str; 22] = [
    "institution",
    "system",
    "site",
    "tier",
    "server",
    "address",
    "port",
    "user",
    "auth",
    "credential",
    "os",
    "app_path",
    "deploy_path",
    "service_port",
    "health_tcp_port",
    "health_http_url",
    "health_http_status",
    "health_http_max_ms",
    "health_process",
    "health_log_file",
    "health_log_error_pattern",
    "tags",
];

const REQUIRED: [&str; 6] = ["institution", "system", "site", "server", "address", "user"];

/// Columns that fall back to a default when empty (a blank `tier` cell is "not said", not
/// "reset to 2"); the other optional columns clear their value when empty.
const DEFAULTED: [&str; 3] = ["tier", "port", "auth"];

/// Reads a whole file into records. Either every row is valid, or every problem is returned
/// (nothing is half-imported).
pub fn parse(text: &str) -> Result<Vec<ServerRecord>, Vec<RowProblem>> {
    parse_rows(text).map(|rows| rows.into_iter().map(|r| r.record).collect())
}

fn refusal(line: usize, message: impl Into<String>) -> Vec<RowProblem> {
    vec![RowProblem {
        line,
        message: message.into(),
    }]
}

/// Reads a whole file into rows that remember which columns they gave.
pub fn parse_rows(text: &str) -> Result<Vec<ImportRow>, Vec<RowProblem>> {
    if text.len() > MAX_FILE_BYTES {
        return Err(refusal(
            1,
            format!(
                "the file is {} bytes; an inventory file may be at most {MAX_FILE_BYTES}",
                text.len()
            ),
        ));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(::csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_ascii_lowercase()).collect(),
        Err(e) => {
            return Err(vec![RowProblem {
                line: 1,
                message: format!("the header row cannot be read: {e}"),
            }]);
        }
    };
    let mut problems = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        if headers[..i].contains(h) {
            problems.push(RowProblem {
                line: 1,
                message: format!("the column `{h}` appears twice; which one is meant?"),
            });
        }
        if !COLUMNS.contains(&h.as_str()) {
            problems.push(RowProblem {
                line: 1,
                message: format!(
                    "unknown column `{}`; the columns are {}",
                    crate::text::excerpt(h, 40),
                    COLUMNS.join(", ")
                ),
            });
        }
    }
    for r in REQUIRED {
        if !headers.iter().any(|h| h == r) {
            problems.push(RowProblem {
                line: 1,
                message: format!("the required column `{r}` is missing"),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let mut rows = Vec::new();
    for result in reader.records() {
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
                problems.push(RowProblem {
                    line,
                    message: match e.kind() {
                        ::csv::ErrorKind::UnequalLengths {
                            expected_len, len, ..
                        } => {
                            format!("{len} fields where the header has {expected_len}")
                        }
                        ::csv::ErrorKind::Utf8 { .. } => {
                            "not UTF-8 text (save the file as CSV UTF-8)".into()
                        }
                        _ => e.to_string(),
                    },
                });
                continue;
            }
        };
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() + problems.len() >= MAX_SERVERS {
            return Err(refusal(
                line,
                format!("the file names more than {MAX_SERVERS} servers; split it"),
            ));
        }
        let mut draft = ServerDraft::default();
        let mut given = Given::default();
        for (column, value) in headers.iter().zip(record.iter()) {
            if let Some(slot) = draft.field_mut(column) {
                *slot = undefuse(value).to_owned();
                if !(value.is_empty() && DEFAULTED.contains(&column.as_str())) {
                    given = given.with(column);
                }
            }
        }
        match draft.validate() {
            Ok(record) => rows.push(ImportRow {
                line,
                record,
                given,
            }),
            Err(fields) => problems.push(RowProblem {
                line,
                message: fields
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            }),
        }
    }
    cross_check(&rows, &mut problems);
    if rows.is_empty() && problems.is_empty() {
        problems.push(RowProblem {
            line: 2,
            message: "the file has a header but no servers".into(),
        });
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// A cell that starts like a spreadsheet formula is written with a leading `'`, so Excel
/// shows it as text instead of running it (as the activity CSV does).
fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// The cell [`defuse`] wrote, as it was.
fn undefuse(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => cell,
    }
}

/// Writes records as CSV with every column, readable by [`parse`].
pub fn write(records: &[ServerRecord]) -> String {
    let mut out = Vec::new();
    let written = Writer::new(&mut out).and_then(|mut w| {
        records.iter().try_for_each(|r| w.row(r))?;
        w.finish()
    });
    // Writing to a Vec cannot fail for I/O reasons; a failure here would be a bug in csv.
    debug_assert!(written.is_ok());
    String::from_utf8(out).unwrap_or_default()
}

/// Writes CSV a row at a time (exports of any size), header first.
pub struct Writer<W: std::io::Write> {
    inner: ::csv::Writer<W>,
}

impl<W: std::io::Write> Writer<W> {
    pub fn new(out: W) -> std::io::Result<Self> {
        let mut inner = ::csv::WriterBuilder::new().from_writer(out);
        inner.write_record(COLUMNS)?;
        Ok(Self { inner })
    }

    pub fn row(&mut self, r: &ServerRecord) -> std::io::Result<()> {
        let d = r.to_draft();
        let row: Vec<String> = COLUMNS
            .iter()
            .map(|c| defuse(d.field(c).unwrap_or_default()).into_owned())
            .collect();
        Ok(self.inner.write_record(&row)?)
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\u{feff}institution,system,site,tier,server,address,port,user,auth,credential,tags\n\
        Seoul City,hr-portal,gangnam,1,hr-web-01,10.1.2.3,22,deploy,key,hr-key,web;seoul\n\
        Seoul City,hr-portal,gangnam,1,hr-web-02,10.1.2.4,,deploy,password,hr-pw,\n\
        \"Busan, Port\",\"cargo \"\"main\"\"\",pier-3,3,cargo-01,cargo.local,2222,ops,,,\n";

    #[test]
    fn a_good_file_round_trips_through_export() {
        let records = parse(GOOD).unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(records.len(), 3);
        assert_eq!(records[2].institution, "Busan, Port");
        assert_eq!(records[2].system, "cargo \"main\"");
        assert_eq!(records[1].port, 22);
        assert_eq!(records[0].tags, vec!["seoul", "web"]);
        let again = parse(&write(&records)).unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(again, records);
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line_and_nothing_is_returned() {
        let text = "institution,system,site,tier,server,address,user\n\
            A,s,x,1,web-01,10.0.0.1,u\n\
            A,s,x,9,web-02,10.0.0.2,u\n\
            A,s,x,1,web-01,10.0.0.3,u\n\
            A,s,x,1,web-04\n\
            A,s,y,2,web 05,10.0.0.5,\n\
            A,s,x,2,web-06,10.0.0.6,u\n";
        let problems = parse(text).unwrap_err();
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7], "{problems:#?}");
        assert!(problems[0].message.contains("tier"));
        assert!(problems[1].message.contains("already on line 2"));
        assert!(
            problems[2]
                .message
                .contains("5 fields where the header has 7")
        );
        assert!(problems[3].message.contains("server") && problems[3].message.contains("user"));
        assert!(
            problems[4]
                .message
                .contains("tier 2 here but tier 1 on line 2")
        );
    }

    #[test]
    fn an_unknown_or_missing_column_is_refused_before_any_row() {
        let problems =
            parse("institution,system,site,server,adress,user\nA,s,x,w,1.2.3.4,u\n").unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(text[0].contains("unknown column `adress`"), "{text:?}");
        assert!(text[1].contains("required column `address`"), "{text:?}");
        assert!(parse("").is_err());
        assert!(
            parse(&format!("{}\n", COLUMNS.join(","))).is_err(),
            "no servers"
        );
    }

    fn messages(text: &str) -> String {
        parse(text)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn hardening_13_repeated_columns_bad_patterns_and_huge_fields_are_refused() {
        let all = messages(
            "institution,system,site,server,address,user,address\nA,s,x,w,1.2.3.4,u,5.6.7.8\n",
        );
        assert!(all.contains("`address` appears twice"), "{all}");
        let all = messages(
            "institution,system,site,server,address,user,health_log_file,health_log_error_pattern\n\
             A,s,x,w,1.2.3.4,u,/var/log/app.log,ERROR(\n",
        );
        assert!(all.contains("not a valid pattern"), "{all}");
        let huge = "y".repeat(50 * 1024 * 1024);
        let all = messages(&format!(
            "institution,system,site,server,address,user,os\nA,s,x,w,1.2.3.4,u,{huge}\n"
        ));
        assert!(
            all.contains("bytes long; at most 2048"),
            "{}",
            &all[..all.len().min(300)]
        );
        assert!(all.len() < 1000, "the value is not echoed");
        let all = messages(
            "institution,system,site,server,address,user\nA,s,x,web-01,1.2.3.4,u\nA,s,x,WEB-01,1.2.3.5,u\n",
        );
        assert!(all.contains("differs only in case"), "{all}");
    }

    #[test]
    fn hardening_11_invisible_characters_are_refused_in_names() {
        let all = messages(
            "institution,system,site,server,address,user\nA,s\u{202E}lmth,x,w,1.2.3.4,u\n",
        );
        assert!(all.contains("U+202E"), "{all}");
        let all = messages(
            "institution,system,site,server,address,user,tags\nA,s,x,w,1.2.3.4,u,we\u{200B}b\n",
        );
        assert!(all.contains("tags"), "{all}");
    }

    #[test]
    fn hardening_13_exported_cells_that_look_like_formulas_are_defused_and_read_back() {
        let text = "institution,system,site,server,address,user,os\n=HYPERLINK(1),s,x,w,1.2.3.4,u,@SUM(A1)\n";
        let records = parse(text).unwrap_or_else(|p| panic!("{p:?}"));
        let written = write(&records);
        assert!(
            written.contains("'=HYPERLINK(1)") && written.contains("'@SUM(A1)"),
            "{written}"
        );
        assert_eq!(parse(&written).unwrap_or_else(|p| panic!("{p:?}")), records);
    }

    #[test]
    fn hardening_04_only_the_columns_a_file_has_are_given() {
        let rows =
            parse_rows("institution,system,site,server,address,user,tier\nA,s,x,w,1.2.3.4,u,\n")
                .unwrap_or_else(|p| panic!("{p:?}"));
        assert!(rows[0].given.has("address"));
        assert!(
            !rows[0].given.has("tier"),
            "an empty tier cell says nothing"
        );
        assert!(!rows[0].given.has("port"));
    }
}
