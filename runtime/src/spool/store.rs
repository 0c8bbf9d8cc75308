//! The spool's in-memory side: the index of live records, the segments, and the write
//! buffer of bytes not yet known to be on disk. No file system call happens here except
//! reading a record that is already on disk ([`for_each_loaded`]); writing, fsyncing and
//! deleting files is the commit's job (`commit.rs`), outside the producer's lock.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use super::frame::{self, FrameDamage};
use super::io::{self, Io};
#[cfg(test)]
use super::SpoolRecord;
use super::{RecordRef, RecoveryReport, SpoolError, SpoolLimits};

/// While the disk is failing, at most this many bytes are held in memory (and at most the
/// spool's byte bound); a new record beyond it is refused with the disk's error.
pub(crate) const MAX_MEMORY_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Loc {
    pub segment: u64,
    pub offset: u64,
    pub len: u32,
}

/// Bytes of a segment handed to a commit, kept until the commit's fsync succeeded.
#[derive(Clone)]
pub(crate) struct Chunk {
    pub offset: u64,
    pub bytes: Arc<Vec<u8>>,
}

pub(crate) struct Segment {
    /// `None` until a commit has created the file.
    pub file: Option<Arc<File>>,
    /// Unacknowledged records in this segment.
    pub live: u64,
    /// Logical length: header plus every frame appended.
    pub len: u64,
    /// Bytes below this offset are on disk and fsynced; the rest is in `frozen` + `tail`.
    pub synced: u64,
    /// Handed to a commit, not yet fsynced (rewritten by the next commit if that failed).
    pub frozen: Vec<Chunk>,
    /// Appended since the last commit began; starts at `tail_offset`.
    pub tail: Vec<u8>,
    pub tail_offset: u64,
    /// Ack entries not yet written to the ack file.
    pub pending_acks: Vec<u8>,
    pub ack_file: Option<Arc<File>>,
}

impl Segment {
    /// A segment already on disk (found by recovery).
    pub(crate) fn on_disk(file: File, live: u64, len: u64) -> Segment {
        Segment {
            file: Some(Arc::new(file)),
            live,
            len,
            synced: len,
            frozen: Vec::new(),
            tail: Vec::new(),
            tail_offset: len,
            pending_acks: Vec::new(),
            ack_file: None,
        }
    }

    /// A new segment, only in memory until a commit creates its file.
    fn new_in_memory() -> Segment {
        let header = frame::segment_header();
        Segment {
            file: None,
            live: 0,
            len: header.len() as u64,
            synced: 0,
            frozen: Vec::new(),
            tail: header.to_vec(),
            tail_offset: 0,
            pending_acks: Vec::new(),
            ack_file: None,
        }
    }

    /// Bytes held in memory.
    pub(crate) fn unsynced(&self) -> u64 {
        self.len - self.synced
    }

    /// Whether any frame (not just the header) is waiting for the disk.
    pub(crate) fn has_unsynced_frames(&self) -> bool {
        self.unsynced() > 0 && self.len > frame::SEGMENT_HEADER_LEN as u64
    }
}

/// Where a record's bytes are; loaded without the producer's lock.
pub(crate) enum RecordSource {
    Memory {
        seq: u64,
        bytes: Arc<Vec<u8>>,
        start: usize,
        len: usize,
    },
    Copied {
        seq: u64,
        bytes: Vec<u8>,
    },
    Disk {
        file: Arc<File>,
        path: PathBuf,
        offset: u64,
        len: usize,
    },
}

/// Check a frame read for `seq`.
fn decode_checked(seq: u64, bytes: &[u8]) -> Result<RecordRef<'_>, SpoolError> {
    match frame::decode_frame_ref(bytes) {
        Ok((s, rec)) if s == seq => Ok(rec),
        Ok(_) => Err(SpoolError::Damaged {
            seq,
            kind: FrameDamage::BadBody,
        }),
        Err(kind) => Err(SpoolError::Damaged { seq, kind }),
    }
}

/// Most bytes read from disk at once by [`for_each_loaded`].
const MAX_BATCH_READ: u64 = 4 * 1024 * 1024;

/// Load a batch of records (in order), reading adjacent on-disk frames of one segment with
/// a single read, and hand each to `f`, borrowed from the read buffer (`None` where the
/// record was gone). Stops early when `f` returns `false`.
pub(crate) fn for_each_loaded(
    batch: Vec<(u64, Option<RecordSource>)>,
    mut f: impl FnMut(u64, Option<Result<RecordRef<'_>, SpoolError>>) -> bool,
) {
    let mut i = 0;
    while i < batch.len() {
        let (seq, source) = &batch[i];
        let Some(RecordSource::Disk {
            file, path, offset, ..
        }) = source
        else {
            let go_on = match source {
                None => f(*seq, None),
                Some(RecordSource::Memory {
                    seq,
                    bytes,
                    start,
                    len,
                }) => f(
                    *seq,
                    Some(decode_checked(*seq, &bytes[*start..*start + *len])),
                ),
                Some(RecordSource::Copied { seq, bytes }) => {
                    f(*seq, Some(decode_checked(*seq, bytes)))
                }
                Some(RecordSource::Disk { .. }) => unreachable!("matched above"),
            };
            if !go_on {
                return;
            }
            i += 1;
            continue;
        };
        // The run of frames that follow each other in the same file.
        let mut end = *offset;
        let mut j = i;
        while let Some((
            _,
            Some(RecordSource::Disk {
                file: f,
                offset: o,
                len: l,
                ..
            }),
        )) = batch.get(j)
        {
            if !Arc::ptr_eq(f, file) || *o != end || end + *l as u64 - offset > MAX_BATCH_READ {
                break;
            }
            end += *l as u64;
            j += 1;
        }
        let j = j.max(i + 1);
        let mut buf = vec![0u8; (end - offset) as usize];
        let read = io::read_at(file, &mut buf, *offset).map_err(io::io_err(path, "read"));
        for (seq, source) in &batch[i..j] {
            let Some(RecordSource::Disk { offset: o, len, .. }) = source else {
                continue;
            };
            let result = match &read {
                Ok(()) => {
                    let start = (o - offset) as usize;
                    decode_checked(*seq, &buf[start..start + len])
                }
                Err(e) => Err(e.clone()),
            };
            if !f(*seq, Some(result)) {
                return;
            }
        }
        i = j;
    }
}

/// [`for_each_loaded`] into owned records.
#[cfg(test)]
pub(crate) fn load_batch(
    batch: Vec<(u64, Option<RecordSource>)>,
) -> Vec<(u64, Option<Result<SpoolRecord, SpoolError>>)> {
    let mut out = Vec::with_capacity(batch.len());
    for_each_loaded(batch, |seq, loaded| {
        out.push((seq, loaded.map(|r| r.map(|r| r.to_owned()))));
        true
    });
    out
}

impl RecordSource {
    /// Read and check the record.
    #[cfg(test)]
    pub(crate) fn load(self, seq: u64) -> Result<SpoolRecord, SpoolError> {
        match load_batch(vec![(seq, Some(self))]).pop() {
            Some((_, Some(result))) => result,
            _ => Err(SpoolError::Damaged {
                seq,
                kind: FrameDamage::BadBody,
            }),
        }
    }
}

/// The spool (see the module docs). Not thread-safe by itself: the producer keeps it behind
/// its lock and runs the file system part of a commit outside it.
pub(crate) struct Spool {
    pub(super) dir: PathBuf,
    pub(super) io: Io,
    pub(super) limits: SpoolLimits,
    pub(super) segment_bytes: u64,
    pub(super) lock: Option<File>,
    pub(super) closed: bool,
    pub(super) index: BTreeMap<u64, Loc>,
    pub(super) segments: BTreeMap<u64, Segment>,
    pub(super) active_id: u64,
    pub(super) live_bytes: u64,
    /// Bytes held in memory over all segments (not yet fsynced).
    pub(super) memory_bytes: u64,
    /// A segment file was created: the directory needs an fsync.
    pub(super) dir_dirty: bool,
    /// Files of deleted segments, removed by the next commit.
    pub(super) to_delete: Vec<PathBuf>,
    /// The last commit's error, while the disk keeps failing.
    pub(super) disk_error: Option<SpoolError>,
    pub(super) scratch: Vec<u8>,
    pub(super) next_seq: u64,
    pub(super) recovery: RecoveryReport,
}

impl Spool {
    /// Put a new, in-memory active segment after the recovered ones.
    pub(super) fn start_active(&mut self, id: u64) {
        let seg = Segment::new_in_memory();
        self.memory_bytes += seg.len;
        self.segments.insert(id, seg);
        self.active_id = id;
    }

    /// What opening found.
    pub(crate) fn recovery(&self) -> &RecoveryReport {
        &self.recovery
    }

    /// First sequence number not used by any record on disk.
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Unacknowledged records.
    pub(crate) fn len(&self) -> u64 {
        self.index.len() as u64
    }

    /// Whether nothing is waiting.
    pub(crate) fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Bytes of unacknowledged records.
    pub(crate) fn bytes(&self) -> u64 {
        self.live_bytes
    }

    /// Bytes held only in memory (written to disk by the next successful commit).
    pub(crate) fn memory_bytes(&self) -> u64 {
        self.memory_bytes
    }

    /// Whether any record has `seq` in `range`.
    pub(crate) fn has_in<R: std::ops::RangeBounds<u64>>(&self, range: R) -> bool {
        self.index.range(range).next().is_some()
    }

    /// Up to `max` sequence numbers `>= from`, ascending.
    pub(crate) fn seqs_from(&self, from: u64, max: usize) -> Vec<u64> {
        self.index
            .range(from..)
            .take(max)
            .map(|(s, _)| *s)
            .collect()
    }

    /// Whether `seq` is still in the spool and fsynced. `None` if it is gone (acknowledged).
    pub(crate) fn is_durable(&self, seq: u64) -> Option<bool> {
        let loc = self.index.get(&seq)?;
        let seg = self.segments.get(&loc.segment)?;
        Some(seg.synced >= loc.offset + u64::from(loc.len))
    }

    /// Append a record. With `enforce_limits`, refuse it when the spool is at its bound, or
    /// when the disk is failing and the memory it may hold is used up. Never touches the
    /// disk: the bytes stay in memory until a commit has written and fsynced them.
    pub(crate) fn append<'r>(
        &mut self,
        seq: u64,
        record: impl Into<RecordRef<'r>>,
        enforce_limits: bool,
    ) -> Result<(), SpoolError> {
        let record = record.into();
        if self.closed {
            return Err(SpoolError::Closed);
        }
        self.scratch.clear();
        let len = frame::encode_frame(&mut self.scratch, seq, &record)
            .map_err(|_| SpoolError::RecordTooLarge)? as u64;
        if enforce_limits && self.disk_error.is_some() {
            let cap = MAX_MEMORY_BYTES.min(self.limits.max_bytes);
            if self.memory_bytes + len > cap {
                // Acknowledged records still take memory in the active segment: start a new
                // one, so the old one is dropped once its last live record is acknowledged.
                self.rotate();
            }
            if self.memory_bytes + len > cap {
                if let Some(err) = &self.disk_error {
                    return Err(err.clone());
                }
            }
        }
        if enforce_limits
            && (self.index.len() as u64 >= self.limits.max_records
                || self.live_bytes + len > self.limits.max_bytes)
        {
            return Err(SpoolError::Full {
                records: self.index.len() as u64,
                bytes: self.live_bytes,
                max_records: self.limits.max_records,
                max_bytes: self.limits.max_bytes,
            });
        }
        let active_len = self.segments.get(&self.active_id).map_or(0, |s| s.len);
        if active_len + len > self.segment_bytes && active_len > frame::SEGMENT_HEADER_LEN as u64 {
            self.rotate();
        }
        let Some(seg) = self.segments.get_mut(&self.active_id) else {
            return Err(SpoolError::Closed);
        };
        let offset = seg.len;
        seg.tail.extend_from_slice(&self.scratch);
        seg.len += len;
        seg.live += 1;
        self.memory_bytes += len;
        self.live_bytes += len;
        self.next_seq = self.next_seq.max(seq + 1);
        self.index.insert(
            seq,
            Loc {
                segment: self.active_id,
                offset,
                len: len as u32,
            },
        );
        Ok(())
    }

    /// Start a new active segment (in memory; its file is created by the next commit).
    fn rotate(&mut self) {
        let old = self.active_id;
        if self.segments.get(&old).map_or(0, |s| s.len) <= frame::SEGMENT_HEADER_LEN as u64 {
            return;
        }
        self.start_active(old + 1);
        if self.segments.get(&old).is_some_and(|s| s.live == 0) {
            self.delete_segment(old);
        }
    }

    /// Forget a segment; its files are removed by the next commit.
    fn delete_segment(&mut self, id: u64) {
        if let Some(seg) = self.segments.remove(&id) {
            self.memory_bytes -= seg.unsynced();
            if seg.file.is_some() {
                self.to_delete.push(io::seg_path(&self.dir, id));
            }
            if seg.ack_file.is_some() || seg.file.is_some() {
                self.to_delete.push(io::ack_path(&self.dir, id));
            }
        }
    }

    /// Where the record `seq` is, to be loaded without the lock. `None` if it is gone.
    pub(crate) fn locate(&self, seq: u64) -> Option<RecordSource> {
        let loc = *self.index.get(&seq)?;
        let seg = self.segments.get(&loc.segment)?;
        let len = loc.len as usize;
        if loc.offset >= seg.tail_offset {
            let start = (loc.offset - seg.tail_offset) as usize;
            return Some(RecordSource::Copied {
                seq,
                bytes: seg.tail.get(start..start + len)?.to_vec(),
            });
        }
        if loc.offset >= seg.synced {
            let chunk = seg.frozen.iter().find(|c| {
                c.offset <= loc.offset && loc.offset + len as u64 <= c.offset + c.bytes.len() as u64
            })?;
            return Some(RecordSource::Memory {
                seq,
                bytes: chunk.bytes.clone(),
                start: (loc.offset - chunk.offset) as usize,
                len,
            });
        }
        Some(RecordSource::Disk {
            file: seg.file.clone()?,
            path: io::seg_path(&self.dir, loc.segment),
            offset: loc.offset,
            len,
        })
    }

    /// Read the record `seq`. `Ok(None)` if it is no longer in the spool.
    #[cfg(test)]
    pub(crate) fn read(&self, seq: u64) -> Result<Option<SpoolRecord>, SpoolError> {
        self.locate(seq).map(|src| src.load(seq)).transpose()
    }

    /// Remove `seq` (acknowledged by Kafka, permanently rejected, or found damaged).
    /// Returns whether it was there. No file system call: ack entries and deletions are
    /// written by the next commit.
    pub(crate) fn ack(&mut self, seq: u64) -> bool {
        let Some(loc) = self.index.remove(&seq) else {
            return false;
        };
        self.live_bytes -= u64::from(loc.len);
        if self.closed {
            // Another process may own the directory now: touch no files.
            return true;
        }
        let mut empty_closed = false;
        if let Some(seg) = self.segments.get_mut(&loc.segment) {
            seg.live = seg.live.saturating_sub(1);
            if seg.live == 0 && loc.segment != self.active_id {
                empty_closed = true;
            } else {
                frame::encode_ack(&mut seg.pending_acks, seq);
            }
        }
        if empty_closed {
            self.delete_segment(loc.segment);
        }
        let active_len = self.segments.get(&self.active_id).map_or(0, |s| s.len);
        if self.index.is_empty() && active_len >= self.segment_bytes / 4 {
            // Reclaim the space now rather than when the segment fills.
            self.rotate();
        }
        true
    }
}
