//! A real browser for tests of the pages `loa serve` serves (the chat widget, the console):
//! headless Chromium driven through chromedriver (WebDriver) with `fantoccini`.
//!
//! Debian's `chromium` and `chromium-driver` packages are expected at `/usr/bin/chromium` and
//! `/usr/bin/chromedriver` (`cargo xtask test` installs them); `LOA_TEST_CHROMIUM` and
//! `LOA_TEST_CHROMEDRIVER` point elsewhere.

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::ShadowRoot;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// chromedriver starts in well under a second; 20 s leaves room for a loaded machine.
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(20);

/// How often [`Browser::wait_until`] asks the page again.
const POLL_EVERY: Duration = Duration::from_millis(100);

/// Flags for a root user on a machine without network or GPU: no sandbox (root), nothing
/// that calls home, a window big enough for the widget's desktop layout.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
];

/// A headless Chromium with a fresh profile, driven by its own chromedriver.
pub struct Browser {
    client: Client,
    driver: Driver,
    // Dropped after the browser is gone: Chromium writes to it until it exits.
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a WebDriver session in a new headless
    /// Chromium with an empty profile (no visitor id, no history from an earlier test).
    pub async fn start() -> Browser {
        let chromium = installed("LOA_TEST_CHROMIUM", "/usr/bin/chromium", "chromium");
        let chromedriver = installed(
            "LOA_TEST_CHROMEDRIVER",
            "/usr/bin/chromedriver",
            "chromium-driver",
        );
        let driver = Driver::start(&chromedriver);
        let profile = tempfile::tempdir().expect("temporary browser profile");
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|flag| flag.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({ "binary": chromium, "args": args }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .expect("chromedriver opens a Chromium session");
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// The WebDriver client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Runs `script` (a function body; `arguments` are `args`) every 100 ms until it returns
    /// something truthy, and returns that. Panics with `what` and the last value on timeout.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        script: &str,
        args: Vec<Value>,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self
                .client
                .execute(script, args.clone())
                .await
                .unwrap_or_else(|error| panic!("script for '{what}' failed: {error}"));
            if truthy(&value) {
                return value;
            }
            if Instant::now() > deadline {
                panic!("timed out after {timeout:?} waiting for {what}; last value: {value}");
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// Clicks the launcher of the chat widget on the current page and waits until it is
    /// open and connected (at most `timeout`); returns its shadow root, where everything
    /// of the widget lives.
    pub async fn open_widget(&self, timeout: Duration) -> ShadowRoot {
        let root = self
            .client
            .wait()
            .at_most(timeout)
            .for_element(Locator::Css("loa-widget"))
            .await
            .expect("the widget script adds its <loa-widget> element")
            .shadow_root()
            .await
            .expect("the widget has an open shadow root");
        root.find(Locator::Css("[data-testid=loa-launcher]"))
            .await
            .expect("a launcher button")
            .click()
            .await
            .expect("the launcher takes a click");
        self.wait_until(
            "the widget to open and connect",
            timeout,
            "const s = window.loaWidget.state(); return s.open && s.connected;",
            vec![],
        )
        .await;
        root
    }

    /// Saves a screenshot of the current window as `tests/artifacts/{name}` (the folder is
    /// made when missing: a fresh clone has none).
    pub async fn save_screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let artifacts = crate::workspace_root().join("tests/artifacts");
        std::fs::create_dir_all(&artifacts).expect("create tests/artifacts");
        std::fs::write(artifacts.join(name), png).expect("save the screenshot");
    }

    /// Ends the WebDriver session (Chromium exits), then chromedriver.
    pub async fn close(self) {
        let Browser {
            client,
            driver,
            _profile,
        } = self;
        let _ = client.close().await;
        drop(driver);
    }
}

/// JavaScript's idea of true, for the values WebDriver hands back.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|n| n != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// The program at `$variable`, else at `default`; a clear failure when it is not installed.
fn installed(variable: &str, default: &str, package: &str) -> PathBuf {
    let path = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    assert!(
        path.is_file(),
        "{} is missing: `cargo xtask test` installs the browser (Debian package {package}), \
         or set {variable}",
        path.display()
    );
    path
}

/// A chromedriver process in its own process group, so the Chromium it starts goes with it.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(program: &PathBuf) -> Driver {
        let port = free_port();
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", program.display()));
        let mut driver = Driver { child, port };
        let deadline = Instant::now() + DRIVER_START_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("chromedriver exited at start with {status}");
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port} within {DRIVER_START_TIMEOUT:?}"
            );
            std::thread::sleep(POLL_EVERY);
        }
        driver
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: a test that panicked never ended its session, and Chromium
        // would outlive a chromedriver killed alone.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now (the OS picks it; released for chromedriver to take).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free local port")
}
