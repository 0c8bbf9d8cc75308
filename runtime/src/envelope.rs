//! The wire envelope every event and command travels in, and decoding it.
//!
//! Wire JSON (the Kafka record value) is described by `schemas/envelope.json`:
//! `event_id` (UUID v7), `event_type`, `version`, `timestamp` (RFC 3339, UTC), `producer`,
//! `payload`, and optionally `correlation_id` / `causation_id`.
//!
//! An object with the same key twice, anywhere in the envelope or its payload, is refused
//! ([`DecodeError::DuplicateKey`], see `pmp_strict_json` for why): parsing the envelope
//! and detecting duplicates is one pass.
//!
//! Errors produced here never contain payload values: serde messages are stripped of the
//! offending value and only JSON pointers, type names and schema facts are kept, because
//! payloads carry patients' health-related personal data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::payload::EventPayload;

/// A typed event in its envelope.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<P> {
    /// Unique id of this event; duplicates from retries carry the same id.
    pub event_id: Uuid,
    /// Wire name of the payload type, e.g. `patient.created`.
    pub event_type: String,
    /// Payload schema version.
    pub version: u32,
    /// When the event was created (UTC).
    pub timestamp: DateTime<Utc>,
    /// Name of the producing service.
    pub producer: String,
    /// Id of the request or flow this event belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<Uuid>,
    /// Id of the event or command that caused this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    /// The typed payload.
    pub payload: P,
}

impl<P: EventPayload> Envelope<P> {
    /// Wrap `payload`, filling `event_id` (UUID v7), `timestamp` (now), `event_type` and
    /// `version` from the payload type.
    pub fn new(producer: impl Into<String>, payload: P) -> Self {
        Envelope {
            event_id: Uuid::now_v7(),
            event_type: P::EVENT_TYPE.to_owned(),
            version: P::VERSION,
            timestamp: Utc::now(),
            producer: producer.into(),
            correlation_id: None,
            causation_id: None,
            payload,
        }
    }

    /// Set the correlation id.
    pub fn with_correlation_id(mut self, id: Uuid) -> Self {
        self.correlation_id = Some(id);
        self
    }

    /// Set the causation id.
    pub fn with_causation_id(mut self, id: Uuid) -> Self {
        self.causation_id = Some(id);
        self
    }

    /// The record key (the payload's key property).
    pub fn partition_key(&self) -> String {
        self.payload.partition_key()
    }

    /// Serialize to the wire JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

/// `Debug` shows the envelope's metadata and the payload's own `Debug`, which the
/// generator writes so that `x-pii` fields print as `<redacted>`.
impl<P: std::fmt::Debug> std::fmt::Debug for Envelope<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Envelope")
            .field("event_id", &self.event_id)
            .field("event_type", &self.event_type)
            .field("version", &self.version)
            .field("timestamp", &self.timestamp)
            .field("producer", &self.producer)
            .field("correlation_id", &self.correlation_id)
            .field("causation_id", &self.causation_id)
            .field("payload", &self.payload)
            .finish()
    }
}

/// An envelope whose payload is still untyped JSON.
///
/// Its `Deserialize` refuses duplicate keys at any depth (envelope fields, unknown fields and
/// the whole payload); [`RawEnvelope::parse`] reports where.
#[derive(Clone, Serialize)]
pub struct RawEnvelope {
    /// See [`Envelope::event_id`].
    pub event_id: Uuid,
    /// See [`Envelope::event_type`].
    pub event_type: String,
    /// See [`Envelope::version`].
    pub version: u32,
    /// See [`Envelope::timestamp`].
    pub timestamp: DateTime<Utc>,
    /// See [`Envelope::producer`].
    pub producer: String,
    /// See [`Envelope::correlation_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<Uuid>,
    /// See [`Envelope::causation_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    /// The payload, not yet validated.
    pub payload: serde_json::Value,
}

/// Never prints the payload: it is unvalidated and may hold personal data.
impl std::fmt::Debug for RawEnvelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawEnvelope")
            .field("event_id", &self.event_id)
            .field("event_type", &self.event_type)
            .field("version", &self.version)
            .field("timestamp", &self.timestamp)
            .field("producer", &self.producer)
            .field("payload", &"<not shown>")
            .finish_non_exhaustive()
    }
}

impl RawEnvelope {
    /// Parse envelope JSON bytes. Errors name the JSON pointer, never a value.
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        // The direct parse; only a failure pays for the slower one that finds the pointer.
        if let Ok(raw) = serde_json::from_slice::<RawEnvelope>(bytes) {
            return Ok(raw);
        }
        let value = pmp_strict_json::from_slice(bytes).map_err(|e| match e {
            pmp_strict_json::Error::DuplicateKey { pointer, .. } => {
                DecodeError::DuplicateKey { pointer }
            }
            pmp_strict_json::Error::Syntax(e) => DecodeError::NotJson {
                line: e.line(),
                column: e.column(),
                message: redact_serde_message(&e.to_string()),
            },
        })?;
        if !value.is_object() {
            return Err(DecodeError::NotEnvelope {
                pointer: String::new(),
                message: format!("expected a JSON object, found {}", json_type_name(&value)),
            });
        }
        from_value_with_pointer(value)
            .map_err(|(pointer, message)| DecodeError::NotEnvelope { pointer, message })
    }

    /// Deserialize the payload into `P`, checking that (`event_type`, `version`) match.
    pub fn into_typed<P: EventPayload>(self) -> Result<Envelope<P>, DecodeError> {
        if self.version != P::VERSION {
            return Err(DecodeError::UnknownVersion {
                event_type: self.event_type,
                version: self.version,
            });
        }
        self.read_as()
    }

    /// Deserialize the payload of this version, or of a **newer** version of the same event
    /// type, into `P`; the envelope keeps its own `version`. For a consumer that knows only
    /// older versions and has checked the payload against `P`'s schema (version skew: a
    /// FORWARD or FULL compatible change is readable as the older version).
    pub fn read_as<P: EventPayload>(self) -> Result<Envelope<P>, DecodeError> {
        if self.event_type != P::EVENT_TYPE || self.version < P::VERSION {
            return Err(DecodeError::UnknownVersion {
                event_type: self.event_type,
                version: self.version,
            });
        }
        // Fast path without path tracking; only a failure pays for locating the pointer.
        let payload: P = match P::deserialize(&self.payload) {
            Ok(p) => p,
            Err(_) => from_value_with_pointer(self.payload).map_err(|(pointer, message)| {
                DecodeError::Payload {
                    event_type: P::EVENT_TYPE,
                    version: P::VERSION,
                    pointer,
                    message,
                }
            })?,
        };
        Ok(Envelope {
            event_id: self.event_id,
            event_type: self.event_type,
            version: self.version,
            timestamp: self.timestamp,
            producer: self.producer,
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
            payload,
        })
    }
}

/// Why envelope bytes could not be turned into a typed event. No variant carries a
/// payload value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// An object in the envelope or payload has the same key twice.
    #[error(
        "duplicate key at #{pointer}: refused, because JSON parsers disagree on which value wins"
    )]
    DuplicateKey {
        /// JSON pointer of the repeated member (`/event_type`, `/payload/patient_id`).
        pointer: String,
    },
    /// The bytes are not JSON (or not UTF-8).
    #[error("not JSON at line {line} column {column}: {message}")]
    NotJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected (without the offending input).
        message: String,
    },
    /// JSON, but not a valid envelope.
    #[error("not an envelope at #{pointer}: {message}")]
    NotEnvelope {
        /// JSON pointer into the envelope.
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// No schema for this `event_type` at all.
    #[error("unknown event_type {event_type:?}")]
    UnknownEventType {
        /// The unknown type.
        event_type: String,
    },
    /// The `event_type` is known but not this `version`.
    #[error("unknown version {version} of event_type {event_type:?}")]
    UnknownVersion {
        /// The event type.
        event_type: String,
        /// The unknown version.
        version: u32,
    },
    /// The payload does not deserialize into the generated type.
    #[error("payload of {event_type} v{version} at #/payload{pointer}: {message}")]
    Payload {
        /// The event type.
        event_type: &'static str,
        /// The version.
        version: u32,
        /// JSON pointer into the payload.
        pointer: String,
        /// What is wrong (without the offending value).
        message: String,
    },
}

/// Deserialize, reporting the JSON pointer of the failure and a value-free message.
pub(crate) fn from_value_with_pointer<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let pointer = path_to_pointer(err.path());
        let message = redact_serde_message(&err.inner().to_string());
        (pointer, message)
    })
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        out.push('/');
        match seg {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => out.push_str(variant),
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

/// Strip input values from a serde error message.
///
/// serde formats type errors as ``invalid type: string "Anna", expected u32`` and
/// ``unknown variant `x`, expected one of ...``; the quoted part is input data and may be
/// personal data, so it is replaced. Field names (`missing field`, `unknown field`) come from
/// the schema and are kept.
pub fn redact_serde_message(msg: &str) -> String {
    let msg = msg.split(" at line ").next().unwrap_or(msg);
    for prefix in ["invalid type: ", "invalid value: ", "invalid length "] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            let kind = rest.split([' ', ',']).next().unwrap_or("");
            let expected = rest.find(", expected").map(|i| &rest[i..]).unwrap_or("");
            return format!("{prefix}{kind}{expected}");
        }
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        let expected = rest.find(", expected").map(|i| &rest[i..]).unwrap_or("");
        return format!("unknown variant{expected}");
    }
    if msg.starts_with("missing field") || msg.starts_with("unknown field") {
        return msg.to_owned();
    }
    if msg.starts_with("invalid") || msg.contains('"') || msg.contains('`') {
        // Unknown shape, possibly quoting input: keep only the leading words.
        let head: String = msg
            .chars()
            .take_while(|c| *c != '"' && *c != '`' && *c != ':')
            .collect();
        return head.trim_end().to_owned();
    }
    msg.to_owned()
}

/// The JSON type name of a value, for messages.
pub fn json_type_name(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// Hand-written so that duplicate keys are refused everywhere in one pass: a repeated
/// envelope field, a repeated unknown field, and (through [`pmp_strict_json::ValueSeed`])
/// any duplicate inside the payload or an unknown field's value.
impl<'de> Deserialize<'de> for RawEnvelope {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut tracker = pmp_strict_json::DuplicateTracker::default();
        deserializer.deserialize_map(EnvelopeVisitor(&mut tracker))
    }
}

/// The envelope's fields, as keys are read.
enum Field {
    EventId,
    EventType,
    Version,
    Timestamp,
    Producer,
    CorrelationId,
    CausationId,
    Payload,
    Other(String),
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl serde::de::Visitor<'_> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an envelope field name")
            }
            fn visit_str<E>(self, v: &str) -> Result<Field, E> {
                Ok(match v {
                    "event_id" => Field::EventId,
                    "event_type" => Field::EventType,
                    "version" => Field::Version,
                    "timestamp" => Field::Timestamp,
                    "producer" => Field::Producer,
                    "correlation_id" => Field::CorrelationId,
                    "causation_id" => Field::CausationId,
                    "payload" => Field::Payload,
                    other => Field::Other(other.to_owned()),
                })
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

struct EnvelopeVisitor<'a>(&'a mut pmp_strict_json::DuplicateTracker);

impl<'de> serde::de::Visitor<'de> for EnvelopeVisitor<'_> {
    type Value = RawEnvelope;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an envelope object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<RawEnvelope, A::Error> {
        use serde::de::Error as _;
        let tracker = self.0;
        let mut event_id = None;
        let mut event_type = None;
        let mut version = None;
        let mut timestamp = None;
        let mut producer = None;
        let mut correlation_id: Option<Option<Uuid>> = None;
        let mut causation_id: Option<Option<Uuid>> = None;
        let mut payload = None;
        let mut others: Vec<String> = Vec::new();
        // Reads one known field, refusing a second occurrence.
        macro_rules! once {
            ($slot:ident, $name:literal) => {{
                if $slot.is_some() {
                    return Err(tracker.duplicate($name));
                }
                $slot = Some(map.next_value()?);
            }};
        }
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::EventId => once!(event_id, "event_id"),
                Field::EventType => once!(event_type, "event_type"),
                Field::Version => once!(version, "version"),
                Field::Timestamp => once!(timestamp, "timestamp"),
                Field::Producer => once!(producer, "producer"),
                Field::CorrelationId => once!(correlation_id, "correlation_id"),
                Field::CausationId => once!(causation_id, "causation_id"),
                Field::Payload => {
                    if payload.is_some() {
                        return Err(tracker.duplicate("payload"));
                    }
                    let seed = pmp_strict_json::ValueSeed(&mut *tracker);
                    payload = Some(map.next_value_seed(seed).inspect_err(|_| {
                        tracker.within("payload");
                    })?);
                }
                Field::Other(name) => {
                    if others.contains(&name) {
                        return Err(tracker.duplicate(&name));
                    }
                    // Unknown fields (a newer envelope) are ignored, but checked too.
                    let seed = pmp_strict_json::ValueSeed(&mut *tracker);
                    map.next_value_seed(seed).inspect_err(|_| {
                        tracker.within(&name);
                    })?;
                    others.push(name);
                }
            }
        }
        Ok(RawEnvelope {
            event_id: event_id.ok_or_else(|| A::Error::missing_field("event_id"))?,
            event_type: event_type.ok_or_else(|| A::Error::missing_field("event_type"))?,
            version: version.ok_or_else(|| A::Error::missing_field("version"))?,
            timestamp: timestamp.ok_or_else(|| A::Error::missing_field("timestamp"))?,
            producer: producer.ok_or_else(|| A::Error::missing_field("producer"))?,
            correlation_id: correlation_id.flatten(),
            causation_id: causation_id.flatten(),
            payload: payload.ok_or_else(|| A::Error::missing_field("payload"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_values_from_serde_messages() {
        let err = serde_json::from_str::<u32>("\"Anna Schmidt\"").unwrap_err();
        let m = redact_serde_message(&err.to_string());
        assert!(!m.contains("Anna"), "{m}");
        assert!(m.starts_with("invalid type: string"), "{m}");
        assert!(m.contains("expected u32"), "{m}");
    }

    #[test]
    fn parse_reports_pointer_not_value() {
        let bytes = br#"{"event_id":"x-secret","event_type":"a","version":1,"timestamp":"2024-01-01T00:00:00Z","producer":"p","payload":{}}"#;
        let err = RawEnvelope::parse(bytes).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("#/event_id"), "{text}");
        assert!(!text.contains("x-secret"), "{text}");
    }

    #[test]
    fn duplicate_keys_anywhere_are_refused_with_their_pointer() {
        let env = |body: &str| {
            format!(
                r#"{{"event_id":"0190f5a8-0000-7000-8000-000000000001","version":1,"timestamp":"2024-01-01T00:00:00Z","producer":"p",{body}}}"#
            )
        };
        let cases = [
            (
                r#""event_type":"patient.teleported","payload":{},"event_type":"patient.deleted""#,
                "/event_type",
            ),
            (
                r#""event_type":"a","payload":{"patient_id":0,"patient_id":9}"#,
                "/payload/patient_id",
            ),
            (
                r#""event_type":"a","payload":{"x":[{"k":1},{"k":1,"k":2}]}"#,
                "/payload/x/1/k",
            ),
            (r#""event_type":"a","payload":{},"payload":{}"#, "/payload"),
            (
                r#""event_type":"a","payload":{},"x-new":1,"x-new":2"#,
                "/x-new",
            ),
            (
                r#""event_type":"a","payload":{},"x-new":{"k":1,"k":2}"#,
                "/x-new/k",
            ),
        ];
        for (body, pointer) in cases {
            let bytes = env(body);
            assert!(
                serde_json::from_str::<RawEnvelope>(&bytes).is_err(),
                "{bytes}"
            );
            match RawEnvelope::parse(bytes.as_bytes()) {
                Err(DecodeError::DuplicateKey { pointer: p }) => assert_eq!(p, pointer, "{bytes}"),
                other => panic!("{bytes}: {other:?}"),
            }
        }
        // The same key in different objects is fine; unknown fields are ignored.
        let ok = env(r#""event_type":"a","payload":{"a":{"k":1},"b":{"k":2}},"x-new":{"k":1}"#);
        let raw = RawEnvelope::parse(ok.as_bytes()).unwrap();
        assert_eq!(raw.payload["b"]["k"], 2);
    }

    #[test]
    fn parse_rejects_non_objects_and_non_json() {
        assert!(matches!(
            RawEnvelope::parse(b"[1]"),
            Err(DecodeError::NotEnvelope { .. })
        ));
        assert!(matches!(
            RawEnvelope::parse(b"\xff\xfe"),
            Err(DecodeError::NotJson { .. })
        ));
        assert!(matches!(
            RawEnvelope::parse(b""),
            Err(DecodeError::NotJson { .. })
        ));
    }
}
