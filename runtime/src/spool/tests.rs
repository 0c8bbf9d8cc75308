//! Unit tests of the spool: format, recovery, bounds, and disk faults.

use std::fs;
use std::path::{Path, PathBuf};

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
    let s = open(dir.path());
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
    // Files are deleted by the next commit, outside the producer's lock.
    s.commit().unwrap();
    assert!(count(dir.path()) < before);
    for seq in 1001..=2000u64 {
        s.ack(seq);
    }
    s.commit().unwrap();
    assert!(s.is_empty());
    assert_eq!(s.bytes(), 0);
    assert_eq!(
        count(dir.path()),
        0,
        "no segment file is left (the fresh active one is created when it gets a record)"
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

    let s = open(dir.path());
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

#[test]
fn batch_load_reads_runs_of_frames_and_isolates_damage() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path());
    for seq in 1..=50u64 {
        s.append(seq, &rec(seq), true).unwrap();
    }
    s.commit().unwrap();
    s.ack(10);
    s.ack(11);
    // Records 51..=53 are appended after the commit: read from memory.
    for seq in 51..=53u64 {
        s.append(seq, &rec(seq), true).unwrap();
    }
    let loc = s.index[&30];
    let path = io::seg_path(dir.path(), loc.segment);
    let mut bytes = fs::read(&path).unwrap();
    bytes[(loc.offset + u64::from(loc.len) - 1) as usize] ^= 1;
    fs::write(&path, &bytes).unwrap();

    let seqs = s.seqs_from(0, 100);
    let batch = seqs.iter().map(|&q| (q, s.locate(q))).collect();
    let loaded = load_batch(batch);
    assert_eq!(loaded.len(), 51);
    for (seq, result) in loaded {
        match result.unwrap() {
            Err(SpoolError::Damaged { seq: 30, .. }) => assert_eq!(seq, 30),
            Ok(r) => assert_eq!(r, rec(seq)),
            Err(e) => panic!("seq {seq}: {e}"),
        }
    }
}

#[test]
fn a_failed_commit_keeps_records_readable_and_rewrites_them() {
    let dir = tempfile::tempdir().unwrap();
    let faults = SpoolFaults::install(dir.path());
    let mut s = open(dir.path());
    faults.set_fsync_fails(true);
    for seq in 1..=20u64 {
        s.append(seq, &rec(seq), true).unwrap();
    }
    assert!(s.commit().is_err());
    assert_eq!(s.is_durable(5), Some(false));
    assert_eq!(s.read(5).unwrap().unwrap(), rec(5));
    faults.set_fsync_fails(false);
    s.commit().unwrap();
    assert_eq!(s.is_durable(5), Some(true));
    assert_eq!(s.memory_bytes(), 0);
    drop(s);
    let s = open(dir.path());
    assert_eq!(s.recovery().records_recovered, 20);
}

/// A segment written by hand from the documented format (version 1): one record from before
/// the trace context headers and one with `traceparent`/`tracestate`. Both read back with
/// every header, in order: old spools stay readable and the trace context survives replay.
#[test]
fn a_hand_written_version_1_segment_reads_back_with_its_trace_headers() {
    fn frame(seq: u64, r: &SpoolRecord) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend((r.topic.len() as u16).to_le_bytes());
        body.extend(r.topic.as_bytes());
        body.extend((r.key.len() as u32).to_le_bytes());
        body.extend(&r.key);
        body.extend((r.headers.len() as u16).to_le_bytes());
        for (name, value) in &r.headers {
            body.extend((name.len() as u16).to_le_bytes());
            body.extend(name.as_bytes());
            body.extend((value.len() as u32).to_le_bytes());
            body.extend(value);
        }
        body.extend((r.value.len() as u32).to_le_bytes());
        body.extend(&r.value);
        let mut checked = seq.to_le_bytes().to_vec();
        checked.extend(&body);
        let mut out = ((8 + body.len()) as u32).to_le_bytes().to_vec();
        out.extend(crc32fast::hash(&checked).to_le_bytes());
        out.extend(checked);
        out
    }
    let before = rec(1);
    let mut traced = rec(2);
    let parent = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_vec();
    traced.headers.push(("traceparent".into(), parent));
    traced
        .headers
        .push(("tracestate".into(), b"vendor=opaque".to_vec()));

    let dir = tempfile::tempdir().unwrap();
    let mut segment = b"PMPSPOOL".to_vec();
    segment.extend(1u32.to_le_bytes());
    segment.extend([0u8; 4]);
    segment.extend(frame(1, &before));
    segment.extend(frame(2, &traced));
    fs::write(dir.path().join("00000000000000000003.seg"), segment).unwrap();

    let s = open(dir.path());
    assert_eq!(s.recovery().records_recovered, 2, "{:?}", s.recovery());
    assert_eq!(s.recovery().skipped_records, 0);
    assert_eq!(s.read(1).unwrap().unwrap(), before);
    assert_eq!(s.read(2).unwrap().unwrap(), traced);
}
