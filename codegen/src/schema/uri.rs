//! Minimal RFC 3986 reference resolution, enough for `$id` and `$ref` values.
//!
//! Only hierarchical URIs (`scheme://authority/path`) are used as bases: `$id`s under
//! `https://pmp.example/schemas/` and the synthetic `https://schemas.invalid/` base given to
//! files without `$id`. Nothing here touches the network.

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

/// Resolve `reference` (without fragment) against the absolute `base` (without fragment).
pub fn resolve(base: &str, reference: &str) -> String {
    if reference.is_empty() {
        return base.to_owned();
    }
    if has_scheme(reference) {
        return normalize_absolute(reference);
    }
    let (scheme_authority, base_path) = split_authority(base);
    if let Some(rest) = reference.strip_prefix("//") {
        let scheme = base.split(':').next().unwrap_or("https");
        return normalize_absolute(&format!("{scheme}://{rest}"));
    }
    let (ref_path, query) = match reference.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (reference, None),
    };
    let merged = if ref_path.starts_with('/') {
        ref_path.to_owned()
    } else if ref_path.is_empty() {
        base_path.to_owned()
    } else {
        let dir = match base_path.rfind('/') {
            Some(i) => &base_path[..=i],
            None => "/",
        };
        format!("{dir}{ref_path}")
    };
    let mut out = format!("{scheme_authority}{}", remove_dot_segments(&merged));
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn normalize_absolute(uri: &str) -> String {
    let (scheme_authority, path) = split_authority(uri);
    if scheme_authority.contains("://") {
        format!("{scheme_authority}{}", remove_dot_segments(path))
    } else {
        uri.to_owned()
    }
}

/// Split `scheme://authority` from the path (which keeps its leading `/`).
fn split_authority(uri: &str) -> (&str, &str) {
    if let Some(i) = uri.find("://") {
        let after = i + 3;
        match uri[after..].find('/') {
            Some(j) => uri.split_at(after + j),
            None => (uri, ""),
        }
    } else {
        match uri.find(':') {
            Some(i) => uri.split_at(i + 1),
            None => ("", uri),
        }
    }
}

fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if path.starts_with('/') && !joined.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
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
        assert_eq!(
            resolve(base, "../../common/person_name.json"),
            "https://pmp.example/schemas/common/person_name.json"
        );
        assert_eq!(
            resolve(base, "../../../common/person_name.json"),
            "https://pmp.example/common/person_name.json"
        );
        assert_eq!(
            resolve(base, "v2.json"),
            "https://pmp.example/schemas/events/patient.created/v2.json"
        );
        assert_eq!(resolve(base, "/x.json"), "https://pmp.example/x.json");
        assert_eq!(resolve(base, "urn:x:y"), "urn:x:y");
        assert_eq!(resolve(base, ""), base);
        assert_eq!(
            resolve("https://a/b/c.json", "https://a/b/./d/../e.json"),
            "https://a/b/e.json"
        );
    }

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(percent_decode("/%24defs/a%20b"), "/$defs/a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%2"), "%2");
    }

    #[test]
    fn splits_fragments() {
        assert_eq!(split_fragment("a.json#/x"), ("a.json", "/x"));
        assert_eq!(split_fragment("#/x"), ("", "/x"));
        assert_eq!(split_fragment("a.json"), ("a.json", ""));
    }
}
