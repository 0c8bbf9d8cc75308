//! Validation before send refuses an event whose wire JSON repeats a key. A typed payload can
//! produce one: a flattened map (what the generator emits for `additionalProperties: {..}`
//! beside declared properties) holding a declared property's name. Before, validation looked
//! at `serde_json::to_value`, where the last value silently won, and the event with the
//! duplicate went out.

use std::collections::BTreeMap;

use pmp_event_runtime::producer::{ProducerConfig, PublishError, RobustProducer};
use pmp_event_runtime::{EventKind, EventPayload, KafkaConfig, SchemaInfo};
use serde::{Deserialize, Serialize};

static INFO: SchemaInfo = SchemaInfo {
    event_type: "test.tagged",
    version: 1,
    kind: EventKind::Event,
    topic: "test-events",
    key_field: "id",
    schema_id: "https://pmp.example/schemas/events/test.tagged/v1.json",
    compatibility: "BACKWARD",
    schema_json: r#"{
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "type": "object",
      "required": ["id"],
      "properties": {"id": {"type": "integer", "minimum": 1}},
      "additionalProperties": {"type": "integer"}
    }"#,
};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TaggedV1 {
    id: u64,
    #[serde(flatten)]
    extra: BTreeMap<String, u64>,
}

impl EventPayload for TaggedV1 {
    const INFO: &'static SchemaInfo = &INFO;
    fn partition_key(&self) -> String {
        self.id.to_string()
    }
}

#[tokio::test]
async fn a_payload_that_serializes_a_key_twice_is_refused() {
    let cluster = rdkafka::mocking::MockCluster::new(1).unwrap();
    cluster.create_topic("test-events", 1, 1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kafka = KafkaConfig::new(cluster.bootstrap_servers());
    let producer = RobustProducer::new(ProducerConfig::new("dups", kafka, dir.path())).unwrap();

    let fine = TaggedV1 {
        id: 1,
        extra: BTreeMap::from([("score".to_owned(), 3)]),
    };
    assert!(producer.publish(fine).is_ok());

    let twice = TaggedV1 {
        id: 1,
        extra: BTreeMap::from([("id".to_owned(), 9)]),
    };
    let err = producer.publish(twice).expect_err("duplicate key refused");
    match &err {
        PublishError::Invalid {
            pointer, keyword, ..
        } => {
            assert_eq!(pointer, "/id");
            assert_eq!(keyword, "duplicate_key");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("#/id"), "{err}");
    producer.shutdown(std::time::Duration::from_secs(5)).await;
}
