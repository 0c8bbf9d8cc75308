//! Validated construction of generated types: the error of `Type::builder()...build()`.
//!
//! A generated builder fails with [`BuildError::Missing`] when a required property was not
//! set. For a type with its own bundled schema (an event payload, or the root of a
//! standalone schema) it then checks the finished value against that schema
//! ([`BuildError::check`]): lengths, patterns, bounds, formats and every other constraint the
//! Rust type cannot express fail at construction, with the same checks the producer runs
//! before sending. The compiled validator is cached per schema for the process.
//!
//! Errors name the type, the JSON pointer and the failing keyword, never a value: payloads
//! may hold personal data.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

use serde::Serialize;

/// Why a generated builder refused to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildError {
    /// A required property was not set.
    Missing {
        /// The generated type.
        type_name: &'static str,
        /// The property, by its name on the wire.
        property: &'static str,
    },
    /// The value breaks a constraint of the type's schema.
    Invalid {
        /// The generated type.
        type_name: &'static str,
        /// JSON pointer of the offending value (`""` for the whole value).
        pointer: String,
        /// The schema keyword that failed (`maxLength`, `pattern`, `minimum`, `format`, ...).
        keyword: String,
    },
    /// The value could not be serialized, or the bundled schema does not compile (a
    /// generator bug, not bad input).
    Unusable {
        /// The generated type.
        type_name: &'static str,
        /// What went wrong (no instance data).
        message: String,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Missing {
                type_name,
                property,
            } => write!(f, "{type_name}: required property `{property}` is not set"),
            BuildError::Invalid {
                type_name,
                pointer,
                keyword,
            } => write!(
                f,
                "{type_name}: the value at `{pointer}` breaks the schema's `{keyword}`"
            ),
            BuildError::Unusable { type_name, message } => write!(f, "{type_name}: {message}"),
        }
    }
}

impl std::error::Error for BuildError {}

type Cache = RwLock<HashMap<usize, Arc<jsonschema::Validator>>>;

fn validator(
    type_name: &'static str,
    schema_json: &'static str,
) -> Result<Arc<jsonschema::Validator>, BuildError> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    // Schemas are `&'static str` constants: their address identifies them.
    let key = schema_json.as_ptr() as usize;
    if let Some(v) = cache.read().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(v);
    }
    let unusable = |message: String| BuildError::Unusable { type_name, message };
    let schema: serde_json::Value = serde_json::from_str(schema_json)
        .map_err(|e| unusable(format!("bundled schema is not JSON: {e}")))?;
    let compiled = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| {
            unusable(format!(
                "bundled schema does not compile at {} (`{}`)",
                e.schema_path(),
                e.kind().keyword()
            ))
        })?;
    let compiled = Arc::new(compiled);
    if let Ok(mut m) = cache.write() {
        m.insert(key, compiled.clone());
    }
    Ok(compiled)
}

impl BuildError {
    /// Check `value` (of generated type `type_name`) against its bundled `schema_json`.
    /// Generated `build()` methods call it; the error names pointer and keyword only.
    pub fn check<T: Serialize>(
        type_name: &'static str,
        schema_json: &'static str,
        value: &T,
    ) -> Result<(), BuildError> {
        let json = serde_json::to_value(value).map_err(|e| BuildError::Unusable {
            type_name,
            message: format!("cannot serialize: {}", category(&e)),
        })?;
        let validator = validator(type_name, schema_json)?;
        if validator.is_valid(&json) {
            return Ok(());
        }
        match validator.validate(&json) {
            Ok(()) => Ok(()),
            Err(e) => Err(BuildError::Invalid {
                type_name,
                pointer: e.instance_path().to_string(),
                keyword: e.kind().keyword().to_owned(),
            }),
        }
    }
}

/// What kind of serialization failure `e` is (its message could quote data).
fn category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => {
            "a value JSON cannot hold (e.g. a map with non-string keys)"
        }
        serde_json::error::Category::Eof => "unexpected end",
    }
}
