//! The inventory CSV reader: never panics; every refusal names a line of the file.
#![no_main]

use guardia_domain::inventory::csv;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count().max(1);
    match csv::parse_rows(text) {
        Ok(rows) => {
            for row in rows {
                assert!(
                    row.line >= 1 && row.line <= lines + 1,
                    "row line {}",
                    row.line
                );
                // What was accepted is a valid record and survives writing it back out.
                let written = csv::write(std::slice::from_ref(&row.record));
                assert!(csv::parse(&written).is_ok(), "{written}");
            }
        }
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
});
