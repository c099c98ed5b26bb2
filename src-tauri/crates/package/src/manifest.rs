//! `manifest.json`, `result.json` and `health_check.json`: the typed shapes, and the
//! verification that turns the entries read from an archive into a [`Package`] or a
//! [`Refusal`] naming the file and the reason.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::archive::{Container, Entries, Entry, clean_path};
use crate::diff::DiffIndex;
use crate::refusal::{Refusal, RefusalCode as C};

/// The format id every manifest names; a later incompatible format gets `/2`.
pub const FORMAT_ID: &str = "guardia.result-package/1";
pub const MANIFEST: &str = "manifest.json";
pub const DIFF: &str = "changes.diff";
pub const LOG: &str = "execution.log";
pub const HEALTH: &str = "health_check.json";
pub const RESULT: &str = "result.json";
pub const CONTEXT: &str = "context.md";
pub const ARTIFACTS: &str = "artifacts/";

/// What a file is for. A path implies its role; the manifest must agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Diff,
    Log,
    Health,
    Result,
    Context,
    Artifact,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Diff => "diff",
            Role::Log => "log",
            Role::Health => "health",
            Role::Result => "result",
            Role::Context => "context",
            Role::Artifact => "artifact",
        }
    }

    /// The role a path must have, or `None` for a path no package may hold.
    pub fn of_path(path: &str) -> Option<Role> {
        match path {
            DIFF => Some(Role::Diff),
            LOG => Some(Role::Log),
            HEALTH => Some(Role::Health),
            RESULT => Some(Role::Result),
            CONTEXT => Some(Role::Context),
            _ if path.starts_with(ARTIFACTS) && path.len() > ARTIFACTS.len() => {
                Some(Role::Artifact)
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Producer {
    /// The agent (or person) that made the package, e.g. `claude-code`.
    pub name: String,
    pub version: String,
    /// The agent's own id for the run, to find its transcript.
    pub run_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRecord {
    pub path: String,
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub task_id: String,
    pub package_version: u32,
    pub producer: Producer,
    pub created_at: DateTime<Utc>,
    pub files: Vec<FileRecord>,
}

/// The agent's own account of its work (`result.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultSummary {
    pub status: Outcome,
    pub summary: String,
    /// Paths as in the diff (the new path of a renamed file).
    pub changed_files: Vec<String>,
    #[serde(default)]
    pub error_codes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Partial,
    Failed,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Partial => "partial",
            Outcome::Failed => "failed",
        }
    }
}

/// `health_check.json`: what the agent checked after its work, each check pass/fail/skip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthReport {
    #[serde(default)]
    pub checked_at: Option<DateTime<Utc>>,
    pub checks: Vec<HealthCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    pub name: String,
    pub status: CheckStatus,
    /// The server, URL or service the check looked at.
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Fail,
    Skip,
}

/// A verified package: every declared file present with its size and hash, nothing more,
/// the JSON files parsed, the diff indexed.
#[derive(Debug, Clone)]
pub struct Package {
    pub manifest: Manifest,
    /// `manifest.json` exactly as it was read.
    pub manifest_bytes: Vec<u8>,
    /// The package's identity: the SHA-256 of `manifest.json`, which names every file's
    /// hash — the same files give the same id whether they came as a folder, zip or tar.
    pub sha256: [u8; 32],
    pub container: Container,
    /// The SHA-256 of the archive file (of the folder listing for a folder).
    pub source_sha256: [u8; 32],
    pub files: BTreeMap<String, Entry>,
    pub diff: DiffIndex,
    pub result: ResultSummary,
    pub health: HealthReport,
}

impl Package {
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }

    pub fn text(&self, path: &str) -> &str {
        self.files
            .get(path)
            .and_then(|e| std::str::from_utf8(&e.bytes).ok())
            .unwrap_or_default()
    }

    /// The artifacts in path order, without the `artifacts/` prefix.
    pub fn artifacts(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.files
            .iter()
            .filter_map(|(path, entry)| path.strip_prefix(ARTIFACTS).map(|p| (p, entry)))
    }
}

/// Checks `entries` against their manifest. `task` is the task the import is for: a
/// package for another task is refused before anything else is looked at.
pub fn verify(entries: Entries, task: Option<&str>) -> Result<Package, Refusal> {
    let Entries {
        container,
        files,
        sha256: source_sha256,
    } = entries;
    let Some(manifest_entry) = files.get(MANIFEST) else {
        return Err(Refusal::of(
            C::MissingFile,
            MANIFEST,
            "the package has no manifest.json at its root",
        ));
    };
    let manifest_bytes = manifest_entry.bytes.clone();
    let manifest_text = utf8(MANIFEST, &manifest_bytes)?;
    let value: serde_json::Value = json(MANIFEST, manifest_text)?;
    let manifest: Manifest = serde_json::from_value(value).map_err(|e| {
        Refusal::of(
            C::InvalidManifest,
            MANIFEST,
            format!("does not match the manifest schema: {e}"),
        )
    })?;
    if manifest.format != FORMAT_ID {
        return Err(Refusal::of(
            C::InvalidManifest,
            MANIFEST,
            format!(
                "names format `{}`; this console reads `{FORMAT_ID}`",
                manifest.format
            ),
        ));
    }
    if let Some(task) = task
        && !manifest.task_id.trim().eq_ignore_ascii_case(task)
    {
        return Err(Refusal::of(
            C::TaskMismatch,
            MANIFEST,
            format!("is for task {}, not for {task}", manifest.task_id.trim()),
        ));
    }
    if manifest.package_version == 0 {
        return Err(Refusal::of(
            C::InvalidManifest,
            MANIFEST,
            "package_version starts at 1",
        ));
    }
    for (what, value) in [
        ("producer.name", &manifest.producer.name),
        ("producer.version", &manifest.producer.version),
        ("producer.run_id", &manifest.producer.run_id),
    ] {
        if value.trim().is_empty() || value.len() > 200 || value.chars().any(char::is_control) {
            return Err(Refusal::of(
                C::InvalidManifest,
                MANIFEST,
                format!("{what} must be 1–200 printable characters"),
            ));
        }
    }

    let mut declared = BTreeMap::new();
    for record in &manifest.files {
        let clean = clean_path(&record.path)?;
        if clean != record.path {
            return Err(Refusal::of(
                C::UnsafePath,
                &record.path,
                format!("the manifest must name it `{clean}`"),
            ));
        }
        if record.path == MANIFEST {
            return Err(Refusal::of(
                C::InvalidManifest,
                MANIFEST,
                "the manifest cannot list itself",
            ));
        }
        match Role::of_path(&record.path) {
            Some(role) if role == record.role => {}
            Some(role) => {
                return Err(Refusal::of(
                    C::InvalidManifest,
                    &record.path,
                    format!(
                        "has role `{}` in the manifest; this path has role `{}`",
                        record.role.code(),
                        role.code()
                    ),
                ));
            }
            None => {
                return Err(Refusal::of(
                    C::InvalidManifest,
                    &record.path,
                    "is not a place a package file may be (changes.diff, execution.log, health_check.json, result.json, context.md, artifacts/…)",
                ));
            }
        }
        if record.sha256.len() != 64
            || !record
                .sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(Refusal::of(
                C::InvalidManifest,
                &record.path,
                "its sha256 must be 64 lowercase hex digits",
            ));
        }
        if declared.insert(record.path.as_str(), record).is_some() {
            return Err(Refusal::of(
                C::DuplicateName,
                &record.path,
                "is listed twice in the manifest",
            ));
        }
    }
    for required in [DIFF, LOG, HEALTH, RESULT] {
        if !declared.contains_key(required) {
            return Err(Refusal::of(
                C::MissingFile,
                required,
                "every package declares it in its manifest",
            ));
        }
    }
    for (path, record) in &declared {
        let Some(entry) = files.get(*path) else {
            return Err(Refusal::of(
                C::MissingFile,
                path,
                "is declared in the manifest but not in the package",
            ));
        };
        let size = entry.bytes.len() as u64;
        if size != record.size {
            return Err(Refusal::of(
                C::SizeMismatch,
                path,
                format!("is {size} bytes; the manifest says {}", record.size),
            ));
        }
        if entry.sha256_hex() != record.sha256 {
            return Err(Refusal::of(
                C::HashMismatch,
                path,
                format!(
                    "has SHA-256 {}; the manifest says {}",
                    entry.sha256_hex(),
                    record.sha256
                ),
            ));
        }
    }
    let undeclared: BTreeSet<&String> = files
        .keys()
        .filter(|path| path.as_str() != MANIFEST && !declared.contains_key(path.as_str()))
        .collect();
    if let Some(path) = undeclared.first() {
        return Err(Refusal::of(
            C::UndeclaredFile,
            path,
            format!(
                "is in the package but not in its manifest ({} such file{})",
                undeclared.len(),
                if undeclared.len() == 1 { "" } else { "s" }
            ),
        ));
    }

    let text_of = |path: &str| -> Result<&str, Refusal> {
        files
            .get(path)
            .map_or(Ok(""), |entry| utf8(path, &entry.bytes))
    };
    let diff_text = text_of(DIFF)?;
    text_of(LOG)?;
    text_of(CONTEXT)?;
    let result: ResultSummary = typed(RESULT, text_of(RESULT)?)?;
    let health: HealthReport = typed(HEALTH, text_of(HEALTH)?)?;
    let diff = DiffIndex::parse(diff_text).map_err(|e| Refusal::of(C::InvalidDiff, DIFF, e))?;

    let sha256 = Sha256::digest(&manifest_bytes).into();
    Ok(Package {
        manifest,
        manifest_bytes,
        sha256,
        container,
        source_sha256,
        files,
        diff,
        result,
        health,
    })
}

fn utf8<'a>(path: &str, bytes: &'a [u8]) -> Result<&'a str, Refusal> {
    std::str::from_utf8(bytes).map_err(|e| {
        Refusal::of(
            C::NotUtf8,
            path,
            format!(
                "is not UTF-8 text (first bad byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

fn json(path: &str, text: &str) -> Result<serde_json::Value, Refusal> {
    serde_json::from_str(text).map_err(|e| {
        Refusal::of(
            C::InvalidJson,
            path,
            format!(
                "is not valid JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ),
        )
    })
}

fn typed<T: serde::de::DeserializeOwned>(path: &str, text: &str) -> Result<T, Refusal> {
    let value = json(path, text)?;
    serde_json::from_value(value).map_err(|e| {
        Refusal::of(
            C::InvalidJson,
            path,
            format!("does not match its schema: {e}"),
        )
    })
}

/// Writes the manifest for `files` (every file but `manifest.json`, by clean path): what an
/// agent — or `guardia package seal`, or a test — does last before handing a package over.
/// Roles follow the paths; a path no package may hold is refused.
pub fn seal(
    files: &BTreeMap<String, Vec<u8>>,
    task_id: &str,
    package_version: u32,
    producer: Producer,
    created_at: DateTime<Utc>,
) -> Result<Vec<u8>, Refusal> {
    let mut records = Vec::new();
    for (path, bytes) in files {
        if path == MANIFEST {
            continue;
        }
        let Some(role) = Role::of_path(path) else {
            return Err(Refusal::of(
                C::InvalidManifest,
                path,
                "is not a place a package file may be (changes.diff, execution.log, health_check.json, result.json, context.md, artifacts/…)",
            ));
        };
        records.push(FileRecord {
            path: path.clone(),
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
            role,
        });
    }
    let manifest = Manifest {
        format: FORMAT_ID.to_owned(),
        task_id: task_id.to_owned(),
        package_version,
        producer,
        created_at,
        files: records,
    };
    let mut bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Refusal::of(C::InvalidManifest, MANIFEST, e.to_string()))?;
    bytes.push(b'\n');
    Ok(bytes)
}
