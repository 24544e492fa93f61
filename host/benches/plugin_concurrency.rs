//! 1,000 tool calls started at once on an engine with the default limits: all must succeed,
//! and the run prints how long they took and what they cost in resident memory.
//!
//! Two bursts. `echo` finishes within one poll, so on a few worker threads only a handful
//! of its instances are ever alive together; `fetch` against a local server that answers
//! only once every request has arrived keeps all 1,000 instances alive at the same moment,
//! which is what fills the pooling allocator.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use loa::config::PluginHostConfig;
use loa::plugins::{PluginEngine, TenantPlugin};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::sync::watch;

use common::{bind_echo, context, engine, resident_kib};

const CALLS: usize = 1_000;
/// The server gives up waiting for the rest after this long and answers anyway, so a
/// host that cannot hold 1,000 calls shows up as a low count, not a hang. Below the
/// default 2 s tool deadline.
const SERVER_PATIENCE: Duration = Duration::from_millis(1_500);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let defaults = PluginHostConfig::default();
        println!(
            "plugin_concurrency: {CALLS} calls, max_concurrent_calls = {}, max_memory_mib = {}",
            defaults.max_concurrent_calls, defaults.max_memory_mib
        );
        echo_burst().await;
        held_burst().await;
    });
}

/// `echo` ×1,000 on the default engine.
async fn echo_burst() {
    let engine = engine(PluginHostConfig::default());
    let (_, target) = bind_echo(&engine, &[]);
    let args = r#"{"order_id":"A123"}"#;
    let target = Arc::new(target);
    // One call first: the first instantiation faults in code pages and lazy state, which
    // is start-up, not the burst.
    let report = engine.call_tool(&target, "echo", args, &context()).await;
    assert_eq!(report.outcome.expect("warm-up call"), args);

    let inside = Arc::new(AtomicUsize::new(0));
    let most_inside = Arc::new(AtomicUsize::new(0));
    let before = resident_kib();
    let started = Instant::now();
    let calls: Vec<_> = (0..CALLS)
        .map(|_| {
            let (engine, target) = (Arc::clone(&engine), Arc::clone(&target));
            let (inside, most_inside) = (Arc::clone(&inside), Arc::clone(&most_inside));
            tokio::spawn(async move {
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most_inside.fetch_max(now, Ordering::SeqCst);
                let report = engine.call_tool(&target, "echo", args, &context()).await;
                inside.fetch_sub(1, Ordering::SeqCst);
                report.outcome
            })
        })
        .collect();
    let outcomes = join_all(calls).await;
    let elapsed = started.elapsed();
    let after = resident_kib();
    let failures = report_failures(&outcomes, |result| result == args);
    println!(
        "echo burst: {CALLS} calls in {:.1} ms, {failures} failed, at most {} inside call_tool at once",
        elapsed.as_secs_f64() * 1e3,
        most_inside.load(Ordering::SeqCst)
    );
    print_memory(before, after);
    assert_eq!(failures, 0, "every echo call must succeed");
}

/// `fetch` ×1,000, every call held open until all have reached the server.
async fn held_burst() {
    // The defaults but for private addresses: the server is on loopback. Pool and memory
    // settings are the defaults' (they depend on max_concurrent_calls and max_memory_mib).
    let engine = engine(PluginHostConfig {
        allow_private_network: true,
        ..PluginHostConfig::default()
    });
    let (_, target) = bind_echo(&engine, &["127.0.0.1"]);
    let target = Arc::new(target);
    let (url, most_waiting) = spawn_gathering_server(CALLS).await;
    let args = Arc::new(format!(r#"{{"url":"{url}"}}"#));

    // Warm-up: with a gathering count of CALLS it would wait; one call on its own server.
    let (warm_url, _) = spawn_gathering_server(1).await;
    warm_call(&engine, &target, &warm_url).await;

    let before = resident_kib();
    let started = Instant::now();
    let calls: Vec<_> = (0..CALLS)
        .map(|_| {
            let (engine, target, args) =
                (Arc::clone(&engine), Arc::clone(&target), Arc::clone(&args));
            tokio::spawn(async move {
                engine
                    .call_tool(&target, "fetch", &args, &context())
                    .await
                    .outcome
            })
        })
        .collect();
    let outcomes = join_all(calls).await;
    let elapsed = started.elapsed();
    let after = resident_kib();
    let failures = report_failures(&outcomes, |result| result.contains(r#""status":200"#));
    println!(
        "held burst: {CALLS} calls in {:.1} ms, {failures} failed, {} requests waiting at the server at once",
        elapsed.as_secs_f64() * 1e3,
        most_waiting.load(Ordering::SeqCst)
    );
    print_memory(before, after);
    assert_eq!(failures, 0, "every fetch call must succeed");
    assert_eq!(
        most_waiting.load(Ordering::SeqCst),
        CALLS,
        "all calls must be in flight together"
    );
}

async fn warm_call(engine: &PluginEngine, target: &TenantPlugin, url: &str) {
    let args = format!(r#"{{"url":"{url}"}}"#);
    let report = engine.call_tool(target, "fetch", &args, &context()).await;
    let result = report.outcome.expect("warm-up fetch");
    assert!(result.contains(r#""status":200"#), "{result}");
}

/// An HTTP server on loopback that holds every request until `gather` requests are
/// waiting (or [`SERVER_PATIENCE`] passes), then answers them all. Returns its URL and the
/// most requests it saw waiting at once.
async fn spawn_gathering_server(gather: usize) -> (String, Arc<AtomicUsize>) {
    // Not `TcpListener::bind`: its backlog of 128 overflows when 1,000 connects arrive at
    // once, and each dropped connection waits a 1 s SYN retransmit.
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("address"))
        .expect("bind");
    let listener = socket.listen(4_096).expect("listen");
    let url = format!("http://{}/", listener.local_addr().expect("address"));
    let most_waiting = Arc::new(AtomicUsize::new(0));
    let (arrived, _) = watch::channel(0usize);
    let arrived = Arc::new(arrived);
    let seen = Arc::clone(&most_waiting);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let (arrived, seen) = (Arc::clone(&arrived), Arc::clone(&seen));
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => request.extend_from_slice(&buffer[..read]),
                    }
                }
                arrived.send_modify(|count| *count += 1);
                seen.fetch_max(*arrived.borrow(), Ordering::SeqCst);
                let mut waiting = arrived.subscribe();
                let _ = tokio::time::timeout(
                    SERVER_PATIENCE,
                    waiting.wait_for(|count| *count >= gather),
                )
                .await;
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, most_waiting)
}

async fn join_all<T>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.await.expect("call task panicked"));
    }
    results
}

/// Counts outcomes that failed or returned something unexpected; prints the first few.
fn report_failures(
    outcomes: &[Result<String, loa::plugins::PluginCallError>],
    expected: impl Fn(&str) -> bool,
) -> usize {
    let mut failures = 0;
    for outcome in outcomes {
        let problem = match outcome {
            Ok(result) if expected(result) => continue,
            Ok(result) => format!("unexpected result {result}"),
            Err(error) => format!("{error}"),
        };
        if failures < 5 {
            println!("  failed: {problem}");
        }
        failures += 1;
    }
    failures
}

fn print_memory((rss_before, hwm_before): (u64, u64), (rss_after, hwm_after): (u64, u64)) {
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "  VmRSS {:.1} → {:.1} MiB, VmHWM {:.1} → {:.1} MiB",
        mib(rss_before),
        mib(rss_after),
        mib(hwm_before),
        mib(hwm_after)
    );
}
