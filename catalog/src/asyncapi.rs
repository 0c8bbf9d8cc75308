//! The catalog as an AsyncAPI 3.0 document.
//!
//! Mapping:
//!
//! | catalog | AsyncAPI 3.0 |
//! |---|---|
//! | topic of `topics.json` | channel `<topic>` (`address`, Kafka channel binding 0.5.0 with `partitions`, `replicas`, `topicConfiguration`), its DLQ in `x-dead-letter-topic` |
//! | event type + version | message `components/messages/<type>.v<N>` (`name` = event type): headers `event_type`, `version`, `event_id`, `traceparent`; payload = the envelope with `event_type`/`version` fixed and `payload` the event's schema; Kafka message binding with the record `key`; the schema's examples wrapped in an envelope |
//! | payload schemas, `common/` definitions | `components/schemas/<type>.v<N>`, `components/schemas/common.<name>`: the bundled schemas with every `$ref` pointing into `components/schemas` (no external reference, no network), `x-pii` and the other `x-` keys kept |
//! | `services.json` | one `send` / `receive` operation per (service, topic) with the messages the service sends or receives on it |
//!
//! Payload schemas keep JSON Schema 2020-12 keywords; `schemaFormat` says so
//! (`application/schema+json;version=draft-07` is what parsers know; the catalog's keywords are
//! the draft-07-compatible subset plus `$defs`, which draft-07 ignores). Output is deterministic.

use crate::model::{EventCatalog, EventVersion};
use serde::Serialize;
use serde_json::{json, Map, Value};

/// The document's top level, in the order the specification lists it.
#[derive(Debug, Serialize)]
pub struct AsyncApiDocument {
    asyncapi: &'static str,
    id: &'static str,
    info: Value,
    servers: Value,
    #[serde(rename = "defaultContentType")]
    default_content_type: &'static str,
    channels: Map<String, Value>,
    operations: Map<String, Value>,
    components: Value,
}

impl AsyncApiDocument {
    /// As YAML.
    pub fn to_yaml(&self) -> String {
        // Serializing plain JSON values to YAML cannot fail.
        serde_norway::to_string(self).unwrap_or_default()
    }

    /// As pretty-printed JSON.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

const BINDING_VERSION: &str = "0.5.0";

/// Builds the AsyncAPI document of `catalog`.
pub fn asyncapi(catalog: &EventCatalog) -> AsyncApiDocument {
    let mut schemas = Map::new();
    let mut messages = Map::new();
    for e in &catalog.events {
        add_schemas(e, &mut schemas);
        messages.insert(e.id(), message(catalog, e));
    }
    if let Some(env) = &catalog.envelope {
        schemas.insert("envelope".into(), component_schema(env, "envelope"));
    }
    let mut channels = Map::new();
    for t in &catalog.topics.topics {
        let on: Vec<&EventVersion> = catalog.events_on(&t.name);
        let mut msgs = Map::new();
        for e in &on {
            msgs.insert(
                e.id(),
                json!({"$ref": format!("#/components/messages/{}", e.id())}),
            );
        }
        let config: Map<String, Value> = t
            .config
            .iter()
            .filter_map(|(k, v)| topic_config(k, v).map(|v| (k.clone(), v)))
            .collect();
        let description = t
            .description
            .clone()
            .unwrap_or_else(|| format!("Kafka topic `{}`.", t.name));
        channels.insert(
            t.name.clone(),
            json!({
                "address": t.name,
                "title": t.name,
                "summary": format!("{} topic with {} partition(s).", t.kind.as_deref().unwrap_or("Kafka"), t.partitions),
                "description": format!("{description} Failed records go to the dead-letter topic `{}`.", catalog.topics.dead_letter_topic(&t.name)),
                "messages": msgs,
                "bindings": {"kafka": {
                    "topic": t.name,
                    "partitions": t.partitions,
                    "replicas": catalog.topics.replication_factor,
                    "topicConfiguration": config,
                    "bindingVersion": BINDING_VERSION,
                }},
                "x-dead-letter-topic": catalog.topics.dead_letter_topic(&t.name),
                "x-kind": t.kind,
            }),
        );
    }
    let mut operations = Map::new();
    for s in &catalog.services.services {
        for (action, list) in [("send", &s.sends), ("receive", &s.receives)] {
            for t in &catalog.topics.topics {
                let refs: Vec<Value> = catalog
                    .events_on(&t.name)
                    .into_iter()
                    .filter(|e| list.contains(&e.event_type))
                    .map(|e| json!({"$ref": format!("#/channels/{}/messages/{}", t.name, e.id())}))
                    .collect();
                if refs.is_empty() {
                    continue;
                }
                let verb = if action == "send" {
                    "sends"
                } else {
                    "receives"
                };
                operations.insert(
                    format!("{}_{action}_{}", s.name, t.name),
                    json!({
                        "action": action,
                        "channel": {"$ref": format!("#/channels/{}", t.name)},
                        "title": format!("{} {verb} on {}", s.name, t.name),
                        "summary": format!("`{}` {verb} {} message type(s) on `{}`.", s.name, refs.len(), t.name),
                        "description": s.description.clone().unwrap_or_else(|| s.name.clone()),
                        "messages": refs,
                        "x-service": s.name,
                    }),
                );
            }
        }
    }
    AsyncApiDocument {
        asyncapi: "3.0.0",
        id: "urn:pmp:events",
        info: json!({
            "title": "Psychotherapy Matching Platform events",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every event and command of the platform's Kafka topics, generated by `eventctl asyncapi` from `schemas/` (do not edit by hand). Payloads are wrapped in the envelope; record headers repeat `event_type`, `version` and `event_id`; the record key is the payload property named by the message's Kafka binding.",
            "contact": {"name": "pmp-events maintainers", "url": "https://pmp.example/schemas/"},
            "license": {"name": "MIT OR Apache-2.0", "url": "https://spdx.org/licenses/MIT.html"},
            "tags": [{"name": "events", "description": "Domain events."}, {"name": "commands", "description": "Commands to a service."}],
        }),
        servers: json!({"development": {
            "host": "localhost:9092",
            "protocol": "kafka",
            "title": "Local development broker",
            "summary": "scripts/kafka-local or docker compose.",
            "description": "The development broker (`docker compose up` or `scripts/kafka-local`); production brokers are configured by environment.",
        }}),
        default_content_type: "application/json",
        channels,
        operations,
        components: json!({"schemas": schemas, "messages": messages}),
    }
}

/// Kafka channel binding `topicConfiguration` keys the binding defines (others are skipped).
fn topic_config(key: &str, value: &str) -> Option<Value> {
    match key {
        "cleanup.policy" => Some(json!(value.split(',').map(str::trim).collect::<Vec<_>>())),
        "retention.ms" | "retention.bytes" | "delete.retention.ms" | "max.message.bytes" => {
            value.parse::<i64>().ok().map(Value::from)
        }
        _ => None,
    }
}

/// Component name of a bundled resource URI:
/// `https://pmp.example/schemas/common/person_name.json` → `common.person_name`.
fn component_name(uri: &str) -> String {
    let path = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let path = path.split_once('/').map_or(path, |(_, p)| p);
    let path = path.strip_prefix("schemas/").unwrap_or(path);
    let path = path.strip_suffix(".json").unwrap_or(path);
    path.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '.'
            }
        })
        .collect()
}

/// The bundled schema's resource `value` as a component: `$schema`/`$id`/`$defs` dropped,
/// `$ref`s rewritten to `#/components/schemas/...`.
fn component_schema(value: &Value, self_name: &str) -> Value {
    let self_uri = value
        .get("$id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let mut v = value.clone();
    if let Value::Object(o) = &mut v {
        o.remove("$schema");
        o.remove("$id");
        o.remove("$defs");
    }
    rewrite_refs(&mut v, &self_uri, self_name);
    v
}

fn rewrite_refs(v: &mut Value, self_uri: &str, self_name: &str) {
    match v {
        Value::Object(o) => {
            for (k, child) in o.iter_mut() {
                if k == "$ref" {
                    if let Value::String(r) = child {
                        let (base, frag) = r.split_once('#').unwrap_or((r.as_str(), ""));
                        let name = if base.is_empty() || base == self_uri {
                            self_name.to_owned()
                        } else {
                            component_name(base)
                        };
                        *r = format!("#/components/schemas/{name}{frag}");
                    }
                } else if k != "examples" && k != "default" && k != "const" && k != "enum" {
                    rewrite_refs(child, self_uri, self_name);
                }
            }
        }
        Value::Array(a) => a
            .iter_mut()
            .for_each(|x| rewrite_refs(x, self_uri, self_name)),
        _ => {}
    }
}

fn add_schemas(e: &EventVersion, schemas: &mut Map<String, Value>) {
    let root_uri = e.schema.get("$id").and_then(Value::as_str).unwrap_or("");
    schemas.insert(e.id(), component_schema(&e.schema, &e.id()));
    if let Some(Value::Object(defs)) = e.schema.get("$defs") {
        for (uri, def) in defs {
            if uri.starts_with("https://") || uri.starts_with("http://") {
                let name = component_name(uri);
                schemas
                    .entry(name.clone())
                    .or_insert_with(|| component_schema(def, &name));
            } else {
                // A local `$defs` entry of the root: reachable as `<root>/$defs/<name>`; keep it.
                let target = schemas.get_mut(&e.id()).and_then(Value::as_object_mut);
                if let Some(t) = target {
                    let defs = t.entry("$defs").or_insert_with(|| json!({}));
                    let mut d = def.clone();
                    rewrite_refs(&mut d, root_uri, &e.id());
                    defs[uri.as_str()] = d;
                }
            }
        }
    }
}

fn headers(e: &EventVersion) -> Value {
    json!({
        "type": "object",
        "description": "Kafka record headers (UTF-8 text). They repeat envelope fields so a consumer can route or skip a record without parsing its value.",
        "required": ["event_type", "version", "event_id"],
        "properties": {
            "event_type": {"type": "string", "const": e.event_type, "description": "The envelope's `event_type`."},
            "version": {"type": "string", "const": e.version.to_string(), "description": "The envelope's `version` (payload schema version), as decimal text."},
            "event_id": {"type": "string", "format": "uuid", "description": "The envelope's `event_id`; duplicates carry the same id."},
            "traceparent": {"type": "string", "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$", "description": "W3C Trace Context of the publishing span (optional)."},
        },
    })
}

/// The envelope with `event_type`/`version` fixed and `payload` the event's schema.
fn envelope_payload(catalog: &EventCatalog, e: &EventVersion) -> Value {
    let mut env = catalog
        .envelope
        .as_ref()
        .map(|v| component_schema(v, "envelope"))
        .unwrap_or_else(|| json!({"type": "object", "required": ["payload"], "properties": {}}));
    if let Some(o) = env.as_object_mut() {
        o.remove("examples");
        o.insert("title".into(), json!(format!("{} envelope", e.title)));
        o.insert(
            "description".into(),
            json!(format!(
                "Kafka record value of `{}` v{}: the envelope with the payload.",
                e.event_type, e.version
            )),
        );
        if let Some(Value::Object(props)) = o.get_mut("properties") {
            props.insert(
                "event_type".into(),
                json!({"type": "string", "const": e.event_type, "description": "Event type."}),
            );
            props.insert(
                "version".into(),
                json!({"type": "integer", "const": e.version, "description": "Payload schema version."}),
            );
            props.insert(
                "payload".into(),
                json!({"$ref": format!("#/components/schemas/{}", e.id())}),
            );
        }
    }
    env
}

fn key_schema(e: &EventVersion) -> Value {
    json!({
        "type": "string",
        "description": format!("The payload's `{}` as text; one entity's records share a key and stay in order.", e.key),
        "x-kafka-key": e.key,
    })
}

fn message(catalog: &EventCatalog, e: &EventVersion) -> Value {
    let examples: Vec<Value> = e
        .examples
        .iter()
        .enumerate()
        .map(|(i, payload)| {
            let key = payload.get(&e.key).map_or(Value::Null, |k| match k {
                Value::String(s) => Value::String(s.clone()),
                other => Value::String(other.to_string()),
            });
            json!({
                "name": format!("example{}", i + 1),
                "summary": format!("Example {} of `{}` v{} (key {}).", i + 1, e.event_type, e.version, key),
                "headers": {
                    "event_type": e.event_type,
                    "version": e.version.to_string(),
                    "event_id": format!("01890a5d-ac96-774b-bcce-{:012x}", i + 1),
                },
                "payload": {
                    "event_id": format!("01890a5d-ac96-774b-bcce-{:012x}", i + 1),
                    "event_type": e.event_type,
                    "version": e.version,
                    "timestamp": "2024-05-14T09:30:00Z",
                    "producer": catalog.services.senders(&e.event_type).first().map_or("unknown-service", |s| s.name.as_str()),
                    "payload": payload,
                },
            })
        })
        .collect();
    let kind = if e.command { "commands" } else { "events" };
    let summary = e
        .description
        .split_inclusive(". ")
        .next()
        .unwrap_or(&e.description)
        .trim()
        .to_owned();
    json!({
        "name": e.event_type,
        "title": e.title,
        "summary": summary,
        "description": e.description,
        "contentType": "application/json",
        "headers": headers(e),
        "payload": envelope_payload(catalog, e),
        "correlationId": {"location": "$message.payload#/correlation_id", "description": "Shared by all events of one business flow."},
        "tags": [{"name": kind}],
        "bindings": {"kafka": {"key": key_schema(e), "bindingVersion": BINDING_VERSION}},
        "examples": examples,
        "x-event-type": e.event_type,
        "x-event-version": e.version,
        "x-kafka-topic": e.topic,
        "x-compatibility": e.compatibility,
        "x-schema-file": e.rel_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_names_are_keys() {
        assert_eq!(
            component_name("https://pmp.example/schemas/common/person_name.json"),
            "common.person_name"
        );
        assert_eq!(
            component_name("https://pmp.example/schemas/events/patient.created/v1.json"),
            "events.patient.created.v1"
        );
    }

    #[test]
    fn refs_point_into_components() {
        let bundle = json!({
            "$id": "https://x.test/schemas/events/a.b/v1.json",
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "properties": {
                "n": {"$ref": "https://x.test/schemas/common/n.json", "x-pii": true},
                "s": {"$ref": "https://x.test/schemas/events/a.b/v1.json#/properties/n"},
                "e": {"const": {"$ref": "not a ref"}}
            },
            "$defs": {"https://x.test/schemas/common/n.json": {"type": "string"}}
        });
        let c = component_schema(&bundle, "a.b.v1");
        assert_eq!(
            c["properties"]["n"]["$ref"],
            "#/components/schemas/common.n"
        );
        assert_eq!(c["properties"]["n"]["x-pii"], true);
        assert_eq!(
            c["properties"]["s"]["$ref"],
            "#/components/schemas/a.b.v1/properties/n"
        );
        assert_eq!(c["properties"]["e"]["const"]["$ref"], "not a ref");
        assert!(c.get("$defs").is_none() && c.get("$schema").is_none());
    }
}
