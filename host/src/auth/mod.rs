//! People and servers that call the admin API: roles and permissions ([`roles`]), the
//! master key and secrets at rest ([`secrets`]), the `[auth]` config ([`config`]),
//! password hashes and policy ([`password`]), access tokens ([`tokens`]), refresh tokens
//! and API keys ([`credentials`]), and the flows over the store ([`AuthService`]: logins,
//! refresh, logout, accounts, API keys).

mod api_keys;
pub mod config;
pub mod credentials;
mod key_file;
pub mod master_key;
pub mod password;
pub mod roles;
pub mod secrets;
mod service;
mod sessions;
pub mod tokens;
mod users;

pub use config::AuthConfig;
pub use master_key::{KeyOrigin, MasterKey, MasterKeyError};
pub use roles::{PERMISSION_TABLE, Permission, Role, Scope, permission_table_markdown};
pub use secrets::{MASKED, SecretBox, SecretError, mask};
pub use service::{AccessIdentity, AuthError, AuthService, Tokens};
pub use users::normalize_email;
