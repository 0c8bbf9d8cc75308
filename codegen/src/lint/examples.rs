//! Rule `examples-invalid` / `examples-too-few`: every schema root's `examples` entry must be
//! valid under the schema (with `format` asserted, as the producer's validation does), and an
//! event or command schema needs at least [`MIN_EXAMPLES`] of them (they are what the demo
//! publishes and what documentation shows).
//!
//! Validation uses `jsonschema` with every file of the catalog registered under its `$id`
//! (or its `file://` URI when it has none), so relative `$ref`s to `common/` resolve offline.
//! A finding names the example's pointer (`#/examples/1`) and the failing keyword and schema
//! pointer; it never shows the example's values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Examples an event or command schema must have.
pub const MIN_EXAMPLES: usize = 2;

/// One problem with a schema's examples: (rule, pointer into the file, message).
pub(super) type ExampleProblem = (&'static str, String, String);

/// Validators for the catalog's files, sharing one registry.
pub(super) struct ExampleChecker<'a> {
    registry: Option<jsonschema::Registry<'a>>,
}

impl<'a> ExampleChecker<'a> {
    /// Registers every parsed file.
    pub fn new(files: &'a BTreeMap<PathBuf, Value>) -> ExampleChecker<'a> {
        let mut builder = jsonschema::Registry::new();
        for (path, value) in files {
            match builder.add(base_uri(path, value), value) {
                Ok(b) => builder = b,
                // A file the registry cannot take is reported by its own validation below.
                Err(_) => return ExampleChecker { registry: None },
            }
        }
        ExampleChecker {
            registry: builder.prepare().ok(),
        }
    }

    /// Problems with the `examples` of the schema in `path`; `needs_examples` for events and
    /// commands.
    pub fn check(&self, path: &Path, schema: &Value, needs_examples: bool) -> Vec<ExampleProblem> {
        let examples = match schema.get("examples") {
            None => &[][..],
            Some(Value::Array(a)) => a.as_slice(),
            Some(_) => {
                return vec![(
                    "examples-invalid",
                    "/examples".to_owned(),
                    "examples must be an array of example documents".to_owned(),
                )]
            }
        };
        let mut problems = Vec::new();
        if needs_examples && examples.len() < MIN_EXAMPLES {
            problems.push((
                "examples-too-few",
                if examples.is_empty() {
                    String::new()
                } else {
                    "/examples".to_owned()
                },
                format!(
                    "{} example(s); an event or command schema needs at least {MIN_EXAMPLES}",
                    examples.len()
                ),
            ));
        }
        if examples.is_empty() {
            return problems;
        }
        let uri = base_uri(path, schema);
        let built = match &self.registry {
            Some(registry) => jsonschema::options()
                .with_registry(registry)
                .with_base_uri(uri)
                .should_validate_formats(true)
                .build(schema),
            None => jsonschema::options()
                .with_base_uri(uri)
                .should_validate_formats(true)
                .build(schema),
        };
        let validator = match built {
            Ok(v) => v,
            Err(e) => {
                let reason: String = e.to_string().chars().take(160).collect();
                problems.push((
                    "examples-invalid",
                    "/examples".to_owned(),
                    format!("examples cannot be checked: the schema does not compile ({reason})"),
                ));
                return problems;
            }
        };
        for (i, example) in examples.iter().enumerate() {
            if let Some(error) = validator.iter_errors(example).next() {
                let at = error.instance_path().as_str().to_owned();
                problems.push((
                    "examples-invalid",
                    format!("/examples/{i}"),
                    format!(
                        "example {i} is not valid under the schema: at `{}` it fails `{}` (#{})",
                        if at.is_empty() { "/" } else { &at },
                        error.kind().keyword(),
                        error.schema_path().as_str()
                    ),
                ));
            }
        }
        problems
    }
}

/// The URI a file is registered and resolved under.
fn base_uri(path: &Path, value: &Value) -> String {
    if let Some(id) = value.get("$id").and_then(Value::as_str) {
        return id.to_owned();
    }
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file://{}", abs.to_string_lossy().replace('\\', "/"))
}
