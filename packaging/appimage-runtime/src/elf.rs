//! Where this ELF file ends: the squashfs image starts right after it.
//!
//! The end is the furthest byte any part of the ELF names — the program and section header
//! tables, every segment's file image, every section that occupies the file — so stripping
//! or a different linker layout cannot move the image. `scripts/package.sh` checks that the
//! bare runtime's end equals its size.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::Error;

const SHT_NOBITS: u32 = 8;

fn u16_at(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(bytes)
}

fn read_at(file: &mut File, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
    let len = usize::try_from(len).map_err(|_| "ELF table too large")?;
    if len > 16 << 20 {
        return Err("ELF table too large".into());
    }
    let mut buf = vec![0u8; len];
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(&mut buf)
        .map_err(|e| format!("the ELF header points past the end of the file ({e})"))?;
    Ok(buf)
}

/// The offset just past the ELF part of `path` (a little-endian ELF64 file).
pub fn end_of_file(path: &Path) -> Result<u64, Error> {
    let mut file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let header = read_at(&mut file, 0, 64)?;
    if &header[..4] != b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        return Err(format!("{} is not a little-endian 64-bit ELF file", path.display()).into());
    }
    let (phoff, shoff) = (u64_at(&header, 0x20), u64_at(&header, 0x28));
    let (phentsize, phnum) = (u16_at(&header, 0x36), u16_at(&header, 0x38));
    let (shentsize, shnum) = (u16_at(&header, 0x3a), u16_at(&header, 0x3c));
    let mut end = 64u64
        .max(phoff + phentsize * phnum)
        .max(shoff + shentsize * shnum);

    let programs = read_at(&mut file, phoff, phentsize * phnum)?;
    for entry in programs.chunks_exact(usize::try_from(phentsize.max(56))?) {
        end = end.max(u64_at(entry, 0x08) + u64_at(entry, 0x20));
    }
    if shnum > 0 {
        let sections = read_at(&mut file, shoff, shentsize * shnum)?;
        for entry in sections.chunks_exact(usize::try_from(shentsize.max(64))?) {
            if u32_at(entry, 0x04) != SHT_NOBITS {
                end = end.max(u64_at(entry, 0x18) + u64_at(entry, 0x20));
            }
        }
    }
    Ok(end)
}
