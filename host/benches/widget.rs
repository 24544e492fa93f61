//! Widget load: many visitors at once, each asking FAQ questions answered on the fast
//! path, against the whole host running in this process (HTTP, inbox workers,
//! dispatcher) on SQLite and on PostgreSQL in the same run.
//!
//! Two phases, each printing messages/s and latency (send → the bot's reply frame:
//! p50/p90/p99/max; and send → ack) per backend:
//! - closed loop: each visitor sends its next message as soon as the reply is in. This
//!   finds the most messages/s; latency is then set by the queue (Little's law: about
//!   visitors ÷ messages/s), not by the work of one message;
//! - paced: the same visitors pause about `LOA_BENCH_PAUSE_MS` between a reply and the
//!   next message, as people do; this is the latency a visitor sees below saturation,
//!   and the one the issue's target is about (reply p99 ≤ 20 ms at 200 conversations on
//!   SQLite).
//!
//! Then the inbox write rate alone: `Store::inbox_insert` from one task per conversation.
//!
//! The baseline, driven by the same clients in the same process, is a WebSocket server
//! that speaks the widget protocol but writes each answer straight back
//! (`widget/baseline.rs`); each backend's p50/p99 is also given as a multiple of the
//! baseline's in the same phase.
//!
//! ```text
//! cargo bench -p loa --bench widget
//! LOA_BENCH_CONVERSATIONS=200 LOA_BENCH_MESSAGES=20 LOA_BENCH_PAUSE_MS=1000 \
//!     LOA_BENCH_INBOX=20 cargo bench -p loa --bench widget    # the defaults
//! cargo bench -p loa --bench widget -- --test   # tiny run: every reply must arrive
//! ```
//!
//! `LOA_BENCH_PAUSE_MS=0` skips the paced phase. PostgreSQL is a throwaway server
//! (`tests/common/postgres.rs`: Debian's `postgresql` binaries, or
//! `LOA_TEST_POSTGRES_URL`) running with `fsync=off`, so its figures are without disk
//! flushes; SQLite writes a file in a temporary directory with the host's settings (WAL,
//! `synchronous=NORMAL`). `RUST_LOG` shows the host's logs (default: warnings).

#[path = "widget/baseline.rs"]
mod baseline;
#[path = "widget/inbox.rs"]
mod inbox;
#[path = "widget/load.rs"]
mod load;
#[path = "../tests/common/postgres.rs"]
mod postgres_server;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use loa::config::HostConfig;
use loa::store::Store;
use loa::store::postgres::PostgresStore;
use loa::store::sqlite::SqliteStore;
use tokio::net::{TcpListener, TcpSocket};
use tokio_util::sync::CancellationToken;

use inbox::InboxReport;
use load::{Load, LoadReport, percentile};

/// The demo shop's bot, whose FAQ answers the questions in [`load::QUESTIONS`].
const BOT: &str = "may";

/// Sizes of a run, from the environment (or tiny under `--test`).
#[derive(Debug, Clone, Copy)]
struct Settings {
    /// The closed-loop load; the paced one is the same with [`Settings::pause`].
    load: Load,
    /// Mean pause between a reply and the next message in the paced phase; none: no
    /// paced phase.
    pause: Option<Duration>,
    /// Inserts per task in the inbox write test (as many tasks as conversations).
    inbox_per_task: usize,
    /// `--test`: a tiny run that checks every reply arrives; figures mean nothing.
    test: bool,
}

impl Settings {
    fn from_environment() -> Settings {
        let arguments: Vec<String> = std::env::args().collect();
        // `cargo bench` passes --bench; `cargo test --benches` does not (it may pass --test).
        let test = arguments.iter().any(|argument| argument == "--test")
            || !arguments.iter().any(|argument| argument == "--bench");
        if test {
            return Settings {
                load: Load {
                    conversations: 5,
                    messages: 2,
                    pause: Duration::ZERO,
                },
                pause: Some(Duration::from_millis(10)),
                inbox_per_task: 2,
                test,
            };
        }
        // 1 s: already faster than anyone types, half the widget's default rate limit.
        let pause_ms = variable("LOA_BENCH_PAUSE_MS", 1_000, 0);
        Settings {
            load: Load {
                conversations: variable("LOA_BENCH_CONVERSATIONS", 200, 1),
                messages: variable("LOA_BENCH_MESSAGES", 20, 1),
                pause: Duration::ZERO,
            },
            pause: (pause_ms > 0).then(|| Duration::from_millis(pause_ms as u64)),
            inbox_per_task: variable("LOA_BENCH_INBOX", 20, 1),
            test,
        }
    }
}

/// A whole number of at least `least` from the environment variable `name`, else `default`.
fn variable(name: &str, default: usize, least: usize) -> usize {
    match std::env::var(name) {
        Err(_) => default,
        Ok(value) => match value.parse() {
            Ok(count) if count >= least => count,
            _ => panic!("{name}={value:?}: expected a whole number of at least {least}"),
        },
    }
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let settings = Settings::from_environment();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(settings));
}

/// One load against the baseline and both backends.
struct Phase {
    title: String,
    baseline: LoadReport,
    /// SQLite's, then PostgreSQL's.
    backends: [(&'static str, LoadReport); 2],
}

async fn run(settings: Settings) {
    let Load {
        conversations,
        messages,
        ..
    } = settings.load;
    println!(
        "widget: {conversations} conversations × {messages} messages (+1 warm-up each); \
         inbox: {conversations} tasks × {} inserts",
        settings.inbox_per_task
    );
    let directory = tempfile::tempdir().expect("temporary directory");
    let database = |name: &str| directory.path().join(format!("{name}.db"));
    let closed = "closed loop: the next message as soon as the reply is in (saturation)";
    let mut phases = vec![run_phase(closed.to_owned(), settings.load, &database("closed")).await];
    if let Some(pause) = settings.pause {
        let paced = Load {
            pause,
            ..settings.load
        };
        let title = format!(
            "paced: ~{} ms between a reply and the next message",
            pause.as_millis()
        );
        phases.push(run_phase(title, paced, &database("paced")).await);
    }
    let inbox_sqlite = run_inbox(sqlite_store(&database("inbox")), settings).await;
    let (postgres, postgres_database) = postgres_store().await;
    let inbox_postgres = run_inbox(postgres, settings).await;
    postgres_database.finish().await;
    let inboxes = [("SQLite", inbox_sqlite), ("PostgreSQL", inbox_postgres)];

    for phase in &phases {
        print_phase(phase);
    }
    print_inbox(&inboxes);
    let lost = phases.iter().any(|phase| {
        phase.baseline.lost > 0 || phase.backends.iter().any(|(_, report)| report.lost > 0)
    });
    let failed = inboxes.iter().any(|(_, report)| report.failed > 0);
    assert!(
        !lost && !failed,
        "replies or inserts were lost (see above); the figures are not trustworthy"
    );
    if settings.test {
        println!("widget bench: every reply arrived (test run, figures not meaningful)");
    }
}

/// `load` against the baseline, the host on SQLite (a new database at `sqlite_path`) and
/// the host on PostgreSQL (a new schema).
async fn run_phase(title: String, load: Load, sqlite_path: &Path) -> Phase {
    let baseline = run_baseline(load).await;
    let on_sqlite = run_host(sqlite_store(sqlite_path), load).await;
    let (postgres, database) = postgres_store().await;
    let on_postgres = run_host(postgres, load).await;
    database.finish().await;
    Phase {
        title,
        baseline,
        backends: [("SQLite", on_sqlite), ("PostgreSQL", on_postgres)],
    }
}

/// A new SQLite database at `path`.
fn sqlite_store(path: &Path) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(path).expect("SQLite store"))
}

/// A new schema on the throwaway PostgreSQL server, with the host's default pool size.
async fn postgres_store() -> (Arc<dyn Store>, postgres_server::TestDatabase) {
    let database = postgres_server::TestDatabase::create().await;
    let pool_size = HostConfig::default().database.pool_size;
    let store = PostgresStore::connect(&database.url, pool_size)
        .await
        .expect("PostgreSQL store");
    (Arc::new(store), database)
}

/// A loopback listener with room for every visitor connecting at once (`TcpListener::bind`
/// may queue fewer, and a dropped connect waits a 1 s SYN retransmit).
fn listen() -> TcpListener {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("bind loopback");
    socket.listen(4_096).expect("listen")
}

async fn run_baseline(load: Load) -> LoadReport {
    let shutdown = CancellationToken::new();
    let address = baseline::spawn(listen(), shutdown.clone());
    let report = load::drive(&format!("ws://{address}/ws"), load).await;
    shutdown.cancel();
    report
}

/// The demo shop on `store`, the host serving it, and `load` against its widget socket.
async fn run_host(store: Arc<dyn Store>, load: Load) -> LoadReport {
    let shop = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/demo-shop/shop.toml");
    loa::conversation::shop_file::apply(&*store, &shop)
        .await
        .expect("the demo shop applies");
    let mut config = HostConfig::default();
    // The visitor rate limit (2/s) would measure the limiter, not the host.
    config.widget.messages_per_second = 1_000_000;
    config.widget.burst = 1_000_000;
    let listener = listen();
    let address = listener.local_addr().expect("host address");
    let shutdown = CancellationToken::new();
    let key = loa::auth::MasterKey::generate().expect("a random key");
    let auth = Arc::new(loa::auth::AuthService::new(
        Arc::clone(&store),
        &key,
        config.auth.clone(),
    ));
    let host = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { loa::serve::serve(&config, store, auth, None, None, listener, shutdown).await }
    });
    let report = load::drive(&format!("ws://{address}/v1/widget/{BOT}/ws"), load).await;
    shutdown.cancel();
    host.await
        .expect("host task panicked")
        .expect("host stopped cleanly");
    report
}

async fn run_inbox(store: Arc<dyn Store>, settings: Settings) -> InboxReport {
    inbox::insert_rate(store, settings.load.conversations, settings.inbox_per_task).await
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn print_phase(phase: &Phase) {
    let ratio =
        |value: Duration, base: Duration| milliseconds(value) / milliseconds(base).max(1e-6);
    let (base_p50, base_p99) = (
        percentile(&phase.baseline.reply, 0.50),
        percentile(&phase.baseline.reply, 0.99),
    );
    println!();
    println!("{}", phase.title);
    println!(
        "  {:<11} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>5}",
        "",
        "msg/s",
        "ack p50",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "p50×base",
        "p99×base",
        "lost"
    );
    let rows = std::iter::once(("baseline", &phase.baseline))
        .chain(phase.backends.iter().map(|(name, report)| (*name, report)));
    for (name, report) in rows {
        let (p50, p99) = (
            percentile(&report.reply, 0.50),
            percentile(&report.reply, 0.99),
        );
        println!(
            "  {:<11} {:>8.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9.1} {:>9.1} {:>5}",
            name,
            report.messages_per_second(),
            milliseconds(percentile(&report.ack, 0.50)),
            milliseconds(p50),
            milliseconds(percentile(&report.reply, 0.90)),
            milliseconds(p99),
            milliseconds(percentile(&report.reply, 1.0)),
            ratio(p50, base_p50),
            ratio(p99, base_p99),
            report.lost,
        );
        for problem in report.problems.iter().take(5) {
            println!("    {problem}");
        }
    }
}

fn print_inbox(inboxes: &[(&str, InboxReport)]) {
    println!();
    println!("inbox writes alone (Store::inbox_insert from one task per conversation)");
    for (name, report) in inboxes {
        println!(
            "  {:<11} {:>8.0} inserts/s ({} in {:.2} s, {} failed)",
            name,
            report.per_second(),
            report.inserted,
            report.elapsed.as_secs_f64(),
            report.failed
        );
        if let Some(problem) = &report.problem {
            println!("    first failure: {problem}");
        }
    }
}
