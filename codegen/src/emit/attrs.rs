//! Attributes a service adds to generated items ([`crate::Config::type_attribute`] and
//! [`crate::Config::field_attribute`], modelled on prost-build's).
//!
//! Paths name Rust items, as a reader of the generated code sees them:
//!
//! | path | matches |
//! |---|---|
//! | `.` | every generated struct and enum |
//! | `PatientCreatedV1` | that struct or enum |
//! | `PatientCreatedV1.birth_date` | that field (the property's wire or Rust name) |
//! | `PatientCreatedV1.*` | every field of that struct |
//!
//! Every path must match something and every attribute must parse as outer attributes
//! (`#[...]`, several allowed): a typo is an error naming the path and the attribute, never
//! an attribute silently dropped. Type aliases take no attributes (Rust ignores or rejects
//! them there), so a path naming one is an error too.

use proc_macro2::TokenStream;
use quote::quote;

use crate::error::{Error, Result};
use crate::ir::name::unraw;
use crate::ir::{Attributes, Field, Model, TypeKind};

fn parse(kind: &str, path: &str, text: &str) -> Result<TokenStream> {
    use syn::parse::Parser;
    let bad = |why: String| {
        Error::config(format!(
            "{kind}({path:?}, {text:?}): not an outer attribute like `#[derive(Hash)]`: {why}"
        ))
    };
    let attrs = syn::Attribute::parse_outer
        .parse_str(text)
        .map_err(|e| bad(e.to_string()))?;
    if attrs.is_empty() {
        return Err(bad("empty".to_owned()));
    }
    Ok(quote! { #(#attrs)* })
}

fn no_match(kind: &str, path: &str, text: &str, why: &str) -> Error {
    Error::config(format!(
        "{kind}({path:?}, {text:?}): {why}; paths are `.`, a generated type name like `PatientCreatedV1`, or `Type.property` / `Type.*` for fields"
    ))
}

fn field_matches(f: &Field, name: &str) -> bool {
    name == "*" || (!f.flatten && f.json_name == name) || unraw(&f.rust_name) == name
}

impl Attributes {
    /// Parse and check the configured attributes against the generated types of `model`.
    pub fn resolve(
        model: &Model,
        types: &[(String, String)],
        fields: &[(String, String)],
    ) -> Result<Attributes> {
        let mut out = Attributes::default();
        for (path, text) in types {
            let tokens = parse("type_attribute", path, text)?;
            if path != "." {
                match model.types.get(path).map(|d| &d.kind) {
                    None => {
                        return Err(no_match(
                            "type_attribute",
                            path,
                            text,
                            "no generated struct or enum has this name",
                        ))
                    }
                    Some(TypeKind::Alias(_)) => {
                        return Err(no_match(
                            "type_attribute",
                            path,
                            text,
                            "this is a type alias (`pub type`), which takes no attributes",
                        ))
                    }
                    Some(_) => {}
                }
            }
            out.types.push((path.clone(), tokens));
        }
        for (path, text) in fields {
            let tokens = parse("field_attribute", path, text)?;
            let Some((type_name, field)) = path.split_once('.') else {
                return Err(no_match(
                    "field_attribute",
                    path,
                    text,
                    "a field path is `Type.property`",
                ));
            };
            let Some(TypeKind::Struct { fields, .. }) = model.types.get(type_name).map(|d| &d.kind)
            else {
                return Err(no_match(
                    "field_attribute",
                    path,
                    text,
                    &format!("no generated struct is named `{type_name}`"),
                ));
            };
            if !fields.iter().any(|f| field_matches(f, field)) {
                return Err(no_match(
                    "field_attribute",
                    path,
                    text,
                    &format!("struct `{type_name}` has no property `{field}`"),
                ));
            }
            out.fields.push((path.clone(), tokens));
        }
        Ok(out)
    }

    /// The attributes for type `name`, in configuration order.
    pub fn for_type(&self, name: &str) -> TokenStream {
        let attrs = self
            .types
            .iter()
            .filter(|(path, _)| path == "." || path == name)
            .map(|(_, tokens)| tokens);
        quote! { #(#attrs)* }
    }

    /// The attributes for field `f` of struct `type_name`, in configuration order.
    pub fn for_field(&self, type_name: &str, f: &Field) -> TokenStream {
        let attrs = self
            .fields
            .iter()
            .filter(|(path, _)| {
                path.split_once('.')
                    .is_some_and(|(t, field)| t == type_name && field_matches(f, field))
            })
            .map(|(_, tokens)| tokens);
        quote! { #(#attrs)* }
    }
}
