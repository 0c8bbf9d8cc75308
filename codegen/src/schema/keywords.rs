//! Which JSON Schema keywords the generator understands, and how.
//!
//! | class | keywords | effect on generated Rust |
//! |---|---|---|
//! | structural | `type`, `properties`, `required`, `additionalProperties`, `patternProperties`, `items`, `prefixItems`, `enum`, `const`, `oneOf`, `anyOf`, `allOf`, `$ref`, `$defs`, `format`, `default`; draft-07: `definitions`, array-form `items`, `additionalItems` | decide the Rust type |
//! | validation-only | `pattern` (must compile), `minLength`, `maxLength`, `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf` (> 0), `minItems`, `maxItems`, `uniqueItems`, `minProperties`, `maxProperties`, `propertyNames`, `dependentRequired`, `not`; draft-07: `dependencies` | none beyond integer widths (from bounds) and doc notes; enforced by runtime validation of the embedded schema |
//! | annotation (documented no-op) | `$schema`, `$id`, `$anchor`, `$comment`, `title`, `description`, `examples`, `deprecated`, `readOnly`, `writeOnly`, `contentEncoding`, `contentMediaType`, any `x-*` extension | `title`/`description` become doc comments, `deprecated` a doc note, `x-pii` redacts `Debug` |
//!
//! The draft is decided by `$schema` (draft-04/06/07, else 2020-12). Everything else
//! (`if`/`then`/`else`, `unevaluatedProperties`, `$dynamicRef`, `contains`, ...) is an error
//! naming the file and pointer: silently ignoring it could generate a type that accepts or
//! produces data the schema author did not intend.

/// Keywords that shape the generated type.
pub const STRUCTURAL: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "prefixItems",
    "patternProperties",
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
    "propertyNames",
    "not",
];

/// Keywords that exist only in draft-04/06/07 documents.
pub const DRAFT7_ONLY: &[&str] = &["definitions", "additionalItems", "dependencies"];

/// Annotations with no effect on types (besides docs).
pub const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "$anchor",
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

/// Whether the generator accepts `keyword` at all (`draft7`: the document is draft-04/06/07).
pub fn is_known(keyword: &str, draft7: bool) -> bool {
    is_annotation(keyword)
        || STRUCTURAL.contains(&keyword)
        || VALIDATION_ONLY.contains(&keyword)
        || (draft7 && DRAFT7_ONLY.contains(&keyword))
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
        "definitions" | "additionalItems" | "dependencies" => {
            "; it is a draft-07 keyword: declare `\"$schema\": \"http://json-schema.org/draft-07/schema#\"` or use the 2020-12 form (`$defs`, `prefixItems`+`items`, `dependentRequired`)"
        }
        "if" | "then" | "else" => "; conditional schemas are not supported, use `oneOf`",
        "$dynamicRef" | "$dynamicAnchor" | "$recursiveRef" => {
            "; refer to `$defs` entries by JSON pointer instead"
        }
        _ => "",
    }
}
