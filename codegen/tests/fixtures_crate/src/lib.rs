//! The generator's fixture schemas (`codegen/tests/fixtures/*.json`, one per construct),
//! generated in standalone mode and compiled here under `#![deny(warnings)]`,
//! `#![deny(missing_docs)]` and (in CI) `cargo clippy -- -D warnings`. Each fixture is a
//! module; `tests/behaviour.rs` checks the generated types against the fixtures' examples.

#![deny(warnings)]
#![deny(missing_docs)]

macro_rules! fixtures {
    ($($name:ident),* $(,)?) => {
        $(
            #[doc = concat!("Generated from `codegen/tests/fixtures/", stringify!($name), ".json`.")]
            pub mod $name {
                include!(concat!(env!("OUT_DIR"), "/", stringify!($name), ".rs"));
            }
        )*
    };
}

fixtures!(
    all_of,
    array,
    currency,
    defaults,
    draft07,
    formats,
    map,
    non_ascii,
    nullable,
    object,
    pii,
    prelude_names,
    real_world,
    recursion,
    refs,
    string_enum,
    tagged_one_of,
    untagged_one_of,
    validation_only,
);

/// A service's catalog (`codegen/tests/fixtures/service`): two own schema roots, the
/// platform's types reused from `pmp_events`, `patient.created` in its `AnyEvent`.
pub mod service {
    include!(concat!(env!("OUT_DIR"), "/service.rs"));
}
