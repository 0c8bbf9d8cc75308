//! [`ProducerConfig`]: what the robust producer needs, from code or the environment.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{ConfigError, KafkaConfig};
use crate::spool::{SpoolLimits, DEFAULT_SEGMENT_BYTES};

/// Commit interval of the spool in `outage` mode (events are spooled only while Kafka
/// cannot take them, so this bounds how long a `Spooled` answer waits for its fsync).
pub const OUTAGE_FSYNC_INTERVAL: Duration = Duration::from_millis(5);

/// How long an event may wait for Kafka's acknowledgement before the producer spools it,
/// unless `message.timeout.ms` says otherwise.
const DEFAULT_DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// When events are written to the local spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Events go straight to librdkafka while Kafka is up. They are spooled when Kafka is
    /// down, when a delivery fails (timeout, purge, fatal error, full queue) and at
    /// shutdown for whatever is not delivered yet. A `kill -9` loses what librdkafka held
    /// in memory at that moment.
    #[default]
    Outage,
    /// Every event is appended to the spool before librdkafka sees it and removed on
    /// acknowledgement. The spool is fsynced by group commit every `fsync_interval`; a
    /// publish handle resolves once its event is delivered or fsynced, whichever comes
    /// first, so `kill -9` loses nothing whose handle resolved.
    WriteAhead {
        /// Group commit interval. Default 10 ms.
        fsync_interval: Duration,
    },
}

impl Durability {
    /// `write-ahead` with the default 10 ms group commit.
    pub const fn write_ahead() -> Self {
        Durability::WriteAhead {
            fsync_interval: Duration::from_millis(10),
        }
    }

    pub(crate) fn fsync_interval(&self) -> Duration {
        match self {
            Durability::Outage => OUTAGE_FSYNC_INTERVAL,
            Durability::WriteAhead { fsync_interval } => *fsync_interval,
        }
    }
}

/// Configuration of a [`RobustProducer`](super::RobustProducer).
///
/// | field | environment variable ([`ProducerConfig::from_env`]) | default |
/// |---|---|---|
/// | `service_name` | argument of `from_env` | — |
/// | `kafka` | `KAFKA_*` (see [`KafkaConfig`]) | `127.0.0.1:9092`, plaintext |
/// | `spool_dir` | `PMP_PRODUCER_SPOOL_DIR` | `./spool/<service_name>` |
/// | `durability` | `PMP_PRODUCER_DURABILITY` (`outage`, `write-ahead`) | `outage` |
/// | fsync interval (write-ahead) | `PMP_PRODUCER_FSYNC_INTERVAL_MS` | 10 |
/// | `backoff_min` | `PMP_PRODUCER_BACKOFF_MIN_MS` | 100 |
/// | `backoff_max` | `PMP_PRODUCER_BACKOFF_MAX_MS` | 30000 |
/// | `spool_limits.max_bytes` | `PMP_PRODUCER_SPOOL_MAX_BYTES` | 1 GiB |
/// | `spool_limits.max_records` | `PMP_PRODUCER_SPOOL_MAX_RECORDS` | 1,000,000 |
/// | `validate_before_send` | `PMP_PRODUCER_VALIDATE` (`true`/`false`) | `true` |
#[derive(Debug, Clone, PartialEq)]
pub struct ProducerConfig {
    /// The envelope's `producer` field and librdkafka's `client.id`.
    pub service_name: String,
    /// Connection settings; `kafka.extra` passes any librdkafka property through and
    /// overrides the producer's own defaults (`enable.idempotence=true`, `acks=all`,
    /// `linger.ms=5`, `reconnect.backoff.max.ms=2000`). `message.timeout.ms` (default
    /// 30000) is the producer's delivery deadline, enforced by the producer for all
    /// in-flight events at once; librdkafka itself gets `0` (never expire).
    pub kafka: KafkaConfig,
    /// Spool directory; one producer per directory (enforced with a lock file).
    pub spool_dir: PathBuf,
    /// When events are spooled.
    pub durability: Durability,
    /// First reconnection probe delay; doubles per failed probe (full jitter).
    pub backoff_min: Duration,
    /// Largest reconnection probe delay.
    pub backoff_max: Duration,
    /// Bounds of the spool; a publish beyond them fails with `SpoolFull`.
    pub spool_limits: SpoolLimits,
    /// Validate each payload against its JSON Schema before sending.
    ///
    /// Default `true`: the generated types already enforce the schema's shape, but not its
    /// formats, patterns, lengths and `oneOf` rules; an event that breaks them would be
    /// dead-lettered by every consumer, which is far more expensive to notice and repair
    /// than an error at the call site. The cost is measured by `scripts/bench producer`.
    pub validate_before_send: bool,
    /// Size at which a spool segment is closed. Default 4 MiB.
    pub segment_bytes: u64,
}

impl ProducerConfig {
    /// Defaults for everything but the service name, Kafka settings and spool directory.
    pub fn new(
        service_name: impl Into<String>,
        kafka: KafkaConfig,
        spool_dir: impl Into<PathBuf>,
    ) -> Self {
        ProducerConfig {
            service_name: service_name.into(),
            kafka,
            spool_dir: spool_dir.into(),
            durability: Durability::Outage,
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(30),
            spool_limits: SpoolLimits::default(),
            validate_before_send: true,
            segment_bytes: DEFAULT_SEGMENT_BYTES,
        }
    }

    /// Set the durability mode.
    pub fn with_durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Set the spool bounds.
    pub fn with_spool_limits(mut self, limits: SpoolLimits) -> Self {
        self.spool_limits = limits;
        self
    }

    /// Set the reconnection backoff bounds.
    pub fn with_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff_min = min;
        self.backoff_max = max;
        self
    }

    /// Turn schema validation before send on or off.
    pub fn with_validation(mut self, on: bool) -> Self {
        self.validate_before_send = on;
        self
    }

    /// Read the configuration from the process environment (names in the type docs).
    pub fn from_env(service_name: impl Into<String>) -> Result<Self, ConfigError> {
        Self::from_vars(service_name, std::env::vars())
    }

    /// Read the configuration from `(name, value)` pairs shaped like the environment.
    ///
    /// ```
    /// use pmp_event_runtime::producer::{Durability, ProducerConfig};
    ///
    /// let cfg = ProducerConfig::from_vars("patient-service", [
    ///     ("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"),
    ///     ("PMP_PRODUCER_DURABILITY", "write-ahead"),
    ///     ("PMP_PRODUCER_SPOOL_DIR", "/var/lib/patient-service/spool"),
    /// ])?;
    /// assert!(matches!(cfg.durability, Durability::WriteAhead { .. }));
    /// assert!(cfg.validate_before_send); // the default
    ///
    /// let err = ProducerConfig::from_vars("x", [("PMP_PRODUCER_DURABILITY", "yolo")]).unwrap_err();
    /// assert!(err.to_string().contains("PMP_PRODUCER_DURABILITY"));
    /// # Ok::<(), pmp_event_runtime::ConfigError>(())
    /// ```
    pub fn from_vars<I, K, V>(service_name: impl Into<String>, vars: I) -> Result<Self, ConfigError>
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
        let service_name = service_name.into();
        let spool_dir = get("PMP_PRODUCER_SPOOL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("spool").join(&service_name));
        let mut cfg = ProducerConfig::new(service_name, kafka, spool_dir);
        let ms = |name: &str| -> Result<Option<Duration>, ConfigError> {
            get(name)
                .map(|v| {
                    v.parse::<u64>().map(Duration::from_millis).map_err(|_| {
                        ConfigError::invalid(name, format!("{v:?} is not a number of milliseconds"))
                    })
                })
                .transpose()
        };
        let num = |name: &str| -> Result<Option<u64>, ConfigError> {
            get(name)
                .map(|v| {
                    v.parse::<u64>()
                        .map_err(|_| ConfigError::invalid(name, format!("{v:?} is not a number")))
                })
                .transpose()
        };
        let fsync = ms("PMP_PRODUCER_FSYNC_INTERVAL_MS")?;
        cfg.durability = match get("PMP_PRODUCER_DURABILITY").as_deref() {
            None | Some("outage") => {
                if fsync.is_some() {
                    return Err(ConfigError::invalid(
                        "PMP_PRODUCER_FSYNC_INTERVAL_MS",
                        "only applies to PMP_PRODUCER_DURABILITY=write-ahead",
                    ));
                }
                Durability::Outage
            }
            Some("write-ahead") | Some("write_ahead") => Durability::WriteAhead {
                fsync_interval: fsync.unwrap_or(Duration::from_millis(10)),
            },
            Some(other) => {
                return Err(ConfigError::invalid(
                    "PMP_PRODUCER_DURABILITY",
                    format!("{other:?} is not one of outage, write-ahead"),
                ))
            }
        };
        if let Some(d) = ms("PMP_PRODUCER_BACKOFF_MIN_MS")? {
            cfg.backoff_min = d;
        }
        if let Some(d) = ms("PMP_PRODUCER_BACKOFF_MAX_MS")? {
            cfg.backoff_max = d;
        }
        if let Some(n) = num("PMP_PRODUCER_SPOOL_MAX_BYTES")? {
            cfg.spool_limits.max_bytes = n;
        }
        if let Some(n) = num("PMP_PRODUCER_SPOOL_MAX_RECORDS")? {
            cfg.spool_limits.max_records = n;
        }
        if let Some(v) = get("PMP_PRODUCER_VALIDATE") {
            cfg.validate_before_send = match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                _ => {
                    return Err(ConfigError::invalid(
                        "PMP_PRODUCER_VALIDATE",
                        format!("{v:?} is not true or false"),
                    ))
                }
            };
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Check the settings. Never contacts Kafka or touches the disk.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.kafka.validate()?;
        if self.service_name.trim().is_empty() {
            return Err(ConfigError::invalid("service_name", "is empty"));
        }
        if self.spool_dir.as_os_str().is_empty() {
            return Err(ConfigError::invalid("spool_dir", "is empty"));
        }
        if self.backoff_min.is_zero() || self.backoff_min > self.backoff_max {
            return Err(ConfigError::invalid(
                "backoff",
                format!(
                    "need 0 < min <= max, got min {:?} max {:?}",
                    self.backoff_min, self.backoff_max
                ),
            ));
        }
        if let Durability::WriteAhead { fsync_interval } = self.durability {
            if fsync_interval.is_zero() || fsync_interval > Duration::from_secs(10) {
                return Err(ConfigError::invalid(
                    "fsync_interval",
                    format!("{fsync_interval:?} is not within 1 ms ..= 10 s"),
                ));
            }
        }
        if self.spool_limits.max_records == 0 || self.spool_limits.max_bytes == 0 {
            return Err(ConfigError::invalid("spool_limits", "bounds must be > 0"));
        }
        self.delivery_timeout_setting()?;
        Ok(())
    }

    /// The delivery deadline: how long an event may wait in librdkafka before the producer
    /// takes everything back into the spool. `message.timeout.ms` (or its alias
    /// `delivery.timeout.ms`) from `kafka.extra`, default 30 s; `0` means no deadline.
    /// The producer applies it itself (see `engine::deadline` for why librdkafka's own
    /// expiry is switched off).
    pub(crate) fn delivery_timeout(&self) -> Option<Duration> {
        self.delivery_timeout_setting().ok().flatten()
    }

    fn delivery_timeout_setting(&self) -> Result<Option<Duration>, ConfigError> {
        let mut raw = rdkafka::ClientConfig::new();
        self.kafka.apply(&mut raw);
        let (name, value) = match (
            raw.get("delivery.timeout.ms"),
            raw.get("message.timeout.ms"),
        ) {
            (Some(v), _) => ("delivery.timeout.ms", v),
            (None, Some(v)) => ("message.timeout.ms", v),
            (None, None) => return Ok(Some(DEFAULT_DELIVERY_TIMEOUT)),
        };
        match value.trim().parse::<u64>() {
            Ok(0) => Ok(None),
            Ok(ms) if ms <= i32::MAX as u64 => Ok(Some(Duration::from_millis(ms))),
            _ => Err(ConfigError::invalid(
                name,
                format!("{value:?} is not a number of milliseconds (0 ..= 2147483647)"),
            )),
        }
    }

    /// The librdkafka configuration: the producer's defaults, then `kafka` (whose
    /// pass-through properties come last and win), except the message timeout: librdkafka
    /// never expires messages itself; the producer enforces [`Self::delivery_timeout`].
    pub(crate) fn client_config(&self) -> rdkafka::ClientConfig {
        let mut c = rdkafka::ClientConfig::new();
        c.set("client.id", &self.service_name);
        c.set("enable.idempotence", "true");
        c.set("acks", "all");
        c.set("linger.ms", "5");
        c.set("reconnect.backoff.ms", "100");
        c.set("reconnect.backoff.max.ms", "2000");
        self.kafka.apply(&mut c);
        c.remove("delivery.timeout.ms");
        c.set("message.timeout.ms", "0");
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_defaults_and_overrides() {
        let cfg =
            ProducerConfig::from_vars("patient-service", [("KAFKA_BOOTSTRAP_SERVERS", "k:9092")])
                .unwrap();
        assert_eq!(cfg.durability, Durability::Outage);
        assert!(cfg.validate_before_send);
        assert_eq!(cfg.spool_dir, PathBuf::from("spool/patient-service"));
        assert_eq!(cfg.backoff_min, Duration::from_millis(100));
        assert_eq!(cfg.backoff_max, Duration::from_secs(30));

        let cfg = ProducerConfig::from_vars(
            "s",
            [
                ("PMP_PRODUCER_DURABILITY", "write-ahead"),
                ("PMP_PRODUCER_FSYNC_INTERVAL_MS", "25"),
                ("PMP_PRODUCER_SPOOL_DIR", "/var/spool/s"),
                ("PMP_PRODUCER_SPOOL_MAX_RECORDS", "10"),
                ("PMP_PRODUCER_VALIDATE", "off"),
                ("KAFKA_CONFIG_LINGER_MS", "0"),
            ],
        )
        .unwrap();
        assert_eq!(
            cfg.durability,
            Durability::WriteAhead {
                fsync_interval: Duration::from_millis(25)
            }
        );
        assert_eq!(cfg.spool_limits.max_records, 10);
        assert!(!cfg.validate_before_send);
        let client = cfg.client_config();
        assert_eq!(client.get("linger.ms"), Some("0"), "pass-through wins");
        assert_eq!(client.get("enable.idempotence"), Some("true"));
        assert_eq!(client.get("acks"), Some("all"));
    }

    #[test]
    fn the_delivery_timeout_is_the_producers_not_librdkafkas() {
        let cfg = ProducerConfig::from_vars("s", Vec::<(String, String)>::new()).unwrap();
        assert_eq!(cfg.delivery_timeout(), Some(Duration::from_secs(30)));
        assert_eq!(cfg.client_config().get("message.timeout.ms"), Some("0"));
        for (var, value, expected) in [
            (
                "KAFKA_CONFIG_MESSAGE_TIMEOUT_MS",
                "8000",
                Some(Duration::from_secs(8)),
            ),
            (
                "KAFKA_CONFIG_DELIVERY_TIMEOUT_MS",
                "1500",
                Some(Duration::from_millis(1500)),
            ),
            ("KAFKA_CONFIG_MESSAGE_TIMEOUT_MS", "0", None),
        ] {
            let cfg = ProducerConfig::from_vars("s", [(var, value)]).unwrap();
            assert_eq!(cfg.delivery_timeout(), expected, "{var}={value}");
            let client = cfg.client_config();
            assert_eq!(client.get("message.timeout.ms"), Some("0"), "{var}");
            assert_eq!(client.get("delivery.timeout.ms"), None, "{var}");
        }
        let e = ProducerConfig::from_vars("s", [("KAFKA_CONFIG_MESSAGE_TIMEOUT_MS", "soon")])
            .unwrap_err();
        assert_eq!(e.setting, "message.timeout.ms");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e =
            ProducerConfig::from_vars("s", [("PMP_PRODUCER_DURABILITY", "always")]).unwrap_err();
        assert_eq!(e.setting, "PMP_PRODUCER_DURABILITY");
        let e =
            ProducerConfig::from_vars("s", [("PMP_PRODUCER_BACKOFF_MIN_MS", "soon")]).unwrap_err();
        assert_eq!(e.setting, "PMP_PRODUCER_BACKOFF_MIN_MS");
        let e = ProducerConfig::from_vars(
            "s",
            [
                ("PMP_PRODUCER_BACKOFF_MIN_MS", "5000"),
                ("PMP_PRODUCER_BACKOFF_MAX_MS", "100"),
            ],
        )
        .unwrap_err();
        assert_eq!(e.setting, "backoff");
        let e = ProducerConfig::from_vars("", Vec::<(String, String)>::new()).unwrap_err();
        assert_eq!(e.setting, "service_name");
    }
}
