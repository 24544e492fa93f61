//! `MemoryIndex::search` (limit 10, any kind) over random 384-long unit vectors: one
//! partition of each size, and many tenants' partitions loaded at once with one searched.
//! Criterion gives its usual estimates; a plain loop of single searches gives the p50/p99
//! criterion's per-sample means cannot.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};
use loa::knowledge::embedder::DIMENSION;
use loa::knowledge::vector::{MemoryIndex, Partition, PointKind, VectorIndex, VectorPoint};

/// Hits per search: the usual top-k (retrieval itself asks for 256 to score every FAQ
/// entry; selecting more of them costs little next to the scan).
const LIMIT: usize = 10;
/// Points per upsert while loading: small batches keep the loader's own copies from
/// doubling the peak memory (and the RSS figure).
const LOAD_BATCH: usize = 1_000;
/// Distinct query vectors, cycled: enough that no single query's answer stays in cache.
const QUERIES: usize = 64;
/// Points per partition from which a search takes a millisecond or more: criterion's
/// default linear sampling (1, 2, 3 … iterations per sample) would need more than its
/// measurement time, so every sample runs the same number of searches instead.
const FLAT_SAMPLING_FROM: usize = 10_000;
/// Fixed seed: every run searches the same points with the same queries.
const SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// The criterion group; its estimates land in `<criterion home>/knowledge_search/<name>`.
pub const GROUP: &str = "knowledge_search";

/// xorshift64*: a few lines instead of a `rand` dependency, good enough for test vectors.
pub struct XorShift(u64);

impl XorShift {
    /// A generator from a non-zero seed.
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [-1, 1), from the top 24 bits (an f32's mantissa).
    fn next_signed(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    /// A random vector of unit length, as the embedder's are.
    pub fn unit_vector(&mut self) -> Vec<f32> {
        let mut vector: Vec<f32> = (0..DIMENSION).map(|_| self.next_signed()).collect();
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        vector.iter_mut().for_each(|x| *x /= norm);
        vector
    }
}

/// One search set-up: which partitions hold how many points, and which are searched.
pub struct Scenario {
    /// Criterion function name and table label.
    pub name: String,
    /// Partitions loaded.
    pub partitions: usize,
    /// Points in each.
    pub points_per_partition: usize,
    /// Search the partitions in turn (each search reads a partition other searches have
    /// not just pulled into cache, as on a host serving many shops) or always the first.
    pub rotate: bool,
}

impl Scenario {
    /// Points loaded in all.
    pub fn points(&self) -> usize {
        self.partitions * self.points_per_partition
    }

    /// Bytes of vector data: 384 × 4 bytes per point (ids and maps come on top).
    pub fn vector_bytes(&self) -> usize {
        self.points() * DIMENSION * std::mem::size_of::<f32>()
    }
}

/// What one scenario measured.
pub struct SearchReport {
    /// Its label.
    pub name: String,
    /// Points loaded in all.
    pub points: usize,
    /// Points in the searched partition.
    pub searched: usize,
    /// Computed vector bytes.
    pub vector_bytes: usize,
    /// Resident memory the process gained while loading (vectors, ids, maps), if Linux
    /// said; less than the truth when the load reused memory an earlier one freed.
    pub rss_growth: Option<usize>,
    /// Single searches, sorted.
    pub latencies: Vec<Duration>,
}

fn partition(index: usize) -> Partition {
    Partition::new(format!("tenant-{index:03}"), "bot")
}

/// An index holding `scenario`'s random points, and the process's RSS growth meanwhile.
async fn load(scenario: &Scenario, random: &mut XorShift) -> (MemoryIndex, Option<usize>) {
    let before = resident_bytes();
    let index = MemoryIndex::new(DIMENSION);
    for tenant in 0..scenario.partitions {
        let partition = partition(tenant);
        let mut next = 0;
        while next < scenario.points_per_partition {
            let end = (next + LOAD_BATCH).min(scenario.points_per_partition);
            let points = (next..end)
                .map(|position| VectorPoint {
                    id: format!("chunk:doc-{}:{position}", position / 20),
                    kind: PointKind::Chunk,
                    item_id: format!("doc-{}", position / 20),
                    vector: random.unit_vector(),
                })
                .collect();
            index.upsert(&partition, points).await.expect("upsert");
            next = end;
        }
    }
    let growth = resident_bytes()
        .zip(before)
        .map(|(after, before)| after.saturating_sub(before));
    (index, growth)
}

/// Loads `scenario`, runs criterion on it, then times `searches` single searches.
pub fn run(
    runtime: &tokio::runtime::Runtime,
    criterion: &mut Criterion,
    scenario: &Scenario,
    searches: usize,
) -> SearchReport {
    let mut random = XorShift::new(SEED);
    let (index, rss_growth) = runtime.block_on(load(scenario, &mut random));
    let queries: Vec<Vec<f32>> = (0..QUERIES).map(|_| random.unit_vector()).collect();
    let partitions: Vec<Partition> = (0..scenario.partitions).map(partition).collect();
    // 997 is prime: this stride visits every partition for any tenant count below it.
    let target = |call: usize| {
        if scenario.rotate {
            &partitions[(call * 997) % partitions.len()]
        } else {
            &partitions[0]
        }
    };
    let search = |call: usize| {
        let index = &index;
        let query = &queries[call % QUERIES];
        let partition = target(call);
        async move {
            let hits = index
                .search(partition, query, None, LIMIT)
                .await
                .expect("search");
            debug_assert_eq!(hits.len(), LIMIT.min(scenario.points_per_partition));
            hits
        }
    };

    let mut group = criterion.benchmark_group(GROUP);
    if scenario.points_per_partition >= FLAT_SAMPLING_FROM {
        group.sampling_mode(SamplingMode::Flat);
    }
    let mut calls = 0usize;
    group.bench_function(&scenario.name, |b| {
        b.to_async(runtime).iter(|| {
            calls += 1;
            search(calls)
        })
    });
    group.finish();

    let mut latencies = Vec::with_capacity(searches);
    runtime.block_on(async {
        for call in 0..searches {
            let started = Instant::now();
            black_box(search(call).await);
            latencies.push(started.elapsed());
        }
    });
    latencies.sort_unstable();
    SearchReport {
        name: scenario.name.clone(),
        points: scenario.points(),
        searched: scenario.points_per_partition,
        vector_bytes: scenario.vector_bytes(),
        rss_growth,
        latencies,
    }
}

/// The process's resident memory (`VmRSS` in `/proc/self/status`), where there is one.
fn resident_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kilobytes: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
}
