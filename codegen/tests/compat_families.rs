//! One test per keyword family for the rules its module docs state and the compatibility
//! table (`compat_table.rs`) does not already pin down: each pair is compared BACKWARD and
//! FORWARD under one policy, and the verdict and rule ids of each direction are asserted.
//! Every counterexample reported is re-validated with `jsonschema` here.

use pmp_event_codegen::compat::{compare, DocStore, Level, Policy, Report, Side, Source, Verdict};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

fn store(v: &Value) -> (DocStore, usize) {
    let mut s = DocStore::new(Source::Memory(BTreeMap::new()));
    let id = s
        .add_text(
            Path::new("schemas/x.json"),
            &serde_json::to_string_pretty(v).unwrap(),
        )
        .unwrap();
    (s, id)
}

fn report(old: &Value, new: &Value, level: Level, policy: Policy) -> Report {
    let ((so, o), (sn, n)) = (store(old), store(new));
    let r = compare(&so, o, &sn, n, level, policy).unwrap();
    for f in &r.findings {
        if let Some(cx) = &f.counterexample {
            let valid = |s: &Value| jsonschema::validator_for(s).unwrap().is_valid(&cx.document);
            let (under, other) = match cx.valid_under {
                Side::Old => (old, new),
                Side::New => (new, old),
            };
            assert!(
                valid(under) && !valid(other),
                "{}: counterexample {} does not separate",
                f.rule,
                cx.document
            );
        }
    }
    r
}

/// Asserts the verdict and rule ids of both directions.
fn assert_pair(
    name: &str,
    old: Value,
    new: Value,
    policy: Policy,
    backward: (Verdict, &[&str]),
    forward: (Verdict, &[&str]),
) {
    for (level, (verdict, ids)) in [(Level::Backward, backward), (Level::Forward, forward)] {
        let r = report(&old, &new, level, policy);
        assert_eq!(
            (r.verdict, r.rule_ids()),
            (verdict, ids.to_vec()),
            "{name} ({level:?}, {policy:?}): {:#?}",
            r.findings
        );
    }
}

use Verdict::{Compatible as OK, Incompatible as BAD, Unknown as UNK};

#[test]
fn types_enums_annotations_and_key_order_do_not_matter() {
    assert_pair(
        "annotations differ",
        json!({"type": "string", "description": "a", "enum": ["x", "y"]}),
        json!({"title": "T", "examples": ["y"], "enum": ["y", "x"], "type": "string", "x-pii": true}),
        Policy::Strict,
        (OK, &[]),
        (OK, &[]),
    );
    // An enum of strings that look like other JSON types is still an enum of strings: `null`
    // added is a new type.
    assert_pair(
        "string enum vs null",
        json!({"enum": ["null", "1", "[1]"]}),
        json!({"enum": ["null", "1", "[1]", null]}),
        Policy::Strict,
        (OK, &[]),
        (BAD, &["type-widened"]),
    );
}

#[test]
fn strings_pattern_implied_by_a_narrower_pattern() {
    assert_pair(
        "pattern widened to a superset",
        json!({"type": "string", "pattern": "^[a-z]+$"}),
        json!({"type": "string", "pattern": "^[a-z0-9]+$"}),
        Policy::Strict,
        (OK, &[]),
        (BAD, &["pattern-changed"]),
    );
}

#[test]
fn formats_apply_to_strings_only_and_compare_by_name() {
    assert_pair(
        "format on an integer is inert",
        json!({"type": "integer", "format": "email"}),
        json!({"type": "integer"}),
        Policy::Strict,
        (OK, &[]),
        (OK, &[]),
    );
    assert_pair(
        "same format, length lowered",
        json!({"type": "string", "format": "email", "maxLength": 40}),
        json!({"type": "string", "format": "email", "maxLength": 20}),
        Policy::Strict,
        (BAD, &["max-length-decreased"]),
        (OK, &[]),
    );
}

#[test]
fn dependencies_implied_by_required_and_skipped_for_undeclared_keys_when_lenient() {
    assert_pair(
        "dependency on an already required key",
        json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["b"]}),
        json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["b"], "dependentRequired": {"a": ["b"]}}),
        Policy::Strict,
        (OK, &[]),
        (OK, &[]),
    );
    let old = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    let new = json!({"type": "object", "properties": {"a": {"type": "string"}}, "dependentRequired": {"z": ["a"]}});
    assert_pair(
        "dependency on an undeclared key (strict)",
        old.clone(),
        new.clone(),
        Policy::Strict,
        (BAD, &["dependent-required-added"]),
        (OK, &[]),
    );
    assert_pair(
        "dependency on an undeclared key (lenient)",
        old,
        new,
        Policy::Lenient,
        (OK, &[]),
        (OK, &[]),
    );
}

#[test]
fn combinators_any_of_is_a_set_of_branches() {
    assert_pair(
        "anyOf with a repeated branch",
        json!({"anyOf": [{"type": "string"}, {"type": "integer"}]}),
        json!({"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "string"}]}),
        Policy::Strict,
        (OK, &[]),
        (OK, &[]),
    );
    // In a `oneOf`, a repeated branch rejects what it accepts.
    let r = report(
        &json!({"oneOf": [{"type": "string"}, {"type": "integer"}]}),
        &json!({"oneOf": [{"type": "string"}, {"type": "string"}, {"type": "integer"}]}),
        Level::Backward,
        Policy::Strict,
    );
    assert_eq!(r.verdict, BAD, "{:#?}", r.findings);
}

#[test]
fn unanalysed_keywords_hold_when_equal_and_are_unknown_when_changed() {
    let cond = json!({"if": {"required": ["a"]}, "then": {"required": ["b"]}});
    let with = |max: u64| {
        let mut v = json!({"type": "object", "properties": {"a": {"type": "string", "maxLength": max}, "b": {"type": "string"}}, "required": ["b"]});
        for (k, x) in cond.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    assert_pair(
        "same if/then, a property's length lowered",
        with(40),
        with(20),
        Policy::Strict,
        (BAD, &["max-length-decreased"]),
        (OK, &[]),
    );
    assert_pair(
        "propertyNames changed",
        json!({"type": "object", "propertyNames": {"maxLength": 8}}),
        json!({"type": "object", "propertyNames": {"maxLength": 4}}),
        Policy::Strict,
        (UNK, &["keyword-unsupported"]),
        (UNK, &["keyword-unsupported"]),
    );
}
