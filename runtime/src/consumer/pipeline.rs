//! Per-message decoding: record bytes in, a validated envelope (or a [`Failure`]) out.
//!
//! Steps, in order; the first failing step decides the class:
//!
//! | step | failure class |
//! |---|---|
//! | value present | `tombstone` |
//! | value non-empty | `empty` |
//! | size ≤ `max_message_bytes` | `oversized` |
//! | UTF-8 | `not_utf8` |
//! | JSON | `not_json` |
//! | no object with a key twice, at any depth | `duplicate_key` |
//! | envelope shape (object, fields, types) | `not_envelope` |
//! | `event_type` / `version` / `event_id` headers, when present, equal the envelope | `header_mismatch` |
//! | (`event_type`, `version`) in the event set | `unknown_event_type` (skipped by default, see below), `unknown_version` |
//! | payload valid against its schema | `schema_violation` |
//!
//! **Version skew.** A version newer than every version of its type known here (a producer
//! deployed before this consumer) is validated against the newest known version. If it is
//! valid there (a FORWARD or FULL compatible change guarantees this), it is read as that
//! version: its handler gets it typed as that version, and the envelope keeps the real
//! `version`. Otherwise it is `unknown_version`. An older unknown version is always
//! `unknown_version`. What happens to `unknown_event_type` is decided by the consumer's
//! `unknown_event_type` policy (default: skip and commit).
//!
//! Typed deserialization (class `deserialize`) happens in dispatch, only for events that
//! have a handler.

use rdkafka::message::{Headers, OwnedHeaders};

use super::failure::{Failure, FailureClass};
use super::validate::{SchemaLookup, SchemaValidators};
use crate::envelope::{DecodeError, RawEnvelope};
use crate::payload::SchemaInfo;

/// Record header repeating the envelope's `event_type`.
pub const HEADER_EVENT_TYPE: &str = "event_type";
/// Record header repeating the envelope's `version` (decimal).
pub const HEADER_VERSION: &str = "version";
/// Record header repeating the envelope's `event_id` (hyphenated UUID).
pub const HEADER_EVENT_ID: &str = "event_id";

/// A record that passed every check up to and including schema validation.
pub(crate) struct Decoded {
    pub raw: RawEnvelope,
    /// The schema it was validated against: its own version's, or for a version newer
    /// than every known one, the newest known (then `info.version < raw.version`).
    pub info: &'static SchemaInfo,
}

pub(crate) struct Pipeline {
    pub validators: SchemaValidators,
    pub max_message_bytes: usize,
}

impl Pipeline {
    pub fn decode(
        &self,
        value: Option<&[u8]>,
        headers: Option<&OwnedHeaders>,
    ) -> Result<Decoded, Failure> {
        let bytes = match value {
            None => {
                return Err(Failure::new(
                    FailureClass::Tombstone,
                    "",
                    "record has no value",
                ))
            }
            Some([]) => {
                return Err(Failure::new(
                    FailureClass::Empty,
                    "",
                    "record value is empty",
                ))
            }
            Some(b) => b,
        };
        if bytes.len() > self.max_message_bytes {
            return Err(Failure::new(
                FailureClass::Oversized,
                "",
                format!(
                    "value is {} bytes, more than the limit of {}",
                    bytes.len(),
                    self.max_message_bytes
                ),
            ));
        }
        // Fast path straight into the envelope struct; only a failure pays for the slower
        // parse that reports a JSON pointer.
        // serde accepts a JSON array for a struct; the envelope must be an object.
        let looks_like_object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        let fast = if looks_like_object {
            serde_json::from_slice::<RawEnvelope>(bytes).ok()
        } else {
            None
        };
        let raw = match fast {
            Some(raw) => raw,
            // A successful parse implies UTF-8 (serde_json checks strings, and everything
            // outside strings is ASCII), so the UTF-8 scan only runs for failures.
            None if std::str::from_utf8(bytes).is_err() => {
                let at = std::str::from_utf8(bytes)
                    .err()
                    .map_or(0, |e| e.valid_up_to());
                return Err(Failure::new(
                    FailureClass::NotUtf8,
                    "",
                    format!("invalid UTF-8 at byte {at}"),
                ));
            }
            None => match RawEnvelope::parse(bytes) {
                Ok(raw) => raw,
                Err(e) => return Err(decode_failure(e)),
            },
        };
        check_headers(&raw, headers)?;
        // (schema index, whether the payload was already validated against it)
        let (index, validated) = match self.validators.lookup(&raw.event_type, raw.version) {
            SchemaLookup::Found(i) => (i, false),
            SchemaLookup::UnknownEventType => {
                let event_type = truncate(&raw.event_type);
                let mut f = Failure::new(
                    FailureClass::UnknownEventType,
                    "/event_type",
                    format!("no schema for event_type {event_type:?}"),
                );
                f.event_type = Some(event_type);
                return Err(f);
            }
            SchemaLookup::NewerThanKnown(newest) => {
                if let Err(v) = self.validators.validate(newest, &raw.payload) {
                    let known = self.validators.info(newest).map_or(0, |i| i.version);
                    return Err(Failure::new(
                        FailureClass::UnknownVersion,
                        "/version",
                        format!(
                            "no schema for version {} of event_type {:?}, and the payload is not valid as v{known}, the newest known: {v}",
                            raw.version, raw.event_type
                        ),
                    ));
                }
                (newest, true)
            }
            SchemaLookup::UnknownVersion => {
                return Err(Failure::new(
                    FailureClass::UnknownVersion,
                    "/version",
                    format!(
                        "no schema for version {} of event_type {:?}",
                        raw.version, raw.event_type
                    ),
                ))
            }
        };
        if !validated {
            if let Err(v) = self.validators.validate(index, &raw.payload) {
                return Err(Failure::new(
                    FailureClass::SchemaViolation,
                    format!("/payload{}", v.instance_pointer),
                    v.to_string(),
                ));
            }
        }
        let info = self.validators.info(index).ok_or_else(|| {
            Failure::new(
                FailureClass::UnknownEventType,
                "/event_type",
                "schema table changed",
            )
        })?;
        Ok(Decoded { raw, info })
    }
}

/// Event type names come from the producer and are echoed in errors: keep them short.
fn truncate(s: &str) -> String {
    s.chars().take(100).collect()
}

pub(crate) fn decode_failure(e: DecodeError) -> Failure {
    match e {
        DecodeError::NotJson { .. } => Failure::new(FailureClass::NotJson, "", e.to_string()),
        DecodeError::DuplicateKey { ref pointer } => {
            Failure::new(FailureClass::DuplicateKey, pointer.clone(), e.to_string())
        }
        DecodeError::NotEnvelope { ref pointer, .. } => {
            Failure::new(FailureClass::NotEnvelope, pointer.clone(), e.to_string())
        }
        DecodeError::UnknownEventType { .. } => {
            Failure::new(FailureClass::UnknownEventType, "/event_type", e.to_string())
        }
        DecodeError::UnknownVersion { .. } => {
            Failure::new(FailureClass::UnknownVersion, "/version", e.to_string())
        }
        DecodeError::Payload { ref pointer, .. } => Failure::new(
            FailureClass::Deserialize,
            format!("/payload{pointer}"),
            e.to_string(),
        ),
    }
}

/// Headers are optional; a header that is present must agree with the envelope, because
/// consumers route on headers without parsing the value.
fn check_headers(raw: &RawEnvelope, headers: Option<&OwnedHeaders>) -> Result<(), Failure> {
    let Some(headers) = headers else {
        return Ok(());
    };
    for h in headers.iter() {
        let agrees = match h.key {
            HEADER_EVENT_TYPE => {
                h.value.and_then(|v| std::str::from_utf8(v).ok()) == Some(raw.event_type.as_str())
            }
            HEADER_VERSION => {
                h.value
                    .and_then(|v| std::str::from_utf8(v).ok())
                    .and_then(|v| v.trim().parse::<u32>().ok())
                    == Some(raw.version)
            }
            HEADER_EVENT_ID => {
                h.value
                    .and_then(|v| std::str::from_utf8(v).ok())
                    .and_then(|v| uuid::Uuid::parse_str(v.trim()).ok())
                    == Some(raw.event_id)
            }
            _ => true,
        };
        if !agrees {
            return Err(Failure::new(
                FailureClass::HeaderMismatch,
                format!("/{}", h.key),
                format!(
                    "record header {:?} disagrees with the envelope field of that name",
                    h.key
                ),
            ));
        }
    }
    Ok(())
}
