//! loa middleware plugin `business-hours`: outside the shop's opening hours it answers the
//! customer with a "we're closed" message (and by default stops the bot).

mod schedule;
mod settings;

use loa_sdk::{CallContext, Message, Middleware, PluginError, Verdict, clock, config, log};

use settings::Settings;

/// The plugin; exported below.
pub struct BusinessHours;

impl Middleware for BusinessHours {
    fn on_inbound(ctx: CallContext, message: Message) -> Result<Verdict, PluginError> {
        // Read per call, not cached: every call may be a fresh instance, and the tenant may
        // have changed the hours since the last one.
        let settings = Settings::from_config(config::get)?;
        let verdict = settings.decide(clock::now_ms(), ctx.locale.as_deref(), message);
        if !matches!(verdict, Verdict::Continue(_)) {
            log::debug(
                "message outside business hours",
                &[(
                    "conversation_id",
                    ctx.conversation_id.as_deref().unwrap_or("-"),
                )],
            );
        }
        Ok(verdict)
    }

    // `on_outbound`: the trait's default sends replies unchanged.
}

loa_sdk::export_middleware!(BusinessHours);
