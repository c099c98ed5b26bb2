//! # guardia-appimage-runtime — the front of GUARDiA's AppImage
//!
//! An AppImage (type 2) is this static program with a squashfs image of the application
//! folder (the AppDir) appended after its ELF end, and `AI\x02` at byte 8. Started, it finds
//! the image, makes the AppDir visible — mounted read-only with FUSE, or extracted to a
//! temporary folder where FUSE is not available — and runs `AppRun` from it with the
//! arguments it was given. The AppImage project's runtime and tools are downloaded from
//! GitHub, which a closed network cannot reach; this one is built from crates.io
//! (`scripts/package.sh appimage`).
//!
//! Options (the AppImage conventions; anything else goes to the application):
//! `--appimage-help`, `--appimage-version`, `--appimage-offset`, `--appimage-extract [PREFIX]`,
//! `--appimage-extract-and-run [ARGS…]`. `APPIMAGE_EXTRACT_AND_RUN=1` extracts instead of
//! mounting.

mod elf;
mod extract;
mod image;
mod mount;
mod run;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What went wrong, in words for the person who started the AppImage.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

const VERSION: &str = env!("CARGO_PKG_VERSION");

const HELP: &str = "\
GUARDiA AppImage

  <image> [ARGS…]                  run GUARDiA Console (FUSE mount, else extract)
  <image> --appimage-extract [P]   extract the AppDir (or the paths under P) to ./squashfs-root
  <image> --appimage-extract-and-run [ARGS…]
                                   extract to a temporary folder, run, then remove it
  <image> --appimage-offset        print where the squashfs image starts
  <image> --appimage-version       print the runtime's version
  <image> --appimage-help          print this text

  APPIMAGE_EXTRACT_AND_RUN=1       always extract instead of mounting (no FUSE needed)

GUARDiA AppImage (한국어)
  인수 없이 실행하면 GUARDiA 콘솔이 시작됩니다 (FUSE로 마운트, 불가능하면 임시 폴더에 풀어서 실행).
  --appimage-extract 는 ./squashfs-root 에 풉니다. FUSE가 없는 PC에서는
  APPIMAGE_EXTRACT_AND_RUN=1 을 설정하세요.
";

fn main() -> ExitCode {
    match start() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("GUARDiA AppImage: {e}");
            // 127: what a shell reports when a program could not be started at all.
            ExitCode::from(127)
        }
    }
}

fn start() -> Result<ExitCode, Error> {
    let image_path = std::env::current_exe()
        .map_err(|e| format!("cannot find this AppImage's own file: {e}"))?;
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let option = args
        .first()
        .and_then(|a| a.to_str())
        .filter(|a| a.starts_with("--appimage-"))
        .map(str::to_owned);
    if let Some(option) = option {
        args.remove(0);
        return match option.as_str() {
            "--appimage-help" => {
                print!("{HELP}");
                Ok(ExitCode::SUCCESS)
            }
            "--appimage-version" => {
                println!("guardia-appimage-runtime {VERSION} (AppImage type 2, squashfs gzip)");
                Ok(ExitCode::SUCCESS)
            }
            "--appimage-offset" => {
                println!("{}", elf::end_of_file(&image_path)?);
                Ok(ExitCode::SUCCESS)
            }
            "--appimage-extract" => {
                let image = image::Image::open(&image_path)?;
                let prefix = args.first().map(PathBuf::from);
                let dest = Path::new("squashfs-root");
                let count = extract::extract(&image, dest, prefix.as_deref())?;
                eprintln!("extracted {count} entries to {}", dest.display());
                Ok(ExitCode::SUCCESS)
            }
            "--appimage-extract-and-run" => run::extracted(&image_path, args),
            // The mount keeper (see run.rs): started by the runtime itself, not by people.
            "--appimage-internal-serve" => {
                let mountpoint = args.first().map(PathBuf::from).ok_or("no mountpoint")?;
                run::serve(&image_path, &mountpoint)
            }
            "--appimage-internal-clean" => {
                let dir = args.first().map(PathBuf::from).ok_or("no folder")?;
                run::clean(&dir)
            }
            other => Err(format!(
                "unknown option {other} (see --appimage-help; 알 수 없는 옵션입니다)"
            )
            .into()),
        };
    }
    if std::env::var_os("APPIMAGE_EXTRACT_AND_RUN").is_some_and(|v| v == "1") {
        return run::extracted(&image_path, args);
    }
    run::mounted_or_extracted(&image_path, args)
}
