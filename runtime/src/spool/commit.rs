//! Group commit: the only place the spool writes files.
//!
//! A commit has three steps. [`Spool::prepare_commit`] runs under the producer's lock and
//! only moves buffers: the bytes appended since the last commit are frozen into a chunk
//! (shared, not copied) and listed with every earlier chunk not yet fsynced.
//! [`CommitTicket::run`] runs without the lock: it creates segment files, writes the
//! chunks at their offsets, `fdatasync`s, fsyncs the directory after a create, appends ack
//! entries and deletes finished segments. [`Spool::finish_commit`] runs under the lock
//! again and marks what is now on disk.
//!
//! Segments are written in order and the commit stops at the first failure, so what is on
//! disk is always a prefix of what was appended. After a failure nothing is released from
//! memory: the next commit writes the same bytes at the same offsets again. That also covers
//! a failed `fsync`, after which Linux may have dropped the dirty pages while marking them
//! clean: the bytes are rewritten (dirtied again) before the next `fsync`.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use super::io::{self, Io};
use super::store::{Chunk, Spool};
use super::SpoolError;

struct SegmentWrite {
    id: u64,
    path: PathBuf,
    file: Option<Arc<File>>,
    chunks: Vec<Chunk>,
    end: u64,
}

struct AckWrite {
    id: u64,
    path: PathBuf,
    file: Option<Arc<File>>,
    bytes: Vec<u8>,
}

/// The file system work of one group commit (see the module docs).
pub(crate) struct CommitTicket {
    io: Io,
    dir: PathBuf,
    writes: Vec<SegmentWrite>,
    acks: Vec<AckWrite>,
    sync_dir: bool,
    deletes: Vec<PathBuf>,
}

/// What a commit did, for [`Spool::finish_commit`].
pub(crate) struct CommitOutcome {
    created: Vec<(u64, Arc<File>)>,
    synced: Vec<(u64, u64)>,
    ack_files: Vec<(u64, Arc<File>)>,
    dir_synced: bool,
    error: Option<SpoolError>,
}

impl CommitTicket {
    /// Whether there is nothing to do.
    pub(crate) fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.acks.is_empty() && !self.sync_dir && self.deletes.is_empty()
    }

    /// Do the file system work (without the producer's lock).
    pub(crate) fn run(self) -> CommitOutcome {
        let mut out = CommitOutcome {
            created: Vec::new(),
            synced: Vec::new(),
            ack_files: Vec::new(),
            dir_synced: false,
            error: None,
        };
        let mut created_now = Vec::new();
        for w in &self.writes {
            let file = match &w.file {
                Some(f) => f.clone(),
                None => match self.io.create(&w.path) {
                    Ok(f) => {
                        let f = Arc::new(f);
                        out.created.push((w.id, f.clone()));
                        created_now.push(w.id);
                        f
                    }
                    Err(e) => {
                        out.error = Some(e);
                        break;
                    }
                },
            };
            let written = w
                .chunks
                .iter()
                .try_for_each(|c| self.io.write_at(&file, &w.path, &c.bytes, c.offset))
                .and_then(|()| self.io.sync_data(&file, &w.path));
            if let Err(e) = written {
                out.error = Some(e);
                break;
            }
            out.synced.push((w.id, w.end));
        }
        if self.sync_dir || !created_now.is_empty() {
            match self.io.sync_dir(&self.dir) {
                Ok(()) => out.dir_synced = true,
                Err(e) => {
                    // A created file is not durable before its directory entry is.
                    out.synced.retain(|(id, _)| !created_now.contains(id));
                    out.error.get_or_insert(e);
                }
            }
        }
        for a in &self.acks {
            let file = match &a.file {
                Some(f) => f.clone(),
                None => match self.io.open_append(&a.path) {
                    Ok(f) => {
                        let f = Arc::new(f);
                        out.ack_files.push((a.id, f.clone()));
                        f
                    }
                    // A lost ack entry only causes a duplicate delivery later.
                    Err(_) => continue,
                },
            };
            let _ = self.io.append(&file, &a.path, &a.bytes);
        }
        for path in &self.deletes {
            io::remove_file_quiet(path);
        }
        out
    }
}

impl Spool {
    /// First step of a group commit, under the producer's lock: no file system call, only
    /// buffers change hands.
    pub(crate) fn prepare_commit(&mut self) -> CommitTicket {
        let mut ticket = CommitTicket {
            io: self.io.clone(),
            dir: self.dir.clone(),
            writes: Vec::new(),
            acks: Vec::new(),
            sync_dir: false,
            deletes: std::mem::take(&mut self.to_delete),
        };
        if self.closed {
            return ticket;
        }
        ticket.sync_dir = self.dir_dirty;
        for (&id, seg) in self.segments.iter_mut() {
            if seg.has_unsynced_frames() {
                if !seg.tail.is_empty() {
                    let bytes = Arc::new(std::mem::take(&mut seg.tail));
                    seg.frozen.push(Chunk {
                        offset: seg.tail_offset,
                        bytes,
                    });
                    seg.tail_offset = seg.len;
                }
                ticket.writes.push(SegmentWrite {
                    id,
                    path: io::seg_path(&self.dir, id),
                    file: seg.file.clone(),
                    chunks: seg.frozen.clone(),
                    end: seg.len,
                });
            }
            if !seg.pending_acks.is_empty() && (seg.file.is_some() || seg.has_unsynced_frames()) {
                ticket.acks.push(AckWrite {
                    id,
                    path: io::ack_path(&self.dir, id),
                    file: seg.ack_file.clone(),
                    bytes: std::mem::take(&mut seg.pending_acks),
                });
            }
        }
        ticket
    }

    /// Last step of a group commit, under the producer's lock: release what is on disk now.
    /// Returns the commit's error, if any (what it covered stays in memory).
    pub(crate) fn finish_commit(&mut self, out: CommitOutcome) -> Result<(), SpoolError> {
        for (id, file) in out.created {
            match self.segments.get_mut(&id) {
                Some(seg) => seg.file = Some(file),
                // Acknowledged completely while the commit ran.
                None => {
                    self.to_delete.push(io::seg_path(&self.dir, id));
                    self.to_delete.push(io::ack_path(&self.dir, id));
                }
            }
        }
        for (id, file) in out.ack_files {
            match self.segments.get_mut(&id) {
                Some(seg) => seg.ack_file = Some(file),
                None => self.to_delete.push(io::ack_path(&self.dir, id)),
            }
        }
        for (id, end) in out.synced {
            if let Some(seg) = self.segments.get_mut(&id) {
                let released = end.saturating_sub(seg.synced);
                seg.frozen.retain(|c| c.offset + c.bytes.len() as u64 > end);
                seg.synced = seg.synced.max(end);
                self.memory_bytes -= released;
            }
        }
        if out.dir_synced {
            self.dir_dirty = false;
        }
        match out.error {
            Some(e) => {
                self.dir_dirty = true;
                self.disk_error = Some(e.clone());
                Err(e)
            }
            None => {
                self.disk_error = None;
                Ok(())
            }
        }
    }

    /// A whole commit in one call (shutdown and tests).
    pub(crate) fn commit(&mut self) -> Result<(), SpoolError> {
        let out = self.prepare_commit().run();
        self.finish_commit(out)
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
