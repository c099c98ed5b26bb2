//! The importer against the example package (tests/fixtures/packages/notice-fix) and the
//! corpus of bad packages: every reason is refused with its code and the file it is about.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the report

use std::path::PathBuf;

use guardia_package::corpus::{self, Files};
use guardia_package::{
    FileStatus, Limits, RefusalCode, RowKind, read_archive, read_path, verify, warnings,
};

const TASK: &str = "OPS-20261206-001";

fn fixture(version: u32) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/fixtures/packages/notice-fix")
        .join(format!("v{version}"))
}

fn files(version: u32) -> Files {
    let mut files = corpus::read_folder(&fixture(version)).unwrap();
    files.remove("manifest.json");
    files
}

#[test]
fn the_example_folder_verifies_and_indexes_every_kind_of_change() {
    let package = verify(
        read_path(&fixture(1), &Limits::default()).unwrap(),
        Some(TASK),
    )
    .unwrap();
    assert_eq!(package.manifest.package_version, 1);
    let by_path = |p: &str| package.diff.file(p).unwrap();
    assert_eq!(package.diff.files.len(), 8);
    assert_eq!(by_path("web/notice.jsp").status, FileStatus::Modified);
    assert_eq!(by_path("web/notice.jsp").language, Some("jsp"));
    assert_eq!(
        (
            by_path("web/notice.jsp").added,
            by_path("web/notice.jsp").removed
        ),
        (2, 1)
    );
    assert_eq!(
        by_path("sql/V42__notice_index.sql").status,
        FileStatus::Added
    );
    let renamed = by_path("web/js/banner.js");
    assert_eq!(renamed.status, FileStatus::Renamed);
    assert_eq!(renamed.old_path.as_deref(), Some("web/js/old-banner.js"));
    assert!(by_path("web/logo.png").binary);
    let mode = by_path("scripts/restart.sh");
    assert_eq!(
        (mode.old_mode, mode.new_mode),
        (Some("100644"), Some("100755"))
    );
    let note = &package.diff.rows[mode.rows.start as usize];
    assert_eq!(package.diff.row_text(note), "mode 100644 → 100755");

    // Rows carry line numbers and text without the marker.
    let java = by_path("src/main/java/kr/go/portal/notice/NoticeController.java");
    let rows: Vec<_> = package.diff.rows[java.rows.start as usize..java.rows.end as usize].to_vec();
    assert_eq!(rows[0].kind, RowKind::Hunk);
    assert_eq!(
        package.diff.row_text(&rows[0]),
        "@@ -10,6 +10,6 @@ public class NoticeController {"
    );
    let added = rows.iter().find(|r| r.kind == RowKind::Added).unwrap();
    assert_eq!(added.new_line, 13);
    assert_eq!(
        package.diff.row_text(added),
        "        return repository.findPage(Math.max(page, 1), 20);"
    );
    // Korean text stays whole.
    assert!(
        package
            .diff
            .rows
            .iter()
            .any(|r| package.diff.row_text(r) == "<h1>공지사항</h1>")
    );

    // The example's log has one error line; everything else is consistent.
    let found = warnings::check(&package);
    let kinds: Vec<_> = found.iter().map(|w| w.kind.code()).collect();
    assert_eq!(kinds, ["log_errors"], "{found:#?}");
    assert_eq!(found[0].subjects, ["line 7"]);
}

#[test]
fn the_same_files_have_the_same_identity_as_folder_zip_and_tar() {
    let sealed = corpus::sealed(files(1), TASK, 1);
    let zip = verify(
        read_archive(&corpus::zip(&corpus::members(&sealed)), &Limits::default()).unwrap(),
        Some(TASK),
    )
    .unwrap();
    let tgz = verify(
        read_archive(
            &corpus::gzip(&corpus::tar(&corpus::members(&sealed))),
            &Limits::default(),
        )
        .unwrap(),
        Some(TASK),
    )
    .unwrap();
    assert_eq!(zip.sha256, tgz.sha256);
    assert_ne!(zip.source_sha256, tgz.source_sha256);
    // Zipped with its folder: read as if the folder were the root.
    let nested: Files = sealed
        .iter()
        .map(|(p, b)| (format!("notice-fix-v1/{p}"), b.clone()))
        .collect();
    let nested = verify(
        read_archive(&corpus::zip(&corpus::members(&nested)), &Limits::default()).unwrap(),
        Some(TASK),
    )
    .unwrap();
    assert_eq!(nested.sha256, zip.sha256);
}

#[test]
fn a_changed_file_gets_a_new_diff_hash_and_the_others_keep_theirs() {
    let v1 = verify(read_path(&fixture(1), &Limits::default()).unwrap(), None).unwrap();
    let v2 = verify(read_path(&fixture(2), &Limits::default()).unwrap(), None).unwrap();
    for file in &v1.diff.files {
        let other = v2.diff.file(file.path()).unwrap();
        assert_eq!(
            file.diff_hash == other.diff_hash,
            file.path() != "web/css/site.css",
            "{}",
            file.path()
        );
    }
}

#[test]
fn every_bad_package_is_refused_with_its_reason_and_file() {
    let corpus = corpus::bad_packages(&files(1), TASK);
    assert!(corpus.len() >= 20);
    for bad in corpus {
        let refusal = read_archive(&bad.bytes, &Limits::default())
            .and_then(|entries| verify(entries, Some(TASK)))
            .expect_err(bad.name);
        assert_eq!(refusal.code, bad.code, "{}: {refusal}", bad.name);
        if let Some(file) = bad.file {
            assert_eq!(
                refusal.file.as_deref(),
                Some(file),
                "{}: {refusal}",
                bad.name
            );
        }
        // Every refusal reads as a sentence in both languages.
        let text = refusal.to_string();
        eprintln!("{:>24} {text}", bad.name);
        assert!(text.contains(" / "), "{}: {text}", bad.name);
    }
}

#[test]
fn caps_on_entries_and_sizes_hold_for_every_container() {
    let sealed = corpus::sealed(files(1), TASK, 1);
    let tight = Limits {
        max_entries: 4,
        ..Limits::default()
    };
    let zip = corpus::zip(&corpus::members(&sealed));
    assert_eq!(
        read_archive(&zip, &tight).unwrap_err().code,
        RefusalCode::TooManyEntries
    );
    let small = Limits {
        max_entry_bytes: 1000,
        ..Limits::default()
    };
    let refusal = read_archive(&zip, &small).unwrap_err();
    assert_eq!(refusal.code, RefusalCode::EntryTooLarge);
    assert_eq!(refusal.file.as_deref(), Some("changes.diff"));
    let total = Limits {
        max_total_bytes: 3000,
        ..Limits::default()
    };
    let tgz = corpus::gzip(&corpus::tar(&corpus::members(&sealed)));
    assert_eq!(
        read_archive(&tgz, &total).unwrap_err().code,
        RefusalCode::PackageTooLarge
    );
}

#[test]
fn a_folder_with_a_symlink_is_refused_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    for (path, bytes) in corpus::sealed(files(1), TASK, 1) {
        let target = dir.path().join(&path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    assert!(read_path(dir.path(), &Limits::default()).is_ok());
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("artifacts/passwd")).unwrap();
    let refusal = read_path(dir.path(), &Limits::default()).unwrap_err();
    assert_eq!(refusal.code, RefusalCode::LinkOrDevice);
    assert_eq!(refusal.file.as_deref(), Some("artifacts/passwd"));
}

#[test]
fn every_language_the_review_promises_has_a_grammar_and_keywords_are_marked() {
    use guardia_package::highlight::{Class, fragment, syntax_for};
    for language in [
        "java",
        "jsp",
        "html",
        "js",
        "css",
        "sql",
        "xml",
        "properties",
        "sh",
        "json",
        "yaml",
    ] {
        assert!(syntax_for(language).is_some(), "no grammar for {language}");
    }
    let java = syntax_for("java").unwrap();
    let runs = fragment(
        java,
        &["public class Notice { // the board", "  int size = 20;"],
    );
    assert!(
        runs[0].iter().any(|r| r.class == Class::Comment),
        "{runs:?}"
    );
    assert!(
        runs[1]
            .iter()
            .any(|r| r.class == Class::Number && r.start == 13 && r.len == 2),
        "{runs:?}"
    );
}

#[test]
fn rows_are_highlighted_on_demand_and_the_background_pass_fills_the_rest() {
    use guardia_package::highlight::RowHighlights;
    let package = verify(read_path(&fixture(1), &Limits::default()).unwrap(), None).unwrap();
    let mut highlights = RowHighlights::new(&package.diff);
    let jsp = package.diff.file("web/notice.jsp").unwrap();
    let added = jsp.rows.start + 3;
    highlights.ensure(&package.diff, &[added]);
    assert!(highlights.get(added).is_some());
    let before = highlights.done();
    assert!(highlights.fill(&package.diff) > 0);
    assert!(highlights.done() > before);
    // Binary and mode-only files have nothing to highlight.
    let png = package.diff.file("web/logo.png").unwrap();
    assert!(highlights.get(png.rows.start).is_none());
}

#[test]
fn whitespace_only_changes_fold_and_split_pairs_removed_with_added() {
    use guardia_package::display::{DisplayKind, Layout, NONE, lay_out};
    let diff = "diff --git a/a.sql b/a.sql\n--- a/a.sql\n+++ b/a.sql\n@@ -1,3 +1,3 @@\n-SELECT  1;\n+SELECT 1;\n-old\n+new\n ctx\n";
    let index = guardia_package::DiffIndex::parse(diff).unwrap();
    let unified = lay_out(&index, Layout::Unified, false);
    assert_eq!(unified.rows.len(), 1 + 1 + 5);
    let hidden = lay_out(&index, Layout::Unified, true);
    // `SELECT  1;` → `SELECT 1;` folds into one context row; `old` → `new` stays.
    assert_eq!(hidden.rows.len(), unified.rows.len() - 1);
    assert!(hidden.rows[2].as_context);
    assert!(!hidden.rows[3].as_context);
    let diff = "diff --git a/a.sql b/a.sql\n--- a/a.sql\n+++ b/a.sql\n@@ -1,2 +1,2 @@\n-SELECT  1;\n+SELECT 1;\n ctx\n";
    let index = guardia_package::DiffIndex::parse(diff).unwrap();
    let hidden = lay_out(&index, Layout::Unified, true);
    assert_eq!(hidden.rows.len(), 1 + 1 + 2);
    assert!(hidden.rows[2].as_context);
    let split = lay_out(&index, Layout::Split, false);
    assert_eq!(split.rows[0].kind, DisplayKind::File);
    assert_eq!(split.hunk_rows, [1]);
    assert_ne!(split.rows[2].left, NONE);
    assert_ne!(split.rows[2].right, NONE);
    assert_eq!(
        split.rows[3].left, split.rows[3].right,
        "context on both sides"
    );
}

#[test]
fn the_version_diff_lists_only_what_changed_between_versions() {
    use guardia_package::display::interdiff;
    let v1 = verify(read_path(&fixture(1), &Limits::default()).unwrap(), None).unwrap();
    let v2 = verify(read_path(&fixture(2), &Limits::default()).unwrap(), None).unwrap();
    let between = interdiff(&v1.diff, &v2.diff).unwrap();
    let paths: Vec<_> = between.files.iter().map(|f| f.path()).collect();
    assert_eq!(paths, ["web/css/site.css"]);
    let texts: Vec<_> = between.rows.iter().map(|r| between.row_text(r)).collect();
    assert!(
        texts.contains(&"+.notice:hover { background: #223; }"),
        "{texts:#?}"
    );
    assert!(texts.contains(&"+.notice:hover { background: #2a3142; outline: 1px solid #5b8def; }"));
}

/// Found by the fuzzer: a diff with two sections for one path (marks and comments are per
/// path, and the version diff compared the wrong sections).
#[test]
fn a_diff_naming_a_file_twice_is_refused() {
    let twice = "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n\
                 diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-b\n+c\n";
    let error = guardia_package::DiffIndex::parse(twice).unwrap_err();
    assert!(error.contains("a.txt appears twice"), "{error}");
}
