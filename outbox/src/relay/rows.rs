//! The relay's SQL and its per-row check.

use std::collections::HashSet;

use pmp_event_runtime::consumer::{FailureClass, SchemaLookup, SchemaValidators};
use pmp_event_runtime::observe::trace::{TraceContextHeaders, TRACEPARENT, TRACESTATE};
use pmp_event_runtime::{DecodeError, RawEnvelope, SchemaInfo};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row as _};
use uuid::Uuid;

use super::AfterDelivery;

/// One unpublished row.
pub(super) struct Row {
    pub id: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub version: i32,
    pub topic: String,
    pub key: String,
    pub envelope: Vec<u8>,
    /// The trace context the row was staged in (its `traceparent`/`tracestate` headers).
    pub trace: Option<TraceContextHeaders>,
}

impl<'r> sqlx::FromRow<'r, PgRow> for Row {
    fn from_row(r: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(Row {
            id: r.try_get("id")?,
            event_id: r.try_get("event_id")?,
            event_type: r.try_get("event_type")?,
            version: r.try_get("version")?,
            topic: r.try_get("topic")?,
            key: r.try_get("key")?,
            envelope: r.try_get("envelope")?,
            trace: trace_of(&r.try_get("headers")?),
        })
    }
}

/// The `traceparent`/`tracestate` of a row's `headers` object; a row staged without them
/// (or with a value that is not a string) has none.
fn trace_of(headers: &serde_json::Value) -> Option<TraceContextHeaders> {
    let text = |name: &str| headers.get(name)?.as_str().map(str::to_owned);
    Some(TraceContextHeaders {
        traceparent: text(TRACEPARENT)?,
        tracestate: text(TRACESTATE).filter(|s| !s.is_empty()),
    })
}

/// Why a row goes to the dead-letter topic. Holds no payload value.
#[derive(Debug, Clone)]
pub(super) struct DeadLetter {
    /// `dlq.class`: a consumer [`FailureClass`] name, or `kafka_rejected`.
    pub class: &'static str,
    /// `dlq.pointer`.
    pub pointer: String,
    /// `dlq.error`.
    pub message: String,
}

impl DeadLetter {
    fn new(class: FailureClass, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        DeadLetter {
            class: class.as_str(),
            pointer: pointer.into(),
            message: message.into(),
        }
    }

    /// The `dead_letter` column: `<class>: <message>`.
    pub fn column(&self) -> String {
        format!("{}: {}", self.class, self.message)
    }
}

/// Check a row before it is published: the envelope parses, agrees with the row's columns,
/// its (event type, version) is in the set, the topic is the schema's, the payload validates.
pub(super) fn check(
    row: &Row,
    validators: &SchemaValidators,
) -> Result<&'static SchemaInfo, DeadLetter> {
    let raw = RawEnvelope::parse(&row.envelope).map_err(|e| match e {
        DecodeError::NotJson { .. } => DeadLetter::new(FailureClass::NotJson, "", e.to_string()),
        DecodeError::NotEnvelope { ref pointer, .. } => {
            DeadLetter::new(FailureClass::NotEnvelope, pointer.clone(), e.to_string())
        }
        other => DeadLetter::new(FailureClass::NotEnvelope, "", other.to_string()),
    })?;
    let mismatch = |field: &str| {
        DeadLetter::new(
            FailureClass::HeaderMismatch,
            format!("/{field}"),
            format!("the row's {field} column disagrees with the envelope"),
        )
    };
    if raw.event_id != row.event_id {
        return Err(mismatch("event_id"));
    }
    if raw.event_type != row.event_type {
        return Err(mismatch("event_type"));
    }
    if i64::from(raw.version) != i64::from(row.version) {
        return Err(mismatch("version"));
    }
    let index = match validators.lookup(&raw.event_type, raw.version) {
        SchemaLookup::Found(i) => i,
        SchemaLookup::UnknownEventType => {
            return Err(DeadLetter::new(
                FailureClass::UnknownEventType,
                "/event_type",
                format!("unknown event_type {:?}", raw.event_type),
            ))
        }
        // A row staged by a newer build of this service is not proof that this build may
        // publish it: it is dead-lettered like any unknown version.
        SchemaLookup::UnknownVersion | SchemaLookup::NewerThanKnown(_) => {
            return Err(DeadLetter::new(
                FailureClass::UnknownVersion,
                "/version",
                format!(
                    "unknown version {} of event_type {:?}",
                    raw.version, raw.event_type
                ),
            ))
        }
    };
    let Some(info) = validators.info(index) else {
        return Err(DeadLetter::new(
            FailureClass::UnknownEventType,
            "/event_type",
            "no schema",
        ));
    };
    if row.topic != info.topic {
        return Err(DeadLetter::new(
            FailureClass::HeaderMismatch,
            "/topic",
            format!(
                "the row's topic is not the schema's x-kafka-topic {:?}",
                info.topic
            ),
        ));
    }
    validators.validate(index, &raw.payload).map_err(|v| {
        DeadLetter::new(
            FailureClass::SchemaViolation,
            format!("/payload{}", v.instance_pointer),
            v.to_string(),
        )
    })?;
    Ok(info)
}

/// The unpublished rows not in `in_flight`, in `id` order, at most `limit` of them.
///
/// Scans the ids of the first `in_flight.len() + limit` unpublished rows (the partial index
/// `event_outbox_unpublished`) and reads only the new ones in full. Every fetch starts from
/// the oldest unpublished row, never from a cursor, so a row committed late with a lower id
/// is sent before anything staged after its commit.
pub(super) async fn fetch(
    conn: &mut PgConnection,
    in_flight: &HashSet<i64>,
    limit: usize,
) -> Result<Vec<Row>, sqlx::Error> {
    let scan = i64::try_from(in_flight.len() + limit).unwrap_or(i64::MAX);
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM event_outbox WHERE published_at IS NULL ORDER BY id LIMIT $1",
    )
    .bind(scan)
    .fetch_all(&mut *conn)
    .await?;
    let new: Vec<i64> = ids
        .into_iter()
        .filter(|id| !in_flight.contains(id))
        .take(limit)
        .collect();
    if new.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(
        "SELECT id, event_id, event_type, version, topic, key, headers, envelope FROM event_outbox \
         WHERE id = ANY($1) AND published_at IS NULL ORDER BY id",
    )
    .bind(&new)
    .fetch_all(&mut *conn)
    .await
}

/// One row by id, if it is still unpublished.
pub(super) async fn fetch_one(
    conn: &mut PgConnection,
    id: i64,
) -> Result<Option<Row>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, event_id, event_type, version, topic, key, headers, envelope FROM event_outbox \
         WHERE id = $1 AND published_at IS NULL",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Mark delivered rows published (or delete them).
pub(super) async fn mark_delivered(
    conn: &mut PgConnection,
    ids: &[i64],
    after: AfterDelivery,
) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = match after {
        AfterDelivery::MarkPublished { .. } => {
            "UPDATE event_outbox SET published_at = now() WHERE id = ANY($1)"
        }
        AfterDelivery::Delete => "DELETE FROM event_outbox WHERE id = ANY($1)",
    };
    sqlx::query(sql).bind(ids).execute(conn).await.map(|_| ())
}

/// Mark a dead-lettered row (or delete it: the DLQ record carries it).
pub(super) async fn mark_dead_lettered(
    conn: &mut PgConnection,
    id: i64,
    dead_letter: &str,
    after: AfterDelivery,
) -> Result<(), sqlx::Error> {
    let query = match after {
        AfterDelivery::MarkPublished { .. } => sqlx::query(
            "UPDATE event_outbox SET published_at = now(), dead_letter = $2 WHERE id = $1",
        )
        .bind(id)
        .bind(dead_letter),
        AfterDelivery::Delete => sqlx::query("DELETE FROM event_outbox WHERE id = $1").bind(id),
    };
    query.execute(conn).await.map(|_| ())
}

/// Delete up to `batch` rows published more than `keep_for` ago; returns how many.
pub(super) async fn cleanup(
    conn: &mut PgConnection,
    keep_for: std::time::Duration,
    batch: i64,
) -> Result<u64, sqlx::Error> {
    let seconds = keep_for.as_secs_f64();
    sqlx::query(
        "DELETE FROM event_outbox WHERE id IN (\
           SELECT id FROM event_outbox \
           WHERE published_at < now() - make_interval(secs => $1) \
           ORDER BY id LIMIT $2)",
    )
    .bind(seconds)
    .bind(batch)
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}
