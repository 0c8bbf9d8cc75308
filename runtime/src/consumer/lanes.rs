//! Receiving: one lane per assigned partition.
//!
//! The receiving loop takes what librdkafka has fetched (up to `MAX_BATCH` messages per
//! wake-up), groups it by partition and hands each partition's batch to that partition's
//! lane: a task that handles the partition's messages strictly in offset order
//! (`process`), then stores each offset. Lanes run concurrently, so a slow handler or a
//! retry holds back only its own partition; a lane full for `STUCK_AFTER` gets its
//! partition paused in librdkafka instead of stalling the others.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt as _;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::TopicPartitionList;
use tokio::sync::watch;

use super::config::{RetryPolicy, UnhandledPolicy, UnknownEventTypePolicy};
use super::dedup::DedupWindow;
use super::dispatch::Handlers;
use super::dlq::DeadLetters;
use super::metrics::Metrics;
use super::pipeline::Pipeline;
use super::{Context, OffThreadDrop};
use crate::payload::EventSet;

/// What to do with the offset of a message after processing.
pub(super) enum Step {
    /// Handled, skipped or dead-lettered: store the offset.
    Done,
    /// Shutdown interrupted it: leave the offset, the message is seen again.
    Stopped,
}

/// At most this many messages are taken from librdkafka per wake-up: the first is awaited,
/// the rest are what librdkafka has already fetched. Moving them to the lanes in
/// per-partition batches costs one task wake-up per batch instead of one per message.
const MAX_BATCH: usize = 128;

/// Batches buffered per partition lane. Small on purpose: after a rebalance, what a lane
/// still holds for a revoked partition is handled again by the partition's new owner.
const LANE_CAPACITY: usize = 2;

/// How long receiving waits for a full lane before calling it stuck: its batch is then held
/// and its partition paused in librdkafka (resumed once the lane takes the batch), so the
/// other partitions keep flowing. Short waits are ordinary back-pressure; pausing drops
/// librdkafka's prefetched messages, so it is kept for lanes that are really stuck.
const STUCK_AFTER: Duration = Duration::from_millis(200);

/// Everything a partition lane needs; shared by all lanes of one consumer.
pub(super) struct Worker<E: EventSet> {
    pub(super) consumer: OffThreadDrop<Arc<StreamConsumer<Context>>>,
    pub(super) dlq: OffThreadDrop<Arc<DeadLetters>>,
    pub(super) pipeline: Pipeline,
    pub(super) handlers: Handlers<E>,
    pub(super) metrics: Arc<Metrics>,
    pub(super) retry: RetryPolicy,
    pub(super) unhandled: UnhandledPolicy,
    pub(super) unknown_event_type: UnknownEventTypePolicy,
    pub(super) dedup: Option<std::sync::Mutex<DedupWindow>>,
}

type Batch = Vec<OwnedMessage>;
type LaneKey = (String, i32);

/// What [`Dispatch::offer`] did with a batch.
enum Offered {
    Queued,
    /// The lane's task is gone (it only ends on shutdown).
    LaneGone(Batch),
}

/// The receiving side's view of the lanes: their senders, and per stuck (paused) lane the
/// messages it could not take yet.
struct Dispatch {
    lanes: HashMap<LaneKey, tokio::sync::mpsc::Sender<Batch>>,
    held: HashMap<LaneKey, Batch>,
}

impl Dispatch {
    /// Queue `batch` on its lane, waiting up to `STUCK_AFTER` for room. A lane still full
    /// then gets its partition paused and the batch held; later messages for a partition
    /// with held messages join them, so order holds.
    async fn offer(
        &mut self,
        consumer: &StreamConsumer<Context>,
        key: &LaneKey,
        batch: Batch,
    ) -> Offered {
        if let Some(held) = self.held.get_mut(key) {
            held.extend(batch);
            return Offered::Queued;
        }
        let Some(lane) = self.lanes.get(key) else {
            return Offered::LaneGone(batch);
        };
        match tokio::time::timeout(STUCK_AFTER, lane.reserve()).await {
            Ok(Ok(permit)) => {
                permit.send(batch);
                Offered::Queued
            }
            Ok(Err(_closed)) => Offered::LaneGone(batch),
            Err(_stuck) => {
                set_paused(consumer, key, true);
                self.held.insert(key.clone(), batch);
                Offered::Queued
            }
        }
    }

    /// Hand held messages to lanes that have room again, resuming their partitions.
    fn release(&mut self, consumer: &StreamConsumer<Context>) {
        let keys: Vec<LaneKey> = self.held.keys().cloned().collect();
        for key in keys {
            let (Some(lane), Some(batch)) = (self.lanes.get(&key), self.held.remove(&key)) else {
                continue;
            };
            match lane.try_send(batch) {
                Ok(()) => set_paused(consumer, &key, false),
                Err(e) => {
                    self.held.insert(key, e.into_inner());
                }
            }
        }
    }
}

/// Pause or resume fetching one partition. Failing only means the partition is no longer
/// assigned to this member (a rebalance): nothing to do then.
fn set_paused(consumer: &StreamConsumer<Context>, (topic, partition): &LaneKey, pause: bool) {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, *partition);
    let result = if pause {
        consumer.pause(&tpl)
    } else {
        consumer.resume(&tpl)
    };
    if let Err(e) = result {
        tracing::debug!(topic = topic.as_str(), partition, pause, error = %e, "pause/resume failed");
    }
}

impl<E: EventSet> Worker<E> {
    /// Receives from Kafka and hands the messages to their partitions' lanes: one task per
    /// partition, each strictly in offset order, all running concurrently, so a slow
    /// handler or a retry holds back only its own partition (a lane full for
    /// `STUCK_AFTER` gets its partition paused instead of stalling the others). Returns when `stop` is
    /// set, after every lane has finished the message it was on (lanes live in a `JoinSet`:
    /// if this future is dropped, as when shutdown's deadline aborts it, the lanes are
    /// aborted with it).
    pub(super) async fn run(self, mut stop: watch::Receiver<bool>) {
        let worker = Arc::new(self);
        let consumer = Arc::clone(worker.consumer.get());
        let progress = Arc::new(tokio::sync::Notify::new());
        let mut dispatch = Dispatch {
            lanes: HashMap::new(),
            held: HashMap::new(),
        };
        let mut tasks = tokio::task::JoinSet::new();
        let lane_stop = stop.clone();
        let spawn_lane = |tasks: &mut tokio::task::JoinSet<()>| {
            let (tx, rx) = tokio::sync::mpsc::channel(LANE_CAPACITY);
            tasks.spawn(Arc::clone(&worker).lane(rx, Arc::clone(&progress), lane_stop.clone()));
            tx
        };
        loop {
            let first = tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => break,
                _ = progress.notified(), if !dispatch.held.is_empty() => {
                    dispatch.release(&consumer);
                    continue;
                }
                m = consumer.recv() => m.map(|m| m.detach()),
            };
            let mut received = vec![first];
            // `recv` is cancel-safe: a future that is not ready has taken nothing.
            while received.len() < MAX_BATCH {
                match consumer.recv().now_or_never() {
                    Some(m) => received.push(m.map(|m| m.detach())),
                    None => break,
                }
            }
            // Group by partition, keeping each partition's order.
            let mut batches: Vec<(LaneKey, Batch)> = Vec::new();
            for m in received {
                let msg = match m {
                    Ok(m) => {
                        crate::observe::metrics::consumed(m.topic());
                        m
                    }
                    Err(e) => {
                        worker.metrics.consume_error();
                        tracing::warn!(error = %e, "kafka consume error");
                        continue;
                    }
                };
                let same =
                    |(k, _): &&mut (LaneKey, Batch)| k.1 == msg.partition() && k.0 == msg.topic();
                match batches.iter_mut().find(same) {
                    Some((_, batch)) => batch.push(msg),
                    None => batches.push(((msg.topic().to_owned(), msg.partition()), vec![msg])),
                }
            }
            for (key, batch) in batches {
                if !dispatch.lanes.contains_key(&key) {
                    dispatch.lanes.insert(key.clone(), spawn_lane(&mut tasks));
                }
                if let Offered::LaneGone(batch) = dispatch.offer(&consumer, &key, batch).await {
                    if *stop.borrow() {
                        break;
                    }
                    // Lanes end only on shutdown, so this is a bug: start a new lane rather
                    // than stop consuming. The old lane's unfinished messages keep their
                    // offsets unstored.
                    tracing::error!(
                        topic = key.0.as_str(),
                        partition = key.1,
                        "partition lane ended unexpectedly; starting a new one"
                    );
                    dispatch.lanes.insert(key.clone(), spawn_lane(&mut tasks));
                    dispatch.offer(&consumer, &key, batch).await;
                }
            }
        }
        drop(dispatch);
        while tasks.join_next().await.is_some() {}
    }

    /// Handles one partition's messages in order until shutdown or until the receiver
    /// closes. Whatever is still queued at shutdown keeps its offset unstored.
    async fn lane(
        self: Arc<Self>,
        mut rx: tokio::sync::mpsc::Receiver<Batch>,
        progress: Arc<tokio::sync::Notify>,
        mut stop: watch::Receiver<bool>,
    ) {
        let consumer = Arc::clone(self.consumer.get());
        while let Some(batch) = rx.recv().await {
            // Room in this lane again: a batch held for it may go now.
            progress.notify_one();
            for msg in batch {
                if *stop.borrow() {
                    return;
                }
                let span = crate::observe::trace::process_span(&msg, self.dlq.get().group());
                match tracing::Instrument::instrument(self.process(&msg, &mut stop), span).await {
                    Step::Done => {
                        match consumer.store_offset(msg.topic(), msg.partition(), msg.offset()) {
                            Ok(()) => {
                                self.metrics
                                    .stored(msg.topic(), msg.partition(), msg.offset() + 1)
                            }
                            // The partition was revoked meanwhile; its new owner sees the
                            // message again.
                            Err(e) => tracing::debug!(
                                topic = msg.topic(), partition = msg.partition(), offset = msg.offset(),
                                error = %e, "offset not stored"
                            ),
                        }
                    }
                    Step::Stopped => return,
                }
            }
        }
    }
}
