//! Checking JSON text, and naming a value in an error.
//!
//! The grammar is `serde_json`'s: its reader skipping a value (`IgnoredAny`) checks it exactly as
//! `serde_json` reads JSON (strict RFC 8259), without building anything and without any typed
//! reading, which is what linked core's float formatting (README, *Size*). Its errors are
//! `serde_json`'s own words: ``expected value at line 1 column 1``, ``trailing characters …``.

use serde::de::IgnoredAny;

use super::Error;
use super::walk::{self, Token};

/// The deepest nesting a `Value` is read to: serde_json's own limit (127 levels; a test holds the
/// two together), which the worker's limits are set against (`MAX_ATTRIBUTE_DEPTH`). Checking
/// and walking a text need no limit: neither recurses.
pub const MAX_DEPTH: usize = 127;

/// The text's one value, exactly as written (without the whitespace around it); an error when
/// the text is not one JSON value.
pub fn whole_value(text: &str) -> Result<&str, Error> {
    serde_json::from_str::<IgnoredAny>(text).map_err(|error| Error::new(error.to_string()))?;
    Ok(walk::trim(text))
}

/// A value as serde's messages name one (`integer `5``, `string "x"`, `map`), from its text:
/// no number is converted to be named.
pub fn describe(token: &Token<'_>) -> String {
    match token {
        Token::String(text) => format!("string {text:?}"),
        Token::Number(text) if text.contains(['.', 'e', 'E']) => format!("floating point `{text}`"),
        Token::Number(text) => format!("integer `{text}`"),
        Token::Bool(value) => format!("boolean `{value}`"),
        Token::Null => "null".to_owned(),
        Token::Array => "sequence".to_owned(),
        Token::Object => "map".to_owned(),
    }
}
