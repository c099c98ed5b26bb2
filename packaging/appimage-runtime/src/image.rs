//! The squashfs image appended to the runtime, read with backhand, and its directory tree
//! indexed once (node number → parent, children, name) for lookups and extraction.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use backhand::{FilesystemReader, InnerNode, Node, SquashfsFileReader};

use crate::{Error, elf};

/// The AppImage type-2 magic, at byte 8 of the file.
const MAGIC: &[u8; 3] = b"AI\x02";

pub struct Image {
    pub fs: FilesystemReader<'static>,
    /// Per node (same index as `fs.root.nodes`): its children's indexes.
    pub children: Vec<Vec<usize>>,
    /// Per node: its parent's index (the root is its own parent).
    pub parent: Vec<usize>,
    /// Per node: its name in its directory (empty for the root).
    pub name: Vec<OsString>,
}

impl Image {
    /// Opens the image appended to the AppImage at `path`.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let offset = elf::end_of_file(path)?;
        let mut file =
            File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let mut magic = [0u8; 3];
        file.seek(SeekFrom::Start(8))?;
        file.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(format!(
                "{} is not an AppImage (no type-2 magic at byte 8)",
                path.display()
            )
            .into());
        }
        if file.seek(SeekFrom::End(0))? <= offset {
            return Err("no squashfs image follows the runtime: this is the bare runtime".into());
        }
        let fs = FilesystemReader::from_reader_with_offset(BufReader::new(file), offset).map_err(
            |e| format!("the AppImage's squashfs image is unreadable (damaged download?): {e}"),
        )?;
        Self::index(fs)
    }

    fn index(fs: FilesystemReader<'static>) -> Result<Self, Error> {
        let nodes = &fs.root.nodes;
        let mut by_path: HashMap<&Path, usize> = HashMap::with_capacity(nodes.len());
        let mut children = vec![Vec::new(); nodes.len()];
        let mut parent = vec![0; nodes.len()];
        let mut name = vec![OsString::new(); nodes.len()];
        for (index, node) in nodes.iter().enumerate() {
            by_path.insert(node.fullpath.as_path(), index);
            if index == 0 {
                continue;
            }
            checked_relative(&node.fullpath)?;
            let up = node
                .fullpath
                .parent()
                .and_then(|p| by_path.get(p).copied())
                .ok_or_else(|| format!("{} has no parent in the image", node.fullpath.display()))?;
            parent[index] = up;
            children[up].push(index);
            name[index] = node.fullpath.file_name().unwrap_or_default().to_owned();
        }
        Ok(Self {
            fs,
            children,
            parent,
            name,
        })
    }

    pub fn node(&self, index: usize) -> Option<&Node<SquashfsFileReader>> {
        self.fs.root.nodes.get(index)
    }

    pub fn child(&self, dir: usize, wanted: &OsStr) -> Option<usize> {
        self.children
            .get(dir)?
            .iter()
            .copied()
            .find(|&c| self.name[c] == wanted)
    }

    /// Reads up to `len` bytes of `file` from `offset`.
    pub fn read(
        &self,
        file: &SquashfsFileReader,
        offset: u64,
        len: usize,
    ) -> std::io::Result<Vec<u8>> {
        let mut reader = self.fs.file(file).reader();
        reader.seek(SeekFrom::Start(offset))?;
        let mut buf = Vec::with_capacity(len);
        reader.take(len as u64).read_to_end(&mut buf)?;
        Ok(buf)
    }

    pub fn is_dir(&self, index: usize) -> bool {
        self.node(index)
            .is_some_and(|n| matches!(n.inner, InnerNode::Dir(_)))
    }
}

/// `path` (absolute, inside the image) without its leading `/`, refused when any part of it
/// could step outside the folder it is extracted to.
pub fn checked_relative(path: &Path) -> Result<PathBuf, Error> {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::RootDir => {}
            Component::Normal(p) => out.push(p),
            _ => return Err(format!("unsafe path in the image: {}", path.display()).into()),
        }
    }
    Ok(out)
}
