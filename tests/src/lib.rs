//! Helpers for the end-to-end tests against the real Apache Kafka of `scripts/kafka-local`.
//!
//! `scripts/test` starts the broker and runs this crate with the settings of
//! `eval "$(scripts/kafka-local env)"`. By hand:
//!
//! ```text
//! scripts/kafka-local start && eval "$(scripts/kafka-local env)"
//! cargo test -p pmp-e2e-tests -- --test-threads=1
//! ```
//!
//! A real-broker test never passes without the broker: [`broker`] panics, naming the missing
//! variable or the unreachable address, instead of skipping. Tests that kill or restart the
//! broker take [`fault_lock`] and run with `--test-threads=1`, so no other test of the same
//! binary sees the broker vanish.

use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// The local cluster's settings, read from the environment `scripts/kafka-local env` prints.
#[derive(Debug, Clone)]
pub struct LocalBroker {
    /// Plaintext listener (`KAFKA_BOOTSTRAP_SERVERS`).
    pub bootstrap: String,
    /// Topic tool wrapper over the cached jars (`KAFKA_TOPICS_CMD`).
    pub topics_cmd: PathBuf,
    /// ZooKeeper `host:port` (`KAFKA_ZOOKEEPER_CONNECT`); empty in KRaft mode
    /// (`KAFKA_LOCAL_MODE=kraft`), which has no ZooKeeper.
    pub zookeeper: String,
    /// The `scripts/kafka-local` that runs the cluster (`KAFKA_LOCAL_SCRIPT`).
    pub script: PathBuf,
}

/// Client settings for the SASL_SSL listener (`KAFKA_LOCAL_SASL_*` from `kafka-local env`).
#[derive(Clone)]
pub struct SaslListener {
    /// SASL_SSL listener address.
    pub bootstrap: String,
    /// SCRAM-SHA-512 user.
    pub username: String,
    /// Its password.
    pub password: String,
    /// PEM file of the CA that signed the broker certificate.
    pub ca_location: PathBuf,
    /// PEM file of a CA that signed nothing the broker uses.
    pub untrusted_ca_location: PathBuf,
}

impl std::fmt::Debug for SaslListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaslListener")
            .field("bootstrap", &self.bootstrap)
            .field("username", &self.username)
            .field("password", &"***")
            .field("ca_location", &self.ca_location)
            .finish()
    }
}

/// The repository root (where `scripts/`, `schemas/` and `docker/` live).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn required_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v,
        _ => panic!(
            "{name} is not set: this test needs the real broker. Run `scripts/test`, or \
             `scripts/kafka-local start && eval \"$(scripts/kafka-local env)\"` first"
        ),
    }
}

/// Whether something accepts TCP connections at `host:port` within `timeout`.
pub fn port_open(address: &str, timeout: Duration) -> bool {
    let Ok(addrs) = address.to_socket_addrs() else {
        return false;
    };
    addrs
        .into_iter()
        .any(|a| TcpStream::connect_timeout(&a, timeout).is_ok())
}

/// The local broker's settings; panics when they are missing or the broker is unreachable.
pub fn broker() -> LocalBroker {
    let bootstrap = required_env("KAFKA_BOOTSTRAP_SERVERS");
    let first = bootstrap
        .split(',')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    assert!(
        port_open(&first, Duration::from_secs(5)),
        "no broker accepts connections at KAFKA_BOOTSTRAP_SERVERS={bootstrap}: start it with \
         `scripts/kafka-local start`"
    );
    LocalBroker {
        bootstrap,
        topics_cmd: PathBuf::from(required_env("KAFKA_TOPICS_CMD")),
        zookeeper: if std::env::var("KAFKA_LOCAL_MODE").as_deref() == Ok("kraft") {
            String::new()
        } else {
            required_env("KAFKA_ZOOKEEPER_CONNECT")
        },
        script: std::env::var("KAFKA_LOCAL_SCRIPT")
            .map(PathBuf::from)
            .unwrap_or_else(|_| repo_root().join("scripts/kafka-local")),
    }
}

/// The SASL_SSL listener's client settings; panics when `kafka-local env` was not evaluated.
pub fn sasl_listener() -> SaslListener {
    SaslListener {
        bootstrap: required_env("KAFKA_LOCAL_SASL_BOOTSTRAP_SERVERS"),
        username: required_env("KAFKA_LOCAL_SASL_USERNAME"),
        password: required_env("KAFKA_LOCAL_SASL_PASSWORD"),
        ca_location: PathBuf::from(required_env("KAFKA_LOCAL_SSL_CA_LOCATION")),
        untrusted_ca_location: PathBuf::from(required_env("KAFKA_LOCAL_UNTRUSTED_CA_LOCATION")),
    }
}

impl LocalBroker {
    /// Run `scripts/kafka-local ARGS...`; panics with its output when it fails.
    pub fn kafka_local(&self, args: &[&str]) -> Output {
        let out = Command::new(&self.script)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.script.display()));
        assert!(
            out.status.success(),
            "scripts/kafka-local {} failed ({}):\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Run `docker/kafka/create-topics.sh` against this broker with extra environment.
    pub fn run_create_topics(&self, extra_env: &[(&str, &str)]) -> Output {
        run_script_against(
            self,
            &repo_root().join("docker/kafka/create-topics.sh"),
            extra_env,
        )
    }

    /// Create the catalog's topics once per test binary (idempotent either way).
    pub fn ensure_topics(&self) {
        static DONE: OnceLock<()> = OnceLock::new();
        DONE.get_or_init(|| {
            let out = self.run_create_topics(&[]);
            assert!(
                out.status.success(),
                "create-topics.sh failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        });
    }
}

/// Run a create-topics style script with `KAFKA_BOOTSTRAP_SERVERS` and `KAFKA_TOPICS_CMD` set
/// for `broker`.
pub fn run_script_against(
    broker: &LocalBroker,
    script: &Path,
    extra_env: &[(&str, &str)],
) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(script)
        .env("KAFKA_BOOTSTRAP_SERVERS", &broker.bootstrap)
        .env("KAFKA_TOPICS_CMD", &broker.topics_cmd)
        .env_remove("KAFKA_REPLICATION_FACTOR");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()))
}

/// Serializes the tests that kill or restart the broker or ZooKeeper.
pub fn fault_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    // A test that panicked while holding the lock left the cluster restarted by its guard.
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
