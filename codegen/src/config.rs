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
use crate::ir::events::{lower_dir, lower_standalone};
use crate::schema::Catalog;

#[derive(Debug, Clone)]
enum Input {
    None,
    Dir(PathBuf),
    File(PathBuf),
}

/// Generator configuration.
#[derive(Debug, Clone)]
pub struct Config {
    input: Input,
    out_file_name: String,
    deny_lint_errors: bool,
    json_schema: bool,
    refs_root: Option<PathBuf>,
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
        }
    }

    /// Generate the event catalog in `dir` (`events/`, `commands/`, `common/`, `envelope.json`).
    pub fn schemas_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.input = Input::Dir(dir.as_ref().to_path_buf());
        self
    }

    /// Generate types for one standalone JSON Schema (its root type and `$defs`, plus
    /// whatever it refers to), with no event registry.
    pub fn schema_file(mut self, file: impl AsRef<Path>) -> Self {
        self.input = Input::File(file.as_ref().to_path_buf());
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
        let Input::Dir(dir) = &self.input else {
            return Ok(());
        };
        if !self.deny_lint_errors {
            return Ok(());
        }
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

    fn load(&self) -> Result<Catalog> {
        let root = self.refs_root.as_deref();
        match &self.input {
            Input::None => Err(Error::config(
                "no input: call `schemas_dir(..)` or `schema_file(..)`",
            )),
            Input::Dir(dir) => Catalog::load_dir_with_root(dir, root),
            Input::File(file) => Catalog::load_file_with_root(file, root),
        }
    }

    fn render(&self, cat: &Catalog) -> Result<String> {
        let mut model = match &self.input {
            Input::File(_) => lower_standalone(cat)?,
            _ => lower_dir(cat)?,
        };
        model.json_schema = self.json_schema;
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
            Input::Dir(p) | Input::File(p) => println!("cargo:rerun-if-changed={}", p.display()),
            Input::None => {}
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
