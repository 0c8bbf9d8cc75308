//! Keyword families: one file per family, holding for its keywords the slice of
//! normalisation (`collect`: reading them from one schema object into the family's facet of
//! the `Norm`), the subset check (`impl Checker`) and the family's counterexample candidates,
//! with the family's rules (what is compatible in which direction) stated in its module docs.
//!
//! The walk in `subset.rs` resolves `$ref`s, splits disjunctions and steps into properties and
//! items; at each position it calls every family in the order of this table. Each check
//! reads its facet of [`Norm`](super::norm::Norm) for A and B and reports [`Raw`] findings
//! with candidate counterexamples.
//!
//! | family | keywords |
//! |---|---|
//! | [`types_enums`] | `type`, `enum`, `const` |
//! | [`strings`] | `minLength`, `maxLength`, `pattern` |
//! | [`formats`] | `format` |
//! | [`numbers`] | `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf` |
//! | [`arrays`] | `minItems`, `maxItems`, `uniqueItems`, `contains`, `minContains`, `maxContains`, `prefixItems`, `items`, `additionalItems`, `unevaluatedItems` |
//! | [`objects`] | `properties`, `patternProperties`, `additionalProperties`, `unevaluatedProperties`, `required`, `minProperties`, `maxProperties` |
//! | [`dependencies`] | `dependentRequired`, `dependentSchemas`, `dependencies` |
//! | [`combinators`] | `anyOf`, `oneOf`, `not` (`allOf` joins the conjunction in `norm.rs`) |
//! | [`unanalysed`] | `if`/`then`/`else`, `propertyNames`, `$dynamicRef`, contextual `unevaluated*`: equal or unknown |
//! | [`bounds`] | the one size check of `minLength`/`maxLength`, `minItems`/`maxItems`, `minProperties`/`maxProperties` |
//!
//! `$ref` has no family: references are resolved when a conjunction is normalised, and
//! structural equality after resolution (`equality.rs`) is the walk's fast path.
//!
//! [`Raw`]: super::checker::Raw

use super::store::DocId;
use std::rc::Rc;

pub(crate) mod arrays;
pub(crate) mod bounds;
pub(crate) mod combinators;
pub(crate) mod dependencies;
pub(crate) mod formats;
pub(crate) mod numbers;
pub(crate) mod objects;
pub(crate) mod strings;
pub(crate) mod types_enums;
pub(crate) mod unanalysed;

/// A location in one side's store: (document, JSON pointer). Every facet remembers where its
/// keyword came from, for reporting.
pub(crate) type Loc = (DocId, Rc<str>);
