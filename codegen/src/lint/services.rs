//! Lint of the service map (`services.json`, see [`crate::services`]).
//!
//! | rule | severity | what |
//! |---|---|---|
//! | `services-invalid` | error | `services.json` does not parse or has the wrong shape (unknown key, bad name, duplicate) |
//! | `service-event-unknown` | error | a service sends or receives an event type that has no schema |
//! | `event-sender-missing` | error | an event type of the catalog that no service sends |
//! | `service-unknown` | error | an envelope example names a `producer` that is not a declared service |
//!
//! Nothing is checked when the catalog has no `services.json`.

use super::{LintFinding, Severity};
use crate::compat::source_map::SourceMap;
use crate::services::ServiceMap;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Appends the service map's findings to `out`.
pub(super) fn lint_services(
    dir: &Path,
    files: &BTreeMap<PathBuf, String>,
    out: &mut Vec<LintFinding>,
) {
    let path = dir.join("services.json");
    let Some(text) = files.get(&path) else {
        return;
    };
    let map = SourceMap::build(text);
    let mut push = |file: &Path, map: &SourceMap, rule, pointer: &str, message| {
        let p = map.position(pointer);
        out.push(LintFinding {
            rule,
            severity: Severity::Error,
            file: file.to_path_buf(),
            pointer: pointer.to_string(),
            line: p.line,
            col: p.col,
            message,
        });
    };
    let services = match ServiceMap::parse(&path, text) {
        Ok(s) => s,
        Err(e) => {
            push(&path, &map, "services-invalid", &e.pointer, e.message);
            return;
        }
    };
    let event_types: BTreeSet<String> = files
        .keys()
        .filter_map(|p| {
            let rel: Vec<String> = p
                .strip_prefix(dir)
                .ok()?
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            match rel.as_slice() {
                [kind, event_type, _] if kind == "events" || kind == "commands" => {
                    Some(event_type.clone())
                }
                _ => None,
            }
        })
        .collect();
    for f in services.check(&event_types) {
        push(&path, &map, f.rule, &f.pointer, f.message);
    }
    let envelope = dir.join("envelope.json");
    if let Some(text) = files.get(&envelope) {
        let examples = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get("examples").cloned());
        let emap = SourceMap::build(text);
        for (i, ex) in examples
            .iter()
            .flat_map(|e| e.as_array())
            .flatten()
            .enumerate()
        {
            if let Some(p) = ex.get("producer").and_then(Value::as_str) {
                if services.service(p).is_none() {
                    push(
                        &envelope,
                        &emap,
                        "service-unknown",
                        &format!("/examples/{i}/producer"),
                        format!("example producer `{p}` is not a service of services.json"),
                    );
                }
            }
        }
    }
}
