//! The topic catalog (`schemas/topics.json`) and its rendering as `create-topics.sh`.
//!
//! # Format of `topics.json`
//!
//! ```json
//! {"$schema": "...", "$id": "https://pmp.example/schemas/topics.json", "description": "...",
//!  "defaults": {"environment": "dev"},
//!  "environments": {"dev": {"replication_factor": 1, "min_insync_replicas": 1},
//!                   "cluster": {"replication_factor": 3, "min_insync_replicas": 2}},
//!  "dead_letter": {"suffix": ".dlq", "partitions": 1,
//!                  "config": {"cleanup.policy": "delete", "retention.ms": "2592000000"}},
//!  "topics": [{"name": "patient-events", "partitions": 3, "kind": "events",
//!              "description": "...", "config": {"retention.ms": "604800000"}}]}
//! ```
//!
//! - `environments` (optional): per deployment environment (name `[a-z0-9_-]+`), the
//!   replication factor and `min.insync.replicas` of every topic (1 ≤ min ≤ RF). With
//!   `acks=all`, `min.insync.replicas` is how many replicas must hold a record before the
//!   producer's send succeeds. `defaults.environment` (default `dev`) names the one used when
//!   none is asked for. Without `environments`, the only environment is `dev` with
//!   `defaults.replication_factor` (default 1) and `min.insync.replicas` 1. Deployments
//!   override the replication factor with `KAFKA_REPLICATION_FACTOR`.
//! - `min.insync.replicas` belongs to the environment: a topic `config` may not set it.
//! - `dead_letter` (required): every topic `T` gets a dead-letter topic `T<suffix>` with
//!   `partitions` and `config`.
//! - `topics[*]`: `name` (Kafka's legal characters `[a-zA-Z0-9._-]`, at most 249), `partitions`
//!   (1 to 10000), optional `kind` and `description` strings, optional `config` (topic-level
//!   Kafka configs; values are strings, integers or booleans).
//! - Unknown keys are errors, so a typo such as `"partition": 3` never goes unnoticed.
//!
//! # Guarantees
//!
//! - Every error names the file and the JSON pointer of the offending value. Errors never echo
//!   a value taken from the file except topic names, which are validated first.
//! - Config keys and values are restricted to characters that need no shell quoting and that
//!   `kafka-topics --config` accepts, so the rendered script cannot be injected into.
//! - Rendering is deterministic: topics in file order, each followed by its dead-letter topic;
//!   configs sorted by key.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// A problem with a topic catalog: which file, where in it (JSON pointer) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {pointer}: {message}", file.display())]
pub struct TopicsError {
    /// The catalog file.
    pub file: PathBuf,
    /// JSON pointer of the offending value (empty for the whole document).
    pub pointer: String,
    /// What is wrong, without the offending value.
    pub message: String,
}

/// The dead-letter policy applied to every topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterPolicy {
    /// Appended to a topic's name to name its dead-letter topic.
    pub suffix: String,
    /// Partitions of every dead-letter topic.
    pub partitions: u32,
    /// Topic-level configs of every dead-letter topic.
    pub config: BTreeMap<String, String>,
}

/// One topic as declared in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    /// Kafka topic name.
    pub name: String,
    /// Number of partitions.
    pub partitions: u32,
    /// Free-form kind, e.g. `events` or `commands`.
    pub kind: Option<String>,
    /// What the topic carries.
    pub description: Option<String>,
    /// Topic-level Kafka configs (`retention.ms`, `cleanup.policy`, ...).
    pub config: BTreeMap<String, String>,
}

/// A topic to create: a declared topic or the dead-letter topic of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedTopic {
    /// Kafka topic name.
    pub name: String,
    /// Number of partitions.
    pub partitions: u32,
    /// Topic-level Kafka configs.
    pub config: BTreeMap<String, String>,
    /// For a dead-letter topic, the topic whose failures it holds.
    pub dead_letter_of: Option<String>,
    /// What the topic carries.
    pub description: Option<String>,
}

/// Replication settings of one deployment environment (`environments.<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicEnvironment {
    /// Replication factor of every topic.
    pub replication_factor: u16,
    /// `min.insync.replicas` of every topic (at most `replication_factor`).
    pub min_insync_replicas: u16,
}

/// The parsed `topics.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicCatalog {
    /// Replication factor of the default environment.
    pub replication_factor: u16,
    /// Deployment environments by name (at least the default one).
    pub environments: BTreeMap<String, TopicEnvironment>,
    /// The environment used when none is named (`defaults.environment`, default `dev`).
    pub default_environment: String,
    /// Dead-letter policy.
    pub dead_letter: DeadLetterPolicy,
    /// Declared topics, in file order.
    pub topics: Vec<TopicSpec>,
}

const MAX_PARTITIONS: u64 = 10_000;

impl TopicCatalog {
    /// Read and validate a catalog file.
    pub fn load(path: &Path) -> Result<Self, TopicsError> {
        let text = std::fs::read_to_string(path).map_err(|e| TopicsError {
            file: path.to_owned(),
            pointer: String::new(),
            message: format!("cannot read: {}", e.kind()),
        })?;
        Self::parse(path, &text)
    }

    /// Parse and validate catalog text; `file` only names the source in errors.
    pub fn parse(file: &Path, text: &str) -> Result<Self, TopicsError> {
        let value: Value = pmp_strict_json::from_str(text).map_err(|e| {
            let e = match e {
                pmp_strict_json::Error::Syntax(e) => e,
                dup @ pmp_strict_json::Error::DuplicateKey { .. } => {
                    return TopicsError {
                        file: file.to_owned(),
                        pointer: dup.duplicate_pointer().unwrap_or_default().to_owned(),
                        message: "duplicate key: JSON parsers disagree on which value wins"
                            .to_owned(),
                    }
                }
            };
            TopicsError {
                file: file.to_owned(),
                pointer: String::new(),
                // serde_json's message can quote input: report only position and category.
                message: format!(
                    "not valid JSON ({:?} error at line {} column {})",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
            }
        })?;
        Parser { file }.catalog(&value)
    }

    /// Every topic to create, in file order, each followed by its dead-letter topic.
    pub fn resolved_topics(&self) -> Vec<ResolvedTopic> {
        let mut out = Vec::with_capacity(self.topics.len() * 2);
        for t in &self.topics {
            out.push(ResolvedTopic {
                name: t.name.clone(),
                partitions: t.partitions,
                config: t.config.clone(),
                dead_letter_of: None,
                description: t.description.clone(),
            });
            out.push(ResolvedTopic {
                name: format!("{}{}", t.name, self.dead_letter.suffix),
                partitions: self.dead_letter.partitions,
                config: self.dead_letter.config.clone(),
                dead_letter_of: Some(t.name.clone()),
                description: None,
            });
        }
        out
    }

    /// The name of `topic`'s dead-letter topic.
    pub fn dead_letter_topic(&self, topic: &str) -> String {
        format!("{topic}{}", self.dead_letter.suffix)
    }

    /// The environment `name`, or the default one for `None`; the error lists the known names.
    pub fn environment(&self, name: Option<&str>) -> Result<TopicEnvironment, String> {
        let name = name.unwrap_or(&self.default_environment);
        self.environments.get(name).copied().ok_or_else(|| {
            let known: Vec<&str> = self.environments.keys().map(String::as_str).collect();
            format!("unknown environment `{name}` (known: {})", known.join(", "))
        })
    }
}

struct Parser<'a> {
    file: &'a Path,
}

fn ptr_push(base: &str, token: &str) -> String {
    format!("{base}/{}", token.replace('~', "~0").replace('/', "~1"))
}

impl Parser<'_> {
    fn err(&self, pointer: &str, message: impl Into<String>) -> TopicsError {
        TopicsError {
            file: self.file.to_owned(),
            pointer: pointer.to_owned(),
            message: message.into(),
        }
    }

    fn object<'v>(
        &self,
        v: &'v Value,
        pointer: &str,
    ) -> Result<&'v Map<String, Value>, TopicsError> {
        v.as_object()
            .ok_or_else(|| self.err(pointer, "must be an object"))
    }

    fn only_keys(
        &self,
        obj: &Map<String, Value>,
        pointer: &str,
        allowed: &[&str],
    ) -> Result<(), TopicsError> {
        for k in obj.keys() {
            if !allowed.contains(&k.as_str()) {
                return Err(self.err(
                    &ptr_push(pointer, k),
                    format!("unknown key (allowed: {})", allowed.join(", ")),
                ));
            }
        }
        Ok(())
    }

    fn count(&self, v: Option<&Value>, pointer: &str, max: u64) -> Result<u64, TopicsError> {
        let v = v.ok_or_else(|| self.err(pointer, "is required"))?;
        match v.as_u64() {
            Some(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(self.err(pointer, format!("must be an integer from 1 to {max}"))),
        }
    }

    fn opt_string(&self, v: Option<&Value>, pointer: &str) -> Result<Option<String>, TopicsError> {
        match v {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.err(pointer, "must be a string")),
        }
    }

    fn catalog(&self, root: &Value) -> Result<TopicCatalog, TopicsError> {
        let obj = self.object(root, "")?;
        self.only_keys(
            obj,
            "",
            &[
                "$schema",
                "$id",
                "description",
                "defaults",
                "environments",
                "dead_letter",
                "topics",
            ],
        )?;

        let (environments, default_environment) = self.environments(obj)?;
        let replication_factor = environments[&default_environment].replication_factor;

        let dl = obj
            .get("dead_letter")
            .ok_or_else(|| self.err("/dead_letter", "is required"))?;
        let dl_obj = self.object(dl, "/dead_letter")?;
        self.only_keys(
            dl_obj,
            "/dead_letter",
            &["suffix", "partitions", "config", "description"],
        )?;
        let suffix = self
            .opt_string(dl_obj.get("suffix"), "/dead_letter/suffix")?
            .ok_or_else(|| self.err("/dead_letter/suffix", "is required"))?;
        if suffix.is_empty() || !suffix.chars().all(legal_topic_char) {
            return Err(self.err(
                "/dead_letter/suffix",
                "must be non-empty and use only the topic-name characters [a-zA-Z0-9._-]",
            ));
        }
        let dead_letter = DeadLetterPolicy {
            suffix,
            partitions: self.count(
                dl_obj.get("partitions"),
                "/dead_letter/partitions",
                MAX_PARTITIONS,
            )? as u32,
            config: self.config(dl_obj.get("config"), "/dead_letter/config")?,
        };

        let topics_v = obj
            .get("topics")
            .ok_or_else(|| self.err("/topics", "is required"))?;
        let arr = topics_v
            .as_array()
            .ok_or_else(|| self.err("/topics", "must be an array"))?;
        if arr.is_empty() {
            return Err(self.err("/topics", "must list at least one topic"));
        }
        let mut topics = Vec::with_capacity(arr.len());
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for (i, t) in arr.iter().enumerate() {
            let p = format!("/topics/{i}");
            let spec = self.topic(t, &p)?;
            let dlq = format!("{}{}", spec.name, dead_letter.suffix);
            if dlq.len() > 249 {
                return Err(self.err(
                    &format!("{p}/name"),
                    "is too long once the dead-letter suffix is added (249 max)",
                ));
            }
            for n in [&spec.name, &dlq] {
                if !seen.insert(n.clone()) {
                    return Err(self.err(
                        &format!("{p}/name"),
                        format!("topic `{n}` is declared twice (dead-letter topics included)"),
                    ));
                }
            }
            topics.push(spec);
        }
        Ok(TopicCatalog {
            replication_factor,
            environments,
            default_environment,
            dead_letter,
            topics,
        })
    }

    /// `environments` and `defaults` (see the module docs).
    fn environments(
        &self,
        obj: &Map<String, Value>,
    ) -> Result<(BTreeMap<String, TopicEnvironment>, String), TopicsError> {
        const MAX_RF: u64 = i16::MAX as u64;
        let mut legacy_rf = None;
        let mut default_env = None;
        if let Some(d) = obj.get("defaults") {
            let d = self.object(d, "/defaults")?;
            self.only_keys(d, "/defaults", &["replication_factor", "environment"])?;
            if d.contains_key("replication_factor") {
                let p = "/defaults/replication_factor";
                if obj.contains_key("environments") {
                    return Err(self.err(p, "is set per environment in /environments"));
                }
                legacy_rf = Some(self.count(d.get("replication_factor"), p, MAX_RF)? as u16);
            }
            default_env = self.opt_string(d.get("environment"), "/defaults/environment")?;
        }
        let default_env = default_env.unwrap_or_else(|| "dev".to_owned());
        let mut envs = BTreeMap::new();
        match obj.get("environments") {
            None => {
                let rf = legacy_rf.unwrap_or(1);
                envs.insert(
                    "dev".to_owned(),
                    TopicEnvironment {
                        replication_factor: rf,
                        min_insync_replicas: 1,
                    },
                );
            }
            Some(v) => {
                for (name, env) in self.object(v, "/environments")? {
                    let p = ptr_push("/environments", name);
                    let legal = |c: char| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'
                    };
                    if name.is_empty() || !name.chars().all(legal) {
                        return Err(self.err(&p, "environment names use only [a-z0-9_-]"));
                    }
                    let e = self.object(env, &p)?;
                    self.only_keys(
                        e,
                        &p,
                        &["replication_factor", "min_insync_replicas", "description"],
                    )?;
                    let rf_p = ptr_push(&p, "replication_factor");
                    let rf = self.count(e.get("replication_factor"), &rf_p, MAX_RF)? as u16;
                    let min_p = ptr_push(&p, "min_insync_replicas");
                    let min = self.count(e.get("min_insync_replicas"), &min_p, MAX_RF)? as u16;
                    if min > rf {
                        return Err(
                            self.err(&min_p, "exceeds the environment's replication_factor")
                        );
                    }
                    self.opt_string(e.get("description"), &ptr_push(&p, "description"))?;
                    envs.insert(
                        name.clone(),
                        TopicEnvironment {
                            replication_factor: rf,
                            min_insync_replicas: min,
                        },
                    );
                }
            }
        }
        if !envs.contains_key(&default_env) {
            return Err(self.err(
                "/defaults/environment",
                "names no environment of /environments",
            ));
        }
        Ok((envs, default_env))
    }

    fn topic(&self, v: &Value, p: &str) -> Result<TopicSpec, TopicsError> {
        let obj = self.object(v, p)?;
        self.only_keys(
            obj,
            p,
            &["name", "partitions", "kind", "description", "config"],
        )?;
        let np = format!("{p}/name");
        let name = self
            .opt_string(obj.get("name"), &np)?
            .ok_or_else(|| self.err(&np, "is required"))?;
        if let Err(why) = check_topic_name(&name) {
            return Err(self.err(&np, why));
        }
        let kind = self.opt_string(obj.get("kind"), &format!("{p}/kind"))?;
        if let Some(k) = &kind {
            if k.is_empty()
                || !k
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(self.err(&format!("{p}/kind"), "must be a word of [a-zA-Z0-9_-]"));
            }
        }
        Ok(TopicSpec {
            partitions: self.count(
                obj.get("partitions"),
                &format!("{p}/partitions"),
                MAX_PARTITIONS,
            )? as u32,
            kind,
            description: self.opt_string(obj.get("description"), &format!("{p}/description"))?,
            config: self.config(obj.get("config"), &format!("{p}/config"))?,
            name,
        })
    }

    fn config(&self, v: Option<&Value>, p: &str) -> Result<BTreeMap<String, String>, TopicsError> {
        let mut out = BTreeMap::new();
        let Some(v) = v else { return Ok(out) };
        for (k, val) in self.object(v, p)? {
            let kp = ptr_push(p, k);
            let key_ok = k.starts_with(|c: char| c.is_ascii_lowercase())
                && k.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.');
            if !key_ok {
                return Err(self.err(
                    &kp,
                    "config names use only [a-z0-9.] and start with a letter",
                ));
            }
            if k == "min.insync.replicas" {
                return Err(self.err(&kp, "is set per environment in /environments"));
            }
            let s = match val {
                Value::String(s) => s.clone(),
                Value::Number(n) if n.is_u64() || n.is_i64() => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(self.err(&kp, "must be a string, an integer or a boolean")),
            };
            if s.is_empty()
                || !s
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            {
                return Err(self.err(
                    &kp,
                    "config values use only [a-zA-Z0-9._-] (kafka-topics --config splits on ',')",
                ));
            }
            out.insert(k.clone(), s);
        }
        Ok(out)
    }
}

fn legal_topic_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Check a name against Kafka's topic-name rules.
fn check_topic_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("topic name is empty");
    }
    if name == "." || name == ".." {
        return Err("topic name cannot be `.` or `..`");
    }
    if name.len() > 249 {
        return Err("topic name is longer than 249 characters");
    }
    if !name.chars().all(legal_topic_char) {
        return Err("topic name uses characters outside [a-zA-Z0-9._-]");
    }
    Ok(())
}

/// Render `create-topics.sh`: creates every topic and its dead-letter topic with
/// `kafka-topics --create --if-not-exists`, then describes them.
///
/// `source` names the catalog in the script's header (e.g. `schemas/topics.json`); use a
/// repository-relative path so the output does not depend on where it was generated.
pub fn render_create_topics_sh(catalog: &TopicCatalog, source: &str) -> String {
    let topics = catalog.resolved_topics();
    let mut s = String::new();
    s.push_str(SCRIPT_HEAD_1);
    let _ = writeln!(
        s,
        "# GENERATED by `eventctl topics --format sh` from {source}. Do not edit:"
    );
    if source == "schemas/topics.json" {
        let _ = writeln!(
            s,
            "# change {source} and run `eventctl topics --format sh > docker/kafka/create-topics.sh`."
        );
    } else {
        let _ = writeln!(
            s,
            "# change {source} and regenerate this file with `eventctl topics --topics {source} --format sh`."
        );
    }
    s.push_str(SCRIPT_HEAD_2);
    let _ = writeln!(
        s,
        "ENVIRONMENT=\"${{KAFKA_TOPICS_ENV:-{}}}\"",
        catalog.default_environment
    );
    s.push_str(SCRIPT_ARGS);
    s.push_str("case \"$ENVIRONMENT\" in\n");
    for (name, env) in &catalog.environments {
        let _ = writeln!(
            s,
            "{name}) ENV_REPLICATION_FACTOR={} MIN_INSYNC_REPLICAS={} ;;",
            env.replication_factor, env.min_insync_replicas
        );
    }
    let known: Vec<&str> = catalog.environments.keys().map(String::as_str).collect();
    let _ = writeln!(
        s,
        "*) fail \"unknown environment '$ENVIRONMENT' (known: {})\" ;;\nesac",
        known.join(" ")
    );
    s.push_str("REPLICATION_FACTOR=\"${KAFKA_REPLICATION_FACTOR:-$ENV_REPLICATION_FACTOR}\"\n");
    s.push_str(SCRIPT_FUNCTIONS);
    s.push_str("\n# name, partitions, then configs (key=value)\n");
    for t in &topics {
        match (&t.dead_letter_of, &t.description) {
            (Some(of), _) => {
                let _ = writeln!(s, "# dead-letter topic of {of}");
            }
            (None, Some(d)) => {
                let one_line: String = d.split_whitespace().collect::<Vec<_>>().join(" ");
                let _ = writeln!(s, "# {one_line}");
            }
            (None, None) => {}
        }
        let _ = write!(s, "create_topic '{}' {}", t.name, t.partitions);
        for (k, v) in &t.config {
            let _ = write!(s, " '{k}={v}'");
        }
        s.push('\n');
    }
    let names: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
    let _ = writeln!(
        s,
        "\nALL_TOPICS=({})",
        names
            .iter()
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    s.push_str(SCRIPT_TAIL);
    s
}

const SCRIPT_HEAD_1: &str = "#!/usr/bin/env bash\n";

const SCRIPT_HEAD_2: &str = r#"# `eventctl topics --check` fails when this file differs from what the catalog gives.
#
# Creates every topic and its dead-letter topic (idempotent: --if-not-exists), after waiting for
# the broker with bounded retries; exits non-zero on any failure; describes the topics at the end.
# The same script runs in the `kafka-setup` container and against scripts/kafka-local.
#
# Environment:
# Usage: create-topics.sh [--env NAME]   (NAME: an environment of the catalog; replication factor
#        and min.insync.replicas of every topic come from it)
#
# Environment:
#   KAFKA_TOPICS_ENV             environment when --env is not given (default: the catalog's)
#   KAFKA_BOOTSTRAP_SERVERS      broker (default localhost:9092)
#   KAFKA_TOPICS_CMD             topic tool (default kafka-topics, as in the Confluent image)
#   KAFKA_REPLICATION_FACTOR     replication factor of every topic (default from the environment)
#   KAFKA_TOPICS_COMMAND_CONFIG  optional client properties file (--command-config), e.g. SASL/SSL
#   KAFKA_SETUP_RETRIES          broker wait attempts (default 30)
#   KAFKA_SETUP_RETRY_DELAY      seconds between attempts (default 2)
set -euo pipefail

BOOTSTRAP="${KAFKA_BOOTSTRAP_SERVERS:-localhost:9092}"
TOPICS_CMD="${KAFKA_TOPICS_CMD:-kafka-topics}"
RETRIES="${KAFKA_SETUP_RETRIES:-30}"
RETRY_DELAY="${KAFKA_SETUP_RETRY_DELAY:-2}"
"#;

const SCRIPT_ARGS: &str = r#"
fail() {
    echo "create-topics: error: $*" >&2
    exit 1
}

while (($#)); do
    case "$1" in
    --env)
        (($# >= 2)) || fail "--env needs an environment name"
        ENVIRONMENT="$2"
        shift 2
        ;;
    --env=*)
        ENVIRONMENT="${1#--env=}"
        shift
        ;;
    *) fail "unknown argument '$1' (usage: create-topics.sh [--env NAME])" ;;
    esac
done

"#;

const SCRIPT_FUNCTIONS: &str = r#"
for setting in REPLICATION_FACTOR RETRIES; do
    case "${!setting}" in
    '' | *[!0-9]* | 0) fail "$setting must be a positive integer" ;;
    esac
done
((MIN_INSYNC_REPLICAS <= REPLICATION_FACTOR)) ||
    fail "replication factor $REPLICATION_FACTOR is below min.insync.replicas $MIN_INSYNC_REPLICAS of environment $ENVIRONMENT"
command -v "$TOPICS_CMD" >/dev/null 2>&1 || fail "topic tool '$TOPICS_CMD' not found (set KAFKA_TOPICS_CMD)"

EXTRA_ARGS=()
if [[ -n "${KAFKA_TOPICS_COMMAND_CONFIG:-}" ]]; then
    EXTRA_ARGS=(--command-config "$KAFKA_TOPICS_COMMAND_CONFIG")
fi

topics() {
    "$TOPICS_CMD" --bootstrap-server "$BOOTSTRAP" "${EXTRA_ARGS[@]}" "$@"
}

# The wait probes with short client timeouts (the tool's default is 60 s per attempt), on top of
# the caller's client properties.
PROBE_CONFIG="$(mktemp)"
trap 'rm -f "$PROBE_CONFIG"' EXIT
{
    if [[ -n "${KAFKA_TOPICS_COMMAND_CONFIG:-}" ]]; then
        cat "$KAFKA_TOPICS_COMMAND_CONFIG" || fail "cannot read $KAFKA_TOPICS_COMMAND_CONFIG"
        echo
    fi
    printf '%s\n' request.timeout.ms=5000 default.api.timeout.ms=10000 \
        socket.connection.setup.timeout.ms=3000 socket.connection.setup.timeout.max.ms=3000
} >"$PROBE_CONFIG"

wait_for_broker() {
    local attempt=1 err
    until err="$("$TOPICS_CMD" --bootstrap-server "$BOOTSTRAP" --command-config "$PROBE_CONFIG" \
        --list 2>&1 >/dev/null)"; do
        if ((attempt >= RETRIES)); then
            printf '%s\n' "$err" | tail -n 5 >&2
            fail "broker $BOOTSTRAP not reachable after $RETRIES attempts"
        fi
        echo "create-topics: waiting for broker $BOOTSTRAP ($attempt/$RETRIES)" >&2
        attempt=$((attempt + 1))
        sleep "$RETRY_DELAY"
    done
}

create_topic() {
    local name="$1" partitions="$2" cfg
    shift 2
    local args=(--config "min.insync.replicas=$MIN_INSYNC_REPLICAS")
    for cfg in "$@"; do
        args+=(--config "$cfg")
    done
    echo "create-topics: $name (partitions $partitions, replication factor $REPLICATION_FACTOR, min.insync.replicas $MIN_INSYNC_REPLICAS)"
    topics --create --if-not-exists --topic "$name" --partitions "$partitions" \
        --replication-factor "$REPLICATION_FACTOR" "${args[@]}" >/dev/null ||
        fail "could not create topic $name"
}

wait_for_broker
"#;

const SCRIPT_TAIL: &str = r#"
# --describe takes a regular expression: anchor it so it matches these topics only.
pattern="^($(printf '%s|' "${ALL_TOPICS[@]}" | sed -e 's/\./\\./g' -e 's/|$//'))$"
echo "create-topics: describing ${#ALL_TOPICS[@]} topics"
topics --describe --topic "$pattern" || fail "could not describe the topics"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://pmp.example/schemas/topics.json",
      "defaults": {"replication_factor": 2},
      "dead_letter": {"suffix": ".dlq", "partitions": 1,
                      "config": {"cleanup.policy": "delete", "retention.ms": "2592000000"}},
      "topics": [
        {"name": "patient-events", "partitions": 3, "kind": "events", "description": "Patient\nevents.",
         "config": {"retention.ms": 604800000, "cleanup.policy": "delete"}},
        {"name": "email-commands", "partitions": 6, "kind": "commands"}
      ]}"#;

    fn parse(text: &str) -> Result<TopicCatalog, TopicsError> {
        TopicCatalog::parse(Path::new("schemas/topics.json"), text)
    }

    fn err_of(text: &str) -> TopicsError {
        parse(text).expect_err("catalog should be rejected")
    }

    #[test]
    fn parses_and_resolves_dead_letter_topics_in_order() {
        let c = parse(SAMPLE).unwrap();
        assert_eq!(c.replication_factor, 2);
        let names: Vec<_> = c
            .resolved_topics()
            .into_iter()
            .map(|t| (t.name, t.partitions, t.dead_letter_of))
            .collect();
        assert_eq!(
            names,
            vec![
                ("patient-events".to_owned(), 3, None),
                (
                    "patient-events.dlq".to_owned(),
                    1,
                    Some("patient-events".to_owned())
                ),
                ("email-commands".to_owned(), 6, None),
                (
                    "email-commands.dlq".to_owned(),
                    1,
                    Some("email-commands".to_owned())
                ),
            ]
        );
        assert_eq!(c.topics[0].config["retention.ms"], "604800000");
        assert_eq!(c.dead_letter_topic("x"), "x.dlq");
    }

    const WITH_ENVIRONMENTS: &str = r#"{
      "defaults": {"environment": "dev"},
      "environments": {"dev": {"replication_factor": 1, "min_insync_replicas": 1},
                       "cluster": {"replication_factor": 3, "min_insync_replicas": 2}},
      "dead_letter": {"suffix": ".dlq", "partitions": 1},
      "topics": [{"name": "patient-events", "partitions": 3}]}"#;

    #[test]
    fn environments_set_replication_and_min_insync_replicas() {
        let c = parse(WITH_ENVIRONMENTS).unwrap();
        assert_eq!(c.default_environment, "dev");
        assert_eq!(c.replication_factor, 1);
        let cluster = c.environment(Some("cluster")).unwrap();
        assert_eq!(
            (cluster.replication_factor, cluster.min_insync_replicas),
            (3, 2)
        );
        assert_eq!(c.environment(None).unwrap().min_insync_replicas, 1);
        let unknown = c.environment(Some("prod")).unwrap_err();
        assert!(
            unknown.contains("`prod`") && unknown.contains("cluster, dev"),
            "{unknown}"
        );
        let sh = render_create_topics_sh(&c, "schemas/topics.json");
        assert!(sh.contains("ENVIRONMENT=\"${KAFKA_TOPICS_ENV:-dev}\""));
        assert!(sh.contains("cluster) ENV_REPLICATION_FACTOR=3 MIN_INSYNC_REPLICAS=2 ;;"));
        assert!(sh.contains("dev) ENV_REPLICATION_FACTOR=1 MIN_INSYNC_REPLICAS=1 ;;"));
        assert!(sh.contains("(known: cluster dev)"));
        assert!(sh.contains("--config \"min.insync.replicas=$MIN_INSYNC_REPLICAS\""));
    }

    #[test]
    fn bad_environments_are_errors_with_pointers() {
        let cases = [
            (
                WITH_ENVIRONMENTS
                    .replace("\"min_insync_replicas\": 2", "\"min_insync_replicas\": 4"),
                "/environments/cluster/min_insync_replicas",
            ),
            (
                WITH_ENVIRONMENTS.replace("\"environment\": \"dev\"", "\"environment\": \"prod\""),
                "/defaults/environment",
            ),
            (
                WITH_ENVIRONMENTS.replace("\"environment\": \"dev\"", "\"replication_factor\": 2"),
                "/defaults/replication_factor",
            ),
            (
                WITH_ENVIRONMENTS.replace("\"cluster\":", "\"Cluster Prod\":"),
                "/environments/Cluster Prod",
            ),
            (
                WITH_ENVIRONMENTS.replace(", \"min_insync_replicas\": 1}", "}"),
                "/environments/dev/min_insync_replicas",
            ),
            (
                WITH_ENVIRONMENTS.replace(
                    "\"partitions\": 3}",
                    "\"partitions\": 3, \"config\": {\"min.insync.replicas\": 2}}",
                ),
                "/topics/0/config/min.insync.replicas",
            ),
        ];
        for (text, pointer) in cases {
            let e = err_of(&text);
            assert_eq!(e.pointer, pointer, "{e}");
        }
    }

    #[test]
    fn the_committed_catalog_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/topics.json");
        let c = TopicCatalog::load(&path).unwrap();
        assert!(c.topics.iter().any(|t| t.name == "patient-events"));
    }

    #[test]
    fn script_creates_every_topic_and_dead_letter_with_configs() {
        let c = parse(SAMPLE).unwrap();
        let sh = render_create_topics_sh(&c, "schemas/topics.json");
        assert!(sh.starts_with("#!/usr/bin/env bash\n"));
        assert!(sh.contains("from schemas/topics.json"));
        assert!(sh.contains("dev) ENV_REPLICATION_FACTOR=2 MIN_INSYNC_REPLICAS=1 ;;"));
        assert!(sh.contains(
            "REPLICATION_FACTOR=\"${KAFKA_REPLICATION_FACTOR:-$ENV_REPLICATION_FACTOR}\""
        ));
        assert!(sh.contains(
            "create_topic 'patient-events' 3 'cleanup.policy=delete' 'retention.ms=604800000'\n"
        ));
        assert!(sh.contains(
            "create_topic 'patient-events.dlq' 1 'cleanup.policy=delete' 'retention.ms=2592000000'\n"
        ));
        assert!(sh.contains("create_topic 'email-commands' 6\n"));
        assert!(sh.contains("ALL_TOPICS=('patient-events' 'patient-events.dlq' 'email-commands' 'email-commands.dlq')"));
        assert!(sh.contains("--if-not-exists"));
        // A multi-line description stays one comment line.
        assert!(sh.contains("# Patient events.\n"));
        assert_eq!(
            sh,
            render_create_topics_sh(&parse(SAMPLE).unwrap(), "schemas/topics.json")
        );
    }

    #[test]
    fn errors_name_file_and_pointer() {
        let e = err_of(
            r#"{"dead_letter": {"suffix": ".dlq", "partitions": 1}, "topics": [{"name": "a", "partition": 3}]}"#,
        );
        assert_eq!(e.pointer, "/topics/0/partition");
        assert_eq!(e.file, Path::new("schemas/topics.json"));
        assert!(
            e.to_string()
                .starts_with("schemas/topics.json: /topics/0/partition: unknown key"),
            "{e}"
        );

        let e = err_of(
            r#"{"dead_letter": {"suffix": ".dlq", "partitions": 1}, "topics": [{"name": "a", "partitions": 0}]}"#,
        );
        assert_eq!(e.pointer, "/topics/0/partitions");

        let e = err_of(
            r#"{"dead_letter": {"suffix": ".dlq", "partitions": 1}, "topics": [{"name": "a b", "partitions": 1}]}"#,
        );
        assert_eq!(e.pointer, "/topics/0/name");

        let e = err_of(r#"{"topics": [{"name": "a", "partitions": 1}]}"#);
        assert_eq!(e.pointer, "/dead_letter");

        let e = err_of(r#"{"dead_letter": {"suffix": ".dlq", "partitions": 1}, "topics": []}"#);
        assert_eq!(e.pointer, "/topics");
    }

    #[test]
    fn rejects_duplicates_including_dead_letter_clashes() {
        let e = err_of(
            r#"{"dead_letter": {"suffix": ".dlq", "partitions": 1},
            "topics": [{"name": "a", "partitions": 1}, {"name": "a.dlq", "partitions": 1}]}"#,
        );
        assert_eq!(e.pointer, "/topics/1/name");
        assert!(e.message.contains("declared twice"));
    }

    #[test]
    fn rejects_shell_metacharacters_in_configs_without_echoing_them() {
        let e = err_of(
            r#"{"dead_letter": {"suffix": ".dlq", "partitions": 1},
            "topics": [{"name": "a", "partitions": 1, "config": {"retention.ms": "1'; rm -rf /"}}]}"#,
        );
        assert_eq!(e.pointer, "/topics/0/config/retention.ms");
        assert!(!e.to_string().contains("rm -rf"));

        let e = err_of(
            r#"{"dead_letter": {"suffix": ".dlq", "partitions": 1},
            "topics": [{"name": "a", "partitions": 1, "config": {"Bad/Key": "1"}}]}"#,
        );
        assert_eq!(e.pointer, "/topics/0/config/Bad~1Key");
    }

    #[test]
    fn invalid_json_does_not_echo_input() {
        let e = err_of(r#"{"topics": "secret-value"#);
        assert_eq!(e.pointer, "");
        assert!(!e.to_string().contains("secret"), "{e}");
        assert!(e.message.contains("line 1"));
    }
}
