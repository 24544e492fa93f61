//! People and servers that call the admin API: roles and permissions ([`roles`]).

pub mod roles;

pub use roles::{PERMISSION_TABLE, Permission, Role, Scope, permission_table_markdown};
