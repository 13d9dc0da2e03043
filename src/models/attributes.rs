//! Task and worker attributes, kept as the JSON text TaskRouter sent.
//!
//! Parsing attributes into `serde_json::Value` would turn every number into an `f64` or a
//! 64-bit integer: `9007199254740993`, `-0`, `1e400` or `1.50` would not come back as sent.
//! So the text is kept as it came, and only the parts a rule or a placeholder needs are read
//! from it, one object level at a time.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::json::{self, FromJson, Raw};

/// The JSON object TaskRouter sent, as text; or, when the text is not a JSON object, the text as
/// it came (a callback is never refused for odd attributes).
#[derive(Clone, Debug)]
pub enum Attributes {
    Json(Box<RawValue>),
    Raw(String),
}

impl PartialEq for Attributes {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Attributes::Json(a), Attributes::Json(b)) => a.get() == b.get(),
            (Attributes::Raw(a), Attributes::Raw(b)) => a == b,
            _ => false,
        }
    }
}

/// The deepest attributes kept as JSON. A stored record nests them one level further, and
/// serde_json reads at most 128 levels: deeper attributes are kept as their text, so every
/// record stays readable.
pub const MAX_ATTRIBUTE_DEPTH: usize = 100;

/// How deeply JSON text nests arrays and objects (brackets inside strings do not count).
pub fn json_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for byte in bytes {
        match (in_string, escaped, byte) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') => in_string = false,
            (true, false, _) => {}
            (false, _, b'"') => in_string = true,
            (false, _, b'{' | b'[') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (false, _, b'}' | b']') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// An object's members, each still as its JSON text, in key order.
pub type Members<'a> = BTreeMap<String, Raw<'a>>;

/// `text` is an `Attributes::Json` text or a member of one: checked when it was kept, so it is
/// only walked here.
fn members(text: &str) -> Option<Members<'_>> {
    text.starts_with('{').then(|| Members::from_json(text).ok()).flatten()
}

impl Attributes {
    pub fn parse(text: &str) -> Attributes {
        let object = text.trim_start().starts_with('{') && json_depth(text.as_bytes()) <= MAX_ATTRIBUTE_DEPTH;
        match object.then(|| Attributes::json(text)) {
            Some(Ok(attributes)) => attributes,
            _ => Attributes::Raw(text.to_owned()),
        }
    }

    /// A JSON object's text, kept as it is once its grammar is checked.
    fn json(text: &str) -> Result<Attributes, json::Error> {
        let value = json::whole_value(text)?;
        // SAFETY: `RawValue` asks for a single well-formed JSON value without surrounding
        // whitespace, which `json::whole_value` just checked (strict RFC 8259) and cut out.
        // `RawValue::from_string` would check it again with serde_json's reader and link it into
        // the worker (README, *Size*); debug builds, and so the tests, still re-check it so.
        Ok(Attributes::Json(unsafe { RawValue::from_string_unchecked(value.to_owned()) }))
    }

    /// The text of a JSON object's attributes, exactly as sent.
    pub fn json_text(&self) -> Option<&str> {
        match self {
            Attributes::Json(raw) => Some(raw.get()),
            Attributes::Raw(_) => None,
        }
    }

    /// The top-level members, for summaries.
    pub fn members(&self) -> Option<Members<'_>> {
        members(self.json_text()?)
    }

    /// The value at a dotted path (`caller.tier`), as its JSON text; `None` when a step is
    /// missing or is not an object, or the value is `null`.
    pub fn raw_at<'a, S: AsRef<str>>(&'a self, path: &[S]) -> Option<Raw<'a>> {
        let (first, rest) = path.split_first()?;
        let mut found: Raw<'a> = *members(self.json_text()?)?.get(first.as_ref())?;
        for step in rest {
            found = *members(found.get())?.get(step.as_ref())?;
        }
        (found.get() != "null").then_some(found)
    }

    /// The value at a path, parsed, for comparisons.
    pub fn value_at<S: AsRef<str>>(&self, path: &[S]) -> Option<Value> {
        crate::json::parse(self.raw_at(path)?.get()).ok()
    }

    /// The value at a path as text for a placeholder: a string's characters, anything else its
    /// JSON text exactly as sent; `None` for a missing, `null` or empty value.
    pub fn text_at<S: AsRef<str>>(&self, path: &[S]) -> Option<String> {
        let text = shown(self.raw_at(path)?.get())?;
        (!text.is_empty()).then(|| text.into_owned())
    }
}

/// A member's JSON text as a person reads it, in a placeholder or a summary: a string's
/// characters, anything else its text exactly as sent. `None` only for a string that does not
/// decode, which checked attributes never hold.
pub fn shown(raw: &str) -> Option<Cow<'_, str>> {
    if raw.starts_with('"') { crate::json::parse::<String>(raw).ok().map(Cow::Owned) } else { Some(Cow::Borrowed(raw)) }
}

impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Attributes::Json(raw) => raw.serialize(serializer),
            Attributes::Raw(text) => serializer.serialize_str(text),
        }
    }
}

/// A stored object is kept as its text; a stored string is the text that was not JSON.
impl<'a> FromJson<'a> for Attributes {
    fn from_json(text: &'a str) -> Result<Self, json::Error> {
        match text.as_bytes().first() {
            Some(b'{') => Attributes::json(text),
            Some(b'"') => String::from_json(text).map(Attributes::Raw),
            _ => Err(json::Error::new("attributes must be a JSON object or text")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const EXACT: &str = r#"{"big":9007199254740993,"huge":123456789012345678901234567890,"u":18446744073709551615,"f":0.1,"neg0":-0,"exp":1e400,"e":1.5E-7,"trail":1.50}"#;

    #[test]
    fn every_number_round_trips_exactly() {
        let attributes = Attributes::parse(EXACT);
        assert_eq!(attributes.json_text(), Some(EXACT));
        let written = serde_json::to_string(&attributes).unwrap();
        assert_eq!(written, EXACT);
        let read: Attributes = json::parse(&written).unwrap();
        assert_eq!(read, attributes);
        assert_eq!(serde_json::to_string(&read).unwrap(), EXACT);
    }

    #[test]
    fn text_that_is_not_a_json_object_is_kept_as_text() {
        for odd in ["not json", "[1,2]", "\"text\"", "", "{\"unclosed\":", "12"] {
            let attributes = Attributes::parse(odd);
            assert_eq!(attributes, Attributes::Raw(odd.to_owned()), "{odd}");
            let written = serde_json::to_string(&attributes).unwrap();
            assert_eq!(json::parse::<Attributes>(&written).unwrap(), attributes);
        }
    }

    #[test]
    fn attributes_too_deep_for_a_record_are_kept_as_text() {
        let nested = |depth: usize| format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        assert!(matches!(Attributes::parse(&nested(MAX_ATTRIBUTE_DEPTH)), Attributes::Json(_)));
        let deep = nested(126);
        assert_eq!(Attributes::parse(&deep), Attributes::Raw(deep.clone()));
        assert_eq!(json_depth(br#"{"a":"[[[{{","b":[{}]}"#), 3);
        assert_eq!(json_depth(br#"["\"[["]"#), 1);
        #[derive(Serialize)]
        struct Record {
            task_attributes: Attributes,
        }
        let record = Record { task_attributes: Attributes::parse(&nested(MAX_ATTRIBUTE_DEPTH)) };
        let text = serde_json::to_string(&record).unwrap();
        let read = json::Fields::parse(&text).and_then(|fields| fields.required::<Attributes>("task_attributes"));
        assert_eq!(read, Ok(record.task_attributes), "a record holding the deepest JSON attributes reads back");
    }

    #[test]
    fn paths_reach_into_objects_and_keep_numbers_as_sent() {
        let attributes =
            Attributes::parse(r#"{"caller":{"tier":"gold","id":9007199254740993},"n":null,"e":"","list":[1, 2]}"#);
        assert_eq!(attributes.text_at(&["caller", "tier"]).as_deref(), Some("gold"));
        assert_eq!(attributes.text_at(&["caller", "id"]).as_deref(), Some("9007199254740993"));
        assert_eq!(attributes.text_at(&["list"]).as_deref(), Some("[1, 2]"));
        assert_eq!(attributes.value_at(&["caller", "tier"]), Some(json!("gold")));
        for missing in [&["n"][..], &["e"], &["caller", "nope"], &["caller", "tier", "deeper"], &["nope"]] {
            assert_eq!(attributes.text_at(missing), None, "{missing:?}");
        }
        assert_eq!(attributes.value_at(&["e"]), Some(json!("")), "an empty string is a value for comparisons");
        assert_eq!(Attributes::Raw("x".into()).text_at(&["x"]), None);
    }
}
