//! The template's event through librdkafka's mock cluster: what the robust producer
//! publishes reaches the typed handler unchanged, and a message that breaks the schema ends
//! up in the dead-letter topic instead of in the handler.

use std::time::Duration;

use pmp_event_runtime::consumer::{
    dlq_headers, Consumer, ConsumerBuilder, ConsumerConfig, FailureClass,
};
use pmp_event_runtime::producer::{ProducerConfig, RobustProducer};
use pmp_event_runtime::{Envelope, EventPayload, KafkaConfig};
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{DefaultProducerContext, FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tokio::sync::mpsc;

use service_template::{AnyEvent, AppointmentRequestedV1, AppointmentRequestedV1Mode};

/// Guards against a stuck test; the events normally arrive within a few seconds.
const LIMIT: Duration = Duration::from_secs(60);

fn dlq_topic() -> String {
    format!("{}.dlq", AppointmentRequestedV1::TOPIC)
}

/// The service's topic and its dead-letter topic, as `schemas/topics.json` declares them.
fn cluster() -> MockCluster<'static, DefaultProducerContext> {
    let cluster = MockCluster::new(1).unwrap();
    cluster
        .create_topic(AppointmentRequestedV1::TOPIC, 3, 1)
        .unwrap();
    cluster.create_topic(&dlq_topic(), 1, 1).unwrap();
    cluster
}

fn request() -> AppointmentRequestedV1 {
    AppointmentRequestedV1 {
        appointment_id: uuid::Uuid::now_v7(),
        patient_id: 42,
        therapist_id: 3,
        requested_for: "2024-06-04T15:30:00Z".parse().unwrap(),
        mode: AppointmentRequestedV1Mode::Video,
        note: Some("Ich kann nur nachmittags.".into()),
    }
}

/// A consumer whose handler forwards every typed event to the returned channel.
fn start_consumer(
    bootstrap: &str,
    group: &str,
) -> (
    Consumer,
    mpsc::UnboundedReceiver<Envelope<AppointmentRequestedV1>>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let consumer =
        ConsumerBuilder::<AnyEvent>::new(ConsumerConfig::new(KafkaConfig::new(bootstrap), group))
            .on::<AppointmentRequestedV1, _, _>(move |event| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(event);
                    Ok(())
                }
            })
            .start()
            .unwrap();
    (consumer, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_event_reaches_the_typed_handler() {
    let cluster = cluster();
    let bootstrap = cluster.bootstrap_servers();
    let spool = tempfile::tempdir().unwrap();
    let config = ProducerConfig::new("template-test", KafkaConfig::new(&bootstrap), spool.path());
    let producer = RobustProducer::new(config).unwrap();
    let (consumer, mut received) = start_consumer(&bootstrap, "template-roundtrip");

    let sent = request();
    let handle = producer.publish(sent.clone()).unwrap();
    let event_id = handle.event_id();
    // Delivered, or spooled while the producer still connects and sent right after.
    handle.await.unwrap();

    let got = tokio::time::timeout(LIMIT, received.recv())
        .await
        .expect("no event arrived")
        .unwrap();
    assert_eq!(got.payload, sent);
    assert_eq!(got.event_id, event_id);
    assert_eq!(got.producer, "template-test");
    assert_eq!(producer.shutdown(Duration::from_secs(10)).await.spooled, 0);
    consumer.shutdown(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_violation_goes_to_the_dead_letter_topic() {
    let cluster = cluster();
    let bootstrap = cluster.bootstrap_servers();
    let (consumer, mut received) = start_consumer(&bootstrap, "template-dlq");

    // A well-formed envelope whose payload breaks the schema: `mode` is not in the enum.
    let bad = serde_json::json!({
        "event_id": uuid::Uuid::now_v7(), "event_type": "appointment.requested", "version": 1,
        "timestamp": "2024-06-01T10:00:00Z", "producer": "someone-else",
        "payload": {"appointment_id": uuid::Uuid::now_v7(), "patient_id": 42, "therapist_id": 3,
                    "requested_for": "2024-06-04T15:30:00Z", "mode": "carrier_pigeon"},
    });
    let raw: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .unwrap();
    let value = serde_json::to_vec(&bad).unwrap();
    let record = FutureRecord::to(AppointmentRequestedV1::TOPIC)
        .key("k")
        .payload(&value);
    let sent = raw.send(record, LIMIT).await.map_err(|(e, _)| e).unwrap();

    let dlq: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", "template-dlq-reader")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&dlq_topic(), 0, Offset::Beginning)
        .unwrap();
    dlq.assign(&tpl).unwrap();
    let letter = tokio::time::timeout(LIMIT, dlq.recv())
        .await
        .expect("no dead letter")
        .unwrap();
    let header = |name: &str| {
        let headers = letter.headers().expect("dead letter has headers");
        let h = headers
            .iter()
            .find(|h| h.key == name)
            .unwrap_or_else(|| panic!("no {name}"));
        String::from_utf8(h.value.unwrap().to_vec()).unwrap()
    };
    assert_eq!(
        header(dlq_headers::CLASS),
        FailureClass::SchemaViolation.as_str()
    );
    assert_eq!(header(dlq_headers::POINTER), "/payload/mode");
    assert_eq!(
        header(dlq_headers::SOURCE_PARTITION),
        sent.partition.to_string()
    );
    assert_eq!(header(dlq_headers::SOURCE_OFFSET), sent.offset.to_string());
    assert_eq!(letter.payload(), Some(value.as_slice()));
    assert!(
        received.try_recv().is_err(),
        "the handler saw an invalid event"
    );
    consumer.shutdown(Duration::from_secs(10)).await;
}
