//! `Config::deny_lint_errors(true)`: generation fails on lint errors (here an `x-kafka-topic`
//! missing from `topics.json`), naming the file and pointer; off by default.

use pmp_event_codegen::{Config, ErrorKind};
use serde_json::json;

fn catalog(topic: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events/order.paid");
    std::fs::create_dir_all(&events).unwrap();
    std::fs::write(
        dir.path().join("topics.json"),
        json!({"topics": [{"name": "orders", "partitions": 1}]}).to_string(),
    )
    .unwrap();
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://pmp.example/schemas/events/order.paid/v1.json",
        "title": "Order paid", "description": "An order was paid.", "type": "object",
        "additionalProperties": false, "x-event-type": "order.paid", "x-event-version": 1,
        "x-kafka-topic": topic, "x-kafka-key": "order_id", "required": ["order_id"],
        "properties": {"order_id": {"type": "integer", "minimum": 1, "description": "id"}},
        "examples": [{"order_id": 1}, {"order_id": 2}]
    });
    std::fs::write(
        events.join("v1.json"),
        serde_json::to_string_pretty(&schema).unwrap(),
    )
    .unwrap();
    dir
}

#[test]
fn lint_errors_fail_generation_only_when_asked() {
    let bad = catalog("ordres");
    let code = Config::new().schemas_dir(bad.path()).generate_to_string();
    assert!(code.is_ok(), "off by default: {code:?}");

    let err = Config::new()
        .schemas_dir(bad.path())
        .deny_lint_errors(true)
        .generate_to_string()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Schema);
    assert!(err.file().ends_with("events/order.paid/v1.json"), "{err}");
    assert_eq!(err.pointer(), "/x-kafka-topic");
    assert!(err.message().contains("topic-missing"), "{err}");
    assert!(err.position().is_some_and(|(line, _)| line > 1), "{err}");

    let good = catalog("orders");
    let code = Config::new()
        .schemas_dir(good.path())
        .deny_lint_errors(true)
        .generate_to_string()
        .unwrap();
    assert!(code.contains("pub struct OrderPaidV1"));
}
