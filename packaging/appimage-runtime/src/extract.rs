//! Writes the AppDir (or part of it) out of the image into a folder.

use std::fs::{self, File, Permissions};
use std::io;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use backhand::InnerNode;

use crate::Error;
use crate::image::{Image, checked_relative};

/// Extracts every node under `prefix` (all when `None`) into `dest`; returns how many.
/// Directories get their permissions last, so a read-only one can still be filled.
pub fn extract(image: &Image, dest: &Path, prefix: Option<&Path>) -> Result<usize, Error> {
    fs::create_dir_all(dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
    let prefix = prefix.map(checked_relative).transpose()?;
    let mut dirs = Vec::new();
    let mut count = 0;
    for node in image.fs.files() {
        let relative = checked_relative(&node.fullpath)?;
        if relative.as_os_str().is_empty() {
            continue;
        }
        if prefix.as_ref().is_some_and(|p| !relative.starts_with(p)) {
            continue;
        }
        let target = dest.join(&relative);
        if let Some(up) = target.parent() {
            fs::create_dir_all(up)?;
        }
        let mode = u32::from(node.header.permissions) & 0o7777;
        let written: io::Result<()> = match &node.inner {
            InnerNode::Dir(_) => {
                dirs.push((target.clone(), mode));
                fs::create_dir_all(&target)
            }
            InnerNode::File(file) => (|| {
                remove_existing(&target)?;
                let mut out = File::create(&target)?;
                io::copy(&mut image.fs.file(file).reader(), &mut out)?;
                out.set_permissions(Permissions::from_mode(mode))
            })(),
            InnerNode::Symlink(link) => {
                remove_existing(&target).and_then(|()| symlink(&link.link, &target))
            }
            // An AppDir holds no devices, pipes or sockets; nothing to recreate.
            _ => continue,
        };
        written.map_err(|e| format!("cannot extract {}: {e}", target.display()))?;
        count += 1;
    }
    for (dir, mode) in dirs.into_iter().rev() {
        fs::set_permissions(&dir, Permissions::from_mode(mode | 0o700))?;
    }
    Ok(count)
}

fn remove_existing(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
