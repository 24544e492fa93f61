//! What the knowledge tier costs, in one run, each figure next to a baseline measured in
//! the same process:
//!
//! 1. raw embedding throughput: `Embedder::embed` of one query per call (as a turn has)
//!    over the 120 public evaluation queries — the baseline; also of each query as the
//!    fast path rewrites it before embedding (like for like);
//! 2. the whole fast path, `Orchestrator::answer`, on the same queries with the demo
//!    shop's FAQ and documents synced: queries/s, its ratio to (1) (target ≥ 0.70) and
//!    p50/p99 per query. All alternate query by query (`knowledge/turns.rs`). Queries the
//!    exact FAQ match answers skip the embedder; the table says how many (and, if any,
//!    gives the ratio without them). Every ~10 s a turn also reloads the bot's cached
//!    knowledge (its TTL), as in production: that lands in p99;
//! 3. `MemoryIndex::search` latency (limit 10) over random unit vectors: 1k, 10k and 100k
//!    points in one partition, and 100 tenants × 1k loaded at once with one partition
//!    searched (always the same one, or each in turn), with criterion and with single
//!    timed searches for p50/p99; plus the memory the vectors take (384 × 4 bytes each;
//!    and, as a cross-check, the resident memory the largest partition added);
//! 4. importing the demo shop: the first `Knowledge::sync` (every text embedded, in
//!    batches), texts/s, and a second sync with nothing changed.
//!
//! ```text
//! cargo bench -p loa --bench knowledge
//! LOA_BENCH_ROUNDS=3 LOA_BENCH_SEARCHES=2000 LOA_BENCH_MAX_POINTS=100000 \
//!     LOA_BENCH_TENANTS=100 cargo bench -p loa --bench knowledge     # the defaults
//! LOA_BENCH_QUICK=1 cargo bench -p loa --bench knowledge    # smoke run, about a minute
//! cargo bench -p loa --bench knowledge -- --test            # tiny run: everything works
//! ```
//!
//! `LOA_BENCH_QUICK=1` means 1 round, 200 searches, 10k points at most (10 tenants) and
//! short criterion runs; the other variables still override it. The model comes from
//! `cargo xtask fetch-model` (`LOA_MODEL_DIR`, `LOA_ORT_DYLIB`), the data from
//! `samples/demo-shop/eval` and `docs` (`LOA_BENCH_DATA` for another copy). `RUST_LOG` shows the host's
//! logs (default: warnings).

#[path = "knowledge/search.rs"]
mod search;
#[path = "knowledge/shop.rs"]
mod shop;
#[path = "knowledge/summary.rs"]
mod summary;
#[path = "knowledge/turns.rs"]
mod turns;

use std::time::{Duration, SystemTime};

use criterion::Criterion;
use loa::knowledge::eval::read_queries;

use search::{Scenario, SearchReport};
use summary::{print_import, print_searches, print_turns, short};

/// Points in each tenant's partition in the many-tenant scenarios.
const TENANT_POINTS: usize = 1_000;

/// Sizes of a run, from the environment (or tiny under `--test`).
#[derive(Debug, Clone)]
struct Settings {
    /// Timed passes over the queries.
    rounds: usize,
    /// Queries used, from the start of the file.
    queries: usize,
    /// Single-partition sizes searched.
    sizes: Vec<usize>,
    /// Tenants loaded at once in the many-tenant scenarios.
    tenants: usize,
    /// Points per tenant there.
    tenant_points: usize,
    /// Single searches timed per scenario for p50/p99.
    searches: usize,
    /// Short criterion runs.
    quick: bool,
    /// `--test`: a tiny run that checks everything works; figures mean nothing.
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
                rounds: 1,
                queries: 10,
                sizes: vec![1_000],
                tenants: 3,
                tenant_points: 100,
                searches: 20,
                quick: true,
                test,
            };
        }
        let quick = std::env::var("LOA_BENCH_QUICK").is_ok_and(|value| value != "0");
        let max_points = variable(
            "LOA_BENCH_MAX_POINTS",
            if quick { 10_000 } else { 100_000 },
            1,
        );
        let mut sizes: Vec<usize> = [1_000, 10_000, 100_000]
            .into_iter()
            .filter(|&size| size <= max_points)
            .collect();
        if sizes.is_empty() {
            sizes.push(max_points);
        }
        let tenant_points = TENANT_POINTS.min(max_points);
        Settings {
            rounds: variable("LOA_BENCH_ROUNDS", if quick { 1 } else { 3 }, 1),
            queries: usize::MAX,
            sizes,
            tenants: variable(
                "LOA_BENCH_TENANTS",
                (max_points / tenant_points).clamp(1, 100),
                1,
            ),
            tenant_points,
            searches: variable("LOA_BENCH_SEARCHES", if quick { 200 } else { 2_000 }, 1),
            quick,
            test,
        }
    }

    fn scenarios(&self) -> Vec<Scenario> {
        let mut scenarios: Vec<Scenario> = self
            .sizes
            .iter()
            .map(|&size| Scenario {
                name: format!("{}_points", short(size)),
                partitions: 1,
                points_per_partition: size,
                rotate: false,
            })
            .collect();
        for rotate in [false, true] {
            scenarios.push(Scenario {
                name: format!(
                    "{}_tenants_x_{}_{}",
                    self.tenants,
                    short(self.tenant_points),
                    if rotate { "rotating" } else { "same_tenant" }
                ),
                partitions: self.tenants,
                points_per_partition: self.tenant_points,
                rotate,
            });
        }
        scenarios
    }

    fn criterion(&self) -> Criterion {
        let criterion = Criterion::default();
        let criterion = if self.quick {
            criterion
                .sample_size(10)
                .warm_up_time(Duration::from_millis(300))
                .measurement_time(Duration::from_secs(1))
        } else {
            criterion
        };
        criterion.configure_from_args()
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
    let started = SystemTime::now();
    let settings = Settings::from_environment();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");

    println!("knowledge: importing the demo shop and loading the model");
    let shop = runtime.block_on(shop::import());
    let queries_path = shop::data_dir().join("faq-eval-public.jsonl");
    let queries: Vec<String> = read_queries(&queries_path)
        .unwrap_or_else(|error| panic!("{error}"))
        .into_iter()
        .take(settings.queries)
        .map(|query| query.query)
        .collect();
    println!(
        "knowledge: {} queries × {} rounds, raw embeds and Orchestrator::answer interleaved",
        queries.len(),
        settings.rounds
    );
    let turns = runtime.block_on(turns::measure(&shop, &queries, settings.rounds));
    let import = shop.import.clone();
    // The model and its buffers are not needed for the index figures.
    drop(shop);

    let mut criterion = settings.criterion();
    let searches: Vec<SearchReport> = settings
        .scenarios()
        .iter()
        .map(|scenario| search::run(&runtime, &mut criterion, scenario, settings.searches))
        .collect();
    criterion.final_summary();

    println!();
    println!("== knowledge bench summary ==");
    print_turns(&turns);
    print_searches(&searches, started);
    print_import(&import);
    if settings.test {
        println!("knowledge bench: everything ran (test run, figures not meaningful)");
    }
}
