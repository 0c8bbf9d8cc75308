//! JSON Schema validation of payloads, compiled once per (event type, version).
//!
//! Every [`SchemaInfo::schema_json`] is a self-contained bundle (external `$ref` targets
//! inlined under `$defs`), so compiling needs no retriever; `jsonschema` is built without
//! its network and file resolvers, and a bundle that still refers outside itself fails at
//! startup, not on the first message.
//!
//! Error messages are built from the error kind, the instance pointer and the schema pointer.
//! `jsonschema`'s own `Display` quotes the offending instance value, which may be personal
//! data, so it is never used.

use std::collections::HashMap;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use crate::payload::SchemaInfo;

/// Compiled validators for a set of payload schemas, shared by every message.
pub struct SchemaValidators {
    entries: Vec<(&'static SchemaInfo, jsonschema::Validator)>,
    by_type: HashMap<&'static str, Vec<(u32, usize)>>,
}

impl std::fmt::Debug for SchemaValidators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|(i, _)| (i.event_type, i.version)))
            .finish()
    }
}

/// Where a schema is, in a [`SchemaValidators`] table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaLookup {
    /// The index of the schema for this (event type, version).
    Found(usize),
    /// No schema has this event type.
    UnknownEventType,
    /// The event type is known, this version is not, and it is not newer than every known
    /// version (an older or skipped one).
    UnknownVersion,
    /// The event type is known and this version is newer than every version known here:
    /// the index of the newest known version's schema, to read it as that version (version
    /// skew: a producer deployed before this consumer).
    NewerThanKnown(usize),
}

/// A schema that could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schema {schema_id} ({event_type} v{version}) does not compile: {message}")]
pub struct SchemaCompileError {
    /// The schema's `$id`.
    pub schema_id: &'static str,
    /// Its event type.
    pub event_type: &'static str,
    /// Its version.
    pub version: u32,
    /// What is wrong with the schema (schema text only, never message data).
    pub message: String,
}

/// Why a payload does not match its schema. Holds no instance value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// JSON pointer into the payload (empty for the payload root).
    pub instance_pointer: String,
    /// JSON pointer into the schema, to the failing keyword.
    pub schema_pointer: String,
    /// The failing keyword, e.g. `pattern`, `required`, `maximum`.
    pub keyword: String,
    /// What is wrong, from schema facts only.
    pub message: String,
}

impl std::fmt::Display for SchemaViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at #/payload{} (schema #{}): {}",
            self.keyword, self.instance_pointer, self.schema_pointer, self.message
        )
    }
}

impl SchemaValidators {
    /// Compile every schema. `validate_formats` turns `format` into an assertion.
    pub fn compile(
        schemas: &'static [SchemaInfo],
        validate_formats: bool,
    ) -> Result<Self, SchemaCompileError> {
        let mut entries = Vec::with_capacity(schemas.len());
        let mut by_type: HashMap<&'static str, Vec<(u32, usize)>> = HashMap::new();
        for info in schemas {
            let err = |message: String| SchemaCompileError {
                schema_id: info.schema_id,
                event_type: info.event_type,
                version: info.version,
                message,
            };
            let schema: Value = serde_json::from_str(info.schema_json)
                .map_err(|e| err(format!("schema_json is not JSON: {e}")))?;
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(validate_formats)
                .build(&schema)
                .map_err(|e| err(e.to_string()))?;
            by_type
                .entry(info.event_type)
                .or_default()
                .push((info.version, entries.len()));
            entries.push((info, validator));
        }
        Ok(SchemaValidators { entries, by_type })
    }

    /// Find the schema for (`event_type`, `version`).
    pub fn lookup(&self, event_type: &str, version: u32) -> SchemaLookup {
        match self.by_type.get(event_type) {
            None => SchemaLookup::UnknownEventType,
            Some(versions) => {
                if let Some((_, i)) = versions.iter().find(|(v, _)| *v == version) {
                    return SchemaLookup::Found(*i);
                }
                match versions.iter().max_by_key(|(v, _)| *v) {
                    Some((newest, i)) if version > *newest => SchemaLookup::NewerThanKnown(*i),
                    _ => SchemaLookup::UnknownVersion,
                }
            }
        }
    }

    /// The schema facts at `index`.
    pub fn info(&self, index: usize) -> Option<&'static SchemaInfo> {
        self.entries.get(index).map(|(i, _)| *i)
    }

    /// Validate `payload` against the schema at `index` (from [`lookup`](Self::lookup)).
    ///
    /// # Panics
    /// Never on input; an `index` not from `lookup` reports a violation at the root.
    pub fn validate(&self, index: usize, payload: &Value) -> Result<(), SchemaViolation> {
        let Some((_, validator)) = self.entries.get(index) else {
            return Err(SchemaViolation {
                instance_pointer: String::new(),
                schema_pointer: String::new(),
                keyword: "$schema".to_owned(),
                message: "no schema at this index".to_owned(),
            });
        };
        // The fast boolean path; errors are only collected for invalid payloads.
        if validator.is_valid(payload) {
            return Ok(());
        }
        let Some(first) = validator.iter_errors(payload).next() else {
            return Err(SchemaViolation {
                instance_pointer: String::new(),
                schema_pointer: String::new(),
                keyword: "unknown".to_owned(),
                message: "payload is invalid".to_owned(),
            });
        };
        Err(SchemaViolation {
            instance_pointer: first.instance_path().as_str().to_owned(),
            schema_pointer: first.schema_path().as_str().to_owned(),
            keyword: first.kind().keyword().to_owned(),
            message: describe(first.kind()),
        })
    }

    /// Validate by (`event_type`, `version`); `Err(None)` when there is no such schema.
    pub fn validate_event(
        &self,
        event_type: &str,
        version: u32,
        payload: &Value,
    ) -> Result<(), Option<SchemaViolation>> {
        match self.lookup(event_type, version) {
            SchemaLookup::Found(i) => self.validate(i, payload).map_err(Some),
            _ => Err(None),
        }
    }
}

/// A value-free description of a validation error. Limits, patterns, formats and property
/// names come from the schema; the instance is never quoted.
fn describe(kind: &ValidationErrorKind) -> String {
    use ValidationErrorKind as K;
    match kind {
        K::Required { property } => match property.as_str() {
            Some(p) => format!("missing required property {p:?}"),
            None => "missing a required property".to_owned(),
        },
        K::Type { kind } => match kind {
            TypeKind::Single(t) => format!("wrong type, expected {t}"),
            TypeKind::Multiple(set) => format!("wrong type, expected one of {set:?}"),
        },
        K::Enum { .. } => "not one of the allowed values".to_owned(),
        K::Constant { .. } => "not the required constant value".to_owned(),
        K::Pattern { pattern } => format!("does not match pattern {pattern:?}"),
        K::Format { format } => format!("not a valid {format}"),
        K::Minimum { limit } => format!("less than the minimum {limit}"),
        K::Maximum { limit } => format!("greater than the maximum {limit}"),
        K::ExclusiveMinimum { limit } => format!("not greater than {limit}"),
        K::ExclusiveMaximum { limit } => format!("not less than {limit}"),
        K::MinLength { limit } => format!("shorter than {limit} characters"),
        K::MaxLength { limit } => format!("longer than {limit} characters"),
        K::MinItems { limit } => format!("fewer than {limit} items"),
        K::MaxItems { limit } => format!("more than {limit} items"),
        K::MinProperties { limit } => format!("fewer than {limit} properties"),
        K::MaxProperties { limit } => format!("more than {limit} properties"),
        K::UniqueItems => "array items are not unique".to_owned(),
        K::AdditionalProperties { unexpected } | K::UnevaluatedProperties { unexpected } => {
            // Property names are keys, not values; list a few so a producer bug is findable.
            let names: Vec<String> = unexpected
                .iter()
                .take(5)
                .map(|n| n.chars().take(64).collect())
                .collect();
            format!("properties not allowed by the schema: {names:?}")
        }
        K::OneOfNotValid { .. } => "matches none of the oneOf alternatives".to_owned(),
        K::OneOfMultipleValid { .. } => "matches more than one oneOf alternative".to_owned(),
        K::AnyOf { .. } => "matches none of the anyOf alternatives".to_owned(),
        K::MultipleOf { multiple_of } => format!("not a multiple of {multiple_of}"),
        other => format!("violates {}", other.keyword()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::EventKind;

    const SCHEMA: &str = r#"{
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://pmp.example/schemas/events/t.x/v1.json",
        "type": "object", "additionalProperties": false,
        "required": ["id", "code"],
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "code": {"type": "string", "pattern": "^[0-9]{5}$"},
            "mail": {"type": "string", "format": "email"}
        }
    }"#;

    static INFOS: [SchemaInfo; 1] = [SchemaInfo {
        event_type: "t.x",
        version: 1,
        kind: EventKind::Event,
        topic: "t",
        key_field: "id",
        schema_id: "https://pmp.example/schemas/events/t.x/v1.json",
        compatibility: "BACKWARD",
        schema_json: SCHEMA,
    }];

    #[test]
    fn violations_name_pointers_not_values() {
        let v = SchemaValidators::compile(&INFOS, true).unwrap();
        assert_eq!(v.lookup("t.x", 2), SchemaLookup::NewerThanKnown(0));
        assert_eq!(v.lookup("t.x", 0), SchemaLookup::UnknownVersion);
        assert_eq!(v.lookup("t.y", 1), SchemaLookup::UnknownEventType);
        let SchemaLookup::Found(i) = v.lookup("t.x", 1) else {
            panic!()
        };
        assert!(v
            .validate(i, &serde_json::json!({"id": 1, "code": "12345"}))
            .is_ok());

        let e = v
            .validate(i, &serde_json::json!({"id": 1, "code": "Geheim-Anna"}))
            .unwrap_err();
        assert_eq!(e.instance_pointer, "/code");
        assert_eq!(e.keyword, "pattern");
        assert!(e.schema_pointer.ends_with("/pattern"), "{e:?}");
        assert!(!format!("{e} {e:?}").contains("Anna"));

        let e = v
            .validate(i, &serde_json::json!({"id": 0, "code": "12345"}))
            .unwrap_err();
        assert_eq!(
            (e.keyword.as_str(), e.instance_pointer.as_str()),
            ("minimum", "/id")
        );
        let e = v.validate(i, &serde_json::json!({"id": 3})).unwrap_err();
        assert_eq!(e.keyword, "required");
        assert!(e.message.contains("\"code\""));
        let e = v
            .validate(
                i,
                &serde_json::json!({"id": 3, "code": "12345", "mail": "anna-at-example"}),
            )
            .unwrap_err();
        assert_eq!(e.keyword, "format");
        assert!(!format!("{e:?}").contains("anna"));
    }

    #[test]
    fn external_refs_fail_at_compile_time() {
        static BAD: [SchemaInfo; 1] = [SchemaInfo {
            schema_json: r#"{"$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": "https://pmp.example/schemas/events/t.x/v1.json",
                "$ref": "../../common/missing.json"}"#,
            ..INFOS[0]
        }];
        let e = SchemaValidators::compile(&BAD, true).unwrap_err();
        assert_eq!(e.event_type, "t.x");
    }
}
