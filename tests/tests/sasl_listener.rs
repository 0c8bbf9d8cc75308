//! The SASL_SSL listener of `scripts/kafka-local` (SCRAM-SHA-512 over TLS with a throw-away CA),
//! reached with librdkafka: the right user, password and CA get metadata; a wrong password, an
//! unknown user and an untrusted CA are refused.

use std::path::Path;
use std::time::Duration;

use pmp_e2e_tests::{broker, sasl_listener};
use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;

fn metadata(user: &str, password: &str, ca: &Path) -> Result<usize, String> {
    let s = sasl_listener();
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &s.bootstrap)
        .set("security.protocol", "SASL_SSL")
        .set("sasl.mechanism", "SCRAM-SHA-512")
        .set("sasl.username", user)
        .set("sasl.password", password)
        .set("ssl.ca.location", ca.to_str().unwrap())
        .create()
        .map_err(|e| e.to_string())?;
    admin
        .inner()
        .fetch_metadata(None, Duration::from_secs(10))
        .map(|m| m.brokers().len())
        .map_err(|e| e.to_string())
}

#[test]
fn right_credentials_and_ca_are_accepted() {
    let _ = broker();
    let s = sasl_listener();
    assert_eq!(metadata(&s.username, &s.password, &s.ca_location), Ok(1));
}

#[test]
fn wrong_password_unknown_user_and_untrusted_ca_are_refused() {
    let _ = broker();
    let s = sasl_listener();
    let wrong = format!("{}x", s.password);
    assert!(
        metadata(&s.username, &wrong, &s.ca_location).is_err(),
        "wrong password accepted"
    );
    assert!(
        metadata("nobody", &s.password, &s.ca_location).is_err(),
        "unknown user accepted"
    );
    assert!(
        metadata(&s.username, &s.password, &s.untrusted_ca_location).is_err(),
        "untrusted CA accepted"
    );
}
