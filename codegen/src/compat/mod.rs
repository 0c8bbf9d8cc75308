//! Schema compatibility: is every document valid under one schema valid under another?
//!
//! # Semantics
//!
//! * **BACKWARD** (old → new): every document the old schema accepts, the new one accepts
//!   (new consumers read old data). Checked as `old ⊆ new`.
//! * **FORWARD**: `new ⊆ old` (old consumers read new data). **FULL**: both.
//! * `*_TRANSITIVE`: against every earlier version, not only the previous one (applied by
//!   [`catalog`]; a single pair is checked with the non-transitive direction set).
//! * **Policy** ([`Policy`]): `strict` takes JSON Schema literally, so an open object (no
//!   `additionalProperties: false`) may already carry undeclared properties of any value;
//!   `lenient` assumes producers never emit undeclared properties (true for this toolkit's
//!   generated producers). Explicit map schemas (`additionalProperties: {..}`) and
//!   `patternProperties` are real under both. Project default: **strict** (the README's
//!   "Compatibility checks" section gives the reasoning).
//! * Dialects: 2020-12 (default) and draft-07 (`$schema` decides): draft-07 array `items` +
//!   `additionalItems`, `definitions`, `dependencies`, `$ref` ignoring its siblings.
//!
//! # Verdicts and guarantees
//!
//! [`compare`] returns a [`Report`] whose verdict is `compatible`, `incompatible` or `unknown`.
//! Every [`Finding`] has a stable rule id ([`rules::RULES`]), JSON pointers and
//! `file:line:col` in both schemas, a one-line message, and, when incompatible, a
//! counterexample document that `jsonschema` accepted under one schema and rejected under the
//! other *before* it was reported. A suspected incompatibility for which no counterexample
//! verifies is reported as `unknown`, never as `incompatible`. Messages name keywords, property
//! names and schema constants; they never contain instance data (counterexamples are synthetic).
//!
//! # Rule ids
//!
//! | BACKWARD id (new narrower) | FORWARD id (new wider) | what changed |
//! |---|---|---|
//! | `type-narrowed` | `type-widened` | JSON type set (integer ⊂ number, `null` in type arrays) |
//! | `schema-false-added` | `schema-false-removed` | subschema `false` |
//! | `enum-value-removed` | `enum-value-added` | enum values |
//! | `const-changed` | `const-changed` | const value |
//! | `enum-added` | `enum-removed` | enum/const on an unrestricted value |
//! | `enum-value-rejected` | `enum-value-rejected` | enum value failing another keyword |
//! | `min-length-increased` / `max-length-decreased` | `min-length-decreased` / `max-length-increased` | string length |
//! | `pattern-changed`, `pattern-added` | `pattern-changed`, `pattern-removed` | `pattern` |
//! | `format-changed`, `format-added` | `format-changed`, `format-removed` | `format` (assertion) |
//! | `minimum-increased` / `maximum-decreased` | `minimum-decreased` / `maximum-increased` | numeric bounds incl. exclusive |
//! | `multiple-of-changed` | `multiple-of-changed` | `multipleOf` by divisibility |
//! | `min-items-increased` / `max-items-decreased` / `unique-items-added` | `min-items-decreased` / `max-items-increased` / `unique-items-removed` | array bounds |
//! | `min-contains-increased` / `max-contains-decreased` | `min-contains-decreased` / `max-contains-increased` | `minContains`/`maxContains` of the same `contains` schema |
//! | `tuple-length-reduced` | `tuple-length-extended` | `prefixItems`/`items` positions |
//! | `property-removed-closed` | `property-added-closed` | property vs closed content model |
//! | `property-added-open` | `property-removed-open` | property vs open content model (strict) |
//! | `pattern-property-removed` | `pattern-property-added` | `patternProperties` |
//! | `content-model-closed` | `content-model-opened` | undeclared properties |
//! | `required-added`, `required-added-with-default` | `required-removed`, `required-removed-with-default` | `required` |
//! | `min-properties-increased` / `max-properties-decreased` | `min-properties-decreased` / `max-properties-increased` | object size |
//! | `dependent-required-added` | `dependent-required-removed` | `dependentRequired` / `dependencies` |
//! | `branch-removed` | `branch-added` | `anyOf`/`oneOf` branches (matched, not positional) |
//! | `oneof-overlap` | `oneof-overlap` | `oneOf` exclusivity |
//! | `not-changed` | `not-changed` | `not` |
//! | `keyword-unsupported` | `keyword-unsupported` | `if`/`then`/`else`, a changed `contains` schema, `propertyNames`, ... (unknown) |
//! | `too-deep` | `too-deep` | depth limit (unknown) |
//!
//! `eventctl check` adds `version-deleted` and `compatibility-level-invalid`.

pub mod catalog;
mod checker;
mod collect;
mod equality;
mod eval;
mod family;
mod norm;
mod number;
mod oracle;
pub mod rules;
pub mod source_map;
pub mod store;
mod subset;
mod values;
mod verify;

use norm::{Conj, Ctx, Loc, SRef};
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;
use std::rc::Rc;
pub use store::{DocId, DocStore, Source};

/// Errors from loading or interpreting schemas (not compatibility findings).
#[derive(Debug, thiserror::Error)]
pub enum CompatError {
    /// A file could not be read.
    #[error("{}: cannot read: {reason}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// Error kind.
        reason: String,
    },
    /// A file is not valid JSON.
    #[error("{}:{line}:{col}: invalid JSON ({reason})", file.display())]
    Parse {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// Error category.
        reason: String,
    },
    /// A file repeats a key inside one object: JSON parsers disagree on which value wins, so
    /// the file is refused.
    #[error("{}:{line}:{col}: duplicate key at #{pointer}", file.display())]
    DuplicateKey {
        /// The file.
        file: PathBuf,
        /// 1-based line of the repeated key.
        line: usize,
        /// 1-based column of the repeated key.
        col: usize,
        /// JSON pointer of the repeated key.
        pointer: String,
    },
    /// A `$ref` does not resolve.
    #[error("{} at {pointer}: cannot resolve $ref \"{reference}\": {reason}", file.display())]
    Ref {
        /// File holding the `$ref`.
        file: PathBuf,
        /// Pointer of the `$ref`.
        pointer: String,
        /// The reference text.
        reference: String,
        /// Why.
        reason: String,
    },
    /// A keyword has a value the checker cannot interpret.
    #[error("{} at {pointer}: {reason}", file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Pointer of the offending keyword.
        pointer: String,
        /// What is wrong.
        reason: String,
    },
}

/// Compatibility level (`x-compatibility`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    /// New reads old.
    Backward,
    /// New reads every older version.
    BackwardTransitive,
    /// Old reads new.
    Forward,
    /// Every older version reads new.
    ForwardTransitive,
    /// Both directions.
    Full,
    /// Both directions against every older version.
    FullTransitive,
    /// No checks.
    None,
}

impl Level {
    /// Parses `BACKWARD`, `backward_transitive`, `full`, ... (case-insensitive; `-` or `_`).
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.to_ascii_uppercase().replace('-', "_").as_str() {
            "BACKWARD" => Level::Backward,
            "BACKWARD_TRANSITIVE" => Level::BackwardTransitive,
            "FORWARD" => Level::Forward,
            "FORWARD_TRANSITIVE" => Level::ForwardTransitive,
            "FULL" => Level::Full,
            "FULL_TRANSITIVE" => Level::FullTransitive,
            "NONE" => Level::None,
            _ => return None,
        })
    }

    /// The canonical upper-case name.
    pub fn name(self) -> &'static str {
        match self {
            Level::Backward => "BACKWARD",
            Level::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Level::Forward => "FORWARD",
            Level::ForwardTransitive => "FORWARD_TRANSITIVE",
            Level::Full => "FULL",
            Level::FullTransitive => "FULL_TRANSITIVE",
            Level::None => "NONE",
        }
    }

    /// Directions checked for one pair.
    pub fn directions(self) -> &'static [Direction] {
        match self {
            Level::Backward | Level::BackwardTransitive => &[Direction::Backward],
            Level::Forward | Level::ForwardTransitive => &[Direction::Forward],
            Level::Full | Level::FullTransitive => &[Direction::Backward, Direction::Forward],
            Level::None => &[],
        }
    }

    /// Whether every earlier version is checked, not only the previous one.
    pub fn transitive(self) -> bool {
        matches!(
            self,
            Level::BackwardTransitive | Level::ForwardTransitive | Level::FullTransitive
        )
    }
}

/// Which inclusion a finding violates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// `old ⊆ new` failed: new consumers cannot read some old data.
    Backward,
    /// `new ⊆ old` failed: old consumers cannot read some new data.
    Forward,
}

/// How open objects are read (see module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Open objects may carry undeclared properties of any value (JSON Schema as written).
    #[default]
    Strict,
    /// Producers never emit undeclared properties.
    Lenient,
}

impl Policy {
    /// Parses `strict` / `lenient`.
    pub fn parse(s: &str) -> Option<Policy> {
        match s.to_ascii_lowercase().as_str() {
            "strict" => Some(Policy::Strict),
            "lenient" => Some(Policy::Lenient),
            _ => None,
        }
    }
}

/// Overall or per-finding verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every document accepted by the reading side's counterpart is accepted.
    Compatible,
    /// The checker could not decide.
    Unknown,
    /// A verified counterexample exists.
    Incompatible,
}

/// A place in a schema file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// File path as given.
    pub file: PathBuf,
    /// JSON pointer inside the file.
    pub pointer: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{} (#{})",
            self.file.display(),
            self.line,
            self.col,
            self.pointer
        )
    }
}

/// Which schema a counterexample is valid under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The old schema.
    Old,
    /// The new schema.
    New,
}

/// A document valid under exactly one of the two schemas (verified with `jsonschema`).
#[derive(Debug, Clone, Serialize)]
pub struct Counterexample {
    /// The document.
    pub document: Value,
    /// The schema that accepts it (the other rejects it).
    pub valid_under: Side,
}

/// One reported difference.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable rule id.
    pub rule: &'static str,
    /// `incompatible` or `unknown`.
    pub verdict: Verdict,
    /// The violated direction.
    pub direction: Direction,
    /// Where in the old schema.
    pub old: Location,
    /// Where in the new schema.
    pub new: Location,
    /// One line, no instance data.
    pub message: String,
    /// Present exactly when `verdict` is `incompatible`.
    pub counterexample: Option<Counterexample>,
}

/// Result of comparing two schemas.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Worst verdict over all findings (`compatible` when there are none).
    pub verdict: Verdict,
    /// Findings, incompatible first.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Rule ids of all findings, sorted and deduplicated (handy in tests).
    pub fn rule_ids(&self) -> Vec<&'static str> {
        let mut v: Vec<_> = self.findings.iter().map(|f| f.rule).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// Compares `old` and `new` root documents at `level` under `policy`.
///
/// `old_store` and `new_store` may be the same store (two files on disk) or different ones
/// (a git baseline and the working tree). Transitivity is the caller's business.
pub fn compare(
    old_store: &DocStore,
    old: DocId,
    new_store: &DocStore,
    new: DocId,
    level: Level,
    policy: Policy,
) -> Result<Report, CompatError> {
    let ctx = Ctx::new(old_store, new_store);
    oracle::check_patterns(old_store, &ctx.oracle)?;
    if !std::ptr::eq(old_store, new_store) {
        oracle::check_patterns(new_store, &ctx.oracle)?;
    }
    let roots = [old, new];
    let mut raws = Vec::new();
    for dir in level.directions() {
        let (a, b) = match dir {
            Direction::Backward => (0, 1),
            Direction::Forward => (1, 0),
        };
        let mut checker = checker::Checker::new(&ctx, policy);
        let found = checker.subset(
            &Conj::one(a, SRef::At(roots[a], Rc::from(""))),
            &Conj::one(b, SRef::At(roots[b], Rc::from(""))),
        )?;
        raws.extend(found.into_iter().map(|r| (*dir, a, b, r)));
    }
    let verifier = if raws.is_empty() {
        None
    } else {
        Some(verify::Verifier::new([old_store, new_store], roots))
    };
    let mut findings = Vec::new();
    for (dir, a, b, raw) in raws {
        let loc = |side: usize, l: &Loc| {
            let d = ctx.stores[side].doc(l.0);
            let p = d.map.position(&l.1);
            Location {
                file: d.path.clone(),
                pointer: l.1.to_string(),
                line: p.line,
                col: p.col,
            }
        };
        let (la, lb) = (loc(a, &raw.a), loc(b, &raw.b));
        let (old_loc, new_loc) = if a == 0 { (la, lb) } else { (lb, la) };
        let (na, nb) = if a == 0 {
            ("old", "new")
        } else {
            ("new", "old")
        };
        let mut message = raw.msg.replace("{A}", na).replace("{B}", nb);
        let mut counterexample = None;
        let mut verdict = Verdict::Unknown;
        if !raw.unknown {
            if let Some(v) = &verifier {
                if let Some(doc) = raw
                    .witnesses
                    .iter()
                    .find(|w| v.separates(a, b, w) == Some(true))
                {
                    verdict = Verdict::Incompatible;
                    counterexample = Some(Counterexample {
                        document: doc.clone(),
                        valid_under: if a == 0 { Side::Old } else { Side::New },
                    });
                } else if let Some(e) = v.errors.iter().flatten().next() {
                    message.push_str(&format!(" (unverified: {e})"));
                } else {
                    message.push_str(" (no counterexample could be verified)");
                }
            }
        }
        let rule = match dir {
            Direction::Backward => raw.rule.narrowing,
            Direction::Forward => raw.rule.widening,
        };
        findings.push(Finding {
            rule,
            verdict,
            direction: dir,
            old: old_loc,
            new: new_loc,
            message,
            counterexample,
        });
    }
    findings.sort_by(|x, y| y.verdict.cmp(&x.verdict).then(x.old.line.cmp(&y.old.line)));
    let verdict = findings
        .iter()
        .map(|f| f.verdict)
        .max()
        .unwrap_or(Verdict::Compatible);
    Ok(Report { verdict, findings })
}

/// Loads two files from disk and compares them.
pub fn compare_files(
    old: &std::path::Path,
    new: &std::path::Path,
    level: Level,
    policy: Policy,
) -> Result<Report, CompatError> {
    // Separate stores: two versions of one file may share an `$id`.
    let mut old_store = DocStore::disk();
    let o = old_store.load(old)?;
    let mut new_store = DocStore::disk();
    let n = new_store.load(new)?;
    compare(&old_store, o, &new_store, n, level, policy)
}
