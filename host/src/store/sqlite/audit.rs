//! The append-only audit log in SQLite (triggers refuse UPDATE and DELETE).

use rusqlite::{Connection, params};

use super::backend;
use super::cached::CachedStatements;
use crate::store::codec::{decode, encode};
use crate::store::{AuditEntry, NewAuditEntry, StoreError};

pub(super) fn append(connection: &Connection, entry: &NewAuditEntry) -> Result<i64, StoreError> {
    connection
        .query_row_cached(
            "INSERT INTO audit_log (tenant_id, actor, action, target, ip, detail_json, at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
            params![
                entry.tenant_id,
                entry.actor,
                entry.action,
                entry.target,
                entry.ip,
                encode(&entry.detail)?,
                entry.at_ms
            ],
            |row| row.get(0),
        )
        .map_err(backend)
}

pub(super) fn of_tenant(
    connection: &Connection,
    tenant_id: &str,
    before_id: Option<i64>,
    limit: u32,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT id, tenant_id, actor, action, target, ip, detail_json, at_ms FROM audit_log
             WHERE tenant_id = ?1 AND (?2 IS NULL OR id < ?2)
             ORDER BY id DESC LIMIT ?3",
        )
        .map_err(backend)?;
    let rows = statement
        .query_map(params![tenant_id, before_id, limit], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                NewAuditEntry {
                    tenant_id: row.get(1)?,
                    actor: row.get(2)?,
                    action: row.get(3)?,
                    target: row.get(4)?,
                    ip: row.get(5)?,
                    detail: serde_json::Value::Null,
                    at_ms: row.get(7)?,
                },
                row.get::<_, String>(6)?,
            ))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (id, mut entry, detail) = row.map_err(backend)?;
        entry.detail = decode(&detail)?;
        Ok(AuditEntry { id, entry })
    })
    .collect()
}
