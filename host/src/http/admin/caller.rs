//! Who is calling the admin API, and whether they may do what they ask in a tenant.
//!
//! `Authorization: Bearer <token>` carries either a person's access token (a JWT from
//! `POST /v1/auth/login`) or a tenant's API key (`loa_ak_…`). A person acts in a tenant
//! with the role of their membership there; a key acts only in its own tenant and only
//! within its scopes. Any other tenant answers 403 whether it exists or not, so a caller
//! cannot even learn which tenants exist.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::{AuthError, Permission, Role, Scope};
use crate::http::limits::Limited;
use crate::http::{ApiError, AppState};
use crate::store::{ApiKey, User};

/// The start of every API key: tells a key from a JWT without trying both.
const API_KEY_START: &str = "loa_ak_";

/// An authenticated caller of the admin API.
#[derive(Debug, Clone)]
pub struct Caller {
    /// A person or a server.
    pub who: Who,
    /// The client's address, for the audit log and rate limits.
    pub ip: Option<IpAddr>,
}

/// The two kinds of callers.
#[derive(Debug, Clone)]
pub enum Who {
    /// A person with an access token of one login.
    User {
        /// The user.
        user: User,
        /// The login's refresh-token family (`sid`).
        session_family: String,
    },
    /// A tenant's API key.
    Key(ApiKey),
}

/// What a caller may do in one tenant, once checked.
#[derive(Debug, Clone)]
pub struct Access {
    /// The tenant.
    pub tenant_id: String,
    /// The caller's role there (`None` for an API key).
    pub role: Option<Role>,
}

impl Caller {
    /// `user:us_…` or `key:ak_…`, as the audit log names actors.
    pub fn actor(&self) -> String {
        match &self.who {
            Who::User { user, .. } => format!("user:{}", user.id),
            Who::Key(key) => format!("key:{}", key.id),
        }
    }

    /// The client's IP as text, for the audit log.
    pub fn ip_text(&self) -> Option<String> {
        self.ip.map(|ip| ip.to_string())
    }

    /// The user, or 403 for an API key (account routes are for people).
    pub fn user(&self) -> Result<&User, ApiError> {
        match &self.who {
            Who::User { user, .. } => Ok(user),
            Who::Key(_) => Err(forbidden(
                "API keys cannot use this route; log in as a person",
            )),
        }
    }

    /// Checks that the caller may use `permission` in `tenant_id`: 403 `forbidden` with the
    /// reason otherwise.
    pub async fn require(
        &self,
        state: &AppState,
        tenant_id: &str,
        permission: Permission,
    ) -> Result<Access, ApiError> {
        match &self.who {
            Who::User { user, .. } => {
                let membership = state.store.membership(tenant_id, &user.id).await?;
                let Some(membership) = membership else {
                    return Err(forbidden(format!(
                        "you are not a member of tenant '{tenant_id}'"
                    )));
                };
                if !membership.role.allows(permission) {
                    return Err(forbidden(format!(
                        "your role in '{tenant_id}' is {}; {} needs another role",
                        membership.role.as_str(),
                        permission.as_str()
                    )));
                }
                Ok(Access {
                    tenant_id: tenant_id.to_owned(),
                    role: Some(membership.role),
                })
            }
            Who::Key(key) => {
                if key.tenant_id != tenant_id {
                    return Err(forbidden(format!(
                        "this API key belongs to another tenant than '{tenant_id}'"
                    )));
                }
                let granted = key
                    .scopes
                    .iter()
                    .filter_map(|scope| Scope::parse(scope))
                    .any(|scope| scope.permission() == permission);
                if !granted {
                    let needed: Vec<&str> = Scope::ALL
                        .into_iter()
                        .filter(|scope| scope.permission() == permission)
                        .map(Scope::as_str)
                        .collect();
                    let message = if needed.is_empty() {
                        format!(
                            "API keys cannot {}; log in as a person",
                            permission.as_str()
                        )
                    } else {
                        format!("this API key lacks the scope {}", needed.join(" or "))
                    };
                    return Err(forbidden(message));
                }
                Ok(Access {
                    tenant_id: tenant_id.to_owned(),
                    role: None,
                })
            }
        }
    }
}

/// 403 `forbidden`.
pub fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

/// A refused authentication: 401 with `WWW-Authenticate: Bearer`.
#[derive(Debug)]
pub struct Unauthenticated(pub ApiError);

impl IntoResponse for Unauthenticated {
    fn into_response(self) -> Response {
        let mut response = self.0.into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        response
    }
}

fn unauthenticated(code: &'static str, message: impl Into<String>) -> Response {
    Unauthenticated(ApiError::new(StatusCode::UNAUTHORIZED, code, message)).into_response()
}

/// The token of `Bearer <token>` (the scheme is case-insensitive, RFC 9110 §11.1).
fn bearer_token(value: &HeaderValue) -> Option<&str> {
    let value = value.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The client's address, when the server records it.
pub fn client_ip_of(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ip = client_ip_of(parts);
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(unauthenticated(
                "unauthenticated",
                "send `Authorization: Bearer <access token or API key>`",
            ));
        };
        let Some(token) = bearer_token(value) else {
            return Err(unauthenticated(
                "unauthenticated",
                "the Authorization header must be `Bearer <access token or API key>`",
            ));
        };
        let who = if token.starts_with(API_KEY_START) {
            state.auth.authenticate_api_key(token).await.map(Who::Key)
        } else {
            state
                .auth
                .authenticate_access(token)
                .await
                .map(|identity| Who::User {
                    user: identity.user,
                    session_family: identity.session_family,
                })
        };
        let who = match who {
            Ok(who) => who,
            Err(AuthError::Store(error)) => return Err(ApiError::from(error).into_response()),
            Err(error) => {
                tracing::info!(path = %parts.uri.path(), ip = ?ip, %error, "admin API token refused");
                return Err(unauthenticated("invalid_token", error.to_string()));
            }
        };
        let caller = Caller { who, ip };
        if let Err(refused) = state.limits.check(Limited::AdminCaller, &caller.actor()) {
            return Err(refused.into_response());
        }
        Ok(caller)
    }
}

/// The client's IP address, for routes that take no token (logging in).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(client_ip_of(parts)))
    }
}
