//! Consumer settings, in code or from the environment.
//!
//! | setting | environment variable | default |
//! |---|---|---|
//! | connection (bootstrap, SASL/SSL, pass-through) | see [`KafkaConfig`] (`KAFKA_BOOTSTRAP_SERVERS`, ...) | |
//! | consumer group | `KAFKA_GROUP_ID` | required |
//! | topics | `KAFKA_TOPICS` (comma-separated) | the topics of the handled event types |
//! | dead-letter suffix | `KAFKA_DLQ_SUFFIX` | `.dlq` |
//! | maximum message size | `KAFKA_CONSUMER_MAX_MESSAGE_BYTES` | 1032204 ([`DEFAULT_MAX_MESSAGE_BYTES`]) |
//! | handler retries | `KAFKA_CONSUMER_MAX_RETRIES` | 5 |
//! | first retry backoff | `KAFKA_CONSUMER_RETRY_INITIAL_MS` | 100 |
//! | longest retry backoff | `KAFKA_CONSUMER_RETRY_MAX_MS` | 10000 |
//! | valid events without handler | `KAFKA_CONSUMER_UNHANDLED` (`skip`, `dead_letter`) | `skip` |
//! | events of a type not in the event set | `KAFKA_CONSUMER_UNKNOWN_EVENT_TYPE` (`skip`, `dead_letter`) | `skip` |
//! | dedup window (event ids, 0 = off) | `KAFKA_CONSUMER_DEDUP_WINDOW` | 0 |
//! | offset commit interval | `KAFKA_CONSUMER_COMMIT_INTERVAL_MS` | 1000 |
//! | DLQ delivery timeout per attempt | `KAFKA_CONSUMER_DLQ_TIMEOUT_MS` | 30000 |
//! | where a new group starts | `KAFKA_CONSUMER_OFFSET_RESET` (`earliest`, `latest`) | `earliest` |
//! | check `format` (uuid, date, email, ...) | `KAFKA_CONSUMER_VALIDATE_FORMATS` (`true`, `false`) | `true` |

use std::time::Duration;

use crate::config::{ConfigError, KafkaConfig};

/// Default size guard: the broker's and a topic's default `max.message.bytes` (1,048,588)
/// minus 16 KiB, so the dead letter of any value the guard lets through (the value, the
/// original key and headers, and the `dlq.*` headers of at most a few KiB) still fits into
/// a dead-letter topic with default settings. Larger values are dead-lettered as
/// `oversized`, without the value.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1_048_588 - 16 * 1024;

/// Everything the validating consumer needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerConfig {
    /// Connection settings shared with the producer.
    pub kafka: KafkaConfig,
    /// Consumer group id; offsets are committed for this group.
    pub group_id: String,
    /// Topics to subscribe to. Empty: the topics of the event types that have a handler
    /// (or that [`ConsumerBuilder::event_types`](super::ConsumerBuilder::event_types) names).
    pub topics: Vec<String>,
    /// Dead letters of topic `t` go to `t` + this suffix.
    pub dead_letter_suffix: String,
    /// Records with a longer value are dead-lettered as `oversized` without being parsed
    /// (default [`DEFAULT_MAX_MESSAGE_BYTES`]). Raise it together with the `max.message.bytes`
    /// of the topic and of its dead-letter topic.
    pub max_message_bytes: usize,
    /// Retries of transient handler errors, and the backoff between DLQ publish attempts.
    pub retry: RetryPolicy,
    /// What happens to a valid event that no handler takes.
    pub unhandled: UnhandledPolicy,
    /// What happens to an event whose type is not in the event set (a new type on a
    /// subscribed topic, from a producer deployed before this consumer).
    pub unknown_event_type: UnknownEventTypePolicy,
    /// Remember this many recently handled `event_id`s and skip repeats (0 = no dedup).
    pub dedup_window: usize,
    /// How often stored offsets are committed (`auto.commit.interval.ms`).
    pub commit_interval: Duration,
    /// How long one DLQ publish attempt may take before it counts as failed.
    pub dlq_delivery_timeout: Duration,
    /// Where a group without committed offsets starts.
    pub offset_reset: OffsetReset,
    /// Whether `format` keywords (uuid, date, date-time, email) are asserted.
    pub validate_formats: bool,
}

/// Exponential backoff for transient handler errors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; the message is dead-lettered as `retries_exhausted`
    /// when the last one fails too.
    pub max_retries: u32,
    /// Wait before the first retry; doubles for each further retry.
    pub initial_backoff: Duration,
    /// Upper bound on any single wait.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based): `initial * 2^retry`, capped.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// What to do with a valid event that no registered handler takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnhandledPolicy {
    /// Count it (`skipped_unhandled`) and commit: the usual choice on a shared topic.
    #[default]
    Skip,
    /// Dead-letter it with class `unhandled`.
    DeadLetter,
}

/// What to do with an event whose `event_type` is not in the consumer's event set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownEventTypePolicy {
    /// Count it (`skipped_unknown_event_type`), log the type once, and commit: a topic may
    /// carry types this consumer does not care about, and a new type must not fill the DLQ
    /// before every consumer is redeployed.
    #[default]
    Skip,
    /// Dead-letter it with class `unknown_event_type` (for consumers that must know every
    /// type on their topics).
    DeadLetter,
}

/// `auto.offset.reset` for a group that has no committed offset yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OffsetReset {
    /// Start at the oldest retained record: a new service sees the history.
    #[default]
    Earliest,
    /// Start at the end.
    Latest,
}

impl ConsumerConfig {
    /// Defaults (see the module docs) for `group_id` on `kafka`.
    pub fn new(kafka: KafkaConfig, group_id: impl Into<String>) -> Self {
        ConsumerConfig {
            kafka,
            group_id: group_id.into(),
            topics: Vec::new(),
            dead_letter_suffix: ".dlq".to_owned(),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            retry: RetryPolicy::default(),
            unhandled: UnhandledPolicy::Skip,
            unknown_event_type: UnknownEventTypePolicy::Skip,
            dedup_window: 0,
            commit_interval: Duration::from_secs(1),
            dlq_delivery_timeout: Duration::from_secs(30),
            offset_reset: OffsetReset::Earliest,
            validate_formats: true,
        }
    }

    /// Read every setting from the process environment (see the module docs).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// Read settings from `(name, value)` pairs shaped like the environment.
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let vars: Vec<(String, String)> = vars
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
            .collect();
        let kafka = KafkaConfig::from_vars(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        let get = |name: &str| {
            vars.iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let group = get("KAFKA_GROUP_ID")
            .ok_or_else(|| ConfigError::invalid("KAFKA_GROUP_ID", "is required"))?;
        let mut cfg = ConsumerConfig::new(kafka, group);
        if let Some(topics) = get("KAFKA_TOPICS") {
            cfg.topics = topics
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(s) = get("KAFKA_DLQ_SUFFIX") {
            cfg.dead_letter_suffix = s;
        }
        let num = |name: &str| -> Result<Option<u64>, ConfigError> {
            get(name)
                .map(|v| {
                    v.parse::<u64>().map_err(|_| {
                        ConfigError::invalid(name, format!("{v:?} is not a non-negative integer"))
                    })
                })
                .transpose()
        };
        if let Some(n) = num("KAFKA_CONSUMER_MAX_MESSAGE_BYTES")? {
            cfg.max_message_bytes = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(n) = num("KAFKA_CONSUMER_MAX_RETRIES")? {
            cfg.retry.max_retries = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(n) = num("KAFKA_CONSUMER_RETRY_INITIAL_MS")? {
            cfg.retry.initial_backoff = Duration::from_millis(n);
        }
        if let Some(n) = num("KAFKA_CONSUMER_RETRY_MAX_MS")? {
            cfg.retry.max_backoff = Duration::from_millis(n);
        }
        if let Some(n) = num("KAFKA_CONSUMER_DEDUP_WINDOW")? {
            cfg.dedup_window = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(n) = num("KAFKA_CONSUMER_COMMIT_INTERVAL_MS")? {
            cfg.commit_interval = Duration::from_millis(n);
        }
        if let Some(n) = num("KAFKA_CONSUMER_DLQ_TIMEOUT_MS")? {
            cfg.dlq_delivery_timeout = Duration::from_millis(n);
        }
        if let Some(v) = get("KAFKA_CONSUMER_UNHANDLED") {
            cfg.unhandled = match v.to_ascii_lowercase().as_str() {
                "skip" => UnhandledPolicy::Skip,
                "dead_letter" | "dlq" => UnhandledPolicy::DeadLetter,
                _ => {
                    return Err(ConfigError::invalid(
                        "KAFKA_CONSUMER_UNHANDLED",
                        format!("{v:?} is not one of skip, dead_letter"),
                    ))
                }
            };
        }
        if let Some(v) = get("KAFKA_CONSUMER_UNKNOWN_EVENT_TYPE") {
            cfg.unknown_event_type = match v.to_ascii_lowercase().as_str() {
                "skip" => UnknownEventTypePolicy::Skip,
                "dead_letter" | "dlq" => UnknownEventTypePolicy::DeadLetter,
                _ => {
                    return Err(ConfigError::invalid(
                        "KAFKA_CONSUMER_UNKNOWN_EVENT_TYPE",
                        format!("{v:?} is not one of skip, dead_letter"),
                    ))
                }
            };
        }
        if let Some(v) = get("KAFKA_CONSUMER_OFFSET_RESET") {
            cfg.offset_reset = match v.to_ascii_lowercase().as_str() {
                "earliest" => OffsetReset::Earliest,
                "latest" => OffsetReset::Latest,
                _ => {
                    return Err(ConfigError::invalid(
                        "KAFKA_CONSUMER_OFFSET_RESET",
                        format!("{v:?} is not one of earliest, latest"),
                    ))
                }
            };
        }
        if let Some(v) = get("KAFKA_CONSUMER_VALIDATE_FORMATS") {
            cfg.validate_formats = match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => {
                    return Err(ConfigError::invalid(
                        "KAFKA_CONSUMER_VALIDATE_FORMATS",
                        format!("{v:?} is not true or false"),
                    ))
                }
            };
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Check the settings for consistency. Never contacts Kafka.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.kafka.validate()?;
        if self.group_id.trim().is_empty() {
            return Err(ConfigError::invalid("group.id", "is empty"));
        }
        if self.dead_letter_suffix.is_empty() {
            return Err(ConfigError::invalid(
                "dead_letter_suffix",
                "is empty: dead letters would go back to the source topic",
            ));
        }
        if self.max_message_bytes == 0 {
            return Err(ConfigError::invalid(
                "max_message_bytes",
                "must be at least 1",
            ));
        }
        if self.retry.initial_backoff.is_zero()
            || self.retry.max_backoff < self.retry.initial_backoff
        {
            return Err(ConfigError::invalid(
                "retry",
                "initial backoff must be > 0 and not above the maximum backoff",
            ));
        }
        if self.commit_interval.is_zero() {
            return Err(ConfigError::invalid("commit_interval", "must be > 0"));
        }
        if self.dlq_delivery_timeout < Duration::from_millis(10) {
            return Err(ConfigError::invalid(
                "dlq_delivery_timeout",
                "must be at least 10 ms",
            ));
        }
        for t in &self.topics {
            if t.ends_with(&self.dead_letter_suffix) {
                return Err(ConfigError::invalid(
                    "topics",
                    format!("{t:?} is a dead-letter topic; consuming it would loop failures"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            max_retries: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
        };
        assert_eq!(p.backoff(0), Duration::from_millis(100));
        assert_eq!(p.backoff(1), Duration::from_millis(200));
        assert_eq!(p.backoff(3), Duration::from_millis(800));
        assert_eq!(p.backoff(4), Duration::from_millis(1000));
        assert_eq!(p.backoff(40), Duration::from_millis(1000));
    }

    #[test]
    fn reads_env() {
        let cfg = ConsumerConfig::from_vars([
            ("KAFKA_BOOTSTRAP_SERVERS", "k:9092"),
            ("KAFKA_GROUP_ID", "matching"),
            ("KAFKA_TOPICS", "patient-events, therapist-events"),
            ("KAFKA_CONSUMER_MAX_RETRIES", "2"),
            ("KAFKA_CONSUMER_UNHANDLED", "dead_letter"),
            ("KAFKA_CONSUMER_DEDUP_WINDOW", "1000"),
            ("KAFKA_CONSUMER_UNKNOWN_EVENT_TYPE", "dead_letter"),
        ])
        .unwrap();
        assert_eq!(cfg.unknown_event_type, UnknownEventTypePolicy::DeadLetter);
        assert_eq!(cfg.group_id, "matching");
        assert_eq!(cfg.topics, ["patient-events", "therapist-events"]);
        assert_eq!(cfg.retry.max_retries, 2);
        assert_eq!(cfg.unhandled, UnhandledPolicy::DeadLetter);
        assert_eq!(cfg.dedup_window, 1000);
        assert_eq!(cfg.dead_letter_suffix, ".dlq");
        assert_eq!(cfg.max_message_bytes, DEFAULT_MAX_MESSAGE_BYTES);
    }

    #[test]
    fn bad_env_names_the_variable() {
        let e = ConsumerConfig::from_vars([("KAFKA_BOOTSTRAP_SERVERS", "k:9092")]).unwrap_err();
        assert_eq!(e.setting, "KAFKA_GROUP_ID");
        let e = ConsumerConfig::from_vars([
            ("KAFKA_GROUP_ID", "g"),
            ("KAFKA_CONSUMER_MAX_RETRIES", "-1"),
        ])
        .unwrap_err();
        assert_eq!(e.setting, "KAFKA_CONSUMER_MAX_RETRIES");
        let e = ConsumerConfig::from_vars([
            ("KAFKA_GROUP_ID", "g"),
            ("KAFKA_CONSUMER_UNHANDLED", "drop"),
        ])
        .unwrap_err();
        assert_eq!(e.setting, "KAFKA_CONSUMER_UNHANDLED");
        let e = ConsumerConfig::from_vars([
            ("KAFKA_GROUP_ID", "g"),
            ("KAFKA_CONSUMER_UNKNOWN_EVENT_TYPE", "ignore"),
        ])
        .unwrap_err();
        assert_eq!(e.setting, "KAFKA_CONSUMER_UNKNOWN_EVENT_TYPE");
        let e = ConsumerConfig::from_vars([("KAFKA_GROUP_ID", "g"), ("KAFKA_TOPICS", "a.dlq")])
            .unwrap_err();
        assert_eq!(e.setting, "topics");
    }
}
