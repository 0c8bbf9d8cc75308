//! What changed between consecutive versions of an event type, from the compatibility
//! engine's own findings.
//!
//! Each pair vN-1 → vN is compared with [`pmp_event_codegen::compat::compare_files`] in both
//! directions (level `FULL`, policy `strict`), so additions show up as well as narrowings:
//! a finding of the BACKWARD direction means the new version rejects some old data, one of
//! the FORWARD direction means it accepts data the old one did not. Each finding becomes a
//! [`Change`] with its rule id and a kind ([`ChangeKind`]) derived from the rule id and the
//! direction. Whether the change breaks the level the new version declares is recorded too
//! (`eventctl check` fails exactly on those).

use crate::model::{CatalogError, EventCatalog, EventVersion};
use pmp_event_codegen::compat::{compare_files, Direction, Level, Policy, Verdict};
use serde::Serialize;

/// How a change reads to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// A property, enum value or branch was added.
    Added,
    /// A property, enum value or branch was removed.
    Removed,
    /// The new version accepts less (bounds, types, required, ...).
    Narrowed,
    /// The new version accepts more.
    Widened,
    /// The engine could not decide (reported with its reason).
    Unknown,
}

/// One change between two versions.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// Kind, for people.
    pub kind: ChangeKind,
    /// The property concerned, e.g. `insurance` or `preferences.max_distance_km (maximum)`.
    pub path: String,
    /// The compat engine's stable rule id, e.g. `property-added-closed`.
    pub rule: &'static str,
    /// `backward` or `forward`.
    pub direction: Direction,
    /// The engine's one-line message (never instance data).
    pub message: String,
    /// Whether this breaks the level the new version declares.
    pub breaks_declared_level: bool,
}

/// The changes from one version to the next.
#[derive(Debug, Clone, Serialize)]
pub struct VersionChanges {
    /// Old version N-1.
    pub from: u32,
    /// New version N.
    pub to: u32,
    /// The new version's declared level.
    pub level: String,
    /// Findings of both directions.
    pub changes: Vec<Change>,
}

/// The changes from the version before `new` to `new` (`None` for a first version).
pub fn changes_to(
    catalog: &EventCatalog,
    new: &EventVersion,
) -> Result<Option<VersionChanges>, CatalogError> {
    let versions = catalog.versions(&new.event_type);
    let Some(old) = versions
        .iter()
        .filter(|v| v.version < new.version)
        .max_by_key(|v| v.version)
    else {
        return Ok(None);
    };
    let report = compare_files(
        &catalog.dir.join(&old.rel_path),
        &catalog.dir.join(&new.rel_path),
        Level::Full,
        Policy::Strict,
    )?;
    let declared = Level::parse(&new.compatibility).unwrap_or(Level::BackwardTransitive);
    let mut changes: Vec<Change> = report
        .findings
        .iter()
        .map(|f| {
            let old_ptr = &f.old.pointer;
            let new_ptr = &f.new.pointer;
            let pointer = if new_ptr.matches('/').count() >= old_ptr.matches('/').count() {
                new_ptr
            } else {
                old_ptr
            };
            Change {
                kind: kind_of(f.rule, f.direction, f.verdict),
                path: readable_path(pointer),
                rule: f.rule,
                direction: f.direction,
                message: f.message.clone(),
                breaks_declared_level: declared.directions().contains(&f.direction),
            }
        })
        .collect();
    changes.sort_by(|a, b| a.path.cmp(&b.path).then(a.rule.cmp(b.rule)));
    Ok(Some(VersionChanges {
        from: old.version,
        to: new.version,
        level: new.compatibility.clone(),
        changes,
    }))
}

fn kind_of(rule: &str, direction: Direction, verdict: Verdict) -> ChangeKind {
    const ADDED: &[&str] = &[
        "property-added",
        "pattern-property-added",
        "enum-value-added",
        "branch-added",
        "tuple-length-extended",
    ];
    const REMOVED: &[&str] = &[
        "property-removed",
        "pattern-property-removed",
        "enum-value-removed",
        "branch-removed",
        "tuple-length-reduced",
    ];
    if verdict == Verdict::Unknown {
        ChangeKind::Unknown
    } else if ADDED.iter().any(|p| rule.starts_with(p)) {
        ChangeKind::Added
    } else if REMOVED.iter().any(|p| rule.starts_with(p)) {
        ChangeKind::Removed
    } else if direction == Direction::Backward {
        ChangeKind::Narrowed
    } else {
        ChangeKind::Widened
    }
}

/// `/properties/preferences/properties/max_distance_km/maximum` →
/// `preferences.max_distance_km (maximum)`.
fn readable_path(pointer: &str) -> String {
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut path = String::new();
    let mut keyword = None;
    let mut i = 0;
    while i < tokens.len() {
        match tokens[i].as_str() {
            "properties" if i + 1 < tokens.len() => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&tokens[i + 1]);
                keyword = None;
                i += 2;
                continue;
            }
            "items" => path.push_str("[]"),
            "oneOf" | "anyOf" | "prefixItems" if i + 1 < tokens.len() => {
                path.push_str(&format!("[{}]", tokens[i + 1]));
                i += 2;
                continue;
            }
            other => keyword = Some(other.to_owned()),
        }
        i += 1;
    }
    let path = if path.is_empty() {
        "(root)".to_owned()
    } else {
        path
    };
    match keyword {
        Some(k) => format!("{path} ({k})"),
        None => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_read_as_paths() {
        assert_eq!(readable_path("/properties/insurance"), "insurance");
        assert_eq!(
            readable_path("/properties/preferences/properties/max_distance_km/maximum"),
            "preferences.max_distance_km (maximum)"
        );
        assert_eq!(readable_path("/properties/a/items/properties/b"), "a[].b");
        assert_eq!(readable_path("/oneOf/1/properties/kind"), "[1].kind");
        assert_eq!(readable_path(""), "(root)");
        assert_eq!(readable_path("/required"), "(root) (required)");
    }

    #[test]
    fn kinds_follow_rule_and_direction() {
        use Direction::*;
        let c = Verdict::Incompatible;
        assert_eq!(
            kind_of("property-added-closed", Forward, c),
            ChangeKind::Added
        );
        assert_eq!(
            kind_of("enum-value-removed", Backward, c),
            ChangeKind::Removed
        );
        assert_eq!(kind_of("required-added", Backward, c), ChangeKind::Narrowed);
        assert_eq!(
            kind_of("maximum-increased", Forward, c),
            ChangeKind::Widened
        );
        assert_eq!(
            kind_of("pattern-changed", Backward, Verdict::Unknown),
            ChangeKind::Unknown
        );
    }
}
