//! The schema loader and `$ref` resolver shared by the generator ([`super::Catalog`]), the
//! compatibility checker and lint.
//!
//! The checker compares two schema graphs that may come from different trees (the working tree
//! and a git baseline), so a store reads either from disk or from an in-memory file map.
//! Guarantees:
//!
//! * Every document is registered under its file URI (`file:///...`) and, when present, under
//!   its `$id`; embedded `$id`s open new resources and new base URIs (draft-07 `"$id": "#x"`
//!   is a plain-name anchor, as is 2020-12 `$anchor`).
//! * Relative references resolve against the base URI in scope. When a relative reference
//!   resolves (against an `https://...` `$id`) to a resource the store does not know, the same
//!   reference is resolved against the containing file's path and that file is loaded: the
//!   project's convention is that relative refs mean the same thing against both.
//! * Referenced files are loaded eagerly when a document is added, so resolution during a
//!   check is read-only. A reference that cannot be resolved is an error naming the file, the
//!   JSON pointer of the `$ref` and the reference, raised when the checker reaches it.
//! * Nothing is fetched over the network.
//! * With a root ([`DocStore::with_root`], which the generator always sets), a reference that
//!   leads to a file outside the root (`/etc/passwd`, `../../../x.json`) is an error naming
//!   the referring file and the `$ref`'s pointer; the file is never read.
//! * Two resources with the same URI (a duplicate `$id`) are recorded
//!   ([`DocStore::duplicate_ids`]); the generator refuses them, the checker (which may hold two
//!   versions of one schema) resolves to the first.
//! * Data keywords (`enum`, `const`, `examples`, `default`) and `x-` extensions are not
//!   searched for `$ref`/`$id`; property names (`properties`, `$defs`, `definitions`,
//!   `patternProperties`, `dependentSchemas`) are names, never keywords.
//! * Positions ([`SourceMap`]) are computed from the text only when one is asked for.

use super::source_map::{escape, SourceMap};
use super::uri::percent_decode;
use crate::compat::CompatError;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};

/// JSON Schema dialect of a document, decided by `$schema` (default 2020-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Drafts 04/06/07: `definitions`, `dependencies`, array-form `items` + `additionalItems`,
    /// and `$ref` siblings are ignored.
    Draft7,
    /// Draft 2019-09: array-form `items` + `additionalItems`, `$ref` siblings apply.
    Draft2019,
    /// Draft 2020-12 (the default).
    Draft2020,
}

/// Where documents are read from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The file system.
    Disk,
    /// An in-memory tree (e.g. files read from a git revision), keyed by relative path.
    Memory(BTreeMap<PathBuf, String>),
}

/// One loaded schema document.
#[derive(Debug)]
pub struct Doc {
    /// Path as shown to users (relative when it was given relative).
    pub path: PathBuf,
    /// Retrieval URI (`file:///...`).
    pub file_uri: String,
    /// Parsed document.
    pub value: Value,
    /// Pointer → position map of the document's text.
    pub map: SourceMap,
    /// Dialect from `$schema`.
    pub dialect: Dialect,
    /// (pointer prefix, base URI) of every resource root in the document, longest prefix first.
    bases: Vec<(String, String)>,
}

type RefKey = (DocId, String, String);

/// Identifies a loaded document inside a [`DocStore`].
pub type DocId = usize;

/// Loaded documents plus the URI index used to resolve `$ref`.
#[derive(Debug)]
pub struct DocStore {
    source: Source,
    docs: Vec<Doc>,
    by_path: HashMap<PathBuf, DocId>,
    resources: HashMap<String, (DocId, String)>,
    anchors: HashMap<String, (DocId, String)>,
    /// (document, pointer, reference) → resolved (document, pointer).
    cache: RefCell<HashMap<RefKey, (DocId, String)>>,
    /// Files outside these directories are never read through a `$ref` (empty: no limit).
    roots: Vec<PathBuf>,
    /// `$id`s registered twice: (document, pointer of the second, URI, first location).
    duplicates: Vec<DuplicateId>,
    /// `$ref`s to check later ([`DocStore::defer_ref_checks`]): (document, pointer, reference).
    deferred: Option<Vec<(DocId, String, String)>>,
}

/// A resource URI claimed twice (see [`DocStore::duplicate_ids`]).
#[derive(Debug, Clone)]
pub struct DuplicateId {
    /// The document holding the second `$id`.
    pub doc: DocId,
    /// Pointer of the schema holding the second `$id`.
    pub pointer: String,
    /// The URI.
    pub uri: String,
    /// The first resource with that URI: (document, pointer).
    pub first: (DocId, String),
}

impl DocStore {
    /// A store reading from `source`.
    pub fn new(source: Source) -> DocStore {
        let source = match source {
            Source::Memory(files) => Source::Memory(
                files
                    .into_iter()
                    .map(|(k, v)| (mem_key(&normalize(&k)), v))
                    .collect(),
            ),
            disk => disk,
        };
        DocStore {
            source,
            docs: Vec::new(),
            by_path: HashMap::new(),
            resources: HashMap::new(),
            anchors: HashMap::new(),
            cache: RefCell::new(HashMap::new()),
            roots: Vec::new(),
            duplicates: Vec::new(),
            deferred: None,
        }
    }

    /// Refuse `$ref`s that lead to files outside `root` (a directory; relative paths are
    /// taken from the current directory). Set before loading anything. Called again, it adds
    /// a root: a `$ref` may then lead below any of them.
    pub fn with_root(mut self, root: &Path) -> DocStore {
        let key = self.key_path(root);
        if !self.roots.contains(&key) {
            self.roots.push(key);
        }
        self
    }

    /// The first root set with [`DocStore::with_root`] (normalized, absolute for disk stores).
    pub fn root(&self) -> Option<&Path> {
        self.roots.first().map(PathBuf::as_path)
    }

    /// Every `$id` that named a resource already registered.
    pub fn duplicate_ids(&self) -> &[DuplicateId] {
        &self.duplicates
    }

    /// The normalized path a document is known by (absolute for disk stores).
    pub fn key_of(&self, path: &Path) -> PathBuf {
        self.key_path(path)
    }

    /// (pointer, base URI) of the innermost resource (a schema with its own `$id`, or the
    /// document) containing `pointer` of document `doc`.
    pub fn resource_at(&self, doc: DocId, pointer: &str) -> (&str, &str) {
        let d = &self.docs[doc];
        for (prefix, base) in &d.bases {
            if prefix.is_empty()
                || pointer == prefix
                || (pointer.starts_with(prefix.as_str())
                    && pointer.as_bytes().get(prefix.len()) == Some(&b'/'))
            {
                return (prefix, base);
            }
        }
        ("", &d.file_uri)
    }

    /// A store over the file system.
    pub fn disk() -> DocStore {
        DocStore::new(Source::Disk)
    }

    /// The documents loaded so far.
    pub fn docs(&self) -> &[Doc] {
        &self.docs
    }

    /// One document.
    pub fn doc(&self, id: DocId) -> &Doc {
        &self.docs[id]
    }

    /// Loads `path` (and every file it references, transitively).
    pub fn load(&mut self, path: &Path) -> Result<DocId, CompatError> {
        let key = self.key_path(path);
        if let Some(id) = self.by_path.get(&key) {
            return Ok(*id);
        }
        let text = self.read(path, &key)?;
        self.add_text(path, &text)
    }

    /// Adds a document from text under `path` (used for tests and for in-memory inputs), then
    /// loads the files it references.
    pub fn add_text(&mut self, path: &Path, text: &str) -> Result<DocId, CompatError> {
        let key = self.key_path(path);
        if let Some(id) = self.by_path.get(&key) {
            return Ok(*id);
        }
        let value: Value = pmp_strict_json::from_str(text).map_err(|e| {
            let e = match e {
                pmp_strict_json::Error::Syntax(e) => e,
                dup @ pmp_strict_json::Error::DuplicateKey { .. } => {
                    return CompatError::DuplicateKey {
                        file: path.to_path_buf(),
                        line: dup.position().0,
                        col: dup.position().1,
                        pointer: dup.duplicate_pointer().unwrap_or_default().to_owned(),
                    }
                }
            };
            CompatError::Parse {
                file: path.to_path_buf(),
                line: e.line(),
                col: e.column(),
                // Only the error category: serde_json's message can quote input.
                reason: if e.to_string().starts_with("recursion limit exceeded") {
                    "nesting deeper than 128 levels".to_string()
                } else {
                    format!("{:?}", e.classify()).to_lowercase()
                },
            }
        })?;
        let dialect = match value.get("$schema").and_then(Value::as_str) {
            Some(s)
                if s.contains("draft-04") || s.contains("draft-06") || s.contains("draft-07") =>
            {
                Dialect::Draft7
            }
            Some(s) if s.contains("2019-09") => Dialect::Draft2019,
            _ => Dialect::Draft2020,
        };
        let file_uri = file_uri(&key);
        let id = self.docs.len();
        self.by_path.insert(key.clone(), id);
        self.resources.insert(file_uri.clone(), (id, String::new()));
        let mut bases = Vec::new();
        let mut refs = Vec::new();
        let mut walk = Walk {
            id,
            dialect,
            bases: &mut bases,
            refs: &mut refs,
            resources: &mut self.resources,
            anchors: &mut self.anchors,
            duplicates: &mut self.duplicates,
        };
        walk.walk(&value, "", &file_uri, false);
        bases.sort_by_key(|b| std::cmp::Reverse(b.0.len()));
        self.docs.push(Doc {
            path: path.to_path_buf(),
            file_uri: file_uri.clone(),
            value,
            map: SourceMap::lazy(text),
            dialect,
            bases,
        });
        for (base, reference, ptr) in &refs {
            let (base, reference) = (base.clone(), reference.clone());
            let Ok(abs) = resolve_uri(&base, &reference) else {
                continue;
            };
            let resource = strip_fragment(&abs).to_string();
            if self.resources.contains_key(&resource) {
                continue;
            }
            let via_file = if resource.starts_with("file://") {
                resource.clone()
            } else {
                // Map the target through the $id → file correspondence of this document: the
                // same relative path from this document's $id leads from its file.
                let rel =
                    relative_ref(strip_fragment(&base), &resource).unwrap_or(reference.clone());
                match resolve_uri(&file_uri, &rel) {
                    Ok(u) => strip_fragment(&u).to_string(),
                    Err(_) => continue,
                }
            };
            let Some(target) = uri_to_path(&via_file) else {
                continue;
            };
            let target = normalize(&target);
            self.check_root(id, ptr, &reference, &target)?;
            if !self.exists(&target) {
                continue;
            }
            // Shown like the referring file: relative when it was given relative.
            let shown = match (&self.source, path.is_relative()) {
                (Source::Disk, true) => std::env::current_dir()
                    .ok()
                    .and_then(|cwd| target.strip_prefix(normalize(&cwd)).ok())
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| target.clone()),
                _ => target.clone(),
            };
            // A file that fails to parse surfaces here, naming that file.
            let loaded = self.load(&shown)?;
            self.resources
                .entry(resource)
                .or_insert((loaded, String::new()));
        }
        // Every reference must resolve now, so a typo is an input error even where the
        // comparison would never look.
        if let Some(deferred) = &mut self.deferred {
            deferred.extend(
                refs.into_iter()
                    .map(|(_, reference, ptr)| (id, ptr, reference)),
            );
            return Ok(id);
        }
        for (_, reference, ptr) in &refs {
            self.resolve(id, ptr, reference)?;
        }
        Ok(id)
    }

    /// Check `$ref`s only in [`DocStore::check_deferred`], not as each file loads: for
    /// several roots loaded one after the other, where a file may refer by `$id` to a file
    /// of a root not loaded yet.
    pub fn defer_ref_checks(mut self) -> DocStore {
        self.deferred = Some(Vec::new());
        self
    }

    /// Resolve every `$ref` deferred by [`DocStore::defer_ref_checks`] (the first that does
    /// not resolve is the error), and check the next ones as they load again.
    pub fn check_deferred(&mut self) -> Result<(), CompatError> {
        for (id, ptr, reference) in self.deferred.take().unwrap_or_default() {
            self.resolve(id, &ptr, &reference)?;
        }
        Ok(())
    }

    /// Refuse `target` (a file a `$ref` leads to) when it lies outside the root.
    fn check_root(
        &self,
        doc: DocId,
        pointer: &str,
        reference: &str,
        target: &Path,
    ) -> Result<(), CompatError> {
        // Lexically first, then (for files that exist) after following symlinks, so a link
        // inside the root cannot lead outside it either.
        let outside = |root: &Path| {
            !target.starts_with(root)
                || matches!(
                    (std::fs::canonicalize(target), std::fs::canonicalize(root)),
                    (Ok(t), Ok(r)) if !t.starts_with(&r)
                )
        };
        if self.roots.is_empty()
            || !matches!(self.source, Source::Disk)
            || !self.roots.iter().all(|root| outside(root))
        {
            return Ok(());
        }
        let roots: Vec<String> = self.roots.iter().map(|r| r.display().to_string()).collect();
        Err(CompatError::Ref {
            file: self.docs[doc].path.clone(),
            pointer: format!("{pointer}/$ref"),
            reference: reference.to_string(),
            reason: format!(
                "it leads outside the schema root {} (only files below the root are read; widen the root explicitly with `Config::allow_refs_under`)",
                roots.join(" and ")
            ),
        })
    }

    fn key_path(&self, path: &Path) -> PathBuf {
        let joined = match self.source {
            Source::Disk if path.is_relative() => {
                std::env::current_dir().unwrap_or_default().join(path)
            }
            _ => path.to_path_buf(),
        };
        normalize(&joined)
    }

    fn exists(&self, key: &Path) -> bool {
        match &self.source {
            Source::Disk => key.is_file(),
            Source::Memory(files) => files.contains_key(&mem_key(key)),
        }
    }

    fn read(&self, shown: &Path, key: &Path) -> Result<String, CompatError> {
        match &self.source {
            Source::Disk => std::fs::read_to_string(key).map_err(|e| CompatError::Io {
                file: shown.to_path_buf(),
                reason: e.kind().to_string(),
            }),
            Source::Memory(files) => {
                files
                    .get(&mem_key(key))
                    .cloned()
                    .ok_or_else(|| CompatError::Io {
                        file: shown.to_path_buf(),
                        reason: "not found".into(),
                    })
            }
        }
    }

    /// Base URI in scope at `pointer` of document `doc`.
    pub fn base_at(&self, doc: DocId, pointer: &str) -> &str {
        let d = &self.docs[doc];
        for (prefix, base) in &d.bases {
            if pointer == prefix || pointer.starts_with(&format!("{prefix}/")) || prefix.is_empty()
            {
                return base;
            }
        }
        &d.file_uri
    }

    /// Resolves `reference` found in the schema at (`doc`, `pointer`) to a (document, pointer).
    pub fn resolve(
        &self,
        doc: DocId,
        pointer: &str,
        reference: &str,
    ) -> Result<(DocId, String), CompatError> {
        let key = (doc, pointer.to_string(), reference.to_string());
        if let Some(hit) = self.cache.borrow().get(&key) {
            return Ok(hit.clone());
        }
        let fail = |reason: &str| CompatError::Ref {
            file: self.docs[doc].path.clone(),
            pointer: format!("{pointer}/$ref"),
            reference: reference.to_string(),
            reason: reason.to_string(),
        };
        let base = self.base_at(doc, pointer);
        let abs = resolve_uri(base, reference).map_err(|_| fail("not a valid URI reference"))?;
        let resource = strip_fragment(&abs);
        let fragment = abs.split_once('#').map(|(_, f)| f).unwrap_or("");
        let (target_doc, prefix) = match self.resources.get(resource) {
            Some(hit) => hit.clone(),
            None => {
                // Same relative reference against the containing file (project convention).
                let rel = relative_ref(base, resource).unwrap_or(reference.to_string());
                let via_file = resolve_uri(&self.docs[doc].file_uri, &rel)
                    .map_err(|_| fail("not a valid URI reference"))?;
                match self.resources.get(strip_fragment(&via_file)) {
                    Some(hit) => hit.clone(),
                    None => {
                        if let Some(target) = uri_to_path(strip_fragment(&via_file)) {
                            self.check_root(doc, pointer, reference, &normalize(&target))?;
                        }
                        return Err(fail("no such schema file or $id"));
                    }
                }
            }
        };
        let target_ptr = if fragment.is_empty() {
            prefix
        } else if fragment.starts_with('/') {
            format!("{prefix}{}", percent_decode(fragment))
        } else {
            let anchor = format!("{resource}#{fragment}");
            match self.anchors.get(&anchor) {
                Some((d, p)) if *d == target_doc => p.clone(),
                _ => return Err(fail("no such anchor")),
            }
        };
        if self.docs[target_doc].value.pointer(&target_ptr).is_none() {
            return Err(fail(
                "the JSON pointer does not exist in the target document",
            ));
        }
        let out = (target_doc, target_ptr);
        self.cache.borrow_mut().insert(key, out.clone());
        Ok(out)
    }

    /// Every document as (URI, contents): the `$id` when present, else the file URI. Used to
    /// register resources with `jsonschema` for counterexample verification.
    pub fn resources(&self) -> Vec<(String, &Value)> {
        self.docs
            .iter()
            .map(|d| {
                (
                    d.bases
                        .iter()
                        .find(|b| b.0.is_empty())
                        .map(|b| b.1.clone())
                        .unwrap_or_else(|| d.file_uri.clone()),
                    &d.value,
                )
            })
            .collect()
    }

    /// URI a validator for document `doc` should be built with.
    pub fn uri_of(&self, doc: DocId) -> String {
        self.base_at(doc, "").to_string()
    }
}

struct Walk<'a> {
    id: DocId,
    dialect: Dialect,
    bases: &'a mut Vec<(String, String)>,
    refs: &'a mut Vec<(String, String, String)>,
    resources: &'a mut HashMap<String, (DocId, String)>,
    anchors: &'a mut HashMap<String, (DocId, String)>,
    duplicates: &'a mut Vec<DuplicateId>,
}

/// Keywords whose value is an object of subschemas keyed by name.
pub fn holds_names(keyword: &str) -> bool {
    matches!(
        keyword,
        "properties" | "$defs" | "definitions" | "patternProperties" | "dependentSchemas"
    )
}

impl Walk<'_> {
    /// `names`: `v` is an object of named subschemas (its keys are not keywords).
    fn walk(&mut self, v: &Value, ptr: &str, base: &str, names: bool) {
        match v {
            Value::Object(map) if names => {
                for (k, child) in map {
                    self.walk(child, &format!("{ptr}/{}", escape(k)), base, false);
                }
            }
            Value::Object(map) => {
                let mut base = base.to_string();
                if let Some(id) = map.get("$id").and_then(Value::as_str) {
                    if self.dialect == Dialect::Draft7 && id.starts_with('#') {
                        self.anchors.insert(
                            format!("{}{id}", strip_fragment(&base)),
                            (self.id, ptr.to_string()),
                        );
                    } else if let Ok(abs) = resolve_uri(&base, id) {
                        base = strip_fragment(&abs).to_string();
                        let here = (self.id, ptr.to_string());
                        match self.resources.get(&base) {
                            Some(first) if *first != here => self.duplicates.push(DuplicateId {
                                doc: self.id,
                                pointer: ptr.to_string(),
                                uri: base.clone(),
                                first: first.clone(),
                            }),
                            Some(_) => {}
                            None => {
                                self.resources.insert(base.clone(), here);
                            }
                        }
                        self.bases.push((ptr.to_string(), base.clone()));
                    }
                } else if ptr.is_empty() {
                    self.bases.push((String::new(), base.clone()));
                }
                if let Some(a) = map.get("$anchor").and_then(Value::as_str) {
                    self.anchors.insert(
                        format!("{}#{a}", strip_fragment(&base)),
                        (self.id, ptr.to_string()),
                    );
                }
                if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                    self.refs
                        .push((base.clone(), r.to_string(), ptr.to_string()));
                }
                for (k, child) in map {
                    if matches!(k.as_str(), "enum" | "const" | "examples" | "default")
                        || k.starts_with("x-")
                    {
                        continue;
                    }
                    self.walk(
                        child,
                        &format!("{ptr}/{}", escape(k)),
                        &base,
                        holds_names(k),
                    );
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    self.walk(child, &format!("{ptr}/{i}"), base, false);
                }
            }
            _ => {}
        }
    }
}

fn resolve_uri(base: &str, reference: &str) -> Result<String, ()> {
    super::uri::resolve(base, reference).ok_or(())
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn mem_key(key: &Path) -> PathBuf {
    key.strip_prefix("/")
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| key.to_path_buf())
}

/// The `file:///` URI of a normalized absolute path (how documents without `$id` are named).
pub fn file_uri(key: &Path) -> String {
    let s = key.to_string_lossy().replace('\\', "/");
    let s = s.trim_start_matches('/');
    format!("file:///{}", s.replace('%', "%25").replace(' ', "%20"))
}

fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    Some(PathBuf::from(percent_decode(rest)))
}

fn strip_fragment(uri: &str) -> &str {
    uri.split_once('#').map(|(a, _)| a).unwrap_or(uri)
}

/// Relative reference from `base` to `target` when both share scheme and authority
/// (`https://h/a/b/c.json` → `https://h/x/y.json` gives `../../x/y.json`).
fn relative_ref(base: &str, target: &str) -> Option<String> {
    let split = |u: &str| -> Option<(String, Vec<String>)> {
        let (scheme, rest) = u.split_once("://")?;
        let (auth, path) = rest.split_once('/').unwrap_or((rest, ""));
        Some((
            format!("{scheme}://{auth}"),
            path.split('/').map(str::to_string).collect(),
        ))
    };
    let (bo, bp) = split(base)?;
    let (to, tp) = split(strip_fragment(target))?;
    if bo != to {
        return None;
    }
    let bdir = &bp[..bp.len().saturating_sub(1)];
    let common = bdir.iter().zip(&tp).take_while(|(a, b)| a == b).count();
    let mut out: Vec<String> = std::iter::repeat_n("..".to_string(), bdir.len() - common).collect();
    out.extend(tp[common..].iter().cloned());
    let mut s = out.join("/");
    if let Some((_, frag)) = target.split_once('#') {
        s.push('#');
        s.push_str(frag);
    }
    Some(s)
}
