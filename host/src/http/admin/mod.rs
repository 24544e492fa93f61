//! The admin REST API under `/v1/`: logins and tokens, tenants, members, API keys, bots,
//! channels, plugins, a bot's FAQ and documents, conversations, operators' handover moves,
//! the console's inbox, presence and live feed, deliveries and dead letters, proactive
//! messages, and the audit log. Every
//! route but logging in needs a bearer token ([`caller`]); every tenant route checks the
//! caller's role or key scopes against the permission table (`crate::auth::roles`)
//! before it reads the body (handlers take `Result<ApiJson<T>, ApiError>` and unwrap it
//! after the check), so a caller without the permission learns nothing from validation
//! errors. The OpenAPI document is generated from the handlers ([`openapi`]).

mod api_keys;
mod audit;
mod bots;
pub mod caller;
mod channels;
mod conversations;
mod deliveries;
mod documents;
pub mod extract;
mod faq;
mod handover;
mod history;
mod inbox;
mod live;
mod masked;
mod members;
mod messages;
pub mod openapi;
mod pages;
mod plugins;
mod session;
mod tenants;

use axum::Router;
use serde::Serialize;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use super::{ApiError, AppState, HttpConfig};
use crate::auth::Permission;
use crate::conversation::model::Bot;
use crate::knowledge::SyncReport;
pub use audit::record as audit_record;
use caller::{Access, Caller};

/// The admin routes with the OpenAPI document (`/v1/openapi.json`) and its browsable page
/// (`/v1/docs`).
pub fn routes(config: &HttpConfig) -> Router<AppState> {
    let (router, mut api) = api_router().split_for_parts();
    openapi::finish(&mut api);
    let mut router = router
        .merge(SwaggerUi::new("/v1/docs").url("/v1/openapi.json", api))
        .layer(axum::Extension(BodyLimit {
            kib: config.max_body_kib,
        }));
    if let Some(cors) = super::security::admin_cors(&config.admin_origins) {
        router = router.layer(cors);
    }
    router
}

/// Every admin route with its documentation.
fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(session::routes())
        .merge(tenants::routes())
        .merge(members::routes())
        .merge(api_keys::routes())
        .merge(bots::routes())
        .merge(channels::routes())
        .merge(plugins::routes())
        .merge(faq::routes())
        .merge(documents::routes())
        .merge(conversations::routes())
        .merge(deliveries::routes())
        .merge(messages::routes())
        .merge(handover::routes())
        .merge(history::routes())
        .merge(inbox::routes())
        .merge(live::routes())
        .merge(audit::routes())
}

/// The OpenAPI document, as served (for tests and `loa` tooling).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut api) = api_router().split_for_parts();
    openapi::finish(&mut api);
    api
}

/// The configured `http.max_body_kib`, for the message of a refused upload.
#[derive(Debug, Clone, Copy)]
struct BodyLimit {
    kib: usize,
}

/// The bot named in the path if it belongs to the tenant the caller was let into; 404
/// `bot_not_found` otherwise (another tenant's bot is as unknown as a missing one).
async fn load_bot(state: &AppState, access: &Access, bot_id: &str) -> Result<Bot, ApiError> {
    state
        .store
        .bot(bot_id)
        .await?
        .filter(|bot| bot.tenant_id == access.tenant_id)
        .ok_or_else(|| {
            ApiError::not_found(
                "bot_not_found",
                format!("tenant '{}' has no bot '{bot_id}'", access.tenant_id),
            )
        })
}

/// Checks that `caller` may use `permission` in `tenant_id`, then loads the bot of the
/// path from that tenant: the first step of every route under `…/bots/{bot}/`.
async fn bot_access(
    state: &AppState,
    caller: &Caller,
    tenant_id: &str,
    bot_id: &str,
    permission: Permission,
) -> Result<(Access, Bot), ApiError> {
    let access = caller.require(state, tenant_id, permission).await?;
    let bot = load_bot(state, &access, bot_id).await?;
    Ok((access, bot))
}

/// What happened to the bot's vectors after a write, flattened into the write's answer.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
struct Refreshed {
    /// The sync's report, when the knowledge tier runs in this process and succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    sync: Option<SyncReport>,
    /// Why the sync failed; the write is stored and the next question retries the sync.
    #[serde(skip_serializing_if = "Option::is_none")]
    sync_error: Option<String>,
}

/// After a write: drop this process's cached FAQ and knowledge of the bot, then embed what
/// changed. A failed sync does not undo the write (the store is the truth; a question
/// syncs again), so it is reported in the answer instead of failing it.
async fn refresh(state: &AppState, bot: &Bot) -> Refreshed {
    state.turns.orchestrator().invalidate(&bot.id);
    let Some(knowledge) = &state.knowledge else {
        return Refreshed::default();
    };
    match knowledge.sync(bot, &|_, _| {}).await {
        Ok(report) => Refreshed {
            sync: Some(report),
            sync_error: None,
        },
        Err(error) => {
            tracing::warn!(bot = %bot.id, tenant = %bot.tenant_id, %error, "admin write stored, but embedding it failed; retried on the next question");
            Refreshed {
                sync: None,
                sync_error: Some(error.to_string()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::openapi_document;

    /// Every operation has a unique id, documents the shared error answer, and needs the
    /// bearer token unless it is one of the routes that log in.
    #[test]
    fn every_operation_is_documented_secured_and_unique() {
        let api = openapi_document();
        let mut ids = HashSet::new();
        let mut operations = 0;
        for (path, item) in &api.paths.paths {
            let all = [&item.get, &item.put, &item.post, &item.delete, &item.patch];
            for operation in all.into_iter().flatten() {
                operations += 1;
                let id = operation.operation_id.clone().unwrap_or_default();
                assert!(ids.insert(id.clone()), "operation id {id} twice ({path})");
                assert!(
                    operation.responses.responses.contains_key("default"),
                    "{path} {id} has no error answer"
                );
                let login = path.starts_with("/v1/auth/") && path != "/v1/auth/password";
                assert_eq!(
                    operation.security.is_some(),
                    !login,
                    "{path} {id}: security should be {}",
                    !login
                );
            }
        }
        assert!(operations > 40, "only {operations} operations documented");
        let json = serde_json::to_value(&api).expect("the document serializes");
        assert_eq!(json["openapi"], "3.1.0");
    }
}
