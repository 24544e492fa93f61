//! Middleware plugins: the [`Middleware`] trait and [`export_middleware!`](crate::export_middleware).

use crate::types::{CallContext, Message, PluginError, Verdict};

/// A plugin that looks at every message on its way in and out (WIT interface
/// `loa:plugin/hooks`).
///
/// Like [`Tool`](crate::Tool), the functions take no `self`: state between calls lives in
/// [`kv`](crate::kv).
pub trait Middleware {
    /// Runs before the bot sees a customer message; decides whether and how it goes on.
    fn on_inbound(ctx: CallContext, message: Message) -> Result<Verdict, PluginError>;

    /// Runs before a reply leaves; returns the reply to send. By default the reply is sent
    /// unchanged, since most middleware only cares about one direction.
    fn on_outbound(ctx: CallContext, message: Message) -> Result<Message, PluginError> {
        let _ = ctx;
        Ok(message)
    }
}

/// Exports a type implementing [`Middleware`] as this component's `loa:plugin/hooks`
/// interface: `loa_sdk::export_middleware!(MyHooks);`. Needs the sdk's `middleware` feature.
#[cfg(feature = "middleware")]
#[macro_export]
macro_rules! export_middleware {
    ($ty:ident) => {
        impl $crate::bindings::middleware::exports::loa::plugin::hooks::Guest for $ty {
            fn on_inbound(
                context: $crate::CallContext,
                message: $crate::Message,
            ) -> ::core::result::Result<$crate::Verdict, $crate::PluginError> {
                <$ty as $crate::Middleware>::on_inbound(context, message)
            }

            fn on_outbound(
                context: $crate::CallContext,
                message: $crate::Message,
            ) -> ::core::result::Result<$crate::Message, $crate::PluginError> {
                <$ty as $crate::Middleware>::on_outbound(context, message)
            }
        }

        // Only wasm gets the export glue: its symbol names (`loa:plugin/tools@0.3.0#call`)
        // are not valid in a native linker's version script, and nothing native calls them.
        #[cfg(target_arch = "wasm32")]
        $crate::__export_middleware_impl!($ty with_types_in $crate::bindings::middleware);
    };
}

/// Exports a type implementing [`Middleware`] as this component's `loa:plugin/hooks`
/// interface.
///
/// The sdk's `middleware` feature is off, so this does nothing on a native build and fails
/// the build for `wasm32`.
#[cfg(not(feature = "middleware"))]
#[macro_export]
macro_rules! export_middleware {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        compile_error!(
            "loa_sdk::export_middleware! needs the sdk's `middleware` feature: \
             loa-sdk = { path = \"...\", features = [\"middleware\"] }"
        );
    };
}
