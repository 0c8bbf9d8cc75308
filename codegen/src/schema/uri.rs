//! URI helpers for `$id` and `$ref` values: RFC 3986 resolution, fragments and
//! percent-decoding. The crate's only copies (the loader, the bundler and compat use these).
//! Nothing here touches the network.

/// Split `reference` into the part before `#` and the fragment (without `#`).
pub fn split_fragment(reference: &str) -> (&str, &str) {
    match reference.split_once('#') {
        Some((uri, fragment)) => (uri, fragment),
        None => (reference, ""),
    }
}

/// Whether `reference` starts with a scheme (`https:`, `urn:`, ...), i.e. is absolute.
pub fn has_scheme(reference: &str) -> bool {
    let Some(colon) = reference.find(':') else {
        return false;
    };
    let scheme = &reference[..colon];
    !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Resolve the URI reference `reference` against the absolute URI `base` (RFC 3986, with
/// the same URI implementation the runtime validator uses). `None` when either is not a
/// valid URI (reference).
pub fn resolve(base: &str, reference: &str) -> Option<String> {
    let b = jsonschema::uri::from_str(base).ok()?;
    let r = jsonschema::uri::resolve_against(&b.borrow(), reference).ok()?;
    Some(r.as_str().to_string())
}

/// Decode `%XX` escapes (as used in `$ref` fragments and paths).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_paths_against_ids() {
        let base = "https://pmp.example/schemas/events/patient.created/v1.json";
        let r = |x: &str| resolve(base, x).unwrap();
        assert_eq!(
            r("../../common/person_name.json"),
            "https://pmp.example/schemas/common/person_name.json"
        );
        assert_eq!(
            r("../../../../../common/x.json"),
            "https://pmp.example/common/x.json"
        );
        assert_eq!(r("/x.json"), "https://pmp.example/x.json");
        assert_eq!(r("urn:x:y"), "urn:x:y");
        assert_eq!(
            resolve("file:///a/b/c.json", "../../etc/passwd").unwrap(),
            "file:///etc/passwd"
        );
    }

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(percent_decode("/%24defs/a%20b"), "/$defs/a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%2"), "%2");
        // Multi-byte input next to `%` never splits a character (this used to panic).
        assert_eq!(percent_decode("%é"), "%é");
        assert_eq!(percent_decode("%aé"), "%aé");
        assert_eq!(percent_decode("/gr%C3%B6%C3%9Fe"), "/größe");
        assert_eq!(percent_decode("%"), "%");
    }

    #[test]
    fn splits_fragments() {
        assert_eq!(split_fragment("a.json#/x"), ("a.json", "/x"));
        assert_eq!(split_fragment("#/x"), ("", "/x"));
        assert_eq!(split_fragment("a.json"), ("a.json", ""));
    }
}
