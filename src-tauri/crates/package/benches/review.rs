//! The review's backend figures (issue 11): parse + index a 100,000-line, 500-file package
//! (≈ 5 MB of diff) — target ≤ 250 ms; highlight a visible window of 100 lines — target
//! ≤ 50 ms; full-highlight throughput in lines/s. Prints the figures; `scripts/bench/review.sh`
//! runs it. Each figure is the median of several runs.

use std::time::{Duration, Instant};

use guardia_package::corpus;
use guardia_package::display::{Layout, lay_out};
use guardia_package::highlight::{RowHighlights, syntaxes};
use guardia_package::{Limits, read_archive, verify};

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn main() {
    // `cargo bench` passes --bench: the full figures. Under `cargo test` (CI) a small smoke
    // run checks the bench still works without spending the time.
    let bench = std::env::args().any(|a| a == "--bench");
    let (file_count, line_count, runs) = if bench {
        (500, 100_000, 7)
    } else {
        (20, 4_000, 1)
    };
    let diff = corpus::big_diff(file_count, line_count);
    let rows = diff.lines().count();
    let sealed = corpus::sealed(corpus::big_package(&diff), "OPS-20261206-001", 1);
    let zip = corpus::zip(&corpus::members(&sealed));
    println!(
        "package: {} diff lines, {file_count} files, diff {:.1} MB, zip {:.2} MB",
        rows,
        diff.len() as f64 / 1e6,
        zip.len() as f64 / 1e6
    );

    let mut parse = Vec::new();
    let mut import = Vec::new();
    let mut layout = Vec::new();
    let mut package = None;
    for _ in 0..runs {
        let t = Instant::now();
        let index = guardia_package::DiffIndex::parse(&diff).unwrap_or_else(|e| panic!("{e}"));
        parse.push(t.elapsed());
        assert_eq!(index.files.len(), file_count);
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
        assert!(display.rows.len() > line_count * 4 / 5);
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
    for _ in 0..runs {
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
