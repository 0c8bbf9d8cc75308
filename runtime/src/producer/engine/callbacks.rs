//! librdkafka's callbacks: delivery reports (ack, spool on failure, resolve handles) and
//! client errors (outage and fatal-error signals).

use super::*;

pub(super) fn record_headers(rec: &RecordRef<'_>) -> OwnedHeaders {
    let mut h = OwnedHeaders::new_with_capacity(rec.headers.len());
    for (k, v) in &rec.headers {
        h = h.insert(Header {
            key: k,
            value: Some(*v),
        });
    }
    h
}

fn record_from_message<'a>(msg: &'a BorrowedMessage<'_>) -> RecordRef<'a> {
    let headers = msg
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| (h.key, h.value.unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    RecordRef {
        topic: msg.topic(),
        key: msg.key().unwrap_or_default(),
        headers,
        value: msg.payload().unwrap_or_default(),
    }
}

fn event_id_of(msg: &BorrowedMessage<'_>) -> Uuid {
    msg.headers()
        .and_then(|hs| {
            hs.iter()
                .find(|h| h.key == "event_id")
                .and_then(|h| h.value)
                .and_then(|v| std::str::from_utf8(v).ok())
                .and_then(|s| Uuid::parse_str(s).ok())
        })
        .unwrap_or(Uuid::nil())
}

/// What rides along with each message through librdkafka.
pub(crate) struct Flight {
    pub(super) seq: u64,
    pub(super) origin: Origin,
    /// Send-time slot in [`SendAges`].
    pub(super) slot: u64,
}

pub(super) enum Origin {
    /// Sent without spooling (outage mode, Kafka up); on failure it is spooled.
    Direct(Option<Notifier>),
    /// Sent from the spool; on success it is removed from the spool.
    Spool,
}

/// librdkafka callbacks.
pub(crate) struct Ctx {
    pub(super) shared: Arc<Shared>,
}

impl ClientContext for Ctx {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        // librdkafka repeats connection failures for as long as an outage lasts; the
        // producer logs its own state changes instead, so these go to debug.
        tracing::debug!(target: "librdkafka", ?level, fac, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        match error.rdkafka_error_code() {
            Some(RDKafkaErrorCode::AllBrokersDown) => {
                tracing::debug!(reason, "librdkafka: all brokers down");
                self.shared.mark_failed();
            }
            Some(RDKafkaErrorCode::Fatal) => {
                tracing::error!(reason, "librdkafka fatal error; the client will be rebuilt");
                self.shared.fatal.store(true, SeqCst);
                self.shared.mark_failed();
            }
            _ => tracing::debug!(%error, reason, "librdkafka error"),
        }
    }
}

impl ProducerContext for Ctx {
    type DeliveryOpaque = Box<Flight>;

    fn delivery(&self, result: &DeliveryResult<'_>, flight: Box<Flight>) {
        let shared = &self.shared;
        let Flight { seq, origin, slot } = *flight;
        shared.ages.landed(slot);
        match result {
            Ok(msg) => {
                inc(&shared.counters.delivered);
                crate::observe::metrics::delivered(msg.topic());
                let delivery = Delivery::Delivered {
                    partition: msg.partition(),
                    offset: msg.offset(),
                };
                match origin {
                    Origin::Direct(tx) => {
                        if let Some(tx) = tx {
                            let _ = tx.send(Ok(delivery));
                        }
                    }
                    Origin::Spool => {
                        // Applied in batches by the poll thread; it also counts the
                        // message out of `inflight` then.
                        shared.queue_spool_outcome(seq, Ok(delivery));
                        return;
                    }
                }
            }
            Err((err, msg)) => {
                let code = err.rdkafka_error_code();
                let permanent = shared.count_failure(code);
                let code_name = code.map_or_else(|| "unknown".to_owned(), |c| format!("{c:?}"));
                if permanent {
                    let event_id = event_id_of(msg);
                    tracing::error!(%event_id, topic = msg.topic(), code = %code_name,
                        "Kafka rejected the event permanently; not retried");
                    let rejected = PublishError::Rejected {
                        event_id,
                        code: code_name,
                    };
                    match origin {
                        Origin::Direct(tx) => {
                            if let Some(tx) = tx {
                                let _ = tx.send(Err(rejected));
                            }
                        }
                        Origin::Spool => {
                            shared.queue_spool_outcome(seq, Err(rejected));
                            return;
                        }
                    }
                } else {
                    let mut core = shared.lock();
                    core.cycle_failed = true;
                    if let Origin::Direct(tx) = origin {
                        match core.spool.append(seq, record_from_message(msg), false) {
                            Ok(()) => {
                                inc(&shared.counters.spooled);
                                crate::observe::metrics::spooled(msg.topic());
                                if let Some(tx) = tx {
                                    core.pending.insert(seq, tx);
                                }
                                core.awaiting_sync.push_back(seq);
                            }
                            Err(e) => {
                                inc_failed(&shared.counters.spool_io, "spool_io");
                                tracing::error!(error = %e, event_id = %event_id_of(msg),
                                    "could not spool an event that Kafka did not take");
                                if let Some(tx) = tx {
                                    let _ = tx.send(Err(e.into()));
                                }
                            }
                        }
                    }
                    drop(core);
                    shared.notify();
                }
            }
        }
        shared.inflight.fetch_sub(1, SeqCst);
    }
}
