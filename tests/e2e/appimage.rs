//! The AppImage starts the console from its image: mounted with FUSE, and extracted where
//! FUSE is not wanted (`APPIMAGE_EXTRACT_AND_RUN=1`). The packages are built after the test
//! run, so this story is ignored there; `scripts/tests/packages.sh` runs it on the built
//! AppImage (`GUARDIA_APPIMAGE`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use guardia_e2e::{Driver, PATIENCE, cli};

/// Paths of the running WebKit web processes (the console's page renderers).
fn web_processes() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(exe) = std::fs::read_link(entry.path().join("exe"))
            && exe.file_name().is_some_and(|n| n == "WebKitWebProcess")
        {
            found.push(exe);
        }
    }
    found
}

fn guardia_mounts() -> Vec<String> {
    std::fs::read_to_string("/proc/mounts")
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("guardia-appimage "))
        .map(str::to_owned)
        .collect()
}

fn extracted_dirs() -> BTreeSet<PathBuf> {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("guardia-appimage-"))
        })
        .collect()
}

/// Waits (with a deadline) until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn start_from_the_image(image: &Path, extract: bool, shot: &str) {
    let data = tempfile::tempdir().unwrap();
    let before = extracted_dirs();
    let env: &[(&str, &str)] = if extract {
        &[("APPIMAGE_EXTRACT_AND_RUN", "1")]
    } else {
        &[]
    };
    let driver = Driver::start_with_env(env);
    let ui = driver.launch_application(image, data.path()).await;

    // The page renderer runs from the image's AppDir, not from this machine's WebKitGTK.
    let marker = if extract {
        "/guardia-appimage-"
    } else {
        "/.mount_guardia"
    };
    until("the web process runs from the AppImage", || {
        web_processes()
            .iter()
            .any(|p| p.to_string_lossy().contains(marker))
    })
    .await;
    if extract {
        assert!(guardia_mounts().is_empty(), "{:?}", guardia_mounts());
        assert!(extracted_dirs().len() > before.len());
    } else {
        assert_eq!(guardia_mounts().len(), 1, "{:?}", guardia_mounts());
    }

    // The About box names the build the package was made from.
    let version = cli(data.path(), &["--version"]);
    let commit = version
        .trim()
        .rsplit_once("(commit ")
        .and_then(|(_, c)| c.strip_suffix(')'))
        .unwrap();
    ui.click("[data-test=nav-settings]").await;
    ui.wait_for_text("[data-test=info-commit]", commit).await;
    ui.click("[data-test=nav-tasks]").await;
    ui.find("[data-test=task-list], [data-test=tasks-empty]")
        .await;
    ui.screenshot(shot).await;
    ui.quit().await;

    // The runtime cleans up after the console: the mount, or the extracted folder.
    until("the AppImage's mount or folder is gone", || {
        guardia_mounts().is_empty() && extracted_dirs() == before
    })
    .await;
}

#[tokio::test]
#[ignore = "needs the built AppImage: scripts/tests/packages.sh runs it"]
async fn the_appimage_starts_the_console_from_the_image_mounted_or_extracted() {
    let image = PathBuf::from(
        std::env::var_os("GUARDIA_APPIMAGE").expect("GUARDIA_APPIMAGE: the AppImage to start"),
    );
    start_from_the_image(&image, false, "appimage").await;
    start_from_the_image(&image, true, "appimage-extracted").await;
}
