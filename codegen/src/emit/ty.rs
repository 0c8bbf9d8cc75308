//! Rust type expressions for [`Ty`], through the runtime's re-exports so that a service
//! needs no direct dependency on `uuid`, `chrono` or `serde_json`.
//!
//! Standard types are always written as full paths (`::std::option::Option`,
//! `::std::string::String`, ...): a schema may define a type called `Option`, `String`,
//! `Box`, `Vec` or `Result`, and the generated item would otherwise shadow the prelude.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::ir::{IntTy, Ty};

/// Path of the runtime crate in generated code.
pub const RUNTIME: &str = "::pmp_event_runtime";

/// `::pmp_event_runtime` as tokens.
pub fn rt() -> TokenStream {
    quote! { ::pmp_event_runtime }
}

/// An identifier (raw identifiers like `r#type` are accepted).
pub fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

/// The type expression.
pub fn tokens(ty: &Ty) -> TokenStream {
    let rt = rt();
    match ty {
        Ty::Any => quote! { #rt::__private::serde_json::Value },
        Ty::Unit => quote! { () },
        Ty::Bool => quote! { bool },
        Ty::Int(i) => {
            let name = match i {
                IntTy::U8 => "u8",
                IntTy::U16 => "u16",
                IntTy::U32 => "u32",
                IntTy::U64 => "u64",
                IntTy::I8 => "i8",
                IntTy::I16 => "i16",
                IntTy::I32 => "i32",
                IntTy::I64 => "i64",
            };
            let id = ident(name);
            quote! { #id }
        }
        Ty::F64 => quote! { f64 },
        Ty::String => quote! { ::std::string::String },
        Ty::Uuid => quote! { #rt::__private::uuid::Uuid },
        Ty::Date => quote! { #rt::__private::chrono::NaiveDate },
        Ty::DateTime => quote! { #rt::__private::chrono::DateTime<#rt::__private::chrono::Utc> },
        Ty::Named(n) => {
            let id = ident(n);
            quote! { #id }
        }
        Ty::Vec(t) => {
            let t = tokens(t);
            quote! { ::std::vec::Vec<#t> }
        }
        Ty::Map(t) => {
            let t = tokens(t);
            quote! { ::std::collections::BTreeMap<::std::string::String, #t> }
        }
        Ty::Tuple(items) => {
            let items = items.iter().map(tokens);
            quote! { ( #(#items,)* ) }
        }
        Ty::Nullable(t) => {
            let t = tokens(t);
            quote! { ::std::option::Option<#t> }
        }
        Ty::Boxed(t) => {
            let t = tokens(t);
            quote! { ::std::boxed::Box<#t> }
        }
    }
}
