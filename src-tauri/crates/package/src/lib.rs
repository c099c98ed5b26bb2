//! Result packages (SPEC §4, issue 11): what an AI agent hands back for a task — a diff, an
//! execution log, a health check, a summary and the artifacts a rollout will deploy.
//!
//! This crate owns the format and everything that can be decided from the bytes alone:
//! reading a folder or an archive into memory under caps ([`archive`]), verifying it
//! against its manifest ([`manifest::verify`]), indexing the diff for a review screen that
//! asks for windows of rows ([`diff`]), and the consistency warnings a reviewer must see
//! ([`warnings`]). It does no database or network IO and knows nothing of tasks beyond the
//! id the manifest names: the API decides whether a task may take a package.
//!
//! A refused package is a [`Refusal`]: a stable code, the file, and a sentence.

pub mod archive;
pub mod corpus;
pub mod diff;
pub mod display;
pub mod highlight;
pub mod manifest;
pub mod refusal;
pub mod warnings;

pub use archive::{Container, Entries, Entry, Limits, read_archive, read_path};
pub use diff::{DiffIndex, FileDiff, FileStatus, Row, RowKind};
pub use manifest::{
    CheckStatus, HealthReport, MANIFEST, Manifest, Outcome, Package, Producer, ResultSummary, Role,
    seal, verify,
};
pub use refusal::{Refusal, RefusalCode};
pub use warnings::{Warning, WarningKind, log_error_lines};

/// Reads and verifies the package at `path` for `task`.
pub fn import(
    path: &std::path::Path,
    task: Option<&str>,
    limits: &Limits,
) -> Result<Package, Refusal> {
    verify(read_path(path, limits)?, task)
}
