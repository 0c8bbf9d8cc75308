//! Connection settings shared by the producer and the consumer.
//!
//! Every setting can be given in code or read from the environment by
//! [`KafkaConfig::from_env`]:
//!
//! | setting | environment variable | default |
//! |---|---|---|
//! | bootstrap servers | `KAFKA_BOOTSTRAP_SERVERS` | `127.0.0.1:9092` |
//! | security protocol | `KAFKA_SECURITY_PROTOCOL` (`plaintext`, `ssl`, `sasl_plaintext`, `sasl_ssl`) | `plaintext` |
//! | SASL mechanism | `KAFKA_SASL_MECHANISM` (`PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`) | none |
//! | SASL user | `KAFKA_SASL_USERNAME` | none |
//! | SASL password | `KAFKA_SASL_PASSWORD` | none |
//! | CA certificate file | `KAFKA_SSL_CA_LOCATION` | system trust store |
//! | any librdkafka property `a.b.c` | `KAFKA_CONFIG_A_B_C` | librdkafka's |
//!
//! Credentials are held in [`Secret`], whose `Debug` and `Display` print `***`; pass-through
//! properties whose name mentions a password, secret or key are redacted the same way.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// A credential that never shows in logs, errors or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The credential, for handing to librdkafka only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// `security.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecurityProtocol {
    /// No TLS, no authentication (local development).
    #[default]
    Plaintext,
    /// TLS without SASL.
    Ssl,
    /// SASL without TLS.
    SaslPlaintext,
    /// SASL over TLS: what managed Kafka requires.
    SaslSsl,
}

impl SecurityProtocol {
    fn as_rdkafka(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "plaintext",
            SecurityProtocol::Ssl => "ssl",
            SecurityProtocol::SaslPlaintext => "sasl_plaintext",
            SecurityProtocol::SaslSsl => "sasl_ssl",
        }
    }
    fn uses_sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }
}

impl std::str::FromStr for SecurityProtocol {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s.to_ascii_lowercase().as_str() {
            "plaintext" => Ok(SecurityProtocol::Plaintext),
            "ssl" => Ok(SecurityProtocol::Ssl),
            "sasl_plaintext" => Ok(SecurityProtocol::SaslPlaintext),
            "sasl_ssl" => Ok(SecurityProtocol::SaslSsl),
            _ => Err(ConfigError::invalid(
                "security.protocol",
                format!("{s:?} is not one of plaintext, ssl, sasl_plaintext, sasl_ssl"),
            )),
        }
    }
}

/// `sasl.mechanism`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslMechanism {
    /// Username and password in the clear (only over TLS).
    Plain,
    /// SCRAM with SHA-256.
    ScramSha256,
    /// SCRAM with SHA-512.
    ScramSha512,
}

impl SaslMechanism {
    fn as_rdkafka(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

impl std::str::FromStr for SaslMechanism {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s.to_ascii_uppercase().as_str() {
            "PLAIN" => Ok(SaslMechanism::Plain),
            "SCRAM-SHA-256" => Ok(SaslMechanism::ScramSha256),
            "SCRAM-SHA-512" => Ok(SaslMechanism::ScramSha512),
            _ => Err(ConfigError::invalid(
                "sasl.mechanism",
                format!("{s:?} is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"),
            )),
        }
    }
}

/// SASL credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslCredentials {
    /// Mechanism.
    pub mechanism: SaslMechanism,
    /// User name.
    pub username: String,
    /// Password (never printed).
    pub password: Secret,
}

/// A configuration problem, naming the setting (and environment variable, if it came
/// from one). Never contains a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration {setting}: {message}")]
pub struct ConfigError {
    /// The setting, e.g. `security.protocol` or `KAFKA_SASL_MECHANISM`.
    pub setting: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// Build an error for `setting`.
    pub fn invalid(setting: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            setting: setting.into(),
            message: message.into(),
        }
    }
}

/// How to reach Kafka: bootstrap servers, security and pass-through librdkafka properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaConfig {
    /// Comma-separated `host:port` list.
    pub bootstrap_servers: String,
    /// `security.protocol`.
    pub security_protocol: SecurityProtocol,
    /// SASL credentials, required for the `sasl_*` protocols.
    pub sasl: Option<SaslCredentials>,
    /// CA certificate (PEM) to trust for TLS.
    pub ssl_ca_location: Option<PathBuf>,
    /// Any other librdkafka property, applied last (so it can override defaults).
    pub extra: BTreeMap<String, ExtraValue>,
}

/// A pass-through property value; redacted in `Debug` when its name looks secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ExtraValue {
    name_is_secret: bool,
    value: String,
}

impl std::fmt::Debug for ExtraValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.name_is_secret {
            f.write_str("***")
        } else {
            write!(f, "{:?}", self.value)
        }
    }
}

fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["password", "secret", "key", "token", "jaas"]
        .iter()
        .any(|w| n.contains(w))
        && !n.ends_with(".location")
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig::new("127.0.0.1:9092")
    }
}

impl KafkaConfig {
    /// Plaintext connection to `bootstrap_servers`.
    pub fn new(bootstrap_servers: impl Into<String>) -> Self {
        KafkaConfig {
            bootstrap_servers: bootstrap_servers.into(),
            security_protocol: SecurityProtocol::Plaintext,
            sasl: None,
            ssl_ca_location: None,
            extra: BTreeMap::new(),
        }
    }

    /// Use SASL over TLS with these credentials.
    pub fn with_sasl_ssl(
        mut self,
        mechanism: SaslMechanism,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.security_protocol = SecurityProtocol::SaslSsl;
        self.sasl = Some(SaslCredentials {
            mechanism,
            username: username.into(),
            password: Secret::new(password),
        });
        self
    }

    /// Trust this CA certificate file (PEM).
    pub fn with_ssl_ca_location(mut self, path: impl Into<PathBuf>) -> Self {
        self.ssl_ca_location = Some(path.into());
        self
    }

    /// Set any librdkafka property (applied after the toolkit's own settings).
    pub fn set(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        let name_is_secret = looks_secret(&name);
        self.extra.insert(
            name,
            ExtraValue {
                name_is_secret,
                value: value.into(),
            },
        );
        self
    }

    /// Read settings from the process environment (see the module docs for the names).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// Read settings from `(name, value)` pairs shaped like the environment.
    ///
    /// ```
    /// use pmp_event_runtime::{KafkaConfig, SecurityProtocol};
    ///
    /// let cfg = KafkaConfig::from_vars([
    ///     ("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9093,kafka-2:9093"),
    ///     ("KAFKA_SECURITY_PROTOCOL", "sasl_ssl"),
    ///     ("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
    ///     ("KAFKA_SASL_USERNAME", "matching-service"),
    ///     ("KAFKA_SASL_PASSWORD", "hunter2"),
    ///     ("KAFKA_CONFIG_SOCKET_TIMEOUT_MS", "5000"), // any librdkafka property
    /// ])?;
    /// assert_eq!(cfg.security_protocol, SecurityProtocol::SaslSsl);
    /// assert!(!format!("{cfg:?}").contains("hunter2")); // secrets never in Debug
    ///
    /// // A bad value names the variable.
    /// let err = KafkaConfig::from_vars([("KAFKA_SECURITY_PROTOCOL", "carrier-pigeon")]).unwrap_err();
    /// assert!(err.to_string().contains("KAFKA_SECURITY_PROTOCOL"));
    /// # Ok::<(), pmp_event_runtime::ConfigError>(())
    /// ```
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut map = BTreeMap::new();
        for (k, v) in vars {
            if k.as_ref().starts_with("KAFKA_") {
                map.insert(k.as_ref().to_owned(), v.as_ref().to_owned());
            }
        }
        let get = |k: &str| {
            map.get(k)
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let mut cfg = KafkaConfig::new(
            get("KAFKA_BOOTSTRAP_SERVERS").unwrap_or_else(|| "127.0.0.1:9092".to_owned()),
        );
        if let Some(p) = get("KAFKA_SECURITY_PROTOCOL") {
            cfg.security_protocol = p.parse().map_err(|e: ConfigError| {
                ConfigError::invalid("KAFKA_SECURITY_PROTOCOL", e.message)
            })?;
        }
        let mechanism = get("KAFKA_SASL_MECHANISM")
            .map(|m| {
                m.parse::<SaslMechanism>()
                    .map_err(|e| ConfigError::invalid("KAFKA_SASL_MECHANISM", e.message))
            })
            .transpose()?;
        let username = get("KAFKA_SASL_USERNAME");
        let password = map.get("KAFKA_SASL_PASSWORD").cloned();
        if mechanism.is_some() || username.is_some() || password.is_some() {
            let mechanism = mechanism.ok_or_else(|| {
                ConfigError::invalid(
                    "KAFKA_SASL_MECHANISM",
                    "required when SASL credentials are set",
                )
            })?;
            let username = username.ok_or_else(|| {
                ConfigError::invalid(
                    "KAFKA_SASL_USERNAME",
                    "required when a SASL mechanism is set",
                )
            })?;
            let password = password.ok_or_else(|| {
                ConfigError::invalid(
                    "KAFKA_SASL_PASSWORD",
                    "required when a SASL mechanism is set",
                )
            })?;
            cfg.sasl = Some(SaslCredentials {
                mechanism,
                username,
                password: Secret::new(password),
            });
        }
        if let Some(ca) = get("KAFKA_SSL_CA_LOCATION") {
            cfg.ssl_ca_location = Some(PathBuf::from(ca));
        }
        for (k, v) in &map {
            if let Some(prop) = k.strip_prefix("KAFKA_CONFIG_") {
                if prop.is_empty() {
                    return Err(ConfigError::invalid(k.clone(), "names no property"));
                }
                cfg = cfg.set(prop.to_ascii_lowercase().replace('_', "."), v.clone());
            }
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Check the settings for consistency. Never contacts Kafka.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.bootstrap_servers.trim().is_empty() {
            return Err(ConfigError::invalid("bootstrap.servers", "is empty"));
        }
        for server in self.bootstrap_servers.split(',') {
            let server = server.trim();
            let port = server.rsplit_once(':').map(|(_, p)| p);
            if port.and_then(|p| p.parse::<u16>().ok()).is_none() {
                return Err(ConfigError::invalid(
                    "bootstrap.servers",
                    format!("{server:?} is not host:port"),
                ));
            }
        }
        match (&self.sasl, self.security_protocol.uses_sasl()) {
            (None, true) => {
                return Err(ConfigError::invalid(
                    "sasl.mechanism",
                    format!(
                        "security.protocol {} needs SASL credentials",
                        self.security_protocol.as_rdkafka()
                    ),
                ))
            }
            (Some(_), false) => {
                return Err(ConfigError::invalid(
                    "security.protocol",
                    format!(
                        "SASL credentials given but security.protocol is {}; use sasl_ssl",
                        self.security_protocol.as_rdkafka()
                    ),
                ))
            }
            _ => {}
        }
        if let Some(sasl) = &self.sasl {
            if sasl.username.is_empty() {
                return Err(ConfigError::invalid("sasl.username", "is empty"));
            }
        }
        if let Some(ca) = &self.ssl_ca_location {
            if !ca.is_file() {
                return Err(ConfigError::invalid(
                    "ssl.ca.location",
                    format!("{} is not a readable file", ca.display()),
                ));
            }
        }
        Ok(())
    }

    /// Write these settings into an rdkafka client configuration.
    pub fn apply(&self, client: &mut rdkafka::ClientConfig) {
        client.set("bootstrap.servers", &self.bootstrap_servers);
        client.set("security.protocol", self.security_protocol.as_rdkafka());
        if let Some(sasl) = &self.sasl {
            client.set("sasl.mechanism", sasl.mechanism.as_rdkafka());
            client.set("sasl.username", &sasl.username);
            client.set("sasl.password", sasl.password.expose());
        }
        if let Some(ca) = &self.ssl_ca_location {
            client.set("ssl.ca.location", ca.to_string_lossy());
        }
        for (k, v) in &self.extra {
            client.set(k, &v.value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_env_and_redacts_password() {
        let cfg = KafkaConfig::from_vars([
            ("KAFKA_BOOTSTRAP_SERVERS", "b1:9093,b2:9093"),
            ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
            ("KAFKA_SASL_MECHANISM", "scram-sha-512"),
            ("KAFKA_SASL_USERNAME", "svc"),
            ("KAFKA_SASL_PASSWORD", "hunter2"),
            ("KAFKA_CONFIG_SOCKET_TIMEOUT_MS", "5000"),
            ("KAFKA_CONFIG_SSL_KEY_PASSWORD", "topsecret"),
        ])
        .unwrap();
        assert_eq!(cfg.security_protocol, SecurityProtocol::SaslSsl);
        assert_eq!(cfg.extra["socket.timeout.ms"].value, "5000");
        let dbg = format!("{cfg:?}");
        assert!(
            !dbg.contains("hunter2") && !dbg.contains("topsecret"),
            "{dbg}"
        );
        let mut client = rdkafka::ClientConfig::new();
        cfg.apply(&mut client);
        assert_eq!(client.get("sasl.password"), Some("hunter2"));
        assert_eq!(client.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
    }

    #[test]
    fn bad_settings_name_the_variable() {
        let e = KafkaConfig::from_vars([("KAFKA_SECURITY_PROTOCOL", "tls")]).unwrap_err();
        assert_eq!(e.setting, "KAFKA_SECURITY_PROTOCOL");
        let e = KafkaConfig::from_vars([("KAFKA_SASL_USERNAME", "u")]).unwrap_err();
        assert_eq!(e.setting, "KAFKA_SASL_MECHANISM");
        let e = KafkaConfig::from_vars([("KAFKA_BOOTSTRAP_SERVERS", "nohost")]).unwrap_err();
        assert_eq!(e.setting, "bootstrap.servers");
        let e = KafkaConfig::from_vars([("KAFKA_SECURITY_PROTOCOL", "sasl_ssl")]).unwrap_err();
        assert_eq!(e.setting, "sasl.mechanism");
        assert!(!format!("{e}").contains("hunter2"));
    }
}
