//! The leader's loop: fetch, check, publish, mark, wait (see the module docs of `relay`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::stream::{FuturesOrdered, FuturesUnordered, StreamExt};
use futures::FutureExt;
use pmp_event_runtime::producer::{ConnectionState, Delivery, PublishError};
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::PgConnection;

use super::rows::{self, DeadLetter, Row};
use super::{db, AfterDelivery, Counters, Shared};
use crate::schema::NOTIFY_CHANNEL;

/// Cleanup statements per round at most, so cleaning never starves publishing.
const CLEANUP_ROUNDS: usize = 10;

/// How long a failed dead letter waits before it is tried again.
const DLQ_RETRY: Duration = Duration::from_secs(5);

/// What became of one published row.
enum Outcome {
    Delivered,
    /// Spooled by the producer or failed retriably: send again when the producer is `Up`.
    Resend,
    /// Kafka rejected it for good (librdkafka's error code).
    Rejected(String),
}

type Batch = BoxFuture<'static, Vec<(i64, Outcome)>>;
type DeadLetterAttempt = BoxFuture<'static, (Row, DeadLetter, Result<(), String>)>;

/// Lead until shutdown (`Ok(rows left unresolved)`) or a database error.
pub(super) async fn lead(
    shared: &Arc<Shared>,
    conn: &mut PgConnection,
) -> Result<usize, sqlx::Error> {
    let cfg = &shared.config;
    let mut leader = Leader {
        shared: shared.clone(),
        in_flight: HashSet::new(),
        batches: FuturesOrdered::new(),
        dead: FuturesUnordered::new(),
        hold_until: None,
        more: true,
    };
    let mut listener = listen(shared).await;
    let mut state_rx = shared.producer.state_watch();
    let mut shutdown_rx = shared.shutdown.subscribe();
    let mut next_cleanup = Instant::now() + cfg.cleanup_interval;
    loop {
        let shutdown = *shutdown_rx.borrow_and_update();
        if let Some(deadline) = shutdown {
            return leader.finish(conn, deadline).await;
        }
        if let AfterDelivery::MarkPublished { keep_for } = cfg.after_delivery {
            if Instant::now() >= next_cleanup {
                for _ in 0..CLEANUP_ROUNDS {
                    let n = db(shared, rows::cleanup(conn, keep_for, cfg.cleanup_batch)).await?;
                    Counters::add(&shared.counters.cleaned_up, n);
                    if n < cfg.cleanup_batch.unsigned_abs() {
                        break;
                    }
                }
                next_cleanup = Instant::now() + cfg.cleanup_interval;
            }
        }
        match leader.feed(conn).await? {
            Fed::Full => continue,
            Fed::Waiting => {}
            Fed::ProducerGone => {
                tracing::error!("outbox relay: the producer was shut down; the relay stops");
                return leader.finish(conn, Instant::now()).await;
            }
        }
        let now = Instant::now();
        let mut wake_in = cfg
            .poll_interval
            .min(next_cleanup.saturating_duration_since(now));
        if let Some(t) = leader.hold_until {
            wake_in = wake_in.min(t.saturating_duration_since(now));
        }
        tokio::select! {
            Some(outcomes) = leader.batches.next(), if !leader.batches.is_empty() => {
                leader.settle(conn, outcomes).await?;
            }
            Some((row, why, result)) = leader.dead.next(), if !leader.dead.is_empty() => {
                leader.settle_dead_letter(conn, row, why, result).await?;
            }
            notified = next_notification(&mut listener) => {
                match notified {
                    Ok(()) => {
                        // Many commits, one fetch.
                        if let Some(l) = listener.as_mut() {
                            while l.next_buffered().is_some() {}
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox relay: LISTEN connection lost; polling until it is back");
                        listener = None;
                    }
                }
                leader.more = true;
            }
            _ = state_rx.changed() => leader.more = true,
            _ = tokio::time::sleep(wake_in) => {
                leader.more = true;
                if listener.is_none() {
                    listener = listen(shared).await;
                }
            }
            _ = shutdown_rx.changed() => {}
        }
    }
}

enum Fed {
    /// A full batch went out and there is room for more: fetch again at once.
    Full,
    /// Caught up, held, or out of room: wait for something to happen.
    Waiting,
    /// The producer refuses everything (`shutdown` was called on it).
    ProducerGone,
}

struct Leader {
    shared: Arc<Shared>,
    /// Rows handed to the producer or the dead-letter path and not yet settled.
    in_flight: HashSet<i64>,
    batches: FuturesOrdered<Batch>,
    dead: FuturesUnordered<DeadLetterAttempt>,
    /// After a row came back unsent: no feeding before this instant.
    hold_until: Option<Instant>,
    /// Rows may be waiting (a full fetch, a notification, a poll tick, a resend).
    more: bool,
}

impl Leader {
    /// Fetch new rows and hand them over, if the producer is `Up` and there is room.
    async fn feed(&mut self, conn: &mut PgConnection) -> Result<Fed, sqlx::Error> {
        let shared = self.shared.clone();
        let cfg = &shared.config;
        let held = self.hold_until.is_some_and(|t| Instant::now() < t);
        let room = cfg.max_in_flight.saturating_sub(self.in_flight.len());
        let up = matches!(shared.producer.state(), ConnectionState::Up);
        if !self.more || held || room == 0 || !up {
            return Ok(Fed::Waiting);
        }
        let limit = room.min(cfg.batch_size);
        let fetched = db(&shared, rows::fetch(conn, &self.in_flight, limit)).await?;
        let full = fetched.len() == limit;
        self.more = full;
        let mut handles = Vec::with_capacity(fetched.len());
        for row in fetched {
            let info = match rows::check(&row, &shared.validators) {
                Ok(info) => info,
                Err(why) => {
                    self.in_flight.insert(row.id);
                    self.dead.push(dead_letter(shared.clone(), row, why, None));
                    continue;
                }
            };
            let id = row.id;
            match shared.producer.publish_serialized_traced(
                info,
                row.key,
                row.event_id,
                row.envelope,
                row.trace,
            ) {
                Ok(handle) => {
                    self.in_flight.insert(id);
                    handles.push((id, handle));
                }
                Err(PublishError::ShuttingDown) => {
                    self.push_batch(handles);
                    return Ok(Fed::ProducerGone);
                }
                Err(e) => {
                    // Nothing after this row may overtake it: stop here, send it again later.
                    tracing::warn!(outbox_id = id, error = %e, "outbox relay: the producer refused a row; holding");
                    Counters::add(&shared.counters.resent, 1);
                    self.hold();
                    self.push_batch(handles);
                    return Ok(Fed::Waiting);
                }
            }
        }
        self.push_batch(handles);
        let room_left = self.in_flight.len() < cfg.max_in_flight;
        Ok(if full && room_left {
            Fed::Full
        } else {
            Fed::Waiting
        })
    }

    fn push_batch(&mut self, handles: Vec<(i64, pmp_event_runtime::producer::DeliveryHandle)>) {
        if handles.is_empty() {
            return;
        }
        self.batches.push_back(
            async move {
                let mut out = Vec::with_capacity(handles.len());
                for (id, handle) in handles {
                    let outcome = match handle.await {
                        Ok(Delivery::Delivered { .. }) => Outcome::Delivered,
                        Ok(Delivery::Spooled) => Outcome::Resend,
                        Err(PublishError::Rejected { code, .. }) => Outcome::Rejected(code),
                        Err(_) => Outcome::Resend,
                    };
                    out.push((id, outcome));
                }
                out
            }
            .boxed(),
        );
    }

    fn hold(&mut self) {
        self.hold_until = Some(Instant::now() + self.shared.config.poll_interval);
        self.more = true;
    }

    /// Mark a batch's delivered rows; release the others for a resend or the DLQ.
    async fn settle(
        &mut self,
        conn: &mut PgConnection,
        outcomes: Vec<(i64, Outcome)>,
    ) -> Result<(), sqlx::Error> {
        let shared = self.shared.clone();
        let mut delivered = Vec::with_capacity(outcomes.len());
        let mut resend = 0u64;
        let mut rejected = Vec::new();
        for (id, outcome) in outcomes {
            match outcome {
                Outcome::Delivered => delivered.push(id),
                Outcome::Resend => {
                    self.in_flight.remove(&id);
                    resend += 1;
                }
                Outcome::Rejected(code) => rejected.push((id, code)),
            }
        }
        db(
            &shared,
            rows::mark_delivered(conn, &delivered, shared.config.after_delivery),
        )
        .await?;
        for id in &delivered {
            self.in_flight.remove(id);
        }
        Counters::add(&shared.counters.delivered, delivered.len() as u64);
        if resend > 0 {
            Counters::add(&shared.counters.resent, resend);
            self.hold();
        }
        for (id, code) in rejected {
            match db(&shared, rows::fetch_one(conn, id)).await? {
                Some(row) => {
                    let class = if code.contains("SizeTooLarge") || code.contains("TooLarge") {
                        "oversized"
                    } else {
                        "kafka_rejected"
                    };
                    let why = DeadLetter {
                        class,
                        pointer: String::new(),
                        message: format!("Kafka rejected the record: {code}"),
                    };
                    self.dead.push(dead_letter(shared.clone(), row, why, None));
                }
                None => {
                    self.in_flight.remove(&id);
                }
            }
        }
        Ok(())
    }

    async fn settle_dead_letter(
        &mut self,
        conn: &mut PgConnection,
        row: Row,
        why: DeadLetter,
        result: Result<(), String>,
    ) -> Result<(), sqlx::Error> {
        let shared = self.shared.clone();
        match result {
            Ok(()) => {
                db(
                    &shared,
                    rows::mark_dead_lettered(
                        conn,
                        row.id,
                        &why.column(),
                        shared.config.after_delivery,
                    ),
                )
                .await?;
                tracing::warn!(outbox_id = row.id, event_id = %row.event_id, class = why.class, "outbox relay: row dead-lettered");
                Counters::add(&shared.counters.dead_lettered, 1);
                self.in_flight.remove(&row.id);
            }
            Err(e) => {
                tracing::warn!(outbox_id = row.id, error = %e, "outbox relay: dead letter failed; retrying");
                self.dead
                    .push(dead_letter(shared.clone(), row, why, Some(DLQ_RETRY)));
            }
        }
        Ok(())
    }

    /// Shutdown: stop feeding, settle what reports before `deadline`, count the rest.
    async fn finish(
        &mut self,
        conn: &mut PgConnection,
        deadline: Instant,
    ) -> Result<usize, sqlx::Error> {
        let deadline = tokio::time::Instant::from_std(deadline);
        while let Ok(Some(outcomes)) = tokio::time::timeout_at(deadline, self.batches.next()).await
        {
            self.settle(conn, outcomes).await?;
        }
        Ok(self.in_flight.len())
    }
}

fn dead_letter(
    shared: Arc<Shared>,
    row: Row,
    why: DeadLetter,
    delay: Option<Duration>,
) -> DeadLetterAttempt {
    async move {
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        let result = shared.dead_letters.publish(&row, &why).await;
        (row, why, result)
    }
    .boxed()
}

/// A `LISTEN event_outbox` connection, or `None` (the relay polls) when it cannot be had.
async fn listen(shared: &Shared) -> Option<PgListener> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_lazy_with(shared.config.database.clone());
    let attempt = db(shared, async {
        let mut l = PgListener::connect_with(&pool).await?;
        l.listen(NOTIFY_CHANNEL).await?;
        Ok(l)
    })
    .await;
    match attempt {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::warn!(error = %e, "outbox relay: cannot LISTEN; polling");
            None
        }
    }
}

/// The next notification; never resolves without a listener.
async fn next_notification(listener: &mut Option<PgListener>) -> Result<(), sqlx::Error> {
    match listener {
        Some(l) => l.recv().await.map(|_| ()),
        None => std::future::pending().await,
    }
}
