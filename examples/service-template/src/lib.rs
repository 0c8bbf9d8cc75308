//! The typed events of service-template, generated at build time from `schemas/` by
//! `pmp-event-codegen` (see `build.rs`).
//!
//! For `schemas/events/appointment.requested/v1.json` this gives [`AppointmentRequestedV1`]
//! (implements [`pmp_event_runtime::EventPayload`]: type, version, topic, key and the bundled
//! schema) and [`AnyEvent`], the set of this service's events that the consumer decodes into.

#![deny(missing_docs)]

include!(concat!(env!("OUT_DIR"), "/events.rs"));
