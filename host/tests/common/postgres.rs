//! A throwaway PostgreSQL server for tests: started once per test binary, a schema per
//! test so tests run in parallel, gone when the test binary ends.
//!
//! Set `LOA_TEST_POSTGRES_URL` (`postgres://user:password@host:port/database`) to use a
//! server of your own instead; each test then creates and drops its own schema there.
//! Otherwise the server binaries of Debian's `postgresql` package are needed
//! (`cargo xtask test` installs them).
//!
//! Cleanup does not rely on destructors (statics are never dropped): a small watchdog shell
//! holds the read end of a pipe whose write end only this process has. When the process
//! ends, however it ends, the pipe closes and the watchdog stops the server and removes
//! its directory.
#![allow(dead_code)]

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokio_postgres::NoTls;

/// Where an existing server can be named instead of starting one.
pub const URL_VARIABLE: &str = "LOA_TEST_POSTGRES_URL";

/// 30 s: a cold start on a busy CI machine takes a few seconds; more means it is stuck.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A schema of its own on the test server, for one test.
pub struct TestDatabase {
    /// URL whose connections use the schema (through `search_path`).
    pub url: String,
    schema: String,
    admin_url: String,
    /// Whether the schema must be dropped (a server of the user's, not a throwaway one).
    drop_after: bool,
}

impl TestDatabase {
    /// A fresh, empty schema on the (started if needed) test server.
    pub async fn create() -> TestDatabase {
        let server = server();
        let schema = loa::store::new_id("test");
        let client = connect(&server.admin_url).await;
        client
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .unwrap_or_else(|error| panic!("cannot create schema {schema}: {error}"));
        TestDatabase {
            url: with_search_path(&server.admin_url, &schema),
            schema,
            admin_url: server.admin_url.clone(),
            drop_after: server.external,
        }
    }

    /// Drops the schema on a server of the user's; a throwaway server goes as a whole.
    pub async fn finish(self) {
        if self.drop_after {
            let client = connect(&self.admin_url).await;
            client
                .batch_execute(&format!("DROP SCHEMA {} CASCADE", self.schema))
                .await
                .unwrap_or_else(|error| panic!("cannot drop schema {}: {error}", self.schema));
        }
    }
}

/// How long starting the throwaway server took (`None` with `LOA_TEST_POSTGRES_URL`).
pub fn startup_time() -> Option<Duration> {
    server().started_in
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|error| panic!("cannot connect to the test server: {error}"));
    tokio::spawn(connection);
    client
}

/// `url` with every connection's `search_path` set to `schema`.
fn with_search_path(url: &str, schema: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}options=-c%20search_path%3D{schema}")
    } else {
        format!("{url} options='-c search_path={schema}'")
    }
}

struct Server {
    admin_url: String,
    external: bool,
    started_in: Option<Duration>,
    /// Never written: held so the watchdog's pipe closes only when this process ends.
    _watchdog: Option<ChildStdin>,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    match SERVER.get_or_init(start) {
        Ok(server) => server,
        Err(message) => panic!("{message}"),
    }
}

fn start() -> Result<Server, String> {
    if let Ok(url) = std::env::var(URL_VARIABLE) {
        return Ok(Server {
            admin_url: url,
            external: true,
            started_in: None,
            _watchdog: None,
        });
    }
    let started = Instant::now();
    let bin = server_binaries().ok_or_else(|| {
        format!(
            "the PostgreSQL store tests need a PostgreSQL server: no initdb and postgres in \
             /usr/lib/postgresql/*/bin. Run the tests with `cargo xtask test` (it installs \
             Debian's postgresql), or `apt-get install postgresql`, or set {URL_VARIABLE} to \
             a server to use"
        )
    })?;
    // As root the server runs as `postgres`, which must reach the directory: /tmp is
    // open to every user, a root-only TMPDIR may not be.
    let parent = match running_as_root() {
        true => PathBuf::from("/tmp"),
        false => std::env::temp_dir(),
    };
    let dir = tempfile::Builder::new()
        .prefix("loa-postgres-")
        .tempdir_in(parent)
        .map_err(|error| format!("cannot create a directory for the test server: {error}"))?
        .keep();
    // The watchdog first: whatever happens from here on, the directory goes with us.
    let watchdog = watch(&dir)?;
    let port = start_in(&bin, &dir)?;
    Ok(Server {
        admin_url: format!("postgresql://postgres@127.0.0.1:{port}/postgres"),
        external: false,
        started_in: Some(started.elapsed()),
        _watchdog: Some(watchdog),
    })
}

/// The newest `/usr/lib/postgresql/<version>/bin` holding `initdb` and `postgres`.
fn server_binaries() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            let complete = bin.join("initdb").is_file() && bin.join("postgres").is_file();
            complete.then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// PostgreSQL refuses to run as root: as root, run it as the `postgres` system user the
/// Debian package creates.
fn server_user(dir: &Path) -> Result<Option<(u32, u32)>, String> {
    if !running_as_root() {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd")
        .map_err(|error| format!("cannot read /etc/passwd: {error}"))?;
    let ids = passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.first() == Some(&"postgres") && fields.len() > 3)
        .and_then(|fields| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
        .ok_or("running as root, and there is no `postgres` user to run the test server as")?;
    std::os::unix::fs::chown(dir, Some(ids.0), Some(ids.1))
        .map_err(|error| format!("cannot hand {} to postgres: {error}", dir.display()))?;
    Ok(Some(ids))
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| output.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

fn as_user(command: &mut Command, user: Option<(u32, u32)>) -> &mut Command {
    if let Some((uid, gid)) = user {
        // std drops root's supplementary groups when it changes the uid.
        command.uid(uid).gid(gid);
    }
    command
}

/// Creates the cluster in `dir/data` and starts it; returns its port.
fn start_in(bin: &Path, dir: &Path) -> Result<u16, String> {
    let user = server_user(dir)?;
    let data = dir.join("data");
    init_cluster(bin, &data, user)?;
    // A port can be taken between probing and binding (another test binary): try again.
    let mut last_error = String::new();
    for _ in 0..5 {
        let port = free_port()?;
        match run_server(bin, dir, &data, port, user) {
            Ok(()) => return Ok(port),
            Err(error) => last_error = error,
        }
    }
    Err(last_error)
}

fn init_cluster(bin: &Path, data: &Path, user: Option<(u32, u32)>) -> Result<(), String> {
    let base = [
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--no-sync",
        "--locale=C.UTF-8",
    ];
    // ICU's root collation does not sort in byte order ("a" < "B"), as most production
    // clusters; the store must not depend on the cluster's collation. Older servers
    // without ICU get the plain cluster.
    let icu = ["--locale-provider=icu", "--icu-locale=und"];
    let mut failure = String::new();
    for extra in [&icu[..], &[]] {
        let _ = std::fs::remove_dir_all(data);
        let output = as_user(&mut initdb(bin), user)
            .arg("-D")
            .arg(data)
            .args(base)
            .args(extra)
            .output()
            .map_err(|error| format!("cannot run initdb: {error}"))?;
        if output.status.success() {
            return Ok(());
        }
        failure = String::from_utf8_lossy(&output.stderr).into_owned();
    }
    Err(format!("initdb failed: {failure}"))
}

/// `initdb`, killed if this process dies while it runs (the watchdog then removes the
/// directory, and an orphaned initdb would write it again).
fn initdb(bin: &Path) -> Command {
    let setpriv = Path::new("/usr/bin/setpriv");
    if !setpriv.is_file() {
        return Command::new(bin.join("initdb"));
    }
    let mut command = Command::new(setpriv);
    command
        .args(["--pdeathsig", "KILL", "--"])
        .arg(bin.join("initdb"));
    command
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|error| format!("no free loopback port: {error}"))
}

/// Starts `postgres` on `port` and waits until it accepts connections.
fn run_server(
    bin: &Path,
    dir: &Path,
    data: &Path,
    port: u16,
    user: Option<(u32, u32)>,
) -> Result<(), String> {
    let log_path = dir.join(format!("postgres-{port}.log"));
    let log = std::fs::File::create(&log_path)
        .map_err(|error| format!("cannot create {}: {error}", log_path.display()))?;
    let mut server = as_user(&mut Command::new(bin.join("postgres")), user)
        .arg("-D")
        .arg(data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(dir)
        // Durability is pointless for a cluster deleted at exit; speed is not.
        .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
        .args(["-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
        .args(["-c", "max_connections=300"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        // Its own process group: Ctrl-C on the tests does not race the watchdog.
        .process_group(0)
        .spawn()
        .map_err(|error| format!("cannot start postgres: {error}"))?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = server.try_wait() {
            let mut log = String::new();
            let _ =
                std::fs::File::open(&log_path).and_then(|mut file| file.read_to_string(&mut log));
            return Err(format!("postgres exited ({status}) on port {port}:\n{log}"));
        }
        let ready = Command::new(bin.join("pg_isready"))
            .args([
                "-q",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-p",
                &port.to_string(),
            ])
            .status()
            .map(|status| status.success())
            .unwrap_or(false);
        if ready {
            return Ok(());
        }
        if Instant::now() > deadline {
            let _ = server.kill();
            return Err(format!(
                "postgres did not accept connections within {START_TIMEOUT:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts the watchdog that, once this process is gone, stops the server running in
/// `dir` (if any) and removes `dir`.
fn watch(dir: &Path) -> Result<ChildStdin, String> {
    // `read` returns at end of input, when the pipe's only writer, this process, ends.
    // The server's pid is the first line of postmaster.pid. SIGQUIT is PostgreSQL's
    // immediate shutdown; the server removes postmaster.pid as it exits (its process may
    // linger as a zombie until a slow init reaps it), and gets 10 s to do so.
    let script = r#"read _unused
pid_file="$1/data/postmaster.pid"
if [ -e "$pid_file" ]; then
    kill -QUIT "$(head -n 1 "$pid_file")" 2>/dev/null
    waited=0
    while [ -e "$pid_file" ] && [ "$waited" -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
fi
rm -rf "$1""#;
    let mut watchdog = Command::new("sh")
        .args(["-c", script, "loa-postgres-watchdog"])
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: Ctrl-C on the tests does not stop it before it cleans up.
        .process_group(0)
        .spawn()
        .map_err(|error| format!("cannot start the test server's watchdog: {error}"))?;
    watchdog
        .stdin
        .take()
        .ok_or_else(|| "the watchdog has no stdin".to_owned())
}
