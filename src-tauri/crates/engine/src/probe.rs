//! Health probes: small functions that each decide one criterion and race the token.
//!
//! The ad-hoc check uses them today; the rollout post-check will reuse them. Local probes
//! (TCP, HTTP) do their own IO; remote ones (process, log pattern) are a command to run over
//! the caller's audited SSH session plus a pure judgement of what came back.

use std::time::{Duration, Instant};

use guardia_domain::command::quote;
use guardia_ipc::CheckState;
use guardia_ssh::ExecReport;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_util::sync::CancellationToken;

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub state: CheckState,
    pub detail: String,
}

impl Finding {
    pub fn new(state: CheckState, detail: impl Into<String>) -> Self {
        Self {
            state,
            detail: detail.into(),
        }
    }

    fn cancelled() -> Self {
        Self::new(CheckState::Cancelled, "cancelled")
    }
}

/// How long a TCP connect may take.
pub const TCP_LIMIT: Duration = Duration::from_secs(5);

/// Whether `host:port` accepts a TCP connection within `limit`.
pub async fn tcp(host: &str, port: u16, limit: Duration, token: &CancellationToken) -> Finding {
    let connect = tokio::time::timeout(limit, tokio::net::TcpStream::connect((host, port)));
    tokio::select! {
        () = token.cancelled() => Finding::cancelled(),
        result = connect => match result {
            Ok(Ok(_)) => Finding::new(CheckState::Pass, format!("{host}:{port} accepts connections")),
            Ok(Err(e)) => Finding::new(CheckState::Fail, format!("{host}:{port}: {e}")),
            Err(_) => Finding::new(
                CheckState::Fail,
                format!("{host}:{port}: no answer within {} s", limit.as_secs()),
            ),
        },
    }
}

/// `GET url` answers `expected` within `max` (waiting at most `limit` for any answer).
pub async fn http(
    url: &str,
    expected: u16,
    max: Duration,
    limit: Duration,
    token: &CancellationToken,
) -> Finding {
    tokio::select! {
        () = token.cancelled() => Finding::cancelled(),
        answer = http_status(url, limit) => match answer {
            Ok((status, took)) if status == expected && took <= max => Finding::new(
                CheckState::Pass,
                format!("{status} in {} ms", took.as_millis()),
            ),
            Ok((status, took)) => Finding::new(
                CheckState::Fail,
                format!(
                    "{status} in {} ms (expected {expected} within {} ms)",
                    took.as_millis(),
                    max.as_millis()
                ),
            ),
            Err(e) => Finding::new(CheckState::Fail, e),
        },
    }
}

/// `GET url` over plain HTTP/1.1: the status code and how long the answer took.
async fn http_status(url: &str, limit: Duration) -> Result<(u16, Duration), String> {
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(format!(
            "{url}: only http:// health URLs are checked so far"
        ));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| format!("{url}: bad port"))?),
        None => (authority, 80),
    };
    let started = Instant::now();
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: GUARDiA\r\nConnection: close\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let mut head = vec![0u8; 1024];
        let mut len = 0;
        while len < head.len() && !head[..len].contains(&b'\n') {
            let n = stream
                .read(&mut head[len..])
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            if n == 0 {
                break;
            }
            len += n;
        }
        let line = String::from_utf8_lossy(&head[..len]);
        line.split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| format!("{url}: not an HTTP answer"))
    };
    match tokio::time::timeout(limit, exchange).await {
        Ok(Ok(status)) => Ok((status, started.elapsed())),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!("{url}: no answer within {} ms", limit.as_millis())),
    }
}

/// A criterion decided by a command on the server.
pub trait RemoteProbe: Sync {
    /// The command to run (shell-quoted; still goes through the denylist).
    fn command(&self) -> String;
    /// What its result means.
    fn judge(&self, report: &ExecReport) -> Finding;
}

/// A process of this name is running.
#[derive(Debug, Clone)]
pub struct Process<'a>(pub &'a str);

impl RemoteProbe for Process<'_> {
    fn command(&self) -> String {
        format!(
            "ps -eo comm= | grep -qxF -- {} && echo running",
            quote(self.0)
        )
    }

    fn judge(&self, report: &ExecReport) -> Finding {
        if report.succeeded() {
            Finding::new(CheckState::Pass, "running")
        } else {
            Finding::new(CheckState::Fail, "not running")
        }
    }
}

/// How many of a log's last lines the pattern probe reads.
pub const LOG_TAIL_LINES: u32 = 200;

/// No line matching the error pattern among the log's last lines.
#[derive(Debug, Clone)]
pub struct LogPattern<'a> {
    pub file: &'a str,
    pub pattern: &'a str,
}

impl RemoteProbe for LogPattern<'_> {
    fn command(&self) -> String {
        format!(
            "tail -n {LOG_TAIL_LINES} -- {} | grep -cE -- {}; exit 0",
            quote(self.file),
            quote(self.pattern)
        )
    }

    fn judge(&self, report: &ExecReport) -> Finding {
        let stdout = report.stdout.text();
        let stderr = report.stderr.text();
        let count: u64 = stdout.trim().parse().unwrap_or(0);
        if !stderr.trim().is_empty() && stdout.trim().is_empty() {
            Finding::new(CheckState::Fail, stderr.trim())
        } else if count == 0 {
            Finding::new(
                CheckState::Pass,
                format!("no error lines in the last {LOG_TAIL_LINES}"),
            )
        } else {
            Finding::new(
                CheckState::Fail,
                format!("{count} error lines in the last {LOG_TAIL_LINES}"),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_closed_port_fails_and_a_cancelled_probe_says_cancelled() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let token = CancellationToken::new();
        let open = tcp("127.0.0.1", port, TCP_LIMIT, &token).await;
        assert_eq!(open.state, CheckState::Pass);
        drop(listener);
        let closed = tcp("127.0.0.1", port, TCP_LIMIT, &token).await;
        assert_eq!(closed.state, CheckState::Fail);

        // A server that accepts and never answers: only the token ends the wait.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/health", silent.local_addr().unwrap());
        let cancel = CancellationToken::new();
        let waiting = http(
            &url,
            200,
            Duration::from_secs(1),
            Duration::from_secs(3600),
            &cancel,
        );
        cancel.cancel();
        assert_eq!(waiting.await.state, CheckState::Cancelled);
    }
}
