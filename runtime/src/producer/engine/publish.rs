//! An event's way in: the direct path to librdkafka or the spool, in sequence order.

use super::*;
use crate::observe::metrics as observe;
use crate::observe::trace::TraceContextHeaders;

/// An event ready for Kafka: serialized envelope plus routing.
pub(crate) struct Prepared {
    pub topic: &'static str,
    pub key: String,
    pub value: Vec<u8>,
    pub event_id: Uuid,
    pub event_type: &'static str,
    pub version: u32,
    /// W3C trace context of the `publish` span (or the outbox row), written as headers.
    pub trace: Option<TraceContextHeaders>,
}

impl Prepared {
    fn headers(&self) -> OwnedHeaders {
        let version = self.version.to_string();
        let id = self.event_id.hyphenated().to_string();
        let headers = OwnedHeaders::new_with_capacity(5)
            .insert(Header {
                key: "event_type",
                value: Some(self.event_type),
            })
            .insert(Header {
                key: "version",
                value: Some(&version),
            })
            .insert(Header {
                key: "event_id",
                value: Some(&id),
            });
        let trace = self.trace.iter().flat_map(TraceContextHeaders::pairs);
        trace.fold(headers, |h, (key, value)| {
            h.insert(Header {
                key,
                value: Some(value),
            })
        })
    }

    fn to_record(&self) -> SpoolRecord {
        SpoolRecord {
            topic: self.topic.to_owned(),
            key: self.key.as_bytes().to_vec(),
            headers: [
                ("event_type".into(), self.event_type.as_bytes().to_vec()),
                ("version".into(), self.version.to_string().into_bytes()),
                (
                    "event_id".into(),
                    self.event_id.hyphenated().to_string().into_bytes(),
                ),
            ]
            .into_iter()
            .chain(self.trace.iter().flat_map(|t| {
                t.pairs()
                    .map(|(k, v)| (k.to_owned(), v.as_bytes().to_vec()))
            }))
            .collect(),
            value: self.value.clone(),
        }
    }
}

impl Engine {
    /// Accept one event (see the module docs for the routing rules).
    pub(crate) fn publish(&self, p: Prepared, tx: Notifier) -> Result<(), PublishError> {
        let shared = &self.shared;
        let mut core = shared.lock();
        if !core.accepting {
            return Err(PublishError::ShuttingDown);
        }
        let seq = core.next_seq;
        core.next_seq += 1;
        let fast = core.fast_path();
        match shared.durability {
            Durability::Outage => {
                let mut tx = Some(tx);
                if fast {
                    let kafka = self.kafka();
                    shared.inflight.fetch_add(1, SeqCst);
                    let flight = Box::new(Flight {
                        seq,
                        origin: Origin::Direct(tx.take()),
                    });
                    let record = BaseRecord::with_opaque_to(p.topic, flight)
                        .key(p.key.as_str())
                        .payload(p.value.as_slice())
                        .headers(p.headers());
                    match kafka.send(record) {
                        Ok(()) => {
                            inc(&shared.counters.published);
                            observe::published(p.topic, p.event_type, p.version);
                            return Ok(());
                        }
                        Err((err, record)) => {
                            shared.inflight.fetch_sub(1, SeqCst);
                            shared.count_failure(err.rdkafka_error_code());
                            // A full librdkafka queue is back-pressure, not an outage: the
                            // event is spooled below and, since the spool is then non-empty,
                            // later events queue behind it until the drain has sent it.
                            if err.rdkafka_error_code() != Some(RDKafkaErrorCode::QueueFull) {
                                core.cycle_failed = true;
                            }
                            if let Origin::Direct(t) = record.delivery_opaque.origin {
                                tx = t;
                            }
                            shared.notify();
                        }
                    }
                }
                spool_append(shared, &mut core, seq, &p)?;
                if let Some(tx) = tx {
                    core.pending.insert(seq, tx);
                }
                core.awaiting_sync.push_back(seq);
                drop(core);
                shared.notify();
                Ok(())
            }
            Durability::WriteAhead { .. } => {
                spool_append(shared, &mut core, seq, &p)?;
                core.pending.insert(seq, tx);
                core.awaiting_sync.push_back(seq);
                if fast {
                    let kafka = self.kafka();
                    shared.inflight.fetch_add(1, SeqCst);
                    let record = BaseRecord::with_opaque_to(
                        p.topic,
                        Box::new(Flight {
                            seq,
                            origin: Origin::Spool,
                        }),
                    )
                    .key(p.key.as_str())
                    .payload(p.value.as_slice())
                    .headers(p.headers());
                    match kafka.send(record) {
                        Ok(()) => {
                            inc(&shared.counters.retries);
                            observe::producer_retry();
                            core.cursor = seq + 1;
                            return Ok(());
                        }
                        Err((err, _)) => {
                            shared.inflight.fetch_sub(1, SeqCst);
                            if err.rdkafka_error_code() != Some(RDKafkaErrorCode::QueueFull) {
                                core.cycle_failed = true;
                            }
                            shared.count_failure(err.rdkafka_error_code());
                        }
                    }
                }
                drop(core);
                shared.notify();
                Ok(())
            }
        }
    }
}

/// Appends `p` to the spool under the producer's lock and counts it as published and spooled,
/// or counts the failure by kind: the one place both durability modes spool an event.
fn spool_append(
    shared: &Shared,
    core: &mut Core,
    seq: u64,
    p: &Prepared,
) -> Result<(), PublishError> {
    if let Err(e) = core.spool.append(seq, &p.to_record(), true) {
        if matches!(e, SpoolError::Full { .. }) {
            inc_failed(&shared.counters.spool_full, "spool_full");
        } else {
            inc_failed(&shared.counters.spool_io, "spool_io");
        }
        return Err(e.into());
    }
    inc(&shared.counters.published);
    observe::published(p.topic, p.event_type, p.version);
    inc(&shared.counters.spooled);
    observe::spooled(p.topic);
    Ok(())
}
