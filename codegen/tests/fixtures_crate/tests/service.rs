//! A service's generated catalog (`src/lib.rs` module `service`, from
//! `codegen/tests/fixtures/service` with the platform's catalog as extern types): several
//! roots in one `AnyEvent`, platform types reused (not copied), attributes, builders with
//! validated construction, `Default`, and no dependency beyond the runtime (uuid and chrono
//! come from its re-exports: this crate has no `uuid` or `chrono` dependency).

use std::collections::{BTreeSet, HashSet};

use pmp_codegen_fixtures::service::{
    AnyEvent, BookingCancelledV1, BookingFilter, BookingRequestedV1, CancelReason, Slot, SCHEMAS,
};
use pmp_event_runtime::chrono::NaiveDate;
use pmp_event_runtime::uuid::Uuid;
use pmp_event_runtime::{BuildError, Envelope, EventPayload, EventSet};
use serde_json::json;

fn address() -> pmp_events::PostalAddress {
    serde_json::from_value(json!({"postal_code": "10115", "city": "Berlin"})).unwrap()
}

fn slot(hour: u8) -> Slot {
    Slot::builder()
        .day(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap())
        .hour(hour)
        .build()
        .unwrap()
}

#[test]
fn any_event_covers_both_own_roots_and_only_the_named_platform_event() {
    let mut kinds: Vec<(&str, u32)> = SCHEMAS.iter().map(|s| (s.event_type, s.version)).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("booking.cancelled", 1),
            ("booking.requested", 1),
            ("patient.created", 1),
            ("patient.created", 2),
        ]
    );
    // The platform's entry is the platform crate's own `SchemaInfo`, not a copy.
    let platform = SCHEMAS
        .iter()
        .find(|s| s.event_type == "patient.created" && s.version == 1)
        .unwrap();
    assert_eq!(
        platform,
        <pmp_events::PatientCreatedV1 as EventPayload>::INFO
    );
    // Other platform events are not in the service's set.
    let other = pmp_events::SCHEMAS
        .iter()
        .find(|s| s.event_type == "therapist.created")
        .unwrap();
    let json = format!(
        r#"{{"event_id":"{}","event_type":"therapist.created","version":{},"timestamp":"2026-01-01T00:00:00Z","producer":"t","payload":{{}}}}"#,
        Uuid::now_v7(),
        other.version
    );
    assert!(matches!(
        AnyEvent::decode(json.as_bytes()),
        Err(pmp_event_runtime::DecodeError::UnknownEventType { .. })
    ));
}

#[test]
fn platform_types_are_reused_not_regenerated() {
    // `address` is the platform crate's type: this assignment only compiles if it is.
    let event = BookingRequestedV1::builder()
        .booking_id(Uuid::now_v7())
        .patient_id(Uuid::now_v7())
        .address(address())
        .slots(vec![slot(9)])
        .build()
        .unwrap();
    let platform_address: &pmp_events::PostalAddress = &event.address;
    assert_eq!(platform_address.city, "Berlin");
    // A platform event decodes into the service's AnyEvent as the platform's type.
    let sample: pmp_events::PatientCreatedV1Envelope =
        serde_json::from_value(platform_envelope()).unwrap();
    let bytes = sample.to_json().unwrap();
    match AnyEvent::decode(&bytes).unwrap() {
        AnyEvent::PatientCreatedV1(e) => {
            let payload: pmp_events::PatientCreatedV1 = e.payload;
            assert_eq!(payload, sample.payload);
        }
        other => panic!("decoded as {:?}", other.kind()),
    }
    let own = AnyEvent::from(Envelope::new("booking", event.clone()));
    assert_eq!(own.kind(), ("booking.requested", 1));
    assert_eq!(own.partition_key(), event.booking_id.to_string());
}

fn platform_envelope() -> serde_json::Value {
    let schema: serde_json::Value =
        serde_json::from_str(pmp_events::PATIENT_CREATED_V1_SCHEMA_JSON).unwrap();
    json!({
        "event_id": Uuid::now_v7(),
        "event_type": "patient.created",
        "version": 1,
        "timestamp": "2026-01-01T00:00:00Z",
        "producer": "platform",
        "payload": schema["examples"][0].clone(),
    })
}

#[test]
fn second_root_types_resolve_by_id() {
    let cancelled = BookingCancelledV1::builder()
        .booking_id(Uuid::now_v7())
        .reason(CancelReason::NoCapacity)
        .build()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&cancelled).unwrap()["reason"],
        json!("no_capacity")
    );
}

#[test]
fn type_and_field_attributes_apply() {
    // type_attribute("Slot", "#[derive(Eq, Hash, PartialOrd, Ord)]")
    let hashed: HashSet<Slot> = [slot(9), slot(9), slot(10)].into_iter().collect();
    assert_eq!(hashed.len(), 2);
    let sorted: BTreeSet<Slot> = [slot(12), slot(8)].into_iter().collect();
    assert_eq!(sorted.iter().map(|s| s.hour).collect::<Vec<_>>(), [8, 12]);
    // field_attribute("BookingRequestedV1.note", "#[serde(alias = \"remark\")]")
    let read: BookingRequestedV1 = serde_json::from_value(json!({
        "booking_id": Uuid::now_v7(), "patient_id": Uuid::now_v7(),
        "address": {"postal_code": "10115", "city": "Berlin"},
        "slots": [{"day": "2026-01-05", "hour": 9}], "remark": "hi"
    }))
    .unwrap();
    assert_eq!(read.note.as_deref(), Some("hi"));
}

#[test]
fn build_reports_the_first_missing_required_property() {
    let err = BookingRequestedV1::builder()
        .booking_id(Uuid::now_v7())
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        BuildError::Missing {
            type_name: "BookingRequestedV1",
            property: "patient_id"
        }
    );
}

#[test]
fn build_checks_schema_constraints_without_echoing_values() {
    let base = || {
        BookingRequestedV1::builder()
            .booking_id(Uuid::now_v7())
            .patient_id(Uuid::now_v7())
            .address(address())
    };
    // maxLength 20 on an x-pii field: the error names pointer and keyword, not the text.
    let secret = "private-text-that-is-too-long";
    let err = base()
        .slots(vec![slot(9)])
        .note(secret)
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        BuildError::Invalid {
            type_name: "BookingRequestedV1",
            pointer: "/note".into(),
            keyword: "maxLength".into()
        }
    );
    assert!(!err.to_string().contains(secret), "{err}");
    // pattern
    let err = base().slots(vec![slot(9)]).note("<b>").build().unwrap_err();
    assert!(
        matches!(&err, BuildError::Invalid { keyword, .. } if keyword == "pattern"),
        "{err}"
    );
    // minItems on the array, and bounds of a nested type, checked through the payload
    let err = base().slots(Vec::new()).build().unwrap_err();
    assert!(
        matches!(&err, BuildError::Invalid { pointer, keyword, .. } if pointer == "/slots" && keyword == "minItems"),
        "{err}"
    );
    let err = base().slots(vec![slot(23)]).build().unwrap_err();
    assert!(
        matches!(&err, BuildError::Invalid { pointer, keyword, .. } if pointer == "/slots/0/hour" && keyword == "maximum"),
        "{err}"
    );
    // TryFrom is the same check
    assert!(BookingRequestedV1::try_from(base().slots(vec![slot(9)])).is_ok());
}

#[test]
fn all_optional_structs_have_default_with_schema_defaults() {
    let filter = BookingFilter::default();
    assert_eq!(filter.limit, 10);
    assert_eq!(filter.city, None);
    assert_eq!(BookingFilter::builder().build().unwrap(), filter);
    assert_eq!(
        BookingFilter::builder()
            .city("Köln")
            .limit(5u8)
            .build()
            .unwrap()
            .limit,
        5
    );
}
