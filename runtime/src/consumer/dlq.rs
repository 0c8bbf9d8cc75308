//! Publishing failed messages to the dead-letter topic.
//!
//! A dead letter for a record of topic `t` goes to `t<suffix>` (default `t.dlq`). It carries
//! the original key, the original value bytes (except when written without the value, see
//! below) and the original headers (minus any `dlq.*` headers of an earlier dead-lettering),
//! followed by:
//!
//! | header | value |
//! |---|---|
//! | `dlq.class` | the [`FailureClass`](super::FailureClass) name, e.g. `schema_violation` |
//! | `dlq.error` | what is wrong, without payload values (at most 1 KiB) |
//! | `dlq.pointer` | JSON pointer into the envelope (`/payload/...`), `/<header>` for header mismatches, or empty (at most 1 KiB) |
//! | `dlq.source.topic` | source topic |
//! | `dlq.source.partition` | source partition (decimal) |
//! | `dlq.source.offset` | source offset (decimal) |
//! | `dlq.group` | consumer group that gave up on it |
//! | `dlq.time` | when, RFC 3339 UTC |
//! | `dlq.original_size` | only when the value is not copied: its length in bytes |
//!
//! A tombstone stays a tombstone (no value). The publish is acknowledged by all in-sync
//! replicas before the source offset is stored.
//!
//! # When the dead-letter topic refuses a record
//!
//! Publish errors are sorted by whether a retry can succeed ([`is_permanent`]):
//!
//! - **Transient** (broker down, no leader, not enough replicas, timeouts, and any error not
//!   listed below): retried with backoff until it succeeds or shutdown; the source offset
//!   stays uncommitted meanwhile, so nothing is skipped while the DLQ is unreachable.
//! - **Permanent** (message or batch too large, invalid or corrupt record, authorization
//!   failures, invalid topic, policy violation): the same dead letter can never be written.
//!   It is sent again **without the value**, as for `oversized`: same class and headers plus
//!   `dlq.original_size` (counted in `dlq_value_dropped`). The key and headers identify the
//!   record, and `dlq.source.*` says where the original still is (until retention removes it).
//! - If even that is refused permanently, the message is **given up**: the class and the
//!   reason are logged at error level with the source coordinates, it is counted in
//!   `dlq_unwritable` (per class), and its offset is stored, so the partition moves on.
//!   This is the one case where a message leaves no dead letter; the choice is deliberate:
//!   a record that can never be written would otherwise stop its partition forever (and every
//!   restart would stop at it again), which loses the availability of every later event to
//!   protect one that cannot be kept anyway. Alert on `dlq_unwritable`.
//!
//! The consumer's size guard (`max_message_bytes`, default 1,048,588 − 16 KiB) keeps room for
//! these headers under the dead-letter topic's default `max.message.bytes` (1,048,588), so a
//! value the guard lets through fits into its dead letter on a default topic; larger values
//! are dead-lettered as `oversized` without the value from the start.

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
    /// Length of a value that was not copied (`oversized`, or a dead letter the DLQ topic
    /// refused with the value).
    pub const ORIGINAL_SIZE: &str = "dlq.original_size";
}

/// Longest `dlq.error` and `dlq.pointer` header value; longer ones are cut at a character
/// boundary, so the `dlq.*` headers stay well inside the size guard's headroom.
const MAX_HEADER_TEXT: usize = 1024;

/// Whether a publish error to the dead-letter topic can never succeed on retry.
pub(crate) fn is_permanent(e: &KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode as C;
    matches!(
        e.rdkafka_error_code(),
        Some(
            C::MessageSizeTooLarge
                | C::MessageBatchTooLarge
                | C::InvalidMessageSize
                | C::InvalidMessage
                | C::InvalidRecord
                | C::TopicAuthorizationFailed
                | C::ClusterAuthorizationFailed
                | C::TransactionalIdAuthorizationFailed
                | C::SaslAuthenticationFailed
                | C::InvalidTopic
                | C::PolicyViolation
                | C::UnsupportedForMessageFormat
                | C::InvalidRequiredAcks
        )
    )
}

/// `s` cut to at most `max` bytes at a character boundary.
fn bounded(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

pub(crate) struct DeadLetters {
    producer: FutureProducer,
    suffix: String,
    group: String,
}

impl DeadLetters {
    /// The consumer group (for spans).
    pub fn group(&self) -> &str {
        &self.group
    }

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

    /// Publish one dead letter and wait for the broker's acknowledgement. With
    /// `without_value` (always for `oversized`) the value is left out and its length goes
    /// into `dlq.original_size`.
    pub async fn publish(
        &self,
        msg: &OwnedMessage,
        failure: &Failure,
        without_value: bool,
    ) -> Result<(), KafkaError> {
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
        add(headers::ERROR, bounded(&failure.message, MAX_HEADER_TEXT));
        add(headers::POINTER, bounded(&failure.pointer, MAX_HEADER_TEXT));
        add(headers::SOURCE_TOPIC, msg.topic());
        add(headers::SOURCE_PARTITION, &partition);
        add(headers::SOURCE_OFFSET, &offset);
        add(headers::GROUP, &self.group);
        add(headers::TIME, &time);
        let value = if without_value || failure.class == FailureClass::Oversized {
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

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::types::RDKafkaErrorCode as C;

    #[test]
    fn only_errors_a_retry_cannot_fix_are_permanent() {
        for code in [
            C::MessageSizeTooLarge,
            C::InvalidRecord,
            C::TopicAuthorizationFailed,
            C::ClusterAuthorizationFailed,
        ] {
            assert!(
                is_permanent(&KafkaError::MessageProduction(code)),
                "{code:?}"
            );
        }
        for code in [
            C::AllBrokersDown,
            C::LeaderNotAvailable,
            C::NotLeaderForPartition,
            C::RequestTimedOut,
            C::MessageTimedOut,
            C::NotEnoughReplicas,
            C::UnknownTopicOrPartition,
            C::BrokerTransportFailure,
        ] {
            assert!(
                !is_permanent(&KafkaError::MessageProduction(code)),
                "{code:?}"
            );
        }
        assert!(!is_permanent(&KafkaError::Canceled));
    }

    #[test]
    fn header_text_is_cut_at_a_char_boundary() {
        assert_eq!(bounded("abc", 10), "abc");
        let s = "ä".repeat(600); // 1200 bytes
        let cut = bounded(&s, MAX_HEADER_TEXT);
        assert!(cut.len() <= MAX_HEADER_TEXT && cut.len() >= MAX_HEADER_TEXT - 1);
        assert!(s.starts_with(cut));
    }
}
