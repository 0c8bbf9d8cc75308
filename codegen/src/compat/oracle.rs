//! Regular expressions and formats as the validator reads them.
//!
//! `pattern` and `patternProperties` are ECMA-262 regexes, and `format` checks are whatever the
//! validator implements. The checker does not trust its own reading of either: whether a
//! string matches a pattern or a format is asked of `jsonschema` itself (the validator the
//! runtime uses and the one every counterexample is verified with), so a match the checker
//! relies on is a match at run time. A pattern `jsonschema` cannot compile is an input error
//! naming file and pointer ([`check_patterns`]), as in `generate`, never "equal on both sides".

use super::store::DocStore;
use super::CompatError;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

type Cache = RefCell<HashMap<String, Option<Rc<jsonschema::Validator>>>>;

thread_local! {
    /// Compiled validators live for the thread: a catalog check compares many pairs that share
    /// their patterns and formats, and compiling one costs more than most comparisons.
    static PATTERNS: Cache = RefCell::new(HashMap::new());
    static FORMATS: Cache = RefCell::new(HashMap::new());
}

/// Asks `jsonschema` about `pattern` and `format` (`{"pattern": p}` and `{"format": f}`
/// validators, compiled once per thread; `None`: does not compile).
#[derive(Default)]
pub(crate) struct Patterns;

fn cached(
    cache: &'static std::thread::LocalKey<Cache>,
    key: &str,
    schema: impl FnOnce() -> Value,
) -> Option<Rc<jsonschema::Validator>> {
    if let Some(v) = cache.with(|c| c.borrow().get(key).cloned()) {
        return v;
    }
    let v = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema())
        .ok()
        .map(Rc::new);
    cache.with(|c| c.borrow_mut().insert(key.to_string(), v.clone()));
    v
}

impl Patterns {
    fn get(&self, pattern: &str) -> Option<Rc<jsonschema::Validator>> {
        cached(&PATTERNS, pattern, || json!({ "pattern": pattern }))
    }

    /// Whether `s` is valid under `format` as the validator checks it (unknown formats
    /// accept everything there, so they do here).
    pub fn format_ok(&self, format: &str, s: &str) -> Option<bool> {
        cached(&FORMATS, format, || json!({ "format": format }))
            .map(|v| v.is_valid(&Value::String(s.to_string())))
    }

    /// Whether `jsonschema` compiles the pattern.
    pub fn valid(&self, pattern: &str) -> bool {
        self.get(pattern).is_some()
    }

    /// Whether `s` matches (anywhere, as JSON Schema requires); `None` for a pattern that does
    /// not compile.
    pub fn matches(&self, pattern: &str, s: &str) -> Option<bool> {
        self.get(pattern)
            .map(|v| v.is_valid(&Value::String(s.to_string())))
    }
}

/// Keywords whose value is one subschema.
const ONE: &[&str] = &[
    "additionalProperties",
    "additionalItems",
    "unevaluatedProperties",
    "unevaluatedItems",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "contentSchema",
    "items",
];
/// Keywords whose value is an array of subschemas.
const LIST: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems", "items"];
/// Keywords whose value is a map of subschemas.
const MAP: &[&str] = &[
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
    "dependencies",
];

/// Refuses the first `pattern` or `patternProperties` key `jsonschema` cannot compile, in any
/// schema position of any document of `store`.
pub(crate) fn check_patterns(store: &DocStore, patterns: &Patterns) -> Result<(), CompatError> {
    for doc in store.docs() {
        let mut bad = None;
        walk(&doc.value, String::new(), patterns, &mut bad);
        if let Some((pointer, what)) = bad {
            return Err(CompatError::Invalid {
                file: doc.path.clone(),
                pointer,
                reason: format!("invalid regular expression in `{what}`"),
            });
        }
    }
    Ok(())
}

fn walk(v: &Value, ptr: String, patterns: &Patterns, bad: &mut Option<(String, &'static str)>) {
    let Value::Object(o) = v else { return };
    if bad.is_some() {
        return;
    }
    let esc = super::source_map::escape;
    if let Some(Value::String(p)) = o.get("pattern") {
        if !patterns.valid(p) {
            *bad = Some((format!("{ptr}/pattern"), "pattern"));
            return;
        }
    }
    if let Some(Value::Object(pp)) = o.get("patternProperties") {
        if let Some(k) = pp.keys().find(|k| !patterns.valid(k)) {
            *bad = Some((
                format!("{ptr}/patternProperties/{}", esc(k)),
                "patternProperties",
            ));
            return;
        }
    }
    for (k, sub) in o {
        let at = format!("{ptr}/{}", esc(k));
        if ONE.contains(&k.as_str()) && sub.is_object() {
            walk(sub, at.clone(), patterns, bad);
        }
        if LIST.contains(&k.as_str()) {
            if let Value::Array(items) = sub {
                for (i, s) in items.iter().enumerate() {
                    walk(s, format!("{at}/{i}"), patterns, bad);
                }
            }
        }
        if MAP.contains(&k.as_str()) {
            if let Value::Object(m) = sub {
                for (name, s) in m {
                    walk(s, format!("{at}/{}", esc(name)), patterns, bad);
                }
            }
        }
    }
}
