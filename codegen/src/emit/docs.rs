//! Doc comments from schema text.
//!
//! Schema descriptions are plain prose, not Markdown written for rustdoc: each line is
//! trimmed (indented lines would become doctests), `[`/`]`/`<`/`>` are escaped (no broken
//! intra-doc links or HTML tags) and bare URLs are wrapped in `<..>`.

use proc_macro2::TokenStream;
use quote::quote;

/// Escape schema prose for rustdoc.
pub fn sanitize(text: &str) -> String {
    text.lines()
        .map(|line| {
            let line = line.trim();
            let line = line.replace("```", "'''");
            let escaped: String = line
                .chars()
                .flat_map(|c| match c {
                    '[' | ']' | '<' | '>' => vec!['\\', c],
                    _ => vec![c],
                })
                .collect();
            escaped
                .split(' ')
                .map(|w| {
                    if w.starts_with("http://") || w.starts_with("https://") {
                        format!("<{w}>")
                    } else {
                        w.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `#[doc]` attributes for paragraphs (already sanitized or generator-written).
pub fn attrs(paragraphs: &[String]) -> TokenStream {
    let mut lines: Vec<String> = Vec::new();
    for (i, p) in paragraphs.iter().enumerate() {
        if i > 0 {
            lines.push(String::new());
        }
        for line in p.lines() {
            lines.push(if line.is_empty() {
                String::new()
            } else {
                format!(" {line}")
            });
        }
    }
    quote! { #( #[doc = #lines] )* }
}

/// Sanitize schema paragraphs except generator notes (which start with a known prefix).
pub fn schema_paragraphs(paragraphs: &[String]) -> Vec<String> {
    paragraphs
        .iter()
        .map(|p| {
            let generated = [
                "Schema: ",
                "Personal data (`x-pii`)",
                "Generated from `",
                "Deprecated.",
                "Always `",
                "The `",
            ]
            .iter()
            .any(|prefix| p.starts_with(prefix));
            if generated {
                p.clone()
            } else {
                sanitize(p)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn escapes_markdown_hazards() {
        assert_eq!(
            sanitize("  see [x] <b>\n    code"),
            "see \\[x\\] \\<b\\>\ncode"
        );
        assert_eq!(sanitize("at https://x.y/z now"), "at <https://x.y/z> now");
    }
}
