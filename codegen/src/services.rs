//! The service map (`schemas/services.json`): which service sends and which receives each
//! event and command.
//!
//! # Format
//!
//! ```json
//! {"$schema": "...", "$id": "https://pmp.example/schemas/services.json", "description": "...",
//!  "services": [{"name": "patient-service", "description": "...",
//!                "sends": ["patient.created"], "receives": ["match.status_changed"]}]}
//! ```
//!
//! - `services[*].name`: lower-case words joined by `-` (`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`),
//!   unique.
//! - `description` (optional): what the service does.
//! - `sends` / `receives` (optional, default empty): event types (all versions), each listed
//!   once per list.
//! - Unknown keys are errors, so a typo such as `"send": [...]` never goes unnoticed.
//!
//! The file is optional: a catalog without it has no producer/consumer metadata. When it is
//! present, `eventctl lint` ([`crate::lint`]) also checks it against the catalog
//! ([`ServiceMap::check`]): every event type it names has a schema, every event type of the
//! catalog has a sender, and every service an envelope example names as `producer` is declared.
//!
//! # Guarantees
//!
//! Every error names the file and the JSON pointer of the offending value. Parsing never
//! panics; error messages quote only names that passed validation.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// A problem with a service map: which file, where (JSON pointer) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {pointer}: {message}", file.display())]
pub struct ServicesError {
    /// The service map file.
    pub file: PathBuf,
    /// JSON pointer of the offending value (empty for the whole document).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

/// One service and the event types it sends and receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Service name, e.g. `patient-service` (also the envelope's `producer`).
    pub name: String,
    /// What the service does.
    pub description: Option<String>,
    /// Event types it publishes.
    pub sends: Vec<String>,
    /// Event types it consumes.
    pub receives: Vec<String>,
}

/// The parsed `services.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceMap {
    /// Services in file order.
    pub services: Vec<Service>,
}

/// A semantic finding of [`ServiceMap::check`]: a rule id, a JSON pointer into
/// `services.json` and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFinding {
    /// Stable rule id (`service-event-unknown`, `event-sender-missing`).
    pub rule: &'static str,
    /// Pointer into `services.json` (empty: the whole file).
    pub pointer: String,
    /// One line.
    pub message: String,
}

impl ServiceMap {
    /// Reads and validates a service map file.
    pub fn load(path: &Path) -> Result<Self, ServicesError> {
        let text = std::fs::read_to_string(path).map_err(|e| ServicesError {
            file: path.to_owned(),
            pointer: String::new(),
            message: format!("cannot read: {}", e.kind()),
        })?;
        Self::parse(path, &text)
    }

    /// Reads `dir/services.json` when it exists (`Ok(None)` when it does not).
    pub fn load_optional(dir: &Path) -> Result<Option<Self>, ServicesError> {
        let path = dir.join("services.json");
        if path.exists() {
            Self::load(&path).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Parses and validates service map text; `file` only names the source in errors.
    pub fn parse(file: &Path, text: &str) -> Result<Self, ServicesError> {
        let err = |pointer: &str, message: &str| ServicesError {
            file: file.to_owned(),
            pointer: pointer.to_owned(),
            message: message.to_owned(),
        };
        let root: Value = serde_json::from_str(text).map_err(|e| {
            err(
                "",
                &format!(
                    "not valid JSON ({:?} error at line {} column {})",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
            )
        })?;
        let obj = root
            .as_object()
            .ok_or_else(|| err("", "must be an object"))?;
        only_keys(obj, "", &["$schema", "$id", "description", "services"])
            .map_err(|(p, m)| err(&p, &m))?;
        let list = obj
            .get("services")
            .ok_or_else(|| err("/services", "is required"))?
            .as_array()
            .ok_or_else(|| err("/services", "must be an array"))?;
        let mut services = Vec::with_capacity(list.len());
        let mut names = BTreeSet::new();
        for (i, s) in list.iter().enumerate() {
            let at = format!("/services/{i}");
            let s = s.as_object().ok_or_else(|| err(&at, "must be an object"))?;
            only_keys(s, &at, &["name", "description", "sends", "receives"])
                .map_err(|(p, m)| err(&p, &m))?;
            let name = s
                .get("name")
                .ok_or_else(|| err(&format!("{at}/name"), "is required"))?
                .as_str()
                .filter(|n| is_service_name(n))
                .ok_or_else(|| {
                    err(
                        &format!("{at}/name"),
                        "must be lower-case words joined by `-`, e.g. `patient-service`",
                    )
                })?;
            if !names.insert(name.to_owned()) {
                return Err(err(
                    &format!("{at}/name"),
                    &format!("service `{name}` is declared twice"),
                ));
            }
            let description = match s.get("description") {
                None => None,
                Some(Value::String(d)) => Some(d.clone()),
                Some(_) => return Err(err(&format!("{at}/description"), "must be a string")),
            };
            let sends =
                event_list(s.get("sends"), &format!("{at}/sends")).map_err(|(p, m)| err(&p, &m))?;
            let receives = event_list(s.get("receives"), &format!("{at}/receives"))
                .map_err(|(p, m)| err(&p, &m))?;
            services.push(Service {
                name: name.to_owned(),
                description,
                sends,
                receives,
            });
        }
        Ok(ServiceMap { services })
    }

    /// The service called `name`.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// Services that send `event_type`, in file order.
    pub fn senders(&self, event_type: &str) -> Vec<&Service> {
        self.services
            .iter()
            .filter(|s| s.sends.iter().any(|e| e == event_type))
            .collect()
    }

    /// Services that receive `event_type`, in file order.
    pub fn receivers(&self, event_type: &str) -> Vec<&Service> {
        self.services
            .iter()
            .filter(|s| s.receives.iter().any(|e| e == event_type))
            .collect()
    }

    /// Checks the map against the catalog's event types: every listed event type must exist
    /// (`service-event-unknown`), and every catalog event type needs a sender
    /// (`event-sender-missing`).
    pub fn check(&self, event_types: &BTreeSet<String>) -> Vec<ServiceFinding> {
        let mut out = Vec::new();
        for (i, s) in self.services.iter().enumerate() {
            for (list, key) in [(&s.sends, "sends"), (&s.receives, "receives")] {
                for (j, e) in list.iter().enumerate() {
                    if !event_types.contains(e) {
                        out.push(ServiceFinding {
                            rule: "service-event-unknown",
                            pointer: format!("/services/{i}/{key}/{j}"),
                            message: format!(
                                "service `{}` {key} `{e}`, which has no schema under events/ or commands/",
                                s.name
                            ),
                        });
                    }
                }
            }
        }
        for e in event_types {
            if self.senders(e).is_empty() {
                out.push(ServiceFinding {
                    rule: "event-sender-missing",
                    pointer: "/services".into(),
                    message: format!("no service sends `{e}`: add it to a service's `sends`"),
                });
            }
        }
        out
    }
}

fn is_service_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 100
        && n.starts_with(|c: char| c.is_ascii_lowercase())
        && !n.ends_with('-')
        && !n.contains("--")
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_event_type(e: &str) -> bool {
    let mut parts = e.split('.');
    let ok = |p: &str| {
        p.starts_with(|c: char| c.is_ascii_lowercase())
            && p.chars().all(|c| c.is_ascii_lowercase() || c == '_')
    };
    parts.clone().count() >= 2 && parts.all(ok)
}

fn only_keys(obj: &Map<String, Value>, at: &str, allowed: &[&str]) -> Result<(), (String, String)> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => Err((
            format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
            format!("unknown key (allowed: {})", allowed.join(", ")),
        )),
    }
}

fn event_list(v: Option<&Value>, at: &str) -> Result<Vec<String>, (String, String)> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let list = v
        .as_array()
        .ok_or_else(|| (at.to_owned(), "must be an array of event types".to_owned()))?;
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for (j, e) in list.iter().enumerate() {
        let e = e.as_str().filter(|e| is_event_type(e)).ok_or_else(|| {
            (
                format!("{at}/{j}"),
                "must be an event type such as `patient.created`".to_owned(),
            )
        })?;
        if out.iter().any(|x| x == e) {
            return Err((format!("{at}/{j}"), format!("`{e}` is listed twice")));
        }
        out.push(e.to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ServiceMap, ServicesError> {
        ServiceMap::parse(Path::new("services.json"), text)
    }

    #[test]
    fn parses_and_answers_senders_and_receivers() {
        let m = parse(
            r#"{"services": [
            {"name": "a-service", "sends": ["x.created"], "receives": ["y.done"]},
            {"name": "b", "description": "B.", "receives": ["x.created"]}]}"#,
        )
        .unwrap();
        assert_eq!(m.senders("x.created")[0].name, "a-service");
        assert_eq!(m.receivers("x.created")[0].name, "b");
        assert!(m.senders("y.done").is_empty());
        let known: BTreeSet<String> = ["x.created".to_string()].into();
        let findings = m.check(&known);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].rule, "service-event-unknown");
        assert_eq!(findings[0].pointer, "/services/0/receives/0");
        let known: BTreeSet<String> = ["x.created".into(), "y.done".into(), "z.new".into()].into();
        let rules: Vec<_> = m
            .check(&known)
            .iter()
            .map(|f| (f.rule, f.message.clone()))
            .collect();
        assert_eq!(rules.len(), 2, "{rules:?}");
        assert!(rules
            .iter()
            .any(|(r, m)| *r == "event-sender-missing" && m.contains("`y.done`")));
        assert!(rules
            .iter()
            .any(|(r, m)| *r == "event-sender-missing" && m.contains("`z.new`")));
    }

    #[test]
    fn errors_name_the_pointer() {
        let cases = [
            ("[]", ""),
            (r#"{"servics": []}"#, "/servics"),
            (r#"{}"#, "/services"),
            (
                r#"{"services": [{"name": "Bad Name"}]}"#,
                "/services/0/name",
            ),
            (
                r#"{"services": [{"name": "a"}, {"name": "a"}]}"#,
                "/services/1/name",
            ),
            (
                r#"{"services": [{"name": "a", "send": []}]}"#,
                "/services/0/send",
            ),
            (
                r#"{"services": [{"name": "a", "sends": ["x.y", 3]}]}"#,
                "/services/0/sends/1",
            ),
            (
                r#"{"services": [{"name": "a", "receives": ["x.y", "x.y"]}]}"#,
                "/services/0/receives/1",
            ),
            (
                r#"{"services": [{"name": "a", "sends": "x.y"}]}"#,
                "/services/0/sends",
            ),
            (
                r#"{"services": [{"name": "a", "sends": ["nodot"]}]}"#,
                "/services/0/sends/0",
            ),
        ];
        for (text, pointer) in cases {
            let e = parse(text).expect_err(text);
            assert_eq!(e.pointer, pointer, "{text}: {e}");
            assert!(e.to_string().starts_with("services.json: "), "{e}");
        }
    }
}
