//! `/v1/tenants/{tenant}/api-keys[/{id}]`: a tenant's API keys for its servers. A key is
//! shown once, in the answer that creates it; lists show its prefix, never its secret or
//! hash. Owners and admins manage keys, as people: a key cannot create or revoke keys
//! (no scope grants `api_keys_manage`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::audit;
use super::caller::{Access, Caller, forbidden};
use super::extract::{ApiJson, ApiPath};
use crate::auth::{AuthError, Permission, Scope};
use crate::conversation::pipeline::now_ms;
use crate::http::{ApiError, AppState};
use crate::store::ApiKey;

/// Longest key name, in characters: a label, not a description.
const MAX_NAME_CHARS: usize = 100;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}

/// An API key as lists show it: no secret, no hash.
#[derive(Debug, Serialize, ToSchema)]
struct ApiKeyBody {
    /// Its id (`ak_…`), used in its URL.
    id: String,
    /// What the admin called it.
    name: String,
    /// The key's first characters, to tell keys apart.
    prefix: String,
    /// What it may do.
    #[schema(value_type = Vec<Scope>)]
    scopes: Vec<String>,
    /// Who created it (`user:us_…`).
    created_by: String,
    /// When created, ms since the Unix epoch.
    created_at_ms: i64,
    /// When it last authenticated a request (to the minute), ms since the Unix epoch.
    last_used_at_ms: Option<i64>,
    /// When revoked, ms since the Unix epoch; a revoked key authenticates nothing.
    revoked_at_ms: Option<i64>,
}

impl From<ApiKey> for ApiKeyBody {
    fn from(key: ApiKey) -> Self {
        Self {
            id: key.id,
            name: key.name,
            prefix: key.prefix,
            scopes: key.scopes,
            created_by: key.created_by,
            created_at_ms: key.created_at_ms,
            last_used_at_ms: key.last_used_at_ms,
            revoked_at_ms: key.revoked_at_ms,
        }
    }
}

/// A tenant's keys.
#[derive(Debug, Serialize, ToSchema)]
struct ApiKeyList {
    /// Newest first, revoked ones included.
    api_keys: Vec<ApiKeyBody>,
}

/// Body of `POST …/api-keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewApiKey {
    /// What to call it (`shop backend`), 1 to 100 characters.
    name: String,
    /// What it may do; at least one.
    #[schema(value_type = Vec<Scope>)]
    scopes: Vec<String>,
}

/// Answer to `POST …/api-keys`.
#[derive(Debug, Serialize, ToSchema)]
struct ApiKeyCreated {
    /// The key as lists show it.
    api_key: ApiKeyBody,
    /// The whole key (`loa_ak_…`), shown this once: store it in the server's secrets.
    /// Send it as `Authorization: Bearer <key>`.
    key: String,
}

/// The tenant's API keys (owner and admin).
///
/// Errors: 403 `forbidden` (another role, or an API key).
#[utoipa::path(
    get,
    operation_id = "api_keys_list",
    path = "/v1/tenants/{tenant}/api-keys",
    tag = "api-keys",
    params(("tenant" = String, Path, description = "Tenant id")),
    responses((status = 200, description = "The keys", body = ApiKeyList))
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<ApiKeyList>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::ApiKeysManage)
        .await?;
    let api_keys = state
        .store
        .api_keys(&access.tenant_id)
        .await?
        .into_iter()
        .map(ApiKeyBody::from)
        .collect();
    Ok(Json(ApiKeyList { api_keys }))
}

/// Creates a key with the given scopes; the answer holds the key, this once.
///
/// Errors: 400 `invalid_name`, `scopes_required`, `unknown_scope` (the message names it
/// and lists the known ones); 403 `forbidden`.
#[utoipa::path(
    post,
    operation_id = "api_keys_create",
    path = "/v1/tenants/{tenant}/api-keys",
    tag = "api-keys",
    params(("tenant" = String, Path, description = "Tenant id")),
    request_body = NewApiKey,
    responses((status = 201, description = "Created; `key` is shown only now", body = ApiKeyCreated))
)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    body: Result<ApiJson<NewApiKey>, ApiError>,
) -> Result<(StatusCode, Json<ApiKeyCreated>), ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::ApiKeysManage)
        .await?;
    let ApiJson(body) = body?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_name",
            format!("a key's name must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    let scopes = parse_scopes(&body.scopes)?;
    check_grantable(&access, &scopes)?;
    // The auth service generates the secret and stores only its hash.
    let (key, secret) = state
        .auth
        .create_api_key(&access.tenant_id, name, &scopes, &caller.actor())
        .await
        .map_err(|error| match error {
            AuthError::Store(error) => ApiError::from(error),
            error => {
                tracing::error!(%error, tenant = %access.tenant_id, "creating an API key failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the key could not be created",
                )
            }
        })?;
    tracing::info!(tenant = %access.tenant_id, key = %key.id, scopes = ?key.scopes, "API key created");
    audit::by(
        &state,
        &caller,
        &access.tenant_id,
        "api_key.created",
        Some(format!("api_key:{}", key.id)),
        json!({"name": key.name, "scopes": key.scopes}),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(ApiKeyCreated {
            api_key: ApiKeyBody::from(key),
            key: secret,
        }),
    ))
}

/// Revokes a key: from now on it authenticates nothing. Revoked keys stay in the list.
///
/// Errors: 403 `forbidden`; 404 `api_key_not_found` (no live key with this id in this
/// tenant; revoking twice is a 404 too).
#[utoipa::path(
    delete,
    operation_id = "api_keys_revoke",
    path = "/v1/tenants/{tenant}/api-keys/{id}",
    tag = "api-keys",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("id" = String, Path, description = "The key's id (`ak_…`)")
    ),
    responses((status = 204, description = "Revoked"))
)]
async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::ApiKeysManage)
        .await?;
    let not_found = || {
        ApiError::not_found(
            "api_key_not_found",
            format!("tenant '{}' has no live API key '{id}'", access.tenant_id),
        )
    };
    let key = state
        .store
        .api_key(&id)
        .await?
        .filter(|key| key.tenant_id == access.tenant_id && key.revoked_at_ms.is_none())
        .ok_or_else(not_found)?;
    if !state
        .store
        .revoke_api_key(&access.tenant_id, &id, now_ms())
        .await?
    {
        return Err(not_found());
    }
    tracing::info!(tenant = %access.tenant_id, key = %id, "API key revoked");
    audit::by(
        &state,
        &caller,
        &access.tenant_id,
        "api_key.revoked",
        Some(format!("api_key:{id}")),
        json!({"name": key.name}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// The scopes named, each once, in the order given: 400 `scopes_required` for none,
/// `unknown_scope` naming the first unknown one.
fn parse_scopes(names: &[String]) -> Result<Vec<Scope>, ApiError> {
    if names.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "scopes_required",
            format!("name at least one scope: {}", known_scopes()),
        ));
    }
    let mut scopes = Vec::with_capacity(names.len());
    for name in names {
        let scope = Scope::parse(name.trim()).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "unknown_scope",
                format!("unknown scope '{name}'; the scopes are {}", known_scopes()),
            )
        })?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    Ok(scopes)
}

fn known_scopes() -> String {
    Scope::ALL.map(Scope::as_str).join(", ")
}

/// A person cannot give a key more than their own role allows (today owners and admins
/// hold every scope's permission; this keeps it so if the table changes).
fn check_grantable(access: &Access, scopes: &[Scope]) -> Result<(), ApiError> {
    let Some(role) = access.role else {
        return Err(forbidden("API keys cannot create API keys"));
    };
    match scopes.iter().find(|scope| !role.allows(scope.permission())) {
        Some(scope) => Err(forbidden(format!(
            "your role {} cannot grant the scope {}",
            role.as_str(),
            scope.as_str()
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn names(scopes: &[&str]) -> Vec<String> {
        scopes.iter().map(|scope| (*scope).to_owned()).collect()
    }

    #[test]
    fn scopes_parse_once_each_in_order() {
        let scopes =
            parse_scopes(&names(&["messages:send", "tenant:read", "messages:send"])).expect("ok");
        assert_eq!(scopes, [Scope::MessagesSend, Scope::TenantRead]);
    }

    #[test]
    fn an_unknown_scope_is_named_in_the_error() {
        let error = parse_scopes(&names(&["tenant:read", "members:manage"])).expect_err("unknown");
        assert_eq!(error.code, "unknown_scope");
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert!(
            error.message.contains("'members:manage'"),
            "{}",
            error.message
        );
        assert!(error.message.contains("messages:send"), "{}", error.message);
    }

    #[test]
    fn no_scopes_is_refused() {
        let error = parse_scopes(&[]).expect_err("empty");
        assert_eq!(error.code, "scopes_required");
    }

    #[test]
    fn only_people_whose_role_holds_a_scope_may_grant_it() {
        let access = |role| Access {
            tenant_id: "may".into(),
            role,
        };
        assert!(check_grantable(&access(Some(Role::Admin)), &Scope::ALL).is_ok());
        let error =
            check_grantable(&access(Some(Role::Viewer)), &[Scope::BotsWrite]).expect_err("viewer");
        assert_eq!(error.code, "forbidden");
        assert!(check_grantable(&access(None), &[Scope::TenantRead]).is_err());
    }
}
