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
//! acknowledged, the segment and its ack file are deleted. When the spool empties and the
//! active segment has grown past a quarter of the segment size, it is rotated and deleted too.
//!
//! # Durability (fsync policy)
//!
//! Appends go to a buffered writer. A group commit (run by the producer every
//! `fsync_interval`, and at shutdown) writes the buffer, writes pending ack entries, and
//! `fdatasync`s every segment written since the previous commit, plus the directory when a
//! segment was created. A publish handle reports `Spooled` only after the commit that
//! covers its record, so "spooled" always means "on disk". Both modes use the same commit;
//! they differ in what they spool (`outage`: only what Kafka could not take;
//! `write-ahead`: everything, before librdkafka sees it).
//!
//! # Bounds
//!
//! The spool is bounded by bytes (sum of live frames) and record count. A new publish that
//! would exceed either bound is rejected with [`SpoolError::Full`] at once: publishing
//! never blocks, and nothing is dropped silently. Events that librdkafka already holds and
//! then fails are always spooled, even past the bound (the overshoot is limited by
//! librdkafka's own queue size), because they were already accepted.
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

mod frame;

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use frame::FrameDamage;

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
        source: Arc<io::Error>,
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

fn io_err<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(io::Error) -> SpoolError + 'a {
    move |source| SpoolError::Io {
        path: path.to_owned(),
        op,
        source: Arc::new(source),
    }
}

#[derive(Debug, Clone, Copy)]
struct Loc {
    segment: u64,
    offset: u64,
    len: u32,
}

struct Segment {
    /// Read/sync handle (the active segment is written through `Spool::writer`).
    file: Arc<File>,
    live: u64,
    pending_acks: Vec<u8>,
    ack_file: Option<File>,
}

/// Files to fsync for one group commit; run outside the producer's lock.
pub(crate) struct CommitTicket {
    files: Vec<Arc<File>>,
    dir: Option<PathBuf>,
}

impl CommitTicket {
    /// Whether the commit has nothing to sync.
    pub(crate) fn is_empty(&self) -> bool {
        self.files.is_empty() && self.dir.is_none()
    }

    /// `fdatasync` the written segments (and the directory if a segment was created).
    pub(crate) fn sync(self) -> Result<(), SpoolError> {
        for f in &self.files {
            f.sync_data().map_err(|source| SpoolError::Io {
                path: PathBuf::from("<segment>"),
                op: "fsync",
                source: Arc::new(source),
            })?;
        }
        if let Some(dir) = &self.dir {
            sync_dir(dir)?;
        }
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> Result<(), SpoolError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(dir, "fsync directory"))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// The on-disk spool (see the module docs). Not thread-safe by itself: the producer keeps
/// it behind its lock and runs the fsync part of a commit outside it.
pub(crate) struct Spool {
    dir: PathBuf,
    limits: SpoolLimits,
    segment_bytes: u64,
    lock: Option<File>,
    closed: bool,
    index: BTreeMap<u64, Loc>,
    segments: BTreeMap<u64, Segment>,
    active_id: u64,
    writer: BufWriter<File>,
    active_written: u64,
    active_flushed: u64,
    live_bytes: u64,
    to_sync: Vec<Arc<File>>,
    active_dirty: bool,
    dir_dirty: bool,
    scratch: Vec<u8>,
    next_seq: u64,
    recovery: RecoveryReport,
}

fn seg_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.seg"))
}

fn ack_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.ack"))
}

#[cfg(unix)]
fn lock_dir(dir: &Path) -> Result<File, SpoolError> {
    use std::os::unix::io::AsRawFd;
    let path = dir.join("spool.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path, "open lock file"))?;
    // SAFETY: flock on a valid, open file descriptor owned by `file`.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::WouldBlock {
            return Err(SpoolError::Locked {
                path: dir.to_owned(),
            });
        }
        return Err(io_err(&path, "lock")(err));
    }
    Ok(file)
}

#[cfg(not(unix))]
fn lock_dir(dir: &Path) -> Result<File, SpoolError> {
    let path = dir.join("spool.lock");
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path, "open lock file"))
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = file.seek_read(buf, offset)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        offset += n as u64;
    }
    Ok(())
}

fn parse_id(name: &str, ext: &str) -> Option<u64> {
    let stem = name.strip_suffix(ext)?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

impl Spool {
    /// Open (creating if needed) the spool in `dir`, recovering what is there.
    pub(crate) fn open(
        dir: &Path,
        limits: SpoolLimits,
        segment_bytes: u64,
    ) -> Result<Spool, SpoolError> {
        fs::create_dir_all(dir).map_err(io_err(dir, "create directory"))?;
        let lock = lock_dir(dir)?;
        let mut seg_ids = Vec::new();
        let mut ack_ids = Vec::new();
        for entry in fs::read_dir(dir).map_err(io_err(dir, "list directory"))? {
            let entry = entry.map_err(io_err(dir, "list directory"))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(id) = parse_id(name, ".seg") {
                seg_ids.push(id);
            } else if let Some(id) = parse_id(name, ".ack") {
                ack_ids.push(id);
            }
        }
        seg_ids.sort_unstable();
        let mut report = RecoveryReport::default();
        let mut index = BTreeMap::new();
        let mut segments = BTreeMap::new();
        let mut live_bytes = 0u64;
        let mut max_seq = 0u64;
        for &id in &seg_ids {
            let path = seg_path(dir, id);
            let buf = fs::read(&path).map_err(io_err(&path, "read segment"))?;
            report.segments += 1;
            let scan = frame::scan_segment(&buf);
            let apath = ack_path(dir, id);
            let acked: HashSet<u64> = match fs::read(&apath) {
                Ok(bytes) => {
                    let (seqs, damaged) = frame::decode_acks(&bytes);
                    if damaged {
                        report.damaged_ack_files += 1;
                    }
                    seqs.into_iter().collect()
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => HashSet::new(),
                Err(e) => return Err(io_err(&apath, "read ack file")(e)),
            };
            if !scan.damaged.is_empty() || scan.bad_header {
                report.damaged_segments.push(format!("{id:020}.seg"));
            }
            for d in &scan.damaged {
                report.skipped_records += 1;
                report.skipped_bytes += d.bytes;
            }
            let mut live = 0u64;
            for r in &scan.records {
                max_seq = max_seq.max(r.seq);
                if acked.contains(&r.seq) {
                    report.records_already_acked += 1;
                    continue;
                }
                if index.contains_key(&r.seq) {
                    // The same seq twice can only come from damage that happens to
                    // checksum; keep the first copy.
                    continue;
                }
                index.insert(
                    r.seq,
                    Loc {
                        segment: id,
                        offset: r.offset,
                        len: r.len,
                    },
                );
                live += 1;
                live_bytes += u64::from(r.len);
            }
            report.records_recovered += live;
            if live == 0 {
                remove_file_quiet(&path);
                remove_file_quiet(&apath);
                continue;
            }
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .map_err(io_err(&path, "open segment"))?;
            segments.insert(
                id,
                Segment {
                    file: Arc::new(file),
                    live,
                    pending_acks: Vec::new(),
                    ack_file: None,
                },
            );
        }
        for id in ack_ids {
            if !segments.contains_key(&id) {
                remove_file_quiet(&ack_path(dir, id));
            }
        }
        let active_id = seg_ids.last().map_or(1, |m| m + 1);
        let (writer, read_handle) = create_segment(dir, active_id)?;
        segments.insert(
            active_id,
            Segment {
                file: read_handle,
                live: 0,
                pending_acks: Vec::new(),
                ack_file: None,
            },
        );
        let header = frame::SEGMENT_HEADER_LEN as u64;
        Ok(Spool {
            dir: dir.to_owned(),
            limits,
            segment_bytes: segment_bytes.max(64 * 1024),
            lock: Some(lock),
            closed: false,
            index,
            segments,
            active_id,
            writer,
            active_written: header,
            active_flushed: header,
            live_bytes,
            to_sync: Vec::new(),
            active_dirty: false,
            dir_dirty: true,
            scratch: Vec::with_capacity(4096),
            next_seq: max_seq + 1,
            recovery: report,
        })
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

    /// Append a record. With `enforce_limits`, refuse it when the spool is at its bound.
    pub(crate) fn append(
        &mut self,
        seq: u64,
        record: &SpoolRecord,
        enforce_limits: bool,
    ) -> Result<(), SpoolError> {
        if self.closed {
            return Err(SpoolError::Closed);
        }
        self.scratch.clear();
        let len = frame::encode_frame(&mut self.scratch, seq, record)
            .map_err(|_| SpoolError::RecordTooLarge)? as u64;
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
        if self.active_written + len > self.segment_bytes
            && self.active_written > frame::SEGMENT_HEADER_LEN as u64
        {
            self.rotate()?;
        }
        let offset = self.active_written;
        if let Err(e) = self.writer.write_all(&self.scratch) {
            // The buffered writer may hold part of the frame; start a fresh segment so the
            // damage stays at this segment's tail.
            let err = io_err(&seg_path(&self.dir, self.active_id), "write")(e);
            let _ = self.rotate();
            return Err(err);
        }
        self.active_written += len;
        self.active_dirty = true;
        self.next_seq = self.next_seq.max(seq + 1);
        self.index.insert(
            seq,
            Loc {
                segment: self.active_id,
                offset,
                len: len as u32,
            },
        );
        self.live_bytes += len;
        if let Some(seg) = self.segments.get_mut(&self.active_id) {
            seg.live += 1;
        }
        Ok(())
    }

    fn flush_writer(&mut self) -> Result<(), SpoolError> {
        if self.active_flushed < self.active_written {
            self.writer
                .flush()
                .map_err(io_err(&seg_path(&self.dir, self.active_id), "write"))?;
            self.active_flushed = self.active_written;
        }
        Ok(())
    }

    fn rotate(&mut self) -> Result<(), SpoolError> {
        let _ = self.flush_writer();
        let old = self.active_id;
        let new_id = old + 1;
        let (writer, handle) = create_segment(&self.dir, new_id)?;
        if let Some(seg) = self.segments.get(&old) {
            if self.active_dirty {
                self.to_sync.push(seg.file.clone());
            }
        }
        self.writer = writer;
        self.active_id = new_id;
        self.active_written = frame::SEGMENT_HEADER_LEN as u64;
        self.active_flushed = self.active_written;
        self.active_dirty = false;
        self.dir_dirty = true;
        self.segments.insert(
            new_id,
            Segment {
                file: handle,
                live: 0,
                pending_acks: Vec::new(),
                ack_file: None,
            },
        );
        if self.segments.get(&old).is_some_and(|s| s.live == 0) {
            self.delete_segment(old);
        }
        Ok(())
    }

    fn delete_segment(&mut self, id: u64) {
        if self.segments.remove(&id).is_some() {
            remove_file_quiet(&seg_path(&self.dir, id));
            remove_file_quiet(&ack_path(&self.dir, id));
        }
    }

    /// Read the record `seq`. `Ok(None)` if it is no longer in the spool.
    pub(crate) fn read(&mut self, seq: u64) -> Result<Option<SpoolRecord>, SpoolError> {
        let Some(loc) = self.index.get(&seq).copied() else {
            return Ok(None);
        };
        if loc.segment == self.active_id && loc.offset + u64::from(loc.len) > self.active_flushed {
            self.flush_writer()?;
        }
        let Some(seg) = self.segments.get(&loc.segment) else {
            return Ok(None);
        };
        let mut buf = vec![0u8; loc.len as usize];
        read_at(&seg.file, &mut buf, loc.offset)
            .map_err(io_err(&seg_path(&self.dir, loc.segment), "read"))?;
        match frame::decode_frame(&buf) {
            Ok((s, rec)) if s == seq => Ok(Some(rec)),
            Ok(_) => Err(SpoolError::Damaged {
                seq,
                kind: FrameDamage::BadBody,
            }),
            Err(kind) => Err(SpoolError::Damaged { seq, kind }),
        }
    }

    /// Remove `seq` (acknowledged by Kafka, or permanently rejected, or found damaged).
    /// Returns whether it was there.
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
        if self.index.is_empty() && self.active_written >= self.segment_bytes / 4 {
            // Reclaim the space now rather than when the segment fills.
            let _ = self.rotate();
        }
        true
    }

    /// First half of a group commit, under the producer's lock: hand buffered frames and
    /// ack entries to the OS and collect the files to fsync.
    pub(crate) fn prepare_commit(&mut self) -> Result<CommitTicket, SpoolError> {
        if self.closed {
            return Ok(CommitTicket {
                files: Vec::new(),
                dir: None,
            });
        }
        self.flush_writer()?;
        let dir = self.dir.clone();
        for (id, seg) in self.segments.iter_mut() {
            if seg.pending_acks.is_empty() {
                continue;
            }
            if seg.ack_file.is_none() {
                let path = ack_path(&dir, *id);
                let f = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(io_err(&path, "open ack file"))?;
                seg.ack_file = Some(f);
            }
            if let Some(f) = seg.ack_file.as_mut() {
                // A failed ack write only risks a duplicate later; keep going.
                let _ = f.write_all(&seg.pending_acks);
            }
            seg.pending_acks.clear();
        }
        let mut files = std::mem::take(&mut self.to_sync);
        if self.active_dirty {
            if let Some(seg) = self.segments.get(&self.active_id) {
                files.push(seg.file.clone());
            }
            self.active_dirty = false;
        }
        let dir = if self.dir_dirty {
            self.dir_dirty = false;
            Some(self.dir.clone())
        } else {
            None
        };
        Ok(CommitTicket { files, dir })
    }

    /// A full commit in one call (for shutdown and tests).
    pub(crate) fn commit(&mut self) -> Result<(), SpoolError> {
        self.prepare_commit()?.sync()
    }

    /// Commit and release the directory, so another producer can open it at once. Later
    /// appends fail with [`SpoolError::Closed`]; acks no longer touch files.
    pub(crate) fn close(&mut self) -> Result<(), SpoolError> {
        let result = self.commit();
        self.closed = true;
        self.lock = None;
        result
    }
}

fn create_segment(dir: &Path, id: u64) -> Result<(BufWriter<File>, Arc<File>), SpoolError> {
    let path = seg_path(dir, id);
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)
        .map_err(io_err(&path, "create segment"))?;
    file.write_all(&frame::segment_header())
        .map_err(io_err(&path, "write"))?;
    let handle = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(io_err(&path, "open segment"))?;
    Ok((BufWriter::with_capacity(256 * 1024, file), Arc::new(handle)))
}

fn remove_file_quiet(path: &Path) {
    if let Err(e) = fs::remove_file(path) {
        if e.kind() != io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), error = %e, "could not delete spool file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(i: u64) -> SpoolRecord {
        SpoolRecord {
            topic: "t".into(),
            key: format!("k{}", i % 3).into_bytes(),
            headers: vec![("event_id".into(), format!("e{i}").into_bytes())],
            value: vec![b'v'; 100 + (i % 10) as usize],
        }
    }

    fn open(dir: &Path) -> Spool {
        Spool::open(dir, SpoolLimits::default(), 64 * 1024).unwrap()
    }

    #[test]
    fn records_survive_reopen_in_seq_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = open(dir.path());
        // Written out of seq order, as failed in-flight events are.
        for seq in [5u64, 6, 2, 7, 3] {
            s.append(seq, &rec(seq), true).unwrap();
        }
        s.commit().unwrap();
        assert!(s.ack(6));
        s.commit().unwrap();
        drop(s);
        let mut s = open(dir.path());
        assert_eq!(s.recovery().records_recovered, 4);
        assert_eq!(s.recovery().records_already_acked, 1);
        assert_eq!(s.seqs_from(0, 100), vec![2, 3, 5, 7]);
        assert_eq!(s.read(3).unwrap().unwrap(), rec(3));
        assert_eq!(s.next_seq(), 8);
    }

    #[test]
    fn a_second_open_of_the_same_dir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let _s = open(dir.path());
        let err = Spool::open(dir.path(), SpoolLimits::default(), 64 * 1024)
            .err()
            .unwrap();
        assert!(matches!(err, SpoolError::Locked { .. }), "{err}");
    }

    #[test]
    fn segments_rotate_and_are_deleted_when_fully_acked() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = open(dir.path());
        for seq in 1..=2000u64 {
            s.append(seq, &rec(seq), true).unwrap();
        }
        s.commit().unwrap();
        let count = |d: &Path| {
            fs::read_dir(d)
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .ends_with(".seg")
                })
                .count()
        };
        let before = count(dir.path());
        assert!(before > 2, "{before}");
        for seq in 1..=1000u64 {
            s.ack(seq);
        }
        assert!(count(dir.path()) < before);
        for seq in 1001..=2000u64 {
            s.ack(seq);
        }
        assert!(s.is_empty());
        assert_eq!(s.bytes(), 0);
        assert_eq!(
            count(dir.path()),
            1,
            "only the fresh active segment is left"
        );
    }

    #[test]
    fn limits_reject_new_records_but_not_forced_ones() {
        let dir = tempfile::tempdir().unwrap();
        let limits = SpoolLimits {
            max_bytes: u64::MAX,
            max_records: 3,
        };
        let mut s = Spool::open(dir.path(), limits, 64 * 1024).unwrap();
        for seq in 1..=3 {
            s.append(seq, &rec(seq), true).unwrap();
        }
        let err = s.append(4, &rec(4), true).unwrap_err();
        assert!(matches!(err, SpoolError::Full { records: 3, .. }), "{err}");
        s.append(4, &rec(4), false).unwrap();
        assert_eq!(s.len(), 4);

        let dir = tempfile::tempdir().unwrap();
        let limits = SpoolLimits {
            max_bytes: 400,
            max_records: u64::MAX,
        };
        let mut s = Spool::open(dir.path(), limits, 64 * 1024).unwrap();
        s.append(1, &rec(1), true).unwrap();
        s.append(2, &rec(2), true).unwrap();
        assert!(matches!(
            s.append(3, &rec(3), true),
            Err(SpoolError::Full { .. })
        ));
    }

    fn only_segment(dir: &Path) -> PathBuf {
        let mut segs: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "seg"))
            .filter(|p| fs::metadata(p).unwrap().len() > frame::SEGMENT_HEADER_LEN as u64)
            .collect();
        assert_eq!(segs.len(), 1, "{segs:?}");
        segs.pop().unwrap()
    }

    #[test]
    fn corrupt_and_truncated_segment_recovers_up_to_the_damage() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = open(dir.path());
        for seq in 1..=100u64 {
            s.append(seq, &rec(seq), true).unwrap();
        }
        s.commit().unwrap();
        drop(s);
        let path = only_segment(dir.path());
        let mut bytes = fs::read(&path).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x40;
        let cut = bytes.len() - 20;
        bytes.truncate(cut);
        fs::write(&path, &bytes).unwrap();

        let mut s = open(dir.path());
        let r = s.recovery().clone();
        assert_eq!(r.skipped_records, 2, "{r:?}");
        assert_eq!(r.records_recovered, 98, "{r:?}");
        assert_eq!(r.damaged_segments.len(), 1);
        // Everything that was recovered reads back intact; the last record is the torn one.
        let seqs = s.seqs_from(0, 1000);
        assert_eq!(seqs.len(), 98);
        assert!(!seqs.contains(&100));
        for seq in seqs {
            assert_eq!(s.read(seq).unwrap().unwrap(), rec(seq));
        }
    }

    #[test]
    fn damaged_ack_file_only_causes_redelivery() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = open(dir.path());
        for seq in 1..=10u64 {
            s.append(seq, &rec(seq), true).unwrap();
        }
        for seq in 1..=4u64 {
            s.ack(seq);
        }
        s.commit().unwrap();
        drop(s);
        let ack = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "ack"))
            .unwrap();
        let mut bytes = fs::read(&ack).unwrap();
        bytes[frame::ACK_ENTRY_LEN * 2] ^= 1; // third entry
        fs::write(&ack, &bytes).unwrap();
        let s = open(dir.path());
        assert_eq!(s.recovery().damaged_ack_files, 1);
        assert_eq!(s.recovery().records_already_acked, 2);
        assert_eq!(s.seqs_from(0, 100), vec![3, 4, 5, 6, 7, 8, 9, 10]);
    }

    #[test]
    fn record_damaged_after_write_is_reported_on_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = open(dir.path());
        s.append(1, &rec(1), true).unwrap();
        s.commit().unwrap();
        let path = only_segment(dir.path());
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert!(matches!(s.read(1), Err(SpoolError::Damaged { seq: 1, .. })));
    }
}
