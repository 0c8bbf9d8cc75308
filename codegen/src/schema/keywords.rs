//! Which JSON Schema keywords the generator understands, and how.
//!
//! | class | keywords | effect on generated Rust |
//! |---|---|---|
//! | structural | `type`, `properties`, `required`, `additionalProperties`, `items`, `enum`, `const`, `oneOf`, `anyOf`, `allOf`, `$ref`, `$defs`, `format`, `default` | decide the Rust type |
//! | validation-only | `pattern` (must compile), `minLength`, `maxLength`, `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`, `minItems`, `maxItems`, `uniqueItems`, `minProperties`, `maxProperties`, `dependentRequired`, `not` | none beyond integer widths (from bounds) and doc notes; enforced by runtime validation of the embedded schema |
//! | annotation (documented no-op) | `$schema`, `$id`, `$comment`, `title`, `description`, `examples`, `deprecated`, `readOnly`, `writeOnly`, `contentEncoding`, `contentMediaType`, any `x-*` extension | `title`/`description` become doc comments, `deprecated` a doc note, `x-pii` redacts `Debug` |
//!
//! Everything else (`patternProperties`, `prefixItems`, `if`/`then`/`else`,
//! `unevaluatedProperties`, `$dynamicRef`, `$anchor`, `definitions`, `contains`, ...) is an
//! error naming the file and pointer: silently ignoring it could generate a type that
//! accepts or produces data the schema author did not intend.

/// Keywords that shape the generated type.
pub const STRUCTURAL: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "oneOf",
    "anyOf",
    "allOf",
    "$ref",
    "$defs",
    "format",
    "default",
];

/// Keywords enforced only by runtime validation.
pub const VALIDATION_ONLY: &[&str] = &[
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "dependentRequired",
    "not",
];

/// Annotations with no effect on types (besides docs).
pub const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "title",
    "description",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "contentEncoding",
    "contentMediaType",
];

/// Whether `keyword` is an annotation: a listed one or any `x-` extension.
pub fn is_annotation(keyword: &str) -> bool {
    keyword.starts_with("x-") || ANNOTATIONS.contains(&keyword)
}

/// Whether the generator accepts `keyword` at all.
pub fn is_known(keyword: &str) -> bool {
    is_annotation(keyword) || STRUCTURAL.contains(&keyword) || VALIDATION_ONLY.contains(&keyword)
}

/// Whether a keyword, next to `$ref`, is fine: it annotates or only narrows validation.
pub fn allowed_beside_ref(keyword: &str) -> bool {
    is_annotation(keyword)
        || VALIDATION_ONLY.contains(&keyword)
        || matches!(keyword, "$ref" | "const" | "default" | "$defs" | "type")
}

/// Why an unknown keyword is rejected (a hint for the most common ones).
pub fn unsupported_hint(keyword: &str) -> &'static str {
    match keyword {
        "definitions" => "; use `$defs` (draft 2020-12)",
        "patternProperties" => "; use `additionalProperties` with a schema for maps",
        "prefixItems" => "; tuples are not supported, use an object",
        "if" | "then" | "else" => "; conditional schemas are not supported, use `oneOf`",
        "$anchor" | "$dynamicRef" | "$dynamicAnchor" | "$recursiveRef" => {
            "; refer to `$defs` entries by JSON pointer instead"
        }
        _ => "",
    }
}
