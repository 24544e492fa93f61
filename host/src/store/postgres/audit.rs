//! The append-only audit log in PostgreSQL (a trigger refuses UPDATE, DELETE, TRUNCATE).

use deadpool_postgres::GenericClient;

use super::statements::{column, limit, query, query_one};
use crate::store::codec::{decode, encode};
use crate::store::{AuditEntry, NewAuditEntry, StoreError};

pub(super) async fn append<C: GenericClient>(
    client: &C,
    entry: &NewAuditEntry,
) -> Result<i64, StoreError> {
    let row = query_one(
        client,
        "INSERT INTO audit_log (tenant_id, actor, action, target, ip, detail_json, at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        &[
            &entry.tenant_id,
            &entry.actor,
            &entry.action,
            &entry.target,
            &entry.ip,
            &encode(&entry.detail)?,
            &entry.at_ms,
        ],
    )
    .await?;
    column(&row, "id")
}

pub(super) async fn of_tenant<C: GenericClient>(
    client: &C,
    tenant_id: &str,
    before_id: Option<i64>,
    max: u32,
) -> Result<Vec<AuditEntry>, StoreError> {
    let rows = query(
        client,
        "SELECT id, tenant_id, actor, action, target, ip, detail_json, at_ms FROM audit_log
         WHERE tenant_id = $1 AND ($2::bigint IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3",
        &[&tenant_id, &before_id, &limit(max)],
    )
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AuditEntry {
                id: column(row, "id")?,
                entry: NewAuditEntry {
                    tenant_id: column(row, "tenant_id")?,
                    actor: column(row, "actor")?,
                    action: column(row, "action")?,
                    target: column(row, "target")?,
                    ip: column(row, "ip")?,
                    detail: decode(column(row, "detail_json")?)?,
                    at_ms: column(row, "at_ms")?,
                },
            })
        })
        .collect()
}
