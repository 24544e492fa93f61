//! The wit-bindgen output for `wit/`: generated code, kept out of the public API.
//!
//! The shared pieces (the `types` interface, and what every plugin imports) are generated
//! once, whatever the features; each world feature then generates only its exports and maps
//! everything else onto those shared modules with `with:`. That way `loa_sdk::Message` is one
//! Rust type even when several features are on (as in a native `--all-features` build).
//!
//! It is `pub` only because the export macros expand in the plugin's crate and must name it.

/// `loa:plugin/types`. Generated on its own so its records can derive `PartialEq`/`Eq`
/// (handy in tests), which the resource types of `wasi:http` could not.
pub mod types {
    wit_bindgen::generate!({
        inline: "package loa:sdk; world types { import loa:plugin/types@0.3.0; }",
        path: "../wit",
        // The interface has no functions, so without this nothing would be generated.
        generate_unused_types: true,
        generate_all,
        additional_derives: [PartialEq, Eq],
    });
}

/// World `loa:plugin/imports`: the `host` interface and `wasi:http/outgoing-handler`
/// (with the `wasi:http`, `wasi:io` and `wasi:clocks` interfaces it uses).
pub mod imports {
    wit_bindgen::generate!({
        path: "../wit",
        world: "loa:plugin/imports",
        generate_all,
    });
}

/// Maps every interface a world imports onto the shared modules above, then generates the
/// world's exports and its export macro.
#[cfg_attr(
    not(any(feature = "tool", feature = "middleware", feature = "channel")),
    allow(unused_macros, reason = "no world feature on: nothing to generate")
)]
macro_rules! generate_world {
    ($world:literal, $export_macro:literal, $module:literal) => {
        wit_bindgen::generate!({
            path: "../wit",
            world: $world,
            with: {
                "loa:plugin/types@0.3.0": crate::bindings::types::loa::plugin::types,
                "loa:plugin/host@0.3.0": crate::bindings::imports::loa::plugin::host,
                "wasi:http/outgoing-handler@0.2.12": crate::bindings::imports::wasi::http::outgoing_handler,
                "wasi:http/types@0.2.12": crate::bindings::imports::wasi::http::types,
                "wasi:io/poll@0.2.12": crate::bindings::imports::wasi::io::poll,
                "wasi:io/streams@0.2.12": crate::bindings::imports::wasi::io::streams,
                "wasi:io/error@0.2.12": crate::bindings::imports::wasi::io::error,
                "wasi:clocks/monotonic-clock@0.2.12": crate::bindings::imports::wasi::clocks::monotonic_clock,
            },
            pub_export_macro: true,
            export_macro_name: $export_macro,
            default_bindings_module: $module,
        });
    };
}

/// World `loa:plugin/tool-provider`.
#[cfg(feature = "tool")]
pub mod tool {
    generate_world!(
        "loa:plugin/tool-provider",
        "export_tool_provider",
        "loa_sdk::bindings::tool"
    );
}

/// World `loa:plugin/middleware`.
#[cfg(feature = "middleware")]
pub mod middleware {
    generate_world!(
        "loa:plugin/middleware",
        "export_middleware_world",
        "loa_sdk::bindings::middleware"
    );
}

/// World `loa:plugin/channel-adapter`.
#[cfg(feature = "channel")]
pub mod channel {
    generate_world!(
        "loa:plugin/channel-adapter",
        "export_channel_adapter",
        "loa_sdk::bindings::channel"
    );
}
