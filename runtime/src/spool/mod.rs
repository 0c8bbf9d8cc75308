//! The producer's local spool: a checksummed, append-only segment log on disk.
//!
//! The spool holds every event the producer has accepted but Kafka has not acknowledged
//! yet (in `write-ahead` mode), or could not take (in `outage` mode). It is modelled on
//! Vector's `disk_v2` buffer: segment files of framed, checksummed records, written only at
//! the end and deleted as a whole.
//!
//! # Directory layout
//!
//! ```text
//! <spool dir>/
//!   spool.lock                  advisory lock (flock): one producer per directory
//!   00000000000000000007.seg    segment 7: header + frames, append-only
//!   00000000000000000007.ack    acknowledged sequence numbers of records in segment 7
//!   00000000000000000008.seg    the active segment (the only one written to)
//! ```
//!
//! Segment ids only grow. A process never appends to a segment it did not create: after a
//! restart it starts a new one, so a torn tail left by a crash is never written past.
//!
//! # Segment file
//!
//! A 16-byte header (`b"PMPSPOOL"`, format version `1` as `u32` LE, 4 reserved zero bytes)
//! followed by frames. All integers are little-endian.
//!
//! ```text
//! frame  := len: u32 | crc: u32 | seq: u64 | body          (len = 8 + body length)
//! body   := topic_len: u16 | topic (UTF-8)
//!           key_len: u32   | key
//!           n_headers: u16 | n_headers * (name_len: u16 | name (UTF-8) | value_len: u32 | value)
//!           value_len: u32 | value                           (the envelope JSON)
//! ```
//!
//! The headers are the record's Kafka headers as `publish` built them: `event_type`,
//! `version`, `event_id`, and with the `otel` feature `traceparent` and `tracestate` (see
//! [`observe::trace`](crate::observe::trace)). They are replayed exactly as stored, so a
//! spooled event keeps the trace context it was published with. Adding those two headers
//! needed no format change (format `1` always stored any list of headers): segments
//! written before them are read as they are, and simply carry no trace context.
//!
//! `crc` is CRC-32 (IEEE, `crc32fast`) over `seq` and `body`, so a damaged length, sequence
//! number or byte of content is detected. `seq` is the producer's publish sequence number:
//! it grows with every `publish` call, so sorting by `seq` restores publish order even for
//! records that were written late (an event that failed in librdkafka is spooled after
//! newer events were). Frames are at most 64 MiB.
//!
//! # Acknowledgement and deletion
//!
//! A record is removed from the spool when Kafka acknowledges it. Acks arrive in any order
//! (partitions progress independently), so each segment has an ack file: a list of 12-byte
//! entries `seq: u64 | crc: u32` (CRC-32 of the 8 `seq` bytes). Ack entries are written at
//! each group commit and are not fsynced: losing one only causes a duplicate delivery (with
//! the same `event_id`), never a loss. When every record of a non-active segment is
//! acknowledged, the segment and its ack file are deleted by the next commit. When the
//! spool empties and the active segment has grown past a quarter of the segment size, it
//! is rotated and deleted too. A new segment's file is created by the first commit that
//! has a record for it.
//!
//! # Durability (fsync policy) and the write buffer
//!
//! An append only encodes the frame into memory: the active segment's buffer. A group
//! commit (run by the producer every `fsync_interval`, and at shutdown) hands the buffered
//! bytes over under the producer's lock without copying them, then, without the lock,
//! creates the segment file if needed, writes the bytes at their offsets, `fdatasync`s
//! every segment written, fsyncs the directory after a create, appends pending ack entries
//! and deletes finished segments. Only then are the bytes released from memory. A publish
//! handle reports `Spooled` only for a record that such a commit put on disk, so "spooled"
//! always means "on disk". Until then the drain reads the record from memory. Both modes
//! use the same commit; they differ in what they spool (`outage`: only what Kafka could
//! not take; `write-ahead`: everything, before librdkafka sees it).
//!
//! # A failing disk: a handle's outcome is final and true
//!
//! A full disk (`ENOSPC`), a write error (`EIO`), a failed `fsync` or a read-only directory
//! make a commit fail. The rule is: **an `Err` means the event will never be sent, and an
//! accepted event's handle does not resolve until its outcome is known.** Of the two
//! options (fail the handles of the unwritten records and remove them from the index and
//! the write buffer, or keep them and wait) the spool takes the second:
//!
//! * Records already accepted stay in memory, in the index, in order. Their handles stay
//!   pending: they resolve `Delivered` when Kafka takes them (the drain sends them from
//!   memory), or `Spooled` when a later commit gets them onto disk. No handle of an
//!   accepted record ever resolves `Err` because of the disk.
//! * A failed commit releases nothing: the next one writes the same bytes at the same
//!   offsets again, then fsyncs. A failed `fsync` is treated the same way (Linux may drop
//!   the dirty pages and mark them clean, so fsyncing again without rewriting would prove
//!   nothing). Retries back off up to once a second; the first failure is logged and each
//!   one counted in `metrics().failures.spool_io`.
//! * While the disk fails, the spool holds at most 64 MiB (and at most its byte bound) in
//!   memory. A new publish beyond that fails at once with the disk's error
//!   (`PublishError::Spool`): that event is in neither the index nor the buffer, and is
//!   never sent. Memory taken by records Kafka has acknowledged is given back by starting a
//!   new segment.
//! * With Kafka up, a failing disk does not stop the producer: the backlog is sent from
//!   memory in sequence order, then new events take the direct path again (`outage`), or
//!   are sent from the memory buffer at once (`write-ahead`), so per-key order holds.
//! * Shutdown with the disk still failing cannot keep what is only in memory: those
//!   handles resolve `PublishError::Abandoned` and the count is logged.
//!
//! What this costs: the events held only in memory are lost if the process dies before
//! the disk recovers or Kafka takes them, as in `outage` mode's librdkafka queue; in
//! `write-ahead` mode their handles have not resolved, so no caller was told otherwise.
//!
//! # Bounds
//!
//! The spool is bounded by bytes (sum of live frames) and record count. A new publish that
//! would exceed either bound is rejected with [`SpoolError::Full`] at once: publishing
//! never blocks, and nothing is dropped silently. Events that librdkafka already holds and
//! then fails are always spooled, even past the bound (the overshoot is limited by
//! librdkafka's own queue size), because they were already accepted.
//!
//! # Code layout
//!
//! `frame` (encoding), `store` (index, segments, write buffer: append, locate, ack),
//! `commit` (the only file writes), `recovery` (open), `io` (every file system call, with a
//! fault-injection seam for tests: [`SpoolFaults`]).
//!
//! # Corruption and recovery
//!
//! On open, every segment is read from the start. At a frame that is truncated, has an
//! impossible length, a wrong checksum or an undecodable body, the reader searches forward
//! byte by byte for the next intact frame and records the stretch in between as one damaged
//! region. Each region counts as one skipped record (a region may hold more than one record
//! if several adjacent ones are damaged; `skipped_bytes` gives its size). A damaged segment
//! header is skipped the same way. Acknowledged records (per the ack file) are not
//! delivered again. Nothing here panics on any input; what was skipped is returned in
//! [`RecoveryReport`], logged as a warning (numbers and file names only) and counted in the
//! producer's metrics. Records that were lost to damage cannot be delivered.

mod commit;
mod frame;
mod io;
mod recovery;
mod store;

use std::path::PathBuf;
use std::sync::Arc;

pub use frame::FrameDamage;
#[doc(hidden)]
pub use io::{SpoolFaults, WriteFault};
#[cfg(test)]
pub(crate) use store::load_batch;
pub(crate) use store::{for_each_loaded, RecordSource, Spool};

/// Default size at which the active segment is closed and a new one started.
pub const DEFAULT_SEGMENT_BYTES: u64 = 4 * 1024 * 1024;

/// One spooled Kafka record.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SpoolRecord {
    pub topic: String,
    pub key: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub value: Vec<u8>,
}

/// Never shows key, header values or value: they may hold personal data.
impl std::fmt::Debug for SpoolRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpoolRecord")
            .field("topic", &self.topic)
            .field("key_len", &self.key.len())
            .field("headers", &self.headers.len())
            .field("value_len", &self.value.len())
            .finish()
    }
}

/// One record, borrowed: what [`Spool::append`] encodes and what the drain decodes from
/// a frame and sends, without copying key, headers and value into owned buffers.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct RecordRef<'a> {
    pub topic: &'a str,
    pub key: &'a [u8],
    pub headers: Vec<(&'a str, &'a [u8])>,
    pub value: &'a [u8],
}

impl RecordRef<'_> {
    #[cfg(test)]
    pub(crate) fn to_owned(&self) -> SpoolRecord {
        SpoolRecord {
            topic: self.topic.to_owned(),
            key: self.key.to_vec(),
            headers: self
                .headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.to_vec()))
                .collect(),
            value: self.value.to_vec(),
        }
    }
}

impl<'a> From<&'a SpoolRecord> for RecordRef<'a> {
    fn from(r: &'a SpoolRecord) -> Self {
        RecordRef {
            topic: &r.topic,
            key: &r.key,
            headers: r
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_slice()))
                .collect(),
            value: &r.value,
        }
    }
}

/// Bounds of the spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolLimits {
    /// Largest total size of unacknowledged records, in bytes. Default 1 GiB.
    pub max_bytes: u64,
    /// Largest number of unacknowledged records. Default 1,000,000.
    pub max_records: u64,
}

impl Default for SpoolLimits {
    fn default() -> Self {
        SpoolLimits {
            max_bytes: 1024 * 1024 * 1024,
            max_records: 1_000_000,
        }
    }
}

/// What opening a spool found on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Segment files read.
    pub segments: usize,
    /// Intact, unacknowledged records: they will be delivered.
    pub records_recovered: u64,
    /// Intact records that were acknowledged before the restart: not sent again.
    pub records_already_acked: u64,
    /// Damaged regions skipped (each holds at least one record that is lost).
    pub skipped_records: u64,
    /// Bytes in the damaged regions.
    pub skipped_bytes: u64,
    /// File names of segments with damage.
    pub damaged_segments: Vec<String>,
    /// Ack files with a damaged or partial entry (only causes duplicates).
    pub damaged_ack_files: u64,
}

/// A spool failure. Never contains record content.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SpoolError {
    /// A file system operation failed.
    #[error("spool {path}: {op} failed: {source}")]
    Io {
        /// File or directory.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The OS error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// Another process holds the spool directory.
    #[error("spool {path} is locked by another process (one producer per spool directory)")]
    Locked {
        /// The spool directory.
        path: PathBuf,
    },
    /// The spool is at its bound; the event was not accepted.
    #[error("spool full: {records} records / {bytes} bytes (limits {max_records} records / {max_bytes} bytes)")]
    Full {
        /// Records in the spool.
        records: u64,
        /// Bytes in the spool.
        bytes: u64,
        /// Record bound.
        max_records: u64,
        /// Byte bound.
        max_bytes: u64,
    },
    /// A single record is larger than a frame can hold (64 MiB).
    #[error("record too large for the spool")]
    RecordTooLarge,
    /// The spool was closed by `shutdown`.
    #[error("spool is closed (producer shut down)")]
    Closed,
    /// A record was damaged on disk after it was written.
    #[error("spool record seq {seq} is damaged on disk ({kind:?})")]
    Damaged {
        /// Its sequence number.
        seq: u64,
        /// What is wrong.
        kind: FrameDamage,
    },
}

#[cfg(test)]
mod tests;
