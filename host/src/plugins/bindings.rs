//! Host-side bindings generated from `wit/`: one `bindgen!` per world, sharing the
//! `types` and `host` interfaces. Private to `plugins`; callers see loa's own types.
//! The docs of the generated items come from the WIT; fields without one are allowed.
#![allow(missing_docs)]

// The tool world generates the shared interfaces; the other two reuse them through `with`.
mod tool_world {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "loa:plugin/tool-provider",
        imports: { default: async | trappable },
        exports: { default: async },
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
        with: {
            "wasi": wasmtime_wasi::p2::bindings,
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        },
    });
}

mod middleware_world {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "loa:plugin/middleware",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "wasi": wasmtime_wasi::p2::bindings,
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
            "loa:plugin/types": super::tool_world::loa::plugin::types,
            "loa:plugin/host": super::tool_world::loa::plugin::host,
        },
    });
}

mod channel_world {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "loa:plugin/channel-adapter",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "wasi": wasmtime_wasi::p2::bindings,
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
            "loa:plugin/types": super::tool_world::loa::plugin::types,
            "loa:plugin/host": super::tool_world::loa::plugin::host,
        },
    });
}

pub(crate) use channel_world::ChannelAdapterPre;
pub(crate) use middleware_world::MiddlewarePre;
pub(crate) use tool_world::ToolProviderPre;
pub(crate) use tool_world::loa::plugin::host;
pub(crate) use tool_world::loa::plugin::types;
