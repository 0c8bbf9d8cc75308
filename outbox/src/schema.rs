//! The tables: the SQL shipped in the crate and applying it.

use sqlx::PgPool;

/// The schema (`migrations/0001_event_outbox.sql`): both tables, the relay's index and the
/// `NOTIFY` trigger. Idempotent.
pub const MIGRATION_SQL: &str = include_str!("../migrations/0001_event_outbox.sql");

/// Name of the outbox table.
pub const OUTBOX_TABLE: &str = "event_outbox";

/// Name of the inbox table.
pub const INBOX_TABLE: &str = "event_inbox";

/// The channel the trigger notifies and the relay listens on.
pub const NOTIFY_CHANNEL: &str = "event_outbox";

/// Serializes concurrent `migrate` calls (several service instances starting at once):
/// `CREATE ... IF NOT EXISTS` is not safe against itself.
const MIGRATE_LOCK: i64 = 0x706d_705f_6d69_6772; // "pmp_migr"

/// Apply [`MIGRATION_SQL`] in one transaction, under a transaction-level advisory lock.
/// Safe to call at every start and from many processes at once.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATE_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(MIGRATION_SQL).execute(&mut *tx).await?;
    tx.commit().await
}
