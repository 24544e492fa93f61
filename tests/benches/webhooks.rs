//! Webhook acknowledge latency of `loa serve`, on SQLite and then on PostgreSQL in the
//! same run: signed Telegram updates posted by the open-loop generator
//! ([`loa_e2e::load`]) at a fixed rate, each one's latency measured from its scheduled
//! time to its whole `200` answer. What one webhook costs: the channel lookup, the
//! `telegram` plugin's secret check in the sandbox, the durable inbox write, the answer.
//! The rest of the host runs as in production meanwhile: the inbox workers answer every
//! update from the FAQ and the dispatcher sends the replies to a stub Bot API.
//!
//! ```text
//! cargo bench -p loa-e2e --bench webhooks
//! ```
//!
//! Two measurements per store: `LOA_BENCH_RATE` updates a second (default 2,000) for
//! `LOA_BENCH_SECS` seconds (default 30) after a 2 s warm-up; then a step search for the
//! highest rate whose p99 stays within 10 ms, `LOA_BENCH_STEP_SECS` (default 10) per step,
//! doubling from `LOA_BENCH_SEARCH_FROM` (default 1,000) until a step fails, then halving
//! the gap. `LOA_BENCH_SEARCH=0` skips the search; `LOA_BENCH_STORES=sqlite` (or
//! `postgres`) measures one store only; `LOA_BENCH_CONNECTIONS` (default 40, Telegram's
//! default `max_connections`) sets the keep-alive connections the updates arrive on;
//! `LOA_BENCH_HOST_CONFIG` is appended to the host's `loa.toml` (e.g.
//! `"[pipeline]\nworkers = 8\n"`). After each measurement the host works off what it
//! queued, so every step starts from an idle host; the row shows that backlog (updates and
//! replies still queued when the last update was acknowledged) and how long it took: a
//! host that acknowledges fast but answers slower than the updates arrive shows it there.
//!
//! The binary is the release build (`cargo build --release -p loa`, made on first use, see
//! [`loa_e2e::loa_binary`]) or `$LOA_BIN`. The PostgreSQL server is the tests' throwaway
//! one (`host/tests/common/postgres.rs`: `fsync=off`, `synchronous_commit=off`), or
//! `LOA_TEST_POSTGRES_URL`; SQLite runs as shipped (WAL, `synchronous = NORMAL`).

// Shared with the host's store tests and the e2e tests (one throwaway server helper).
#[path = "../../host/tests/common/postgres.rs"]
mod postgres;

use std::time::{Duration, Instant};

use loa_e2e::accounts::{DEMO_OWNER, admin_config, create_user, login};
use loa_e2e::load::{self, LoadConfig, Post, Report, Target};
use loa_e2e::serve::Server;
use loa_e2e::stubs::telegram::TelegramApi;
use loa_e2e::{channels, finish, http, loa, workspace_root};
use serde_json::json;

const BOT_TOKEN: &str = "123456789:AAE-bench_stub-token";
const WEBHOOK_SECRET: &str = "tg-bench_secret";
const CHANNEL: &str = "tg-may";
/// An exact FAQ question: every update is answered, in one message.
const QUESTION: &str = "shop có ship COD không?";
/// Updates come from this many chats (a customer's updates are worked in order).
const CHATS: i64 = 1000;
/// The goal of the step search: a Telegram or Meta server waits far longer, but a
/// webhook that answers slower than this holds a connection the provider wants back.
const P99_GOAL: Duration = Duration::from_millis(10);
const WARM_UP: Duration = Duration::from_secs(2);
/// Connections the provider keeps open to the host, each with one update in flight:
/// Telegram's default `max_connections` of `setWebhook` (1 to 100, default 40). With fewer,
/// the generator's own queue caps the rate at connections ÷ service time and its waiting
/// shows as the host's latency.
const PROVIDER_CONNECTIONS: usize = 40;
/// Longest wait for the host to work off a measurement's updates before the next one.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(120);

/// Webhooks unthrottled (the default 100/s per channel would refuse most of the load);
/// the plugin may reach the stub Bot API on loopback.
const HOST_CONFIG: &str =
    "webhook_per_channel_per_minute = 0\n\n[plugins]\nallow_private_network = true\n";

/// What to run, from the environment.
struct Settings {
    rate: f64,
    secs: u64,
    step_secs: u64,
    search_from: f64,
    search: bool,
    stores: String,
    host_config: String,
    connections: usize,
}

impl Settings {
    fn from_env() -> Self {
        let number = |name: &str, default: f64| {
            std::env::var(name)
                .ok()
                .and_then(|value| value.parse::<f64>().ok())
                .filter(|value| *value > 0.0)
                .unwrap_or(default)
        };
        Self {
            rate: number("LOA_BENCH_RATE", 2000.0),
            secs: number("LOA_BENCH_SECS", 30.0) as u64,
            step_secs: number("LOA_BENCH_STEP_SECS", 10.0) as u64,
            search_from: number("LOA_BENCH_SEARCH_FROM", 1000.0),
            search: std::env::var("LOA_BENCH_SEARCH").as_deref() != Ok("0"),
            host_config: std::env::var("LOA_BENCH_HOST_CONFIG").unwrap_or_default(),
            stores: std::env::var("LOA_BENCH_STORES").unwrap_or_else(|_| "sqlite,postgres".into()),
            connections: number("LOA_BENCH_CONNECTIONS", PROVIDER_CONNECTIONS as f64) as usize,
        }
    }
}

/// One measurement.
struct Row {
    store: &'static str,
    what: &'static str,
    rate: f64,
    posts: usize,
    p50: Duration,
    p90: Duration,
    p99: Duration,
    max: Duration,
    errors: u64,
    acked_per_sec: f64,
    /// Updates and replies still queued when the last update was acknowledged.
    backlog: u64,
    /// How long the host took to work that backlog off.
    drained: Duration,
}

impl Row {
    fn of(
        store: &'static str,
        what: &'static str,
        rate: f64,
        report: &Report,
        (backlog, drained): (u64, Duration),
    ) -> Self {
        let latencies = report.ack_latencies();
        Self {
            store,
            what,
            rate,
            posts: report.posts.len(),
            p50: load::percentile(&latencies, 0.50),
            p90: load::percentile(&latencies, 0.90),
            p99: load::percentile(&latencies, 0.99),
            max: load::percentile(&latencies, 1.0),
            errors: report.errors(),
            acked_per_sec: report.throughput(),
            backlog,
            drained,
        }
    }

    /// Held: every update acknowledged at first try, p99 within the goal.
    fn held(&self) -> bool {
        self.errors == 0 && self.p99 <= P99_GOAL
    }

    fn print(&self) {
        let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
        println!(
            "{:<9} {:<7} {:>7.0} {:>7} {:>8.2} {:>8.2} {:>8.2} {:>9.2} {:>7} {:>9.0} {:>8} {:>8.1}",
            self.store,
            self.what,
            self.rate,
            self.posts,
            ms(self.p50),
            ms(self.p90),
            ms(self.p99),
            ms(self.max),
            self.errors,
            self.acked_per_sec,
            self.backlog,
            self.drained.as_secs_f64(),
        );
    }
}

fn print_header() {
    println!(
        "{:<9} {:<7} {:>7} {:>7} {:>8} {:>8} {:>8} {:>9} {:>7} {:>9} {:>8} {:>8}",
        "store",
        "run",
        "rate/s",
        "posts",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "errors",
        "acked/s",
        "backlog",
        "drain s"
    );
}

/// The demo shop with a Telegram channel whose Bot API is a stub, served by `loa serve`.
struct Shop {
    _data: tempfile::TempDir,
    server: Server,
    _telegram: TelegramApi,
    target: Target,
    next_update_id: i64,
}

impl Shop {
    async fn start(database_url: Option<&str>, extra_config: &str) -> Shop {
        let data = tempfile::tempdir().expect("temp dir");
        let config = admin_config(&format!("{HOST_CONFIG}\n{extra_config}"));
        std::fs::write(data.path().join("loa.toml"), config).expect("write loa.toml");
        let command = || {
            let mut command = loa(data.path());
            if let Some(url) = database_url {
                command.arg("--database-url").arg(url);
            }
            command
        };
        let shop_file = workspace_root().join("samples/demo-shop/shop.toml");
        finish(command().args(["tenant", "apply"]).arg(shop_file)).success();
        let password = create_user(command(), DEMO_OWNER, "may", "owner");
        let plugin = workspace_root().join("plugins/telegram");
        assert!(
            plugin.join("plugin.wasm").is_file(),
            "plugins/telegram: run `cargo xtask build-plugins` first"
        );
        finish(command().args(["plugin", "install"]).arg(plugin)).success();
        let server = match database_url {
            None => Server::start(data.path(), std::iter::empty::<&str>()),
            Some(url) => Server::start(data.path(), ["--database-url", url]),
        };
        let token = login(server.base_url(), DEMO_OWNER, &password).await.access;
        let telegram = TelegramApi::start(BOT_TOKEN).await;
        let secrets = json!({
            "bot_token": BOT_TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
            "api_base_url": telegram.base_url,
        });
        channels::connect(server.base_url(), &token, "telegram", CHANNEL, secrets).await;
        let target = Target::new(server.base_url());
        Shop {
            _data: data,
            server,
            _telegram: telegram,
            target,
            next_update_id: 1,
        }
    }

    /// Posts `secs` seconds of new updates at `rate` a second over `connections`.
    async fn post(&mut self, rate: f64, secs: f64, connections: usize) -> Report {
        let count = (rate * secs).round() as usize;
        let posts: Vec<Post> = (0..count)
            .map(|_| {
                let update_id = self.next_update_id;
                self.next_update_id += 1;
                let chat = 800_000 + update_id % CHATS;
                let webhook =
                    load::telegram_update(CHANNEL, WEBHOOK_SECRET, update_id, chat, QUESTION);
                Post {
                    event: usize::try_from(update_id).unwrap_or(usize::MAX),
                    webhook: std::sync::Arc::new(webhook),
                }
            })
            .collect();
        let config = LoadConfig {
            connections,
            ..LoadConfig::at_rate(rate)
        };
        load::run(&self.target, posts, config).await
    }

    /// Events and replies queued now (inbox and outbox), as `/readyz` counts them.
    async fn queued(&self) -> Option<u64> {
        let url = format!("{}/readyz", self.server.base_url());
        let (status, body) = http::request("GET", &url, "").await;
        let queues = &body["queues"];
        match (status, queues["inbox"].as_u64(), queues["outbox"].as_u64()) {
            (200, Some(inbox), Some(outbox)) => Some(inbox + outbox),
            _ => None,
        }
    }

    /// Waits until the inbox and the outbox are empty; returns how long that took.
    async fn drain(&self) -> Duration {
        let started = Instant::now();
        while started.elapsed() < DRAIN_TIMEOUT {
            if self.queued().await == Some(0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        started.elapsed()
    }

    /// Posts at `rate` for `secs` seconds, then works off what is left: the run's row.
    async fn measure(
        &mut self,
        (store, what): (&'static str, &'static str),
        rate: f64,
        secs: u64,
        connections: usize,
    ) -> Row {
        let report = self.post(rate, secs as f64, connections).await;
        let backlog = self.queued().await.unwrap_or(u64::MAX);
        let drained = self.drain().await;
        Row::of(store, what, rate, &report, (backlog, drained))
    }
}

/// Measures one store: the fixed rate, then the step search.
async fn bench_store(
    store: &'static str,
    database_url: Option<&str>,
    settings: &Settings,
) -> Vec<Row> {
    let mut shop = Shop::start(database_url, &settings.host_config).await;
    let mut rows = Vec::new();
    shop.post(settings.rate, WARM_UP.as_secs_f64(), settings.connections)
        .await;
    let drained = shop.drain().await;
    eprintln!("({store}: warm-up worked off in {drained:.1?})");
    let row = shop
        .measure(
            (store, "fixed"),
            settings.rate,
            settings.secs,
            settings.connections,
        )
        .await;
    row.print();
    rows.push(row);
    if settings.search {
        let (mut held, mut failed): (Option<f64>, Option<f64>) = (None, None);
        let mut rate = settings.search_from;
        for _ in 0..8 {
            let row = shop
                .measure(
                    (store, "step"),
                    rate,
                    settings.step_secs,
                    settings.connections,
                )
                .await;
            row.print();
            if row.held() {
                held = Some(held.map_or(rate, |best: f64| best.max(rate)));
            } else {
                failed = Some(failed.map_or(rate, |worst: f64| worst.min(rate)));
            }
            rows.push(row);
            rate = match (held, failed) {
                (_, None) => rate * 2.0,
                (None, Some(failed)) => failed / 2.0,
                (Some(held), Some(failed)) => {
                    // Halfway, to the nearest 10/s; done when that is no new rate.
                    let halfway = ((held + failed) / 2.0 / 10.0).round() * 10.0;
                    if failed / held <= 1.1 || halfway <= held || halfway >= failed {
                        break;
                    }
                    halfway
                }
            };
        }
    }
    let log = shop.server.stderr();
    let problems: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("WARN") || line.contains("ERROR"))
        .collect();
    eprintln!(
        "({store}: the server logged {} lines, {} of them warnings or errors{})",
        log.lines().count(),
        problems.len(),
        if problems.is_empty() {
            ""
        } else {
            ", the first ones:"
        }
    );
    for line in problems.iter().take(5) {
        eprintln!("  {line}");
    }
    rows
}

/// The highest rate held in the search, if any step was held.
fn best_held(rows: &[Row], store: &str) -> Option<f64> {
    rows.iter()
        .filter(|row| row.store == store && row.what == "step" && row.held())
        .map(|row| row.rate)
        .reduce(f64::max)
}

async fn bench(settings: Settings) {
    eprintln!("loa binary: {}", loa_e2e::loa_binary().display());
    // The machine's load: other work on it shows in the latencies.
    let load_average = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!("load average before: {}", load_average().trim());
    print_header();
    let mut rows = Vec::new();
    if settings.stores.contains("sqlite") {
        rows.extend(bench_store("sqlite", None, &settings).await);
    }
    if settings.stores.contains("postgres") {
        let database = postgres::TestDatabase::create().await;
        rows.extend(bench_store("postgres", Some(&database.url), &settings).await);
        database.finish().await;
    }

    eprintln!("load average after: {}", load_average().trim());
    println!();
    print_header();
    for row in &rows {
        row.print();
    }
    let fixed = |store: &str| {
        rows.iter()
            .find(|row| row.store == store && row.what == "fixed")
    };
    if let (Some(sqlite), Some(postgres)) = (fixed("sqlite"), fixed("postgres")) {
        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
        println!(
            "PostgreSQL/SQLite at {:.0}/s: p50 {:.1}x, p99 {:.1}x, max {:.1}x",
            settings.rate,
            ratio(postgres.p50, sqlite.p50),
            ratio(postgres.p99, sqlite.p99),
            ratio(postgres.max, sqlite.max),
        );
    }
    if settings.search {
        let (sqlite, postgres) = (best_held(&rows, "sqlite"), best_held(&rows, "postgres"));
        let show =
            |rate: Option<f64>| rate.map_or("none".to_owned(), |rate| format!("{rate:.0}/s"));
        println!(
            "highest rate with p99 <= {P99_GOAL:?}: SQLite {}, PostgreSQL {}{}",
            show(sqlite),
            show(postgres),
            match (sqlite, postgres) {
                (Some(sqlite), Some(postgres)) =>
                    format!(" (SQLite/PostgreSQL {:.2})", sqlite / postgres),
                _ => String::new(),
            }
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; this harness takes no arguments.
    let settings = Settings::from_env();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(bench(settings));
}
