//! Transactional outbox and inbox on PostgreSQL: the database and Kafka agree.
//!
//! A service that keeps state in PostgreSQL and publishes events cannot do both atomically:
//! it commits and crashes before publishing (the event is lost), or it publishes and its
//! transaction rolls back (the event announces something that never happened). The outbox
//! writes the event into the *same transaction* as the business rows; a relay publishes it
//! afterwards through the [`RobustProducer`](pmp_event_runtime::producer::RobustProducer).
//! The inbox is the mirror image on the consuming side: the handler's writes and the record
//! "this `event_id` was handled" commit together, so a redelivered event has no second effect.
//!
//! ```no_run
//! # use pmp_event_outbox::{Outbox, Inbox, OnTx};
//! # use pmp_event_runtime::consumer::{ConsumerBuilder, ConsumerConfig};
//! # async fn demo<P: pmp_event_runtime::EventPayload, E: pmp_event_runtime::EventSet>(
//! #     pool: sqlx::PgPool, payload: P, config: ConsumerConfig,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! pmp_event_outbox::migrate(&pool).await?;              // creates the tables (idempotent)
//! let outbox = Outbox::new("patient-service");
//! let mut tx = pool.begin().await?;
//! // sqlx::query("INSERT INTO patients ...").execute(&mut *tx).await?;
//! outbox.stage(&mut tx, &payload).await?;               // schema-checked, same transaction
//! tx.commit().await?;                                   // both or neither
//!
//! let inbox = Inbox::new(pool.clone(), "matching-service");
//! let consumer = ConsumerBuilder::<E>::new(config)
//!     .on_tx::<P, _>(&inbox, |event, tx| Box::pin(async move {
//!         // the event_id is already recorded in `tx`; write the effects to it
//!         # let _ = (event, tx);
//!         Ok(())
//!     }))
//!     .start()?;
//! # Ok(()) }
//! ```
//!
//! The relay runs in the service or as its own process: [`Relay::start`].
//!
//! # Tables
//!
//! Shipped as `migrations/0001_event_outbox.sql` ([`MIGRATION_SQL`]); [`migrate`] applies it
//! idempotently, or copy it into your own migration tool.
//!
//! | `event_outbox` | |
//! |---|---|
//! | `id` | `bigint` identity: staging order, the order the relay publishes in |
//! | `event_id` | the envelope's UUID v7; re-sends carry it |
//! | `event_type`, `version`, `topic`, `key` | routing, from the payload's schema (`x-kafka-topic`, `x-kafka-key`) |
//! | `headers` | `jsonb`: the record headers (`event_type`, `version`, `event_id`; `traceparent` and `tracestate` when the row was staged inside a span with an OpenTelemetry context: the relay sends them as they are) |
//! | `envelope` | `bytea`: the wire envelope, exactly the bytes Kafka receives |
//! | `created_at`, `published_at` | staged; acknowledged by Kafka (or by the DLQ topic) |
//! | `dead_letter` | for a row that went to the DLQ: `<class>: <reason>`, never payload values |
//!
//! `event_inbox`: primary key (`consumer`, `event_id`), plus `event_type`, `version`,
//! `handled_at`. A statement trigger on `event_outbox` sends `NOTIFY event_outbox` at commit.
//!
//! # Guarantees
//!
//! * **Atomic with the business data.** [`Outbox::stage`] inserts into the caller's
//!   transaction: the event exists if and only if the transaction commits. A rolled-back
//!   transaction's event is never published.
//! * **Schema-checked at the call site.** A payload that fails its JSON Schema is refused with
//!   [`StageError::Invalid`] (JSON pointer and keyword, never the value) and nothing is
//!   inserted; the transaction is left to the caller (roll it back, or stage something else).
//! * **At least once, same `event_id`.** A row is marked published (or deleted, see
//!   [`AfterDelivery`]) only after Kafka acknowledged it (`Delivered`; a `Spooled` outcome does
//!   not count, the row stays). A relay killed between the acknowledgement and the mark
//!   publishes the row again after restart, with the same `event_id`.
//! * **Per-key order.** The relay publishes rows in `id` order, and the producer keeps the
//!   order it is given per key. Each fetch reads *every* unpublished row that is not already in
//!   flight, in `id` order, so a row that commits late (a lower `id` from a longer transaction)
//!   is published before any row staged by a transaction that started after it committed. Two
//!   transactions that stage for the same key *concurrently* (neither committed before the
//!   other began) have no defined order, in the database as in Kafka; an update of the
//!   entity's row serializes them, and then the order is the commit order.
//! * **One relay publishes.** Several relay instances may run (for availability); one leader
//!   holds a session-level advisory lock ([`RelayConfig::lock_key`]) and does all the work on
//!   that same connection, the others wait. Chosen over key-hash partitioning because it needs
//!   no membership protocol: per-key order across a hand-over from one partition owner to
//!   another would need one, while the lock is released by PostgreSQL the moment the leader's
//!   session ends (crash, kill, network loss), and one relay already publishes faster than
//!   services stage (see BENCHMARKS.md).
//! * **Inbox: effectively once.** [`OnTx::on_tx`] records the `event_id` in `event_inbox` in a
//!   new transaction, hands that transaction to the handler and commits it after the handler
//!   returned `Ok`; a delivery whose `event_id` is already recorded is skipped. The handler
//!   returns only after the commit, and the consumer stores the Kafka offset only after the
//!   handler returned, so the offset is committed after the database transaction.
//!
//! # Failure modes
//!
//! | what | what happens |
//! |---|---|
//! | payload fails its schema at `stage` | `StageError::Invalid`; nothing inserted, the transaction is the caller's |
//! | database unreachable at relay start or later | reconnect with exponential backoff and full jitter; rows wait in the table |
//! | Kafka down | the relay feeds the producer only while it is `Up`; rows stay unpublished and drain when Kafka is back (the few already handed over are spooled by the producer and sent again by the relay: duplicates, same `event_id`) |
//! | relay killed (`SIGKILL`) | unmarked rows are published again by the next leader: 0 lost; the duplicates (same `event_id`) are at most the rows it had in flight (`max_in_flight`) |
//! | a row that no longer validates (unknown type or version, not an envelope, schema violation, columns disagreeing with the envelope) or that Kafka rejects permanently (too large) | published to `<topic>.dlq` with header `dlq.outbox.id`, then marked with `dead_letter`; later rows, also of the same key, are not held back |
//! | DLQ publish fails | the row is retried later; other rows go on |
//! | leader's session lost | it stops; a standby takes the lock; rows in flight are published again (duplicates) |
//! | inbox handler error or panic | its transaction rolls back (the inbox record too); the consumer's retry policy applies |
//! | inbox commit outcome unknown (connection lost during `COMMIT`) | the retry finds the `event_id` recorded if the commit happened and skips |
//!
//! # Outbox or disk spool?
//!
//! The robust producer's disk spool keeps events a service *decided* to publish while Kafka
//! is away; it cannot tie them to a database transaction. Use the outbox when an event
//! describes a database change (it must exist exactly when the change does); use the plain
//! producer for events without a transaction (a timer, a scraper, a forwarded command).
//!
//! # Privacy
//!
//! Errors, logs and metrics carry event types, ids, JSON pointers and schema keywords, never
//! payload values.

#![deny(missing_docs)]

pub mod inbox;
pub mod relay;
mod schema;
pub mod stage;

pub use inbox::{Inbox, InboxMetrics, InboxOutcome, OnTx, TxHandlerFuture};
pub use relay::{
    AfterDelivery, Relay, RelayConfig, RelayError, RelayMetrics, RelayReport, RelayRole,
    DEFAULT_LOCK_KEY, DLQ_OUTBOX_ID_HEADER,
};
pub use schema::{migrate, INBOX_TABLE, MIGRATION_SQL, NOTIFY_CHANNEL, OUTBOX_TABLE};
pub use stage::{Outbox, StageError};

/// The transaction type [`Outbox::stage`] writes into and [`OnTx::on_tx`] handlers receive.
pub type PgTransaction<'c> = sqlx::Transaction<'c, sqlx::Postgres>;
