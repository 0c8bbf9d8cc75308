//! Record framing and segment scanning (format described in the [module docs](super)).

use super::RecordRef;
#[cfg(test)]
use super::SpoolRecord;

/// Segment file magic, first 8 bytes of every `.seg` file.
pub(crate) const MAGIC: &[u8; 8] = b"PMPSPOOL";
/// Format version stored after the magic.
pub(crate) const FORMAT_VERSION: u32 = 1;
/// Segment header: magic, version, reserved.
pub(crate) const SEGMENT_HEADER_LEN: usize = 16;
/// Frame prefix: `len: u32`, `crc: u32`.
pub(crate) const FRAME_PREFIX_LEN: usize = 8;
/// Largest accepted `len` (sequence number + body). Anything larger is damage.
pub(crate) const MAX_FRAME_LEN: usize = 64 * 1024 * 1024;
/// Smallest possible `len`: sequence number + empty topic, key, headers and value.
const MIN_FRAME_LEN: usize = 8 + 2 + 4 + 2 + 4;
/// Size of one ack file entry: `seq: u64`, `crc: u32`.
pub(crate) const ACK_ENTRY_LEN: usize = 12;

/// The 16-byte segment header.
pub(crate) fn segment_header() -> [u8; SEGMENT_HEADER_LEN] {
    let mut h = [0u8; SEGMENT_HEADER_LEN];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h
}

/// Why a record could not be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameTooLarge {
    /// A field does not fit its length prefix, or the frame exceeds [`MAX_FRAME_LEN`].
    TooLarge,
}

/// Append the frame for (`seq`, `record`) to `out`. Returns the frame's length in bytes.
pub(crate) fn encode_frame(
    out: &mut Vec<u8>,
    seq: u64,
    record: &RecordRef<'_>,
) -> Result<usize, FrameTooLarge> {
    let start = out.len();
    out.extend_from_slice(&[0u8; FRAME_PREFIX_LEN]);
    out.extend_from_slice(&seq.to_le_bytes());
    put_u16_bytes(out, record.topic.as_bytes())?;
    put_u32_bytes(out, record.key)?;
    let n_headers = u16::try_from(record.headers.len()).map_err(|_| FrameTooLarge::TooLarge)?;
    out.extend_from_slice(&n_headers.to_le_bytes());
    for (name, value) in &record.headers {
        put_u16_bytes(out, name.as_bytes())?;
        put_u32_bytes(out, value)?;
    }
    put_u32_bytes(out, record.value)?;
    let len = out.len() - start - FRAME_PREFIX_LEN;
    if len > MAX_FRAME_LEN {
        out.truncate(start);
        return Err(FrameTooLarge::TooLarge);
    }
    let crc = crc32fast::hash(&out[start + FRAME_PREFIX_LEN..]);
    out[start..start + 4].copy_from_slice(&(len as u32).to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    Ok(out.len() - start)
}

fn put_u16_bytes(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), FrameTooLarge> {
    let n = u16::try_from(bytes.len()).map_err(|_| FrameTooLarge::TooLarge)?;
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

fn put_u32_bytes(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), FrameTooLarge> {
    if bytes.len() > MAX_FRAME_LEN {
        return Err(FrameTooLarge::TooLarge);
    }
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

/// What is wrong with the bytes at some offset. Only kinds and numbers, never content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameDamage {
    /// Fewer bytes left than the frame claims (torn write at the end of a segment).
    Truncated,
    /// The length prefix is outside the possible range.
    BadLength,
    /// The checksum does not match.
    BadChecksum,
    /// Checksum fine but the body does not decode (format bug or collision).
    BadBody,
}

/// Check the frame starting at `buf[pos..]`. Returns `(seq, frame_len)`.
pub(crate) fn check_frame(buf: &[u8], pos: usize) -> Result<(u64, usize), FrameDamage> {
    let rest = buf.get(pos..).unwrap_or(&[]);
    if rest.len() < FRAME_PREFIX_LEN {
        return Err(FrameDamage::Truncated);
    }
    let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
    if !(MIN_FRAME_LEN..=MAX_FRAME_LEN).contains(&len) {
        return Err(FrameDamage::BadLength);
    }
    let Some(body) = rest.get(FRAME_PREFIX_LEN..FRAME_PREFIX_LEN + len) else {
        return Err(FrameDamage::Truncated);
    };
    let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
    if crc32fast::hash(body) != crc {
        return Err(FrameDamage::BadChecksum);
    }
    let seq = u64::from_le_bytes(body[..8].try_into().map_err(|_| FrameDamage::BadBody)?);
    decode_body(&body[8..]).ok_or(FrameDamage::BadBody)?;
    Ok((seq, FRAME_PREFIX_LEN + len))
}

/// Decode a complete frame (as returned by [`check_frame`]) into its record.
#[cfg(test)]
pub(crate) fn decode_frame(frame: &[u8]) -> Result<(u64, SpoolRecord), FrameDamage> {
    decode_frame_ref(frame).map(|(seq, record)| (seq, record.to_owned()))
}

/// Decode a complete frame (as returned by [`check_frame`]), borrowing the record's fields
/// from `frame`.
pub(crate) fn decode_frame_ref(frame: &[u8]) -> Result<(u64, RecordRef<'_>), FrameDamage> {
    let (seq, len) = check_frame(frame, 0)?;
    if len != frame.len() {
        return Err(FrameDamage::BadLength);
    }
    let record = decode_body(&frame[FRAME_PREFIX_LEN + 8..]).ok_or(FrameDamage::BadBody)?;
    Ok((seq, record))
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.buf.len() < n {
            return None;
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Some(head)
    }
    fn u16(&mut self) -> Option<usize> {
        self.take(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
    }
    fn u32(&mut self) -> Option<usize> {
        self.take(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
}

fn decode_body(body: &[u8]) -> Option<RecordRef<'_>> {
    let mut r = Reader { buf: body };
    let n = r.u16()?;
    let topic = std::str::from_utf8(r.take(n)?).ok()?;
    let n = r.u32()?;
    let key = r.take(n)?;
    let n_headers = r.u16()?;
    let mut headers = Vec::with_capacity(n_headers);
    for _ in 0..n_headers {
        let n = r.u16()?;
        let name = std::str::from_utf8(r.take(n)?).ok()?;
        let n = r.u32()?;
        headers.push((name, r.take(n)?));
    }
    let n = r.u32()?;
    let value = r.take(n)?;
    if !r.buf.is_empty() {
        return None;
    }
    Some(RecordRef {
        topic,
        key,
        headers,
        value,
    })
}

/// One intact record found by [`scan_segment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FoundRecord {
    pub seq: u64,
    pub offset: u64,
    pub len: u32,
}

/// One damaged stretch found by [`scan_segment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DamagedRegion {
    pub offset: u64,
    pub bytes: u64,
    pub kind: FrameDamage,
}

/// Result of scanning one segment's bytes.
#[derive(Debug, Default)]
pub(crate) struct SegmentScan {
    pub records: Vec<FoundRecord>,
    pub damaged: Vec<DamagedRegion>,
    pub bad_header: bool,
}

/// Walk a segment: read frames one after another; at damage, search forward byte by byte
/// for the next offset where an intact frame (plausible length, matching CRC, decodable
/// body) starts, and record the stretch in between as one damaged region.
pub(crate) fn scan_segment(buf: &[u8]) -> SegmentScan {
    let mut scan = SegmentScan::default();
    let header_ok = buf.len() >= SEGMENT_HEADER_LEN
        && &buf[..8] == MAGIC
        && buf[8..12] == FORMAT_VERSION.to_le_bytes();
    let mut pos = if header_ok {
        SEGMENT_HEADER_LEN
    } else {
        scan.bad_header = true;
        0
    };
    if !header_ok {
        // A damaged header: the frames may still be intact, so resynchronise from byte 0.
        match (0..buf.len()).find(|&p| check_frame(buf, p).is_ok()) {
            Some(p) => pos = p,
            None => {
                if !buf.is_empty() {
                    scan.damaged.push(DamagedRegion {
                        offset: 0,
                        bytes: buf.len() as u64,
                        kind: FrameDamage::BadLength,
                    });
                }
                return scan;
            }
        }
    }
    while pos < buf.len() {
        match check_frame(buf, pos) {
            Ok((seq, len)) => {
                scan.records.push(FoundRecord {
                    seq,
                    offset: pos as u64,
                    len: len as u32,
                });
                pos += len;
            }
            Err(kind) => {
                let next = (pos + 1..buf.len()).find(|&p| check_frame(buf, p).is_ok());
                let end = next.unwrap_or(buf.len());
                scan.damaged.push(DamagedRegion {
                    offset: pos as u64,
                    bytes: (end - pos) as u64,
                    kind,
                });
                pos = end;
            }
        }
    }
    scan
}

/// Encode an ack file entry.
pub(crate) fn encode_ack(out: &mut Vec<u8>, seq: u64) {
    let bytes = seq.to_le_bytes();
    out.extend_from_slice(&bytes);
    out.extend_from_slice(&crc32fast::hash(&bytes).to_le_bytes());
}

/// Decode an ack file. Stops at the first damaged or partial entry: a lost ack only
/// means a duplicate delivery, while a wrongly read ack could drop an event.
pub(crate) fn decode_acks(buf: &[u8]) -> (Vec<u64>, bool) {
    let mut seqs = Vec::with_capacity(buf.len() / ACK_ENTRY_LEN);
    for chunk in buf.chunks(ACK_ENTRY_LEN) {
        if chunk.len() != ACK_ENTRY_LEN {
            return (seqs, true);
        }
        let seq_bytes: [u8; 8] = [
            chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
        ];
        let crc = u32::from_le_bytes([chunk[8], chunk[9], chunk[10], chunk[11]]);
        if crc32fast::hash(&seq_bytes) != crc {
            return (seqs, true);
        }
        seqs.push(u64::from_le_bytes(seq_bytes));
    }
    (seqs, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(i: u32) -> SpoolRecord {
        SpoolRecord {
            topic: "patient-events".into(),
            key: format!("key-{}", i % 7).into_bytes(),
            headers: vec![
                ("event_type".into(), b"patient.created".to_vec()),
                ("event_id".into(), format!("id-{i}").into_bytes()),
            ],
            value: format!(
                "{{\"n\":{i},\"pad\":\"{}\"}}",
                "x".repeat((i % 50) as usize)
            )
            .into_bytes(),
        }
    }

    fn segment(n: u32) -> (Vec<u8>, Vec<usize>) {
        let mut buf = segment_header().to_vec();
        let mut offsets = Vec::new();
        for i in 0..n {
            offsets.push(buf.len());
            encode_frame(&mut buf, 1000 + u64::from(i), &(&rec(i)).into()).unwrap();
        }
        (buf, offsets)
    }

    #[test]
    fn frame_round_trip() {
        let mut buf = Vec::new();
        let r = rec(3);
        let len = encode_frame(&mut buf, 42, &(&r).into()).unwrap();
        assert_eq!(len, buf.len());
        let (seq, back) = decode_frame(&buf).unwrap();
        assert_eq!(seq, 42);
        assert_eq!(back, r);
    }

    #[test]
    fn scan_reads_every_record_in_order() {
        let (buf, offsets) = segment(100);
        let scan = scan_segment(&buf);
        assert!(scan.damaged.is_empty());
        assert_eq!(scan.records.len(), 100);
        for (i, r) in scan.records.iter().enumerate() {
            assert_eq!(r.seq, 1000 + i as u64);
            assert_eq!(r.offset as usize, offsets[i]);
        }
    }

    #[test]
    fn flipped_byte_in_body_skips_exactly_one_record() {
        let (mut buf, offsets) = segment(50);
        // A byte inside the body of record 20.
        buf[offsets[20] + 20] ^= 0x5a;
        let scan = scan_segment(&buf);
        assert_eq!(scan.damaged.len(), 1);
        assert_eq!(scan.damaged[0].kind, FrameDamage::BadChecksum);
        assert_eq!(scan.damaged[0].offset as usize, offsets[20]);
        assert_eq!(scan.records.len(), 49);
        assert!(scan.records.iter().all(|r| r.seq != 1020));
    }

    #[test]
    fn flipped_length_prefix_skips_one_record_and_resyncs() {
        let (mut buf, offsets) = segment(30);
        buf[offsets[7] + 1] ^= 0xff;
        let scan = scan_segment(&buf);
        assert_eq!(scan.damaged.len(), 1);
        assert_eq!(scan.records.len(), 29);
        assert_eq!(scan.records[7].seq, 1008);
    }

    #[test]
    fn truncated_tail_is_one_damaged_record() {
        let (mut buf, offsets) = segment(10);
        buf.truncate(offsets[9] + 5);
        let scan = scan_segment(&buf);
        assert_eq!(scan.records.len(), 9);
        assert_eq!(scan.damaged.len(), 1);
        assert_eq!(scan.damaged[0].kind, FrameDamage::Truncated);
        // Cut inside the last body.
        let (mut buf, offsets) = segment(10);
        buf.truncate(offsets[9] + 30);
        let scan = scan_segment(&buf);
        assert_eq!(scan.records.len(), 9);
        assert_eq!(scan.damaged.len(), 1);
    }

    #[test]
    fn damaged_header_still_recovers_frames() {
        let (mut buf, _) = segment(5);
        buf[0] = b'X';
        let scan = scan_segment(&buf);
        assert!(scan.bad_header);
        assert_eq!(scan.records.len(), 5);
    }

    #[test]
    fn garbage_never_panics() {
        let mut state = 0x1234_5678_u32;
        for len in [0usize, 1, 7, 16, 17, 100, 4096] {
            let buf: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state as u8
                })
                .collect();
            let scan = scan_segment(&buf);
            assert!(scan.records.is_empty());
        }
        let zeros = vec![0u8; 1000];
        let mut seg = segment_header().to_vec();
        seg.extend_from_slice(&zeros);
        let scan = scan_segment(&seg);
        assert_eq!(scan.damaged.len(), 1);
        assert_eq!(scan.damaged[0].bytes, 1000);
    }

    #[test]
    fn acks_stop_at_damage() {
        let mut buf = Vec::new();
        for s in [5u64, 9, 7] {
            encode_ack(&mut buf, s);
        }
        assert_eq!(decode_acks(&buf), (vec![5, 9, 7], false));
        buf[ACK_ENTRY_LEN + 2] ^= 1;
        assert_eq!(decode_acks(&buf), (vec![5], true));
        let mut buf = Vec::new();
        encode_ack(&mut buf, 1);
        buf.extend_from_slice(&[1, 2, 3]);
        assert_eq!(decode_acks(&buf), (vec![1], true));
    }
}
