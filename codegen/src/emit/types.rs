//! Emission of named types: structs, string enums, tagged/untagged enums and aliases.

use heck::ToSnakeCase;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::docs::{attrs, schema_paragraphs};
use super::ty::{ident, rt, tokens};
use crate::ir::name::unraw;
use crate::ir::{DataVariant, DefaultValue, EnumVariant, Field, Model, Ty, TypeDef, TypeKind};

/// What helper items the emitted types need.
#[derive(Default)]
pub struct Needs {
    /// The `UnknownEnumValue` error type.
    pub enum_error: bool,
    /// The `deserialize_present` helper for `Option<Option<T>>`.
    pub double_option: bool,
    /// The `RedactedPii` Debug placeholder.
    pub redacted: bool,
}

fn serde_crate_attrs(json_schema: bool) -> TokenStream {
    let schemars = if json_schema {
        quote! { #[schemars(crate = "::pmp_event_runtime::__private::schemars")] }
    } else {
        quote! {}
    };
    quote! {
        #[serde(crate = "::pmp_event_runtime::__private::serde")]
        #schemars
    }
}

/// `, JsonSchema` in a derive list when the configuration asks for it.
fn json_schema_derive(json_schema: bool) -> TokenStream {
    let rt = rt();
    if json_schema {
        quote! { , #rt::__private::schemars::JsonSchema }
    } else {
        quote! {}
    }
}

fn derives(debug: bool, extra: TokenStream, json_schema: bool) -> TokenStream {
    let rt = rt();
    let debug = if debug {
        quote! { Debug, }
    } else {
        quote! {}
    };
    let json_schema = json_schema_derive(json_schema);
    quote! {
        #[derive(#debug Clone, PartialEq, #extra
            #rt::__private::serde::Serialize,
            #rt::__private::serde::Deserialize #json_schema)]
    }
}

/// Emit one named type.
pub fn emit_type(def: &TypeDef, model: &Model, needs: &mut Needs) -> TokenStream {
    let docs = attrs(&schema_paragraphs(&def.docs));
    let name = ident(&def.name);
    match &def.kind {
        TypeKind::Alias(ty) => {
            let t = tokens(ty);
            quote! { #docs pub type #name = #t; }
        }
        TypeKind::Struct {
            fields,
            deny_unknown,
            additional,
        } => emit_struct(
            def,
            fields,
            *deny_unknown,
            additional.as_ref(),
            model,
            needs,
        ),
        TypeKind::StringEnum(variants) => emit_string_enum(def, variants, model, needs),
        TypeKind::Tagged { tag, variants } => {
            emit_data_enum(def, Some(tag), variants, model, needs)
        }
        TypeKind::Untagged(variants) => emit_data_enum(def, None, variants, model, needs),
    }
}

/// The Rust type of a field, after applying optionality.
pub fn field_ty(f: &Field) -> Ty {
    if f.required || f.default.is_some() {
        f.ty.clone()
    } else {
        Ty::Nullable(Box::new(f.ty.clone()))
    }
}

pub(super) fn default_fn_name(type_name: &str, field: &Field) -> String {
    format!(
        "default_{}_{}",
        type_name.to_snake_case(),
        unraw(&field.rust_name)
    )
}

fn emit_struct(
    def: &TypeDef,
    fields: &[Field],
    deny_unknown: bool,
    additional: Option<&Ty>,
    model: &Model,
    needs: &mut Needs,
) -> TokenStream {
    let docs = attrs(&schema_paragraphs(&def.docs));
    let name = ident(&def.name);
    let redact_all = def.pii;
    let has_pii = redact_all || fields.iter().any(|f| f.pii);
    let mut field_tokens = Vec::new();
    let mut default_fns = Vec::new();
    for f in fields {
        let fdocs = attrs(&schema_paragraphs(&f.docs));
        let fname = ident(&f.rust_name);
        let mut serde_args: Vec<TokenStream> = Vec::new();
        if f.flatten {
            serde_args.push(quote! { flatten });
        } else if unraw(&f.rust_name) != f.json_name {
            let wire = &f.json_name;
            serde_args.push(quote! { rename = #wire });
        }
        if let Some(default) = &f.default {
            let fn_name = default_fn_name(&def.name, f);
            serde_args.push(quote! { default = #fn_name });
            let fn_ident = ident(&fn_name);
            let t = tokens(&f.ty);
            let value = default_tokens(default);
            default_fns.push(quote! {
                fn #fn_ident() -> #t { #value }
            });
        } else if !f.required {
            serde_args
                .push(quote! { default, skip_serializing_if = "::std::option::Option::is_none" });
            // Any JSON includes `null`: keep a present `null` apart from an absent property.
            if matches!(f.ty, Ty::Nullable(_) | Ty::Any) {
                needs.double_option = true;
                serde_args.push(quote! { deserialize_with = "deserialize_present" });
            }
        }
        let serde_attr = if serde_args.is_empty() {
            quote! {}
        } else {
            quote! { #[serde(#(#serde_args),*)] }
        };
        let t = tokens(&field_ty(f));
        let extra_attrs = model.attributes.for_field(&def.name, f);
        field_tokens.push(quote! { #fdocs #serde_attr #extra_attrs pub #fname: #t, });
    }
    if let Some(extra) = additional {
        let t = tokens(extra);
        field_tokens.push(quote! {
            /// Properties not declared in the schema (`additionalProperties`).
            #[serde(flatten)]
            pub additional_properties: ::std::collections::BTreeMap<::std::string::String, #t>,
        });
    }
    let deny = if deny_unknown {
        quote! { #[serde(deny_unknown_fields)] }
    } else {
        quote! {}
    };
    let builder = super::builder::emit(def, fields, additional, model);
    let derive = derives(!has_pii, builder.derive_default, model.json_schema);
    let crate_attrs = serde_crate_attrs(model.json_schema);
    let extra_attrs = model.attributes.for_type(&def.name);
    let builder = builder.items;
    let debug_impl = if has_pii {
        needs.redacted = true;
        let name_str = def.name.as_str();
        let entries = fields.iter().map(|f| {
            let key = if f.flatten {
                unraw(&f.rust_name)
            } else {
                f.json_name.as_str()
            };
            let fname = ident(&f.rust_name);
            if f.pii || redact_all {
                if !f.required && f.default.is_none() {
                    quote! { .field(#key, &::std::option::Option::as_ref(&self.#fname).map(|_| RedactedPii)) }
                } else {
                    quote! { .field(#key, &RedactedPii) }
                }
            } else {
                quote! { .field(#key, &self.#fname) }
            }
        });
        let extra = additional.map(|_| {
            if redact_all {
                quote! { .field("additional_properties", &RedactedPii) }
            } else {
                quote! { .field("additional_properties", &self.additional_properties) }
            }
        });
        quote! {
            /// Personal data (`x-pii`) is printed as `<redacted>`.
            impl ::core::fmt::Debug for #name {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct(#name_str) #(#entries)* #extra .finish()
                }
            }
        }
    } else {
        quote! {}
    };
    quote! {
        #docs
        #derive
        #crate_attrs
        #extra_attrs
        #deny
        pub struct #name { #(#field_tokens)* }
        #debug_impl
        #(#default_fns)*
        #builder
    }
}

fn emit_string_enum(
    def: &TypeDef,
    variants: &[EnumVariant],
    model: &Model,
    needs: &mut Needs,
) -> TokenStream {
    let json_schema = model.json_schema;
    let extra_attrs = model.attributes.for_type(&def.name);
    needs.enum_error = true;
    let docs = attrs(&schema_paragraphs(&def.docs));
    let name = ident(&def.name);
    let name_str = def.name.as_str();
    let rt = rt();
    let crate_attrs = serde_crate_attrs(json_schema);
    let json_schema = json_schema_derive(json_schema);
    let idents: Vec<_> = variants.iter().map(|v| ident(&v.rust)).collect();
    let wires: Vec<&str> = variants.iter().map(|v| v.wire.as_str()).collect();
    let decls = variants.iter().zip(&idents).map(|(v, id)| {
        let vdocs = if v.docs.is_empty() {
            let line = format!("`{}`", v.wire.replace('`', "'"));
            attrs(&[line])
        } else {
            let mut paragraphs = vec![format!("`{}`", v.wire.replace('`', "'"))];
            paragraphs.extend(v.docs.iter().map(|d| super::docs::sanitize(d)));
            attrs(&[paragraphs.join(": ")])
        };
        let wire = &v.wire;
        quote! { #vdocs #[serde(rename = #wire)] #id, }
    });
    quote! {
        #docs
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            #rt::__private::serde::Serialize,
            #rt::__private::serde::Deserialize #json_schema)]
        #crate_attrs
        #extra_attrs
        pub enum #name { #(#decls)* }

        impl #name {
            /// Every value, in schema order.
            pub const ALL: &'static [#name] = &[#(#name::#idents),*];

            /// The wire value.
            pub fn as_str(&self) -> &'static str {
                match self { #(#name::#idents => #wires,)* }
            }
        }

        impl ::core::fmt::Display for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for #name {
            type Err = UnknownEnumValue;

            fn from_str(s: &str) -> ::core::result::Result<Self, <Self as ::core::str::FromStr>::Err> {
                match s {
                    #(#wires => ::core::result::Result::Ok(#name::#idents),)*
                    _ => ::core::result::Result::Err(UnknownEnumValue { type_name: #name_str }),
                }
            }
        }
    }
}

fn emit_data_enum(
    def: &TypeDef,
    tag: Option<&String>,
    variants: &[DataVariant],
    model: &Model,
    needs: &mut Needs,
) -> TokenStream {
    let json_schema = model.json_schema;
    let extra_attrs = model.attributes.for_type(&def.name);
    let docs = attrs(&schema_paragraphs(&def.docs));
    let name = ident(&def.name);
    let crate_attrs = serde_crate_attrs(json_schema);
    let repr = match tag {
        Some(tag) => quote! { #[serde(tag = #tag)] },
        None => quote! { #[serde(untagged)] },
    };
    let decls = variants.iter().map(|v| {
        let vdocs = if v.docs.is_empty() {
            let line = match &v.wire {
                Some(w) => format!("`{}`", w.replace('`', "'")),
                None => format!("The `{}` alternative.", v.rust),
            };
            attrs(&[line])
        } else {
            attrs(
                &v.docs
                    .iter()
                    .map(|d| super::docs::sanitize(d))
                    .collect::<Vec<_>>(),
            )
        };
        let id = ident(&v.rust);
        let rename = v.wire.as_ref().map(|w| quote! { #[serde(rename = #w)] });
        match &v.ty {
            Some(t) => {
                let t = tokens(t);
                quote! { #vdocs #rename #id(#t), }
            }
            None => quote! { #vdocs #rename #id, },
        }
    });
    let derive = derives(!def.pii, quote! {}, json_schema);
    let debug_impl = if def.pii {
        needs.redacted = true;
        let label = format!("{}(<redacted>)", def.name);
        quote! {
            /// Personal data (`x-pii`): printed as `<redacted>`.
            impl ::core::fmt::Debug for #name {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.write_str(#label)
                }
            }
        }
    } else {
        quote! {}
    };
    quote! {
        #docs
        #derive
        #crate_attrs
        #extra_attrs
        #repr
        #[allow(clippy::large_enum_variant)]
        pub enum #name { #(#decls)* }
        #debug_impl
    }
}

/// The expression for a default value.
pub fn default_tokens(v: &DefaultValue) -> TokenStream {
    match v {
        DefaultValue::Bool(b) => quote! { #b },
        DefaultValue::Int(i) => {
            let lit = Literal::u128_unsuffixed(i.unsigned_abs());
            if *i < 0 {
                quote! { -#lit }
            } else {
                quote! { #lit }
            }
        }
        DefaultValue::Float(f) => {
            let lit = Literal::f64_unsuffixed(f.abs());
            if *f < 0.0 {
                quote! { -#lit }
            } else {
                quote! { #lit }
            }
        }
        DefaultValue::Str(s) => quote! { ::std::string::String::from(#s) },
        // The text was checked against its format when generating, so the fallback
        // (`Default`) is never taken; it keeps the generated code free of panics.
        DefaultValue::Parsed(ty, s) => {
            let rt = rt();
            match ty {
                Ty::Uuid => quote! {
                    #rt::__private::uuid::Uuid::parse_str(#s).unwrap_or_default()
                },
                Ty::Date => quote! {
                    <#rt::__private::chrono::NaiveDate as ::core::str::FromStr>::from_str(#s).unwrap_or_default()
                },
                _ => quote! {
                    #rt::__private::chrono::DateTime::parse_from_rfc3339(#s)
                        .map(|t| t.with_timezone(&#rt::__private::chrono::Utc))
                        .unwrap_or_default()
                },
            }
        }
        DefaultValue::Variant(t, v) => {
            let t = ident(t);
            let v = ident(v);
            quote! { #t::#v }
        }
        DefaultValue::List(items) => {
            let items = items.iter().map(default_tokens);
            quote! { ::std::vec![#(#items),*] }
        }
        DefaultValue::Empty => quote! { ::core::default::Default::default() },
        DefaultValue::Null => quote! { ::std::option::Option::None },
        DefaultValue::Some(inner) => {
            let inner = default_tokens(inner);
            quote! { ::std::option::Option::Some(#inner) }
        }
    }
}

/// Helper items used by the types above (emitted once, only when needed).
pub fn helpers(needs: &Needs) -> TokenStream {
    let rt = rt();
    let mut out = TokenStream::new();
    if needs.enum_error {
        out.extend(quote! {
            /// Error of `FromStr` for the generated string enums: the input is not one of the
            /// type's wire values. It does not repeat the input (it may be personal data).
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub struct UnknownEnumValue {
                /// The enum that was being parsed.
                pub type_name: &'static str,
            }

            impl ::core::fmt::Display for UnknownEnumValue {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    write!(f, "not a valid {} value", self.type_name)
                }
            }

            impl ::std::error::Error for UnknownEnumValue {}
        });
    }
    if needs.double_option {
        out.extend(quote! {
            /// Present (even as `null`) means `Some(..)`, so absent and `null` stay apart.
            fn deserialize_present<'de, T, D>(deserializer: D) -> ::core::result::Result<::std::option::Option<T>, D::Error>
            where
                T: #rt::__private::serde::Deserialize<'de>,
                D: #rt::__private::serde::Deserializer<'de>,
            {
                <T as #rt::__private::serde::Deserialize<'de>>::deserialize(deserializer).map(::std::option::Option::Some)
            }
        });
    }
    if needs.redacted {
        out.extend(quote! {
            /// Stands in for personal data in `Debug` output.
            struct RedactedPii;

            impl ::core::fmt::Debug for RedactedPii {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.write_str("<redacted>")
                }
            }
        });
    }
    out
}
