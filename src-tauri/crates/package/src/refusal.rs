//! Why a package is refused: a code the UI and tests match on, the file it concerns, and a
//! sentence in English and Korean. A refusal always means nothing was stored.

use std::fmt;

use serde::Serialize;

/// The reason class of a refusal. The wire spelling (`code()`) is stable: tests, the audit
/// log and the UI match on it, never on the sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// The file or folder cannot be opened or is not a folder, `.zip` or `.tar.gz`.
    Unreadable,
    /// The archive's structure is broken (truncated, a size header that lies, bad CRC).
    CorruptArchive,
    /// `..`, an absolute path, a drive letter, a backslash or an empty path component.
    UnsafePath,
    /// The same name twice in the archive or the manifest.
    DuplicateName,
    /// A symbolic or hard link, a device, a FIFO: anything but a plain file or folder.
    LinkOrDevice,
    TooManyEntries,
    EntryTooLarge,
    PackageTooLarge,
    /// Decompressed far more than it was compressed: an archive bomb.
    CompressionRatio,
    /// A file the manifest declares is not in the package (or a required file is absent).
    MissingFile,
    /// A file in the package that the manifest does not declare.
    UndeclaredFile,
    SizeMismatch,
    HashMismatch,
    InvalidJson,
    NotUtf8,
    /// The manifest parses but breaks a rule (format id, roles, versions …).
    InvalidManifest,
    /// `changes.diff` is not a unified diff git could have written.
    InvalidDiff,
    /// The manifest names another task than the one it is imported for.
    TaskMismatch,
    TaskNotFound,
    /// The task is not IN_PROGRESS (waiting for the agent's work).
    TaskNotWaiting,
    /// The version is not the next one, or the very same package was imported before.
    VersionConflict,
}

impl RefusalCode {
    pub const ALL: [RefusalCode; 21] = [
        RefusalCode::Unreadable,
        RefusalCode::CorruptArchive,
        RefusalCode::UnsafePath,
        RefusalCode::DuplicateName,
        RefusalCode::LinkOrDevice,
        RefusalCode::TooManyEntries,
        RefusalCode::EntryTooLarge,
        RefusalCode::PackageTooLarge,
        RefusalCode::CompressionRatio,
        RefusalCode::MissingFile,
        RefusalCode::UndeclaredFile,
        RefusalCode::SizeMismatch,
        RefusalCode::HashMismatch,
        RefusalCode::InvalidJson,
        RefusalCode::NotUtf8,
        RefusalCode::InvalidManifest,
        RefusalCode::InvalidDiff,
        RefusalCode::TaskMismatch,
        RefusalCode::TaskNotFound,
        RefusalCode::TaskNotWaiting,
        RefusalCode::VersionConflict,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RefusalCode::Unreadable => "unreadable",
            RefusalCode::CorruptArchive => "corrupt_archive",
            RefusalCode::UnsafePath => "unsafe_path",
            RefusalCode::DuplicateName => "duplicate_name",
            RefusalCode::LinkOrDevice => "link_or_device",
            RefusalCode::TooManyEntries => "too_many_entries",
            RefusalCode::EntryTooLarge => "entry_too_large",
            RefusalCode::PackageTooLarge => "package_too_large",
            RefusalCode::CompressionRatio => "compression_ratio",
            RefusalCode::MissingFile => "missing_file",
            RefusalCode::UndeclaredFile => "undeclared_file",
            RefusalCode::SizeMismatch => "size_mismatch",
            RefusalCode::HashMismatch => "hash_mismatch",
            RefusalCode::InvalidJson => "invalid_json",
            RefusalCode::NotUtf8 => "not_utf8",
            RefusalCode::InvalidManifest => "invalid_manifest",
            RefusalCode::InvalidDiff => "invalid_diff",
            RefusalCode::TaskMismatch => "task_mismatch",
            RefusalCode::TaskNotFound => "task_not_found",
            RefusalCode::TaskNotWaiting => "task_not_waiting",
            RefusalCode::VersionConflict => "version_conflict",
        }
    }

    /// The reason in Korean, shown after the English sentence.
    pub fn korean(self) -> &'static str {
        match self {
            RefusalCode::Unreadable => "패키지를 열 수 없습니다",
            RefusalCode::CorruptArchive => "압축 파일이 손상되었습니다",
            RefusalCode::UnsafePath => "안전하지 않은 경로입니다",
            RefusalCode::DuplicateName => "같은 이름이 두 번 있습니다",
            RefusalCode::LinkOrDevice => "링크·장치 파일은 허용되지 않습니다",
            RefusalCode::TooManyEntries => "파일 수가 너무 많습니다",
            RefusalCode::EntryTooLarge => "파일이 너무 큽니다",
            RefusalCode::PackageTooLarge => "패키지가 너무 큽니다",
            RefusalCode::CompressionRatio => "압축 비율이 비정상입니다 (압축 폭탄)",
            RefusalCode::MissingFile => "파일이 없습니다",
            RefusalCode::UndeclaredFile => "매니페스트에 없는 파일입니다",
            RefusalCode::SizeMismatch => "크기가 매니페스트와 다릅니다",
            RefusalCode::HashMismatch => "SHA-256이 매니페스트와 다릅니다",
            RefusalCode::InvalidJson => "JSON 형식이 잘못되었습니다",
            RefusalCode::NotUtf8 => "UTF-8 텍스트가 아닙니다",
            RefusalCode::InvalidManifest => "매니페스트 규칙 위반입니다",
            RefusalCode::InvalidDiff => "diff 형식이 잘못되었습니다",
            RefusalCode::TaskMismatch => "다른 작업의 패키지입니다",
            RefusalCode::TaskNotFound => "작업이 없습니다",
            RefusalCode::TaskNotWaiting => "작업이 결과를 기다리는 상태가 아닙니다",
            RefusalCode::VersionConflict => "패키지 버전이 맞지 않습니다",
        }
    }
}

impl fmt::Display for RefusalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A refused package: what, where, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub code: RefusalCode,
    /// The file inside the package (or the package itself) the reason is about.
    pub file: Option<String>,
    /// What exactly is wrong, in English.
    pub detail: String,
}

impl Refusal {
    pub fn new(code: RefusalCode, file: Option<&str>, detail: impl Into<String>) -> Self {
        Refusal {
            code,
            file: file.map(str::to_owned),
            detail: detail.into(),
        }
    }

    pub fn of(code: RefusalCode, file: &str, detail: impl Into<String>) -> Self {
        Refusal::new(code, Some(file), detail)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{file}: {} / {}", self.detail, self.code.korean()),
            None => write!(f, "{} / {}", self.detail, self.code.korean()),
        }
    }
}

impl std::error::Error for Refusal {}
