//! The audit log: [`record`] appends a line for every change made through the admin API
//! and every login; `GET /v1/tenants/{tenant}/audit` pages through a tenant's lines,
//! newest first (owner and admin, or a key with `audit:read`).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::caller::Caller;
use super::extract::{ApiPath, ApiQuery};
use super::pages::{PageQuery, next_cursor};
use crate::auth::Permission;
use crate::conversation::pipeline::now_ms;
use crate::http::{ApiError, AppState};
use crate::store::{AuditEntry, NewAuditEntry};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// Appends one audit line. A failure is logged, not returned: the change it records is
/// already made, and refusing the answer would make the client retry a done change.
pub async fn record(
    state: &AppState,
    tenant_id: Option<&str>,
    actor: &str,
    ip: Option<String>,
    action: &str,
    target: Option<String>,
    detail: serde_json::Value,
) {
    let entry = NewAuditEntry {
        tenant_id: tenant_id.map(str::to_owned),
        actor: actor.to_owned(),
        action: action.to_owned(),
        target,
        ip,
        detail,
        at_ms: now_ms(),
    };
    if let Err(error) = state.store.append_audit(&entry).await {
        tracing::error!(%error, action, actor, tenant = ?tenant_id, "audit line not written");
    }
}

/// Records `action` by `caller` in `tenant_id`.
pub(super) async fn by(
    state: &AppState,
    caller: &Caller,
    tenant_id: &str,
    action: &str,
    target: Option<String>,
    detail: serde_json::Value,
) {
    record(
        state,
        Some(tenant_id),
        &caller.actor(),
        caller.ip_text(),
        action,
        target,
        detail,
    )
    .await;
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
struct AuditPage {
    /// Lines, newest first.
    #[schema(value_type = Vec<Object>)]
    entries: Vec<AuditEntry>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    next_cursor: Option<String>,
}

/// A tenant's audit log, newest first.
#[utoipa::path(
    get,
    operation_id = "audit_list",
    path = "/v1/tenants/{tenant}/audit",
    tag = "audit",
    params(("tenant" = String, Path, description = "Tenant id"), PageQuery),
    responses((status = 200, description = "A page of audit lines", body = AuditPage))
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::AuditRead)
        .await?;
    let limit = page.limit()?;
    let before: Option<i64> = page.position()?;
    let entries = state
        .store
        .audit_log(&access.tenant_id, before, limit)
        .await?;
    let next_cursor = next_cursor(&entries, limit, |entry| entry.id);
    Ok(Json(AuditPage {
        entries,
        next_cursor,
    }))
}
