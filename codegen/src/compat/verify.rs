//! Counterexample verification with `jsonschema`.
//!
//! A counterexample is printed only if `jsonschema` (with format assertions on, since the
//! checker treats `format` as an assertion) accepts it under one root schema and rejects it
//! under the other. Each side's validator is built once per comparison with every document of
//! that side's store registered as a resource, so relative and `$id` references resolve
//! offline exactly as the checker resolved them.

use super::store::{DocId, DocStore};
use serde_json::Value;

pub(crate) struct Verifier {
    validators: [Option<jsonschema::Validator>; 2],
    pub errors: [Option<String>; 2],
}

impl Verifier {
    pub fn new(stores: [&DocStore; 2], roots: [DocId; 2]) -> Verifier {
        let mut validators = [None, None];
        let mut errors = [None, None];
        for side in 0..2 {
            match build(stores[side], roots[side]) {
                Ok(v) => validators[side] = Some(v),
                Err(e) => errors[side] = Some(e),
            }
        }
        Verifier { validators, errors }
    }

    /// `Some(true)` when `doc` is valid under side `a` and invalid under side `b`.
    pub fn separates(&self, a: usize, b: usize, doc: &Value) -> Option<bool> {
        let va = self.validators[a].as_ref()?;
        let vb = self.validators[b].as_ref()?;
        Some(va.is_valid(doc) && !vb.is_valid(doc))
    }
}

fn build(store: &DocStore, root: DocId) -> Result<jsonschema::Validator, String> {
    if store.docs().len() == 1 {
        // Self-contained document: no registry needed (and building one costs a third).
        return jsonschema::options()
            .with_base_uri(store.uri_of(root))
            .should_validate_formats(true)
            .build(&store.doc(root).value)
            .map_err(|e| {
                format!(
                    "jsonschema cannot compile {}: {}",
                    store.doc(root).path.display(),
                    error_kind(&e.to_string())
                )
            });
    }
    let mut builder = jsonschema::Registry::new();
    for (uri, value) in store.resources() {
        builder = builder
            .add(&uri, value)
            .map_err(|_| format!("cannot register {uri}"))?;
    }
    let registry = builder.prepare().map_err(|e| {
        format!(
            "cannot prepare schema registry: {}",
            error_kind(&e.to_string())
        )
    })?;
    jsonschema::options()
        .with_registry(&registry)
        .with_base_uri(store.uri_of(root))
        .should_validate_formats(true)
        .build(&store.doc(root).value)
        .map_err(|e| {
            format!(
                "jsonschema cannot compile {}: {}",
                store.doc(root).path.display(),
                error_kind(&e.to_string())
            )
        })
}

/// Schema-compilation messages describe schema text, not payloads; keep them short.
fn error_kind(s: &str) -> String {
    s.chars().take(160).collect()
}
