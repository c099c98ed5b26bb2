//! Makes the AppDir visible (mounted, or extracted) and runs its `AppRun` in this very
//! process (exec: the pid that was started is the application's, so whoever started it —
//! a terminal, a service manager, WebDriver — signals and waits for the application itself).
//!
//! What must outlive the application — serving the mount, removing the extracted folder —
//! is done by a helper (this program again, in its own process group so a terminal's Ctrl+C
//! reaches only the application). It holds the read end of a pipe whose write end the
//! application and every process it starts inherit: end-of-file means all of them are gone,
//! however they ended (SIGKILL included).

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::IntoRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, ExitCode, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::image::Image;
use crate::{Error, extract, mount};

/// A new folder under the temporary directory, private to this user.
fn private_dir(stem: &str) -> Result<PathBuf, Error> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("{stem}{}-{nanos:x}", std::process::id()));
    std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    Ok(dir)
}

/// Extracts the AppDir to a temporary folder and runs it; the cleaner removes the folder
/// afterwards (`APPIMAGE_EXTRACT_AND_RUN_NO_CLEANUP` keeps it).
pub fn extracted(image_path: &Path, args: Vec<OsString>) -> Result<ExitCode, Error> {
    let image = Image::open(image_path)?;
    let dir = private_dir("guardia-appimage-")?;
    let cleaner = if std::env::var_os("APPIMAGE_EXTRACT_AND_RUN_NO_CLEANUP").is_some() {
        eprintln!("GUARDiA AppImage: extracting to {} (kept)", dir.display());
        None
    } else {
        let mut cleaner = helper(image_path, "--appimage-internal-clean", &dir)
            .map_err(|e| format!("cannot start the clean-up helper: {e}"))?;
        cleaner.stdin.take()
    };
    extract::extract(&image, &dir, None)?;
    Err(exec_app(&dir, image_path, args, cleaner))
}

/// The cleaner: once its stdin ends (the runtime is gone) and no process runs from `dir`
/// (or has it as its working directory), removes `dir`. Gives up waiting after a minute.
pub fn clean(dir: &Path) -> Result<ExitCode, Error> {
    let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while in_use(dir) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::fs::remove_dir_all(dir).map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
    Ok(ExitCode::SUCCESS)
}

/// Whether any process runs a program from `dir` or works in it.
fn in_use(dir: &Path) -> bool {
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return false;
    };
    processes.flatten().any(|p| {
        ["exe", "cwd"]
            .iter()
            .any(|link| std::fs::read_link(p.path().join(link)).is_ok_and(|t| t.starts_with(dir)))
    })
}

/// Mounts the AppDir with FUSE and runs it; where FUSE cannot be used (no /dev/fuse, no
/// fusermount, a container), says so and extracts instead. The keeper serves the mount.
pub fn mounted_or_extracted(image_path: &Path, args: Vec<OsString>) -> Result<ExitCode, Error> {
    // A damaged or foreign file is reported here, once, rather than as a mount failure.
    drop(Image::open(image_path)?);
    let mountpoint = private_dir(".mount_guardia")?;
    let mounted = helper(image_path, "--appimage-internal-serve", &mountpoint)
        .map_err(|e| e.to_string())
        .and_then(|mut keeper| {
            let mut line = String::new();
            let said = keeper
                .stdout
                .take()
                .map(|out| BufReader::new(out).read_line(&mut line));
            match said {
                Some(Ok(_)) if line.trim() == "mounted" => Ok(keeper),
                _ => {
                    let _ = keeper.wait();
                    Err("the mount did not come up".to_owned())
                }
            }
        });
    match mounted {
        Ok(mut keeper) => Err(exec_app(&mountpoint, image_path, args, keeper.stdin.take())),
        Err(e) => {
            let _ = std::fs::remove_dir(&mountpoint);
            eprintln!(
                "GUARDiA AppImage: FUSE is not available ({e}); extracting to a temporary folder \
                 instead (APPIMAGE_EXTRACT_AND_RUN=1 skips this attempt)\n\
                 GUARDiA AppImage: FUSE를 쓸 수 없어 임시 폴더에 풀어서 실행합니다"
            );
            extracted(image_path, args)
        }
    }
}

/// Starts this program again as a helper (`option` `path`), its stdin and stdout piped.
fn helper(image_path: &Path, option: &str, path: &Path) -> std::io::Result<std::process::Child> {
    Command::new(image_path)
        .arg(option)
        .arg(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
}

/// The keeper: mounts the image at `mountpoint`, says `mounted`, serves until its stdin
/// ends (the runtime is gone), then unmounts and removes the mountpoint.
pub fn serve(image_path: &Path, mountpoint: &Path) -> Result<ExitCode, Error> {
    let image = Image::open(image_path)?;
    let session = mount::mount(image, mountpoint)?;
    println!("mounted");
    std::io::stdout().flush()?;
    // Wait for end-of-file (or an error: the runtime is gone either way).
    let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
    mount::unmount(session, mountpoint);
    let _ = std::fs::remove_dir(mountpoint);
    Ok(ExitCode::SUCCESS)
}

/// Replaces this process with the AppDir's `AppRun`; returns only if that failed. `lifeline`
/// (a helper's stdin) is left open across the exec, for the application and its children.
fn exec_app(
    appdir: &Path,
    image_path: &Path,
    args: Vec<OsString>,
    lifeline: Option<ChildStdin>,
) -> Error {
    let app_run = appdir.join("AppRun");
    let mut command = Command::new(&app_run);
    command
        .args(args)
        .env("APPIMAGE", image_path)
        .env("APPDIR", appdir)
        .env("ARGV0", std::env::args_os().next().unwrap_or_default());
    if let Ok(cwd) = std::env::current_dir() {
        // AppRun changes into the AppDir; OWD keeps where the user started from.
        command.env("OWD", cwd);
    }
    if let Some(lifeline) = lifeline {
        let fd = lifeline.into_raw_fd();
        // SAFETY: `fd` is an open descriptor this process owns (taken from the pipe above,
        // never closed); clearing FD_CLOEXEC only makes the exec keep it.
        if unsafe { libc::fcntl(fd, libc::F_SETFD, 0) } != 0 {
            return format!(
                "cannot keep the helper's pipe open: {}",
                std::io::Error::last_os_error()
            )
            .into();
        }
    }
    let error = command.exec();
    format!("cannot start {}: {error}", app_run.display()).into()
}
