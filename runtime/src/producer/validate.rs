//! Schema validation before send: one compiled validator per schema, built on first use.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::payload::EventPayload;

use super::delivery::PublishError;

#[derive(Default)]
pub(crate) struct Validators {
    compiled: RwLock<HashMap<&'static str, Arc<jsonschema::Validator>>>,
}

impl Validators {
    fn get<P: EventPayload>(&self) -> Result<Arc<jsonschema::Validator>, PublishError> {
        let id = P::INFO.schema_id;
        if let Some(v) = self.compiled.read().ok().and_then(|m| m.get(id).cloned()) {
            return Ok(v);
        }
        let unusable = |message: String| PublishError::SchemaUnusable {
            event_type: P::EVENT_TYPE,
            version: P::VERSION,
            message,
        };
        let schema: serde_json::Value = serde_json::from_str(P::INFO.schema_json).map_err(|e| {
            unusable(format!(
                "not JSON at line {} column {}",
                e.line(),
                e.column()
            ))
        })?;
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| {
                unusable(format!(
                    "does not compile at {} (`{}`)",
                    e.schema_path(),
                    e.kind().keyword()
                ))
            })?;
        let validator = Arc::new(validator);
        if let Ok(mut m) = self.compiled.write() {
            m.insert(id, validator.clone());
        }
        Ok(validator)
    }

    /// Validate a serialized payload. The error names the JSON pointer and the failing
    /// keyword, never the value.
    pub(crate) fn validate<P: EventPayload>(
        &self,
        payload: &serde_json::Value,
    ) -> Result<(), PublishError> {
        let validator = self.get::<P>()?;
        // `is_valid` short-circuits and builds no error: the common case stays cheap.
        if validator.is_valid(payload) {
            return Ok(());
        }
        match validator.validate(payload) {
            Ok(()) => Ok(()),
            Err(e) => Err(PublishError::Invalid {
                event_type: P::EVENT_TYPE,
                version: P::VERSION,
                pointer: e.instance_path().to_string(),
                keyword: e.kind().keyword().to_owned(),
            }),
        }
    }
}
