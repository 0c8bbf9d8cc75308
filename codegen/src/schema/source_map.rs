//! JSON source map: JSON pointer → `line:col` in the text a document was parsed from. The one
//! pointer-to-position scanner of the crate: generator errors, compat findings and lint use it.
//!
//! A small hand-written scanner instead of a spanned-JSON crate: it only has to walk text that
//! `serde_json` already accepted, so it trusts the grammar and records, for every value, the
//! position where it starts. For object members the recorded position is that of the member's
//! key (the line a reviewer looks at when a property changed). Lines and columns are 1-based;
//! columns count characters, not bytes.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Position of one JSON value in its source text (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
}

/// Maps JSON pointers (RFC 6901, `""` for the root) to source positions.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    /// The text, kept until the first position is asked for ([`SourceMap::lazy`]).
    text: Option<Arc<str>>,
    positions: Arc<OnceLock<HashMap<String, Position>>>,
}

impl SourceMap {
    /// Scans `text` (which must be valid JSON) and records every value's position.
    pub fn build(text: &str) -> SourceMap {
        let positions = OnceLock::new();
        let _ = positions.set(Self::scan(text));
        SourceMap {
            text: None,
            positions: Arc::new(positions),
        }
    }

    /// Like [`SourceMap::build`], but scans only when a position is first asked for (loading
    /// a catalog pays nothing for the positions its errors never need).
    pub fn lazy(text: &str) -> SourceMap {
        SourceMap {
            text: Some(Arc::from(text)),
            positions: Arc::new(OnceLock::new()),
        }
    }

    fn scan(text: &str) -> HashMap<String, Position> {
        let mut s = Scanner {
            chars: text.chars().collect(),
            i: 0,
            line: 1,
            col: 1,
            map: HashMap::new(),
        };
        s.ws();
        s.value(String::new(), None);
        s.map
    }

    /// Position of the value at `pointer`, or of its nearest ancestor that has one.
    pub fn position(&self, pointer: &str) -> Position {
        let positions = self
            .positions
            .get_or_init(|| self.text.as_deref().map(Self::scan).unwrap_or_default());
        let mut p = pointer;
        loop {
            if let Some(pos) = positions.get(p) {
                return *pos;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return Position { line: 1, col: 1 },
            }
        }
    }
}

struct Scanner {
    chars: Vec<char>,
    i: usize,
    line: usize,
    col: usize,
    map: HashMap<String, Position>,
}

impl Scanner {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.bump();
        }
    }
    fn pos(&self) -> Position {
        Position {
            line: self.line,
            col: self.col,
        }
    }

    /// `at` is the position to record (the member key's) when it differs from the value's.
    fn value(&mut self, pointer: String, at: Option<Position>) {
        let here = self.pos();
        self.map.insert(pointer.clone(), at.unwrap_or(here));
        match self.peek() {
            Some('{') => {
                self.bump();
                self.ws();
                if self.peek() == Some('}') {
                    self.bump();
                    return;
                }
                loop {
                    self.ws();
                    let key_pos = self.pos();
                    let key = self.string();
                    self.ws();
                    if self.peek() == Some(':') {
                        self.bump();
                    }
                    self.ws();
                    let child = format!("{pointer}/{}", escape(&key));
                    self.value(child, Some(key_pos));
                    self.ws();
                    match self.bump() {
                        Some(',') => continue,
                        _ => return,
                    }
                }
            }
            Some('[') => {
                self.bump();
                self.ws();
                if self.peek() == Some(']') {
                    self.bump();
                    return;
                }
                let mut idx = 0usize;
                loop {
                    self.ws();
                    self.value(format!("{pointer}/{idx}"), None);
                    idx += 1;
                    self.ws();
                    match self.bump() {
                        Some(',') => continue,
                        _ => return,
                    }
                }
            }
            Some('"') => {
                self.string();
            }
            _ => {
                while let Some(c) = self.peek() {
                    if matches!(c, ',' | '}' | ']' | ' ' | '\t' | '\n' | '\r') {
                        break;
                    }
                    self.bump();
                }
            }
        }
    }

    /// Reads a JSON string literal and returns its decoded content.
    fn string(&mut self) -> String {
        let mut out = String::new();
        if self.peek() != Some('"') {
            return out;
        }
        self.bump();
        while let Some(c) = self.bump() {
            match c {
                '"' => break,
                '\\' => match self.bump() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('b') => out.push('\u{8}'),
                    Some('f') => out.push('\u{c}'),
                    Some('u') => {
                        let hex: String = (0..4).filter_map(|_| self.bump()).collect();
                        let code = u32::from_str_radix(&hex, 16).unwrap_or(0xFFFD);
                        if (0xD800..0xDC00).contains(&code) && self.peek() == Some('\\') {
                            self.bump();
                            self.bump();
                            let lo: String = (0..4).filter_map(|_| self.bump()).collect();
                            let lo = u32::from_str_radix(&lo, 16).unwrap_or(0xDC00);
                            let c = 0x10000
                                + ((code - 0xD800) << 10)
                                + (lo.wrapping_sub(0xDC00) & 0x3FF);
                            out.push(char::from_u32(c).unwrap_or('\u{FFFD}'));
                        } else {
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                        }
                    }
                    Some(other) => out.push(other),
                    None => break,
                },
                other => out.push(other),
            }
        }
        out
    }
}

/// Escapes one reference token for a JSON pointer (RFC 6901).
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_members_and_items() {
        let text = "{\n  \"a\": 1,\n  \"b/c\": [true,\n    {\"x\": \"é\"}]\n}";
        let m = SourceMap::build(text);
        assert_eq!(m.position(""), Position { line: 1, col: 1 });
        assert_eq!(m.position("/a"), Position { line: 2, col: 3 });
        assert_eq!(m.position("/b~1c"), Position { line: 3, col: 3 });
        assert_eq!(m.position("/b~1c/0"), Position { line: 3, col: 11 });
        assert_eq!(m.position("/b~1c/1/x"), Position { line: 4, col: 6 });
        // Unknown pointers fall back to the nearest ancestor.
        assert_eq!(m.position("/a/zzz"), Position { line: 2, col: 3 });
        let lazy = SourceMap::lazy(text);
        assert_eq!(lazy.position("/b~1c/1/x"), Position { line: 4, col: 6 });
    }
}
