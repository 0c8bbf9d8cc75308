//! Emission of the event registry: `EventPayload` impls, per-event schema constants,
//! `SCHEMAS`, `AnyEvent` (implements `EventSet`) and `ENVELOPE_SCHEMA_JSON`.

use std::str::FromStr;

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::ty::{ident, rt};
use crate::ir::name::const_name;
use crate::ir::{EventDef, Model, Ty, TypeKind};

/// A raw string literal holding `s` (enough `#`s that `s` cannot end it).
pub fn raw_str(s: &str) -> TokenStream {
    let mut longest = 0;
    let mut run: Option<usize> = None;
    for c in s.chars() {
        match (c, run) {
            ('"', _) => run = Some(0),
            ('#', Some(n)) => {
                run = Some(n + 1);
                longest = longest.max(n + 1);
            }
            _ => run = None,
        }
    }
    let hashes = "#".repeat(longest + 1);
    let text = format!("r{hashes}\"{s}\"{hashes}");
    match Literal::from_str(&text) {
        Ok(lit) => quote! { #lit },
        Err(_) => {
            let lit = Literal::string(s);
            quote! { #lit }
        }
    }
}

fn event_tokens(e: &EventDef, model: &Model) -> TokenStream {
    let rt = rt();
    let ty = ident(&e.type_name);
    let from_impl = quote! {
        impl ::core::convert::From<#rt::Envelope<#ty>> for AnyEvent {
            fn from(envelope: #rt::Envelope<#ty>) -> Self {
                AnyEvent::#ty(envelope)
            }
        }
    };
    if e.external {
        // The payload type, its `EventPayload` impl, schema constant and envelope alias
        // live in the extern crate; only the conversion into this set is ours.
        return from_impl;
    }
    let schema_const = ident(&format!("{}_SCHEMA_JSON", const_name(&e.type_name)));
    let envelope_alias = ident(&format!("{}Envelope", e.type_name));
    let json = raw_str(&e.schema_json);
    let (event_type, version, topic, key_field, schema_id, compat) = (
        &e.event_type,
        e.version,
        &e.topic,
        &e.key_field,
        &e.schema_id,
        &e.compatibility,
    );
    let kind = if e.command {
        quote! { #rt::EventKind::Command }
    } else {
        quote! { #rt::EventKind::Event }
    };
    let key = ident(&e.key_rust);
    let key_is_string = matches!(
        model.types.get(&e.type_name).map(|d| &d.kind),
        Some(TypeKind::Struct { fields, .. }) if fields.iter().any(|f| f.rust_name == e.key_rust && is_string(model, &f.ty))
    );
    let key_expr = if key_is_string {
        quote! { self.#key.clone() }
    } else {
        quote! { self.#key.to_string() }
    };
    let schema_doc = format!(
        " Bundled, self-contained JSON Schema of `{event_type}` v{version} (from `{}`).",
        e.rel_path
    );
    let alias_doc = format!(" `{event_type}` v{version} in its envelope.");
    quote! {
        #[doc = #schema_doc]
        pub const #schema_const: &str = #json;

        impl #rt::EventPayload for #ty {
            const INFO: &'static #rt::SchemaInfo = &#rt::SchemaInfo {
                event_type: #event_type,
                version: #version,
                kind: #kind,
                topic: #topic,
                key_field: #key_field,
                schema_id: #schema_id,
                compatibility: #compat,
                schema_json: #schema_const,
            };

            fn partition_key(&self) -> ::std::string::String {
                #key_expr
            }
        }

        #[doc = #alias_doc]
        pub type #envelope_alias = #rt::Envelope<#ty>;

        #from_impl
    }
}

fn is_string(model: &Model, ty: &Ty) -> bool {
    match ty {
        Ty::String => true,
        Ty::Named(n) => {
            matches!(model.types.get(n).map(|d| &d.kind), Some(TypeKind::Alias(t)) if is_string(model, t))
        }
        _ => false,
    }
}

/// Everything event-related.
pub fn emit(model: &Model) -> TokenStream {
    let rt = rt();
    let mut out = TokenStream::new();
    if let Some(envelope) = &model.envelope_json {
        let json = raw_str(envelope);
        out.extend(quote! {
            /// The envelope's JSON Schema (`envelope.json`, bundled).
            pub const ENVELOPE_SCHEMA_JSON: &str = #json;
        });
    }
    for e in &model.events {
        out.extend(event_tokens(e, model));
    }
    let types: Vec<_> = model.events.iter().map(|e| ident(&e.type_name)).collect();
    let event_types: Vec<&str> = model.events.iter().map(|e| e.event_type.as_str()).collect();
    let versions: Vec<u32> = model.events.iter().map(|e| e.version).collect();
    let variant_docs: Vec<String> = model
        .events
        .iter()
        .map(|e| {
            format!(
                " `{}` v{} (topic `{}`, key `{}`).",
                e.event_type, e.version, e.topic, e.key_field
            )
        })
        .collect();
    out.extend(quote! {
        /// Every schema of the catalog, sorted by (event type, version).
        pub static SCHEMAS: &[#rt::SchemaInfo] = &[
            #(*<#types as #rt::EventPayload>::INFO,)*
        ];

        /// Any event or command of the catalog, in its envelope: one variant per
        /// (event type, version). Decode with
        /// [`EventSet::decode`](::pmp_event_runtime::EventSet::decode).
        #[derive(Debug, Clone, PartialEq, #rt::__private::serde::Serialize)]
        #[serde(crate = "::pmp_event_runtime::__private::serde", untagged)]
        #[allow(clippy::large_enum_variant)]
        pub enum AnyEvent {
            #(
                #[doc = #variant_docs]
                #types(#rt::Envelope<#types>),
            )*
        }

        impl #rt::EventSet for AnyEvent {
            fn schemas() -> &'static [#rt::SchemaInfo] {
                SCHEMAS
            }

            fn from_raw(envelope: #rt::RawEnvelope) -> ::core::result::Result<Self, #rt::DecodeError> {
                match (envelope.event_type.as_str(), envelope.version) {
                    #( (#event_types, #versions) => envelope.into_typed().map(AnyEvent::#types), )*
                    (event_type, version) => {
                        if SCHEMAS.iter().any(|s| s.event_type == event_type) {
                            ::core::result::Result::Err(#rt::DecodeError::UnknownVersion { event_type: event_type.to_owned(), version })
                        } else {
                            ::core::result::Result::Err(#rt::DecodeError::UnknownEventType { event_type: event_type.to_owned() })
                        }
                    }
                }
            }

            fn kind(&self) -> (&'static str, u32) {
                let info = self.info();
                (info.event_type, info.version)
            }

            fn with_wire_version(self, version: u32) -> Self {
                match self {
                    #( AnyEvent::#types(mut e) => {
                        e.version = version;
                        AnyEvent::#types(e)
                    } )*
                }
            }
        }

        impl AnyEvent {
            /// Static schema facts of this event's (type, version).
            pub fn info(&self) -> &'static #rt::SchemaInfo {
                match self {
                    #( AnyEvent::#types(_) => <#types as #rt::EventPayload>::INFO, )*
                }
            }

            /// The envelope's `event_id`.
            pub fn event_id(&self) -> #rt::__private::uuid::Uuid {
                match self {
                    #( AnyEvent::#types(e) => e.event_id, )*
                }
            }

            /// The Kafka record key (the payload's `x-kafka-key` property).
            pub fn partition_key(&self) -> ::std::string::String {
                match self {
                    #( AnyEvent::#types(e) => e.partition_key(), )*
                }
            }

            /// Serialize to the wire JSON (the envelope).
            pub fn to_json(&self) -> ::core::result::Result<::std::vec::Vec<u8>, #rt::__private::serde_json::Error> {
                #rt::__private::serde_json::to_vec(self)
            }
        }
    });
    out
}

/// The standalone schema constant.
pub fn emit_standalone(root: &str, json: &str) -> TokenStream {
    let name = ident(&format!("{}_SCHEMA_JSON", const_name(root)));
    let json = raw_str(json);
    let doc = format!(" Bundled, self-contained JSON Schema of [`{root}`].");
    quote! {
        #[doc = #doc]
        pub const #name: &str = #json;
    }
}
