//! Phase 2: the type IR, lowered from resolved schemas.
//!
//! The IR is plain data: named type definitions ([`TypeDef`], sorted by name) that refer to
//! each other by name through [`Ty`], plus the event registry ([`EventDef`]). Lowering
//! decides every Rust type; emission only prints. One module per schema construct:
//!
//! | module | construct |
//! |---|---|
//! | [`object`] | `properties`, `required`, `additionalProperties`, `patternProperties` (structs and maps) |
//! | [`string_enum`] | `enum` and `const` |
//! | [`one_of`] | `oneOf`/`anyOf`: tagged, untagged, nullable, validation-only |
//! | [`all_of`] | `allOf` of objects (merged; unions inside flattened) |
//! | [`array`](mod@array) | `items`, `uniqueItems`, tuples (`prefixItems`, draft-07 `items` arrays) |
//! | [`format`](mod@format) | string `format`s |
//! | [`integer`] | integer widths from bounds |
//! | [`default`] | `default` values |
//! | [`name`] | Rust identifiers, keywords, collisions |
//! | [`recursion`] | boxing recursive fields, rejecting left-recursive unions |
//! | [`events`] | the event/command registry of a schema directory |

pub mod all_of;
pub mod array;
pub mod default;
pub mod events;
pub mod format;
pub mod integer;
pub mod lower;
pub mod name;
pub mod object;
pub mod one_of;
pub mod recursion;
pub mod string_enum;

use std::collections::BTreeMap;

use crate::schema::Loc;

/// Integer widths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum IntTy {
    U8,
    U16,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
}

/// A Rust type expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// Any JSON (`serde_json::Value`).
    Any,
    /// JSON `null` (`()`).
    Unit,
    /// `bool`.
    Bool,
    /// An integer.
    Int(IntTy),
    /// `f64`.
    F64,
    /// `String`.
    String,
    /// `uuid::Uuid`.
    Uuid,
    /// `chrono::NaiveDate`.
    Date,
    /// `chrono::DateTime<Utc>`.
    DateTime,
    /// A generated type.
    Named(String),
    /// `Vec<T>`.
    Vec(Box<Ty>),
    /// `BTreeMap<String, T>`.
    Map(Box<Ty>),
    /// A tuple `(A, B, ..)` (an array of exactly these items).
    Tuple(Vec<Ty>),
    /// `Option<T>` standing for JSON `null`.
    Nullable(Box<Ty>),
    /// `Box<T>` (recursion).
    Boxed(Box<Ty>),
}

/// A default value, already checked against the field type.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    /// `true`/`false`.
    Bool(bool),
    /// An integer literal of the field's width.
    Int(i128),
    /// A float literal.
    Float(f64),
    /// A `String`.
    Str(String),
    /// A `uuid`, `date` or `date-time` string (checked against its `format` when generated),
    /// parsed when the default is needed: (the field's type, the text).
    Parsed(Ty, String),
    /// A variant of a generated string enum: (type, variant).
    Variant(String, String),
    /// A `Vec` of values.
    List(Vec<DefaultValue>),
    /// `Default::default()` (empty maps).
    Empty,
    /// `None` of a nullable field.
    Null,
    /// `Some(..)` of a nullable field.
    Some(Box<DefaultValue>),
}

/// One struct field.
#[derive(Debug, Clone)]
pub struct Field {
    /// Property name on the wire.
    pub json_name: String,
    /// Rust identifier (may be a raw identifier like `r#type`).
    pub rust_name: String,
    /// The property's type (`Ty::Nullable` when it admits `null`).
    pub ty: Ty,
    /// Listed in `required`.
    pub required: bool,
    /// Default used when absent (only for optional fields).
    pub default: Option<DefaultValue>,
    /// Doc comment paragraphs.
    pub docs: Vec<String>,
    /// `x-pii`: redacted in `Debug`.
    pub pii: bool,
    /// `#[serde(flatten)]`: the field holds an `anyOf`/`oneOf` of an `allOf` branch, read
    /// from the same object as the other fields (`json_name` is then empty).
    pub flatten: bool,
}

/// A unit variant of a string enum.
#[derive(Debug, Clone)]
pub struct EnumVariant {
    /// Rust variant name.
    pub rust: String,
    /// Wire value.
    pub wire: String,
    /// Doc comment paragraphs.
    pub docs: Vec<String>,
}

/// A variant carrying data (tagged or untagged enums).
#[derive(Debug, Clone)]
pub struct DataVariant {
    /// Rust variant name.
    pub rust: String,
    /// Discriminator value (tagged enums only).
    pub wire: Option<String>,
    /// Payload type, `None` for a tagged variant without further fields.
    pub ty: Option<Ty>,
    /// Doc comment paragraphs.
    pub docs: Vec<String>,
}

/// What a named type is.
#[derive(Debug, Clone)]
pub enum TypeKind {
    /// A struct.
    Struct {
        /// Fields in schema order.
        fields: Vec<Field>,
        /// `additionalProperties: false`.
        deny_unknown: bool,
        /// Type of additional properties kept in a flattened map.
        additional: Option<Ty>,
    },
    /// A closed set of strings.
    StringEnum(Vec<EnumVariant>),
    /// `oneOf` with a `const` discriminator: `#[serde(tag = ..)]`.
    Tagged {
        /// Discriminator property.
        tag: String,
        /// Variants.
        variants: Vec<DataVariant>,
    },
    /// Other `oneOf`/`anyOf`: `#[serde(untagged)]`.
    Untagged(Vec<DataVariant>),
    /// `pub type Name = Ty;`
    Alias(Ty),
}

/// A named generated type.
#[derive(Debug, Clone)]
pub struct TypeDef {
    /// Rust type name.
    pub name: String,
    /// Doc comment paragraphs.
    pub docs: Vec<String>,
    /// Definition.
    pub kind: TypeKind,
    /// Where it comes from (for docs and collision errors).
    pub loc: Loc,
    /// The whole type is personal data (`x-pii` on the schema itself).
    pub pii: bool,
}

/// Facts about one (event type, version) schema.
#[derive(Debug, Clone)]
pub struct EventDef {
    /// Wire name, e.g. `patient.created`.
    pub event_type: String,
    /// Version `N`.
    pub version: u32,
    /// `true` for `commands/`.
    pub command: bool,
    /// `x-kafka-topic`.
    pub topic: String,
    /// `x-kafka-key`.
    pub key_field: String,
    /// Rust identifier of the key field.
    pub key_rust: String,
    /// `$id` (canonical URI).
    pub schema_id: String,
    /// `x-compatibility`.
    pub compatibility: String,
    /// Bundled self-contained schema JSON.
    pub schema_json: String,
    /// Payload type name, e.g. `PatientCreatedV1`.
    pub type_name: String,
    /// Source file, relative to the schema directory.
    pub rel_path: String,
    /// Generated by another crate ([`crate::Config::extern_path`]): only its `AnyEvent`
    /// variant and `SCHEMAS` entry are emitted here.
    pub external: bool,
}

/// Everything emission needs.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Named types by name.
    pub types: BTreeMap<String, TypeDef>,
    /// Events sorted by (type, version).
    pub events: Vec<EventDef>,
    /// Bundled envelope schema, when `envelope.json` exists.
    pub envelope_json: Option<String>,
    /// Standalone mode: (root type name, bundled schema JSON).
    pub standalone: Option<(String, String)>,
    /// Derive `schemars::JsonSchema` on every type ([`crate::Config::json_schema`]).
    pub json_schema: bool,
    /// Types generated by another crate: name -> Rust path of that crate or module
    /// ([`crate::Config::extern_path`]). Emitted as `use` items where referenced.
    pub extern_types: BTreeMap<String, String>,
    /// Extra attributes: ([`crate::Config::type_attribute`], [`crate::Config::field_attribute`]).
    pub attributes: Attributes,
    /// Emit a builder (and `Default` where every field has one) for every struct.
    pub builders: bool,
}

/// Attributes a service adds to generated items, matched by path.
#[derive(Debug, Clone, Default)]
pub struct Attributes {
    /// (type path, attribute tokens): `.` matches every struct and enum, otherwise the Rust
    /// type name (`PatientCreatedV1`).
    pub types: Vec<(String, proc_macro2::TokenStream)>,
    /// (field path `Type.property`, attribute tokens); the property by its wire or Rust name.
    pub fields: Vec<(String, proc_macro2::TokenStream)>,
}
