//! Reading a package into memory: a folder, a `.zip`, a `.tar.gz` (or plain `.tar`).
//!
//! Nothing is ever extracted to disk. Every entry is streamed into memory through a cap on
//! its size, hashed as it is read, and the whole archive is held to caps on entry count,
//! total size and compression ratio, so an archive bomb stops at the cap rather than at the
//! end of the disk or of memory. Names are checked before anything is read: `..`, absolute
//! paths, drive letters, backslashes and duplicates are refused, and only plain files and
//! folders are accepted (links, devices and FIFOs are refused, never followed).
//!
//! The size a zip or tar header *claims* is never trusted: what counts is what was read.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::rc::Rc;

use sha2::{Digest, Sha256};

use crate::refusal::{Refusal, RefusalCode as C};

/// The caps an import is held to. The defaults fit a package of a 100,000-line diff and a
/// few hundred MB of artifacts with room to spare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_entries: usize,
    pub max_entry_bytes: u64,
    pub max_total_bytes: u64,
    /// Decompressed ÷ compressed, checked for entries and archives over `ratio_floor`.
    pub max_ratio: u64,
    /// Below this many bytes a high compression ratio is harmless (a file of blanks).
    pub ratio_floor: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 10_000,
            max_entry_bytes: 256 << 20,
            max_total_bytes: 512 << 20,
            max_ratio: 200,
            ratio_floor: 1 << 20,
        }
    }
}

/// One file of a package, in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub bytes: Vec<u8>,
    pub sha256: [u8; 32],
}

impl Entry {
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }
}

/// What kind of container the package came in (recorded with the import).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Folder,
    Zip,
    TarGz,
    Tar,
}

impl Container {
    pub fn code(self) -> &'static str {
        match self {
            Container::Folder => "folder",
            Container::Zip => "zip",
            Container::TarGz => "tar.gz",
            Container::Tar => "tar",
        }
    }
}

/// Every file of a package by its clean, relative, `/`-separated path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entries {
    pub container: Container,
    pub files: BTreeMap<String, Entry>,
    /// The SHA-256 of the archive file as it was read (for a folder: of its canonical
    /// listing, see [`folder_digest`]).
    pub sha256: [u8; 32],
}

/// Reads `path` (a folder or an archive, told apart by its content, not its name).
pub fn read_path(path: &Path, limits: &Limits) -> Result<Entries, Refusal> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path)
        .map_err(|e| Refusal::of(C::Unreadable, &shown, format!("cannot open: {e}")))?;
    if meta.is_dir() {
        return read_folder(path, limits);
    }
    if !meta.is_file() {
        return Err(Refusal::of(
            C::Unreadable,
            &shown,
            "is neither a folder nor a file",
        ));
    }
    if meta.len() > limits.max_total_bytes {
        return Err(Refusal::of(
            C::PackageTooLarge,
            &shown,
            format!(
                "is {} bytes; a package may hold at most {} bytes",
                meta.len(),
                limits.max_total_bytes
            ),
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| Refusal::of(C::Unreadable, &shown, format!("cannot read: {e}")))?;
    read_archive(&bytes, limits)
}

/// Reads an archive held in memory (zip, gzip-compressed tar, or tar).
pub fn read_archive(bytes: &[u8], limits: &Limits) -> Result<Entries, Refusal> {
    let sha256: [u8; 32] = Sha256::digest(bytes).into();
    let files = if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        (Container::Zip, read_zip(bytes, limits)?)
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        (Container::TarGz, read_tar_gz(bytes, limits)?)
    } else if bytes.len() >= 262 && &bytes[257..262] == b"ustar" {
        (Container::Tar, read_tar(bytes, None, limits)?)
    } else {
        return Err(Refusal::new(
            C::Unreadable,
            None,
            "the package is not a folder, a .zip, a .tar.gz or a .tar",
        ));
    };
    Ok(Entries {
        container: files.0,
        files: strip_top_folder(files.1),
        sha256,
    })
}

/// A clean relative path, or why the raw name is refused.
pub fn clean_path(raw: &str) -> Result<String, Refusal> {
    let refuse = |why: &str| Err(Refusal::of(C::UnsafePath, raw, why.to_owned()));
    if raw.is_empty() {
        return refuse("an entry has an empty name");
    }
    if raw.chars().any(char::is_control) {
        return refuse("the name contains control characters");
    }
    if raw.contains('\\') {
        return refuse("the name contains a backslash (a Windows path)");
    }
    if raw.starts_with('/') {
        return refuse("absolute paths are refused");
    }
    let bytes = raw.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return refuse("a drive letter is refused");
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => continue,
            ".." => return refuse("`..` would climb out of the package"),
            _ => parts.push(part),
        }
    }
    if parts.is_empty() {
        return refuse("the name has no file part");
    }
    Ok(parts.join("/"))
}

/// Reads and hashes at most `limit` bytes; `Ok(None)` when there were more.
fn read_capped(reader: &mut impl Read, limit: u64) -> io::Result<Option<Entry>> {
    let mut bytes = Vec::new();
    let mut hasher = Sha256::new();
    let mut taken = reader.take(limit + 1);
    let mut chunk = [0u8; 64 * 1024];
    loop {
        let n = taken.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        hasher.update(&chunk[..n]);
        bytes.extend_from_slice(&chunk[..n]);
        if bytes.len() as u64 > limit {
            return Ok(None);
        }
    }
    Ok(Some(Entry {
        bytes,
        sha256: hasher.finalize().into(),
    }))
}

/// Keeps the running totals every container shares.
struct Tally<'a> {
    limits: &'a Limits,
    entries: usize,
    total: u64,
    files: BTreeMap<String, Entry>,
}

impl<'a> Tally<'a> {
    fn new(limits: &'a Limits) -> Self {
        Tally {
            limits,
            entries: 0,
            total: 0,
            files: BTreeMap::new(),
        }
    }

    fn count(&mut self, name: &str) -> Result<(), Refusal> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(Refusal::of(
                C::TooManyEntries,
                name,
                format!(
                    "the package has more than {} entries",
                    self.limits.max_entries
                ),
            ));
        }
        Ok(())
    }

    /// Reads one file's content under the caps and keeps it by its clean name.
    fn read(
        &mut self,
        name: &str,
        reader: &mut impl Read,
        compressed: Option<u64>,
        broken: C,
    ) -> Result<(), Refusal> {
        let clean = clean_path(name)?;
        if self.files.contains_key(&clean) {
            return Err(Refusal::of(
                C::DuplicateName,
                &clean,
                "appears twice in the package",
            ));
        }
        let room = self.limits.max_total_bytes.saturating_sub(self.total);
        let limit = self.limits.max_entry_bytes.min(room);
        let entry = read_capped(reader, limit)
            .map_err(|e| Refusal::of(broken, &clean, format!("cannot be read: {e}")))?;
        let Some(entry) = entry else {
            return Err(if limit < self.limits.max_entry_bytes {
                Refusal::of(
                    C::PackageTooLarge,
                    &clean,
                    format!(
                        "the package grows past {} bytes here",
                        self.limits.max_total_bytes
                    ),
                )
            } else {
                Refusal::of(
                    C::EntryTooLarge,
                    &clean,
                    format!("is larger than {} bytes", self.limits.max_entry_bytes),
                )
            });
        };
        let size = entry.bytes.len() as u64;
        if let Some(compressed) = compressed
            && size > self.limits.ratio_floor
            && size / compressed.max(1) > self.limits.max_ratio
        {
            return Err(Refusal::of(
                C::CompressionRatio,
                &clean,
                format!(
                    "expands {compressed} bytes into more than {size}, over {}× (an archive bomb)",
                    self.limits.max_ratio
                ),
            ));
        }
        self.total += size;
        self.files.insert(clean, entry);
        Ok(())
    }
}

fn read_zip(bytes: &[u8], limits: &Limits) -> Result<BTreeMap<String, Entry>, Refusal> {
    let mut archive = zip::ZipArchive::new(io::Cursor::new(bytes)).map_err(|e| {
        Refusal::new(
            C::CorruptArchive,
            None,
            format!("the zip cannot be read: {e}"),
        )
    })?;
    if archive.len() > limits.max_entries {
        return Err(Refusal::new(
            C::TooManyEntries,
            None,
            format!(
                "the zip lists {} entries; at most {} are accepted",
                archive.len(),
                limits.max_entries
            ),
        ));
    }
    let mut tally = Tally::new(limits);
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).map_err(|e| {
            Refusal::new(
                C::CorruptArchive,
                None,
                format!("zip entry {} cannot be read: {e}", index + 1),
            )
        })?;
        let name = std::str::from_utf8(file.name_raw())
            .map_err(|_| {
                Refusal::new(
                    C::NotUtf8,
                    None,
                    format!("zip entry {} has a name that is not UTF-8", index + 1),
                )
            })?
            .to_owned();
        tally.count(&name)?;
        // The unix mode (when the zip has one) tells links and devices apart; a zip
        // made on Windows has none and holds plain files and folders only.
        let kind = file.unix_mode().map(|mode| mode & 0o170_000);
        let is_dir = file.is_dir() || kind == Some(0o040_000);
        if file.is_symlink() || !matches!(kind, None | Some(0o100_000) | Some(0o040_000)) {
            return Err(Refusal::of(
                C::LinkOrDevice,
                &name,
                "is a link or a special file; only plain files and folders are accepted",
            ));
        }
        if is_dir {
            clean_path(&name)?;
            continue;
        }
        let compressed = file.compressed_size();
        tally.read(&name, &mut file, Some(compressed), C::CorruptArchive)?;
    }
    Ok(tally.files)
}

/// Counts the bytes passing through, shared with whoever watches the ratio: what went into
/// the decompressor and what came out, so a bomb (in a file, in tar padding or in headers)
/// is caught after the entry that set it off, not at the end of the archive.
struct Counted<R> {
    inner: R,
    read: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

/// Reads a gzip-compressed tar, watching the ratio of its two sides.
fn read_tar_gz(bytes: &[u8], limits: &Limits) -> Result<BTreeMap<String, Entry>, Refusal> {
    let consumed = Rc::new(Cell::new(0));
    let gz = flate2::read::GzDecoder::new(Counted {
        inner: bytes,
        read: consumed.clone(),
    });
    read_tar(gz, Some(consumed), limits)
}

fn read_tar(
    reader: impl Read,
    compressed: Option<Rc<Cell<u64>>>,
    limits: &Limits,
) -> Result<BTreeMap<String, Entry>, Refusal> {
    // Headers and padding count too: allow one 512-byte header and one block of padding
    // per entry on top of the content cap.
    let ceiling = limits.max_total_bytes + (limits.max_entries as u64 + 2) * 1024;
    let produced = Rc::new(Cell::new(0));
    let counted = Counted {
        inner: reader.take(ceiling + 1),
        read: produced.clone(),
    };
    let bomb = || -> Result<(), Refusal> {
        let out = produced.get();
        if out > ceiling {
            return Err(Refusal::new(
                C::PackageTooLarge,
                None,
                format!("the archive expands past {ceiling} bytes"),
            ));
        }
        if let Some(consumed) = &compressed {
            let consumed = consumed.get();
            if out > limits.ratio_floor && out / consumed.max(1) > limits.max_ratio {
                return Err(Refusal::new(
                    C::CompressionRatio,
                    None,
                    format!(
                        "{consumed} bytes expand into {out}, over {}× (an archive bomb)",
                        limits.max_ratio
                    ),
                ));
            }
        }
        Ok(())
    };
    let mut archive = tar::Archive::new(counted);
    let mut tally = Tally::new(limits);
    let corrupt = |e: io::Error| {
        Refusal::new(
            C::CorruptArchive,
            None,
            format!("the tar cannot be read: {e}"),
        )
    };
    let entries = archive.entries().map_err(corrupt)?;
    for entry in entries {
        bomb()?;
        let mut entry = entry.map_err(corrupt)?;
        let name = std::str::from_utf8(&entry.path_bytes())
            .map_err(|_| Refusal::new(C::NotUtf8, None, "a tar entry's name is not UTF-8"))?
            .to_owned();
        tally.count(&name)?;
        match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                tally.read(&name, &mut entry, None, C::CorruptArchive)?;
                // A header that claims more than the archive holds ends the data early;
                // one that claims less leaves bytes that must parse as the next header.
                // Either way the tar reader reports it; a short read is checked here.
                let claimed = entry.header().size().map_err(corrupt)?;
                let clean = clean_path(&name)?;
                let got = tally.files.get(&clean).map_or(0, |e| e.bytes.len() as u64);
                if claimed != got {
                    return Err(Refusal::of(
                        C::CorruptArchive,
                        &clean,
                        format!("its header says {claimed} bytes but {got} could be read"),
                    ));
                }
            }
            tar::EntryType::Directory => {
                clean_path(&name)?;
            }
            _ => {
                return Err(Refusal::of(
                    C::LinkOrDevice,
                    &name,
                    "is a link, device, FIFO or sparse file; only plain files and folders are accepted",
                ));
            }
        }
    }
    bomb()?;
    Ok(tally.files)
}

fn read_folder(root: &Path, limits: &Limits) -> Result<Entries, Refusal> {
    let mut tally = Tally::new(limits);
    let mut pending = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        let shown = if prefix.is_empty() { "." } else { &prefix };
        let listing = std::fs::read_dir(&dir)
            .map_err(|e| Refusal::of(C::Unreadable, shown, format!("cannot list: {e}")))?;
        let mut children = Vec::new();
        for child in listing {
            let child = child
                .map_err(|e| Refusal::of(C::Unreadable, shown, format!("cannot list: {e}")))?;
            children.push(child);
        }
        children.sort_by_key(|c| c.file_name());
        for child in children {
            let Some(file_name) = child.file_name().to_str().map(str::to_owned) else {
                return Err(Refusal::of(
                    C::NotUtf8,
                    shown,
                    "holds a file whose name is not UTF-8",
                ));
            };
            let name = if prefix.is_empty() {
                file_name
            } else {
                format!("{prefix}/{file_name}")
            };
            tally.count(&name)?;
            // symlink_metadata: a link is refused, never followed out of the folder.
            let meta = std::fs::symlink_metadata(child.path())
                .map_err(|e| Refusal::of(C::Unreadable, &name, format!("cannot read: {e}")))?;
            let kind = meta.file_type();
            if kind.is_dir() {
                pending.push((child.path(), name));
                continue;
            }
            if !kind.is_file() || hard_linked(&meta) {
                return Err(Refusal::of(
                    C::LinkOrDevice,
                    &name,
                    "is a link or a special file; only plain files and folders are accepted",
                ));
            }
            let mut file = File::open(child.path())
                .map_err(|e| Refusal::of(C::Unreadable, &name, format!("cannot open: {e}")))?;
            // What was opened must be what was looked at: a file swapped for a link between
            // the two is refused, not read through.
            let opened = file
                .metadata()
                .map_err(|e| Refusal::of(C::Unreadable, &name, format!("cannot read: {e}")))?;
            if !same_file(&meta, &opened) {
                return Err(Refusal::of(
                    C::LinkOrDevice,
                    &name,
                    "changed into something else while the package was read",
                ));
            }
            tally.read(&name, &mut file, None, C::Unreadable)?;
        }
    }
    let files = strip_top_folder(tally.files);
    let sha256 = folder_digest(&files);
    Ok(Entries {
        container: Container::Folder,
        files,
        sha256,
    })
}

#[cfg(unix)]
fn same_file(looked: &std::fs::Metadata, opened: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    opened.is_file() && looked.dev() == opened.dev() && looked.ino() == opened.ino()
}

#[cfg(not(unix))]
fn same_file(_looked: &std::fs::Metadata, opened: &std::fs::Metadata) -> bool {
    opened.is_file()
}

#[cfg(unix)]
fn hard_linked(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.nlink() > 1
}

#[cfg(not(unix))]
fn hard_linked(_meta: &std::fs::Metadata) -> bool {
    false
}

/// A folder has no bytes of its own: its digest is the SHA-256 of one line per file,
/// `<sha256>  <path>\n` in path order (what `sha256sum` prints), so the same files give the
/// same digest however they were copied.
pub fn folder_digest(files: &BTreeMap<String, Entry>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for (path, entry) in files {
        hasher.update(format!("{}  {path}\n", entry.sha256_hex()));
    }
    hasher.finalize().into()
}

/// A package zipped with its folder (`pkg/manifest.json` …) is read as if the folder were
/// the root, when `manifest.json` is not at the root and every file shares that one folder.
fn strip_top_folder(files: BTreeMap<String, Entry>) -> BTreeMap<String, Entry> {
    if files.contains_key(crate::MANIFEST) {
        return files;
    }
    let mut top: Option<&str> = None;
    for path in files.keys() {
        let Some((first, _)) = path.split_once('/') else {
            return files;
        };
        match top {
            None => top = Some(first),
            Some(seen) if seen == first => {}
            Some(_) => return files,
        }
    }
    let Some(top) = top.map(|t| format!("{t}/")) else {
        return files;
    };
    if !files.contains_key(&format!("{top}{}", crate::MANIFEST)) {
        return files;
    }
    files
        .into_iter()
        .map(|(path, entry)| (path[top.len()..].to_owned(), entry))
        .collect()
}
