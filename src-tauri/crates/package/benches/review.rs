//! The review's backend figures (issue 11): parse + index a 100,000-line, 500-file package
//! (≈ 5 MB of diff) — target ≤ 250 ms; highlight a visible window of 100 lines — target
//! ≤ 50 ms; full-highlight throughput in lines/s. Prints the figures; `scripts/bench/review.sh`
//! runs it. Each figure is the median of several runs.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use guardia_package::corpus;
use guardia_package::display::{Layout, lay_out};
use guardia_package::highlight::{RowHighlights, syntaxes};
use guardia_package::{Limits, read_archive, verify};

/// A git diff of `files` files with `lines` diff lines in all, in the languages a review
/// sees (Java, JSP, JS, SQL, XML, properties …).
pub fn big_diff(files: usize, lines: usize) -> String {
    let exts = [
        "java",
        "jsp",
        "js",
        "css",
        "sql",
        "xml",
        "properties",
        "sh",
        "html",
    ];
    let per_file = lines / files;
    let mut out = String::with_capacity(lines * 52);
    for f in 0..files {
        let ext = exts[f % exts.len()];
        let path = format!("src/module{:03}/part{f:04}/Component{f:04}.{ext}", f % 37);
        out.push_str(&format!(
            "diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n+++ b/{path}\n"
        ));
        // Hunks of 20 rows: 14 context, 3 removed, 3 added (rows of the diff).
        let hunks = per_file.saturating_sub(4).div_ceil(21);
        for h in 0..hunks.max(1) {
            let start = 1 + h * 40;
            out.push_str(&format!(
                "@@ -{start},17 +{start},17 @@ class Component{f} {{\n"
            ));
            for l in 0..7 {
                out.push_str(&format!(
                    "     int value{l} = compute(\"row {h}-{l}\", {l}); // keep\n"
                ));
            }
            for l in 0..3 {
                out.push_str(&format!(
                    "-    String name{l} = \"old value {h}\"; /* before */\n"
                ));
            }
            for l in 0..3 {
                out.push_str(&format!(
                    "+    String name{l} = escape(\"new value {h}\"); /* after */\n"
                ));
            }
            for l in 7..14 {
                out.push_str(&format!("     return values.get({l}) + offset; // {h}\n"));
            }
        }
    }
    out
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn main() {
    let diff = big_diff(500, 100_000);
    let rows = diff.lines().count();
    let mut files: corpus::Files = BTreeMap::new();
    files.insert("changes.diff".into(), diff.clone().into_bytes());
    files.insert("execution.log".into(), b"INFO done\n".to_vec());
    files.insert(
        "health_check.json".into(),
        br#"{"checks":[{"name":"GET /","status":"pass"}]}"#.to_vec(),
    );
    files.insert(
        "result.json".into(),
        br#"{"status":"success","summary":"bench","changed_files":[]}"#.to_vec(),
    );
    let sealed = corpus::sealed(files, "OPS-20261206-001", 1);
    let zip = corpus::zip(&corpus::members(&sealed));
    println!(
        "package: {} diff lines, 500 files, diff {:.1} MB, zip {:.2} MB",
        rows,
        diff.len() as f64 / 1e6,
        zip.len() as f64 / 1e6
    );

    let mut parse = Vec::new();
    let mut import = Vec::new();
    let mut layout = Vec::new();
    let mut package = None;
    for _ in 0..7 {
        let t = Instant::now();
        let index = guardia_package::DiffIndex::parse(&diff).unwrap_or_else(|e| panic!("{e}"));
        parse.push(t.elapsed());
        assert_eq!(index.files.len(), 500);
        let t = Instant::now();
        let p = verify(
            read_archive(&zip, &Limits::default()).unwrap_or_else(|e| panic!("{e}")),
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        import.push(t.elapsed());
        let t = Instant::now();
        let display = lay_out(&p.diff, Layout::Split, false);
        layout.push(t.elapsed());
        assert!(display.rows.len() > 80_000);
        package = Some(p);
    }
    let Some(package) = package else { return };
    println!(
        "parse + index changes.diff: {:.1} ms (target ≤ 250 ms)",
        median(parse).as_secs_f64() * 1e3
    );
    println!(
        "whole import (unzip, hash, verify, parse + index): {:.1} ms",
        median(import).as_secs_f64() * 1e3
    );
    println!(
        "side-by-side layout of every row: {:.1} ms",
        median(layout).as_secs_f64() * 1e3
    );

    let t = Instant::now();
    syntaxes();
    println!(
        "grammar set load (once per console): {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );

    // A 100-line window in the middle of the diff, on a cold cache each time.
    let index = &package.diff;
    let middle = (index.rows.len() / 2) as u32;
    let window: Vec<u32> = (middle..middle + 100).collect();
    let mut windows = Vec::new();
    for _ in 0..7 {
        let mut cold = RowHighlights::new(index);
        let t = Instant::now();
        cold.ensure(index, &window);
        windows.push(t.elapsed());
        assert!(cold.done() >= 90);
    }
    println!(
        "highlight a visible window of 100 lines (cold): {:.1} ms (target ≤ 50 ms)",
        median(windows).as_secs_f64() * 1e3
    );

    let mut all = RowHighlights::new(index);
    let t = Instant::now();
    let done = all.fill(index);
    let took = t.elapsed().as_secs_f64();
    println!(
        "full highlight: {done} rows in {:.2} s = {:.0} lines/s",
        took,
        done as f64 / took
    );
}
