//! Builders, `Default` and validated construction of generated structs.
//!
//! For every struct `T` (unless [`crate::Config::builders`] is off):
//!
//! - `T::builder()` returns `TBuilder`, with one setter per field, named like the field and
//!   taking `impl Into<T>` for a property of type `T`, also when optional (`&str` for a
//!   `String` or an `Option<String>` field; an unset optional property stays `None`),
//!   and `additional_properties(..)` where the struct keeps unknown properties;
//! - `TBuilder::build()` (and `TryFrom<TBuilder> for T`) fills optional fields with `None`
//!   and defaulted ones with their schema `default`, and fails with
//!   `pmp_event_runtime::BuildError::Missing` naming the first unset required property;
//! - for a type with its own bundled schema (an event payload, or a standalone root) it
//!   then checks the value against that schema, so `maxLength`, `pattern`, `minimum`,
//!   `format` and every other constraint the Rust type cannot express fail at construction
//!   (`BuildError::Invalid` with the JSON pointer and keyword, never the value), not first
//!   at publish. Nested types are checked as part of the payload that holds them.
//! - `Default` when every field has one (optional, or a schema `default`): derived when all
//!   are `None`/empty, else an impl calling the default functions.
//!
//! Builders never derive `Debug`: they may hold personal data (`x-pii`) not yet checked.

use proc_macro2::TokenStream;
use quote::quote;

use super::ty::{ident, rt, tokens};
use super::types::{default_fn_name, field_ty};
use crate::ir::name::{const_name, unraw};
use crate::ir::{Field, Model, Ty, TypeDef};

/// What the struct emission needs from here.
pub struct Builder {
    /// `Default,` for the derive list (every field `None` or empty), or nothing.
    pub derive_default: TokenStream,
    /// The builder type and its impls, a `Default` impl when not derived.
    pub items: TokenStream,
}

/// The schema constant a type is validated against, if it has one of its own.
fn schema_const(def: &TypeDef, model: &Model) -> Option<proc_macro2::Ident> {
    let own_event = model
        .events
        .iter()
        .any(|e| !e.external && e.type_name == def.name);
    let standalone_root = model
        .standalone
        .as_ref()
        .is_some_and(|(root, _)| *root == def.name);
    (own_event || standalone_root).then(|| ident(&format!("{}_SCHEMA_JSON", const_name(&def.name))))
}

/// The builder of struct `def` with `fields` (and the flattened `additional` map).
pub fn emit(def: &TypeDef, fields: &[Field], additional: Option<&Ty>, model: &Model) -> Builder {
    let rt = rt();
    let name = ident(&def.name);
    let name_str = def.name.as_str();
    let defaultable = fields.iter().all(|f| !f.required || f.default.is_some());
    let custom_defaults = fields.iter().any(|f| f.default.is_some());
    let default_value = |f: &Field| -> TokenStream {
        match &f.default {
            Some(_) => {
                let fn_name = ident(&default_fn_name(&def.name, f));
                quote! { #fn_name() }
            }
            None => quote! { ::std::option::Option::None },
        }
    };
    let names: Vec<_> = fields.iter().map(|f| ident(&f.rust_name)).collect();
    let extra_name = additional.map(|_| ident("additional_properties"));
    let extra_default = extra_name
        .as_ref()
        .map(|n| quote! { #n: ::core::default::Default::default(), });
    let (derive_default, default_impl) = if !model.builders || !defaultable {
        (quote! {}, quote! {})
    } else if !custom_defaults {
        (quote! { Default, }, quote! {})
    } else {
        let values = fields.iter().map(default_value);
        let doc = " Every property at its schema `default` (unset optional ones `None`).";
        (
            quote! {},
            quote! {
                #[doc = #doc]
                impl ::core::default::Default for #name {
                    fn default() -> Self {
                        #name { #(#names: #values,)* #extra_default }
                    }
                }
            },
        )
    };
    if !model.builders {
        return Builder {
            derive_default,
            items: default_impl,
        };
    }
    let builder = ident(&format!("{}Builder", def.name));
    let types: Vec<TokenStream> = fields.iter().map(|f| tokens(&field_ty(f))).collect();
    let setters = fields.iter().zip(&names).map(|(f, n)| {
        // Optional properties take the value itself (`&str` for `Option<String>`).
        let t = tokens(&f.ty);
        let optional = !f.required && f.default.is_none();
        let store = if optional {
            quote! { ::std::option::Option::Some(::std::option::Option::Some(value.into())) }
        } else {
            quote! { ::std::option::Option::Some(value.into()) }
        };
        let doc = if f.flatten {
            format!(" Set `{}` (the flattened union).", unraw(&f.rust_name))
        } else {
            format!(" Set the `{}` property.", f.json_name.replace('`', "'"))
        };
        quote! {
            #[doc = #doc]
            pub fn #n(mut self, value: impl ::core::convert::Into<#t>) -> Self {
                self.#n = #store;
                self
            }
        }
    });
    let takes = fields.iter().zip(&names).map(|(f, n)| {
        let wire = if f.flatten { unraw(&f.rust_name) } else { f.json_name.as_str() };
        if f.default.is_some() {
            let fn_name = ident(&default_fn_name(&def.name, f));
            quote! { #n: builder.#n.unwrap_or_else(#fn_name), }
        } else if f.required {
            quote! {
                #n: builder.#n.ok_or(#rt::BuildError::Missing { type_name: #name_str, property: #wire })?,
            }
        } else {
            quote! { #n: builder.#n.flatten(), }
        }
    });
    let (extra_field, extra_setter, extra_take) = match (additional, &extra_name) {
        (Some(t), Some(n)) => {
            let t = tokens(t);
            (
                quote! { #n: ::std::option::Option<::std::collections::BTreeMap<::std::string::String, #t>>, },
                quote! {
                    /// Set the properties not declared in the schema.
                    pub fn #n(mut self, value: ::std::collections::BTreeMap<::std::string::String, #t>) -> Self {
                        self.#n = ::std::option::Option::Some(value);
                        self
                    }
                },
                quote! { #n: builder.#n.unwrap_or_default(), },
            )
        }
        _ => (quote! {}, quote! {}, quote! {}),
    };
    let check = match schema_const(def, model) {
        Some(schema) => quote! { #rt::BuildError::check(#name_str, #schema, &value)?; },
        None => quote! {},
    };
    let checked = if schema_const(def, model).is_some() {
        " Then checks the value against the type's schema (lengths, patterns, bounds, formats)."
    } else {
        ""
    };
    let builder_doc =
        format!(" Builds a [`{name_str}`] field by field; see [`{name_str}::builder`].");
    let new_doc = " A builder: set the fields, then `build()`.".to_owned();
    let build_doc = format!(
        " The [`{name_str}`]: unset optional properties are `None`, unset defaulted ones take their schema `default`; an unset required property is `BuildError::Missing`.{checked}"
    );
    // A field called `build` would clash with the method; `TryFrom` always works.
    let build_fn = if names.iter().any(|n| unraw(&n.to_string()) == "build") {
        quote! {}
    } else {
        quote! {
            #[doc = #build_doc]
            pub fn build(self) -> ::core::result::Result<#name, #rt::BuildError> {
                <#name as ::core::convert::TryFrom<#builder>>::try_from(self)
            }
        }
    };
    let param = if fields.is_empty() && additional.is_none() {
        ident("_builder")
    } else {
        ident("builder")
    };
    let items = quote! {
        #default_impl

        impl #name {
            #[doc = #new_doc]
            pub fn builder() -> #builder {
                <#builder as ::core::default::Default>::default()
            }
        }

        #[doc = #builder_doc]
        #[derive(Clone, Default)]
        #[must_use]
        pub struct #builder {
            #( #names: ::std::option::Option<#types>, )*
            #extra_field
        }

        impl #builder {
            #(#setters)*
            #extra_setter
            #build_fn
        }

        impl ::core::convert::TryFrom<#builder> for #name {
            type Error = #rt::BuildError;

            fn try_from(#param: #builder) -> ::core::result::Result<Self, #rt::BuildError> {
                let value = #name { #(#takes)* #extra_take };
                #check
                ::core::result::Result::Ok(value)
            }
        }
    };
    Builder {
        derive_default,
        items,
    }
}
