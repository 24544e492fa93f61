//! Test plugin `wrong-world`: its manifest says `kind = "tool"`, but the component exports
//! the `middleware` world; the host must refuse to load it, naming both.

use loa_sdk::{CallContext, Message, Middleware, PluginError, Verdict};

/// The plugin; exported below.
pub struct WrongWorld;

impl Middleware for WrongWorld {
    fn on_inbound(_ctx: CallContext, message: Message) -> Result<Verdict, PluginError> {
        Ok(Verdict::Continue(message))
    }
}

loa_sdk::export_middleware!(WrongWorld);
