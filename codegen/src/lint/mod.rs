//! Catalog lint (`eventctl lint`).
//!
//! Checks the conventions of `schemas/` that the compatibility checker and the generator rely
//! on. Input is the schema directory (every `*.json` below it); output is a list of
//! [`LintFinding`]s, each with a stable rule id, severity, `file:line:col` and JSON pointer.
//!
//! | rule | severity | what |
//! |---|---|---|
//! | `invalid-json` | error | file does not parse |
//! | `file-naming` | error | an event/command file is not `<events\|commands>/<type>/vN.json` |
//! | `event-type-mismatch` | error | `x-event-type` missing or not the directory name |
//! | `event-version-mismatch` | error | `x-event-version` missing or not N of `vN.json` |
//! | `id-missing` / `id-duplicate` | error | `$id` absent / shared by two files |
//! | `id-path-mismatch` | warning | `$id` does not end with the file's path below the schema directory |
//! | `title-missing` / `description-missing` | error | root title/description, or a property without description |
//! | `topic-missing` | error | `x-kafka-topic` absent or not declared in `topics.json` |
//! | `key-missing` | error | `x-kafka-key` absent, not a property, or not required |
//! | `compatibility-level-invalid` | error | `x-compatibility` not a known level |
//! | `open-content-model` | warning | object without `additionalProperties: false` (and not a map), with its cost at the declared level |
//! | `pii-unmarked` | error | a property whose name looks like personal data ([`PII_TOKENS`]; `*_id` excluded) has no `x-pii` (`"x-pii": false` records a deliberate decision); properties inside an object marked `"x-pii": true` inherit it |
//! | `examples-invalid` | error | an `examples` entry is not valid under its schema (formats asserted) |
//! | `examples-too-few` | error | an event or command schema has fewer than [`examples::MIN_EXAMPLES`] examples |
//!
//! Messages name files, pointers and property names only; examples and defaults are not shown.
//! The service map (`services.json`) has its own rules ([`services`]).

pub mod examples;

use crate::compat::catalog::DEFAULT_LEVEL;
use crate::compat::source_map::{escape, SourceMap};
use crate::compat::{CompatError, Level};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub mod services;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Advice; fails only with `--deny-warnings`.
    Warning,
    /// Fails the lint.
    Error,
}

/// One lint finding.
#[derive(Debug, Clone, Serialize)]
pub struct LintFinding {
    /// Stable rule id.
    pub rule: &'static str,
    /// Severity.
    pub severity: Severity,
    /// File.
    pub file: PathBuf,
    /// JSON pointer.
    pub pointer: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// One line.
    pub message: String,
}

/// Name tokens that suggest personal data (matched against `_`/`-`-separated words).
pub const PII_TOKENS: &[&str] = &[
    "name",
    "names",
    "email",
    "phone",
    "mobile",
    "fax",
    "address",
    "street",
    "city",
    "zip",
    "postal",
    "postcode",
    "notes",
    "note",
    "comment",
    "comments",
    "birth",
    "birthday",
    "dob",
    "ssn",
    "iban",
    "diagnosis",
    "contact",
    "body",
    "text",
    "signature",
];

/// Every rule id, for configuration files that name rules.
pub const RULES: &[&str] = &[
    "invalid-json",
    "file-naming",
    "event-type-mismatch",
    "event-version-mismatch",
    "id-missing",
    "id-duplicate",
    "id-path-mismatch",
    "title-missing",
    "description-missing",
    "topic-missing",
    "key-missing",
    "compatibility-level-invalid",
    "open-content-model",
    "pii-unmarked",
    "examples-invalid",
    "examples-too-few",
];

/// Lints every `*.json` under `dir`.
pub fn lint_dir(dir: &Path) -> Result<Vec<LintFinding>, CompatError> {
    let files = crate::compat::catalog::read_dir_files(dir)?;
    Ok(lint_files(dir, &files))
}

struct Ctx<'a> {
    file: &'a Path,
    map: SourceMap,
    out: &'a mut Vec<LintFinding>,
}

impl Ctx<'_> {
    fn push(&mut self, rule: &'static str, severity: Severity, pointer: &str, message: String) {
        let p = self.map.position(pointer);
        self.out.push(LintFinding {
            rule,
            severity,
            file: self.file.to_path_buf(),
            pointer: pointer.to_string(),
            line: p.line,
            col: p.col,
            message,
        });
    }
}

/// Lints in-memory files (paths under `dir`).
pub fn lint_files(dir: &Path, files: &BTreeMap<PathBuf, String>) -> Vec<LintFinding> {
    let mut out = Vec::new();
    let topics: Option<BTreeSet<String>> = files
        .get(&dir.join("topics.json"))
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .map(|v| {
            v.get("topics")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        });
    let parsed: BTreeMap<PathBuf, Value> = files
        .iter()
        .filter(|(path, _)| path.as_path() != dir.join("topics.json"))
        .filter_map(|(path, text)| Some((path.clone(), serde_json::from_str(text).ok()?)))
        .collect();
    let example_checker = examples::ExampleChecker::new(&parsed);
    let mut ids: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (path, text) in files {
        let rel = path.strip_prefix(dir).unwrap_or(path).to_path_buf();
        let mut cx = Ctx {
            file: path,
            map: SourceMap::default(),
            out: &mut out,
        };
        let value: Value = match pmp_strict_json::from_str(text) {
            Ok(v) => v,
            Err(dup @ pmp_strict_json::Error::DuplicateKey { .. }) => {
                cx.out.push(LintFinding {
                    rule: "duplicate-key",
                    severity: Severity::Error,
                    file: path.clone(),
                    pointer: dup.duplicate_pointer().unwrap_or_default().to_owned(),
                    line: dup.position().0,
                    col: dup.position().1,
                    message: "duplicate key: JSON parsers disagree on which value wins".into(),
                });
                continue;
            }
            Err(pmp_strict_json::Error::Syntax(e)) => {
                cx.out.push(LintFinding {
                    rule: "invalid-json",
                    severity: Severity::Error,
                    file: path.clone(),
                    pointer: String::new(),
                    line: e.line(),
                    col: e.column(),
                    message: format!("invalid JSON ({:?})", e.classify()).to_lowercase(),
                });
                continue;
            }
        };
        cx.map = SourceMap::build(text);
        if rel == Path::new("topics.json") || rel == Path::new("services.json") {
            continue;
        }
        let parts: Vec<String> = rel
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect();
        let is_event = parts
            .first()
            .is_some_and(|p| p == "events" || p == "commands");
        // $id
        match value.get("$id").and_then(Value::as_str) {
            None => cx.push(
                "id-missing",
                Severity::Error,
                "",
                "schema has no $id".into(),
            ),
            Some(id) => {
                if let Some(other) = ids.insert(id.to_string(), path.clone()) {
                    cx.push(
                        "id-duplicate",
                        Severity::Error,
                        "/$id",
                        format!("$id is also used by {}", other.display()),
                    );
                }
                let rel_s = parts.join("/");
                if !id.ends_with(&rel_s) {
                    cx.push(
                        "id-path-mismatch",
                        Severity::Warning,
                        "/$id",
                        format!("$id should end with the file's path `{rel_s}`"),
                    );
                }
            }
        }
        for kw in ["title", "description"] {
            if value
                .get(kw)
                .and_then(Value::as_str)
                .is_none_or(|s| s.trim().is_empty())
            {
                cx.push(
                    if kw == "title" {
                        "title-missing"
                    } else {
                        "description-missing"
                    },
                    Severity::Error,
                    "",
                    format!("schema root has no {kw}"),
                );
            }
        }
        let mut level = DEFAULT_LEVEL;
        if let Some(l) = value.get("x-compatibility") {
            match l.as_str().and_then(Level::parse) {
                Some(x) => level = x,
                None => cx.push("compatibility-level-invalid", Severity::Error, "/x-compatibility", "x-compatibility must be one of BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE, NONE".into()),
            }
        } else if rel == Path::new("envelope.json") {
            level = Level::FullTransitive;
        }
        if is_event {
            let version = (parts.len() == 3)
                .then(|| {
                    parts[2]
                        .strip_prefix('v')
                        .and_then(|s| s.strip_suffix(".json"))
                        .and_then(|n| n.parse::<u64>().ok())
                })
                .flatten();
            match version {
                None => cx.push(
                    "file-naming",
                    Severity::Error,
                    "",
                    format!("expected {}/<event_type>/vN.json", parts[0]),
                ),
                Some(n) => {
                    if value.get("x-event-type").and_then(Value::as_str) != Some(parts[1].as_str())
                    {
                        cx.push(
                            "event-type-mismatch",
                            Severity::Error,
                            "/x-event-type",
                            format!("x-event-type must be \"{}\" (the directory name)", parts[1]),
                        );
                    }
                    if value.get("x-event-version").and_then(Value::as_u64) != Some(n) {
                        cx.push(
                            "event-version-mismatch",
                            Severity::Error,
                            "/x-event-version",
                            format!("x-event-version must be {n} (from v{n}.json)"),
                        );
                    }
                }
            }
            match (value.get("x-kafka-topic").and_then(Value::as_str), &topics) {
                (None, _) => cx.push(
                    "topic-missing",
                    Severity::Error,
                    "",
                    "x-kafka-topic is missing".into(),
                ),
                (Some(t), Some(known)) if !known.contains(t) => cx.push(
                    "topic-missing",
                    Severity::Error,
                    "/x-kafka-topic",
                    format!("topic \"{t}\" is not declared in topics.json"),
                ),
                (Some(_), None) => cx.push(
                    "topic-missing",
                    Severity::Error,
                    "/x-kafka-topic",
                    "topics.json is missing or unreadable".into(),
                ),
                _ => {}
            }
            match value.get("x-kafka-key").and_then(Value::as_str) {
                None => cx.push(
                    "key-missing",
                    Severity::Error,
                    "",
                    "x-kafka-key is missing".into(),
                ),
                Some(k) => {
                    if value
                        .pointer(&format!("/properties/{}", escape(k)))
                        .is_none()
                    {
                        cx.push(
                            "key-missing",
                            Severity::Error,
                            "/x-kafka-key",
                            format!("x-kafka-key \"{k}\" is not a property"),
                        );
                    } else if !value
                        .get("required")
                        .and_then(Value::as_array)
                        .is_some_and(|r| r.iter().any(|x| x == k))
                    {
                        cx.push(
                            "key-missing",
                            Severity::Error,
                            "/x-kafka-key",
                            format!("x-kafka-key \"{k}\" is not required"),
                        );
                    }
                }
            }
        }
        for (rule, pointer, message) in example_checker.check(path, &value, is_event) {
            cx.push(rule, Severity::Error, &pointer, message);
        }
        walk(&value, "", level, false, &mut cx);
    }
    services::lint_services(dir, files, &mut out);
    out.sort_by(|a, b| (&a.file, a.line, a.col, a.rule).cmp(&(&b.file, b.line, b.col, b.rule)));
    out
}

fn open_cost(level: Level) -> &'static str {
    match level {
        Level::Backward | Level::BackwardTransitive => "at BACKWARD (strict policy) no property can ever be added to it, not even an optional one",
        Level::Forward | Level::ForwardTransitive => "at FORWARD (strict policy) no declared property can ever be removed from it",
        Level::Full | Level::FullTransitive => "at FULL (strict policy) its properties can be neither added nor removed",
        Level::None => "no compatibility level is checked, but consumers must accept arbitrary extra properties",
    }
}

fn is_pii_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    // Identifiers of records (`email_id`, `provider_message_id`) are not the data itself.
    if lower == "id" || lower.ends_with("_id") || lower.ends_with("-id") {
        return false;
    }
    lower
        .split(['_', '-', '.'])
        .any(|t| PII_TOKENS.contains(&t))
        || PII_TOKENS.iter().any(|t| t.len() > 4 && lower.contains(t))
}

/// Walks a schema; `pii` is true below an object marked `"x-pii": true` (its properties
/// inherit the mark).
fn walk(v: &Value, ptr: &str, level: Level, pii: bool, cx: &mut Ctx<'_>) {
    let Value::Object(o) = v else { return };
    let pii = pii || o.get("x-pii") == Some(&Value::Bool(true));
    let objecty = o.get("type").is_some_and(|t| {
        t == "object"
            || t.as_array()
                .is_some_and(|a| a.iter().any(|x| x == "object"))
    }) || o.contains_key("properties");
    if objecty && !o.contains_key("$ref") {
        let closed = o.get("additionalProperties") == Some(&Value::Bool(false))
            || o.get("unevaluatedProperties") == Some(&Value::Bool(false));
        let map = o.get("additionalProperties").is_some_and(Value::is_object)
            || o.contains_key("patternProperties");
        if !closed && !map {
            cx.push(
                "open-content-model",
                Severity::Warning,
                ptr,
                format!(
                    "open object (no additionalProperties: false): {}",
                    open_cost(level)
                ),
            );
        }
    }
    if let Some(Value::Object(props)) = o.get("properties") {
        for (name, s) in props {
            let p = format!("{ptr}/properties/{}", escape(name));
            if s.get("description")
                .and_then(Value::as_str)
                .is_none_or(|d| d.trim().is_empty())
            {
                cx.push(
                    "description-missing",
                    Severity::Error,
                    &p,
                    format!("property \"{name}\" has no description"),
                );
            }
            if !pii && is_pii_name(name) && s.get("x-pii").is_none() {
                cx.push("pii-unmarked", Severity::Error, &p, format!("property \"{name}\" looks like personal data but has no x-pii (set \"x-pii\": true, or false to record that it is not)"));
            }
            walk(s, &p, level, pii, cx);
        }
    }
    for kw in [
        "additionalProperties",
        "items",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "propertyNames",
        "unevaluatedProperties",
        "additionalItems",
    ] {
        if let Some(s) = o.get(kw) {
            match s {
                Value::Array(a) => a
                    .iter()
                    .enumerate()
                    .for_each(|(i, x)| walk(x, &format!("{ptr}/{kw}/{i}"), level, pii, cx)),
                _ => walk(s, &format!("{ptr}/{kw}"), level, pii, cx),
            }
        }
    }
    for kw in ["allOf", "anyOf", "oneOf", "prefixItems"] {
        if let Some(Value::Array(a)) = o.get(kw) {
            for (i, x) in a.iter().enumerate() {
                walk(x, &format!("{ptr}/{kw}/{i}"), level, pii, cx);
            }
        }
    }
    for kw in [
        "$defs",
        "definitions",
        "patternProperties",
        "dependentSchemas",
    ] {
        if let Some(Value::Object(m)) = o.get(kw) {
            for (k, x) in m {
                walk(x, &format!("{ptr}/{kw}/{}", escape(k)), level, pii, cx);
            }
        }
    }
}
