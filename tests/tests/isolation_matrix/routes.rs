//! The matrix's own table of the admin API: every operation with what it needs, the
//! callers, and the answer the permission table says each caller gets.

use loa::auth::{Permission, Role, Scope};

/// What an operation needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nothing: logging in, refreshing, logging out. A token sent along changes nothing.
    Public,
    /// Any valid token, a person's or an API key's.
    Anyone,
    /// A person's token: account routes are not for keys.
    Person,
    /// This permission in the tenant named in the path.
    In(Permission),
    /// This permission in the tenant, as a person (an operator's moves: a key holds no
    /// conversation).
    PersonIn(Permission),
}

use Need::{Anyone, In, Person, PersonIn, Public};
use Permission as P;

/// Every operation of the admin API: `(method, path template, need)`. The test fails when
/// the OpenAPI document has an operation missing here (a new endpoint must say who may
/// use it) or this table has one the document lacks.
pub const ROUTES: &[(&str, &str, Need)] = &[
    ("POST", "/v1/auth/login", Public),
    ("POST", "/v1/auth/refresh", Public),
    ("POST", "/v1/auth/logout", Public),
    ("POST", "/v1/auth/password", Person),
    ("GET", "/v1/me", Anyone),
    ("GET", "/v1/tenants", Anyone),
    ("GET", "/v1/plugins", Anyone),
    ("GET", "/v1/tenants/{tenant}", In(P::TenantRead)),
    ("PATCH", "/v1/tenants/{tenant}", In(P::TenantSettings)),
    ("GET", "/v1/tenants/{tenant}/members", In(P::TenantRead)),
    ("POST", "/v1/tenants/{tenant}/members", In(P::MembersManage)),
    (
        "PATCH",
        "/v1/tenants/{tenant}/members/{user_id}",
        In(P::MembersManage),
    ),
    (
        "DELETE",
        "/v1/tenants/{tenant}/members/{user_id}",
        In(P::MembersManage),
    ),
    ("GET", "/v1/tenants/{tenant}/api-keys", In(P::ApiKeysManage)),
    (
        "POST",
        "/v1/tenants/{tenant}/api-keys",
        In(P::ApiKeysManage),
    ),
    (
        "DELETE",
        "/v1/tenants/{tenant}/api-keys/{id}",
        In(P::ApiKeysManage),
    ),
    ("GET", "/v1/tenants/{tenant}/bots", In(P::TenantRead)),
    ("POST", "/v1/tenants/{tenant}/bots", In(P::BotsWrite)),
    ("GET", "/v1/tenants/{tenant}/bots/{bot}", In(P::TenantRead)),
    ("PUT", "/v1/tenants/{tenant}/bots/{bot}", In(P::BotsWrite)),
    (
        "GET",
        "/v1/tenants/{tenant}/bots/{bot}/widget-secret",
        In(P::BotsWrite),
    ),
    (
        "GET",
        "/v1/tenants/{tenant}/bots/{bot}/faq",
        In(P::TenantRead),
    ),
    (
        "PUT",
        "/v1/tenants/{tenant}/bots/{bot}/faq",
        In(P::KnowledgeWrite),
    ),
    (
        "POST",
        "/v1/tenants/{tenant}/bots/{bot}/faq",
        In(P::KnowledgeWrite),
    ),
    (
        "GET",
        "/v1/tenants/{tenant}/bots/{bot}/faq/{id}",
        In(P::TenantRead),
    ),
    (
        "PUT",
        "/v1/tenants/{tenant}/bots/{bot}/faq/{id}",
        In(P::KnowledgeWrite),
    ),
    (
        "DELETE",
        "/v1/tenants/{tenant}/bots/{bot}/faq/{id}",
        In(P::KnowledgeWrite),
    ),
    (
        "GET",
        "/v1/tenants/{tenant}/bots/{bot}/documents",
        In(P::TenantRead),
    ),
    (
        "GET",
        "/v1/tenants/{tenant}/bots/{bot}/documents/{id}",
        In(P::TenantRead),
    ),
    (
        "PUT",
        "/v1/tenants/{tenant}/bots/{bot}/documents/{id}",
        In(P::KnowledgeWrite),
    ),
    (
        "DELETE",
        "/v1/tenants/{tenant}/bots/{bot}/documents/{id}",
        In(P::KnowledgeWrite),
    ),
    ("GET", "/v1/tenants/{tenant}/channels", In(P::TenantRead)),
    ("POST", "/v1/tenants/{tenant}/channels", In(P::BotsWrite)),
    (
        "GET",
        "/v1/tenants/{tenant}/channels/{channel}",
        In(P::TenantRead),
    ),
    (
        "PATCH",
        "/v1/tenants/{tenant}/channels/{channel}",
        In(P::BotsWrite),
    ),
    (
        "DELETE",
        "/v1/tenants/{tenant}/channels/{channel}",
        In(P::BotsWrite),
    ),
    ("GET", "/v1/tenants/{tenant}/plugins", In(P::TenantRead)),
    (
        "PUT",
        "/v1/tenants/{tenant}/plugins/{name}",
        In(P::PluginsWrite),
    ),
    (
        "DELETE",
        "/v1/tenants/{tenant}/plugins/{name}/breaker",
        In(P::PluginsWrite),
    ),
    (
        "GET",
        "/v1/tenants/{tenant}/conversations",
        In(P::ConversationsRead),
    ),
    (
        "GET",
        "/v1/tenants/{tenant}/conversations/{id}",
        In(P::ConversationsRead),
    ),
    (
        "GET",
        "/v1/tenants/{tenant}/conversations/{id}/messages",
        In(P::ConversationsRead),
    ),
    (
        "POST",
        "/v1/tenants/{tenant}/conversations/{id}/take",
        PersonIn(P::ConversationsAnswer),
    ),
    (
        "POST",
        "/v1/tenants/{tenant}/conversations/{id}/give-back",
        PersonIn(P::ConversationsAnswer),
    ),
    (
        "POST",
        "/v1/tenants/{tenant}/conversations/{id}/close",
        PersonIn(P::ConversationsAnswer),
    ),
    (
        "POST",
        "/v1/tenants/{tenant}/conversations/{id}/reply",
        PersonIn(P::ConversationsAnswer),
    ),
    (
        "GET",
        "/v1/tenants/{tenant}/conversations/{id}/handovers",
        In(P::ConversationsRead),
    ),
    (
        "GET",
        "/v1/tenants/{tenant}/conversations/{id}/decisions",
        In(P::ConversationsRead),
    ),
    (
        "GET",
        "/v1/tenants/{tenant}/inbox",
        In(P::ConversationsRead),
    ),
    (
        "GET",
        "/v1/tenants/{tenant}/handover-metrics",
        In(P::ConversationsRead),
    ),
    ("GET", "/v1/tenants/{tenant}/live", In(P::ConversationsRead)),
    (
        "PUT",
        "/v1/tenants/{tenant}/presence",
        PersonIn(P::ConversationsAnswer),
    ),
    ("GET", "/v1/tenants/{tenant}/audit", In(P::AuditRead)),
    (
        "GET",
        "/v1/tenants/{tenant}/deliveries",
        In(P::ConversationsRead),
    ),
    (
        "GET",
        "/v1/tenants/{tenant}/deliveries/{id}",
        In(P::ConversationsRead),
    ),
    (
        "POST",
        "/v1/tenants/{tenant}/deliveries/{id}/retry",
        In(P::ConversationsAnswer),
    ),
    // The bot's tenant is the operation's tenant.
    (
        "POST",
        "/v1/bots/{bot}/messages",
        In(P::ConversationsAnswer),
    ),
];

/// One kind of caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Caller {
    /// A member of the home tenant with this role, with a real access token.
    Member(Role),
    /// The home tenant's API key with every scope.
    Key,
    /// No `Authorization` header.
    NoToken,
    /// The owner's claims in a JWT with `alg: none` and no signature.
    AlgNone,
    /// The owner's claims signed HS256 with a key that is not the server's.
    OtherKey,
    /// The owner's claims signed with the server's key, expired an hour ago.
    Expired,
    /// A key of the home tenant that was revoked.
    RevokedKey,
}

/// Every caller, in the order the matrix runs them.
pub const CALLERS: [Caller; 10] = [
    Caller::Member(Role::Owner),
    Caller::Member(Role::Admin),
    Caller::Member(Role::Operator),
    Caller::Member(Role::Viewer),
    Caller::Key,
    Caller::NoToken,
    Caller::AlgNone,
    Caller::OtherKey,
    Caller::Expired,
    Caller::RevokedKey,
];

impl Caller {
    /// `owner`, `api key`, `alg:none token`…, for failure messages.
    pub fn name(self) -> String {
        match self {
            Self::Member(role) => role.as_str().to_owned(),
            Self::Key => "api key (all scopes)".to_owned(),
            Self::NoToken => "no token".to_owned(),
            Self::AlgNone => "alg:none token".to_owned(),
            Self::OtherKey => "token signed with another key".to_owned(),
            Self::Expired => "expired token".to_owned(),
            Self::RevokedKey => "revoked api key".to_owned(),
        }
    }
}

/// What a cell must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// 2xx.
    Allowed,
    /// 401.
    Unauthenticated,
    /// 403.
    Forbidden,
}

/// The answer the permission table gives `caller` for an operation needing `need`, in its
/// own tenant or the other one.
pub fn expected(need: Need, caller: Caller, own_tenant: bool) -> Expect {
    let authenticated = matches!(caller, Caller::Member(_) | Caller::Key);
    match need {
        Public => Expect::Allowed,
        _ if !authenticated => Expect::Unauthenticated,
        Anyone => Expect::Allowed,
        Person if matches!(caller, Caller::Member(_)) => Expect::Allowed,
        Person => Expect::Forbidden,
        In(_) | PersonIn(_) if !own_tenant => Expect::Forbidden,
        PersonIn(permission) => match caller {
            Caller::Member(role) if role.allows(permission) => Expect::Allowed,
            _ => Expect::Forbidden,
        },
        In(permission) => {
            let granted = match caller {
                Caller::Member(role) => role.allows(permission),
                // The key holds every scope: it may do what some scope grants.
                _ => Scope::ALL
                    .into_iter()
                    .any(|scope| scope.permission() == permission),
            };
            if granted {
                Expect::Allowed
            } else {
                Expect::Forbidden
            }
        }
    }
}

#[test]
fn the_expectations_follow_the_permission_table() {
    let viewer = Caller::Member(Role::Viewer);
    assert_eq!(expected(In(P::TenantRead), viewer, true), Expect::Allowed);
    assert_eq!(
        expected(In(P::TenantRead), viewer, false),
        Expect::Forbidden
    );
    assert_eq!(expected(In(P::AuditRead), viewer, true), Expect::Forbidden);
    assert_eq!(
        expected(In(P::MembersManage), Caller::Key, true),
        Expect::Forbidden
    );
    assert_eq!(
        expected(In(P::KnowledgeWrite), Caller::Key, true),
        Expect::Allowed
    );
    assert_eq!(
        expected(In(P::TenantRead), Caller::Expired, true),
        Expect::Unauthenticated
    );
    assert_eq!(expected(Public, Caller::AlgNone, true), Expect::Allowed);
    assert_eq!(expected(Person, Caller::Key, true), Expect::Forbidden);
    let answer = PersonIn(P::ConversationsAnswer);
    assert_eq!(expected(answer, Caller::Key, true), Expect::Forbidden);
    assert_eq!(
        expected(answer, Caller::Member(Role::Operator), true),
        Expect::Allowed
    );
    assert_eq!(
        expected(answer, Caller::Member(Role::Operator), false),
        Expect::Forbidden
    );
    assert_eq!(expected(answer, viewer, true), Expect::Forbidden);
}
