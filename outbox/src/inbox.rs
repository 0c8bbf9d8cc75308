//! The inbox: a consumer's database writes and its record of handled `event_id`s commit
//! together, so a redelivered event has no second effect.
//!
//! Per delivery, [`Inbox::handle_once`]:
//! 1. begins a transaction and inserts (`consumer`, `event_id`) into `event_inbox`
//!    (`ON CONFLICT DO NOTHING`); no row inserted means the event was handled before: the
//!    transaction is rolled back and the delivery is skipped ([`InboxOutcome::Duplicate`]);
//! 2. runs the handler with that transaction;
//! 3. commits, and only then returns, so the consumer stores (and later commits) the Kafka
//!    offset after the database commit. A crash between the two redelivers the event, which
//!    step 1 then skips.
//!
//! A handler error or panic drops the transaction (rolled back, the inbox row too) and the
//! consumer's retry policy decides. Two deliveries of one event at once (a rebalance) are
//! serialized by the primary key: the second insert waits for the first transaction and then
//! finds the row. Database errors are [`HandlerError::Transient`] (retried); if a `COMMIT`'s
//! outcome is unknown, the retry finds the row (committed) or inserts it (not committed).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use pmp_event_runtime::consumer::{ConsumerBuilder, HandlerError, HandlerResult};
use pmp_event_runtime::{Envelope, EventPayload, EventSet};
use sqlx::PgPool;

use crate::PgTransaction;

/// What an [`OnTx::on_tx`] handler returns: a boxed future borrowing the transaction.
/// Write handlers as `|event, tx| Box::pin(async move { ...; Ok(()) })`.
pub type TxHandlerFuture<'t> = BoxFuture<'t, HandlerResult>;

/// What [`Inbox::handle_once`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxOutcome {
    /// The handler ran and its transaction committed.
    Handled,
    /// The `event_id` was already recorded: nothing ran.
    Duplicate,
}

/// Counters since the inbox was created (shared by its clones).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InboxMetrics {
    /// Events whose handler ran and committed.
    pub handled: u64,
    /// Deliveries skipped because the `event_id` was already recorded.
    pub duplicates: u64,
    /// Handler errors (the transaction was rolled back).
    pub handler_errors: u64,
    /// Database errors (begin, insert, commit).
    pub database_errors: u64,
}

#[derive(Default)]
struct Counters {
    handled: AtomicU64,
    duplicates: AtomicU64,
    handler_errors: AtomicU64,
    database_errors: AtomicU64,
}

/// The inbox of one consumer (its name keys `event_inbox`, usually the Kafka group id).
/// Cheap to clone.
#[derive(Clone)]
pub struct Inbox {
    pool: PgPool,
    consumer: Arc<str>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("consumer", &self.consumer)
            .field("metrics", &self.metrics())
            .finish_non_exhaustive()
    }
}

fn transient(what: &str, e: &sqlx::Error) -> HandlerError {
    HandlerError::transient(format!("inbox {what}: {e}"))
}

impl Inbox {
    /// The inbox of `consumer` in the database behind `pool`.
    pub fn new(pool: PgPool, consumer: impl Into<String>) -> Self {
        Inbox {
            pool,
            consumer: Arc::from(consumer.into()),
            counters: Arc::default(),
        }
    }

    /// The counters now.
    pub fn metrics(&self) -> InboxMetrics {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        InboxMetrics {
            handled: get(&self.counters.handled),
            duplicates: get(&self.counters.duplicates),
            handler_errors: get(&self.counters.handler_errors),
            database_errors: get(&self.counters.database_errors),
        }
    }

    fn count(&self, pick: impl Fn(&Counters) -> &AtomicU64) {
        pick(&self.counters).fetch_add(1, Ordering::Relaxed);
    }

    /// Handle `event` once: record its `event_id`, run `handler` in the same transaction,
    /// commit. See the [module docs](self).
    pub async fn handle_once<P, F>(
        &self,
        event: Envelope<P>,
        handler: &F,
    ) -> Result<InboxOutcome, HandlerError>
    where
        P: EventPayload,
        F: for<'t> Fn(Envelope<P>, &'t mut PgTransaction<'static>) -> TxHandlerFuture<'t>,
    {
        let db_error = |what: &str, e: sqlx::Error| {
            self.count(|c| &c.database_errors);
            transient(what, &e)
        };
        let mut tx = self.pool.begin().await.map_err(|e| db_error("begin", e))?;
        let recorded = sqlx::query(
            "INSERT INTO event_inbox (consumer, event_id, event_type, version) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&*self.consumer)
        .bind(event.event_id)
        .bind(P::EVENT_TYPE)
        .bind(i32::try_from(P::VERSION).unwrap_or(i32::MAX))
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error("insert", e))?
        .rows_affected();
        if recorded == 0 {
            // Handled before: nothing to do (dropping `tx` rolls it back).
            self.count(|c| &c.duplicates);
            tracing::debug!(event_id = %event.event_id, consumer = %self.consumer, "inbox: duplicate skipped");
            return Ok(InboxOutcome::Duplicate);
        }
        if let Err(e) = handler(event, &mut tx).await {
            self.count(|c| &c.handler_errors);
            return Err(e);
        }
        tx.commit().await.map_err(|e| db_error("commit", e))?;
        self.count(|c| &c.handled);
        Ok(InboxOutcome::Handled)
    }

    /// Delete inbox records handled more than `age` ago, `batch` rows per statement; returns
    /// how many. A redelivery older than `age` is then handled again: keep `age` well above
    /// the topic's retention of redeliverable data (consumer lag, replays).
    pub async fn forget_older_than(&self, age: Duration, batch: i64) -> Result<u64, sqlx::Error> {
        let mut total = 0;
        loop {
            let n = sqlx::query(
                "DELETE FROM event_inbox WHERE (consumer, event_id) IN (\
                   SELECT consumer, event_id FROM event_inbox \
                   WHERE consumer = $1 AND handled_at < now() - make_interval(secs => $2) \
                   LIMIT $3)",
            )
            .bind(&*self.consumer)
            .bind(age.as_secs_f64())
            .bind(batch.max(1))
            .execute(&self.pool)
            .await?
            .rows_affected();
            total += n;
            if n < batch.max(1).unsigned_abs() {
                return Ok(total);
            }
        }
    }
}

/// `on_tx` for the consumer builder: a handler that receives a transaction in which the
/// event's `event_id` is already recorded in the inbox. See the [module docs](self).
pub trait OnTx: Sized {
    /// Handle (event type, version) `P` through `inbox`. Registered with
    /// [`ConsumerBuilder::on`], so everything `on` promises holds (schema-valid typed
    /// envelope, retries, dead letters); a duplicate delivery returns `Ok` without running
    /// `handler`.
    fn on_tx<P, F>(self, inbox: &Inbox, handler: F) -> Self
    where
        P: EventPayload,
        F: for<'t> Fn(Envelope<P>, &'t mut PgTransaction<'static>) -> TxHandlerFuture<'t>
            + Send
            + Sync
            + 'static;
}

impl<E: EventSet> OnTx for ConsumerBuilder<E> {
    fn on_tx<P, F>(self, inbox: &Inbox, handler: F) -> Self
    where
        P: EventPayload,
        F: for<'t> Fn(Envelope<P>, &'t mut PgTransaction<'static>) -> TxHandlerFuture<'t>
            + Send
            + Sync
            + 'static,
    {
        let inbox = inbox.clone();
        let handler = Arc::new(handler);
        self.on::<P, _, _>(move |event| {
            let inbox = inbox.clone();
            let handler = handler.clone();
            async move { inbox.handle_once(event, &*handler).await.map(|_| ()) }
        })
    }
}
