//! Publishing failed messages to the dead-letter topic.
//!
//! A dead letter for a record of topic `t` goes to `t<suffix>` (default `t.dlq`). It carries
//! the original key, the original value bytes (except for `oversized`, see below) and the
//! original headers (minus any `dlq.*` headers of an earlier dead-lettering), followed by:
//!
//! | header | value |
//! |---|---|
//! | `dlq.class` | the [`FailureClass`](super::FailureClass) name, e.g. `schema_violation` |
//! | `dlq.error` | what is wrong, without payload values |
//! | `dlq.pointer` | JSON pointer into the envelope (`/payload/...`), `/<header>` for header mismatches, or empty |
//! | `dlq.source.topic` | source topic |
//! | `dlq.source.partition` | source partition (decimal) |
//! | `dlq.source.offset` | source offset (decimal) |
//! | `dlq.group` | consumer group that gave up on it |
//! | `dlq.time` | when, RFC 3339 UTC |
//! | `dlq.original_size` | only for `oversized`: the value's length in bytes; the value itself is not copied |
//!
//! A tombstone stays a tombstone (no value). The publish is acknowledged by all in-sync
//! replicas before the source offset is stored; a failed publish is retried with backoff,
//! and the source offset stays uncommitted until it succeeds.

use std::time::Duration;

use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use rdkafka::ClientConfig;

use super::config::ConsumerConfig;
use super::failure::{Failure, FailureClass};

/// Names of the headers a dead-letter record carries (see the module docs of `consumer`).
pub mod headers {
    /// Failure class name.
    pub const CLASS: &str = "dlq.class";
    /// Value-free error description.
    pub const ERROR: &str = "dlq.error";
    /// JSON pointer of the problem.
    pub const POINTER: &str = "dlq.pointer";
    /// Source topic.
    pub const SOURCE_TOPIC: &str = "dlq.source.topic";
    /// Source partition.
    pub const SOURCE_PARTITION: &str = "dlq.source.partition";
    /// Source offset.
    pub const SOURCE_OFFSET: &str = "dlq.source.offset";
    /// Consumer group.
    pub const GROUP: &str = "dlq.group";
    /// Time of dead-lettering (RFC 3339, UTC).
    pub const TIME: &str = "dlq.time";
    /// Length of an oversized value that was not copied.
    pub const ORIGINAL_SIZE: &str = "dlq.original_size";
}

pub(crate) struct DeadLetters {
    producer: FutureProducer,
    suffix: String,
    group: String,
}

impl DeadLetters {
    pub fn new(cfg: &ConsumerConfig) -> Result<Self, KafkaError> {
        let mut client = ClientConfig::new();
        let timeout_ms = cfg.dlq_delivery_timeout.as_millis().min(i32::MAX as u128);
        // Headers and envelope fit in 64 KiB on top of the largest value the guard lets through.
        let max_bytes =
            (cfg.max_message_bytes.saturating_add(64 * 1024)).clamp(1_000_000, 1_000_000_000);
        client
            .set("acks", "all")
            .set("message.timeout.ms", timeout_ms.to_string())
            .set("message.max.bytes", max_bytes.to_string())
            .set("linger.ms", "5");
        cfg.kafka.apply(&mut client);
        Ok(DeadLetters {
            producer: client.create()?,
            suffix: cfg.dead_letter_suffix.clone(),
            group: cfg.group_id.clone(),
        })
    }

    pub fn topic_for(&self, source: &str) -> String {
        format!("{source}{}", self.suffix)
    }

    /// Publish one dead letter and wait for the broker's acknowledgement.
    pub async fn publish(&self, msg: &OwnedMessage, failure: &Failure) -> Result<(), KafkaError> {
        let topic = self.topic_for(msg.topic());
        let mut hdrs = OwnedHeaders::new_with_capacity(12);
        if let Some(orig) = msg.headers() {
            for h in orig.iter().filter(|h| !h.key.starts_with("dlq.")) {
                hdrs = hdrs.insert(Header {
                    key: h.key,
                    value: h.value,
                });
            }
        }
        let partition = msg.partition().to_string();
        let offset = msg.offset().to_string();
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut add = |key: &str, value: &str| {
            let h = std::mem::replace(&mut hdrs, OwnedHeaders::new());
            hdrs = h.insert(Header {
                key,
                value: Some(value),
            });
        };
        add(headers::CLASS, failure.class.as_str());
        add(headers::ERROR, &failure.message);
        add(headers::POINTER, &failure.pointer);
        add(headers::SOURCE_TOPIC, msg.topic());
        add(headers::SOURCE_PARTITION, &partition);
        add(headers::SOURCE_OFFSET, &offset);
        add(headers::GROUP, &self.group);
        add(headers::TIME, &time);
        let value = if failure.class == FailureClass::Oversized {
            let size = msg.payload().map_or(0, <[u8]>::len).to_string();
            add(headers::ORIGINAL_SIZE, &size);
            None
        } else {
            msg.payload()
        };
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&topic).headers(hdrs);
        if let Some(k) = msg.key() {
            record = record.key(k);
        }
        if let Some(v) = value {
            record = record.payload(v);
        }
        self.producer
            .send(record, Timeout::After(Duration::ZERO))
            .await
            .map(|_| ())
            .map_err(|(e, _)| e)
    }
}
