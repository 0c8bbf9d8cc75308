//! Opening a spool directory: lock it, read every segment and ack file, rebuild the index.
//! See "Corruption and recovery" in the [module docs](super).

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, OpenOptions};
use std::io;
use std::path::Path;

use super::frame;
use super::io::{ack_path, io_err, lock_dir, parse_id, remove_file_quiet, seg_path, Io};
use super::store::{Loc, Segment, Spool};
use super::{RecoveryReport, SpoolError, SpoolLimits};

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
            segments.insert(id, Segment::on_disk(file, live, buf.len() as u64));
        }
        for id in ack_ids {
            if !segments.contains_key(&id) {
                remove_file_quiet(&ack_path(dir, id));
            }
        }
        let active_id = seg_ids.last().map_or(1, |m| m + 1);
        let mut spool = Spool {
            dir: dir.to_owned(),
            io: Io::for_dir(dir),
            limits,
            segment_bytes: segment_bytes.max(64 * 1024),
            lock: Some(lock),
            closed: false,
            index,
            segments,
            active_id,
            live_bytes,
            memory_bytes: 0,
            dir_dirty: true,
            to_delete: Vec::new(),
            disk_error: None,
            scratch: Vec::with_capacity(4096),
            next_seq: max_seq + 1,
            recovery: report,
        };
        spool.start_active(active_id);
        Ok(spool)
    }
}
