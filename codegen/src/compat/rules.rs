//! Stable rule ids.
//!
//! The checker asks one question, "does every instance of A validate against B?", and names
//! each failure with a [`Rule`]: a pair of ids for the same structural difference seen from
//! the old → new change. When B is the new schema (BACKWARD), the change *narrowed* something
//! and the first id is reported; when B is the old schema (FORWARD), the change *widened*
//! something and the second id is reported. [`RULES`] is the documented table.

/// A structural difference, named for both directions of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Id when the new schema is the stricter one (breaks BACKWARD).
    pub narrowing: &'static str,
    /// Id when the old schema is the stricter one (breaks FORWARD).
    pub widening: &'static str,
}

macro_rules! rules {
    ($($name:ident = $n:literal / $w:literal : $doc:literal;)*) => {
        $(#[doc = $doc] pub const $name: Rule = Rule { narrowing: $n, widening: $w };)*
        /// Every rule: (id reported for BACKWARD, id reported for FORWARD, description).
        pub const RULES: &[(&str, &str, &str)] = &[$(($n, $w, $doc)),*];
    };
}

rules! {
    TYPE = "type-narrowed" / "type-widened": "A JSON type (or non-integer numbers) accepted on one side is rejected on the other; integer→number and adding \"null\" widen.";
    SCHEMA_FALSE = "schema-false-added" / "schema-false-removed": "A subschema became (or stopped being) `false`.";
    ENUM_VALUE = "enum-value-removed" / "enum-value-added": "An `enum` value accepted before is not accepted after.";
    CONST = "const-changed" / "const-changed": "A `const` value changed.";
    ENUM_ADDED = "enum-added" / "enum-removed": "An `enum`/`const` restricts a value that was unrestricted.";
    ENUM_REJECTED = "enum-value-rejected" / "enum-value-rejected": "An allowed `enum` value fails another keyword of the other schema.";
    MIN_LENGTH = "min-length-increased" / "min-length-decreased": "`minLength` raised (or added).";
    MAX_LENGTH = "max-length-decreased" / "max-length-increased": "`maxLength` lowered (or added).";
    PATTERN = "pattern-changed" / "pattern-changed": "`pattern` replaced by one that rejects some accepted string.";
    PATTERN_ADDED = "pattern-added" / "pattern-removed": "`pattern` added to an unconstrained string.";
    FORMAT = "format-changed" / "format-changed": "`format` replaced by another format (formats are treated as assertions).";
    FORMAT_ADDED = "format-added" / "format-removed": "`format` added to an unconstrained string.";
    MINIMUM = "minimum-increased" / "minimum-decreased": "Lower bound (`minimum`/`exclusiveMinimum`) raised, made exclusive or added.";
    MAXIMUM = "maximum-decreased" / "maximum-increased": "Upper bound (`maximum`/`exclusiveMaximum`) lowered, made exclusive or added.";
    MULTIPLE_OF = "multiple-of-changed" / "multiple-of-changed": "`multipleOf` not implied by the other side's `multipleOf` (divisibility).";
    MIN_ITEMS = "min-items-increased" / "min-items-decreased": "`minItems` raised (or added).";
    MAX_ITEMS = "max-items-decreased" / "max-items-increased": "`maxItems` lowered (or added).";
    UNIQUE_ITEMS = "unique-items-added" / "unique-items-removed": "`uniqueItems: true` added.";
    MIN_CONTAINS = "min-contains-increased" / "min-contains-decreased": "`minContains` raised for the same `contains` schema (or `contains` added).";
    MAX_CONTAINS = "max-contains-decreased" / "max-contains-increased": "`maxContains` lowered (or added) for the same `contains` schema.";
    TUPLE = "tuple-length-reduced" / "tuple-length-extended": "`prefixItems`/`items` (draft-07 `items` array/`additionalItems`) forbid an array position that was allowed.";
    PROPERTY_CLOSED = "property-removed-closed" / "property-added-closed": "A property allowed on one side is forbidden by a closed content model (`additionalProperties`/`unevaluatedProperties: false`) on the other.";
    PROPERTY_OPEN = "property-added-open" / "property-removed-open": "Strict policy: a property is declared on one side but only allowed as an undeclared property of an open object on the other, where it may carry any value.";
    PATTERN_PROPERTY = "pattern-property-removed" / "pattern-property-added": "A key matching a `patternProperties` pattern is forbidden or constrained differently.";
    CONTENT_MODEL = "content-model-closed" / "content-model-opened": "Undeclared properties accepted on one side (open object, or `additionalProperties` schema) are rejected or constrained on the other.";
    REQUIRED = "required-added" / "required-removed": "A property became required.";
    REQUIRED_DEFAULT = "required-added-with-default" / "required-removed-with-default": "A property with a `default` became required: validators do not apply defaults, so documents without it are rejected.";
    MIN_PROPERTIES = "min-properties-increased" / "min-properties-decreased": "`minProperties` raised (or added).";
    MAX_PROPERTIES = "max-properties-decreased" / "max-properties-increased": "`maxProperties` lowered (or added).";
    DEPENDENT_REQUIRED = "dependent-required-added" / "dependent-required-removed": "`dependentRequired` (draft-07 array `dependencies`) requires a property that was optional.";
    BRANCH = "branch-removed" / "branch-added": "No `anyOf`/`oneOf` branch accepts everything one branch of the other side accepts (branches are matched, not compared by position).";
    ONEOF_OVERLAP = "oneof-overlap" / "oneof-overlap": "`oneOf` branches overlap for some accepted documents, which then match more than one branch.";
    NOT = "not-changed" / "not-changed": "`not` excludes documents the other side accepts.";
    UNSUPPORTED = "keyword-unsupported" / "keyword-unsupported": "A keyword the checker does not analyse (`if`/`then`/`else`, a changed `contains` schema, `propertyNames`, `unevaluated*` beside hidden evaluations, `$dynamicRef`) differs: verdict unknown.";
    TOO_DEEP = "too-deep" / "too-deep": "The comparison exceeded its depth limit: verdict unknown.";
}

/// Catalog-level rule (`eventctl check`): a released schema file was deleted or renamed.
pub const VERSION_DELETED: &str = "version-deleted";
/// Catalog-level rule (`eventctl check`): `x-compatibility` has a value outside the known levels.
pub const LEVEL_INVALID: &str = "compatibility-level-invalid";
