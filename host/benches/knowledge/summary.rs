//! The printed summary of a knowledge bench run: the turn table with the fast path's
//! ratio to raw embedding, the search table with criterion's medians next to the single
//! searches' p50/p99, and the import figures.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::search::{self, SearchReport};
use super::shop::ImportReport;
use super::turns::{Sample, TurnReport};

/// The fast path must keep at least this share of the raw model's throughput.
const TARGET_RATIO: f64 = 0.70;

/// `1000` → `1k`, `100000` → `100k`.
pub fn short(count: usize) -> String {
    if count >= 1_000 && count.is_multiple_of(1_000) {
        format!("{}k", count / 1_000)
    } else {
        count.to_string()
    }
}

/// The nearest-rank percentile of `sorted` (`fraction` in 0..=1).
fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn sorted(durations: &[Duration]) -> Vec<Duration> {
    let mut sorted = durations.to_vec();
    sorted.sort_unstable();
    sorted
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// The fast path against raw embedding: rates, p50/p99, the ratio and what the
/// orchestrator did with the queries.
pub fn print_turns(turns: &TurnReport) {
    println!(
        "fast path vs raw embedding: {} queries × {} rounds, one query per call \
         (mean {:.0} chars as typed, {:.0} analysed)",
        turns.queries, turns.rounds, turns.typed_chars, turns.analysed_chars
    );
    println!(
        "  {:<44} {:>6} {:>8} {:>8} {:>8} {:>8}",
        "", "turns", "per s", "p50 ms", "p99 ms", "mean ms"
    );
    let all = |_: &Sample| true;
    let past_exact = |sample: &Sample| !sample.exact;
    let typed = |sample: &Sample| sample.typed;
    let analysed = |sample: &Sample| sample.analysed;
    let answer = |sample: &Sample| sample.answer;
    let mut rows = vec![
        (
            "raw embed, query as typed (baseline)",
            turns.durations(all, typed),
        ),
        (
            "raw embed, analysed query (like for like)",
            turns.durations(all, analysed),
        ),
        (
            "Orchestrator::answer (fast path)",
            turns.durations(all, answer),
        ),
    ];
    if turns.exact > 0 {
        rows.push((
            "raw embed as typed, past exact match",
            turns.durations(past_exact, typed),
        ));
        rows.push((
            "answer, past exact match",
            turns.durations(past_exact, answer),
        ));
    }
    for (name, durations) in &rows {
        let sorted = sorted(durations);
        let total: Duration = durations.iter().sum();
        println!(
            "  {:<44} {:>6} {:>8.1} {:>8.2} {:>8.2} {:>8.2}",
            name,
            durations.len(),
            TurnReport::per_second(durations),
            milliseconds(percentile(&sorted, 0.50)),
            milliseconds(percentile(&sorted, 0.99)),
            milliseconds(total) / durations.len().max(1) as f64,
        );
    }
    let rate = |row: usize| TurnReport::per_second(&rows[row].1);
    let ratio = rate(2) / rate(0);
    println!(
        "  ratio fast path / raw embed: {ratio:.2} (target ≥ {TARGET_RATIO:.2}: {}); \
         against the analysed query's embed: {:.2}{}",
        if ratio >= TARGET_RATIO {
            "met"
        } else {
            "NOT met"
        },
        rate(2) / rate(1),
        if turns.exact > 0 {
            format!("; past exact match only: {:.2}", rate(4) / rate(3))
        } else {
            String::new()
        }
    );
    let tiers: Vec<String> = turns
        .tiers
        .iter()
        .map(|(tier, count)| format!("{tier} {count}"))
        .collect();
    println!(
        "  exact FAQ match (no embedding): {} of {} queries; answered by: {}",
        turns.exact,
        turns.queries,
        tiers.join(", ")
    );
}

/// The search table, criterion's medians written after `since` beside the single
/// searches' percentiles, and the memory the largest partition's vectors take.
pub fn print_searches(searches: &[SearchReport], since: SystemTime) {
    println!();
    println!("vector search: MemoryIndex::search, limit 10, random 384-d unit vectors");
    println!(
        "  {:<32} {:>7} {:>8} {:>9} {:>9} {:>9} {:>11}",
        "", "points", "searched", "p50 µs", "p99 µs", "crit. µs", "vectors MB"
    );
    let megabytes = |bytes: usize| bytes as f64 / 1e6;
    for report in searches {
        let criterion = criterion_median_us(&report.name, since)
            .map_or_else(|| "-".to_owned(), |median| format!("{median:.1}"));
        println!(
            "  {:<32} {:>7} {:>8} {:>9.1} {:>9.1} {:>9} {:>11.1}",
            report.name,
            report.points,
            report.searched,
            percentile(&report.latencies, 0.50).as_secs_f64() * 1e6,
            percentile(&report.latencies, 0.99).as_secs_f64() * 1e6,
            criterion,
            megabytes(report.vector_bytes),
        );
    }
    if let Some(largest) = searches
        .iter()
        .filter(|report| report.searched == report.points)
        .max_by_key(|report| report.points)
    {
        println!(
            "  memory of {} vectors: 384 × 4 B × {} = {:.1} MB ({:.1} MiB), before ids and maps",
            short(largest.points),
            largest.points,
            megabytes(largest.vector_bytes),
            largest.vector_bytes as f64 / (1u64 << 20) as f64
        );
        // Only the largest: smaller loads reuse memory earlier scenarios freed, so their
        // growth says more about the allocator than about the index.
        if let Some(growth) = largest.rss_growth {
            println!(
                "  resident memory added while loading them (vectors, ids, maps): {:.1} MB",
                megabytes(growth)
            );
        }
    }
    println!(
        "  (p50/p99: {} single timed searches each; crit.: criterion's median per search)",
        searches.first().map_or(0, |report| report.latencies.len())
    );
}

/// What importing the demo shop cost.
pub fn print_import(import: &ImportReport) {
    let (first, first_time) = &import.first;
    let (second, second_time) = &import.second;
    println!();
    println!(
        "import of the demo shop: {} FAQ entries + {} documents",
        import.faq_entries, import.documents
    );
    println!(
        "  model load (once per process)   {:>10.2} ms",
        milliseconds(import.model_load)
    );
    println!(
        "  first embed after load          {:>10.2} ms",
        milliseconds(import.first_embed)
    );
    println!(
        "  read, chunk and store the files {:>10.2} ms",
        milliseconds(import.store_writes)
    );
    for (role, count, mean) in &import.texts_by_role {
        println!(
            "  texts embedded as {:<13} {:>10} of {:.0} chars on average",
            format!("{role:?}"),
            count,
            mean
        );
    }
    println!(
        "  first sync                      {:>10.2} ms  {} units, {} embedded, {} indexed: {:.1} texts/s",
        milliseconds(*first_time),
        first.units,
        first.embedded,
        first.indexed,
        import.texts_per_second()
    );
    println!(
        "  second sync (nothing changed)   {:>10.2} ms  {} units, {} embedded, {} indexed",
        milliseconds(*second_time),
        second.units,
        second.embedded,
        second.indexed
    );
}

/// Where criterion writes its results: `$CRITERION_HOME`, else `<target dir>/criterion`
/// (criterion's own order; the target dir is found from this binary's path, which is
/// `<target dir>/<profile>/deps/<bench>`, when `CARGO_TARGET_DIR` is not set).
fn criterion_home() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Some(home.into());
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(target).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.ancestors().nth(3)?.join("criterion"))
}

/// Criterion's latest median for `function` in µs, if written after `since` (a filtered
/// or `--test` run leaves older files, which must not be reported).
fn criterion_median_us(function: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_home()?
        .join(search::GROUP)
        .join(function)
        .join("new/estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let estimates: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    Some(estimates["median"]["point_estimate"].as_f64()? / 1_000.0)
}
