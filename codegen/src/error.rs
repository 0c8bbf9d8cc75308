//! The generator's error type.
//!
//! Every error a schema author can cause names the file, the JSON pointer inside it and what
//! is wrong, and displays as `path#/json/pointer: message` (plus ` (line L, column C)` when
//! the position is known). Messages never quote instance data: schemas are code, but their
//! `examples` may hold realistic personal data, so example values are never echoed.

use std::fmt;
use std::path::{Path, PathBuf};

/// What kind of problem an [`Error`] reports; the CLI maps it to an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A file or directory could not be read or written (exit code 2 in the CLI).
    Io,
    /// The builder was misconfigured, e.g. no input set or `OUT_DIR` missing (exit code 2).
    Config,
    /// A schema is malformed, unsupported or inconsistent (exit code 1).
    Schema,
}

/// A generation failure located at `file#pointer`.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    file: PathBuf,
    pointer: String,
    message: String,
    position: Option<(usize, usize)>,
}

impl Error {
    /// A schema problem at `pointer` inside `file`.
    pub(crate) fn schema(file: &Path, pointer: &str, message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Schema,
            file: file.to_path_buf(),
            pointer: pointer.to_owned(),
            message: message.into(),
            position: None,
        }
    }

    /// An I/O problem with `file`.
    pub(crate) fn io(file: &Path, err: &std::io::Error) -> Self {
        Error {
            kind: ErrorKind::Io,
            file: file.to_path_buf(),
            pointer: String::new(),
            message: err.to_string(),
            position: None,
        }
    }

    /// A configuration problem (no file involved).
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Config,
            file: PathBuf::new(),
            pointer: String::new(),
            message: message.into(),
            position: None,
        }
    }

    pub(crate) fn with_position(mut self, position: Option<(usize, usize)>) -> Self {
        self.position = position;
        self
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The file the problem is in (empty for configuration errors).
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// JSON pointer into [`Error::file`] (empty for the document root).
    pub fn pointer(&self) -> &str {
        &self.pointer
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// 1-based (line, column) of the pointer's target in the file, when known.
    pub fn position(&self) -> Option<(usize, usize)> {
        self.position
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == ErrorKind::Config {
            return write!(f, "{}", self.message);
        }
        write!(
            f,
            "{}#{}: {}",
            self.file.display(),
            self.pointer,
            self.message
        )?;
        if let Some((line, column)) = self.position {
            write!(f, " (line {line}, column {column})")?;
        }
        Ok(())
    }
}

/// Same as `Display`, so `fn main() -> Result<(), Box<dyn Error>>` in `build.rs` prints a
/// readable `path#/pointer: message` line.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

/// Shorthand for results carrying [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
