//! Logging in and out: `POST /v1/auth/login` (email + password → a 15-minute access token
//! and a rotating refresh token), `/v1/auth/refresh`, `/v1/auth/logout`,
//! `/v1/auth/password` (change your own; ends every login), and `GET /v1/me` (who you are
//! and your tenants). Logins are rate limited per client IP and per account, and every
//! attempt, good or bad, goes into the audit log of the account's tenants.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::audit;
use super::caller::{Caller, ClientIp, Unauthenticated};
use super::extract::ApiJson;
use super::openapi::PUBLIC_TAG;
use crate::auth::{AuthError, Role, Tokens};
use crate::conversation::pipeline::now_ms;
use crate::http::limits::Limited;
use crate::http::{ApiError, AppState};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(change_password))
        .routes(routes!(me))
}

/// The HTTP answer of a refused authentication step.
pub(super) fn auth_error(error: AuthError) -> Response {
    let (status, code) = match &error {
        AuthError::Store(store) => {
            tracing::error!(error = %store, "store error during authentication");
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the database is not answering; try again shortly",
            )
            .into_response();
        }
        AuthError::WeakPassword(_) => (StatusCode::UNPROCESSABLE_ENTITY, "weak_password"),
        AuthError::EmailTaken => (StatusCode::CONFLICT, "email_taken"),
        AuthError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        AuthError::InvalidEmail(_) => (StatusCode::BAD_REQUEST, "invalid_email"),
        AuthError::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
        AuthError::RefreshReused => (StatusCode::UNAUTHORIZED, "refresh_token_reused"),
        AuthError::TokenExpired => (StatusCode::UNAUTHORIZED, "token_expired"),
        _ => (StatusCode::UNAUTHORIZED, "invalid_token"),
    };
    let error = ApiError::new(status, code, error.to_string());
    if status == StatusCode::UNAUTHORIZED {
        Unauthenticated(error).into_response()
    } else {
        error.into_response()
    }
}

/// `POST /v1/auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    /// The account's email.
    email: String,
    /// Its password.
    password: String,
}

/// Tokens of a login.
#[derive(Debug, Serialize, ToSchema)]
struct TokensBody {
    /// Send as `Authorization: Bearer <access_token>`.
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds the access token lives.
    expires_in: i64,
    /// Trade it at `/v1/auth/refresh` for new tokens; it works once.
    refresh_token: String,
    /// Seconds the refresh token lives.
    refresh_expires_in: i64,
    /// The user.
    user_id: String,
}

impl From<Tokens> for TokensBody {
    fn from(tokens: Tokens) -> Self {
        let now = now_ms();
        Self {
            access_token: tokens.access_token,
            token_type: "Bearer",
            expires_in: (tokens.access_expires_at_ms - now).max(0) / 1000,
            refresh_token: tokens.refresh_token,
            refresh_expires_in: (tokens.refresh_expires_at_ms - now).max(0) / 1000,
            user_id: tokens.user_id,
        }
    }
}

/// Records a login attempt in the log of every tenant of the account (or of none when
/// the email is unknown), so an owner sees attempts on their staff's accounts.
async fn audit_login(
    state: &AppState,
    email: &str,
    user_id: Option<&str>,
    ip: Option<String>,
    action: &str,
) {
    let tenants = match user_id {
        Some(user_id) => state
            .store
            .memberships_of_user(user_id)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|membership| Some(membership.tenant_id))
            .collect(),
        None => Vec::new(),
    };
    let tenants = if tenants.is_empty() {
        vec![None]
    } else {
        tenants
    };
    let actor = user_id.map_or_else(|| "anonymous".to_owned(), |id| format!("user:{id}"));
    for tenant in tenants {
        audit::record(
            state,
            tenant.as_deref(),
            &actor,
            ip.clone(),
            action,
            user_id.map(|id| format!("user:{id}")),
            json!({ "email": email }),
        )
        .await;
    }
}

/// Logs in with email and password.
///
/// Errors: 401 `invalid_credentials` (wrong email or password, or a disabled account —
/// the answer does not say which), 429 `rate_limited`.
#[utoipa::path(
    post,
    path = "/v1/auth/login",
    tag = PUBLIC_TAG,
    request_body = LoginBody,
    responses((status = 200, description = "Logged in", body = TokensBody))
)]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginBody>,
) -> Response {
    let ip = ip.map(|ip| ip.to_string());
    let email = body.email.trim().to_lowercase();
    let ip_key = ip.clone().unwrap_or_default();
    if let Err(refused) = state.limits.check(Limited::LoginIp, &ip_key) {
        return refused.into_response();
    }
    if let Err(refused) = state.limits.check(Limited::LoginAccount, &email) {
        return refused.into_response();
    }
    match state.auth.login(&email, &body.password).await {
        Ok(tokens) => {
            audit_login(&state, &email, Some(&tokens.user_id), ip, "login.ok").await;
            Json(TokensBody::from(tokens)).into_response()
        }
        Err(error) => {
            if !matches!(error, AuthError::Store(_)) {
                let user = state.store.user_by_email(&email).await.ok().flatten();
                audit_login(
                    &state,
                    &email,
                    user.as_ref().map(|u| u.id.as_str()),
                    ip,
                    "login.failed",
                )
                .await;
            }
            auth_error(error)
        }
    }
}

/// `POST /v1/auth/refresh` and `/v1/auth/logout`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    /// The refresh token of the login.
    refresh_token: String,
}

/// Trades a refresh token for new tokens; the old one stops working. Presenting a
/// refresh token a second time ends the whole login (it was copied).
///
/// Errors: 401 `invalid_token`, `token_expired`, `refresh_token_reused`; 429.
#[utoipa::path(
    post,
    path = "/v1/auth/refresh",
    tag = PUBLIC_TAG,
    request_body = RefreshBody,
    responses((status = 200, description = "New tokens", body = TokensBody))
)]
async fn refresh(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Response {
    let ip = ip.map(|ip| ip.to_string()).unwrap_or_default();
    if let Err(refused) = state.limits.check(Limited::TokenIp, &ip) {
        return refused.into_response();
    }
    match state.auth.refresh(&body.refresh_token).await {
        Ok(tokens) => Json(TokensBody::from(tokens)).into_response(),
        Err(error) => auth_error(error),
    }
}

/// Ends a login: its refresh token and access tokens stop working. An unknown or already
/// ended login is fine (204 all the same).
#[utoipa::path(
    post,
    path = "/v1/auth/logout",
    tag = PUBLIC_TAG,
    request_body = RefreshBody,
    responses((status = 204, description = "Logged out"))
)]
async fn logout(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Response {
    let ip = ip.map(|ip| ip.to_string()).unwrap_or_default();
    if let Err(refused) = state.limits.check(Limited::TokenIp, &ip) {
        return refused.into_response();
    }
    match state.auth.logout(&body.refresh_token).await {
        Ok(()) | Err(AuthError::TokenInvalid(_) | AuthError::TokenExpired) => {
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => auth_error(error),
    }
}

/// `POST /v1/auth/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    /// The password now.
    current_password: String,
    /// The new one (at least 10 characters).
    new_password: String,
}

/// Changes your password; every login of yours ends (log in again).
///
/// Errors: 401 `invalid_credentials` (wrong current password), 422 `weak_password`.
#[utoipa::path(
    post,
    path = "/v1/auth/password",
    tag = "account",
    request_body = PasswordBody,
    responses((status = 204, description = "Changed; log in again"))
)]
async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<ApiJson<PasswordBody>, ApiError>,
) -> Response {
    let user = match caller.user() {
        Ok(user) => user.clone(),
        Err(error) => return error.into_response(),
    };
    let body = match body {
        Ok(ApiJson(body)) => body,
        Err(error) => return error.into_response(),
    };
    match state
        .auth
        .change_password(&user.id, &body.current_password, &body.new_password)
        .await
    {
        Ok(()) => {
            audit_login(
                &state,
                &user.email,
                Some(&user.id),
                caller.ip_text(),
                "password.changed",
            )
            .await;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => auth_error(error),
    }
}

/// Who is calling.
#[derive(Debug, Serialize, ToSchema)]
struct MeBody {
    /// `user` or `api_key`.
    kind: &'static str,
    /// The user's or key's id.
    id: String,
    /// The user's email (none for a key).
    email: Option<String>,
    /// The user's name, or the key's.
    display_name: String,
    /// Tenants and the role in each (a key: its tenant, no role).
    tenants: Vec<MeTenant>,
}

/// One tenant of the caller.
#[derive(Debug, Serialize, ToSchema)]
struct MeTenant {
    /// Tenant id.
    tenant_id: String,
    /// Role there (none for an API key).
    #[schema(value_type = Option<String>)]
    role: Option<Role>,
    /// The key's scopes (API keys only).
    scopes: Vec<String>,
}

/// Who you are and where you may act.
#[utoipa::path(
    get,
    path = "/v1/me",
    tag = "account",
    responses((status = 200, description = "The caller", body = MeBody))
)]
async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<MeBody>, ApiError> {
    Ok(Json(match &caller.who {
        super::caller::Who::User { user, .. } => MeBody {
            kind: "user",
            id: user.id.clone(),
            email: Some(user.email.clone()),
            display_name: user.display_name.clone(),
            tenants: state
                .store
                .memberships_of_user(&user.id)
                .await?
                .into_iter()
                .map(|membership| MeTenant {
                    tenant_id: membership.tenant_id,
                    role: Some(membership.role),
                    scopes: Vec::new(),
                })
                .collect(),
        },
        super::caller::Who::Key(key) => MeBody {
            kind: "api_key",
            id: key.id.clone(),
            email: None,
            display_name: key.name.clone(),
            tenants: vec![MeTenant {
                tenant_id: key.tenant_id.clone(),
                role: None,
                scopes: key.scopes.clone(),
            }],
        },
    }))
}
