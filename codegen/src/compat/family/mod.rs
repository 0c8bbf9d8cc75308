//! Keyword families of the checker's normal form.
//!
//! Each family owns its facet of [`Norm`](super::norm::Norm): the named structs that hold what
//! a conjunction says about one kind of instance, how those facets merge, and the lookups the
//! subset check and the evaluator use on them.
//!
//! | family | keywords |
//! |---|---|
//! | [`types_enums`] | `type`, `enum`, `const` |

pub(crate) mod types_enums;
