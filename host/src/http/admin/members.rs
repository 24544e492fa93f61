//! `/v1/tenants/{tenant}/members[/{user_id}]`: who belongs to a tenant and with which
//! role. Only an owner manages members. Adding an email nobody uses creates the person's
//! account with a random initial password, shown once in the answer. A tenant never loses
//! its last owner.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::audit;
use super::caller::Caller;
use super::extract::{ApiJson, ApiPath};
use crate::auth::{AuthError, Permission, Role};
use crate::conversation::pipeline::now_ms;
use crate::http::{ApiError, AppState};
use crate::store::{Membership, User};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(change_role, remove))
}

/// A member as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
struct MemberBody {
    /// The person's id (`us_…`), used in the member's URL.
    user_id: String,
    /// Their login.
    email: String,
    /// Their name.
    display_name: String,
    /// Their role in this tenant.
    role: Role,
    /// When they joined the tenant, ms since the Unix epoch.
    joined_at_ms: i64,
}

impl MemberBody {
    fn new(membership: &Membership, user: &User) -> Self {
        Self {
            user_id: user.id.clone(),
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            role: membership.role,
            joined_at_ms: membership.created_at_ms,
        }
    }
}

/// A tenant's members.
#[derive(Debug, Serialize, ToSchema)]
struct MemberList {
    /// By email.
    members: Vec<MemberBody>,
}

/// Body of `POST …/members`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewMember {
    /// The person's email; an account is created when nobody has it yet.
    email: String,
    /// Their role in this tenant.
    role: Role,
    /// Their name, for a new account (default: the part of the email before `@`). An
    /// existing account keeps its name.
    #[serde(default)]
    display_name: Option<String>,
}

/// Answer to `POST …/members`.
#[derive(Debug, Serialize, ToSchema)]
struct MemberAdded {
    /// The new member.
    member: MemberBody,
    /// Only when the account was created now: its password, shown this once. Give it to
    /// the person; they log in with it and change it.
    #[serde(skip_serializing_if = "Option::is_none")]
    initial_password: Option<String>,
}

/// Body of `PATCH …/members/{user_id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RoleChange {
    /// The new role.
    role: Role,
}

/// Answer with one member.
#[derive(Debug, Serialize, ToSchema)]
struct MemberAnswer {
    /// The member.
    member: MemberBody,
}

/// The tenant's members with their roles, by email.
///
/// Errors: 403 `forbidden` (not a member of the tenant).
#[utoipa::path(
    get,
    operation_id = "members_list",
    path = "/v1/tenants/{tenant}/members",
    tag = "members",
    params(("tenant" = String, Path, description = "Tenant id")),
    responses((status = 200, description = "The members", body = MemberList))
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<MemberList>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::TenantRead)
        .await?;
    let members = state
        .store
        .members(&access.tenant_id)
        .await?
        .iter()
        .map(|(membership, user)| MemberBody::new(membership, user))
        .collect();
    Ok(Json(MemberList { members }))
}

/// Adds a person to the tenant with a role (owner only). When no account has the email,
/// one is created and its initial password is in the answer, this once.
///
/// Errors: 400 `invalid_email`, `invalid_name`; 403 `forbidden` (not an owner, or an API
/// key);
/// 409 `already_member` (change the role with PATCH instead).
#[utoipa::path(
    post,
    operation_id = "members_add",
    path = "/v1/tenants/{tenant}/members",
    tag = "members",
    params(("tenant" = String, Path, description = "Tenant id")),
    request_body = NewMember,
    responses((status = 201, description = "Added", body = MemberAdded))
)]
async fn add(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    body: Result<ApiJson<NewMember>, ApiError>,
) -> Result<(StatusCode, Json<MemberAdded>), ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::MembersManage)
        .await?;
    let ApiJson(body) = body?;
    let email = body.email.trim().to_lowercase();
    check_email(&email)?;
    let (user, initial_password) = match state.store.user_by_email(&email).await? {
        Some(user) => (user, None),
        None => {
            let display_name = body
                .display_name
                .as_deref()
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map_or_else(|| default_display_name(&email), str::to_owned);
            let password = initial_password()?;
            match create_user(&state, &email, &display_name, &password).await? {
                Some(user) => (user, Some(password)),
                // Created by someone else between the lookup and now: add that account.
                None => (
                    state
                        .store
                        .user_by_email(&email)
                        .await?
                        .ok_or_else(|| email_taken_race(&email))?,
                    None,
                ),
            }
        }
    };
    if state
        .store
        .membership(&access.tenant_id, &user.id)
        .await?
        .is_some()
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_member",
            format!(
                "{email} is already a member of '{}'; change their role with PATCH /v1/tenants/{}/members/{}",
                access.tenant_id, access.tenant_id, user.id
            ),
        ));
    }
    let membership = Membership {
        tenant_id: access.tenant_id.clone(),
        user_id: user.id.clone(),
        role: body.role,
        created_at_ms: now_ms(),
    };
    state.store.put_membership(&membership).await?;
    tracing::info!(tenant = %access.tenant_id, user = %user.id, role = body.role.as_str(), created = initial_password.is_some(), "member added");
    audit::by(
        &state,
        &caller,
        &access.tenant_id,
        "member.added",
        Some(format!("user:{}", user.id)),
        json!({"role": body.role, "account_created": initial_password.is_some()}),
    )
    .await;
    let member = MemberBody::new(&membership, &user);
    Ok((
        StatusCode::CREATED,
        Json(MemberAdded {
            member,
            initial_password,
        }),
    ))
}

/// Changes a member's role (owner only).
///
/// Errors: 403 `forbidden`; 404 `member_not_found`; 409 `last_owner` (the tenant would
/// have no owner left: make someone else owner first).
#[utoipa::path(
    patch,
    operation_id = "members_change_role",
    path = "/v1/tenants/{tenant}/members/{user_id}",
    tag = "members",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("user_id" = String, Path, description = "The member's user id (`us_…`)")
    ),
    request_body = RoleChange,
    responses((status = 200, description = "The member with the new role", body = MemberAnswer))
)]
async fn change_role(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, user_id)): ApiPath<(String, String)>,
    body: Result<ApiJson<RoleChange>, ApiError>,
) -> Result<Json<MemberAnswer>, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::MembersManage)
        .await?;
    let ApiJson(body) = body?;
    let members = state.store.members(&access.tenant_id).await?;
    let (old, user) = find_member(&members, &access.tenant_id, &user_id)?;
    if old.role == body.role {
        return Ok(Json(MemberAnswer {
            member: MemberBody::new(old, user),
        }));
    }
    let memberships: Vec<Membership> = members.iter().map(|(m, _)| m.clone()).collect();
    if !keeps_an_owner(&memberships, &user_id, Some(body.role)) {
        return Err(last_owner(&access.tenant_id));
    }
    let changed = Membership {
        role: body.role,
        ..old.clone()
    };
    state.store.put_membership(&changed).await?;
    ensure_an_owner_remains(&state, old).await?;
    tracing::info!(tenant = %access.tenant_id, user = %user_id, from = old.role.as_str(), to = body.role.as_str(), "member role changed");
    audit::by(
        &state,
        &caller,
        &access.tenant_id,
        "member.role_changed",
        Some(format!("user:{user_id}")),
        json!({"from": old.role, "to": body.role}),
    )
    .await;
    Ok(Json(MemberAnswer {
        member: MemberBody::new(&changed, user),
    }))
}

/// Removes a member from the tenant (owner only); their account stays.
///
/// Errors: 403 `forbidden`; 404 `member_not_found`; 409 `last_owner`.
#[utoipa::path(
    delete,
    operation_id = "members_remove",
    path = "/v1/tenants/{tenant}/members/{user_id}",
    tag = "members",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("user_id" = String, Path, description = "The member's user id (`us_…`)")
    ),
    responses((status = 204, description = "Removed"))
)]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, user_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let access = caller
        .require(&state, &tenant, Permission::MembersManage)
        .await?;
    let members = state.store.members(&access.tenant_id).await?;
    let (old, _) = find_member(&members, &access.tenant_id, &user_id)?;
    let memberships: Vec<Membership> = members.iter().map(|(m, _)| m.clone()).collect();
    if !keeps_an_owner(&memberships, &user_id, None) {
        return Err(last_owner(&access.tenant_id));
    }
    if !state
        .store
        .delete_membership(&access.tenant_id, &user_id)
        .await?
    {
        return Err(member_not_found(&access.tenant_id, &user_id));
    }
    ensure_an_owner_remains(&state, old).await?;
    tracing::info!(tenant = %access.tenant_id, user = %user_id, role = old.role.as_str(), "member removed");
    audit::by(
        &state,
        &caller,
        &access.tenant_id,
        "member.removed",
        Some(format!("user:{user_id}")),
        json!({"role": old.role}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether the tenant still has an owner once `user_id` holds `new_role` (`None`: once
/// they are removed).
fn keeps_an_owner(members: &[Membership], user_id: &str, new_role: Option<Role>) -> bool {
    members.iter().any(|member| {
        let role = if member.user_id == user_id {
            new_role
        } else {
            Some(member.role)
        };
        role == Some(Role::Owner)
    })
}

/// After a demotion or removal: when two owners demoted each other at the same moment,
/// both checks passed and the tenant may now have none. Then this change is undone (the
/// old membership written back) and refused; whichever write comes last sees no owner,
/// so the tenant always keeps one.
async fn ensure_an_owner_remains(state: &AppState, old: &Membership) -> Result<(), ApiError> {
    if old.role != Role::Owner {
        return Ok(());
    }
    let now: Vec<Membership> = state
        .store
        .members(&old.tenant_id)
        .await?
        .into_iter()
        .map(|(membership, _)| membership)
        .collect();
    if now.iter().any(|member| member.role == Role::Owner) {
        return Ok(());
    }
    tracing::warn!(tenant = %old.tenant_id, user = %old.user_id, "a concurrent change left no owner; restoring this owner");
    state.store.put_membership(old).await?;
    Err(last_owner(&old.tenant_id))
}

fn find_member<'a>(
    members: &'a [(Membership, User)],
    tenant_id: &str,
    user_id: &str,
) -> Result<(&'a Membership, &'a User), ApiError> {
    members
        .iter()
        .find(|(membership, _)| membership.user_id == user_id)
        .map(|(membership, user)| (membership, user))
        .ok_or_else(|| member_not_found(tenant_id, user_id))
}

fn member_not_found(tenant_id: &str, user_id: &str) -> ApiError {
    ApiError::not_found(
        "member_not_found",
        format!("'{user_id}' is not a member of tenant '{tenant_id}'"),
    )
}

fn last_owner(tenant_id: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "last_owner",
        format!(
            "this would leave tenant '{tenant_id}' without an owner: make another member owner first"
        ),
    )
}

fn email_taken_race(email: &str) -> ApiError {
    // The account was created and deleted again within one request: nothing to add.
    ApiError::new(
        StatusCode::CONFLICT,
        "email_taken",
        format!("the account of {email} changed while adding it; try again"),
    )
}

/// A plausible email: one `@` with something on both sides, no blanks. The auth service
/// checks it again when it creates an account.
fn check_email(email: &str) -> Result<(), ApiError> {
    let plausible = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        });
    if plausible {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_email",
            format!("'{email}' is not an email address"),
        ))
    }
}

/// `an` for `an@may.vn`.
fn default_display_name(email: &str) -> String {
    email.split('@').next().unwrap_or(email).to_owned()
}

/// A strong random password from the auth service's generator.
fn initial_password() -> Result<String, ApiError> {
    crate::auth::password::generate_password().map_err(|error| {
        tracing::error!(%error, "no random bytes for an initial password");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "random_unavailable",
            "the server cannot generate a password right now; try again",
        )
    })
}

/// Creates an account through the auth service (it hashes the password and checks the
/// email). `None` when the email was taken meanwhile.
async fn create_user(
    state: &AppState,
    email: &str,
    display_name: &str,
    password: &str,
) -> Result<Option<User>, ApiError> {
    match state.auth.create_user(email, display_name, password).await {
        Ok(user) => Ok(Some(user)),
        Err(AuthError::EmailTaken) => Ok(None),
        Err(AuthError::InvalidEmail(reason)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_email",
            reason,
        )),
        Err(AuthError::InvalidName(reason)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_name",
            reason,
        )),
        Err(AuthError::Store(error)) => Err(error.into()),
        Err(error) => {
            tracing::error!(%error, "creating a member's account failed");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the account could not be created",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(user_id: &str, role: Role) -> Membership {
        Membership {
            tenant_id: "may".into(),
            user_id: user_id.into(),
            role,
            created_at_ms: 0,
        }
    }

    #[test]
    fn the_only_owner_can_be_neither_demoted_nor_removed() {
        let members = [member("us_a", Role::Owner), member("us_b", Role::Admin)];
        assert!(!keeps_an_owner(&members, "us_a", Some(Role::Admin)));
        assert!(!keeps_an_owner(&members, "us_a", None));
        assert!(keeps_an_owner(&members, "us_a", Some(Role::Owner)));
    }

    #[test]
    fn with_a_second_owner_either_may_step_down() {
        let members = [member("us_a", Role::Owner), member("us_b", Role::Owner)];
        assert!(keeps_an_owner(&members, "us_a", Some(Role::Viewer)));
        assert!(keeps_an_owner(&members, "us_b", None));
    }

    #[test]
    fn other_members_change_freely_and_promotion_makes_an_owner() {
        let members = [member("us_a", Role::Owner), member("us_b", Role::Operator)];
        assert!(keeps_an_owner(&members, "us_b", None));
        assert!(keeps_an_owner(&members, "us_b", Some(Role::Viewer)));
        let ownerless = [member("us_b", Role::Admin)];
        assert!(keeps_an_owner(&ownerless, "us_b", Some(Role::Owner)));
    }

    #[test]
    fn emails_are_checked_before_any_lookup() {
        for good in ["an@may.vn", "a.b+c@shop.example.com"] {
            assert!(check_email(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "may.vn",
            "@may.vn",
            "an@",
            "an@localhost",
            "a n@may.vn",
            "a@b@c.vn",
        ] {
            let error = check_email(bad).expect_err(bad);
            assert_eq!(error.code, "invalid_email", "{bad}");
        }
    }

    #[test]
    fn initial_passwords_are_long_random_and_url_safe() {
        let first = initial_password().expect("random");
        let second = initial_password().expect("random");
        assert_eq!(first.len(), 24);
        assert_ne!(first, second);
        assert!(
            first
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{first}"
        );
        assert_eq!(default_display_name("an@may.vn"), "an");
    }
}
