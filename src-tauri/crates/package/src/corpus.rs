//! Building packages in memory: a sealed zip or tar.gz from a set of files, and the corpus
//! of bad packages — one per refusal reason — that the importer's tests (here, in the API
//! against a real database, and as fuzz seeds) feed through the whole import.

use std::collections::BTreeMap;
use std::io::{Cursor, Write};

use chrono::{DateTime, Utc};

use crate::manifest::{self, MANIFEST, Producer};
use crate::refusal::RefusalCode;

pub type Files = BTreeMap<String, Vec<u8>>;

/// The files of a package folder (all of them, `manifest.json` included).
pub fn read_folder(dir: &std::path::Path) -> std::io::Result<Files> {
    let mut out = Files::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        for child in std::fs::read_dir(&dir)? {
            let child = child?;
            let name = child.file_name().to_string_lossy().into_owned();
            let path = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if child.file_type()?.is_dir() {
                pending.push((child.path(), path));
            } else {
                out.insert(path, std::fs::read(child.path())?);
            }
        }
    }
    Ok(out)
}

/// `files` with a fresh manifest for `task`/`version` (any old manifest dropped).
pub fn sealed(mut files: Files, task: &str, version: u32) -> Files {
    files.remove(MANIFEST);
    let at = DateTime::<Utc>::from_timestamp(1_765_000_000, 0).unwrap_or_default();
    let producer = Producer {
        name: "guardia-test".into(),
        version: "1".into(),
        run_id: format!("run-{task}-v{version}"),
    };
    if let Ok(bytes) = manifest::seal(&files, task, version, producer, at) {
        files.insert(MANIFEST.to_owned(), bytes);
    }
    files
}

/// How a member of a test archive is stored.
#[derive(Debug, Clone)]
pub enum Member {
    File(String, Vec<u8>),
    Symlink(String, String),
    HardLink(String, String),
    CharDevice(String),
    /// A tar member whose header claims `claimed` bytes while `data` holds fewer.
    LyingSize(String, Vec<u8>, u64),
}

pub fn members(files: &Files) -> Vec<Member> {
    files
        .iter()
        .map(|(p, b)| Member::File(p.clone(), b.clone()))
        .collect()
}

/// A zip of `members` (deflated). Links are stored as zip symlinks; devices cannot be.
pub fn zip(members: &[Member]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for member in members {
        let done = match member {
            Member::File(name, bytes) | Member::LyingSize(name, bytes, _) => writer
                .start_file(name.as_str(), options)
                .map_err(|e| e.to_string())
                .and_then(|()| writer.write_all(bytes).map_err(|e| e.to_string())),
            Member::Symlink(name, target) | Member::HardLink(name, target) => writer
                .add_symlink(name.as_str(), target.as_str(), options)
                .map_err(|e| e.to_string()),
            Member::CharDevice(_) => Ok(()),
        };
        if let Err(e) = done {
            panic_free_log(&e);
        }
    }
    writer.finish().map(Cursor::into_inner).unwrap_or_default()
}

/// A plain tar of `members`. Headers are written by hand: the tar crate's builder checks
/// names and sizes, and the corpus must send exactly what it checks for (`..`, a size the
/// data does not have).
pub fn tar(members: &[Member]) -> Vec<u8> {
    let mut out = Vec::new();
    for member in members {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        header.set_mtime(1_765_000_000);
        let (name, data, kind, size): (&str, &[u8], tar::EntryType, u64) = match member {
            Member::File(name, bytes) => (name, bytes, tar::EntryType::Regular, bytes.len() as u64),
            Member::LyingSize(name, bytes, claimed) => {
                (name, bytes, tar::EntryType::Regular, *claimed)
            }
            Member::Symlink(name, target) | Member::HardLink(name, target) => {
                let kind = if matches!(member, Member::Symlink(..)) {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                };
                if let Err(e) = header.set_link_name(target) {
                    panic_free_log(&e.to_string());
                }
                (name, &[][..], kind, 0)
            }
            Member::CharDevice(name) => (name, &[][..], tar::EntryType::Char, 0),
        };
        header.set_entry_type(kind);
        header.set_size(size);
        let raw = name.as_bytes();
        let slot = &mut header.as_old_mut().name;
        let n = raw.len().min(slot.len());
        slot[..n].copy_from_slice(&raw[..n]);
        header.set_cksum();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out.extend(std::iter::repeat_n(0u8, (512 - data.len() % 512) % 512));
    }
    out.extend(std::iter::repeat_n(0u8, 1024));
    out
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    if let Err(e) = encoder.write_all(bytes) {
        panic_free_log(&e.to_string());
    }
    encoder.finish().unwrap_or_default()
}

fn panic_free_log(error: &str) {
    eprintln!("corpus: {error}");
}

/// One bad package: its name, its bytes (an archive), and the refusal it must get.
#[derive(Debug, Clone)]
pub struct Bad {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub code: RefusalCode,
    /// The file the refusal must name (`None`: the package as a whole).
    pub file: Option<&'static str>,
}

/// Bad packages built from a good package's files (without manifest), for `task`.
pub fn bad_packages(good: &Files, task: &str) -> Vec<Bad> {
    let good = sealed(good.clone(), task, 1);
    let with = |change: &dyn Fn(&mut Files)| {
        let mut files = good.clone();
        change(&mut files);
        files
    };
    let resealed = |change: &dyn Fn(&mut Files)| {
        let mut files = good.clone();
        change(&mut files);
        sealed(files, task, 1)
    };
    let zipped = |files: Files| zip(&members(&files));
    let tarred = |files: Files| gzip(&tar(&members(&files)));
    let mut out = Vec::new();
    let mut push = |name, bytes, code, file| {
        out.push(Bad {
            name,
            bytes,
            code,
            file,
        })
    };
    push(
        "not-an-archive",
        b"hello, this is not a package".to_vec(),
        RefusalCode::Unreadable,
        None,
    );
    let mut truncated = zipped(good.clone());
    truncated.truncate(truncated.len() / 2);
    push(
        "truncated-zip",
        truncated,
        RefusalCode::CorruptArchive,
        None,
    );
    push(
        "missing-declared-file",
        zipped(with(&|f| {
            f.remove("execution.log");
        })),
        RefusalCode::MissingFile,
        Some("execution.log"),
    );
    push(
        "missing-required-file",
        zipped(resealed(&|f| {
            f.remove("health_check.json");
        })),
        RefusalCode::MissingFile,
        Some("health_check.json"),
    );
    push(
        "no-manifest",
        zipped(with(&|f| {
            f.remove(MANIFEST);
        })),
        RefusalCode::MissingFile,
        Some("manifest.json"),
    );
    push(
        "undeclared-file",
        zipped(with(&|f| {
            f.insert(
                "artifacts/extra.sh".into(),
                b"#!/bin/sh\necho extra\n".to_vec(),
            );
        })),
        RefusalCode::UndeclaredFile,
        Some("artifacts/extra.sh"),
    );
    push(
        "hash-mismatch",
        zipped(with(&|f| {
            if let Some(log) = f.get_mut("execution.log")
                && let Some(first) = log.first_mut()
            {
                *first = if *first == b'X' { b'Y' } else { b'X' };
            }
        })),
        RefusalCode::HashMismatch,
        Some("execution.log"),
    );
    push(
        "size-mismatch",
        zipped(with(&|f| {
            if let Some(log) = f.get_mut("execution.log") {
                log.extend_from_slice(b"one more line\n");
            }
        })),
        RefusalCode::SizeMismatch,
        Some("execution.log"),
    );
    let mut slip = members(&good);
    slip.push(Member::File("../../evil.sh".into(), b"rm -rf ~\n".to_vec()));
    push(
        "zip-slip",
        zip(&slip),
        RefusalCode::UnsafePath,
        Some("../../evil.sh"),
    );
    let mut absolute = members(&good);
    absolute.push(Member::File(
        "/etc/cron.d/evil".into(),
        b"* * * * * root id\n".to_vec(),
    ));
    push(
        "absolute-path-tar",
        gzip(&tar(&absolute)),
        RefusalCode::UnsafePath,
        Some("/etc/cron.d/evil"),
    );
    let mut duplicate = members(&good);
    duplicate.push(Member::File(
        "execution.log".into(),
        b"second copy\n".to_vec(),
    ));
    push(
        "duplicate-name-tar",
        gzip(&tar(&duplicate)),
        RefusalCode::DuplicateName,
        Some("execution.log"),
    );
    let mut symlink = members(&good);
    symlink.push(Member::Symlink(
        "artifacts/shadow".into(),
        "/etc/shadow".into(),
    ));
    push(
        "symlink-escape-tar",
        gzip(&tar(&symlink)),
        RefusalCode::LinkOrDevice,
        Some("artifacts/shadow"),
    );
    push(
        "symlink-escape-zip",
        zip(&symlink),
        RefusalCode::LinkOrDevice,
        Some("artifacts/shadow"),
    );
    let mut hardlink = members(&good);
    hardlink.push(Member::HardLink(
        "artifacts/passwd".into(),
        "/etc/passwd".into(),
    ));
    push(
        "hardlink-tar",
        gzip(&tar(&hardlink)),
        RefusalCode::LinkOrDevice,
        Some("artifacts/passwd"),
    );
    let mut device = members(&good);
    device.push(Member::CharDevice("artifacts/null".into()));
    push(
        "device-tar",
        gzip(&tar(&device)),
        RefusalCode::LinkOrDevice,
        Some("artifacts/null"),
    );
    let mut lying = members(&good);
    lying.insert(
        0,
        Member::LyingSize("context.md".into(), b"short\n".to_vec(), 40_000),
    );
    push(
        "tar-lying-size",
        gzip(&tar(&lying)),
        RefusalCode::CorruptArchive,
        None,
    );
    let mut bomb = members(&good);
    bomb.push(Member::File(
        "artifacts/zeros.bin".into(),
        vec![0u8; 48 << 20],
    ));
    push(
        "zip-bomb",
        zip(&bomb),
        RefusalCode::CompressionRatio,
        Some("artifacts/zeros.bin"),
    );
    push(
        "tar-gz-bomb",
        gzip(&tar(&bomb)),
        RefusalCode::CompressionRatio,
        None,
    );
    push(
        "invalid-json",
        zipped(resealed(&|f| {
            f.insert("result.json".into(), b"{\"status\": \"success\",".to_vec());
        })),
        RefusalCode::InvalidJson,
        Some("result.json"),
    );
    push(
        "health-schema",
        zipped(resealed(&|f| {
            f.insert(
                "health_check.json".into(),
                br#"{"checks":[{"name":"GET /","status":"ok"}]}"#.to_vec(),
            );
        })),
        RefusalCode::InvalidJson,
        Some("health_check.json"),
    );
    push(
        "log-not-utf8",
        zipped(resealed(&|f| {
            f.insert(
                "execution.log".into(),
                b"ok\n\xff\xfe latin-1 \xe9\n".to_vec(),
            );
        })),
        RefusalCode::NotUtf8,
        Some("execution.log"),
    );
    push(
        "diff-not-a-diff",
        zipped(resealed(&|f| {
            f.insert(
                "changes.diff".into(),
                b"I changed some files, trust me.\n".to_vec(),
            );
        })),
        RefusalCode::InvalidDiff,
        Some("changes.diff"),
    );
    push(
        "wrong-format",
        tarred(with(&|f| {
            if let Some(m) = f.get_mut(MANIFEST) {
                let text = String::from_utf8_lossy(m)
                    .replace(manifest::FORMAT_ID, "guardia.result-package/9");
                *m = text.into_bytes();
            }
        })),
        RefusalCode::InvalidManifest,
        Some("manifest.json"),
    );
    push(
        "other-task",
        tarred(sealed(good.clone(), "OPS-19990101-001", 1)),
        RefusalCode::TaskMismatch,
        Some("manifest.json"),
    );
    out
}

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

/// A package around `diff`: a short log, one passing check, a summary listing every file.
pub fn big_package(diff: &str) -> Files {
    let changed: Vec<String> = diff
        .lines()
        .filter_map(|l| l.strip_prefix("+++ b/"))
        .map(|p| format!("\"{p}\""))
        .collect();
    let mut files = Files::new();
    files.insert("changes.diff".into(), diff.as_bytes().to_vec());
    files.insert(
        "execution.log".into(),
        b"INFO generated for the speed figures\n".to_vec(),
    );
    files.insert(
        "health_check.json".into(),
        br#"{"checks":[{"name":"GET /","status":"pass"}]}"#.to_vec(),
    );
    files.insert(
        "result.json".into(),
        format!(
            r#"{{"status":"success","summary":"speed figures","changed_files":[{}]}}"#,
            changed.join(",")
        )
        .into_bytes(),
    );
    files
}
