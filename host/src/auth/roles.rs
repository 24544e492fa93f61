//! Who may do what: the four roles of a tenant membership, the permissions the admin API
//! checks, the scopes an API key may carry, and the one table that maps roles to
//! permissions (the README prints the same table; a test keeps them in step).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A person's role in one tenant. A user may hold a different role in each tenant.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the shop's account: members, billing-like settings, and everything an admin does.
    Owner,
    /// Runs the bots: bots, channels, plugins, FAQ and documents, API keys, the audit log.
    Admin,
    /// Shop staff: reads and answers conversations, takes over and gives back.
    Operator,
    /// Reads dashboards and conversations, changes nothing.
    Viewer,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Operator, Role::Viewer];

    /// The name stored and shown (`owner`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Operator => "operator",
            Self::Viewer => "viewer",
        }
    }

    /// Parses a stored or typed name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == name)
    }

    /// Whether this role grants `permission`.
    pub fn allows(self, permission: Permission) -> bool {
        PERMISSION_TABLE
            .iter()
            .find(|(row, _)| *row == permission)
            .is_some_and(|(_, roles)| roles.contains(&self))
    }
}

/// One thing the admin API checks before it acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// See the tenant, its bots, channels and installed plugins (no secrets).
    TenantRead,
    /// Invite, change the role of, and remove members.
    MembersManage,
    /// Rename the tenant and other billing-like settings.
    TenantSettings,
    /// Create, change and delete bots and channels.
    BotsWrite,
    /// Enable, pin, configure plugins and grant them HTTP hosts; reset their breaker.
    PluginsWrite,
    /// Change a bot's FAQ and documents.
    KnowledgeWrite,
    /// Create and revoke API keys.
    ApiKeysManage,
    /// Read conversations and their messages.
    ConversationsRead,
    /// Send messages in conversations, take over and give back.
    ConversationsAnswer,
    /// Read the audit log.
    AuditRead,
}

impl Permission {
    /// Every permission, in table order.
    pub const ALL: [Permission; 10] = [
        Permission::TenantRead,
        Permission::MembersManage,
        Permission::TenantSettings,
        Permission::BotsWrite,
        Permission::PluginsWrite,
        Permission::KnowledgeWrite,
        Permission::ApiKeysManage,
        Permission::ConversationsRead,
        Permission::ConversationsAnswer,
        Permission::AuditRead,
    ];

    /// The name shown in errors and the README (`members_manage`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TenantRead => "tenant_read",
            Self::MembersManage => "members_manage",
            Self::TenantSettings => "tenant_settings",
            Self::BotsWrite => "bots_write",
            Self::PluginsWrite => "plugins_write",
            Self::KnowledgeWrite => "knowledge_write",
            Self::ApiKeysManage => "api_keys_manage",
            Self::ConversationsRead => "conversations_read",
            Self::ConversationsAnswer => "conversations_answer",
            Self::AuditRead => "audit_read",
        }
    }
}

use Role::{Admin, Operator, Owner, Viewer};

/// The permission table: for each permission, the roles that hold it. The only place
/// roles are mapped to rights.
pub const PERMISSION_TABLE: [(Permission, &[Role]); 10] = [
    (Permission::TenantRead, &[Owner, Admin, Operator, Viewer]),
    (Permission::MembersManage, &[Owner]),
    (Permission::TenantSettings, &[Owner]),
    (Permission::BotsWrite, &[Owner, Admin]),
    (Permission::PluginsWrite, &[Owner, Admin]),
    (Permission::KnowledgeWrite, &[Owner, Admin]),
    (Permission::ApiKeysManage, &[Owner, Admin]),
    (
        Permission::ConversationsRead,
        &[Owner, Admin, Operator, Viewer],
    ),
    (Permission::ConversationsAnswer, &[Owner, Admin, Operator]),
    (Permission::AuditRead, &[Owner, Admin]),
];

/// What an API key may do; a key holds a list of scopes chosen at creation. A key never
/// manages members or other keys.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
pub enum Scope {
    /// Read the tenant, its bots, channels and plugins.
    #[serde(rename = "tenant:read")]
    TenantRead,
    /// Read conversations and messages.
    #[serde(rename = "conversations:read")]
    ConversationsRead,
    /// Send messages into conversations.
    #[serde(rename = "messages:send")]
    MessagesSend,
    /// Change FAQ and documents.
    #[serde(rename = "knowledge:write")]
    KnowledgeWrite,
    /// Change bots and channels.
    #[serde(rename = "bots:write")]
    BotsWrite,
    /// Change plugin settings.
    #[serde(rename = "plugins:write")]
    PluginsWrite,
    /// Read the audit log.
    #[serde(rename = "audit:read")]
    AuditRead,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 7] = [
        Scope::TenantRead,
        Scope::ConversationsRead,
        Scope::MessagesSend,
        Scope::KnowledgeWrite,
        Scope::BotsWrite,
        Scope::PluginsWrite,
        Scope::AuditRead,
    ];

    /// The name stored and typed (`messages:send`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TenantRead => "tenant:read",
            Self::ConversationsRead => "conversations:read",
            Self::MessagesSend => "messages:send",
            Self::KnowledgeWrite => "knowledge:write",
            Self::BotsWrite => "bots:write",
            Self::PluginsWrite => "plugins:write",
            Self::AuditRead => "audit:read",
        }
    }

    /// Parses a stored or typed name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == name)
    }

    /// The one permission this scope grants.
    pub fn permission(self) -> Permission {
        match self {
            Self::TenantRead => Permission::TenantRead,
            Self::ConversationsRead => Permission::ConversationsRead,
            Self::MessagesSend => Permission::ConversationsAnswer,
            Self::KnowledgeWrite => Permission::KnowledgeWrite,
            Self::BotsWrite => Permission::BotsWrite,
            Self::PluginsWrite => Permission::PluginsWrite,
            Self::AuditRead => Permission::AuditRead,
        }
    }
}

/// The permission table as a Markdown table (the README's copy is checked against it).
pub fn permission_table_markdown() -> String {
    let mut table = String::from("| permission | owner | admin | operator | viewer |\n");
    table.push_str("|---|---|---|---|---|\n");
    for (permission, _) in PERMISSION_TABLE {
        table.push_str(&format!("| `{}` |", permission.as_str()));
        for role in Role::ALL {
            table.push_str(if role.allows(permission) {
                " ✓ |"
            } else {
                " |"
            });
        }
        table.push('\n');
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README shows the table people read to choose roles: it must be this one.
    #[test]
    fn the_readme_shows_this_permission_table() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
            .expect("README.md at the workspace root");
        let table = permission_table_markdown();
        assert!(
            readme.contains(&table),
            "README.md must contain the permission table as generated:\n{table}"
        );
    }

    #[test]
    fn every_permission_has_exactly_one_row_in_table_order() {
        let rows: Vec<Permission> = PERMISSION_TABLE.iter().map(|(p, _)| *p).collect();
        assert_eq!(rows, Permission::ALL.to_vec());
    }

    #[test]
    fn owner_holds_everything_and_viewer_only_reads() {
        for permission in Permission::ALL {
            assert!(Owner.allows(permission), "{permission:?}");
        }
        let viewer: Vec<_> = Permission::ALL
            .into_iter()
            .filter(|p| Viewer.allows(*p))
            .collect();
        assert_eq!(
            viewer,
            [Permission::TenantRead, Permission::ConversationsRead]
        );
        assert!(!Admin.allows(Permission::MembersManage));
        assert!(Operator.allows(Permission::ConversationsAnswer));
        assert!(!Operator.allows(Permission::KnowledgeWrite));
    }

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
            let json = serde_json::to_string(&scope).expect("serializes");
            assert_eq!(json, format!("\"{}\"", scope.as_str()));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Scope::parse("members:manage"), None);
    }
}
