//! The Psychotherapy Matching Platform's typed events and commands, generated at build time
//! from the JSON Schemas in `schemas/` by `pmp-event-codegen` (see `build.rs`).
//!
//! For every `schemas/events/<type>/vN.json` and `schemas/commands/<type>/vN.json`:
//! - a payload type named after type and version, e.g. [`PatientCreatedV1`], implementing
//!   [`pmp_event_runtime::EventPayload`] (event type, version, topic, key field, the bundled
//!   schema and `partition_key()`);
//! - `<TYPE>_SCHEMA_JSON`, the self-contained schema text used for runtime validation;
//! - `<Type>Envelope`, an alias of [`pmp_event_runtime::Envelope`] over the payload.
//!
//! Shared definitions from `schemas/common/` become types too ([`PersonName`], [`Location`],
//! ...). [`AnyEvent`] has one variant per (type, version) and implements
//! [`pmp_event_runtime::EventSet`]: `AnyEvent::decode(bytes)` parses an envelope and
//! dispatches on `event_type` + `version`, returning a typed
//! [`pmp_event_runtime::DecodeError`] for unknown ones. [`SCHEMAS`] lists every schema,
//! [`ENVELOPE_SCHEMA_JSON`] is the envelope's schema.
//!
//! `Debug` of any payload prints `<redacted>` for properties marked `x-pii`.
//!
//! ```
//! use pmp_event_runtime::{Envelope, EventPayload, EventSet};
//! use pmp_events::{AnyEvent, PatientDeletedV1};
//!
//! let payload = PatientDeletedV1 { patient_id: 42, reason: None };
//! let envelope = Envelope::new("patient-service", payload);
//! assert_eq!(envelope.partition_key(), "42");
//! let bytes = envelope.to_json().unwrap();
//! match AnyEvent::decode(&bytes).unwrap() {
//!     AnyEvent::PatientDeletedV1(e) => assert_eq!(e.payload.patient_id, 42),
//!     other => panic!("unexpected {:?}", other.kind()),
//! }
//! assert_eq!(PatientDeletedV1::TOPIC, "patient-events");
//! ```

#![deny(warnings)]
#![deny(missing_docs)]

include!(concat!(env!("OUT_DIR"), "/events.rs"));
