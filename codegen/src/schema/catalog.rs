//! The generator's view of the loader: a schema directory (or one file) as documents with
//! paths relative to the root and canonical URIs.
//!
//! Loading and `$ref` resolution are [`super::store::DocStore`]'s (the loader compat and lint
//! use too): draft-07 and 2020-12 (`$schema` decides), `$id`s at any depth, `$anchor`s and
//! draft-07 `#name` ids, JSON pointer fragments, relative references resolved against the
//! base URI in scope or, failing that, the referring file's path. Nothing is fetched from the
//! network.
//!
//! **The root rule.** A `$ref` may only lead to files below the root: the schema directory,
//! or the directory of a standalone schema file. `"$ref": "/etc/passwd"` or
//! `"../../../x.json"` is an error naming the referring file and the `$ref`'s pointer, and the
//! file is never read (a `build.rs` reading arbitrary files is a supply-chain hazard). A
//! service that shares schemas from a sibling directory widens the root explicitly with
//! [`crate::Config::allow_refs_under`].
//!
//! Each document is a *resource* with a canonical URI: its `$id`, or, without `$id`, the
//! synthetic `https://schemas.invalid/<path relative to the root>` (so generated code never
//! contains a machine's absolute paths). Two resources with the same URI (duplicate `$id`) are
//! an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::store::{file_uri, DocStore, Source};
use crate::compat::CompatError;
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
    /// Index of the root directory it lies below ([`Catalog::load_dirs`]; 0 for one root,
    /// and for files outside every root, read through [`crate::Config::allow_refs_under`]).
    pub root: usize,
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
    super::source_map::escape(key)
}

/// All loaded schema documents.
#[derive(Debug)]
pub struct Catalog {
    store: DocStore,
    docs: Vec<Document>,
    /// The configured root directories.
    roots: Vec<Root>,
    /// Every file and directory read, for `cargo:rerun-if-changed`.
    read_paths: Vec<PathBuf>,
}

/// One root directory: as given, normalized absolute, and as a `file:` URI prefix.
#[derive(Debug)]
struct Root {
    dir: PathBuf,
    key: PathBuf,
    /// `file:///<root>/`: document URIs below it are shown under [`SYNTHETIC_BASE`].
    file_uri: String,
}

impl Catalog {
    fn empty(root_dirs: &[&Path], refs_root: Option<&Path>) -> Catalog {
        let mut store = DocStore::new(Source::Disk);
        if root_dirs.len() > 1 {
            store = store.defer_ref_checks();
        }
        match refs_root {
            Some(refs_root) => store = store.with_root(refs_root),
            None => {
                for dir in root_dirs {
                    store = store.with_root(dir);
                }
            }
        }
        let roots = root_dirs
            .iter()
            .map(|dir| {
                let key = store.key_of(dir);
                let file_uri = format!("{}/", file_uri(&key).trim_end_matches('/'));
                Root {
                    dir: dir.to_path_buf(),
                    key,
                    file_uri,
                }
            })
            .collect();
        Catalog {
            store,
            docs: Vec::new(),
            roots,
            read_paths: Vec::new(),
        }
    }

    /// Load several schema directories into one catalog, in order: every `*.json` file
    /// under each (as [`Catalog::load_dir`]), `$ref`s between them resolved (by relative path
    /// or `$id`), and a `$ref` allowed to reach files below any of them (or below
    /// `refs_root` when given). [`Document::root`] says which directory a file came from.
    pub fn load_dirs(dirs: &[&Path], refs_root: Option<&Path>) -> Result<Self> {
        let mut cat = Catalog::empty(dirs, refs_root);
        for dir in dirs {
            let meta = std::fs::metadata(dir).map_err(|e| Error::io(dir, &e))?;
            if !meta.is_dir() {
                return Err(Error::io(
                    dir,
                    &std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
                ));
            }
        }
        for dir in dirs {
            let mut files = Vec::new();
            cat.walk(dir, &mut files)?;
            for file in files {
                cat.load(&file)?;
            }
        }
        let checked = cat.store.check_deferred();
        checked.map_err(|e| cat.store_error(e))?;
        cat.finish()?;
        Ok(cat)
    }

    /// Load every `*.json` file under `dir` (recursively, sorted, skipping dot-files), then
    /// every file they refer to (below `dir` only).
    pub fn load_dir(dir: &Path) -> Result<Self> {
        Self::load_dir_with_root(dir, None)
    }

    /// [`Catalog::load_dir`] with `$ref`s allowed to reach files below `refs_root` (which
    /// should contain `dir`) instead of `dir`.
    pub fn load_dir_with_root(dir: &Path, refs_root: Option<&Path>) -> Result<Self> {
        Self::load_dirs(&[dir], refs_root)
    }

    /// Load one standalone schema file and every file it refers to (below its directory).
    pub fn load_file(path: &Path) -> Result<Self> {
        Self::load_file_with_root(path, None)
    }

    /// [`Catalog::load_file`] with `$ref`s allowed to reach files below `refs_root`.
    pub fn load_file_with_root(path: &Path, refs_root: Option<&Path>) -> Result<Self> {
        let root_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut cat = Catalog::empty(&[&root_dir], refs_root);
        if path.is_dir() {
            return Err(Error::io(
                path,
                &std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
            ));
        }
        cat.load(path)?;
        cat.finish()?;
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

    fn load(&mut self, path: &Path) -> Result<()> {
        let result = self.store.load(path);
        // Documents loaded so far (including referenced files) get their names even when a
        // later reference failed, so the error can name its file.
        self.sync_documents();
        result.map(|_| ()).map_err(|e| self.store_error(e))
    }

    /// Register the store's new documents: display path, relative path, canonical URI.
    fn sync_documents(&mut self) {
        for id in self.docs.len()..self.store.docs().len() {
            let stored = &self.store.doc(id).path;
            let key = self.store.key_of(stored);
            // The innermost root holding the file (roots may nest).
            let below = self
                .roots
                .iter()
                .enumerate()
                .filter_map(|(i, r)| key.strip_prefix(&r.key).ok().map(|rel| (i, rel)))
                .max_by_key(|(_, rel)| std::cmp::Reverse(rel.components().count()));
            let (path, rel, root) = match below {
                Some((i, rel)) => (self.roots[i].dir.join(rel), slash_path(rel), i),
                None => {
                    let name = key.file_name().map(PathBuf::from).unwrap_or_default();
                    (
                        key.clone(),
                        slash_path(&PathBuf::from("__external__").join(name)),
                        0,
                    )
                }
            };
            self.read_paths.push(path.clone());
            let uri = self.canonical(self.store.resource_at(id, "").1);
            self.docs.push(Document {
                path,
                rel,
                uri,
                root,
            });
        }
    }

    /// Errors the loader found that the generator refuses: duplicate `$id`s.
    fn finish(&self) -> Result<()> {
        if let Some(dup) = self.store.duplicate_ids().first() {
            let (first_doc, first_ptr) = &dup.first;
            let other = &self.docs[*first_doc].path;
            return Err(self.error(
                &Loc {
                    doc: dup.doc,
                    pointer: format!("{}/$id", dup.pointer),
                },
                format!(
                    "duplicate `$id` {:?}: already used by {}#{}",
                    dup.uri,
                    other.display(),
                    first_ptr
                ),
            ));
        }
        Ok(())
    }

    /// The document a path the store reported belongs to.
    fn doc_by_store_path(&self, path: &Path) -> Option<usize> {
        let key = self.store.key_of(path);
        (0..self.store.docs().len()).find(|&i| self.store.key_of(&self.store.doc(i).path) == key)
    }

    /// A loader error as a generator error (file as shown by the catalog, with position).
    fn store_error(&self, e: CompatError) -> Error {
        let shown = |file: &Path| -> (Option<usize>, PathBuf) {
            match self.doc_by_store_path(file) {
                Some(i) if i < self.docs.len() => (Some(i), self.docs[i].path.clone()),
                _ => (None, file.to_path_buf()),
            }
        };
        match e {
            CompatError::Io { file, reason } => {
                let (_, path) = shown(&file);
                Error::io(&path, &std::io::Error::other(reason))
            }
            CompatError::Parse {
                file,
                line,
                col,
                reason,
            } => {
                let (_, path) = shown(&file);
                Error::schema(&path, "", format!("malformed JSON: {reason}"))
                    .with_position(Some((line, col)))
            }
            CompatError::DuplicateKey {
                file,
                line,
                col,
                pointer,
            } => {
                let (_, path) = shown(&file);
                Error::schema(
                    &path,
                    &pointer,
                    "duplicate key: JSON parsers disagree on which value wins",
                )
                .with_position(Some((line, col)))
            }
            CompatError::Ref {
                file,
                pointer,
                reference,
                reason,
            } => {
                let message = format!("cannot resolve `$ref` {reference:?}: {reason}");
                match shown(&file) {
                    (Some(doc), _) => self.error(&Loc { doc, pointer }, message),
                    (None, path) => Error::schema(&path, &pointer, message),
                }
            }
            CompatError::Invalid {
                file,
                pointer,
                reason,
            } => match shown(&file) {
                (Some(doc), _) => self.error(&Loc { doc, pointer }, reason),
                (None, path) => Error::schema(&path, &pointer, reason),
            },
        }
    }

    /// `uri` as shown in generated code: file URIs below the root become synthetic.
    fn canonical(&self, uri: &str) -> String {
        let below = self
            .roots
            .iter()
            .filter_map(|r| uri.strip_prefix(&r.file_uri))
            .min_by_key(|rest| rest.len());
        match below {
            Some(rest) => format!("{SYNTHETIC_BASE}{rest}"),
            None => uri.to_owned(),
        }
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
        if loc.doc >= self.store.docs().len() {
            return None;
        }
        self.store.doc(loc.doc).value.pointer(&loc.pointer)
    }

    /// The document `loc` points into.
    pub fn document(&self, loc: &Loc) -> &Document {
        &self.docs[loc.doc]
    }

    /// Whether the document of `loc` is draft-04/06/07 (by its `$schema`).
    pub fn is_draft7(&self, loc: &Loc) -> bool {
        self.store.doc(loc.doc).dialect == super::store::Dialect::Draft7
    }

    /// An error at `loc`, with its line and column.
    pub fn error(&self, loc: &Loc, message: impl Into<String>) -> Error {
        let doc = &self.docs[loc.doc];
        let p = self.store.doc(loc.doc).map.position(&loc.pointer);
        Error::schema(&doc.path, &loc.pointer, message).with_position(Some((p.line, p.col)))
    }

    /// 1-based (line, column) of the value at `loc` in its file (of an object member: of
    /// its key), or of its nearest ancestor the source map knows.
    pub fn position(&self, loc: &Loc) -> (usize, usize) {
        let p = self.store.doc(loc.doc).map.position(&loc.pointer);
        (p.line, p.col)
    }

    /// The innermost resource containing `loc`: (resource root location, its canonical URI).
    pub fn resource_of(&self, loc: &Loc) -> (Loc, String) {
        let (prefix, base) = self.store.resource_at(loc.doc, &loc.pointer);
        (
            Loc {
                doc: loc.doc,
                pointer: prefix.to_owned(),
            },
            self.canonical(base),
        )
    }

    /// Canonical absolute URI of `loc` (`resource-uri#/pointer/inside/resource`).
    pub fn canonical_uri(&self, loc: &Loc) -> String {
        let (root, uri) = self.resource_of(loc);
        let inner = &loc.pointer[root.pointer.len()..];
        if inner.is_empty() {
            uri
        } else {
            format!("{uri}#{inner}")
        }
    }

    /// Resolve the `$ref` string `reference` written at `at` (the schema holding `$ref`).
    pub fn resolve_ref(&self, at: &Loc, reference: &str) -> Result<Loc> {
        self.store
            .resolve(at.doc, &at.pointer, reference)
            .map(|(doc, pointer)| Loc { doc, pointer })
            .map_err(|e| self.store_error(e))
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

fn slash_path(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
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
                let child_names = !names && super::store::holds_names(key);
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
                let child_names = !names && super::store::holds_names(key);
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
