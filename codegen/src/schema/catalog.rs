//! Loading schema files and resolving `$ref`s offline.
//!
//! A [`Catalog`] holds every JSON document read (a directory tree, or one file plus the
//! files it refers to). Each document is a *resource* identified by a canonical URI: its
//! `$id` (resolved against its synthetic base), or, without `$id`, the synthetic
//! `https://schemas.invalid/<path relative to the root directory>`. Subschemas under
//! `$defs` that carry their own `$id` are registered as embedded resources (this is how
//! bundled schemas look).
//!
//! `$ref` resolution, in order: (1) the reference resolved against the base URI of the
//! referring location (its nearest enclosing resource) names a registered resource; (2) for a
//! relative reference, the file at that path relative to the referring file exists (it is
//! loaded while the catalog is built, so resolution itself never does I/O). Fragments are
//! JSON pointers (`#/$defs/x`); plain-name anchors are not supported. Nothing is fetched from
//! the network. Two resources with the same URI (duplicate `$id`) are an error.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::position::locate;
use super::uri;
use crate::error::{Error, Result};

/// The synthetic base for files without `$id`.
pub const SYNTHETIC_BASE: &str = "https://schemas.invalid/";

/// One schema file.
#[derive(Debug)]
pub struct Document {
    /// Path as it should appear in messages (the configured root joined with the file).
    pub path: PathBuf,
    /// Path relative to the root directory, `/`-separated (e.g. `events/patient.created/v1.json`).
    pub rel: String,
    /// Canonical URI of the document resource.
    pub uri: String,
    /// The parsed JSON.
    pub value: Value,
    text: String,
}

/// A location: a document and a JSON pointer into it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Loc {
    /// Index into [`Catalog::documents`].
    pub doc: usize,
    /// JSON pointer (empty for the document root).
    pub pointer: String,
}

impl Loc {
    /// The location of child `key` (escaped per RFC 6901).
    pub fn child(&self, key: &str) -> Loc {
        Loc {
            doc: self.doc,
            pointer: format!("{}/{}", self.pointer, escape_pointer(key)),
        }
    }
}

/// Escape one JSON pointer segment.
pub fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// All loaded schema documents with their resource index.
#[derive(Debug, Default)]
pub struct Catalog {
    docs: Vec<Document>,
    /// Resource URI -> location of the resource root.
    by_uri: HashMap<String, Loc>,
    /// Canonicalized file path -> document index.
    by_fs: HashMap<PathBuf, usize>,
    /// Per document: embedded resources as (pointer, uri), longest pointer first.
    embedded: Vec<Vec<(String, String)>>,
    root_dir: PathBuf,
    /// Every file and directory read, for `cargo:rerun-if-changed`.
    read_paths: Vec<PathBuf>,
}

impl Catalog {
    /// Load every `*.json` file under `dir` (recursively, sorted, skipping dot-files), then
    /// every file they refer to by relative path.
    pub fn load_dir(dir: &Path) -> Result<Self> {
        let mut cat = Catalog {
            root_dir: dir.to_path_buf(),
            ..Catalog::default()
        };
        let meta = std::fs::metadata(dir).map_err(|e| Error::io(dir, &e))?;
        if !meta.is_dir() {
            return Err(Error::io(
                dir,
                &std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
            ));
        }
        let mut files = Vec::new();
        cat.walk(dir, &mut files)?;
        for file in files {
            cat.add_file(&file)?;
        }
        cat.load_referenced()?;
        Ok(cat)
    }

    /// Load one standalone schema file and every file it refers to.
    pub fn load_file(path: &Path) -> Result<Self> {
        let root_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut cat = Catalog {
            root_dir,
            ..Catalog::default()
        };
        cat.add_file(path)?;
        cat.load_referenced()?;
        Ok(cat)
    }

    fn walk(&mut self, dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
        self.read_paths.push(dir.to_path_buf());
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, &e))?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<std::io::Result<_>>()
            .map_err(|e| Error::io(dir, &e))?;
        entries.sort();
        for path in entries {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                self.walk(&path, files)?;
            } else if name.ends_with(".json") {
                files.push(path);
            }
        }
        Ok(())
    }

    fn add_file(&mut self, path: &Path) -> Result<usize> {
        let canonical = std::fs::canonicalize(path).map_err(|e| Error::io(path, &e))?;
        if let Some(&i) = self.by_fs.get(&canonical) {
            return Ok(i);
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, &e))?;
        self.read_paths.push(path.to_path_buf());
        let value: Value = pmp_strict_json::from_str(&text).map_err(|e| {
            let e = match e {
                pmp_strict_json::Error::Syntax(e) => e,
                dup @ pmp_strict_json::Error::DuplicateKey { .. } => {
                    let pointer = dup.duplicate_pointer().unwrap_or_default();
                    return Error::schema(
                        path,
                        pointer,
                        "duplicate key: JSON parsers disagree on which value wins",
                    )
                    .with_position(Some(dup.position()));
                }
            };
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
            Error::schema(path, "", format!("malformed JSON: {msg}"))
                .with_position(Some((e.line(), e.column())))
        })?;
        let rel = self.relative(path);
        let synthetic = format!("{SYNTHETIC_BASE}{rel}");
        let uri = match value.get("$id") {
            Some(Value::String(id)) => uri::resolve(&synthetic, uri::split_fragment(id).0)
                .trim_end_matches('#')
                .to_owned(),
            Some(_) => return Err(Error::schema(path, "/$id", "`$id` must be a string")),
            None => synthetic,
        };
        let index = self.docs.len();
        self.register(
            &uri,
            Loc {
                doc: index,
                pointer: String::new(),
            },
            path,
            "/$id",
        )?;
        let mut embedded = Vec::new();
        collect_embedded(&value, "", &uri, &mut embedded);
        for (pointer, id) in &embedded {
            self.register(
                id,
                Loc {
                    doc: index,
                    pointer: pointer.clone(),
                },
                path,
                &format!("{pointer}/$id"),
            )?;
        }
        embedded.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        self.embedded.push(embedded);
        self.by_fs.insert(canonical, index);
        self.docs.push(Document {
            path: path.to_path_buf(),
            rel,
            uri,
            value,
            text,
        });
        Ok(index)
    }

    fn register(&mut self, uri: &str, loc: Loc, path: &Path, pointer: &str) -> Result<()> {
        if let Some(previous) = self.by_uri.get(uri) {
            let other = &self.docs[previous.doc].path;
            return Err(Error::schema(
                path,
                pointer,
                format!(
                    "duplicate `$id` {uri:?}: already used by {}#{}",
                    other.display(),
                    previous.pointer
                ),
            ));
        }
        self.by_uri.insert(uri.to_owned(), loc);
        Ok(())
    }

    fn relative(&self, path: &Path) -> String {
        let rel = path
            .strip_prefix(&self.root_dir)
            .ok()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| {
                let name = path.file_name().map(PathBuf::from).unwrap_or_default();
                PathBuf::from("__external__").join(name)
            });
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Load files named by relative `$ref`s until every file-based reference is present.
    fn load_referenced(&mut self) -> Result<()> {
        let mut next = 0;
        while next < self.docs.len() {
            let mut wanted = Vec::new();
            let doc = &self.docs[next];
            walk_refs(&doc.value, "", &mut |_pointer, reference| {
                let (u, _) = uri::split_fragment(reference);
                if !u.is_empty() && !uri::has_scheme(u) {
                    wanted.push(u.to_owned());
                }
            });
            let dir = doc.path.parent().map(Path::to_path_buf).unwrap_or_default();
            let base = doc.uri.clone();
            for u in wanted {
                if self.by_uri.contains_key(&uri::resolve(&base, &u)) {
                    continue;
                }
                let candidate = dir.join(uri::percent_decode(&u));
                if candidate.is_file() {
                    self.add_file(&candidate)?;
                }
            }
            next += 1;
        }
        Ok(())
    }

    /// Every loaded document, in load order (sorted paths first).
    pub fn documents(&self) -> &[Document] {
        &self.docs
    }

    /// Every file and directory read (for `cargo:rerun-if-changed`).
    pub fn read_paths(&self) -> &[PathBuf] {
        &self.read_paths
    }

    /// The JSON value at `loc`.
    pub fn get(&self, loc: &Loc) -> Option<&Value> {
        self.docs.get(loc.doc)?.value.pointer(&loc.pointer)
    }

    /// The document `loc` points into.
    pub fn document(&self, loc: &Loc) -> &Document {
        &self.docs[loc.doc]
    }

    /// An error at `loc`, with its line and column.
    pub fn error(&self, loc: &Loc, message: impl Into<String>) -> Error {
        let doc = &self.docs[loc.doc];
        Error::schema(&doc.path, &loc.pointer, message)
            .with_position(locate(&doc.text, &loc.pointer))
    }

    /// The innermost resource containing `loc`: (resource root location, its URI).
    pub fn resource_of(&self, loc: &Loc) -> (Loc, &str) {
        for (pointer, id) in &self.embedded[loc.doc] {
            if loc.pointer == *pointer || loc.pointer.starts_with(&format!("{pointer}/")) {
                return (
                    Loc {
                        doc: loc.doc,
                        pointer: pointer.clone(),
                    },
                    id,
                );
            }
        }
        (
            Loc {
                doc: loc.doc,
                pointer: String::new(),
            },
            &self.docs[loc.doc].uri,
        )
    }

    /// Canonical absolute URI of `loc` (`resource-uri#/pointer/inside/resource`).
    pub fn canonical_uri(&self, loc: &Loc) -> String {
        let (root, uri) = self.resource_of(loc);
        let inner = &loc.pointer[root.pointer.len()..];
        if inner.is_empty() {
            uri.to_owned()
        } else {
            format!("{uri}#{inner}")
        }
    }

    /// Resolve the `$ref` string `reference` written at `at` (the schema holding `$ref`).
    pub fn resolve_ref(&self, at: &Loc, reference: &str) -> Result<Loc> {
        let ref_loc = at.child("$ref");
        let (resource, base) = self.resource_of(at);
        let (u, fragment) = uri::split_fragment(reference);
        let target_resource = if u.is_empty() {
            resource
        } else {
            let absolute = uri::resolve(base, u);
            match self.by_uri.get(&absolute) {
                Some(loc) => loc.clone(),
                None => {
                    let by_file = (!uri::has_scheme(u))
                        .then(|| {
                            let dir = self.docs[at.doc].path.parent()?;
                            let path =
                                std::fs::canonicalize(dir.join(uri::percent_decode(u))).ok()?;
                            self.by_fs.get(&path).copied()
                        })
                        .flatten();
                    match by_file {
                        Some(doc) => Loc { doc, pointer: String::new() },
                        None => {
                            return Err(self.error(
                                &ref_loc,
                                format!(
                                    "cannot resolve `$ref` {reference:?}: no schema file or `$id` matches {absolute:?} (references are resolved offline only)"
                                ),
                            ))
                        }
                    }
                }
            }
        };
        if fragment.is_empty() {
            return Ok(target_resource);
        }
        if !fragment.starts_with('/') {
            return Err(self.error(
                &ref_loc,
                format!("`$ref` {reference:?} uses a plain-name fragment; only JSON pointer fragments (`#/$defs/name`) are supported"),
            ));
        }
        let target = Loc {
            doc: target_resource.doc,
            pointer: format!(
                "{}{}",
                target_resource.pointer,
                uri::percent_decode(fragment)
            ),
        };
        if self.get(&target).is_none() {
            return Err(self.error(
                &ref_loc,
                format!("`$ref` {reference:?} points to nothing: no value at that JSON pointer"),
            ));
        }
        Ok(target)
    }

    /// Documents by relative path (sorted), for classification.
    pub fn by_rel(&self) -> BTreeMap<&str, usize> {
        self.docs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.rel.as_str(), i))
            .collect()
    }
}

/// Collect `(pointer, absolute $id)` of subschemas under `$defs` that carry their own `$id`.
fn collect_embedded(value: &Value, pointer: &str, base: &str, out: &mut Vec<(String, String)>) {
    let Some(defs) = value.get("$defs").and_then(Value::as_object) else {
        return;
    };
    for (name, def) in defs {
        let p = format!("{pointer}/$defs/{}", escape_pointer(name));
        let mut inner_base = base.to_owned();
        if let Some(id) = def.get("$id").and_then(Value::as_str) {
            inner_base = uri::resolve(base, uri::split_fragment(id).0);
            out.push((p.clone(), inner_base.clone()));
        }
        collect_embedded(def, &p, &inner_base, out);
    }
}

/// Call `f(pointer_of_schema, reference)` for every `$ref` in a schema document, skipping
/// data-carrying keywords (`examples`, `const`, `enum`, `default`) and `x-` extensions.
pub fn walk_refs(value: &Value, pointer: &str, f: &mut dyn FnMut(&str, &str)) {
    walk_refs_inner(value, pointer, false, f);
}

fn walk_refs_inner(value: &Value, pointer: &str, names: bool, f: &mut dyn FnMut(&str, &str)) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if !names && key == "$ref" {
                    if let Value::String(r) = child {
                        f(pointer, r);
                    }
                    continue;
                }
                if !names && is_data_keyword(key) {
                    continue;
                }
                let child_names = !names && matches!(key.as_str(), "properties" | "$defs");
                walk_refs_inner(
                    child,
                    &format!("{pointer}/{}", escape_pointer(key)),
                    child_names,
                    f,
                );
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                walk_refs_inner(child, &format!("{pointer}/{i}"), false, f);
            }
        }
        _ => {}
    }
}

/// Keywords whose values are data (or extensions), never subschemas.
pub fn is_data_keyword(key: &str) -> bool {
    matches!(key, "examples" | "const" | "enum" | "default") || key.starts_with("x-")
}

/// Replace every `$ref` in `value` (a schema at `pointer`) with `f(schema_pointer, reference)`.
pub fn rewrite_refs(
    value: &mut Value,
    pointer: &str,
    names: bool,
    f: &mut dyn FnMut(&str, &str) -> Result<String>,
) -> Result<()> {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if !names && key == "$ref" {
                    if let Value::String(r) = child {
                        *r = f(pointer, r)?;
                    }
                    continue;
                }
                if !names && is_data_keyword(key) {
                    continue;
                }
                let child_names = !names && matches!(key.as_str(), "properties" | "$defs");
                rewrite_refs(
                    child,
                    &format!("{pointer}/{}", escape_pointer(key)),
                    child_names,
                    f,
                )?;
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                rewrite_refs(child, &format!("{pointer}/{i}"), false, f)?;
            }
        }
        _ => {}
    }
    Ok(())
}
