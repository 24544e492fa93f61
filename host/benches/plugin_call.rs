//! Cost of one tool call through loa's plugin host against bare wasmtime on the same engine
//! and component: the difference is what loa's breaker, limits, store setup, host imports
//! and outcome classification add per call.

mod common;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use criterion::Criterion;
use loa::plugins::types::{CallContext, PluginError};
use loa::plugins::{CallReport, PluginEngine, TenantPlugin};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{
    Component, ComponentExportIndex, InstancePre, Linker, ResourceTable, ResourceType,
};
use wasmtime::{Engine, PoolingAllocationConfig, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use common::{bind_echo, context, engine};

/// Small enough that copying it in and out is noise next to instantiation.
const ARGS: &str = r#"{"order_id":"A123","note":"benchmark"}"#;

/// The least a store for this component can hold: WASI and wasi:http contexts (the
/// component imports both) and their resource table.
struct BareState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
}

impl WasiView for BareState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for BareState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: Default::default(),
        }
    }
}

/// The component pre-instantiated against a minimal linker, with its `call` export found.
struct Bare {
    engine: Engine,
    pre: InstancePre<BareState>,
    call: ComponentExportIndex,
}

impl Bare {
    fn new(engine: &Engine, wasm: &Path) -> wasmtime::Result<Self> {
        let component = Component::from_file(engine, wasm)?;
        let mut linker = Linker::<BareState>::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        stub_loa_imports(&mut linker, &component)?;
        let pre = linker.instantiate_pre(&component)?;
        let tools = component
            .get_export_index(None, "loa:plugin/tools@0.3.0")
            .ok_or_else(|| wasmtime::format_err!("no loa:plugin/tools@0.3.0 export"))?;
        let call = component
            .get_export_index(Some(&tools), "call")
            .ok_or_else(|| wasmtime::format_err!("no call function in loa:plugin/tools"))?;
        Ok(Self {
            engine: engine.clone(),
            pre,
            call,
        })
    }

    /// One call the way loa makes it (fresh store, epoch yield at every tick), nothing else.
    async fn call(&self, tool: &str, args: &str, context: &CallContext) -> String {
        let state = BareState {
            wasi: WasiCtx::builder().build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
        };
        let mut store = Store::new(&self.engine, state);
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);
        let instance = self
            .pre
            .instantiate_async(&mut store)
            .await
            .expect("instantiates");
        let call = instance
            .get_typed_func::<(&str, &str, &CallContext), (Result<String, PluginError>,)>(
                &mut store, &self.call,
            )
            .expect("call has the tools signature");
        let (result,) = call
            .call_async(&mut store, (tool, args, context))
            .await
            .expect("call does not trap");
        result.expect("echo does not fail")
    }
}

/// Makes every `loa:plugin/*` import trap: the `echo` tool never calls them.
///
/// Not `Linker::define_unknown_imports_as_traps`: it stubs each import instance under the
/// component's exact name (`wasi:io/streams@0.2.12`), which shadows the semver-compatible
/// WASI instance the linker already has, and instantiation then fails with "mismatched
/// resource types".
fn stub_loa_imports(linker: &mut Linker<BareState>, component: &Component) -> wasmtime::Result<()> {
    let engine = linker.engine().clone();
    for (name, item) in component.component_type().imports(&engine) {
        let ComponentItem::ComponentInstance(interface) = item.ty else {
            continue;
        };
        if !name.starts_with("loa:plugin/") {
            continue;
        }
        let mut instance = linker.instance(name)?;
        for (export, item) in interface.exports(&engine) {
            let qualified = format!("{name}#{export}");
            match item.ty {
                ComponentItem::ComponentFunc(_) => {
                    instance.func_new(export, move |_, _, _, _| {
                        wasmtime::bail!("{qualified} is stubbed out in the benchmark")
                    })?
                }
                ComponentItem::Resource(_) => {
                    instance.resource(export, ResourceType::host::<()>(), |_, _| Ok(()))?
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Everything both paths share, built once: same engine, same component, same context.
struct Setup {
    runtime: tokio::runtime::Runtime,
    engine: Arc<PluginEngine>,
    target: TenantPlugin,
    bare: Bare,
    context: CallContext,
}

impl Setup {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        // Production settings: the defaults (pool for 1,000 calls, 64 MiB per call).
        let engine = runtime.block_on(async { engine(Default::default()) });
        let (plugin, target) = bind_echo(&engine, &[]);
        let bare = Bare::new(engine.wasmtime_engine(), &plugin.dir.join("plugin.wasm"))
            .expect("bare wasmtime set-up");
        let setup = Self {
            runtime,
            engine,
            target,
            bare,
            context: context(),
        };
        // Both paths must do the same work before their timings mean anything.
        setup.runtime.block_on(async {
            assert_eq!(setup.bare_call().await, ARGS);
            let report = setup.loa_call().await;
            assert_eq!(report.outcome.expect("loa call succeeds"), ARGS);
        });
        setup
    }

    async fn bare_call(&self) -> String {
        self.bare.call("echo", ARGS, &self.context).await
    }

    async fn loa_call(&self) -> CallReport<String> {
        self.engine
            .call_tool(&self.target, "echo", ARGS, &self.context)
            .await
    }
}

fn plugin_call(c: &mut Criterion, setup: &Setup) {
    let mut group = c.benchmark_group("plugin_call");
    group.bench_function("bare_wasmtime", |b| {
        b.to_async(&setup.runtime).iter(|| async {
            let result = setup.bare_call().await;
            debug_assert_eq!(result, ARGS);
            result
        })
    });
    group.bench_function("loa_full_path", |b| {
        b.to_async(&setup.runtime).iter(|| async {
            let report = setup.loa_call().await;
            debug_assert!(matches!(report.outcome.as_deref(), Ok(ARGS)));
            report
        })
    });
    group.finish();
}

/// Pairs timed one call at a time for the per-call percentiles.
const PAIRS: usize = 10_000;

/// Criterion's "median" is the median of per-sample *means*, and a call's latency has a
/// long tail (a page fault, an epoch tick, a preempted thread), so it sits above the
/// median call. This times single calls, bare and loa alternating so background load
/// hits both alike, and prints their true percentiles.
fn print_per_call_percentiles(setup: &Setup) {
    let (mut bare, mut loa) = (Vec::with_capacity(PAIRS), Vec::with_capacity(PAIRS));
    setup.runtime.block_on(async {
        for pair in 0..PAIRS {
            // Alternate which goes first: the second call of a pair finds caches warmer.
            for bare_turn in [pair % 2 == 0, pair % 2 != 0] {
                let started = Instant::now();
                if bare_turn {
                    black_box(setup.bare_call().await);
                    bare.push(started.elapsed());
                } else {
                    black_box(setup.loa_call().await);
                    loa.push(started.elapsed());
                }
            }
        }
    });
    let (bare_p50, loa_p50) = (percentile_us(&mut bare, 0.5), percentile_us(&mut loa, 0.5));
    println!(
        "plugin_call per call ({PAIRS} interleaved pairs): bare p50 = {bare_p50:.2} µs \
         (p90 {:.2}), loa p50 = {loa_p50:.2} µs (p90 {:.2}), ratio = {:.2}",
        percentile_us(&mut bare, 0.9),
        percentile_us(&mut loa, 0.9),
        loa_p50 / bare_p50
    );
}

fn percentile_us(samples: &mut [Duration], quantile: f64) -> f64 {
    samples.sort_unstable();
    let index = ((samples.len() - 1) as f64 * quantile).round() as usize;
    samples[index].as_secs_f64() * 1e6
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

/// The median of `function`'s latest estimates in µs, if criterion wrote them after
/// `since` (a filtered or `--test` run leaves older files, which must not be reported).
fn median_us(function: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_home()?
        .join("plugin_call")
        .join(function)
        .join("new/estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let estimates: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    Some(estimates["median"]["point_estimate"].as_f64()? / 1_000.0)
}

/// The two medians side by side, so the run answers "what does loa add" by itself.
/// Returns whether both were fresh (a full run, not a filtered or `--test` one).
fn print_ratio(since: SystemTime) -> bool {
    match (
        median_us("bare_wasmtime", since),
        median_us("loa_full_path", since),
    ) {
        (Some(bare), Some(loa)) => {
            println!(
                "plugin_call: bare p50 = {bare:.2} µs, loa p50 = {loa:.2} µs, ratio = {:.2}",
                loa / bare
            );
            true
        }
        _ => {
            println!("plugin_call: no fresh estimates for both functions; ratio not computed");
            false
        }
    }
}

fn main() {
    let started = SystemTime::now();
    // Resetting a freed memory slot is most of a small call's cost; whether the kernel
    // offers PAGEMAP_SCAN changes the figures about threefold (see `engine::pooling`).
    println!(
        "plugin_call: PAGEMAP_SCAN {}",
        if PoolingAllocationConfig::is_pagemap_scan_available() {
            "available (freed slots reset only dirty pages)"
        } else {
            "unavailable (kernel < 6.7: freed slots are decommitted whole)"
        }
    );
    let setup = Setup::new();
    let mut criterion = Criterion::default().configure_from_args();
    plugin_call(&mut criterion, &setup);
    criterion.final_summary();
    if print_ratio(started) {
        print_per_call_percentiles(&setup);
    }
}
