//! # guardia-e2e — drive the real console window
//!
//! Starts the release `guardia-console` binary through `tauri-driver` (which drives
//! WebKitWebDriver, which launches the app) and hands back a WebDriver client. Nothing is
//! mocked: the app opens a real SQLite file in a temp data directory and renders with
//! WebKitGTK under Xvfb. `scripts/test.sh` provides the display and a D-Bus session.
//!
//! Each [`Driver`] listens on its own free ports, so tests may run in parallel.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test harness: a panic is the report

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

/// How long any single expectation may take before the test fails. Generous: a cold WebKit
/// start on a loaded 2-core CI machine takes seconds.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The directory holding the binaries of the profile this test was built in: a test runs
/// from `<target>/<profile>/deps/`, and the binaries sit one level up.
/// The review screen's diff row height in CSS pixels (the UI's `reviews::ROW`).
pub const REVIEW_ROW: f64 = 20.0;

pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test runs from <target>/<profile>/deps");
    let path = profile_dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: build it first (scripts/test.sh runs `cargo build --release --all-targets`)",
        path.display()
    );
    path
}

/// `target/e2e-shots/` in the repository, where screenshots go.
pub fn shots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-shots");
    std::fs::create_dir_all(&dir).expect("create target/e2e-shots");
    dir.canonicalize().expect("shots dir")
}

/// A loopback port nobody listens on now and that no other test of this process was given.
/// The e2e tests run in parallel, each with a tauri-driver and its WebKitWebDriver: the OS
/// may hand the port one test just released to another, and two drivers on one port mix up
/// their consoles (a test then drives another test's window). Ports are never handed twice.
fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// A running `tauri-driver`, killed when dropped.
pub struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    pub fn start() -> Self {
        Self::start_with_env(&[])
    }

    /// Starts tauri-driver with extra environment variables, which reach the console it
    /// launches (e.g. `APPIMAGE_EXTRACT_AND_RUN` for the AppImage).
    pub fn start_with_env(env: &[(&str, &str)]) -> Self {
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "no DISPLAY: run the e2e tests through scripts/test.sh (it starts Xvfb and D-Bus)"
        );
        let port = free_port();
        let native_port = free_port();
        let child = Command::new("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .spawn()
            .expect("tauri-driver on PATH (scripts/setup.sh installs it)");
        let driver = Self { child, port };
        driver.wait_until_listening();
        driver
    }

    /// Polls the port until tauri-driver accepts connections (a readiness check with a
    /// deadline, not a fixed sleep).
    fn wait_until_listening(&self) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + PATIENCE;
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Launches the console on `data_dir` and returns a WebDriver session on its window.
    pub async fn launch(&self, data_dir: &Path) -> Console {
        self.launch_application(&binary("guardia-console"), data_dir)
            .await
    }

    /// Launches `application` (the console, or a package that starts it, such as the
    /// AppImage) on `data_dir`, which must be an absolute path.
    pub async fn launch_application(&self, application: &Path, data_dir: &Path) -> Console {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), "wry".into());
        capabilities.insert(
            "tauri:options".into(),
            serde_json::json!({
                "application": application,
                "args": ["--data-dir", data_dir],
            }),
        );
        // tauri-driver starts WebKitWebDriver on the first session request and forwards the
        // request at once; on a loaded machine WebKitWebDriver may not listen yet and the
        // request fails before any session exists. Retrying that is safe; anything else fails.
        let deadline = Instant::now() + PATIENCE;
        let client = loop {
            let attempt = ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{}", self.port))
                .await;
            match attempt {
                Ok(client) => break client,
                Err(fantoccini::error::NewSessionError::Lost(e)) if Instant::now() < deadline => {
                    eprintln!("WebDriver session not ready ({e}); asking again");
                }
                Err(fantoccini::error::NewSessionError::FailedC(e))
                    if Instant::now() < deadline =>
                {
                    eprintln!("WebDriver session not ready ({e}); asking again");
                }
                Err(e) => panic!("a WebDriver session on the console: {e:?}"),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let console = Console { client };
        let shown = console
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css("[data-test=app], [data-test=signin]"))
            .await;
        if let Err(e) = shown {
            // What the window shows instead (a blank page means the UI failed to start).
            let shot = console.screenshot("launch-failed").await;
            // Starting the UI module again reports why it did not start the first time.
            let boot = console
                .client
                .execute_async(
                    "const done = arguments[arguments.length - 1]; \
                     const s = [...document.scripts].map((x) => x.textContent).join(' '); \
                     const m = s.match(/from '([^']+)'/); const w = s.match(/module_or_path: '([^']+)'/); \
                     if (!m || !w) { done('no start-up script'); } else { \
                     import(m[1]).then((x) => x.default({ module_or_path: w[1] })) \
                     .then(() => done('started on a second try')).catch((e) => done(String(e && e.stack || e))); }",
                    vec![],
                )
                .await
                .map(|v| v.to_string())
                .unwrap_or_else(|e| format!("(could not ask: {e})"));
            eprintln!("UI start-up: {boot}");
            let source = console.client.source().await.unwrap_or_default();
            let text: String = source.chars().take(4000).collect();
            panic!(
                "the console window showed neither the app nor the sign-in within {PATIENCE:?}: \
                 {e}\nscreenshot: {}\npage: {text}",
                shot.display()
            );
        }
        console
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Err(error) = self.child.kill() {
            eprintln!("tauri-driver already gone: {error}");
        }
        if let Err(error) = self.child.wait() {
            eprintln!("cannot reap tauri-driver: {error}");
        }
    }
}

/// The console window under test.
pub struct Console {
    pub client: Client,
}

impl Console {
    /// Waits for an element matching `css` and returns it.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element `{css}` within {PATIENCE:?}: {e}"))
    }

    /// Clicks `css`, scrolling it to the middle of its scroll container first (WebKit's
    /// driver does not scroll nested containers such as a side panel by itself).
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        let arg = serde_json::to_value(&element).expect("element reference");
        self.client
            .execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg])
            .await
            .expect("scroll into view");
        element.click().await.expect("click");
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    /// Sets a field's whole value (multi-line text included) as a paste would, firing `input`.
    pub async fn set_value(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        let arg = serde_json::to_value(&element).expect("element reference");
        self.client
            .execute(
                "arguments[0].value = arguments[1]; \
                 arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
                vec![arg, serde_json::Value::String(text.to_owned())],
            )
            .await
            .expect("set value");
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("text")
    }

    /// Waits until `css` shows exactly `expected`.
    pub async fn wait_for_text(&self, css: &str, expected: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let current = match self.client.find(Locator::Css(css)).await {
                Ok(el) => el.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if current == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "`{css}` shows {current:?}, expected {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the element matching `css` has `attribute` equal to `expected`.
    pub async fn wait_for_attr(&self, css: &str, attribute: &str, expected: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let current = match self.client.find(Locator::Css(css)).await {
                Ok(el) => el.attr(attribute).await.unwrap_or_default(),
                Err(_) => None,
            };
            if current.as_deref() == Some(expected) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "`{css}` has {attribute}={current:?}, expected {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the text of `css` contains `expected`.
    pub async fn wait_for_text_containing(&self, css: &str, expected: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let current = match self.client.find(Locator::Css(css)).await {
                Ok(el) => el.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if current.contains(expected) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "`{css}` shows {current:?}, expected it to contain {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until nothing matches `css`.
    pub async fn wait_gone(&self, css: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !self
            .client
            .find_all(Locator::Css(css))
            .await
            .expect("query")
            .is_empty()
        {
            assert!(Instant::now() < deadline, "`{css}` is still shown");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// All elements matching `css` right now.
    pub async fn all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .expect("query")
    }

    /// Saves a PNG of the window to `target/e2e-shots/<name>.png` and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "WebDriver returned a PNG");
        let path = shots_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        eprintln!("screenshot: {}", path.display());
        path
    }

    /// Ends the session, which closes the app.
    /// Signs in at the sign-in screen and waits until the window is that person's.
    pub async fn sign_in(&self, name: &str, password: &str) {
        self.find("[data-test=signin]").await;
        self.type_into("[data-test=signin-name]", name).await;
        self.type_into("[data-test=signin-password]", password)
            .await;
        self.click("[data-test=signin-submit]").await;
        // Under a loaded test run the window has been seen to show a refusal beside a
        // sign-in that succeeds (investigation open, see the issue note). A refusal that is
        // still on screen two seconds later, with nobody signed in, is retried once, loudly.
        let deadline = Instant::now() + PATIENCE;
        let mut refused_since: Option<Instant> = None;
        let mut retried = false;
        loop {
            if let Ok(session) = self.client.find(Locator::Css("[data-test=session]")).await
                && session.attr("data-person").await.ok().flatten().as_deref() == Some(name)
            {
                return;
            }
            let refusal = self
                .client
                .find(Locator::Css("[data-test=signin-error]"))
                .await
                .is_ok();
            match (refusal, refused_since) {
                (false, _) => refused_since = None,
                (true, None) => refused_since = Some(Instant::now()),
                (true, Some(since)) if since.elapsed() > Duration::from_secs(2) => {
                    assert!(!retried, "signing in as {name} was refused twice");
                    eprintln!("SIGN-IN REFUSED as {name} and still on screen; retrying once");
                    retried = true;
                    refused_since = None;
                    if let Ok(field) = self
                        .client
                        .find(Locator::Css("[data-test=signin-password]"))
                        .await
                        && field.clear().await.is_ok()
                        && field.send_keys(password).await.is_ok()
                        && let Ok(submit) = self
                            .client
                            .find(Locator::Css("[data-test=signin-submit]"))
                            .await
                        && submit.click().await.is_err()
                    {
                        eprintln!("the retry's click did not reach the window");
                    }
                }
                (true, Some(_)) => {}
            }
            assert!(
                Instant::now() < deadline,
                "not signed in as {name} within {PATIENCE:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Signs out and waits for the sign-in screen.
    pub async fn sign_out(&self) {
        self.click("[data-test=sign-out]").await;
        self.find("[data-test=signin]").await;
    }

    pub async fn quit(self) {
        self.client.close().await.expect("close the session");
    }
}

/// Runs the headless `guardia` CLI on `data_dir` and returns its stdout.
pub fn cli(data_dir: &Path, args: &[&str]) -> String {
    let output = Command::new(binary("guardia"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("run guardia");
    assert!(
        output.status.success(),
        "guardia {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// Runs `guardia` on `data_dir` as `user` (none: set-up), with `password` as both the
/// sign-in password and the one `user add` gives; returns its stdout, failing the test with
/// its stderr if it fails.
pub fn cli_as(data_dir: &Path, user: Option<&str>, password: &str, args: &[&str]) -> String {
    let mut command = Command::new(binary("guardia"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("GUARDIA_USER")
        .env("GUARDIA_NEW_PASSWORD", password);
    if let Some(user) = user {
        command
            .args(["--user", user])
            .env("GUARDIA_PASSWORD", password);
    }
    let output = command.output().expect("run guardia");
    assert!(
        output.status.success(),
        "guardia {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}
