//! An object read field by field: each value kept as its exact JSON text until it is read as
//! its type, so a type's reader is one call per field, and a value can be kept as sent.

use std::borrow::Cow;

use super::walk::{self, scalar};
use super::{Error, FromJson, invalid_type};

/// A JSON object's fields. Errors read as serde's derived ones do (``missing field `sid` ``,
/// ``unknown field `x`, expected …``, ``duplicate field `sid` ``), and a value of the wrong
/// kind names its field.
pub struct Fields<'a> {
    fields: Vec<(Cow<'a, str>, &'a str)>,
}

impl<'a> Fields<'a> {
    /// Reads an object's members; `text` is checked JSON (as every [`FromJson`] reader's is).
    pub fn parse(text: &'a str) -> Result<Fields<'a>, Error> {
        let mut fields: Vec<(Cow<'a, str>, &'a str)> = Vec::new();
        let object = walk::members(text, |key, value| {
            if fields.iter().any(|(seen, _)| *seen == key) {
                return Err(Error::new(format!("duplicate field `{key}`")));
            }
            fields.push((key, value));
            Ok(())
        })?;
        if !object {
            return Err(invalid_type(&scalar(text)?, "a JSON object"));
        }
        Ok(Fields { fields })
    }

    /// The field's JSON text as it stands, not read; absent or `null` is `None`.
    pub fn text(&self, name: &str) -> Option<&'a str> {
        self.fields.iter().find(|(key, _)| key == name).map(|(_, text)| *text).filter(|text| *text != "null")
    }

    /// The field's value; an absent field is an error.
    pub fn required<T: FromJson<'a>>(&self, name: &'static str) -> Result<T, Error> {
        match self.fields.iter().find(|(key, _)| key == name) {
            Some((_, text)) => value(name, text),
            None => Err(Error::new(format!("missing field `{name}`"))),
        }
    }

    /// The field's value; absent or `null` is `None`.
    pub fn optional<T: FromJson<'a>>(&self, name: &'static str) -> Result<Option<T>, Error> {
        self.text(name).map(|text| value(name, text)).transpose()
    }

    /// Refuses a field not in `known`.
    pub fn only(&self, known: &'static [&'static str]) -> Result<(), Error> {
        match self.fields.iter().find(|(key, _)| !known.contains(&key.as_ref())) {
            Some((key, _)) => Err(unknown_field(key, known)),
            None => Ok(()),
        }
    }
}

/// Reads a field's value; its error names the field.
fn value<'a, T: FromJson<'a>>(name: &str, text: &'a str) -> Result<T, Error> {
    T::from_json(text).map_err(|error| field_error(name, error))
}

/// Kept out of line: every type read calls it, and only a bad value reaches it.
#[cold]
#[inline(never)]
fn field_error(name: &str, error: Error) -> Error {
    Error::new(format!("field `{name}`: {error}"))
}

/// serde's words for it: ``unknown field `x`, expected `a` or `b` ``.
#[cold]
#[inline(never)]
fn unknown_field(key: &str, known: &[&str]) -> Error {
    let quoted: Vec<String> = known.iter().map(|name| format!("`{name}`")).collect();
    let expected = match quoted.as_slice() {
        [] => "there are no fields".to_owned(),
        [one] => format!("expected {one}"),
        [a, b] => format!("expected {a} or {b}"),
        many => format!("expected one of {}", many.join(", ")),
    };
    Error::new(format!("unknown field `{key}`, {expected}"))
}
