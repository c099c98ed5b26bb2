//! The image as a read-only FUSE file system: inode number = node index + 1 (the root is 1,
//! as FUSE wants). Files are read block by block from the image on demand; the kernel's
//! page cache keeps what was read.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use backhand::{InnerNode, SquashfsFileReader};
use fuser::{
    Config, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo,
    LockOwner, MountOption, OpenFlags, ReplyAttr, ReplyData, ReplyDirectory, ReplyEntry, ReplyOpen,
    ReplyStatfs, Request,
};

use crate::image::Image;

/// Nothing in the image ever changes: the kernel may keep what it learnt for long.
const TTL: Duration = Duration::from_secs(3600);

pub struct Mounted {
    image: Image,
    uid: u32,
    gid: u32,
}

impl Mounted {
    pub fn new(image: Image, uid: u32, gid: u32) -> Self {
        Self { image, uid, gid }
    }

    fn index(&self, ino: INodeNo) -> Option<usize> {
        let index = usize::try_from(ino.0.checked_sub(1)?).ok()?;
        (index < self.image.parent.len()).then_some(index)
    }

    /// What inode `ino` is, if the image has it.
    fn inner(&self, ino: INodeNo) -> Option<&InnerNode<SquashfsFileReader>> {
        self.index(ino)
            .and_then(|i| self.image.node(i))
            .map(|n| &n.inner)
    }

    fn attr(&self, index: usize) -> Option<FileAttr> {
        let node = self.image.node(index)?;
        let kind = kind_of(&node.inner);
        let size = match &node.inner {
            InnerNode::File(f) => f.file_len() as u64,
            InnerNode::Dir(_) => 4096,
            InnerNode::Symlink(s) => s.link.as_os_str().len() as u64,
            _ => 0,
        };
        let time = UNIX_EPOCH + Duration::from_secs(u64::from(node.header.mtime));
        Some(FileAttr {
            ino: INodeNo(index as u64 + 1),
            size,
            blocks: size.div_ceil(512),
            atime: time,
            mtime: time,
            ctime: time,
            crtime: time,
            kind,
            perm: node.header.permissions & 0o7777,
            nlink: if kind == FileType::Directory { 2 } else { 1 },
            // The files belong to whoever runs the AppImage, as on the official runtime.
            uid: self.uid,
            gid: self.gid,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        })
    }
}

fn kind_of(inner: &InnerNode<SquashfsFileReader>) -> FileType {
    match inner {
        InnerNode::File(_) => FileType::RegularFile,
        InnerNode::Dir(_) => FileType::Directory,
        InnerNode::Symlink(_) => FileType::Symlink,
        InnerNode::CharacterDevice(_) => FileType::CharDevice,
        InnerNode::BlockDevice(_) => FileType::BlockDevice,
        InnerNode::NamedPipe => FileType::NamedPipe,
        InnerNode::Socket => FileType::Socket,
    }
}

impl Filesystem for Mounted {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        match self
            .index(parent)
            .and_then(|dir| self.image.child(dir, name))
            .and_then(|child| self.attr(child))
        {
            Some(attr) => reply.entry(&TTL, &attr, Generation(0)),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.index(ino).and_then(|i| self.attr(i)) {
            Some(attr) => reply.attr(&TTL, &attr),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        match self.inner(ino) {
            Some(InnerNode::Symlink(link)) => reply.data(link.link.as_os_str().as_bytes()),
            Some(_) => reply.error(Errno::EINVAL),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        let writing = flags.0 & (libc::O_WRONLY | libc::O_RDWR | libc::O_TRUNC) != 0;
        match self.inner(ino) {
            Some(_) if writing => reply.error(Errno::EROFS),
            Some(InnerNode::File(_)) => reply.opened(FileHandle(0), FopenFlags::FOPEN_KEEP_CACHE),
            Some(InnerNode::Dir(_)) => reply.error(Errno::EISDIR),
            Some(_) => reply.error(Errno::EINVAL),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let Some(InnerNode::File(file)) = self.inner(ino) else {
            return reply.error(Errno::ENOENT);
        };
        match self.image.read(file, offset, size as usize) {
            Ok(data) => reply.data(&data),
            Err(e) => {
                eprintln!("GUARDiA AppImage: reading from the image failed: {e}");
                reply.error(Errno::EIO)
            }
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let Some(dir) = self.index(ino).filter(|&i| self.image.is_dir(i)) else {
            return reply.error(Errno::ENOTDIR);
        };
        let up = self.image.parent[dir];
        let entries = [(dir, OsStr::new(".")), (up, OsStr::new(".."))]
            .into_iter()
            .chain(
                self.image.children[dir]
                    .iter()
                    .map(|&c| (c, self.image.name[c].as_os_str())),
            );
        for (position, (index, name)) in entries.enumerate().skip(offset as usize) {
            let kind = self
                .image
                .node(index)
                .map_or(FileType::RegularFile, |n| kind_of(&n.inner));
            if reply.add(INodeNo(index as u64 + 1), position as u64 + 1, kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let block = self.image.fs.block_size;
        let files = self.image.parent.len() as u64;
        reply.statfs(0, 0, 0, files, 0, block, 255, block);
    }
}

/// Mounts `image` read-only at `mountpoint`; it stays mounted until the session is dropped.
pub fn mount(image: Image, mountpoint: &Path) -> std::io::Result<fuser::BackgroundSession> {
    // SAFETY: getuid/getgid cannot fail and touch no memory.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let mut config = Config::default();
    config.mount_options = vec![
        MountOption::RO,
        MountOption::FSName("guardia-appimage".into()),
        MountOption::Subtype("guardia".into()),
    ];
    fuser::spawn_mount(Mounted::new(image, uid, gid), mountpoint, &config)
}

/// Unmounts once the application is done with the image. Helper processes it started may
/// still have files open: the mount is detached at once (nothing new can reach it) and served
/// until the last of them lets go, which ends the session.
pub fn unmount(session: fuser::BackgroundSession, mountpoint: &Path) {
    if detach(mountpoint) {
        let _ = session.join();
    } else {
        eprintln!(
            "GUARDiA AppImage: could not unmount {}; `fusermount3 -u -z` it by hand",
            mountpoint.display()
        );
        drop(session);
    }
}

/// A lazy unmount: by the kernel itself for root, else through the setuid fusermount.
fn detach(mountpoint: &Path) -> bool {
    let Ok(path) = std::ffi::CString::new(mountpoint.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `path` is a valid NUL-terminated string that outlives the call.
    if unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) } == 0 {
        return true;
    }
    ["fusermount3", "fusermount"].iter().any(|tool| {
        std::process::Command::new(tool)
            .args(["-u", "-z", "-q"])
            .arg(mountpoint)
            .status()
            .is_ok_and(|s| s.success())
    })
}
