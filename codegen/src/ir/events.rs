//! The event registry of a schema directory, and the two lowering entry points.
//!
//! Directory layout (see the README): `events/<type>/vN.json` and `commands/<type>/vN.json`
//! are payload schemas; `common/**.json` are shared definitions (each becomes a type even
//! when unused, so services can use them); `envelope.json` is embedded as text; other files
//! (like `topics.json`) are only loaded for `$ref` resolution.
//!
//! A payload schema's root must be `type: object` and carry `x-kafka-topic` and
//! `x-kafka-key` (a required top-level property of integer, string, uuid or string-enum
//! type). `x-event-type` / `x-event-version`, when present, must match the path.
//! `x-compatibility` defaults to `BACKWARD_TRANSITIVE`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::lower::Lowerer;
use super::name::type_name;
use super::recursion::{box_recursive, left_recursive};
use super::{EventDef, Model, Ty, TypeDef, TypeKind};
use crate::error::Result;
use crate::schema::bundle::bundle;
use crate::schema::catalog::escape_pointer;
use crate::schema::{Catalog, Loc};

/// Schema roots whose types another crate already generated ([`crate::Config::extern_path`]).
#[derive(Debug, Clone, Default)]
pub struct Externs {
    /// Root index ([`crate::schema::Document::root`]) -> Rust path of the crate or module
    /// holding its generated types (e.g. `::pmp_events`).
    pub roots: BTreeMap<usize, String>,
    /// Event types of those roots to add to this catalog's `SCHEMAS` and `AnyEvent` (every
    /// version), e.g. `patient.created`.
    pub events: Vec<String>,
}

struct Meta {
    doc: usize,
    command: bool,
    event_type: String,
    version: u32,
}

/// Lower a whole schema directory.
pub fn lower_dir(cat: &Catalog) -> Result<Model> {
    lower_dirs(cat, &Externs::default())
}

/// Lower the schema directories of `cat` (one catalog, several roots). Types from the roots
/// in `externs` are lowered for their names but not emitted: the model lists them in
/// [`Model::extern_types`], and their events join the registry only when named in
/// [`Externs::events`].
pub fn lower_dirs(cat: &Catalog, externs: &Externs) -> Result<Model> {
    let mut metas: Vec<Meta> = Vec::new();
    for (i, doc) in cat.documents().iter().enumerate() {
        let parts: Vec<&str> = doc.rel.split('/').collect();
        let root = Loc {
            doc: i,
            pointer: String::new(),
        };
        match parts.as_slice() {
            [kind @ ("events" | "commands"), event_type, file] => {
                let version = file
                    .strip_prefix('v')
                    .and_then(|f| f.strip_suffix(".json"))
                    .and_then(|n| n.parse::<u32>().ok())
                    .filter(|n| *n >= 1);
                let Some(version) = version else {
                    return Err(cat.error(
                        &root,
                        "payload schema files must be named `vN.json` (N >= 1)",
                    ));
                };
                if let Some(other) = metas
                    .iter()
                    .find(|m| m.event_type == *event_type && m.version == version)
                {
                    return Err(cat.error(
                        &root,
                        format!(
                            "`{event_type}` v{version} is defined twice: also in {}; one schema root must own each event type",
                            cat.documents()[other.doc].path.display()
                        ),
                    ));
                }
                metas.push(Meta {
                    doc: i,
                    command: *kind == "commands",
                    event_type: (*event_type).to_owned(),
                    version,
                });
            }
            ["events" | "commands", ..] => {
                return Err(cat.error(
                    &root,
                    "payload schemas live at `events/<type>/vN.json` or `commands/<type>/vN.json`",
                ))
            }
            _ => {}
        }
    }
    let mut lw = Lowerer::new(cat);
    for m in &metas {
        let name = format!("{}V{}", type_name(&m.event_type), m.version);
        lw.root_names.insert(m.doc, name);
        lw.prefixed_defs.insert(m.doc);
    }
    let is_extern = |doc: usize| externs.roots.contains_key(&cat.documents()[doc].root);
    for wanted in &externs.events {
        if !metas
            .iter()
            .any(|m| is_extern(m.doc) && m.event_type == *wanted)
        {
            return Err(crate::error::Error::config(format!(
                "extern event {wanted:?} is in none of the extern schema roots (`extern_path`/`extern_catalog`): expected events/{wanted}/vN.json or commands/{wanted}/vN.json there"
            )));
        }
    }
    let mut events = Vec::new();
    for m in &metas {
        let mut event = lower_event(&mut lw, m)?;
        if is_extern(m.doc) {
            if !externs.events.contains(&m.event_type) {
                continue;
            }
            event.external = true;
        }
        events.push(event);
    }
    let mut lowered_docs: Vec<usize> = metas.iter().map(|m| m.doc).collect();
    for (i, doc) in cat.documents().iter().enumerate() {
        if doc.rel.starts_with("common/") {
            lw.named(&Loc {
                doc: i,
                pointer: String::new(),
            })?;
            lowered_docs.push(i);
        }
    }
    for doc in lowered_docs {
        lower_defs(&mut lw, doc)?;
    }
    let mut envelope_json = None;
    // The envelope of the first root that has one (own roots come first in the catalog).
    for (i, doc) in cat.documents().iter().enumerate() {
        if doc.rel == "envelope.json" && envelope_json.is_none() {
            let root = Loc {
                doc: i,
                pointer: String::new(),
            };
            envelope_json = Some(to_json(&bundle(cat, &root)?));
        }
    }
    events.sort_by(|a: &EventDef, b| (&a.event_type, a.version).cmp(&(&b.event_type, b.version)));
    let mut reserved: Vec<String> = vec!["AnyEvent".to_owned()];
    reserved.extend(events.iter().map(|e| format!("{}Envelope", e.type_name)));
    let mut types = finish(cat, lw.types, &reserved)?;
    let mut extern_types = BTreeMap::new();
    types.retain(
        |name, def| match externs.roots.get(&cat.documents()[def.loc.doc].root) {
            Some(path) => {
                extern_types.insert(name.clone(), path.clone());
                false
            }
            None => true,
        },
    );
    Ok(Model {
        types,
        events,
        envelope_json,
        standalone: None,
        json_schema: false,
        extern_types,
        ..Model::default()
    })
}

/// Lower one standalone schema (the catalog's first document): its root and `$defs`.
pub fn lower_standalone(cat: &Catalog) -> Result<Model> {
    let root = Loc {
        doc: 0,
        pointer: String::new(),
    };
    let mut lw = Lowerer::new(cat);
    // A standalone root is named by `x-rust-name`, else its `title`, else the file stem.
    let title = cat
        .get(&root)
        .filter(|v| v.get("x-rust-name").is_none())
        .and_then(|v| v.get("title"))
        .and_then(Value::as_str)
        .map(type_name);
    let ty = match title {
        Some(name) => lw.named_as(&root, &name)?,
        None => lw.named(&root)?,
    };
    lower_defs(&mut lw, 0)?;
    let name = match ty {
        Ty::Named(n) => n,
        _ => lw.name_for(&root)?,
    };
    let json = to_json(&bundle(cat, &root)?);
    let types = finish(cat, lw.types, &[])?;
    Ok(Model {
        types,
        events: Vec::new(),
        envelope_json: None,
        standalone: Some((name, json)),
        json_schema: false,
        ..Model::default()
    })
}

/// Names of helper items every generated file may define.
const HELPER_TYPES: &[&str] = &["UnknownEnumValue", "RedactedPii"];

/// Checks that need every type (reserved names, left-recursive unions), then boxing.
fn finish(
    cat: &Catalog,
    mut types: BTreeMap<String, TypeDef>,
    reserved: &[String],
) -> Result<BTreeMap<String, TypeDef>> {
    for name in HELPER_TYPES
        .iter()
        .copied()
        .chain(reserved.iter().map(String::as_str))
    {
        if let Some(def) = types.get(name) {
            return Err(cat.error(
                &def.loc,
                format!("type name `{name}` is reserved for an item the generator emits; rename the schema (e.g. with `x-rust-name`)"),
            ));
        }
    }
    // Every struct `T` gets a `TBuilder` (see `emit::builder`).
    for def in types.values() {
        if let TypeKind::Struct { .. } = def.kind {
            let builder = format!("{}Builder", def.name);
            if let Some(other) = types.get(&builder) {
                return Err(cat.error(
                    &other.loc,
                    format!("type name `{builder}` is reserved for the builder of `{}`; rename the schema (e.g. with `x-rust-name`)", def.name),
                ));
            }
        }
    }
    if let Some((def, cycle)) = left_recursive(&types) {
        return Err(cat.error(
            &def.loc,
            format!(
                "left-recursive schema: `{}` can contain itself at the same JSON value (through `anyOf`/`oneOf` branches, type unions or `$ref`s, with no object property or array item in between), so deserializing it would never terminate; put the recursion inside an object property or array",
                cycle.join("` -> `")
            ),
        ));
    }
    box_recursive(&mut types);
    Ok(types)
}

fn lower_defs(lw: &mut Lowerer<'_>, doc: usize) -> Result<()> {
    let root = Loc {
        doc,
        pointer: String::new(),
    };
    // Draft-07 documents keep definitions under `definitions`.
    for keyword in ["$defs", "definitions"] {
        let names: Vec<String> = lw
            .cat
            .get(&root)
            .and_then(|v| v.get(keyword))
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for name in names {
            let loc = Loc {
                doc,
                pointer: format!("/{keyword}/{}", escape_pointer(&name)),
            };
            lw.named(&loc)?;
        }
    }
    Ok(())
}

fn to_json(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn lower_event(lw: &mut Lowerer<'_>, m: &Meta) -> Result<EventDef> {
    let cat = lw.cat;
    let root = Loc {
        doc: m.doc,
        pointer: String::new(),
    };
    let map = match cat.get(&root) {
        Some(Value::Object(map)) => map,
        _ => {
            return Err(cat.error(
                &root,
                "a payload schema's root must be a JSON object with `type: object`",
            ))
        }
    };
    if map.get("type").and_then(Value::as_str) != Some("object") {
        return Err(cat.error(
            &root.child("type"),
            "a payload schema's root must have `type: object`",
        ));
    }
    let text = |key: &str| -> Result<Option<String>> {
        match map.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(_) => Err(cat.error(
                &root.child(key),
                format!("`{key}` must be a non-empty string"),
            )),
        }
    };
    if let Some(declared) = text("x-event-type")? {
        if declared != m.event_type {
            return Err(cat.error(
                &root.child("x-event-type"),
                format!(
                    "`x-event-type` {declared:?} does not match the directory name {:?}",
                    m.event_type
                ),
            ));
        }
    }
    if let Some(v) = map.get("x-event-version") {
        if v.as_u64() != Some(u64::from(m.version)) {
            return Err(cat.error(
                &root.child("x-event-version"),
                format!(
                    "`x-event-version` does not match the file name `v{}.json`",
                    m.version
                ),
            ));
        }
    }
    let topic = text("x-kafka-topic")?.ok_or_else(|| {
        cat.error(
            &root,
            "missing `x-kafka-topic` (the Kafka topic this payload is published to)",
        )
    })?;
    let key_field = text("x-kafka-key")?.ok_or_else(|| {
        cat.error(
            &root,
            "missing `x-kafka-key` (the required property used as record key)",
        )
    })?;
    let compatibility =
        text("x-compatibility")?.unwrap_or_else(|| "BACKWARD_TRANSITIVE".to_owned());
    let ty = lw.named(&root)?;
    let Ty::Named(type_name) = ty else {
        return Err(cat.error(&root, "a payload schema must describe an object"));
    };
    let key_at = root.child("x-kafka-key");
    let key_rust = match lw.types.get(&type_name).map(|d| &d.kind) {
        Some(TypeKind::Struct { fields, .. }) => {
            let Some(field) = fields.iter().find(|f| f.json_name == key_field) else {
                return Err(cat.error(
                    &key_at,
                    format!("`x-kafka-key` names {key_field:?}, which is not a property"),
                ));
            };
            if !field.required {
                return Err(cat.error(
                    &key_at,
                    format!("`x-kafka-key` property {key_field:?} must be required"),
                ));
            }
            if !keyable(lw, &field.ty) {
                return Err(cat.error(
                    &key_at,
                    format!("`x-kafka-key` property {key_field:?} must be an integer, string, uuid or string enum"),
                ));
            }
            field.rust_name.clone()
        }
        _ => {
            return Err(cat.error(
                &root,
                "a payload schema must describe an object with properties",
            ))
        }
    };
    let schema_json = to_json(&bundle(cat, &root)?);
    let doc = cat.document(&root);
    Ok(EventDef {
        event_type: m.event_type.clone(),
        version: m.version,
        command: m.command,
        topic,
        key_field,
        key_rust,
        schema_id: doc.uri.clone(),
        compatibility,
        schema_json,
        type_name,
        rel_path: doc.rel.clone(),
        external: false,
    })
}

fn keyable(lw: &Lowerer<'_>, ty: &Ty) -> bool {
    match ty {
        Ty::Int(_) | Ty::String | Ty::Uuid => true,
        Ty::Named(n) => match lw.types.get(n).map(|d| &d.kind) {
            Some(TypeKind::StringEnum(_)) => true,
            Some(TypeKind::Alias(inner)) => keyable(lw, inner),
            _ => false,
        },
        _ => false,
    }
}
