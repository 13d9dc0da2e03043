//! Finding one's way in JSON text that is already checked.
//!
//! `json::parse` checks a text's grammar once (`reader.rs`). Reading it as its type then only
//! needs to find where each member or item starts and ends, what each key and string says, and
//! what kind of value each is; that is done here, byte by byte, checking nothing but what it
//! needs not to go wrong: text that is not JSON gets an error, never a panic, never a loop.

use std::borrow::Cow;

use super::Error;

/// A value as a reader first sees it: a string, number or literal as itself, an array or object
/// by its kind.
#[derive(Debug, PartialEq)]
pub enum Token<'a> {
    String(Cow<'a, str>),
    Number(&'a str),
    Bool(bool),
    Null,
    Array,
    Object,
}

/// A position in checked JSON text.
struct Walk<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Walk<'a> {
    fn new(text: &'a str) -> Walk<'a> {
        Walk { text, at: 0 }
    }

    fn skip_whitespace(&mut self) {
        while self.text.as_bytes().get(self.at).is_some_and(|byte| is_whitespace(char::from(*byte))) {
            self.at += 1;
        }
    }

    /// The next byte that is not whitespace, not taken.
    fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.text.as_bytes().get(self.at).copied()
    }

    /// Takes `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.at += usize::from(found);
        found
    }

    /// Takes the next value, and answers its exact text.
    fn value(&mut self) -> Result<&'a str, Error> {
        self.skip_whitespace();
        let bytes = self.text.as_bytes();
        let start = self.at;
        match bytes.get(start) {
            Some(b'"') => self.at = string_end(bytes, start)?,
            Some(b'{' | b'[') => {
                // Only brackets and strings matter until the one that closes this value.
                let mut depth = 0usize;
                loop {
                    let next = bytes.get(self.at..).and_then(|rest| rest.iter().position(|b| b"\"{}[]".contains(b)));
                    self.at += next.ok_or_else(unchecked)?;
                    match bytes[self.at] {
                        b'"' => self.at = string_end(bytes, self.at)?,
                        b'{' | b'[' => {
                            depth += 1;
                            self.at += 1;
                        }
                        _ => {
                            depth -= 1;
                            self.at += 1;
                            if depth == 0 {
                                break;
                            }
                        }
                    }
                }
            }
            _ => {
                let rest = bytes.get(start..).unwrap_or_default();
                self.at += rest.iter().position(|b| b",}] \t\n\r".contains(b)).unwrap_or(rest.len());
            }
        }
        self.text.get(start..self.at).filter(|value| !value.is_empty()).ok_or_else(unchecked)
    }

    /// Takes the next key of an object and its colon: the key's text, unescaped.
    fn key(&mut self) -> Result<Cow<'a, str>, Error> {
        if self.peek() != Some(b'"') {
            return Err(unchecked());
        }
        let token = self.value()?;
        if !self.eat(b':') {
            return Err(unchecked());
        }
        string(token)
    }

    /// After a member or item: `true` when another follows, `false` at `close`.
    fn more(&mut self, close: u8) -> Result<bool, Error> {
        if self.eat(b',') {
            Ok(true)
        } else if self.eat(close) {
            Ok(false)
        } else {
            Err(unchecked())
        }
    }
}

/// Each member of the object `text` is, in order: its key, unescaped, and its exact text.
/// `Ok(false)` when `text` is not an object.
pub fn members<'a>(
    text: &'a str,
    mut each: impl FnMut(Cow<'a, str>, &'a str) -> Result<(), Error>,
) -> Result<bool, Error> {
    entries(text, b'{', b'}', |walk| {
        let key = walk.key()?;
        each(key, walk.value()?)
    })
}

/// Each item of the array `text` is, in order, as its exact text. `Ok(false)` when `text` is
/// not an array.
pub fn items<'a>(text: &'a str, mut each: impl FnMut(&'a str) -> Result<(), Error>) -> Result<bool, Error> {
    entries(text, b'[', b']', |walk| each(walk.value()?))
}

/// The entries between `open` and `close`, each taken by `entry`.
fn entries<'a>(
    text: &'a str,
    open: u8,
    close: u8,
    mut entry: impl FnMut(&mut Walk<'a>) -> Result<(), Error>,
) -> Result<bool, Error> {
    let mut walk = Walk::new(text);
    if !walk.eat(open) {
        return Ok(false);
    }
    if walk.eat(close) {
        return Ok(true);
    }
    loop {
        entry(&mut walk)?;
        if !walk.more(close)? {
            return Ok(true);
        }
    }
}

/// Where the string token starting at `start` (its opening quote) ends, after its closing quote.
fn string_end(bytes: &[u8], start: usize) -> Result<usize, Error> {
    let mut at = start + 1;
    loop {
        let rest = bytes.get(at..).ok_or_else(unchecked)?;
        at += rest.iter().position(|b| *b == b'"' || *b == b'\\').ok_or_else(unchecked)?;
        match bytes[at] {
            b'"' => return Ok(at + 1),
            _ => at += 2,
        }
    }
}

/// A string token's characters: borrowed when there is nothing to unescape.
pub fn string(token: &str) -> Result<Cow<'_, str>, Error> {
    let inner = token.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')).ok_or_else(unchecked)?;
    if !inner.contains('\\') {
        return Ok(Cow::Borrowed(inner));
    }
    let mut text = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        text.push(match chars.next().ok_or_else(unchecked)? {
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let unit = hex4(&mut chars)?;
                match unit {
                    0xD800..=0xDBFF => {
                        // A surrogate pair. A lone one passes the check (serde_json keeps it in a
                        // raw value) but is refused when read as text, as serde_json refuses it.
                        let rest = chars.as_str();
                        let low = rest.strip_prefix("\\u").and_then(|hex| u32::from_str_radix(hex.get(..4)?, 16).ok());
                        match low {
                            Some(low @ 0xDC00..=0xDFFF) => {
                                chars = rest[6..].chars();
                                char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                                    .ok_or_else(unchecked)?
                            }
                            _ => return Err(lone_surrogate()),
                        }
                    }
                    0xDC00..=0xDFFF => return Err(lone_surrogate()),
                    _ => char::from_u32(unit).ok_or_else(unchecked)?,
                }
            }
            other => other,
        });
    }
    Ok(Cow::Owned(text))
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Result<u32, Error> {
    let hex = chars.as_str().get(..4).ok_or_else(unchecked)?;
    let unit = u32::from_str_radix(hex, 16).map_err(|_| unchecked())?;
    *chars = chars.as_str()[4..].chars();
    Ok(unit)
}

/// The one value `text` holds: a string, number or literal as itself, an array or object by its
/// kind.
pub fn scalar(text: &str) -> Result<Token<'_>, Error> {
    let text = trim(text);
    Ok(match text.as_bytes().first() {
        Some(b'"') => Token::String(string(text)?),
        Some(b'[') => Token::Array,
        Some(b'{') => Token::Object,
        Some(b'-' | b'0'..=b'9') => Token::Number(text),
        _ if text == "true" => Token::Bool(true),
        _ if text == "false" => Token::Bool(false),
        _ if text == "null" => Token::Null,
        _ => return Err(unchecked()),
    })
}

/// JSON's whitespace (RFC 8259, section 2): space, tab, line feed, carriage return.
fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// `text` without the JSON whitespace around it.
pub fn trim(text: &str) -> &str {
    text.trim_matches(is_whitespace)
}

#[cold]
#[inline(never)]
fn lone_surrogate() -> Error {
    Error::new("lone surrogate in a \\u escape")
}

/// Text that reached a reader without `json::parse` checking it first, and is not JSON.
#[cold]
#[inline(never)]
fn unchecked() -> Error {
    Error::new("not JSON text")
}
