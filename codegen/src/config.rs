//! The builder a `build.rs` uses, in the style of `prost-build`.
//!
//! ```no_run
//! // build.rs of a service
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     pmp_event_codegen::Config::new().schemas_dir("../schemas").generate()?;
//!     Ok(())
//! }
//! ```
//! and in `src/lib.rs`: `include!(concat!(env!("OUT_DIR"), "/events.rs"));`.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::ir::events::{lower_dirs, lower_standalone, Externs};
use crate::ir::Attributes;
use crate::schema::Catalog;

#[derive(Debug, Clone)]
enum Input {
    None,
    /// One or more schema roots ([`Config::schemas_dir`], called once per root).
    Dirs(Vec<PathBuf>),
    File(PathBuf),
    /// `schemas_dir` and `schema_file` both called: an error when generating.
    Both,
}

/// Where an extern catalog's schemas are.
#[derive(Debug, Clone)]
enum ExternDir {
    Dir(PathBuf),
    /// `DEP_<LINKS>_SCHEMAS`, set by the crate's build script ([`Config::extern_catalog`]).
    FromCrate(String),
}

/// Generator configuration.
#[derive(Debug, Clone)]
pub struct Config {
    input: Input,
    out_file_name: String,
    deny_lint_errors: bool,
    json_schema: bool,
    refs_root: Option<PathBuf>,
    externs: Vec<(ExternDir, String)>,
    extern_events: Vec<String>,
    type_attributes: Vec<(String, String)>,
    field_attributes: Vec<(String, String)>,
    builders: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl Config {
    /// A configuration with no input yet; output file name `events.rs`.
    pub fn new() -> Self {
        Config {
            input: Input::None,
            out_file_name: "events.rs".to_owned(),
            deny_lint_errors: false,
            json_schema: false,
            refs_root: None,
            externs: Vec::new(),
            extern_events: Vec::new(),
            type_attributes: Vec::new(),
            field_attributes: Vec::new(),
            builders: true,
        }
    }

    /// Generate the event catalog in `dir` (`events/`, `commands/`, `common/`, `envelope.json`).
    ///
    /// Call it once per schema root to generate several into one file: one `SCHEMAS` and one
    /// `AnyEvent` over all of them, `$ref`s between the roots resolved (by relative path or
    /// `$id`). An event type defined in two roots, or two different types that would get
    /// the same Rust name, is an error naming both files.
    pub fn schemas_dir(mut self, dir: impl AsRef<Path>) -> Self {
        let dir = dir.as_ref().to_path_buf();
        self.input = match self.input {
            Input::None => Input::Dirs(vec![dir]),
            Input::Dirs(mut dirs) => {
                dirs.push(dir);
                Input::Dirs(dirs)
            }
            Input::File(_) | Input::Both => Input::Both,
        };
        self
    }

    /// Generate types for one standalone JSON Schema (its root type and `$defs`, plus
    /// whatever it refers to), with no event registry.
    pub fn schema_file(mut self, file: impl AsRef<Path>) -> Self {
        self.input = match self.input {
            Input::None | Input::File(_) => Input::File(file.as_ref().to_path_buf()),
            Input::Dirs(_) | Input::Both => Input::Both,
        };
        self
    }

    /// Schemas in `dir` whose Rust types the crate (or module) at `rust_path` already
    /// generated, like prost-build's `extern_path`: a `$ref` from this catalog into `dir`
    /// becomes a `use rust_path::Type;`, never a second copy of the type. `dir` is loaded
    /// as a schema root (so `$ref`s into it resolve and are allowed) but nothing of it is
    /// emitted, and its events join this catalog's `SCHEMAS` and `AnyEvent` only when named
    /// with [`Config::extern_event`]. The crate at `rust_path` must be generated from the
    /// same schemas by the same generator version (type names are derived from the schemas).
    ///
    /// ```no_run
    /// // build.rs of a service that publishes its own events and consumes the platform's
    /// pmp_event_codegen::Config::new()
    ///     .schemas_dir("schemas")
    ///     .extern_path("../platform/schemas", "::pmp_events")
    ///     .extern_event("patient.created")
    ///     .generate()
    ///     .unwrap();
    /// ```
    pub fn extern_path(mut self, dir: impl AsRef<Path>, rust_path: impl Into<String>) -> Self {
        self.externs
            .push((ExternDir::Dir(dir.as_ref().to_path_buf()), rust_path.into()));
        self
    }

    /// [`Config::extern_path`] for a crate that publishes where its schemas are: its
    /// `Cargo.toml` says `links = "<name>"` and its build script prints
    /// `cargo:schemas=<absolute dir>`, so the build script of a crate depending on it sees
    /// `DEP_<NAME>_SCHEMAS`. The platform's `pmp-events` does: with `pmp-events` in
    /// `[dependencies]`, `extern_catalog("pmp_events")` reuses its types (`::pmp_events::*`).
    /// Without the variable, generating fails and says which dependency to add.
    pub fn extern_catalog(mut self, crate_name: impl Into<String>) -> Self {
        let name = crate_name.into();
        let path = format!("::{name}");
        self.externs.push((ExternDir::FromCrate(name), path));
        self
    }

    /// Add every version of `event_type` (e.g. `patient.created`) from the extern catalogs to
    /// this catalog's `SCHEMAS` and `AnyEvent`, typed as the extern crate's types, so one
    /// consumer handles the service's own events and the platform's it reads. Without it an
    /// extern catalog contributes types only, and `AnyEvent` covers exactly the service's
    /// own events. An event type that no extern catalog defines is an error.
    pub fn extern_event(mut self, event_type: impl Into<String>) -> Self {
        self.extern_events.push(event_type.into());
        self
    }

    /// Add `attribute` (e.g. `#[derive(Hash, Eq)]`, several allowed in one string) to the
    /// generated structs and enums matched by `path`, like prost-build's `type_attribute`:
    /// `path` is a Rust type name (`PatientCreatedV1`), or `.` for every struct and enum.
    /// A path that matches no struct or enum, or text that is not an outer attribute, is an
    /// error naming both.
    pub fn type_attribute(mut self, path: impl Into<String>, attribute: impl Into<String>) -> Self {
        self.type_attributes.push((path.into(), attribute.into()));
        self
    }

    /// Add `attribute` to the struct fields matched by `path`: `Type.property`, the property
    /// by its name on the wire (`PatientCreatedV1.birth_date`, `Order.shipTo`) or in Rust,
    /// or `Type.*` for every field of `Type`. Errors as for [`Config::type_attribute`].
    pub fn field_attribute(
        mut self,
        path: impl Into<String>,
        attribute: impl Into<String>,
    ) -> Self {
        self.field_attributes.push((path.into(), attribute.into()));
        self
    }

    /// Emit a builder for every struct (`Type::builder()`, validated `build()`), and
    /// `Default` for structs whose every field has a default (on by default).
    pub fn builders(mut self, emit: bool) -> Self {
        self.builders = emit;
        self
    }

    /// File name written by [`Config::generate`] inside `$OUT_DIR` (default `events.rs`).
    pub fn out_file_name(mut self, name: impl Into<String>) -> Self {
        self.out_file_name = name.into();
        self
    }

    /// Also run the catalog lint (the rules of `eventctl lint`, see [`crate::lint`]) and fail
    /// on any error-severity finding, e.g. an `x-kafka-topic` missing from `topics.json` or an
    /// invalid example. Off by default; applies to [`Config::schemas_dir`] input. The error
    /// names the first finding's file, pointer and position and lists every finding.
    pub fn deny_lint_errors(mut self, deny: bool) -> Self {
        self.deny_lint_errors = deny;
        self
    }

    /// Derive `schemars::JsonSchema` on every generated type (off by default). Needs the
    /// `json-schema` feature of `pmp-event-runtime`, which re-exports `schemars` for it.
    pub fn json_schema(mut self, derive: bool) -> Self {
        self.json_schema = derive;
        self
    }

    fn lint_gate(&self) -> Result<()> {
        let Input::Dirs(dirs) = &self.input else {
            return Ok(());
        };
        if !self.deny_lint_errors {
            return Ok(());
        }
        dirs.iter().try_for_each(|dir| Self::lint_dir(dir))
    }

    /// The lint gate for one (own) schema root.
    fn lint_dir(dir: &Path) -> Result<()> {
        let findings =
            crate::lint::lint_dir(dir).map_err(|e| Error::schema(dir, "", e.to_string()))?;
        let errors: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == crate::lint::Severity::Error)
            .collect();
        let Some(first) = errors.first() else {
            return Ok(());
        };
        let mut message = format!(
            "lint error[{}]: {} ({} lint error(s); `deny_lint_errors` is on)",
            first.rule,
            first.message,
            errors.len()
        );
        for f in &errors[1..] {
            message.push_str(&format!(
                "\n  {}:{}:{} (#{}): error[{}] {}",
                f.file.display(),
                f.line,
                f.col,
                f.pointer,
                f.rule,
                f.message
            ));
        }
        Err(Error::schema(&first.file, &first.pointer, message)
            .with_position(Some((first.line, first.col))))
    }

    /// Let `$ref`s read schema files anywhere below `dir` (which should contain the input).
    ///
    /// By default a `$ref` may only lead to files below the schema directory (or, for
    /// [`Config::schema_file`], below that file's directory): `"$ref": "/etc/passwd"` or
    /// `"../../shared/x.json"` is an error naming the referring file and pointer, and the file
    /// is never read. Widen the root explicitly when a service shares schemas from a
    /// sibling directory:
    ///
    /// ```no_run
    /// // build.rs: schemas/ refers to ../shared-schemas/common/*.json
    /// pmp_event_codegen::Config::new()
    ///     .schemas_dir("schemas")
    ///     .allow_refs_under("..")
    ///     .generate()
    ///     .unwrap();
    /// ```
    pub fn allow_refs_under(mut self, dir: impl AsRef<Path>) -> Self {
        self.refs_root = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The extern roots' directories, in order (an unset `DEP_*_SCHEMAS` is an error).
    fn extern_dirs(&self) -> Result<Vec<PathBuf>> {
        self.externs
            .iter()
            .map(|(dir, _)| match dir {
                ExternDir::Dir(dir) => Ok(dir.clone()),
                ExternDir::FromCrate(name) => {
                    let var = format!("DEP_{}_SCHEMAS", name.to_uppercase().replace('-', "_"));
                    std::env::var_os(&var).map(PathBuf::from).ok_or_else(|| {
                        Error::config(format!(
                            "extern_catalog({name:?}): {var} is not set. Add the crate to [dependencies] (its Cargo.toml must say `links = \"{name}\"` and its build script print `cargo:schemas=<dir>`, as pmp-events does), or name the directory with `extern_path(dir, \"::{name}\")`"
                        ))
                    })
                }
            })
            .collect()
    }

    fn load(&self) -> Result<Catalog> {
        let root = self.refs_root.as_deref();
        match &self.input {
            Input::None => Err(Error::config(
                "no input: call `schemas_dir(..)` or `schema_file(..)`",
            )),
            Input::Both => Err(Error::config(
                "both `schemas_dir(..)` and `schema_file(..)` were called: generate a schema catalog or one standalone file, not both",
            )),
            Input::Dirs(dirs) => {
                let externs = self.extern_dirs()?;
                let all: Vec<&Path> = dirs
                    .iter()
                    .chain(externs.iter())
                    .map(PathBuf::as_path)
                    .collect();
                Catalog::load_dirs(&all, root)
            }
            Input::File(file) => {
                if !self.externs.is_empty() || !self.extern_events.is_empty() {
                    return Err(Error::config(
                        "`extern_path`/`extern_catalog`/`extern_event` need a schema catalog (`schemas_dir`), not `schema_file`",
                    ));
                }
                Catalog::load_file_with_root(file, root)
            }
        }
    }

    fn render(&self, cat: &Catalog) -> Result<String> {
        let mut model = match &self.input {
            Input::Dirs(dirs) => {
                let externs = Externs {
                    roots: self
                        .externs
                        .iter()
                        .enumerate()
                        .map(|(i, (_, path))| (dirs.len() + i, path.clone()))
                        .collect(),
                    events: self.extern_events.clone(),
                };
                lower_dirs(cat, &externs)?
            }
            _ => lower_standalone(cat)?,
        };
        model.json_schema = self.json_schema;
        model.builders = self.builders;
        model.attributes =
            Attributes::resolve(&model, &self.type_attributes, &self.field_attributes)?;
        crate::emit::emit(&model)
    }

    /// Generate and return the Rust source (prints nothing).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let file = dir.path().join("greeting.json");
    /// std::fs::write(&file, r#"{
    ///     "$schema": "https://json-schema.org/draft/2020-12/schema",
    ///     "$id": "https://example.test/greeting.json",
    ///     "title": "Greeting",
    ///     "type": "object",
    ///     "additionalProperties": false,
    ///     "required": ["text"],
    ///     "properties": {
    ///         "text": {"type": "string", "description": "What to say."},
    ///         "times": {"type": "integer", "minimum": 1, "maximum": 10}
    ///     }
    /// }"#)?;
    /// let code = pmp_event_codegen::Config::new().schema_file(&file).generate_to_string()?;
    /// assert!(code.contains("pub struct Greeting"));
    /// assert!(code.contains("pub text: ::std::string::String"));
    /// assert!(code.contains("pub times: ::std::option::Option<u8>")); // width from the bounds
    ///
    /// // Unsupported input is an error naming the file and the JSON pointer.
    /// std::fs::write(&file, r#"{"type": "object", "properties": {"a": {"if": {}}}}"#)?;
    /// let err = pmp_event_codegen::Config::new().schema_file(&file).generate_to_string();
    /// let message = err.unwrap_err().to_string();
    /// assert!(message.contains("greeting.json"), "{message}");
    /// assert!(message.contains("#/properties/a"), "{message}");
    /// # Ok(()) }
    /// ```
    pub fn generate_to_string(&self) -> Result<String> {
        self.lint_gate()?;
        let cat = self.load()?;
        self.render(&cat)
    }

    /// Generate into `path` (written only when the content changed). Prints nothing.
    pub fn write_to(&self, path: impl AsRef<Path>) -> Result<()> {
        let code = self.generate_to_string()?;
        write_if_changed(path.as_ref(), &code)
    }

    /// For `build.rs`: generate into `$OUT_DIR/<out_file_name>` and print
    /// `cargo:rerun-if-changed` for every file and directory read (also on failure, so
    /// fixing a schema reruns the build script).
    pub fn generate(&self) -> Result<()> {
        let out_dir = std::env::var_os("OUT_DIR")
            .ok_or_else(|| Error::config("OUT_DIR is not set: `generate()` is meant for build.rs; use `write_to(path)` elsewhere"))?;
        match &self.input {
            Input::Dirs(dirs) => {
                for p in dirs
                    .iter()
                    .chain(self.extern_dirs().unwrap_or_default().iter())
                {
                    println!("cargo:rerun-if-changed={}", p.display());
                }
            }
            Input::File(p) => println!("cargo:rerun-if-changed={}", p.display()),
            Input::None | Input::Both => {}
        }
        self.lint_gate()?;
        let cat = self.load()?;
        for path in cat.read_paths() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
        let code = self.render(&cat)?;
        write_if_changed(&PathBuf::from(out_dir).join(&self.out_file_name), &code)
    }
}

fn write_if_changed(path: &Path, code: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == code) {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, &e))?;
    }
    std::fs::write(path, code).map_err(|e| Error::io(path, &e))
}
