//! Result packages (issue 11): the archive reader (zip, tar.gz, tar), the manifest check and
//! the diff indexer, laid out and compared the way the review screen asks. Whatever the
//! bytes, nothing panics, the caps hold, and an accepted package's files match its manifest.
#![no_main]

use guardia_package::display::{Layout, interdiff, lay_out};
use guardia_package::{DiffIndex, Limits, read_archive, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small caps (the defaults scaled down), so a bomb stops within a millisecond or two
    // and the fuzzer spends its time on structure, not on inflating zeros.
    let limits = Limits {
        max_entries: 64,
        max_entry_bytes: 64 << 10,
        max_total_bytes: 256 << 10,
        max_ratio: 200,
        ratio_floor: 16 << 10,
    };
    if let Ok(entries) = read_archive(data, &limits) {
        assert!(entries.files.len() <= limits.max_entries);
        let total: usize = entries.files.values().map(|e| e.bytes.len()).sum();
        assert!(total as u64 <= limits.max_total_bytes);
        if let Ok(package) = verify(entries, None) {
            for record in &package.manifest.files {
                assert_eq!(package.files[&record.path].bytes.len() as u64, record.size);
            }
        }
    }
    // The same bytes as a diff: index, lay out both ways, compare with itself.
    let text = String::from_utf8_lossy(data);
    if let Ok(index) = DiffIndex::parse(&text) {
        for row in &index.rows {
            let _ = index.row_text(row);
        }
        let split = lay_out(&index, Layout::Split, true);
        assert!(split.rows.len() >= index.files.len());
        if let Ok(same) = interdiff(&index, &index) {
            assert_eq!(same.files.len(), 0);
        }
    }
});
