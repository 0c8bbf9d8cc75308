//! The field table of an event version, computed from its bundled schema.
//!
//! One row per property, nested objects flattened to dotted paths (`name.first_name`), array
//! items as `languages[]`, and the branches of a `oneOf`/`anyOf` as `origin[kind=address]`
//! (the branch's `const` discriminator) or `origin[2]`. `$ref`s are followed inside the bundle
//! (siblings beside a `$ref`, such as `description` or `x-pii`, win over the target's). Rows
//! are ordered: the record key first, then required properties, then optional ones, each
//! alphabetically. A property is personal data when it or an enclosing property carries
//! `x-pii: true`. Depth and `$ref` cycles are bounded, so recursive schemas terminate.

use serde::Serialize;
use serde_json::{Map, Value};

/// One row of the field table.
#[derive(Debug, Clone, Serialize)]
pub struct FieldRow {
    /// Dotted path, e.g. `name.first_name`, `preferences.methods[]`, `origin[kind=point].point.lat`.
    pub path: String,
    /// Nesting depth (0 for top-level properties).
    pub depth: usize,
    /// Last path segment (the property name).
    pub name: String,
    /// Human-readable type: `string (email)`, `integer`, `array of TherapyMethod`, ...
    pub ty: String,
    /// Required in its parent object.
    pub required: bool,
    /// Constraints: `length 1..100`, `1 <= x <= 200`, `pattern ^[0-9]{5}$`, `default "any"`, ...
    pub constraints: Vec<String>,
    /// The property's `description`.
    pub description: String,
    /// Marked `x-pii` (itself or an enclosing property).
    pub pii: bool,
    /// Enumeration values with their German labels from `x-enum-descriptions`.
    pub enum_values: Vec<EnumValue>,
}

/// One enumeration value.
#[derive(Debug, Clone, Serialize)]
pub struct EnumValue {
    /// Wire value.
    pub value: String,
    /// Label from `x-enum-descriptions` (the German UI label), when given.
    pub label: Option<String>,
}

const MAX_DEPTH: usize = 8;

/// The field table of a bundled payload schema.
pub fn field_rows(bundle: &Value, key: &str) -> Vec<FieldRow> {
    let mut out = Vec::new();
    let root = Resolver { bundle }.deref(bundle, &mut Vec::new());
    Walker {
        res: Resolver { bundle },
        out: &mut out,
    }
    .object(&root, "", 0, false, Some(key), &[]);
    out
}

struct Resolver<'a> {
    bundle: &'a Value,
}

impl Resolver<'_> {
    fn target(&self, reference: &str) -> Option<&Value> {
        let (base, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let root_id = self.bundle.get("$id").and_then(Value::as_str).unwrap_or("");
        let doc = if base.is_empty() || base == root_id {
            self.bundle
        } else {
            self.bundle.get("$defs")?.get(base)?
        };
        if fragment.is_empty() {
            Some(doc)
        } else {
            doc.pointer(fragment)
        }
    }

    /// The schema with `$ref` chains followed; siblings of a `$ref` override the target.
    /// `seen` holds the references already followed on this path (cycle guard).
    fn deref(&self, node: &Value, seen: &mut Vec<String>) -> Value {
        let mut current = node.clone();
        for _ in 0..16 {
            let Some(reference) = current
                .get("$ref")
                .and_then(Value::as_str)
                .map(str::to_owned)
            else {
                break;
            };
            if seen.contains(&reference) {
                break;
            }
            let Some(target) = self.target(&reference) else {
                break;
            };
            seen.push(reference);
            let mut merged: Map<String, Value> = target.as_object().cloned().unwrap_or_default();
            if let Some(o) = current.as_object() {
                for (k, v) in o {
                    if k != "$ref" {
                        merged.insert(k.clone(), v.clone());
                    }
                }
            }
            current = Value::Object(merged);
        }
        current
    }
}

struct Walker<'a, 'b> {
    res: Resolver<'a>,
    out: &'b mut Vec<FieldRow>,
}

impl Walker<'_, '_> {
    fn object(
        &mut self,
        schema: &Value,
        prefix: &str,
        depth: usize,
        pii: bool,
        key: Option<&str>,
        seen: &[String],
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        if let Some(Value::Object(props)) = schema.get("properties") {
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut names: Vec<&String> = props.keys().collect();
            names.sort_by_key(|n| {
                (
                    Some(n.as_str()) != key,
                    !required.contains(&n.as_str()),
                    n.as_str(),
                )
            });
            for name in names {
                let path = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}.{name}")
                };
                self.property(
                    &props[name],
                    &path,
                    name,
                    depth,
                    required.contains(&name.as_str()),
                    pii,
                    seen,
                );
            }
        }
        for kw in ["oneOf", "anyOf"] {
            if let Some(Value::Array(branches)) = schema.get(kw) {
                for (i, b) in branches.iter().enumerate() {
                    let mut seen_b = seen.to_vec();
                    let b = self.res.deref(b, &mut seen_b);
                    let label = discriminator(&b).unwrap_or_else(|| i.to_string());
                    // The discriminator property (`kind` of `kind=address`) first.
                    let tag = label.split_once('=').map(|(k, _)| k.to_owned());
                    self.object(
                        &b,
                        &format!("{prefix}[{label}]"),
                        depth,
                        pii,
                        tag.as_deref(),
                        &seen_b,
                    );
                }
            }
        }
        if let Some(Value::Array(parts)) = schema.get("allOf") {
            for p in parts {
                let mut seen_p = seen.to_vec();
                let p = self.res.deref(p, &mut seen_p);
                self.object(&p, prefix, depth, pii, None, &seen_p);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn property(
        &mut self,
        raw: &Value,
        path: &str,
        name: &str,
        depth: usize,
        required: bool,
        parent_pii: bool,
        seen: &[String],
    ) {
        let mut seen = seen.to_vec();
        let s = self.res.deref(raw, &mut seen);
        let pii = parent_pii || s.get("x-pii") == Some(&Value::Bool(true));
        self.out.push(FieldRow {
            path: path.to_owned(),
            depth,
            name: name.to_owned(),
            ty: self.type_name(raw, &s),
            required,
            constraints: constraints(&s),
            description: s
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            pii,
            enum_values: enum_values(&s),
        });
        // Nested objects and array items get their own rows.
        self.object(&s, path, depth + 1, pii, None, &seen);
        if let Some(items) = s.get("items").filter(|i| i.is_object()) {
            let it = self.res.deref(items, &mut seen);
            if it.get("properties").is_some() || it.get("oneOf").is_some() {
                self.object(&it, &format!("{path}[]"), depth + 1, pii, None, &seen);
            }
        }
    }

    fn type_name(&self, raw: &Value, s: &Value) -> String {
        let named = raw
            .get("$ref")
            .and(s.get("title"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let base = self.plain_type(s);
        match named {
            Some(n) => format!("{n} ({base})"),
            None => base,
        }
    }

    fn plain_type(&self, s: &Value) -> String {
        if let Some(c) = s.get("const") {
            return format!("const {c}");
        }
        for kw in ["oneOf", "anyOf"] {
            if let Some(Value::Array(branches)) = s.get(kw) {
                let names: Vec<String> = branches
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        let d = self.res.deref(b, &mut Vec::new());
                        discriminator(&d)
                            .or_else(|| d.get("title").and_then(Value::as_str).map(str::to_owned))
                            .unwrap_or_else(|| {
                                if d.get("type").is_some() {
                                    self.plain_type(&d)
                                } else {
                                    format!("branch {i}")
                                }
                            })
                    })
                    .collect();
                return format!("one of: {}", names.join(" | "));
            }
        }
        let ty = match s.get("type") {
            Some(Value::String(t)) => t.clone(),
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" | "),
            _ if s.get("properties").is_some() => "object".into(),
            _ => "any".into(),
        };
        if s.get("enum").is_some() {
            return format!("{ty} enum");
        }
        if ty == "array" {
            if let Some(items) = s.get("items").filter(|i| i.is_object()) {
                let it = self.res.deref(items, &mut Vec::new());
                let inner = match (items.get("$ref"), it.get("title").and_then(Value::as_str)) {
                    (Some(_), Some(t)) => t.to_owned(),
                    _ => self.plain_type(&it),
                };
                return format!("array of {inner}");
            }
        }
        if ty == "object" {
            if let Some(ap) = s.get("additionalProperties").filter(|a| a.is_object()) {
                let v = self.res.deref(ap, &mut Vec::new());
                return format!("map of string to {}", self.plain_type(&v));
            }
        }
        match s.get("format").and_then(Value::as_str) {
            Some(f) => format!("{ty} ({f})"),
            None => ty,
        }
    }
}

/// Rules of the payload's root object that no single field row shows: `oneOf`/`anyOf` of
/// `required` sets (e.g. "exactly one of: `body_text` | `template` + `template_vars`") and
/// `dependentRequired`. Markdown code spans, for the `code_spans` filter.
pub fn object_rules(bundle: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (kw, what) in [("oneOf", "exactly one of"), ("anyOf", "at least one of")] {
        let Some(Value::Array(branches)) = bundle.get(kw) else {
            continue;
        };
        let sets: Option<Vec<String>> = branches
            .iter()
            .map(|b| {
                let o = b.as_object()?;
                let req = o.get("required")?.as_array()?;
                (o.len() == 1).then(|| {
                    req.iter()
                        .filter_map(Value::as_str)
                        .map(|r| format!("`{r}`"))
                        .collect::<Vec<_>>()
                        .join(" + ")
                })
            })
            .collect();
        if let Some(sets) = sets.filter(|s| !s.is_empty()) {
            out.push(format!("{what}: {}", sets.join(" | ")));
        }
    }
    if let Some(Value::Object(deps)) = bundle.get("dependentRequired") {
        for (k, v) in deps {
            let needs: Vec<String> = v
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|r| format!("`{r}`"))
                .collect();
            out.push(format!("`{k}` requires {}", needs.join(", ")));
        }
    }
    out
}

/// `kind=address` for a branch whose properties include a `const` (the discriminator).
fn discriminator(branch: &Value) -> Option<String> {
    let props = branch.get("properties")?.as_object()?;
    props.iter().find_map(|(k, v)| match v.get("const") {
        Some(Value::String(c)) => Some(format!("{k}={c}")),
        _ => None,
    })
}

fn constraints(s: &Value) -> Vec<String> {
    let num = |k: &str| s.get(k).filter(|v| v.is_number()).map(Value::to_string);
    let mut out = Vec::new();
    let range = |lo: Option<String>, hi: Option<String>, what: &str, out: &mut Vec<String>| match (
        lo, hi,
    ) {
        (Some(a), Some(b)) => out.push(format!("{what} {a}..{b}")),
        (Some(a), None) => out.push(format!("{what} >= {a}")),
        (None, Some(b)) => out.push(format!("{what} <= {b}")),
        (None, None) => {}
    };
    range(num("minLength"), num("maxLength"), "length", &mut out);
    match (num("minimum"), num("maximum")) {
        (Some(a), Some(b)) => out.push(format!("{a} <= x <= {b}")),
        (Some(a), None) => out.push(format!("x >= {a}")),
        (None, Some(b)) => out.push(format!("x <= {b}")),
        (None, None) => {}
    }
    if let Some(a) = num("exclusiveMinimum") {
        out.push(format!("x > {a}"));
    }
    if let Some(b) = num("exclusiveMaximum") {
        out.push(format!("x < {b}"));
    }
    if let Some(m) = num("multipleOf") {
        out.push(format!("multiple of {m}"));
    }
    range(num("minItems"), num("maxItems"), "items", &mut out);
    range(
        num("minProperties"),
        num("maxProperties"),
        "properties",
        &mut out,
    );
    if s.get("uniqueItems") == Some(&Value::Bool(true)) {
        out.push("unique items".into());
    }
    if let Some(p) = s.get("pattern").and_then(Value::as_str) {
        out.push(format!("pattern {p}"));
    }
    if let Some(d) = s.get("default") {
        out.push(format!("default {d}"));
    }
    if s.get("deprecated") == Some(&Value::Bool(true)) {
        out.push("deprecated".into());
    }
    out
}

fn enum_values(s: &Value) -> Vec<EnumValue> {
    let labels = s.get("x-enum-descriptions");
    s.get("enum")
        .and_then(Value::as_array)
        .map(|vals| {
            vals.iter()
                .map(|v| {
                    let value = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    let label = labels
                        .and_then(|l| l.get(&value))
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    EnumValue { value, label }
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bundle() -> Value {
        json!({
            "$id": "https://x.test/e/v1.json",
            "type": "object",
            "required": ["id", "who"],
            "properties": {
                "note": {"type": "string", "maxLength": 10, "description": "A note.", "x-pii": true},
                "id": {"type": "integer", "minimum": 1, "description": "Key."},
                "who": {"$ref": "https://x.test/common/person.json", "x-pii": true, "description": "The person."},
                "at": {"oneOf": [
                    {"type": "object", "properties": {"kind": {"const": "a"}, "x": {"type": "number"}}},
                    {"type": "object", "properties": {"kind": {"const": "b"}, "y": {"type": "string"}}}
                ]},
                "self": {"$ref": "https://x.test/e/v1.json"}
            },
            "$defs": {"https://x.test/common/person.json": {
                "title": "Person", "type": "object", "required": ["salutation"],
                "description": "Target description (overridden).",
                "properties": {"salutation": {"type": "string", "enum": ["mr", "ms"],
                    "x-enum-descriptions": {"mr": "Herr"}, "description": "Anrede."}}
            }}
        })
    }

    #[test]
    fn object_rules_spell_out_required_alternatives() {
        let b = json!({
            "oneOf": [{"required": ["body_text"]}, {"required": ["template", "template_vars"]}],
            "dependentRequired": {"template": ["template_vars"]}
        });
        assert_eq!(
            object_rules(&b),
            [
                "exactly one of: `body_text` | `template` + `template_vars`",
                "`template` requires `template_vars`"
            ]
        );
        assert!(object_rules(&json!({"oneOf": [{"type": "object"}]})).is_empty());
    }

    #[test]
    fn rows_follow_refs_order_keys_and_inherit_pii() {
        let rows = field_rows(&bundle(), "id");
        let paths: Vec<&str> = rows.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths[..4],
            ["id", "who", "who.salutation", "at"],
            "{paths:?}"
        );
        let who = &rows[1];
        assert_eq!(who.ty, "Person (object)");
        assert_eq!(who.description, "The person.");
        assert!(who.pii && who.required);
        let sal = &rows[2];
        assert!(sal.pii, "inherited from `who`");
        assert_eq!(sal.enum_values[0].label.as_deref(), Some("Herr"));
        assert_eq!(sal.enum_values[1].label, None);
        assert!(!rows[0].pii);
        assert_eq!(rows[0].constraints, ["x >= 1"]);
        assert!(paths.contains(&"at[kind=a].x") && paths.contains(&"at[kind=b].y"));
        let kinds: Vec<_> = paths
            .iter()
            .filter(|p| p.starts_with("at[kind=a]"))
            .collect();
        assert_eq!(*kinds[0], "at[kind=a].kind", "discriminator first");
        assert_eq!(
            rows.iter().find(|r| r.path == "at").unwrap().ty,
            "one of: kind=a | kind=b"
        );
        let note = rows.iter().find(|r| r.path == "note").unwrap();
        assert_eq!(note.constraints, ["length <= 10"]);
        // The recursive `self` reference terminates.
        assert!(rows.len() < 200, "{}", rows.len());
    }
}
