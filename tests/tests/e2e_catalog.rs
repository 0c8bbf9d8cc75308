//! Every (event type, version) of the catalog through the real broker: each example payload
//! of each schema is published with the robust producer and received, typed and schema-valid,
//! by the validating consumer — exactly the published `event_id`s, each once, each as its own
//! variant with the payload it was published with.

mod e2e_support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use e2e_support::{
    event_id, examples, producer_and_payload, publish_any, robust_producer, run_name, typed_event,
    WAIT,
};
use pmp_e2e_tests::broker;
use pmp_event_runtime::consumer::{ConsumerBuilder, ConsumerConfig};
use pmp_event_runtime::producer::Delivery;
use pmp_event_runtime::{EventSet, KafkaConfig};
use pmp_events::{AnyEvent, SCHEMAS};
use serde_json::Value;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_catalog_event_is_published_and_received_typed() {
    let b = broker();
    b.ensure_topics();
    let run = run_name("catalog");
    let spool = tempfile::tempdir().unwrap();

    // The consumer starts first (new group, earliest), so nothing published below is missed.
    let received: Arc<Mutex<Vec<AnyEvent>>> = Arc::default();
    let sink = Arc::clone(&received);
    let run_filter = run.clone();
    let topics: BTreeSet<&str> = SCHEMAS.iter().map(|s| s.topic).collect();
    let mut cfg = ConsumerConfig::new(KafkaConfig::new(&b.bootstrap), run.clone());
    cfg.topics = topics.iter().map(|t| t.to_string()).collect();
    let consumer = ConsumerBuilder::<AnyEvent>::new(cfg)
        .on_any(move |e: AnyEvent| {
            let sink = Arc::clone(&sink);
            let run = run_filter.clone();
            async move {
                // Earlier runs' events are on the same topics.
                if producer_and_payload(&e).0 == run {
                    sink.lock().unwrap().push(e);
                }
                Ok(())
            }
        })
        .start()
        .expect("consumer starts");

    let producer = robust_producer(&b.bootstrap, &run, spool.path());
    let mut published: HashMap<Uuid, ((&str, u32), Value)> = HashMap::new();
    let mut handles = Vec::new();
    for info in SCHEMAS.iter() {
        for example in examples(info) {
            let event = typed_event(info, example, &run);
            let id = event_id(&event);
            // The typed payload as sent (serde may normalize e.g. time zones of the example).
            let (_, sent) = producer_and_payload(&event);
            published.insert(id, ((info.event_type, info.version), sent));
            handles.push(publish_any(&producer, event).expect("publish accepted"));
        }
    }
    for h in handles {
        let id = h.event_id();
        let outcome = tokio::time::timeout(WAIT, h)
            .await
            .expect("delivery report within the bound");
        // `Spooled` is fine too: until its first probe answers the producer spools.
        assert!(
            matches!(outcome, Ok(Delivery::Delivered { .. } | Delivery::Spooled)),
            "{id}: {outcome:?}"
        );
    }

    let until = Instant::now() + WAIT;
    loop {
        let got = received.lock().unwrap().len();
        if got >= published.len() {
            break;
        }
        assert!(
            Instant::now() < until,
            "received {got} of {} published events",
            published.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let report = consumer.shutdown(Duration::from_secs(20)).await;
    assert!(report.drained, "{report:?}");

    let received = std::mem::take(&mut *received.lock().unwrap());
    let mut seen: BTreeMap<Uuid, usize> = BTreeMap::new();
    for e in received.iter() {
        let id = event_id(e);
        *seen.entry(id).or_default() += 1;
        let (kind, sent) = published
            .get(&id)
            .unwrap_or_else(|| panic!("{id} ({:?}) was not published by this run", e.kind()));
        assert_eq!(e.kind(), *kind, "{id}: received as another variant");
        let (_, payload) = producer_and_payload(e);
        assert!(
            payload == *sent,
            "{id} ({kind:?}): typed payload differs from the published one"
        );
    }
    let published_ids: BTreeSet<Uuid> = published.keys().copied().collect();
    let received_ids: BTreeSet<Uuid> = seen.keys().copied().collect();
    assert_eq!(received_ids, published_ids, "received ids != published ids");
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "received more than once: {twice:?}");
    let kinds: BTreeSet<(&str, u32)> = received.iter().map(EventSet::kind).collect();
    assert_eq!(
        kinds.len(),
        SCHEMAS.len(),
        "every (event type, version) is received"
    );
    let report = producer.shutdown(Duration::from_secs(10)).await;
    assert_eq!(report.spooled, 0, "{report:?}");
}
