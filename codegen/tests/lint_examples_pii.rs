//! Lint rules `examples-invalid` / `examples-too-few` (every example is validated against its
//! schema, `$ref`s to `common/` included, and events need two) and `x-pii` inheritance from an
//! object marked `"x-pii": true`.

use pmp_event_codegen::lint::lint_files;
use pmp_event_codegen::lint::LintFinding;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn event(properties: Value, required: &[&str], examples: Value) -> Value {
    json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://pmp.example/schemas/events/order.paid/v1.json",
        "title": "Order paid", "description": "d", "type": "object", "additionalProperties": false,
        "x-event-type": "order.paid", "x-event-version": 1, "x-kafka-topic": "orders",
        "x-kafka-key": "order_id", "required": required, "properties": properties,
        "examples": examples})
}

fn lint(schema: &Value) -> Vec<LintFinding> {
    let common = json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://pmp.example/schemas/common/money.json", "title": "Money",
        "description": "Cents.", "type": "integer", "minimum": 0});
    let files: BTreeMap<PathBuf, String> = [
        ("topics.json", json!({"topics": [{"name": "orders"}]})),
        ("events/order.paid/v1.json", schema.clone()),
        ("common/money.json", common),
    ]
    .into_iter()
    .map(|(p, v)| {
        (
            Path::new("s").join(p),
            serde_json::to_string_pretty(&v).unwrap(),
        )
    })
    .collect();
    lint_files(Path::new("s"), &files)
}

fn rules(findings: &[LintFinding], rule: &str) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| f.pointer.clone())
        .collect()
}

fn order_properties() -> Value {
    json!({
        "order_id": {"type": "integer", "minimum": 1, "description": "id"},
        "total_cents": {"$ref": "../../common/money.json", "description": "total"},
        "paid_at": {"type": "string", "format": "date-time", "description": "when"}
    })
}

#[test]
fn valid_examples_pass() {
    let schema = event(
        order_properties(),
        &["order_id", "total_cents"],
        json!([{"order_id": 1, "total_cents": 0}, {"order_id": 2, "total_cents": 990, "paid_at": "2024-06-01T10:00:00Z"}]),
    );
    let f = lint(&schema);
    assert!(rules(&f, "examples-invalid").is_empty(), "{f:#?}");
    assert!(rules(&f, "examples-too-few").is_empty(), "{f:#?}");
}

#[test]
fn each_invalid_example_is_named_without_its_values() {
    let schema = event(
        order_properties(),
        &["order_id", "total_cents"],
        json!([
            {"order_id": 1, "total_cents": -5},                              // below the $ref'd minimum
            {"order_id": 2, "total_cents": 1, "coupon": "SECRET-COUPON"},    // unknown property
            {"order_id": 3, "total_cents": 1, "paid_at": "yesterday"},       // format asserted
            {"order_id": 4, "total_cents": 1}
        ]),
    );
    let f = lint(&schema);
    assert_eq!(
        rules(&f, "examples-invalid"),
        ["/examples/0", "/examples/1", "/examples/2"],
        "{f:#?}"
    );
    let first = f.iter().find(|x| x.pointer == "/examples/0").unwrap();
    assert!(first.message.contains("/total_cents"), "{}", first.message);
    assert!(first.message.contains("minimum"), "{}", first.message);
    assert!(first.line > 1, "points at the example's line");
    for x in &f {
        assert!(
            !x.message.contains("SECRET-COUPON") && !x.message.contains("yesterday"),
            "{}",
            x.message
        );
    }
}

#[test]
fn an_event_needs_two_examples() {
    let one = event(order_properties(), &["order_id"], json!([{"order_id": 1}]));
    assert_eq!(rules(&lint(&one), "examples-too-few"), ["/examples"]);
    let mut none = one.clone();
    none.as_object_mut().unwrap().remove("examples");
    assert_eq!(rules(&lint(&none), "examples-too-few"), [""]);
}

#[test]
fn properties_of_an_object_marked_pii_inherit_the_mark() {
    let contact = |pii: Option<bool>| {
        let mut c = json!({"type": "object", "additionalProperties": false, "description": "how to reach",
            "properties": {"email": {"type": "string", "description": "e"},
                           "phone": {"type": "string", "description": "p"}}});
        if let Some(p) = pii {
            c["x-pii"] = json!(p);
        }
        let mut props = order_properties();
        props["reach"] = c;
        event(
            props,
            &["order_id"],
            json!([{"order_id": 1}, {"order_id": 2}]),
        )
    };
    let marked = lint(&contact(Some(true)));
    assert!(rules(&marked, "pii-unmarked").is_empty(), "{marked:#?}");
    let unmarked = lint(&contact(None));
    assert_eq!(
        rules(&unmarked, "pii-unmarked"),
        [
            "/properties/reach/properties/email",
            "/properties/reach/properties/phone"
        ]
    );
    // `"x-pii": false` on the object is no blanket exemption for its fields.
    let declined = lint(&contact(Some(false)));
    assert_eq!(rules(&declined, "pii-unmarked").len(), 2, "{declined:#?}");
}
