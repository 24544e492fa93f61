//! `/v1/tenants`: the tenants the caller belongs to, one tenant, and renaming it (the
//! owner's billing-like setting). Tenants are created on the server with
//! `loa tenant create`, not over the API: a shop is provisioned by whoever runs the host.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::audit;
use super::caller::{Caller, Who, forbidden};
use super::extract::{ApiJson, ApiPath};
use crate::auth::{Permission, Role};
use crate::conversation::model::Tenant;
use crate::http::{ApiError, AppState};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_one, rename))
}

/// A tenant as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
struct TenantBody {
    /// Short id (`may`).
    id: String,
    /// Display name.
    name: String,
    /// When created, ms since the Unix epoch.
    created_at_ms: i64,
    /// The caller's role there (none for an API key).
    #[schema(value_type = Option<String>)]
    role: Option<Role>,
}

impl TenantBody {
    fn new(tenant: Tenant, role: Option<Role>) -> Self {
        Self {
            id: tenant.id,
            name: tenant.name,
            created_at_ms: tenant.created_at_ms,
            role,
        }
    }
}

/// The caller's tenants.
#[derive(Debug, Serialize, ToSchema)]
struct TenantList {
    /// By id.
    tenants: Vec<TenantBody>,
}

/// The tenants the caller may act in (a key: its own).
#[utoipa::path(
    get,
    operation_id = "tenants_list",
    path = "/v1/tenants",
    tag = "tenants",
    responses((status = 200, description = "The caller's tenants", body = TenantList))
)]
async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<TenantList>, ApiError> {
    let memberships: Vec<(String, Option<Role>)> = match &caller.who {
        Who::User { user, .. } => state
            .store
            .memberships_of_user(&user.id)
            .await?
            .into_iter()
            .map(|membership| (membership.tenant_id, Some(membership.role)))
            .collect(),
        Who::Key(key) => vec![(key.tenant_id.clone(), None)],
    };
    let mut tenants = Vec::with_capacity(memberships.len());
    for (tenant_id, role) in memberships {
        if let Some(tenant) = state.store.tenant(&tenant_id).await? {
            tenants.push(TenantBody::new(tenant, role));
        }
    }
    Ok(Json(TenantList { tenants }))
}

/// One tenant.
#[utoipa::path(
    get,
    operation_id = "tenants_get_one",
    path = "/v1/tenants/{tenant}",
    tag = "tenants",
    params(("tenant" = String, Path, description = "Tenant id")),
    responses((status = 200, description = "The tenant", body = TenantBody))
)]
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<TenantBody>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::TenantRead)
        .await?;
    let found = state.store.tenant(&access.tenant_id).await?;
    // A member of a tenant that is gone: as refused as a stranger.
    let found = found.ok_or_else(|| forbidden(format!("no access to tenant '{tenant}'")))?;
    Ok(Json(TenantBody::new(found, access.role)))
}

/// `PATCH /v1/tenants/{tenant}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RenameBody {
    /// The new display name (1 to 200 characters).
    name: String,
}

/// Renames the tenant (owner only).
///
/// Errors: 400 `invalid_name`; 403 `forbidden`.
#[utoipa::path(
    patch,
    operation_id = "tenants_rename",
    path = "/v1/tenants/{tenant}",
    tag = "tenants",
    params(("tenant" = String, Path, description = "Tenant id")),
    request_body = RenameBody,
    responses((status = 200, description = "Renamed", body = TenantBody))
)]
async fn rename(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    body: Result<ApiJson<RenameBody>, ApiError>,
) -> Result<Json<TenantBody>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::TenantSettings)
        .await?;
    let ApiJson(body) = body?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid_name",
            "name must be 1 to 200 characters",
        ));
    }
    let mut stored = state
        .store
        .tenant(&access.tenant_id)
        .await?
        .ok_or_else(|| forbidden(format!("no access to tenant '{tenant}'")))?;
    let old = std::mem::replace(&mut stored.name, name.to_owned());
    state.store.put_tenant(&stored).await?;
    audit::by(
        &state,
        &caller,
        &access.tenant_id,
        "tenant.renamed",
        Some(format!("tenant:{}", stored.id)),
        json!({ "old": old, "new": stored.name }),
    )
    .await;
    Ok(Json(TenantBody::new(stored, access.role)))
}
