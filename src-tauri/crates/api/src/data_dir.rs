use std::path::{Path, PathBuf};

use crate::ApiError;

/// The directory holding this console's database (and, later, its audit checkpoints).
///
/// Chosen in this order: an explicit `--data-dir`, the `GUARDIA_DATA_DIR` environment
/// variable, then the OS data directory (`~/.local/share/guardia` on Linux,
/// `%APPDATA%\guardia` on Windows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    path: PathBuf,
}

pub const DATA_DIR_ENV: &str = "GUARDIA_DATA_DIR";

impl DataDir {
    /// Resolves the directory and creates it (owner-only on Unix) if it does not exist.
    pub fn locate(explicit: Option<PathBuf>) -> Result<Self, ApiError> {
        let path = explicit
            .or_else(|| {
                std::env::var_os(DATA_DIR_ENV)
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .or_else(|| dirs::data_dir().map(|d| d.join("guardia")))
            .ok_or(ApiError::NoDataDir)?;
        Self::create(&path)
    }

    /// Uses exactly `path`, creating it if needed.
    pub fn create(path: &Path) -> Result<Self, ApiError> {
        let fail = |source| ApiError::DataDir {
            path: path.to_owned(),
            source,
        };
        if !path.exists() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(path).map_err(fail)?;
        }
        let path = path.canonicalize().map_err(fail)?;
        if !path.is_dir() {
            return Err(fail(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                "it is not a directory",
            )));
        }
        Ok(Self { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The embedded database file.
    pub fn database(&self) -> PathBuf {
        self.path.join("guardia.db")
    }
}
