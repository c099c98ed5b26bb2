//! The lab sites' HTTP health endpoint: one process, one listener per site address.
//!
//! `GET /health` answers `200 ok` when the site's application is running (its `app.pid` names
//! a live process) and healthy, `503` otherwise with the reason. A site marked *bad* turns
//! unhealthy once its `VERSION` differs from `INITIAL_VERSION` — that is how `--bad K` makes
//! a rollout fail on K sites. The `health-503` fault forces 503; `slow` delays the answer.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::{LabError, Manifest};

/// Serves every site of the lab under `root` until the process is stopped.
pub async fn serve_health(root: &Path) -> Result<(), LabError> {
    let manifest = Manifest::load(root)?;
    let mut tasks = tokio::task::JoinSet::new();
    for site in &manifest.sites {
        let addr = (site.address, manifest.http_port);
        let listener = TcpListener::bind(addr).await.map_err(|e| LabError::Step {
            what: format!("binding the health endpoint of {}", site.name),
            detail: e.to_string(),
        })?;
        let dir = site.dir.clone();
        tasks.spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        let dir = dir.clone();
                        tokio::spawn(async move {
                            if let Err(e) = answer(stream, &dir).await {
                                tracing::debug!("health answer failed: {e}");
                            }
                        });
                    }
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        let Err(e) = r;
        tracing::error!("a health listener stopped: {e}");
    }
    Ok(())
}

async fn answer(mut stream: TcpStream, site_dir: &Path) -> std::io::Result<()> {
    let mut buf = vec![0u8; 4096];
    let mut len = 0;
    // Read the request head (bounded in size and time); the path does not matter.
    let read = async {
        while len < buf.len() {
            let n = stream.read(&mut buf[len..]).await?;
            if n == 0 {
                break;
            }
            len += n;
            if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        Ok::<_, std::io::Error>(())
    };
    if tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .is_err()
    {
        return Ok(());
    }
    let fault = site_dir.join("fault");
    if fault.join("slow").exists() {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let (status, body) = match site_state(site_dir) {
        Ok(version) => ("200 OK", format!("ok version={version}\n")),
        Err(reason) => ("503 Service Unavailable", format!("unhealthy: {reason}\n")),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

fn read_trimmed(path: PathBuf) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

/// The site's version when healthy, or why not.
fn site_state(site_dir: &Path) -> Result<String, String> {
    if site_dir.join("fault/health_503").exists() {
        return Err("health-503 fault injected".into());
    }
    let app = site_dir.join("app");
    let pid: u32 = read_trimmed(app.join("app.pid"))
        .and_then(|p| p.parse().ok())
        .ok_or("not running (no app.pid)")?;
    if !crate::procs::alive(pid) {
        return Err(format!("not running (pid {pid} is gone)"));
    }
    let version = read_trimmed(app.join("VERSION")).unwrap_or_default();
    let initial = read_trimmed(app.join("INITIAL_VERSION")).unwrap_or_default();
    if site_dir.join("bad").exists() && version != initial {
        return Err(format!("version {version} fails on this site"));
    }
    Ok(version)
}
