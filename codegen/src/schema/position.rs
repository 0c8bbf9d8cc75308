//! Map a JSON pointer back to a 1-based (line, column) in the source text.
//!
//! `serde_json::Value` forgets positions, so errors first carry a pointer; this scanner is
//! run only when an error is reported. It walks the (already known to be valid) JSON text
//! segment by segment and returns the position of the object key for the last segment (or
//! of the array element), which is where an editor should jump.

/// Position of `pointer`'s target in `text`, or `None` if the pointer does not exist.
pub fn locate(text: &str, pointer: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut pos = skip_ws(bytes, 0);
    let mut target = pos;
    if !pointer.is_empty() {
        for raw in pointer.strip_prefix('/')?.split('/') {
            let seg = raw.replace("~1", "/").replace("~0", "~");
            let (key_pos, value_pos) = match *bytes.get(pos)? {
                b'{' => find_key(bytes, pos, &seg)?,
                b'[' => {
                    let index: usize = seg.parse().ok()?;
                    let p = find_index(bytes, pos, index)?;
                    (p, p)
                }
                _ => return None,
            };
            target = key_pos;
            pos = value_pos;
        }
    } else {
        target = pos;
    }
    Some(line_col(text, target))
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// Returns (decoded string, index after the closing quote). `i` points at the opening quote.
fn read_string(b: &[u8], i: usize) -> Option<(String, usize)> {
    let start = i + 1;
    let mut j = start;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => {
                let raw = std::str::from_utf8(&b[i..=j]).ok()?;
                let s: String = serde_json::from_str(raw).ok()?;
                return Some((s, j + 1));
            }
            _ => j += 1,
        }
    }
    None
}

/// Index just after the value starting at `i`.
fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => read_string(b, i).map(|(_, e)| e),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = read_string(b, j)?.1;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
            {
                j += 1;
            }
            Some(j)
        }
    }
}

fn find_key(b: &[u8], open: usize, key: &str) -> Option<(usize, usize)> {
    let mut i = skip_ws(b, open + 1);
    while i < b.len() && b[i] != b'}' {
        let key_pos = i;
        let (k, after) = read_string(b, i)?;
        i = skip_ws(b, after);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let value_pos = skip_ws(b, i + 1);
        if k == key {
            return Some((key_pos, value_pos));
        }
        i = skip_ws(b, skip_value(b, value_pos)?);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
    }
    None
}

fn find_index(b: &[u8], open: usize, index: usize) -> Option<usize> {
    let mut i = skip_ws(b, open + 1);
    let mut n = 0;
    while i < b.len() && b[i] != b']' {
        if n == index {
            return Some(i);
        }
        i = skip_ws(b, skip_value(b, i)?);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
        n += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::locate;

    #[test]
    fn finds_keys_and_elements() {
        let text = "{\n  \"a\": {\"b~c\": [1, {\"d\": \"x\\\"}\"}]},\n  \"e/f\": 2\n}";
        assert_eq!(locate(text, ""), Some((1, 1)));
        assert_eq!(locate(text, "/a"), Some((2, 3)));
        assert_eq!(locate(text, "/a/b~0c/1"), Some((2, 20)));
        assert_eq!(locate(text, "/a/b~0c/1/d"), Some((2, 21)));
        assert_eq!(locate(text, "/e~1f"), Some((3, 3)));
        assert_eq!(locate(text, "/missing"), None);
        assert_eq!(locate(text, "/a/b~0c/7"), None);
    }
}
