//! Processing one message: decode and validate (`pipeline`), skip duplicates, call its
//! handler with retries (`dispatch`, `retry`), or dead-letter it (`dlq`).

use std::sync::Arc;

use rdkafka::message::{Message, OwnedMessage};
use tokio::sync::watch;

use super::config::{UnhandledPolicy, UnknownEventTypePolicy};
use super::dedup::DedupWindow;
use super::dlq::is_permanent;
use super::failure::{Failure, FailureClass};
use super::lanes::{Step, Worker};
use super::pipeline::decode_failure;
use super::retry::{handle_with_retries, sleep_or_stop, Handled};
use crate::payload::EventSet;

impl<E: EventSet> Worker<E> {
    pub(super) async fn process(
        &self,
        msg: &OwnedMessage,
        stop: &mut watch::Receiver<bool>,
    ) -> Step {
        let decoded = match self.pipeline.decode(msg.payload(), msg.headers()) {
            Ok(d) => d,
            Err(f)
                if f.class == FailureClass::UnknownEventType
                    && self.unknown_event_type == UnknownEventTypePolicy::Skip =>
            {
                let event_type = f.event_type.as_deref().unwrap_or_default();
                if self.metrics.skipped_unknown_event_type(event_type) {
                    tracing::info!(
                        topic = msg.topic(), partition = msg.partition(), offset = msg.offset(),
                        event_type,
                        "skipping events of a type this consumer does not know (logged once per type; counted in skipped_unknown_event_type)"
                    );
                }
                return Step::Done;
            }
            Err(f) => return self.dead_letter(msg, f, stop).await,
        };
        if decoded.raw.version != decoded.info.version {
            let (event_type, read_as) = (decoded.info.event_type, decoded.info.version);
            let wire = decoded.raw.version;
            if self.metrics.newer_version_read(event_type, read_as, wire) {
                tracing::info!(
                    topic = msg.topic(), partition = msg.partition(), offset = msg.offset(),
                    event_type, version = wire, read_as,
                    "reading a newer version than this consumer knows as the newest it knows (valid against that schema; logged once per version; counted in newer_versions_read)"
                );
            }
        }
        let event_id = decoded.raw.event_id;
        crate::observe::trace::record_event(msg, event_id, decoded.info, decoded.raw.version);
        let seen = |d: &std::sync::Mutex<DedupWindow>| {
            d.lock().map(|w| w.contains(&event_id)).unwrap_or(false)
        };
        if self.dedup.as_ref().is_some_and(seen) {
            self.metrics.duplicate();
            return Step::Done;
        }
        let info = decoded.info;
        let call = match self.handlers.prepare(info, decoded.raw) {
            None => {
                return match self.unhandled {
                    UnhandledPolicy::Skip => {
                        self.metrics.skipped_unhandled();
                        Step::Done
                    }
                    UnhandledPolicy::DeadLetter => {
                        let f = Failure::new(
                            FailureClass::Unhandled,
                            "",
                            format!("no handler for {} v{}", info.event_type, info.version),
                        );
                        self.dead_letter(msg, f, stop).await
                    }
                }
            }
            Some(Err(e)) => return self.dead_letter(msg, decode_failure(e), stop).await,
            Some(Ok(call)) => call,
        };
        let started = std::time::Instant::now();
        let handled = handle_with_retries(&call, &self.retry, stop, &self.metrics).await;
        crate::observe::metrics::handler_duration(info.event_type, info.version, started.elapsed());
        match handled {
            Handled::Ok => {
                self.metrics.processed(info.event_type, info.version);
                if let Some(Ok(mut window)) = self.dedup.as_ref().map(|d| d.lock()) {
                    window.insert(event_id);
                }
                Step::Done
            }
            Handled::Failed(f) => self.dead_letter(msg, f, stop).await,
            Handled::Stopped => Step::Stopped,
        }
    }

    /// Publish to the DLQ until acknowledged, retrying transient errors; a permanent refusal
    /// falls back to a dead letter without the value, and if that is refused too the message
    /// is given up (see the `dlq` module). The publish itself is not interrupted by shutdown
    /// (a record that reached the DLQ must get its offset stored, or a restart would
    /// dead-letter it twice); waits between attempts are.
    async fn dead_letter(
        &self,
        msg: &OwnedMessage,
        failure: Failure,
        stop: &mut watch::Receiver<bool>,
    ) -> Step {
        tracing::warn!(
            topic = msg.topic(),
            partition = msg.partition(),
            offset = msg.offset(),
            class = failure.class.as_str(),
            pointer = %failure.pointer,
            error = %failure.message,
            "dead-lettering message"
        );
        let dlq = Arc::clone(self.dlq.get());
        let mut without_value = failure.class == FailureClass::Oversized;
        let mut attempt = 0u32;
        loop {
            let span = crate::observe::trace::dead_letter_span(
                &dlq.topic_for(msg.topic()),
                failure.class.as_str(),
                without_value,
            );
            let published =
                tracing::Instrument::instrument(dlq.publish(msg, &failure, without_value), span)
                    .await;
            let e = match published {
                Ok(()) => {
                    self.metrics.dead_lettered(failure.class, without_value);
                    return Step::Done;
                }
                Err(e) => e,
            };
            self.metrics.dlq_publish_failure();
            let dlq_topic = dlq.topic_for(msg.topic());
            if is_permanent(&e) {
                if !without_value {
                    tracing::error!(
                        topic = msg.topic(), partition = msg.partition(), offset = msg.offset(),
                        dlq_topic = %dlq_topic, class = failure.class.as_str(), error = %e,
                        "dead-letter topic refused the record permanently; sending it without the value"
                    );
                    without_value = true;
                    continue;
                }
                tracing::error!(
                    topic = msg.topic(), partition = msg.partition(), offset = msg.offset(),
                    dlq_topic = %dlq_topic, class = failure.class.as_str(),
                    pointer = %failure.pointer, reason = %failure.message, error = %e,
                    "dead letter cannot be written, even without the value; giving the message up so the partition moves on"
                );
                self.metrics.dlq_unwritable(failure.class);
                return Step::Done;
            }
            tracing::error!(
                topic = msg.topic(), partition = msg.partition(), offset = msg.offset(),
                dlq_topic = %dlq_topic, error = %e,
                "dead-letter publish failed; offset not committed, retrying"
            );
            if sleep_or_stop(self.retry.backoff(attempt), stop).await {
                return Step::Stopped;
            }
            attempt = attempt.saturating_add(1);
        }
    }
}
