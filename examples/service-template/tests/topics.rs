//! `schemas/topics.json` covers every event's topic, and `create-topics.sh` (run by a
//! `kafka-setup` container) is the current rendering of it. After editing topics.json, from
//! this crate's directory: `eventctl topics render > create-topics.sh`.

use std::path::Path;

use pmp_event_codegen::topics::{render_create_topics_sh, TopicCatalog};

use service_template::SCHEMAS;

fn catalog() -> TopicCatalog {
    TopicCatalog::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/topics.json")).unwrap()
}

#[test]
fn every_event_topic_is_in_the_catalog() {
    let topics: Vec<String> = catalog()
        .resolved_topics()
        .into_iter()
        .map(|t| t.name)
        .collect();
    for s in SCHEMAS {
        assert!(
            topics.iter().any(|t| t == s.topic),
            "{} v{}: topic {} missing",
            s.event_type,
            s.version,
            s.topic
        );
        let dlq = format!("{}.dlq", s.topic);
        assert!(topics.contains(&dlq), "{dlq} missing");
    }
}

#[test]
fn create_topics_script_is_up_to_date() {
    let expected = render_create_topics_sh(&catalog(), "schemas/topics.json");
    let actual =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("create-topics.sh"))
            .unwrap();
    assert!(
        actual == expected,
        "create-topics.sh is stale; regenerate it (see the module docs)"
    );
}
