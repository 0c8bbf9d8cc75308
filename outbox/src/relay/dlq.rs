//! Dead letters of the relay: rows that no longer validate, or that Kafka rejects for good.
//!
//! A dead letter goes to `<row topic><suffix>` (default `.dlq`, like the consumer's) with the
//! row's key, the envelope bytes as value (none for `oversized`: `dlq.original_size` gives the
//! length) and the headers `event_type`, `version`, `event_id` (the row's columns), plus the
//! consumer's `dlq.class`, `dlq.error`, `dlq.pointer`, `dlq.source.topic`, `dlq.time`, and
//! [`DLQ_OUTBOX_ID_HEADER`] with the row's `id`. It is sent with its own plain producer
//! (`acks=all`): the robust producer's per-key order would otherwise hold it with the events.

use std::time::Duration;

use pmp_event_runtime::consumer::dlq_headers;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use rdkafka::ClientConfig;

use super::rows::{DeadLetter, Row};
use super::RelayConfig;

/// Header with the `event_outbox.id` of a dead-lettered row.
pub const DLQ_OUTBOX_ID_HEADER: &str = "dlq.outbox.id";

pub(super) struct DeadLetters {
    producer: FutureProducer,
    suffix: String,
}

impl DeadLetters {
    pub fn new(config: &RelayConfig) -> Result<Self, rdkafka::error::KafkaError> {
        let mut client = ClientConfig::new();
        client
            .set("acks", "all")
            .set(
                "message.timeout.ms",
                config
                    .dlq_timeout
                    .as_millis()
                    .clamp(1, 3_600_000)
                    .to_string(),
            )
            .set("linger.ms", "5");
        config.kafka.apply(&mut client);
        Ok(DeadLetters {
            producer: client.create()?,
            suffix: config.dead_letter_suffix.clone(),
        })
    }

    /// Publish one dead letter and wait for the acknowledgement.
    pub async fn publish(&self, row: &Row, why: &DeadLetter) -> Result<(), String> {
        let topic = format!("{}{}", row.topic, self.suffix);
        let id = row.id.to_string();
        let version = row.version.to_string();
        let event_id = row.event_id.hyphenated().to_string();
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let size = row.envelope.len().to_string();
        let oversized = why.class == "oversized";
        let mut pairs: Vec<(&str, &str)> = vec![
            ("event_type", &row.event_type),
            ("version", &version),
            ("event_id", &event_id),
            (dlq_headers::CLASS, why.class),
            (dlq_headers::ERROR, &why.message),
            (dlq_headers::POINTER, &why.pointer),
            (dlq_headers::SOURCE_TOPIC, &row.topic),
            (dlq_headers::TIME, &time),
            (DLQ_OUTBOX_ID_HEADER, &id),
        ];
        if oversized {
            pairs.push((dlq_headers::ORIGINAL_SIZE, &size));
        }
        let headers =
            pairs
                .into_iter()
                .fold(OwnedHeaders::new_with_capacity(10), |h, (key, value)| {
                    h.insert(Header {
                        key,
                        value: Some(value),
                    })
                });
        let mut record: FutureRecord<'_, str, [u8]> = FutureRecord::to(&topic)
            .key(row.key.as_str())
            .headers(headers);
        if !oversized {
            record = record.payload(row.envelope.as_slice());
        }
        self.producer
            .send(record, Timeout::After(Duration::ZERO))
            .await
            .map(|_| ())
            .map_err(|(e, _)| format!("dead letter to {topic}: {e}"))
    }
}
