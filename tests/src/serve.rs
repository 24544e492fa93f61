//! A running `loa serve`: started on a free port, stopped when dropped.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::loa;

/// What `loa serve` prints once it accepts connections; the URL follows.
const LISTENING: &str = "loa serve: listening on ";

/// Long enough for a cold start on a busy 2-core machine (migrations, loading the FAQ).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A `loa serve` process; killed on drop.
pub struct Server {
    child: Child,
    base_url: String,
    stderr_path: PathBuf,
}

impl Server {
    /// Starts `loa --data-dir DATA --host-config DATA/loa.toml serve --listen 127.0.0.1:0
    /// --no-knowledge ARGS…` and waits for its "listening on" line. Without the knowledge
    /// tier: the tests of the pipeline, widget and plugins must not each load the 1 GB
    /// embedding model; the knowledge tests use [`Server::start_with_knowledge`].
    pub fn start<I, S>(data_dir: &Path, args: I) -> Server
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<std::ffi::OsString> = vec!["--no-knowledge".into()];
        all.extend(args.into_iter().map(|arg| arg.as_ref().to_owned()));
        Self::start_with_knowledge(data_dir, all)
    }

    /// Like [`Server::start`], with the knowledge tier (the embedding model must be
    /// installed: `cargo xtask fetch-model`).
    pub fn start_with_knowledge<I, S>(data_dir: &Path, args: I) -> Server
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Self::start_with_env(data_dir, &[], args)
    }

    /// Like [`Server::start_with_knowledge`] (pass `--no-knowledge` in `args` to go
    /// without), with `env` set on the server process: settings that are secrets and have
    /// no flag, such as `LOA_MASTER_KEY`.
    pub fn start_with_env<I, S>(data_dir: &Path, env: &[(&str, &str)], args: I) -> Server
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let stderr_path = data_dir.join("serve.stderr");
        // Appended: after a restart in the same data dir, both runs' logs are kept.
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&stderr_path)
            .expect("open the server's stderr file");
        let mut child = loa(data_dir)
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--host-config")
            .arg(data_dir.join("loa.toml"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            // A file, not a pipe: nobody reads stderr while the test runs, and a full pipe
            // would block the server.
            .stderr(stderr)
            .spawn()
            .expect("start loa serve");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            // Keeps reading after the address line so the server never blocks on stdout.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix(LISTENING) {
                    let _ = sender.send(url.trim().to_owned());
                }
            }
        });
        let mut server = Server {
            child,
            base_url: String::new(),
            stderr_path,
        };
        match receiver.recv_timeout(START_TIMEOUT) {
            Ok(url) => server.base_url = url.trim_end_matches('/').to_owned(),
            Err(_) => panic!(
                "loa serve printed no '{LISTENING}…' line within {START_TIMEOUT:?}:\n{}",
                server.stderr()
            ),
        }
        server
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Kills the server at once (SIGKILL), as a crash or a power cut would.
    pub fn crash(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Kills the server at once (SIGKILL) and starts it again on `data_dir` with no extra
    /// arguments, off the async threads (starting blocks until it prints its address).
    pub async fn crash_and_restart(&mut self, data_dir: &Path) {
        self.crash();
        let data = data_dir.to_owned();
        *self =
            tokio::task::spawn_blocking(move || Server::start(&data, std::iter::empty::<&str>()))
                .await
                .expect("restart loa serve");
    }

    /// Asks the server to stop (SIGTERM) and waits for it; returns whether it exited 0.
    pub fn stop(&mut self) -> bool {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|status| status.success());
        assert!(sent, "could not send SIGTERM to loa serve");
        self.child
            .wait()
            .map(|status| status.success())
            .unwrap_or(false)
    }

    /// What the server wrote to stderr so far (its logs), for failure messages.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
