//! Rust identifiers from schema names.
//!
//! Types and variants are `UpperCamelCase`, fields `snake_case` (serde renames keep the
//! wire name). Rust keywords become raw identifiers (`r#type`); the few that cannot be raw
//! (`self`, `Self`, `super`, `crate`) get a trailing `_`. Names that would start with a digit
//! get a prefix. Two different schema locations that produce the same type name are an error
//! (see [`super::lower`]): silently merging them would give one of them the wrong type.
//!
//! Non-ASCII names are transliterated first (`größe` -> `grosse`, `名前` -> `ming_qian`, with
//! the `deunicode` tables), so they keep a readable identifier and their wire name through
//! `#[serde(rename)]`. Two properties whose transliterations collide are told apart by their
//! position (see [`super::object`]).

use heck::{ToSnakeCase, ToUpperCamelCase};

const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Type or variant name: `patient.created` -> `PatientCreated`, `in_therapy` -> `InTherapy`.
pub fn type_name(raw: &str) -> String {
    let cleaned: String = transliterate(raw)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    let mut name = cleaned.to_upper_camel_case();
    if name.is_empty() {
        name = "Empty".to_owned();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name = format!("V{name}");
    }
    if NOT_RAW.contains(&name.as_str()) || name == "Self" {
        name.push('_');
    }
    name
}

/// Field name: `firstName` -> `first_name`, `type` -> `r#type`.
pub fn field_name(raw: &str) -> String {
    let cleaned: String = transliterate(raw)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                ' '
            }
        })
        .collect();
    let mut name = cleaned.to_snake_case();
    if name.is_empty() {
        name = "field".to_owned();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name = format!("f_{name}");
    }
    if NOT_RAW.contains(&name.as_str()) {
        name.push('_');
    } else if KEYWORDS.contains(&name.as_str()) {
        name = format!("r#{name}");
    }
    name
}

/// ASCII spelling of `raw` (unchanged when it is ASCII already).
fn transliterate(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.is_ascii() {
        std::borrow::Cow::Borrowed(raw)
    } else {
        // Characters without a transliteration become spaces (word breaks), never `[?]`.
        std::borrow::Cow::Owned(deunicode::deunicode_with_tofu(raw, " "))
    }
}

/// Upper snake case for constants: `PatientCreatedV1` -> `PATIENT_CREATED_V1`.
pub fn const_name(type_name: &str) -> String {
    heck::ToShoutySnakeCase::to_shouty_snake_case(type_name)
}

/// The identifier without a raw prefix, as serde sees it.
pub fn unraw(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(type_name("patient.created"), "PatientCreated");
        assert_eq!(type_name("in_therapy"), "InTherapy");
        assert_eq!(type_name("self"), "Self_");
        assert_eq!(type_name("2fa"), "V2fa");
        assert_eq!(type_name(""), "Empty");
        assert_eq!(field_name("type"), "r#type");
        assert_eq!(field_name("self"), "self_");
        assert_eq!(field_name("firstName"), "first_name");
        assert_eq!(field_name("max_distance_km"), "max_distance_km");
        assert_eq!(field_name("1st"), "f_1st");
        assert_eq!(const_name("PatientCreatedV1"), "PATIENT_CREATED_V1");
        assert_eq!(field_name("größe"), "grosse");
        assert_eq!(field_name("名前"), "ming_qian");
        assert_eq!(type_name("größe"), "Grosse");
        assert_eq!(field_name("\u{e000}"), "field");
    }
}
