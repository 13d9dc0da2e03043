//! One reader for JSON text. serde generates a type's reading code once per reader it is read
//! with, and `serde_json` has two: one over `&str`, one over bytes. Everything the worker reads
//! arrives as bytes (bodies, records, Twilio's answers), so text is read as bytes too, and the
//! wasm holds one copy of the parser and of each type's reading code: `serde_json::from_str`
//! beside `from_slice` was 1.1 KB of the gzipped wasm. Tests may use either.

use serde::Deserialize;

pub fn parse<'a, T: Deserialize<'a>>(text: &'a str) -> serde_json::Result<T> {
    serde_json::from_slice(text.as_bytes())
}
