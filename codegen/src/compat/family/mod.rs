//! Keyword families of the checker's normal form.
//!
//! Each family owns its facet of [`Norm`](super::norm::Norm): the named structs that hold what
//! a conjunction says about one kind of instance, how those facets merge, and the lookups the
//! subset check and the evaluator use on them.
//!
//! | family | keywords |
//! |---|---|
//! | [`types_enums`] | `type`, `enum`, `const` |
//! | `numbers` | `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf` |
//! | `arrays` | `contains`, `minContains`, `maxContains` |
//! | [`bounds`] | the shared size check of `minLength`/`maxLength`, `minItems`/`maxItems`, `minProperties`/`maxProperties` |
//!
//! `numbers` and `arrays` hold the subset checks of their keywords (`impl Checker`); the rest
//! of each family still lives in `norm.rs` (collection), `subset.rs` (checks) and `eval.rs`
//! (candidates).

use super::store::DocId;
use std::rc::Rc;

mod arrays;
pub(crate) mod bounds;
mod numbers;
pub(crate) mod types_enums;

/// A location in one side's store: (document, JSON pointer). Every facet remembers where its
/// keyword came from, for reporting.
pub(crate) type Loc = (DocId, Rc<str>);
