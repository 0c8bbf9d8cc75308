//! The catalog as the renderers see it: every event type and version (bundled schema,
//! examples, topic, key, compatibility level), the topics of `topics.json` and the services of
//! `services.json`.
//!
//! Loading goes through the generator's own loader and lowering
//! ([`pmp_event_codegen::ir::events::lower_dir`]), so a catalog that `eventctl generate` rejects
//! is rejected here with the same `file#pointer` error, and the schema shown is exactly the
//! bundled schema the consumer validates against.

use pmp_event_codegen::ir::events::lower_dir;
use pmp_event_codegen::schema::Catalog;
use pmp_event_codegen::services::{ServiceMap, ServicesError};
use pmp_event_codegen::topics::{TopicCatalog, TopicSpec, TopicsError};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Why the catalog could not be loaded or rendered.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A schema problem (names file and pointer).
    #[error("{0}")]
    Schema(#[from] pmp_event_codegen::Error),
    /// A `topics.json` problem.
    #[error("{0}")]
    Topics(#[from] TopicsError),
    /// A `services.json` problem.
    #[error("{0}")]
    Services(#[from] ServicesError),
    /// The compatibility engine could not compare two versions.
    #[error("{0}")]
    Compat(#[from] pmp_event_codegen::compat::CompatError),
    /// A template failed to render (a bug in this crate, reported instead of panicking).
    #[error("rendering {page}: {reason}")]
    Render {
        /// The page being rendered.
        page: String,
        /// The template engine's message.
        reason: String,
    },
    /// Writing output failed.
    #[error("{}: cannot write: {reason}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
}

/// One version of one event type (or command).
#[derive(Debug, Clone)]
pub struct EventVersion {
    /// Wire name, e.g. `patient.created`.
    pub event_type: String,
    /// Version N (`vN.json`).
    pub version: u32,
    /// A command (`commands/`) rather than an event.
    pub command: bool,
    /// `x-kafka-topic`.
    pub topic: String,
    /// `x-kafka-key`: the payload property used as record key.
    pub key: String,
    /// `x-compatibility` (default `BACKWARD_TRANSITIVE`).
    pub compatibility: String,
    /// Schema `title`.
    pub title: String,
    /// Schema `description`.
    pub description: String,
    /// The bundled, self-contained payload schema (every `$ref` absolute, targets in `$defs`).
    pub schema: Value,
    /// The schema's `examples`.
    pub examples: Vec<Value>,
    /// Source file relative to the schema directory (`events/patient.created/v1.json`).
    pub rel_path: String,
}

impl EventVersion {
    /// `patient.created.v1`: unique and safe as a file name or AsyncAPI component key.
    pub fn id(&self) -> String {
        format!("{}.v{}", self.event_type, self.version)
    }
}

/// The whole catalog.
#[derive(Debug, Clone)]
pub struct EventCatalog {
    /// The schema directory.
    pub dir: PathBuf,
    /// Every event type and version, sorted by (type, version).
    pub events: Vec<EventVersion>,
    /// `topics.json`.
    pub topics: TopicCatalog,
    /// `services.json` (empty when the file is absent).
    pub services: ServiceMap,
    /// The bundled envelope schema (`envelope.json`), when present.
    pub envelope: Option<Value>,
}

impl EventCatalog {
    /// Loads `dir` (`events/`, `commands/`, `common/`, `envelope.json`, `topics.json`,
    /// optional `services.json`).
    pub fn load(dir: &Path) -> Result<Self, CatalogError> {
        let cat = Catalog::load_dir(dir)?;
        let model = lower_dir(&cat)?;
        let topics = TopicCatalog::load(&dir.join("topics.json"))?;
        let services = ServiceMap::load_optional(dir)?.unwrap_or_default();
        let mut events = Vec::with_capacity(model.events.len());
        for e in &model.events {
            // The generator produced this text from a parsed value: it always parses back.
            let schema: Value = serde_json::from_str(&e.schema_json).unwrap_or(Value::Null);
            let text = |k: &str| {
                schema
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            events.push(EventVersion {
                event_type: e.event_type.clone(),
                version: e.version,
                command: e.command,
                topic: e.topic.clone(),
                key: e.key_field.clone(),
                compatibility: e.compatibility.clone(),
                title: text("title"),
                description: text("description"),
                examples: schema
                    .get("examples")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
                rel_path: e.rel_path.clone(),
                schema,
            });
        }
        let envelope = model
            .envelope_json
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok());
        Ok(EventCatalog {
            dir: dir.to_path_buf(),
            events,
            topics,
            services,
            envelope,
        })
    }

    /// Event type names in order, each once.
    pub fn event_types(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.events.iter().map(|e| e.event_type.as_str()).collect();
        v.dedup();
        v
    }

    /// Every version of `event_type`, oldest first.
    pub fn versions(&self, event_type: &str) -> Vec<&EventVersion> {
        self.events
            .iter()
            .filter(|e| e.event_type == event_type)
            .collect()
    }

    /// The declared topic called `name`.
    pub fn topic(&self, name: &str) -> Option<&TopicSpec> {
        self.topics.topics.iter().find(|t| t.name == name)
    }

    /// Event versions published to `topic`.
    pub fn events_on(&self, topic: &str) -> Vec<&EventVersion> {
        self.events.iter().filter(|e| e.topic == topic).collect()
    }
}
