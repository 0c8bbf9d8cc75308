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

/// The `version` and `event_id` header values, formatted on the stack (no allocation per
/// event).
struct HeaderText {
    version: [u8; 10],
    version_len: usize,
    id: [u8; uuid::fmt::Hyphenated::LENGTH],
}

impl HeaderText {
    fn new(version: u32, event_id: Uuid) -> HeaderText {
        let mut digits = [0u8; 10];
        let mut n = version;
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut text = HeaderText {
            version: [0; 10],
            version_len: digits.len() - at,
            id: [0; uuid::fmt::Hyphenated::LENGTH],
        };
        text.version[..text.version_len].copy_from_slice(&digits[at..]);
        event_id.hyphenated().encode_lower(&mut text.id);
        text
    }

    fn version(&self) -> &[u8] {
        &self.version[..self.version_len]
    }
}

impl Prepared {
    fn headers(&self) -> OwnedHeaders {
        let text = HeaderText::new(self.version, self.event_id);
        let headers = OwnedHeaders::new_with_capacity(5)
            .insert(Header {
                key: "event_type",
                value: Some(self.event_type),
            })
            .insert(Header {
                key: "version",
                value: Some(text.version()),
            })
            .insert(Header {
                key: "event_id",
                value: Some(&text.id[..]),
            });
        let trace = self.trace.iter().flat_map(TraceContextHeaders::pairs);
        trace.fold(headers, |h, (key, value)| {
            h.insert(Header {
                key,
                value: Some(value),
            })
        })
    }

    fn to_record<'a>(&'a self, text: &'a HeaderText) -> RecordRef<'a> {
        let mut headers = vec![
            ("event_type", self.event_type.as_bytes()),
            ("version", text.version()),
            ("event_id", &text.id[..]),
        ];
        headers.extend(
            self.trace
                .iter()
                .flat_map(|t| t.pairs().map(|(k, v)| (k, v.as_bytes()))),
        );
        RecordRef {
            topic: self.topic,
            key: self.key.as_bytes(),
            headers,
            value: &self.value,
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
                    let flight = shared.take_off(seq, Origin::Direct(tx.take()));
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
                            shared.grounded(&record.delivery_opaque);
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
                    let record =
                        BaseRecord::with_opaque_to(p.topic, shared.take_off(seq, Origin::Spool))
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
                        Err((err, record)) => {
                            shared.grounded(&record.delivery_opaque);
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
    let text = HeaderText::new(p.version, p.event_id);
    if let Err(e) = core.spool.append(seq, p.to_record(&text), true) {
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
