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
        private_dir(path).map_err(fail)?;
        let path = plain(path.canonicalize().map_err(fail)?);
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

    /// Makes the database file (created empty if missing, so SQLite never creates it with
    /// the umask's 0644) and its WAL and shared-memory files owner-only. SQLite gives new
    /// WAL files the database file's mode.
    pub fn secure_database(&self) -> Result<(), ApiError> {
        let db = self.database();
        if !db.exists() {
            drop(create_private(&db)?);
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut name = db.clone().into_os_string();
            name.push(suffix);
            restrict(Path::new(&name), 0o600).map_err(ApiError::Io)?;
        }
        Ok(())
    }
}

/// Windows' canonical form is the verbatim `\\?\C:\…`; the database URL (`sqlite:…`, where
/// `?` starts the options) and people want the plain drive path. UNC and other verbatim
/// forms are kept as they are.
#[cfg(windows)]
fn plain(path: PathBuf) -> PathBuf {
    match path.to_str().and_then(|p| p.strip_prefix(r"\\?\")) {
        Some(rest) if rest.as_bytes().get(1) == Some(&b':') => PathBuf::from(rest),
        _ => path,
    }
}

#[cfg(not(windows))]
fn plain(path: PathBuf) -> PathBuf {
    path
}

/// Sets `path`'s mode if it exists (Unix; elsewhere the OS's per-user profile protects it).
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(path) {
            Ok(meta) if meta.permissions().mode() & 0o777 != mode => {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            }
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// Creates `path` (and parents) as an owner-only directory, or makes an existing one
/// owner-only: a data directory someone created with 0755 is tightened, not trusted.
pub fn private_dir(path: &Path) -> std::io::Result<()> {
    if !path.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(path)?;
    }
    restrict(path, 0o700)
}

/// Creates (or truncates) `path` as an owner-only file for writing.
pub fn create_private(path: &Path) -> Result<std::fs::File, ApiError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(path)
        .map_err(|e| ApiError::InvalidRequest(format!("cannot write {}: {e}", path.display())))?;
    restrict(path, 0o600).map_err(ApiError::Io)?;
    Ok(file)
}

/// Writes `bytes` to `path` owner-only and atomically (a reader never sees half a file).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ApiError> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    let mut file = create_private(&tmp)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(ApiError::Io)?;
    std::fs::rename(&tmp, path).map_err(ApiError::Io)
}
