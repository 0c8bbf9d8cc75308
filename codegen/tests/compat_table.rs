//! The compatibility table: schema pairs written from the semantics in issue 5, each with the
//! expected verdict and rule ids for BACKWARD and FORWARD (FULL is derived: the worse verdict
//! and the union of ids) under the strict policy, plus lenient expectations where the policy
//! matters. Every incompatible finding must carry a counterexample that `jsonschema` accepts
//! under exactly one of the two schemas.

use pmp_event_codegen::compat::{compare, DocStore, Level, Policy, Report, Side, Source, Verdict};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Clone, Debug)]
enum E {
    Ok,
    Bad(&'static [&'static str]),
    Unk(&'static [&'static str]),
}
use E::{Bad, Ok as OK, Unk};

struct Case {
    name: &'static str,
    old: Value,
    new: Value,
    back: E,
    fwd: E,
    lenient: Option<(E, E)>,
    files_old: Vec<(&'static str, Value)>,
    files_new: Vec<(&'static str, Value)>,
}

macro_rules! case {
    ($name:literal, $old:tt => $new:tt, $b:expr, $f:expr) => {
        Case {
            name: $name,
            old: json!($old),
            new: json!($new),
            back: $b,
            fwd: $f,
            lenient: None,
            files_old: vec![],
            files_new: vec![],
        }
    };
    ($name:literal, $old:tt => $new:tt, $b:expr, $f:expr, lenient: $lb:expr, $lf:expr) => {
        Case {
            name: $name,
            old: json!($old),
            new: json!($new),
            back: $b,
            fwd: $f,
            lenient: Some(($lb, $lf)),
            files_old: vec![],
            files_new: vec![],
        }
    };
}

const D7: &str = "http://json-schema.org/draft-07/schema#";

fn cases() -> Vec<Case> {
    let kind = |k: &str, extra: Value| {
        let mut props = json!({"kind": {"const": k}});
        let mut req = vec![json!("kind")];
        if let Value::Object(m) = &extra {
            for (name, s) in m {
                props[name] = s.clone();
                req.push(json!(name));
            }
        }
        json!({"type": "object", "additionalProperties": false, "required": req, "properties": props})
    };
    let addr = kind("address", json!({"address": {"type": "string"}}));
    let point = kind(
        "point",
        json!({"point": {"type": "array", "items": {"type": "number"}}}),
    );
    let query = kind("query", json!({"query": {"type": "string"}}));
    let tree = |extra_required: bool| {
        let mut node = json!({"type": "object", "additionalProperties": false,
            "properties": {"label": {"type": "string"}, "id": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
            "required": ["label"]});
        if extra_required {
            node["required"] = json!(["label", "id"]);
        }
        json!({"$ref": "#/$defs/node", "$defs": {"node": node}})
    };
    let mut v = vec![
        // ---- type -------------------------------------------------------------------------
        case!("integer -> number widens", {"type": "integer"} => {"type": "number"}, OK, Bad(&["type-widened"])),
        case!("number -> integer narrows", {"type": "number"} => {"type": "integer"}, Bad(&["type-narrowed"]), OK),
        case!("string -> nullable string", {"type": "string"} => {"type": ["string", "null"]}, OK, Bad(&["type-widened"])),
        case!("nullable string -> string", {"type": ["string", "null"]} => {"type": "string"}, Bad(&["type-narrowed"]), OK),
        case!("string -> integer", {"type": "string"} => {"type": "integer"}, Bad(&["type-narrowed"]), Bad(&["type-widened"])),
        case!("untyped -> string", {} => {"type": "string"}, Bad(&["type-narrowed"]), OK),
        case!("type array -> anyOf of types", {"type": ["string", "integer"]} => {"anyOf": [{"type": "string"}, {"type": "integer"}]}, OK, OK),
        case!("boolean -> nullable boolean", {"type": "boolean"} => {"type": ["boolean", "null"]}, OK, Bad(&["type-widened"])),
        case!("object -> array", {"type": "object"} => {"type": "array"}, Bad(&["type-narrowed"]), Bad(&["type-widened"])),
        case!("unchanged string", {"type": "string", "description": "a"} => {"type": "string", "description": "b"}, OK, OK),
        case!("number(min 0.5) -> integer(min 1)", {"type": "number", "minimum": 0.5} => {"type": "integer", "minimum": 1}, Bad(&["type-narrowed"]), OK),
        case!("true schema -> object", true => {"type": "object"}, Bad(&["type-narrowed"]), OK),
        case!("schema -> false", {} => false, Bad(&["schema-false-added"]), OK),
        // ---- enum / const ---------------------------------------------------------------------
        case!("enum value added", {"enum": ["a", "b"]} => {"enum": ["a", "b", "c"]}, OK, Bad(&["enum-value-added"])),
        case!("enum value removed", {"enum": ["a", "b", "c"]} => {"enum": ["a", "b"]}, Bad(&["enum-value-removed"]), OK),
        case!("const changed", {"const": "a"} => {"const": "b"}, Bad(&["const-changed"]), Bad(&["const-changed"])),
        case!("enum added to string", {"type": "string"} => {"type": "string", "enum": ["a"]}, Bad(&["enum-added"]), OK),
        case!("enum removed", {"type": "string", "enum": ["a"]} => {"type": "string"}, OK, Bad(&["enum-removed"])),
        case!("enum reordered", {"enum": ["a", "b"]} => {"enum": ["b", "a"]}, OK, OK),
        case!("enum value rejected by maximum", {"type": "integer", "enum": [1, 2]} => {"type": "integer", "maximum": 1}, Bad(&["enum-value-rejected"]), Bad(&["enum-removed"])),
        case!("const -> enum superset", {"const": "x"} => {"enum": ["x", "y"]}, OK, Bad(&["enum-value-added"])),
        case!("boolean -> enum [true]", {"type": "boolean"} => {"enum": [true]}, Bad(&["enum-added"]), OK),
        case!("enum 1.0 == 1", {"enum": [1.0]} => {"enum": [1]}, OK, OK),
        case!("enum of objects", {"enum": [{"a": 1}]} => {"enum": [{"a": 1}, {"a": 2}]}, OK, Bad(&["enum-value-added"])),
        // ---- strings ----------------------------------------------------------------------------
        case!("maxLength decreased", {"type": "string", "maxLength": 10} => {"type": "string", "maxLength": 5}, Bad(&["max-length-decreased"]), OK),
        case!("maxLength increased", {"type": "string", "maxLength": 5} => {"type": "string", "maxLength": 10}, OK, Bad(&["max-length-increased"])),
        case!("maxLength added", {"type": "string"} => {"type": "string", "maxLength": 5}, Bad(&["max-length-decreased"]), OK),
        case!("minLength increased", {"type": "string", "minLength": 1} => {"type": "string", "minLength": 3}, Bad(&["min-length-increased"]), OK),
        case!("minLength decreased", {"type": "string", "minLength": 3} => {"type": "string", "minLength": 1}, OK, Bad(&["min-length-decreased"])),
        case!("pattern narrowed", {"type": "string", "pattern": "^[a-z]+$"} => {"type": "string", "pattern": "^[a-z]{1,3}$"}, Bad(&["pattern-changed"]), OK),
        case!("pattern widened", {"type": "string", "pattern": "^[a-z]+$"} => {"type": "string", "pattern": "^[a-z0-9]+$"}, OK, Bad(&["pattern-changed"])),
        case!("pattern added", {"type": "string"} => {"type": "string", "pattern": "^[0-9]+$"}, Bad(&["pattern-added"]), OK),
        case!("pattern removed", {"type": "string", "pattern": "^[0-9]+$"} => {"type": "string"}, OK, Bad(&["pattern-removed"])),
        case!("pattern undecidable", {"type": "string", "pattern": "^a+$"} => {"type": "string", "pattern": "^(aa)*a?$"}, Unk(&["pattern-changed"]), Bad(&["pattern-changed"])),
        case!("pattern rewritten equivalently", {"type": "string", "pattern": "^[a-c]+$"} => {"type": "string", "pattern": "^(a|b|c)+$"}, OK, OK),
        // Lookahead is ECMA-only: the checker asks the validator, so it finds "" (rejected by new).
        case!("pattern with lookahead", {"type": "string"} => {"type": "string", "pattern": "^(?=a)"}, Bad(&["pattern-added"]), OK),
        case!("format added", {"type": "string"} => {"type": "string", "format": "email"}, Bad(&["format-added"]), OK),
        case!("format changed", {"type": "string", "format": "date"} => {"type": "string", "format": "date-time"}, Bad(&["format-changed"]), Bad(&["format-changed"])),
        case!("format removed", {"type": "string", "format": "email"} => {"type": "string"}, OK, Bad(&["format-removed"])),
        case!("nullable string maxLength decreased", {"type": ["string", "null"], "maxLength": 5} => {"type": ["string", "null"], "maxLength": 3}, Bad(&["max-length-decreased"]), OK),
        case!("string keywords on integer are inert", {"type": "integer"} => {"type": "integer", "maxLength": 1}, OK, OK),
        // ---- numbers ----------------------------------------------------------------------------
        case!("minimum increased", {"type": "integer", "minimum": 0} => {"type": "integer", "minimum": 1}, Bad(&["minimum-increased"]), OK),
        case!("minimum decreased", {"type": "integer", "minimum": 1} => {"type": "integer", "minimum": 0}, OK, Bad(&["minimum-decreased"])),
        case!("maximum decreased", {"type": "number", "maximum": 100} => {"type": "number", "maximum": 50}, Bad(&["maximum-decreased"]), OK),
        case!("maximum added", {"type": "number"} => {"type": "number", "maximum": 10}, Bad(&["maximum-decreased"]), OK),
        case!("minimum made exclusive", {"type": "number", "minimum": 0} => {"type": "number", "exclusiveMinimum": 0}, Bad(&["minimum-increased"]), OK),
        case!("integer exclusive bound equivalent", {"type": "integer", "minimum": 1} => {"type": "integer", "exclusiveMinimum": 0}, OK, OK),
        case!("exclusiveMaximum -> maximum", {"type": "number", "exclusiveMaximum": 10} => {"type": "number", "maximum": 10}, OK, Bad(&["maximum-increased"])),
        case!("multipleOf 2 -> 4", {"type": "integer", "multipleOf": 2} => {"type": "integer", "multipleOf": 4}, Bad(&["multiple-of-changed"]), OK),
        case!("multipleOf 4 -> 2", {"type": "integer", "multipleOf": 4} => {"type": "integer", "multipleOf": 2}, OK, Bad(&["multiple-of-changed"])),
        case!("integer -> number multipleOf 0.5", {"type": "integer"} => {"type": "number", "multipleOf": 0.5}, OK, Bad(&["type-widened"])),
        case!("multipleOf 0.1 -> 0.2", {"type": "number", "multipleOf": 0.1} => {"type": "number", "multipleOf": 0.2}, Bad(&["multiple-of-changed"]), OK),
        case!("range unchanged", {"type": "integer", "minimum": 5, "maximum": 10} => {"type": "integer", "maximum": 10, "minimum": 5}, OK, OK),
        case!("range shifted", {"type": "integer", "minimum": 0, "maximum": 10} => {"type": "integer", "minimum": 5, "maximum": 20}, Bad(&["minimum-increased"]), Bad(&["maximum-increased"])),
        // ---- arrays ---------------------------------------------------------------------------
        case!("maxItems decreased", {"type": "array", "maxItems": 10} => {"type": "array", "maxItems": 5}, Bad(&["max-items-decreased"]), OK),
        case!("minItems increased", {"type": "array"} => {"type": "array", "minItems": 1}, Bad(&["min-items-increased"]), OK),
        case!("minItems decreased", {"type": "array", "minItems": 2} => {"type": "array", "minItems": 1}, OK, Bad(&["min-items-decreased"])),
        case!("uniqueItems added", {"type": "array", "items": {"type": "integer"}} => {"type": "array", "items": {"type": "integer"}, "uniqueItems": true}, Bad(&["unique-items-added"]), OK),
        case!("uniqueItems removed", {"type": "array", "uniqueItems": true} => {"type": "array"}, OK, Bad(&["unique-items-removed"])),
        case!("items nullable", {"type": "array", "items": {"type": "string"}} => {"type": "array", "items": {"type": ["string", "null"]}}, OK, Bad(&["type-widened"])),
        case!("items maxLength decreased", {"type": "array", "items": {"type": "string", "maxLength": 5}} => {"type": "array", "items": {"type": "string", "maxLength": 3}}, Bad(&["max-length-decreased"]), OK),
        case!("tuple shortened", {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": false} => {"type": "array", "prefixItems": [{"type": "string"}], "items": false}, Bad(&["tuple-length-reduced"]), OK),
        case!("tuple extended", {"type": "array", "prefixItems": [{"type": "string"}], "items": false} => {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": false}, OK, Bad(&["tuple-length-extended"])),
        case!("tuple position retyped", {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]} => {"type": "array", "prefixItems": [{"type": "string"}, {"type": "string"}]}, Bad(&["type-narrowed"]), Bad(&["type-widened"])),
        case!("draft-07 items array extended", {"$schema": D7, "type": "array", "items": [{"type": "string"}], "additionalItems": false} => {"$schema": D7, "type": "array", "items": [{"type": "string"}, {"type": "integer"}], "additionalItems": false}, OK, Bad(&["tuple-length-extended"])),
        case!("draft-07 items schema retyped", {"$schema": D7, "type": "array", "items": {"type": "string"}} => {"$schema": D7, "type": "array", "items": {"type": "integer"}}, Bad(&["type-narrowed"]), Bad(&["type-widened"])),
        case!("array items moved to $defs", {"type": "array", "items": {"type": "string", "maxLength": 3}} => {"type": "array", "items": {"$ref": "#/$defs/code"}, "$defs": {"code": {"type": "string", "maxLength": 3}}}, OK, OK),
        case!("maxItems bounds tuple", {"type": "array", "items": {"type": "string"}, "maxItems": 1} => {"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "integer"}}, OK, Bad(&["max-items-increased", "type-widened"])),
        // ---- objects: content models -------------------------------------------------------
        case!("closed: optional property added", {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}}} => {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}, OK, Bad(&["property-added-closed"])),
        case!("closed: property removed", {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}, "b": {"type": "string"}}} => {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}}}, Bad(&["property-removed-closed"]), OK),
        case!("open: optional property added", {"type": "object", "properties": {"a": {"type": "string"}}} => {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}, Bad(&["property-added-open"]), OK, lenient: OK, OK),
        case!("open: property removed", {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}} => {"type": "object", "properties": {"a": {"type": "string"}}}, OK, Bad(&["property-removed-open"]), lenient: OK, OK),
        case!("open -> closed", {"type": "object", "properties": {"a": {"type": "string"}}} => {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}}}, Bad(&["content-model-closed"]), OK, lenient: OK, OK),
        case!("closed -> open", {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}}} => {"type": "object", "properties": {"a": {"type": "string"}}}, OK, Bad(&["content-model-opened"]), lenient: OK, OK),
        case!("open: added property typed {} is free", {"type": "object", "properties": {"a": {"type": "string"}}} => {"type": "object", "properties": {"a": {"type": "string"}, "b": {"description": "anything"}}}, OK, OK),
        case!("map value narrowed", {"type": "object", "additionalProperties": {"type": "string"}} => {"type": "object", "additionalProperties": {"type": "integer"}}, Bad(&["type-narrowed"]), Bad(&["type-widened"])),
        case!("map closed", {"type": "object", "additionalProperties": {"type": "string"}} => {"type": "object", "additionalProperties": false}, Bad(&["content-model-closed"]), OK),
        case!("map value maxLength", {"type": "object", "additionalProperties": {"type": "string", "maxLength": 9}} => {"type": "object", "additionalProperties": {"type": "string", "maxLength": 4}}, Bad(&["max-length-decreased"]), OK),
        case!("patternProperties retyped", {"type": "object", "patternProperties": {"^x_": {"type": "string"}}, "additionalProperties": false} => {"type": "object", "patternProperties": {"^x_": {"type": "integer"}}, "additionalProperties": false}, Bad(&["type-narrowed"]), Bad(&["type-widened"])),
        case!("patternProperties removed", {"type": "object", "patternProperties": {"^x_": {"type": "string"}}, "additionalProperties": false} => {"type": "object", "additionalProperties": false}, Bad(&["pattern-property-removed"]), OK),
        case!("patternProperties added to open", {"type": "object"} => {"type": "object", "patternProperties": {"^x_": {"type": "string"}}}, Bad(&["pattern-property-removed"]), OK, lenient: OK, OK),
        case!("unevaluatedProperties false added", {"type": "object", "properties": {"a": {"type": "string"}}} => {"type": "object", "properties": {"a": {"type": "string"}}, "unevaluatedProperties": false}, Bad(&["content-model-closed"]), OK, lenient: OK, OK),
        case!("unevaluatedProperties with allOf gains property", {"allOf": [{"properties": {"a": {"type": "string"}}}, {"properties": {"b": {"type": "string"}}}], "unevaluatedProperties": false} => {"allOf": [{"properties": {"a": {"type": "string"}}}, {"properties": {"b": {"type": "string"}, "c": {"type": "string"}}}], "unevaluatedProperties": false}, OK, Bad(&["property-added-closed"])),
        case!("property schema true -> false", {"type": "object", "properties": {"a": true}} => {"type": "object", "properties": {"a": false}}, Bad(&["property-removed-closed"]), OK),
        case!("nested property retyped", {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}}}}} => {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "integer"}}}}}, Bad(&["type-narrowed"]), Bad(&["type-widened"])),
        case!("nested closed property removed", {"type": "object", "properties": {"a": {"type": "object", "additionalProperties": false, "properties": {"b": {"type": "string"}, "c": {"type": "string"}}}}} => {"type": "object", "properties": {"a": {"type": "object", "additionalProperties": false, "properties": {"b": {"type": "string"}}}}}, Bad(&["property-removed-closed"]), OK),
        // ---- objects: required and sizes -------------------------------------------------------
        case!("required added", {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a"]} => {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a", "b"]}, Bad(&["required-added"]), OK),
        case!("required removed", {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a", "b"]} => {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a"]}, OK, Bad(&["required-removed"])),
        case!("required added with default", {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}, "b": {"type": "string", "default": "x"}}} => {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}, "b": {"type": "string", "default": "x"}}, "required": ["b"]}, Bad(&["required-added-with-default"]), OK),
        case!("new required property on closed object", {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}}, "required": ["a"]} => {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a", "b"]}, Bad(&["required-added"]), Bad(&["property-added-closed"])),
        case!("required undeclared on open object", {"type": "object", "properties": {"a": {"type": "string"}}} => {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]}, Bad(&["required-added"]), OK),
        case!("minProperties increased", {"type": "object"} => {"type": "object", "minProperties": 1}, Bad(&["min-properties-increased"]), OK),
        // Issue 11: easy cases that came back unknown.
        case!("minProperties raised on an object without declared properties", {"type": "object", "minProperties": 1} => {"type": "object", "minProperties": 2}, Bad(&["min-properties-increased"]), OK,
            // Lenient: such an object would need undeclared properties, which producers never emit.
            lenient: Unk(&["min-properties-increased"]), OK),
        case!("maxProperties lowered on an open object", {"type": "object", "properties": {"a": {"type": "integer"}}} => {"type": "object", "properties": {"a": {"type": "integer"}}, "maxProperties": 1}, Bad(&["max-properties-decreased"]), OK, lenient: OK, OK),
        case!("maxProperties below the declared properties (lenient too)", {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}} => {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "maxProperties": 1}, Bad(&["max-properties-decreased"]), OK, lenient: Bad(&["max-properties-decreased"]), OK),
        case!("extra prefixItems entry equal to unevaluatedItems", {"type": "array", "prefixItems": [{"type": "string"}], "unevaluatedItems": {"type": "integer"}} => {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "unevaluatedItems": {"type": "integer"}}, OK, OK),
        case!("prefixItems shortened under unevaluatedItems false", {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}, {"type": "number"}], "unevaluatedItems": false} => {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}], "unevaluatedItems": false}, Bad(&["tuple-length-reduced"]), OK),
        case!("minContains raised", {"type": "array", "contains": {"type": "integer"}} => {"type": "array", "contains": {"type": "integer"}, "minContains": 2}, Bad(&["min-contains-increased"]), OK),
        case!("maxContains lowered", {"type": "array", "contains": {"type": "integer"}, "maxContains": 3} => {"type": "array", "contains": {"type": "integer"}, "maxContains": 1}, Bad(&["max-contains-decreased"]), OK),
        case!("minContains zero adds nothing", {"type": "array"} => {"type": "array", "contains": {"type": "integer"}, "minContains": 0}, OK, OK),
        case!("contains schema changed", {"type": "array", "contains": {"type": "integer"}} => {"type": "array", "contains": {"type": "string"}}, Unk(&["keyword-unsupported"]), Unk(&["keyword-unsupported"])),
        // A key like "ab" matches both patterns: one sample per pattern never tries it.
        case!("overlapping patternProperties patterns", {"type": "object", "patternProperties": {"^a": {"type": "string"}}, "additionalProperties": false} => {"type": "object", "patternProperties": {"b$": {"type": "integer"}}}, Unk(&["pattern-property-removed"]), Bad(&["content-model-opened", "pattern-property-added"]),
            lenient: Unk(&["pattern-property-removed"]), Bad(&["pattern-property-added"])),
        case!("maxProperties decreased", {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}, "c": {"type": "integer"}}, "maxProperties": 5} => {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}, "c": {"type": "integer"}}, "maxProperties": 2}, Bad(&["max-properties-decreased"]), OK),
        case!("dependentRequired added", {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}} => {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "dependentRequired": {"a": ["b"]}}, Bad(&["dependent-required-added"]), OK),
        case!("dependentRequired removed", {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "dependentRequired": {"a": ["b"]}} => {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}, OK, Bad(&["dependent-required-removed"])),
        case!("draft-07 dependencies array added", {"$schema": D7, "type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}} => {"$schema": D7, "type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "dependencies": {"a": ["b"]}}, Bad(&["dependent-required-added"]), OK),
        case!("dependentSchemas added", {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}, "b": {"type": "string"}}} => {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "dependentSchemas": {"a": {"required": ["b"]}}}, Bad(&["required-added"]), OK),
        case!("draft-07 dependencies schema added", {"$schema": D7, "type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}} => {"$schema": D7, "type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "dependencies": {"a": {"properties": {"b": {"minimum": 1}}}}}, Bad(&["minimum-increased"]), OK),
        case!("dependentSchemas unchanged", {"type": "object", "properties": {"a": {"type": "string"}}, "dependentSchemas": {"a": {"required": ["b"]}}} => {"type": "object", "properties": {"a": {"type": "string"}}, "dependentSchemas": {"a": {"required": ["b"]}}}, OK, OK),
        // ---- composition -------------------------------------------------------------------------
        case!("oneOf branches reordered", {"oneOf": [addr.clone(), point.clone()]} => {"oneOf": [point.clone(), addr.clone()]}, OK, OK),
        case!("oneOf branch removed", {"oneOf": [addr.clone(), point.clone(), query.clone()]} => {"oneOf": [addr.clone(), point.clone()]}, Bad(&["branch-removed"]), OK),
        case!("oneOf branch added", {"oneOf": [addr.clone(), point.clone()]} => {"oneOf": [addr.clone(), point.clone(), query.clone()]}, OK, Bad(&["branch-added"])),
        case!("oneOf branch narrowed", {"oneOf": [addr.clone(), query.clone()]} => {"oneOf": [addr.clone(), kind("query", json!({"query": {"type": "string", "maxLength": 3}}))]}, Bad(&["max-length-decreased"]), OK),
        case!("oneOf branch retyped (undiscriminated)", {"oneOf": [{"type": "string"}, {"type": "integer"}]} => {"oneOf": [{"type": "string"}, {"type": "boolean"}]}, Bad(&["branch-removed"]), Bad(&["branch-added"])),
        case!("anyOf branch removed", {"anyOf": [{"type": "string"}, {"type": "integer"}]} => {"anyOf": [{"type": "string"}]}, Bad(&["branch-removed"]), OK),
        case!("anyOf -> type array", {"anyOf": [{"type": "string"}, {"type": "integer"}]} => {"type": ["string", "integer"]}, OK, OK),
        case!("allOf flattened", {"allOf": [{"type": "string", "minLength": 1}, {"maxLength": 5}]} => {"type": "string", "minLength": 1, "maxLength": 5}, OK, OK),
        case!("allOf member added", {"allOf": [{"type": "string", "minLength": 1}]} => {"allOf": [{"type": "string", "minLength": 1}, {"maxLength": 5}]}, Bad(&["max-length-decreased"]), OK),
        case!("not added", {"type": "string"} => {"type": "string", "not": {"const": "x"}}, Bad(&["not-changed"]), OK),
        case!("not unchanged", {"type": "string", "not": {"const": "x"}} => {"type": "string", "not": {"const": "x"}}, OK, OK),
        case!("not widened", {"type": "string", "not": {"enum": ["x", "y"]}} => {"type": "string", "not": {"const": "x"}}, OK, Bad(&["not-changed"])),
        case!("not disjoint from type", {"type": "string"} => {"type": "string", "not": {"type": "integer"}}, OK, OK),
        case!("oneOf overlapping branch added", {"type": "string"} => {"oneOf": [{"type": "string"}, {"maxLength": 5}]}, Bad(&["oneof-overlap"]), Bad(&["type-widened"])),
        case!("discriminated branch property narrowed", {"oneOf": [addr.clone(), point.clone()]} => {"oneOf": [kind("address", json!({"address": {"type": "string", "maxLength": 9}})), point.clone()]}, Bad(&["max-length-decreased"]), OK),
        case!("oneOf of required-only branches with new optional property", {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "oneOf": [{"required": ["a"]}, {"required": ["b"]}]} => {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "string"}}, "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}, OK, Bad(&["property-added-closed"])),
        case!("nullable via oneOf -> plain", {"oneOf": [{"type": "null"}, {"type": "string"}]} => {"type": "string"}, Bad(&["type-narrowed"]), OK),
        // ---- $ref ----------------------------------------------------------------------------------
        case!("inline -> $defs", {"type": "object", "properties": {"n": {"type": "string", "maxLength": 5}}} => {"type": "object", "properties": {"n": {"$ref": "#/$defs/name"}}, "$defs": {"name": {"type": "string", "maxLength": 5}}}, OK, OK),
        case!("$defs target narrowed", {"type": "object", "properties": {"n": {"$ref": "#/$defs/name"}}, "$defs": {"name": {"type": "string", "maxLength": 5}}} => {"type": "object", "properties": {"n": {"$ref": "#/$defs/name"}}, "$defs": {"name": {"type": "string", "maxLength": 3}}}, Bad(&["max-length-decreased"]), OK),
        case!("recursive schema unchanged", (tree(false)) => (tree(false)), OK, OK),
        case!("recursive schema gains required", (tree(false)) => (tree(true)), Bad(&["required-added"]), OK),
        case!("draft-07 definitions moved", {"$schema": D7, "type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}} => {"$schema": D7, "type": "object", "properties": {"n": {"$ref": "#/definitions/count"}}, "definitions": {"count": {"type": "integer", "minimum": 0}}}, OK, OK),
        case!("draft-07 $ref ignores siblings", {"$schema": D7, "properties": {"n": {"$ref": "#/definitions/s", "maxLength": 1}}, "definitions": {"s": {"type": "string"}}} => {"$schema": D7, "properties": {"n": {"type": "string"}}}, OK, OK),
        case!("2020-12 $ref siblings apply", {"properties": {"n": {"$ref": "#/$defs/s", "maxLength": 1}}, "$defs": {"s": {"type": "string"}}} => {"properties": {"n": {"type": "string"}}}, OK, Bad(&["max-length-increased"])),
        case!("$ref with annotations beside it", {"properties": {"n": {"type": "string"}}} => {"properties": {"n": {"$ref": "#/$defs/s", "description": "x", "x-pii": true}}, "$defs": {"s": {"type": "string"}}}, OK, OK),
        case!("$anchor reference", {"properties": {"n": {"type": "string"}}} => {"properties": {"n": {"$ref": "#name"}}, "$defs": {"s": {"$anchor": "name", "type": "string"}}}, OK, OK),
        case!("embedded $id resource", {"properties": {"n": {"type": "integer"}}} => {"$id": "https://x.example/root.json", "properties": {"n": {"$ref": "https://x.example/n.json"}}, "$defs": {"n": {"$id": "https://x.example/n.json", "type": "integer", "maximum": 3}}}, Bad(&["maximum-decreased"]), OK),
        case!("bare $ref loop constrains nothing", {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"} => {"type": "string"}, Bad(&["type-narrowed"]), OK),
        // ---- unknown -------------------------------------------------------------------------------
        case!("if/then added", {"type": "object"} => {"type": "object", "if": {"required": ["a"]}, "then": {"required": ["b"]}}, Unk(&["keyword-unsupported"]), OK),
        case!("contains changed", {"type": "array", "contains": {"type": "string"}} => {"type": "array", "contains": {"type": "integer"}}, Unk(&["keyword-unsupported"]), Unk(&["keyword-unsupported"])),
        case!("contains unchanged", {"type": "array", "contains": {"type": "string"}} => {"type": "array", "contains": {"type": "string"}}, OK, OK),
        case!("propertyNames added", {"type": "object"} => {"type": "object", "propertyNames": {"maxLength": 3}}, Unk(&["keyword-unsupported"]), OK),
    ];
    // Relative file references (the catalog's layout), old and new with their own common file.
    let root = |file: &str| {
        json!({"$id": "https://pmp.example/schemas/events/x/v1.json", "type": "object", "additionalProperties": false,
        "properties": {"name": {"$ref": file, "x-pii": true}}, "required": ["name"]})
    };
    let name = |max: u64| json!({"$id": "https://pmp.example/schemas/common/name.json", "type": "string", "maxLength": max});
    v.push(Case {
        name: "relative file ref: common definition narrowed",
        old: root("../../common/name.json"),
        new: root("../../common/name.json"),
        back: Bad(&["max-length-decreased"]),
        fwd: OK,
        lenient: None,
        files_old: vec![("common/name.json", name(50))],
        files_new: vec![("common/name.json", name(20))],
    });
    v.push(Case {
        name: "relative file ref: unchanged",
        old: root("../../common/name.json"),
        new: root("../../common/name.json"),
        back: OK,
        fwd: OK,
        lenient: None,
        files_old: vec![("common/name.json", name(50))],
        files_new: vec![("common/name.json", name(50))],
    });
    v.push(Case {
        name: "absolute $id ref vs relative ref",
        old: root("https://pmp.example/schemas/common/name.json"),
        new: root("../../common/name.json"),
        back: OK,
        fwd: OK,
        lenient: None,
        files_old: vec![("common/name.json", name(50))],
        files_new: vec![("common/name.json", name(50))],
    });
    v.push(Case { name: "relative file ref: inlined", old: root("../../common/name.json"), new: json!({"type": "object", "additionalProperties": false, "properties": {"name": {"type": "string", "maxLength": 50}}, "required": ["name"]}), back: OK, fwd: OK, lenient: None,
        files_old: vec![("common/name.json", name(50))], files_new: vec![] });
    v
}

fn store(main: &Value, files: &[(&str, Value)]) -> (DocStore, usize) {
    let mut mem = BTreeMap::new();
    for (p, v) in files {
        mem.insert(
            PathBuf::from(format!("schemas/{p}")),
            serde_json::to_string_pretty(v).unwrap(),
        );
    }
    let mut s = DocStore::new(Source::Memory(mem));
    let id = s
        .add_text(
            &PathBuf::from("schemas/events/x/v1.json"),
            &serde_json::to_string_pretty(main).unwrap(),
        )
        .unwrap();
    (s, id)
}

fn check(c: &Case, level: Level, policy: Policy) -> Report {
    let (so, o) = store(&c.old, &c.files_old);
    let (sn, n) = store(&c.new, &c.files_new);
    compare(&so, o, &sn, n, level, policy).unwrap_or_else(|e| panic!("{}: {e}", c.name))
}

fn expect_of(e: &E) -> (Verdict, Vec<&'static str>) {
    match e {
        E::Ok => (Verdict::Compatible, vec![]),
        E::Bad(ids) => (Verdict::Incompatible, ids.to_vec()),
        E::Unk(ids) => (Verdict::Unknown, ids.to_vec()),
    }
}

/// Re-validates every counterexample independently of the checker.
fn counterexamples_separate(c: &Case, r: &Report) -> Result<(), String> {
    for f in &r.findings {
        match (&f.verdict, &f.counterexample) {
            (Verdict::Incompatible, Some(cx)) => {
                let valid = |schema: &Value, files: &[(&str, Value)]| {
                    let mut reg = jsonschema::Registry::new();
                    for (p, v) in files {
                        reg = reg
                            .add(format!("https://pmp.example/schemas/{p}"), v)
                            .unwrap();
                    }
                    let reg = reg.prepare().unwrap();
                    jsonschema::options()
                        .with_registry(&reg)
                        .should_validate_formats(true)
                        .with_base_uri("file:///schemas/events/x/v1.json")
                        .build(schema)
                        .unwrap()
                        .is_valid(&cx.document)
                };
                let (vo, vn) = (valid(&c.old, &c.files_old), valid(&c.new, &c.files_new));
                let ok = match cx.valid_under {
                    Side::Old => vo && !vn,
                    Side::New => vn && !vo,
                };
                if !ok {
                    return Err(format!(
                        "counterexample {} does not separate (old {vo}, new {vn})",
                        cx.document
                    ));
                }
            }
            (Verdict::Incompatible, None) => {
                return Err(format!("{} has no counterexample", f.rule))
            }
            (_, Some(_)) => {
                return Err(format!(
                    "{} is {:?} but carries a counterexample",
                    f.rule, f.verdict
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

#[test]
fn compatibility_table() {
    let cases = cases();
    assert!(
        cases.len() >= 100,
        "the table must hold at least 100 pairs, has {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for c in &cases {
        for policy in [Policy::Strict, Policy::Lenient] {
            let (b, f) = match (&c.lenient, policy) {
                (Some((lb, lf)), Policy::Lenient) => (lb.clone(), lf.clone()),
                _ => (c.back.clone(), c.fwd.clone()),
            };
            let (bv, bids) = expect_of(&b);
            let (fv, fids) = expect_of(&f);
            let mut full_ids: Vec<&str> = bids.iter().chain(fids.iter()).copied().collect();
            full_ids.sort_unstable();
            full_ids.dedup();
            for (level, want_v, mut want_ids) in [
                (Level::Backward, bv, bids.clone()),
                (Level::Forward, fv, fids.clone()),
                (Level::Full, bv.max(fv), full_ids),
            ] {
                want_ids.sort_unstable();
                let r = check(c, level, policy);
                if r.verdict != want_v || r.rule_ids() != want_ids {
                    let detail: Vec<String> = r
                        .findings
                        .iter()
                        .map(|f| format!("{} [{:?}] {}", f.rule, f.verdict, f.message))
                        .collect();
                    failures.push(format!(
                        "{} / {:?} / {:?}: want {:?} {:?}, got {:?} {:?}\n      {}",
                        c.name,
                        level,
                        policy,
                        want_v,
                        want_ids,
                        r.verdict,
                        r.rule_ids(),
                        detail.join("\n      ")
                    ));
                }
                if let Err(e) = counterexamples_separate(c, &r) {
                    failures.push(format!("{} / {:?} / {:?}: {e}", c.name, level, policy));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing expectations:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn findings_carry_locations_in_both_files() {
    let old = json!({"type": "object", "properties": {"a": {"type": "string", "maxLength": 10}}});
    let new = json!({"type": "object", "properties": {"a": {"type": "string", "maxLength": 5}}});
    let (so, o) = store(&old, &[]);
    let (sn, n) = store(&new, &[]);
    let r = compare(&so, o, &sn, n, Level::Backward, Policy::Strict).unwrap();
    assert_eq!(r.findings.len(), 1);
    let f = &r.findings[0];
    assert_eq!(f.rule, "max-length-decreased");
    assert_eq!(f.old.pointer, "/properties/a/maxLength");
    assert_eq!(f.new.pointer, "/properties/a/maxLength");
    // serde_json pretty printing: root `{` line 1, "properties" line 2, "a" line 3, keys below.
    assert!(f.new.line > 3, "line {}", f.new.line);
    let cx = f.counterexample.as_ref().unwrap();
    assert_eq!(cx.valid_under, Side::Old);
    assert!(cx.document["a"].as_str().unwrap().chars().count() > 5);
}
