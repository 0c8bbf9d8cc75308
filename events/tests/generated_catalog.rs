//! The generated catalog against its source schemas:
//! - every example of every schema validates with `jsonschema` (payload schemas through
//!   their bundled `schema_json`, compiled with no retriever at all),
//! - deserializes into its generated type and serializes back to equal JSON (defaults filled
//!   in; date-times normalized to UTC and UUIDs to lower case are compared as values),
//! - is accepted by the `schemars` schema of the generated type (fidelity),
//! - and values built in Rust serialize to JSON that the source schema accepts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pmp_event_runtime::{Envelope, EventPayload, EventSet, RawEnvelope};
use pmp_events::*;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};

type RoundTrip = fn(&Value) -> Result<Value, String>;
type SchemaOf = fn() -> Value;

fn round_trip<T: Serialize + DeserializeOwned>(v: &Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(&typed).map_err(|e| e.to_string())
}

fn schemars_of<T: schemars::JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).unwrap()
}

macro_rules! entry {
    ($file:literal, $t:ty) => {
        (
            $file,
            round_trip::<$t> as RoundTrip,
            schemars_of::<$t> as SchemaOf,
        )
    };
}

/// Every schema file and its generated type. `every_schema_file_is_covered` fails when a
/// schema is added without a line here.
const TYPES: &[(&str, RoundTrip, SchemaOf)] = &[
    entry!("commands/email.send/v1.json", EmailSendV1),
    entry!(
        "commands/geocoding.calculate_distance/v1.json",
        GeocodingCalculateDistanceV1
    ),
    entry!("commands/scraping.run/v1.json", ScrapingRunV1),
    entry!("common/contact.json", Contact),
    entry!("common/geo_point.json", GeoPoint),
    entry!("common/location.json", Location),
    entry!("common/match_status.json", MatchStatus),
    entry!("common/patient_status.json", PatientStatus),
    entry!("common/person_name.json", PersonName),
    entry!("common/postal_address.json", PostalAddress),
    entry!("common/salutation.json", Salutation),
    entry!("common/therapist_status.json", TherapistStatus),
    entry!("common/therapy_method.json", TherapyMethod),
    entry!(
        "events/communication.call_scheduled/v1.json",
        CommunicationCallScheduledV1
    ),
    entry!(
        "events/communication.email_sent/v1.json",
        CommunicationEmailSentV1
    ),
    entry!("events/match.created/v1.json", MatchCreatedV1),
    entry!("events/match.status_changed/v1.json", MatchStatusChangedV1),
    entry!("events/patient.created/v1.json", PatientCreatedV1),
    entry!("events/patient.created/v2.json", PatientCreatedV2),
    entry!("events/patient.deleted/v1.json", PatientDeletedV1),
    entry!("events/patient.updated/v1.json", PatientUpdatedV1),
    entry!("events/therapist.blocked/v1.json", TherapistBlockedV1),
    entry!("events/therapist.created/v1.json", TherapistCreatedV1),
    entry!("events/therapist.unblocked/v1.json", TherapistUnblockedV1),
    entry!("events/therapist.updated/v1.json", TherapistUpdatedV1),
];

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

fn schema_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            schema_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

fn rel(p: &Path) -> String {
    p.strip_prefix(schemas_dir())
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

fn load(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(schemas_dir().join(rel)).unwrap()).unwrap()
}

/// Resolves `https://pmp.example/schemas/<path>` from the schemas directory (only used for
/// the common definitions, which have no bundled text; payloads use their bundle).
struct FileRetriever;

impl jsonschema::Retrieve for FileRetriever {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let s = uri.as_str();
        let rel = s
            .strip_prefix("https://pmp.example/schemas/")
            .ok_or_else(|| format!("not a catalog URI: {s}"))?;
        Ok(serde_json::from_str(&std::fs::read_to_string(
            schemas_dir().join(rel),
        )?)?)
    }
}

fn validator(rel: &str) -> jsonschema::Validator {
    if let Some(info) = SCHEMAS
        .iter()
        .find(|i| i.schema_id.ends_with(&format!("/{rel}")))
    {
        // The bundled text must compile on its own: no retriever.
        let bundled: Value = serde_json::from_str(info.schema_json).unwrap();
        return jsonschema::validator_for(&bundled)
            .unwrap_or_else(|e| panic!("bundled schema of {rel} does not compile: {e}"));
    }
    if rel == "envelope.json" {
        let bundled: Value = serde_json::from_str(ENVELOPE_SCHEMA_JSON).unwrap();
        return jsonschema::validator_for(&bundled).unwrap();
    }
    jsonschema::options()
        .with_retriever(FileRetriever)
        .build(&load(rel))
        .unwrap()
}

/// Property name -> every `default` declared for a property of that name.
fn defaults() -> BTreeMap<String, Vec<Value>> {
    fn walk(v: &Value, out: &mut BTreeMap<String, Vec<Value>>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::Object(props)) = m.get("properties") {
                    for (name, p) in props {
                        if let Some(d) = p.get("default") {
                            out.entry(name.clone()).or_default().push(d.clone());
                        }
                    }
                }
                m.values().for_each(|c| walk(c, out));
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, out)),
            _ => {}
        }
    }
    let mut files = Vec::new();
    schema_files(&schemas_dir(), &mut files);
    let mut out = BTreeMap::new();
    for f in files {
        walk(&load(&rel(&f)), &mut out);
    }
    out
}

/// `back` equals `orig`, except for properties absent from `orig` that carry their declared
/// default, and date-time / UUID strings that denote the same value.
fn same(
    orig: &Value,
    back: &Value,
    defaults: &BTreeMap<String, Vec<Value>>,
    path: &str,
) -> Result<(), String> {
    match (orig, back) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let Some(w) = b.get(k) else {
                    return Err(format!("{path}/{k} lost"));
                };
                same(v, w, defaults, &format!("{path}/{k}"))?;
            }
            for (k, w) in b {
                if !a.contains_key(k) && !defaults.get(k).is_some_and(|d| d.contains(w)) {
                    return Err(format!("{path}/{k} appeared without being a default"));
                }
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .try_for_each(|(i, (v, w))| same(v, w, defaults, &format!("{path}/{i}"))),
        (Value::String(a), Value::String(b)) if a != b => {
            let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
            let u = |s: &str| uuid::Uuid::parse_str(s).ok();
            if (t(a).is_some() && t(a) == t(b)) || (u(a).is_some() && u(a) == u(b)) {
                Ok(())
            } else {
                Err(format!("{path} changed"))
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => Ok(()),
        (a, b) if a == b => Ok(()),
        _ => Err(format!("{path} changed")),
    }
}

fn examples(rel: &str) -> Vec<Value> {
    load(rel)["examples"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn every_schema_file_is_covered() {
    let mut files = Vec::new();
    schema_files(&schemas_dir(), &mut files);
    let covered: Vec<&str> = TYPES.iter().map(|(f, _, _)| *f).collect();
    for f in files {
        let r = rel(&f);
        if r == "topics.json" || r == "services.json" || r == "envelope.json" {
            continue;
        }
        assert!(covered.contains(&r.as_str()), "{r} has no entry in TYPES");
    }
    let payloads = TYPES
        .iter()
        .filter(|(f, _, _)| f.starts_with("events/") || f.starts_with("commands/"))
        .count();
    assert_eq!(payloads, SCHEMAS.len());
}

#[test]
fn every_example_validates_deserializes_and_round_trips() {
    let defaults = defaults();
    let mut checked = 0;
    for (rel, round_trip, _) in TYPES {
        let validator = validator(rel);
        let examples = examples(rel);
        assert!(!examples.is_empty(), "{rel} has no examples");
        for (i, example) in examples.iter().enumerate() {
            let errors: Vec<String> = validator
                .iter_errors(example)
                .map(|e| format!("{} ({})", e.instance_path(), e.schema_path()))
                .collect();
            assert!(errors.is_empty(), "{rel} example {i} invalid: {errors:?}");
            let back = round_trip(example)
                .unwrap_or_else(|e| panic!("{rel} example {i} does not deserialize: {e}"));
            if let Err(e) = same(example, &back, &defaults, "") {
                panic!("{rel} example {i} does not round-trip: {e}");
            }
            assert!(
                validator.is_valid(&back),
                "{rel} example {i}: re-serialized JSON is invalid"
            );
            checked += 1;
        }
    }
    assert!(checked >= 2 * SCHEMAS.len());
}

#[test]
fn envelope_examples_validate_and_round_trip_through_raw_envelope() {
    let validator = validator("envelope.json");
    let examples = examples("envelope.json");
    assert!(!examples.is_empty());
    for (i, example) in examples.iter().enumerate() {
        assert!(validator.is_valid(example), "envelope example {i} invalid");
        let back = round_trip::<RawEnvelope>(example).unwrap();
        same(example, &back, &BTreeMap::new(), "").unwrap();
    }
}

#[test]
fn schemars_schema_of_every_generated_type_accepts_every_example() {
    for (rel, _, schema_of) in TYPES {
        let schema = schema_of();
        let validator = jsonschema::validator_for(&schema)
            .unwrap_or_else(|e| panic!("schemars schema of {rel} does not compile: {e}"));
        for (i, example) in examples(rel).iter().enumerate() {
            let errors: Vec<String> = validator
                .iter_errors(example)
                .map(|e| format!("{} ({})", e.instance_path(), e.schema_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "schemars schema of {rel} rejects example {i}: {errors:?}"
            );
        }
    }
}

#[test]
fn every_example_decodes_through_any_event_in_an_envelope() {
    for info in SCHEMAS {
        let schema: Value = serde_json::from_str(info.schema_json).unwrap();
        for example in schema["examples"].as_array().unwrap() {
            let bytes = serde_json::to_vec(&json!({
                "event_id": uuid::Uuid::now_v7(),
                "event_type": info.event_type,
                "version": info.version,
                "timestamp": "2024-05-14T09:30:00Z",
                "producer": "test",
                "payload": example,
            }))
            .unwrap();
            let event = AnyEvent::decode(&bytes).unwrap();
            assert_eq!(event.kind(), (info.event_type, info.version));
            assert_eq!(event.info(), info);
            let key = match &example[info.key_field] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(event.partition_key(), key);
            let again = AnyEvent::decode(&event.to_json().unwrap()).unwrap();
            assert_eq!(again, event);
        }
    }
}

#[test]
fn unknown_type_and_version_are_typed_errors() {
    let env = |t: &str, v: u32| {
        serde_json::to_vec(&json!({
            "event_id": uuid::Uuid::now_v7(), "event_type": t, "version": v,
            "timestamp": "2024-05-14T09:30:00Z", "producer": "p", "payload": {}
        }))
        .unwrap()
    };
    assert_eq!(
        AnyEvent::decode(&env("patient.created", 9)),
        Err(pmp_event_runtime::DecodeError::UnknownVersion {
            event_type: "patient.created".into(),
            version: 9
        })
    );
    assert_eq!(
        AnyEvent::decode(&env("no.such", 1)),
        Err(pmp_event_runtime::DecodeError::UnknownEventType {
            event_type: "no.such".into()
        })
    );
}

#[test]
fn registry_is_sorted_and_consistent() {
    let keys: Vec<(&str, u32)> = SCHEMAS.iter().map(|s| (s.event_type, s.version)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(PatientCreatedV2::INFO.version, 2);
    assert_eq!(PatientCreatedV1::TOPIC, "patient-events");
    assert_eq!(PatientCreatedV1::KEY_FIELD, "patient_id");
    assert_eq!(
        EmailSendV1::INFO.kind,
        pmp_event_runtime::EventKind::Command
    );
    assert_eq!(
        PatientCreatedV1::INFO.schema_id,
        "https://pmp.example/schemas/events/patient.created/v1.json"
    );
}

fn patient() -> PatientCreatedV1 {
    PatientCreatedV1 {
        patient_id: 7,
        name: PersonName {
            salutation: Salutation::Ms,
            title: Some("Dr.".into()),
            first_name: "Anna".into(),
            last_name: "Schmidt".into(),
        },
        contact: Contact {
            email: Some("anna@example.org".into()),
            phone: Some("+49 30 1234567".into()),
        },
        address: Some(PostalAddress {
            street: Some("Hauptstr. 1".into()),
            postal_code: "10115".into(),
            city: "Berlin".into(),
        }),
        status: PatientStatus::Searching,
        birth_date: chrono::NaiveDate::from_ymd_opt(1990, 4, 1),
        preferences: Some(PatientCreatedV1Preferences {
            max_distance_km: Some(25),
            therapist_gender: PatientCreatedV1PreferencesTherapistGender::Female,
            methods: Some(vec![TherapyMethod::Behavioral, TherapyMethod::Systemic]),
            languages: Some(vec!["de".into(), "en".into()]),
        }),
    }
}

#[test]
fn values_built_in_rust_validate_against_the_source_schemas() {
    let check = |rel: &str, v: Value| {
        let errors: Vec<String> = validator(rel)
            .iter_errors(&v)
            .map(|e| format!("{} ({})", e.instance_path(), e.schema_path()))
            .collect();
        assert!(errors.is_empty(), "{rel}: {errors:?}");
    };
    check(
        "events/patient.created/v1.json",
        serde_json::to_value(patient()).unwrap(),
    );
    for (origin, destination) in [
        (
            Location::Address(LocationAddress {
                address: PostalAddress {
                    street: None,
                    postal_code: "80331".into(),
                    city: "München".into(),
                },
            }),
            Location::Point(LocationPoint {
                point: GeoPoint {
                    lat: 48.1,
                    lon: 11.6,
                },
            }),
        ),
        (
            Location::Query(LocationQuery {
                query: "Alexanderplatz 1, Berlin".into(),
            }),
            Location::Point(LocationPoint {
                point: GeoPoint {
                    lat: -1.0,
                    lon: 0.0,
                },
            }),
        ),
    ] {
        let cmd = GeocodingCalculateDistanceV1 {
            request_id: uuid::Uuid::now_v7(),
            origin,
            destination,
            travel_mode: GeocodingCalculateDistanceV1TravelMode::Transit,
        };
        check(
            "commands/geocoding.calculate_distance/v1.json",
            serde_json::to_value(&cmd).unwrap(),
        );
    }
    let mut vars = BTreeMap::new();
    vars.insert("first_name".to_owned(), "Anna".to_owned());
    let email = EmailSendV1 {
        email_id: uuid::Uuid::now_v7(),
        to: EmailSendV1To {
            email: "anna@example.org".into(),
            name: None,
        },
        subject: "Ihr Termin".into(),
        body_text: None,
        template: Some("appointment".into()),
        template_vars: Some(vars),
        reply_to: None,
        related: None,
    };
    check(
        "commands/email.send/v1.json",
        serde_json::to_value(&email).unwrap(),
    );
    let envelope = Envelope::new("patient-service", patient());
    check("envelope.json", serde_json::to_value(&envelope).unwrap());
}

#[test]
fn debug_redacts_pii_fields() {
    let p = patient();
    let text = format!("{:?}", Envelope::new("svc", p.clone()));
    for secret in [
        "Anna",
        "Schmidt",
        "anna@example.org",
        "1234567",
        "Hauptstr",
        "Berlin",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert!(text.contains("<redacted>"), "{text}");
    assert!(text.contains("patient_id: 7"), "{text}");
    let q = format!(
        "{:?}",
        Location::Query(LocationQuery {
            query: "Hauptstr. 1".into()
        })
    );
    assert!(!q.contains("Hauptstr"), "{q}");
}

#[test]
fn string_enums_display_and_parse_their_wire_values() {
    assert_eq!(PatientStatus::InTherapy.to_string(), "in_therapy");
    assert_eq!(
        "therapy_aborted".parse::<PatientStatus>(),
        Ok(PatientStatus::TherapyAborted)
    );
    let err = "In Therapie".parse::<PatientStatus>().unwrap_err();
    assert_eq!(err.to_string(), "not a valid PatientStatus value");
    for s in PatientStatus::ALL {
        assert_eq!(s.as_str().parse::<PatientStatus>(), Ok(*s));
        assert_eq!(
            serde_json::to_value(s).unwrap(),
            Value::String(s.to_string())
        );
    }
}

#[test]
fn defaults_apply_when_absent() {
    let cmd: ScrapingRunV1 = serde_json::from_value(json!({
        "run_id": uuid::Uuid::now_v7(), "source": "kv-berlin"
    }))
    .unwrap();
    assert_eq!(cmd.max_pages, 50);
    assert!(!cmd.dry_run);
}
