//! Self-contained ("bundled") schema text for runtime validation.
//!
//! The bundle of a document is the document itself with
//! - every `$ref` rewritten to the absolute canonical URI of its target
//!   (`https://pmp.example/schemas/common/person_name.json`, or `...v1.json#/$defs/x`), and
//! - every other resource it reaches (transitively) copied under the root's `$defs`, keyed by
//!   its URI and carrying that URI as `$id`,
//! - and an `$id` on the root (its synthetic one if the file has none).
//!
//! A draft 2020-12 validator registers embedded `$id`s, so the bundle compiles with no
//! retriever and no file access: exactly what the consumer needs at runtime.

use std::collections::BTreeMap;

use serde_json::Value;

use super::catalog::{rewrite_refs, walk_refs, Catalog, Loc};
use crate::error::Result;

/// Bundle the resource rooted at `root` (a document root) into one JSON value.
pub fn bundle(cat: &Catalog, root: &Loc) -> Result<Value> {
    let (root_resource, root_uri) = cat.resource_of(root);
    // Collect every resource reachable from the root, by URI (sorted: deterministic).
    let mut reached: BTreeMap<String, Loc> = BTreeMap::new();
    let mut queue = vec![root_resource.clone()];
    while let Some(resource) = queue.pop() {
        let value = cat.get(&resource).cloned().unwrap_or(Value::Null);
        let mut targets = Vec::new();
        let mut first_err = None;
        walk_refs(&value, &resource.pointer, &mut |pointer, reference| {
            let at = Loc {
                doc: resource.doc,
                pointer: pointer.to_owned(),
            };
            match cat.resolve_ref(&at, reference) {
                Ok(target) => targets.push(target),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        });
        if let Some(e) = first_err {
            return Err(e);
        }
        for target in targets {
            let (res, uri) = cat.resource_of(&target);
            if uri != root_uri && !reached.contains_key(&uri) {
                reached.insert(uri, res.clone());
                queue.push(res);
            }
        }
    }
    let mut out = rewritten(cat, &root_resource)?;
    if let Value::Object(map) = &mut out {
        map.insert("$id".to_owned(), Value::String(root_uri.clone()));
        if !reached.is_empty() {
            let defs = map
                .entry("$defs")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Value::Object(defs) = defs {
                for (uri, resource) in &reached {
                    let mut value = rewritten(cat, resource)?;
                    if let Value::Object(m) = &mut value {
                        m.insert("$id".to_owned(), Value::String(uri.clone()));
                        m.remove("$schema");
                    }
                    defs.insert(uri.clone(), value);
                }
            }
        }
    }
    Ok(out)
}

/// The resource's value with every `$ref` made absolute.
fn rewritten(cat: &Catalog, resource: &Loc) -> Result<Value> {
    let mut value = cat.get(resource).cloned().unwrap_or(Value::Null);
    rewrite_refs(
        &mut value,
        &resource.pointer,
        false,
        &mut |pointer, reference| {
            let at = Loc {
                doc: resource.doc,
                pointer: pointer.to_owned(),
            };
            let target = cat.resolve_ref(&at, reference)?;
            Ok(cat.canonical_uri(&target))
        },
    )?;
    Ok(value)
}
