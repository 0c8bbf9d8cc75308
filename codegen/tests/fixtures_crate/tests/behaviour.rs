//! Behaviour of the generated fixture types: every fixture example validates against the
//! bundled schema (compiled with no retriever), deserializes into the root type and
//! serializes back (defaults filled in); plus the semantics of each construct.

use pmp_codegen_fixtures::*;
use serde_json::{json, Value};

fn examples(schema_json: &str) -> Vec<Value> {
    let schema: Value = serde_json::from_str(schema_json).unwrap();
    schema["examples"].as_array().cloned().unwrap_or_default()
}

/// Every example validates, deserializes into `T` and re-serializes to valid JSON that
/// contains the example (extra keys only where `defaults_ok`).
fn check<T>(name: &str, schema_json: &str, defaults_ok: bool)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let schema: Value = serde_json::from_str(schema_json).unwrap();
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("{name}: bundled schema does not compile: {e}"));
    let examples = examples(schema_json);
    assert!(examples.len() >= 2, "{name}: needs examples");
    for (i, example) in examples.iter().enumerate() {
        assert!(validator.is_valid(example), "{name} example {i} invalid");
        let typed: T = serde_json::from_value(example.clone())
            .unwrap_or_else(|e| panic!("{name} example {i}: {e}"));
        let back = serde_json::to_value(&typed).unwrap();
        assert!(
            validator.is_valid(&back),
            "{name} example {i}: output invalid"
        );
        if !defaults_ok {
            assert_eq!(&back, example, "{name} example {i} does not round-trip");
        }
        let again: T = serde_json::from_value(back).unwrap();
        assert_eq!(
            again, typed,
            "{name} example {i}: second round trip differs"
        );
    }
}

mod serde {
    pub use pmp_event_runtime::__private::serde::{de, Serialize};
}

#[test]
fn every_fixture_round_trips_its_examples() {
    check::<all_of::TherapistSnapshot>("all_of", all_of::THERAPIST_SNAPSHOT_SCHEMA_JSON, false);
    check::<array::Lists>("array", array::LISTS_SCHEMA_JSON, false);
    check::<currency::Currency>("currency", currency::CURRENCY_SCHEMA_JSON, false);
    check::<defaults::Defaults>("defaults", defaults::DEFAULTS_SCHEMA_JSON, true);
    check::<map::Maps>("map", map::MAPS_SCHEMA_JSON, false);
    check::<nullable::Nullable>("nullable", nullable::NULLABLE_SCHEMA_JSON, false);
    check::<object::Order>("object", object::ORDER_SCHEMA_JSON, false);
    check::<pii::Person>("pii", pii::PERSON_SCHEMA_JSON, false);
    check::<recursion::Category>("recursion", recursion::CATEGORY_SCHEMA_JSON, false);
    check::<refs::Invoice>("refs", refs::INVOICE_SCHEMA_JSON, false);
    check::<string_enum::Enums>("string_enum", string_enum::ENUMS_SCHEMA_JSON, false);
    check::<tagged_one_of::Shape>("tagged_one_of", tagged_one_of::SHAPE_SCHEMA_JSON, false);
    check::<untagged_one_of::Untagged>(
        "untagged_one_of",
        untagged_one_of::UNTAGGED_SCHEMA_JSON,
        false,
    );
    check::<validation_only::Message>(
        "validation_only",
        validation_only::MESSAGE_SCHEMA_JSON,
        false,
    );
    // Date-times are normalized to UTC on output, so compare values, not text.
    check::<formats::Formats>("formats", formats::FORMATS_SCHEMA_JSON, true);
    check::<prelude_names::Option>("prelude_names", prelude_names::OPTION_SCHEMA_JSON, true);
    check::<non_ascii::Messung>("non_ascii", non_ascii::MESSUNG_SCHEMA_JSON, false);
    check::<real_world::Reading>("real_world", real_world::READING_SCHEMA_JSON, false);
    check::<draft07::Legacy>("draft07", draft07::LEGACY_SCHEMA_JSON, false);
}

#[test]
fn real_world_constructs_are_typed() {
    use real_world::*;
    let typed: Reading = serde_json::from_value(json!({
        "point": [1, 2.5, "p"], "labels": {"a": "b"}, "id_or_name": 3, "flag_or_list": true,
        "nothing": "", "mixed": "a", "contact": {"name": "n", "phone": "1"}
    }))
    .unwrap();
    // Tuples of fixed length are Rust tuples.
    assert_eq!(typed.point, (1.0, 2.5, "p".to_owned()));
    // A single pattern with no other properties is a typed map.
    assert_eq!(typed.labels.get("a").map(String::as_str), Some("b"));
    // `type` arrays are untagged enums; integers win over numbers and strings.
    assert_eq!(typed.id_or_name, Some(ReadingIdOrName::Integer(3)));
    assert_eq!(
        typed.flag_or_list,
        Some(Some(ReadingFlagOrList::Boolean(true)))
    );
    assert_eq!(typed.nothing, Some(ReadingNothing::Empty));
    assert_eq!(typed.mixed, Some(json!("a")));
    // Defaults on date-times and dates are parsed.
    assert_eq!(typed.since.to_rfc3339(), "2024-01-02T03:04:05+00:00");
    assert_eq!(typed.day.to_string(), "2024-02-29");
    // anyOf inside allOf: the alternative is flattened beside the merged properties.
    let contact = typed.contact.unwrap();
    assert_eq!(contact.name, "n");
    assert!(matches!(contact.any_of, ContactAnyOf::ByPhone(ref p) if p.phone == "1"));
    // A tuple of the wrong length, or a value of a type outside the union, is rejected.
    assert!(serde_json::from_value::<Reading>(json!({"point": [1, 2], "labels": {}})).is_err());
    assert!(serde_json::from_value::<Reading>(
        json!({"point": [1, 2, "p"], "labels": {}, "id_or_name": 1.5})
    )
    .is_err());
    // A present `null` of an any-JSON property stays apart from an absent one.
    let null: Reading =
        serde_json::from_value(json!({"point": [1, 2, "p"], "labels": {}, "mixed": null})).unwrap();
    assert_eq!(null.mixed, Some(serde_json::Value::Null));
}

#[test]
fn draft07_schemas_generate() {
    use draft07::*;
    let typed: Legacy = serde_json::from_value(
        json!({"pair": ["a", 1], "owner": {"name": "n"}, "backup": {"at": "x"}}),
    )
    .unwrap();
    assert_eq!(typed.pair, ("a".to_owned(), 1));
    // `$ref` siblings are ignored in draft-07: `owner` is the referenced object.
    assert_eq!(
        typed.owner,
        Person {
            name: "n".to_owned()
        }
    );
    // `#backup` (a draft-07 `$id` anchor) resolved to the definition.
    assert_eq!(
        typed.backup,
        Some(Backup {
            at: Some("x".to_owned())
        })
    );
    assert!(
        serde_json::from_value::<Legacy>(json!({"pair": ["a", 1, 2], "owner": {"name": "n"}}))
            .is_err()
    );
}

#[test]
fn prelude_named_types_do_not_shadow_std() {
    use prelude_names::{Box, Option, Result, String};
    let value = json!({"name": {"text": "a"}, "boxes": [{"width": 1}], "plain": "std", "result": "err", "tags": ["t"]});
    let typed: Option = serde_json::from_value(value).unwrap();
    // The generated `String` is the schema's object; the plain property is a std string.
    assert_eq!(
        typed.name,
        String {
            text: "a".to_owned()
        }
    );
    assert_eq!(typed.plain.as_deref(), Some("std"));
    assert_eq!(typed.boxes, vec![Box { width: Some(1) }]);
    assert_eq!(typed.result, Some(Result::Err));
    assert_eq!(typed.tags, Some(vec!["t".to_owned()]));
    assert_eq!(typed.label, "none");
    // A std string where the schema's `String` object belongs is rejected, and vice versa.
    assert!(serde_json::from_value::<Option>(json!({"name": "a", "boxes": []})).is_err());
    assert!(serde_json::from_value::<Option>(
        json!({"name": {"text": "a"}, "boxes": [], "plain": {"text": "x"}})
    )
    .is_err());
}

#[test]
fn non_ascii_properties_keep_their_wire_names() {
    use non_ascii::{Messung, MessungEinheit, MessungMingZi};
    let value = json!({"größe": 7, "grösse": "a", "grosse": false, "名前": "n", "名字": {"値": 2.5}, "🙂": "s", "einheit": "größe"});
    let typed: Messung = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(typed.grosse_1, 7);
    assert_eq!(typed.grosse_2.as_deref(), Some("a"));
    assert_eq!(typed.grosse, Some(false));
    assert_eq!(typed.ming_qian, "n");
    assert_eq!(typed.ming_zi, Some(MessungMingZi { zhi: Some(2.5) }));
    assert_eq!(typed.slight_smile.as_deref(), Some("s"));
    assert_eq!(typed.einheit, Some(MessungEinheit::Grosse));
    assert_eq!(serde_json::to_value(&typed).unwrap(), value);
    assert_eq!("µm".parse::<MessungEinheit>(), Ok(MessungEinheit::Um));
    // Unknown fields are still denied: the renamed fields did not open the struct.
    assert!(
        serde_json::from_value::<Messung>(json!({"größe": 1, "名前": "n", "grosse_1": 1})).is_err()
    );
}

#[test]
fn nullable_keeps_absent_and_null_apart() {
    use nullable::Nullable;
    let absent: Nullable = serde_json::from_value(json!({"required_nullable": null})).unwrap();
    let null: Nullable =
        serde_json::from_value(json!({"required_nullable": null, "optional_nullable": null}))
            .unwrap();
    let value: Nullable =
        serde_json::from_value(json!({"required_nullable": "x", "optional_nullable": 4})).unwrap();
    assert_eq!(absent.optional_nullable, None);
    assert_eq!(null.optional_nullable, Some(None));
    assert_eq!(value.optional_nullable, Some(Some(4)));
    assert_eq!(value.required_nullable.as_deref(), Some("x"));
    assert_eq!(
        serde_json::to_value(&null).unwrap(),
        json!({"required_nullable": null, "optional_nullable": null})
    );
    assert_eq!(
        serde_json::to_value(&absent).unwrap(),
        json!({"required_nullable": null})
    );
}

#[test]
fn defaults_fill_absent_properties() {
    let d: defaults::Defaults = serde_json::from_value(json!({})).unwrap();
    assert_eq!(d.max_pages, 50);
    assert_eq!(d.offset, -3);
    assert!(!d.dry_run);
    assert_eq!(d.label, "none");
    assert_eq!(d.ratio, 0.25);
    assert_eq!(d.mode, defaults::DefaultsMode::Car);
    assert_eq!(d.langs, vec!["de".to_owned()]);
    assert!(d.vars.is_empty());
    assert_eq!(d.maybe, None);
}

#[test]
fn tagged_enum_uses_the_discriminator() {
    use tagged_one_of::*;
    let s: Shape = serde_json::from_value(json!({"kind": "square", "side": 2.0})).unwrap();
    assert_eq!(s, Shape::Square(ShapeSquare { side: 2.0 }));
    let p: Shape = serde_json::from_value(json!({"kind": "point"})).unwrap();
    assert_eq!(p, Shape::Point);
    assert_eq!(
        serde_json::to_value(Shape::Circle(ShapeCircle { radius: 1.0 })).unwrap(),
        json!({"kind": "circle", "radius": 1.0})
    );
    assert!(serde_json::from_value::<Shape>(json!({"kind": "hexagon"})).is_err());
    // Closed objects stay closed inside the variant.
    assert!(serde_json::from_value::<Shape>(json!({"kind": "square", "side": 1, "x": 1})).is_err());
}

#[test]
fn untagged_enum_picks_the_matching_branch() {
    use untagged_one_of::*;
    let u: Untagged = serde_json::from_value(json!({"id_or_name": 7})).unwrap();
    assert_eq!(u.id_or_name, UntaggedIdOrName::Integer(7));
    let u: Untagged =
        serde_json::from_value(json!({"id_or_name": "x", "target": {"email": "a@b.c"}})).unwrap();
    assert_eq!(u.id_or_name, UntaggedIdOrName::String("x".into()));
    assert!(matches!(u.target, Some(UntaggedTarget::EmailTarget(_))));
}

#[test]
fn string_enums_parse_display_and_rename() {
    use string_enum::*;
    assert_eq!(EnumsStatus::InProgress.to_string(), "in_progress");
    assert_eq!("2nd".parse::<EnumsStatus>(), Ok(EnumsStatus::V2nd));
    assert_eq!("self".parse::<EnumsStatus>(), Ok(EnumsStatus::Self_));
    assert!("Open".parse::<EnumsStatus>().is_err());
    assert_eq!(EnumsStatus::ALL.len(), 4);
    assert_eq!(EnumsKind::Therapist.as_str(), "therapist");
    assert_eq!(
        serde_json::to_value(EnumsVersionTag::V1).unwrap(),
        json!("v1")
    );
}

#[test]
fn debug_redacts_x_pii() {
    let p: pii::Person = serde_json::from_value(json!({
        "id": 1, "name": "Anna Secret", "email": "anna@secret.example",
        "address": {"city": "Secretville"}, "notes": ["secret note"], "secret": {"code": "s3cr3t"}
    }))
    .unwrap();
    let text = format!("{p:?}");
    for leak in ["Anna", "anna@", "Secretville", "secret note", "s3cr3t"] {
        assert!(!text.contains(leak), "{leak} leaked: {text}");
    }
    assert!(text.contains("id: 1"), "{text}");
    let absent: pii::Person = serde_json::from_value(json!({"id": 2, "name": "A"})).unwrap();
    assert!(format!("{absent:?}").contains("email: None"));
}

#[test]
fn recursion_is_boxed_and_works() {
    let c: recursion::Category = serde_json::from_value(json!({
        "name": "a", "parent": {"name": "root", "parent": {"name": "top"}},
        "children": [{"name": "b"}]
    }))
    .unwrap();
    let grand = c.parent.as_ref().and_then(|p| p.parent.as_ref()).unwrap();
    assert_eq!(grand.name, "top");
}

#[test]
fn maps_and_flattened_additional_properties() {
    let m: map::Maps = serde_json::from_value(json!({
        "labels": {"b": "2", "a": "1"}, "mixed": {"known": "k", "x": 1, "y": 2}
    }))
    .unwrap();
    assert_eq!(m.labels.keys().collect::<Vec<_>>(), ["a", "b"]);
    let mixed = m.mixed.unwrap();
    assert_eq!(mixed.known, "k");
    assert_eq!(mixed.additional_properties.len(), 2);
}

#[test]
fn integer_widths_follow_bounds() {
    let f: formats::Formats =
        serde_json::from_value(examples(formats::FORMATS_SCHEMA_JSON)[0].clone()).unwrap();
    let _: u8 = f.small;
    let _: u16 = f.medium;
    let _: u64 = f.big;
    let _: i8 = f.signed;
    let _: i64 = f.unbounded;
    assert_eq!(f.big, u64::MAX);
    assert_eq!(f.day.to_string(), "2024-02-29");
    assert!(serde_json::from_value::<formats::Formats>(json!({
        "id": "not-a-uuid", "day": "2024-02-29", "at": "2024-05-14T09:30:00Z", "small": 1,
        "medium": 1, "big": 1, "signed": 1, "unbounded": 1, "ratio": 0.1
    }))
    .is_err());
}

#[test]
fn fields_and_wire_order_follow_the_schema_not_the_alphabet() {
    // object.json declares order_id, type, shipTo, note, empty, anything (not sorted).
    let order: object::Order = serde_json::from_value(json!({
        "anything": 1, "empty": {}, "note": "n", "shipTo": {"city": "Berlin"},
        "type": "standard", "order_id": 1
    }))
    .unwrap();
    let wire = serde_json::to_string(&order).unwrap();
    let at = |key: &str| {
        wire.find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("{key} missing from {wire}"))
    };
    let keys = ["order_id", "type", "shipTo", "note", "empty", "anything"];
    for pair in keys.windows(2) {
        assert!(
            at(pair[0]) < at(pair[1]),
            "{} after {} in {wire}",
            pair[0],
            pair[1]
        );
    }
    // A struct literal in declared order compiles (the fields exist in that order).
    let object::Order {
        order_id,
        r#type,
        ship_to,
        ..
    } = order;
    assert_eq!(
        (order_id, r#type.as_str(), ship_to.city.as_str()),
        (1, "standard", "Berlin")
    );
}
