//! Task and worker attributes, kept as the JSON text TaskRouter sent.
//!
//! Parsing attributes into `serde_json::Value` would turn every number into an `f64` or a
//! 64-bit integer: `9007199254740993`, `-0`, `1e400` or `1.50` would not come back as sent.
//! So the text is kept as it came, and what a rule, a placeholder or a summary needs is read
//! from it: an object's members are split once, each kept as its exact text, the first time
//! anything looks into that object, and kept for every later look (a callback's twenty rules
//! read the task's attributes once).

use std::borrow::Cow;
use std::cell::OnceCell;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// The JSON object TaskRouter sent, as text; or, when the text is not a JSON object, the text as
/// it came (a callback is never refused for odd attributes).
#[derive(Clone, Debug)]
pub struct Attributes {
    text: Text,
    /// The top-level members, once something asked for them.
    members: OnceCell<Option<Object>>,
}

#[derive(Clone, Debug)]
enum Text {
    Json(Box<RawValue>),
    Raw(String),
}

/// Equal when the text is: what was read from it follows.
impl PartialEq for Attributes {
    fn eq(&self, other: &Self) -> bool {
        match (&self.text, &other.text) {
            (Text::Json(a), Text::Json(b)) => a.get() == b.get(),
            (Text::Raw(a), Text::Raw(b)) => a == b,
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

/// A JSON object's members, in key order (a repeated key keeps its last value, as serde_json
/// reads a map), each as its exact text.
#[derive(Clone, Debug)]
struct Object(Vec<(String, Member)>);

#[derive(Clone, Debug)]
struct Member {
    text: Box<RawValue>,
    /// The member's own members when it is an object, once a path stepped into it.
    members: OnceCell<Option<Object>>,
}

impl Object {
    /// `None` when `text` is not an object (the text was checked when it was kept).
    fn read(text: &str) -> Option<Object> {
        if !text.starts_with('{') {
            return None;
        }
        let Members(mut members) = serde_json::from_str(text).ok()?;
        // Sorted by key, the last of a repeated key first (the sort is stable): the one kept.
        members.reverse();
        members.sort_by(|(a, _), (b, _)| a.cmp(b));
        members.dedup_by(|(later, _), (kept, _)| later == kept);
        Some(Object(members))
    }

    fn get(&self, key: &str) -> Option<&Member> {
        let found = self.0.binary_search_by(|(name, _)| name.as_str().cmp(key)).ok()?;
        Some(&self.0[found].1)
    }
}

/// An object's members: read into a list in the order they came, then sorted once by key, so
/// that a lookup is a binary search.
struct Members(Vec<(String, Member)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((key, text)) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push((key, Member { text, members: OnceCell::new() }));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

impl Member {
    fn object(&self) -> Option<&Object> {
        self.members.get_or_init(|| Object::read(self.text.get())).as_ref()
    }
}

impl Attributes {
    pub fn parse(text: &str) -> Attributes {
        let object = text.trim_start().starts_with('{') && json_depth(text.as_bytes()) <= MAX_ATTRIBUTE_DEPTH;
        // `from_string` checks the text (strict RFC 8259) and keeps it without the whitespace
        // around it.
        match object.then(|| RawValue::from_string(text.to_owned())) {
            Some(Ok(raw)) => Attributes::from_text(Text::Json(raw)),
            _ => Attributes::from_text(Text::Raw(text.to_owned())),
        }
    }

    fn from_text(text: Text) -> Attributes {
        Attributes { text, members: OnceCell::new() }
    }

    /// The text of a JSON object's attributes, exactly as sent.
    pub fn json_text(&self) -> Option<&str> {
        match &self.text {
            Text::Json(raw) => Some(raw.get()),
            Text::Raw(_) => None,
        }
    }

    fn object(&self) -> Option<&Object> {
        self.members.get_or_init(|| Object::read(self.json_text()?)).as_ref()
    }

    /// The top-level members, each as its exact JSON text, in key order.
    pub fn members(&self) -> Option<impl Iterator<Item = (&str, &str)>> {
        Some(self.object()?.0.iter().map(|(key, member)| (key.as_str(), member.text.get())))
    }

    /// The value at a dotted path (`caller.tier`), as its JSON text; `None` when a step is
    /// missing or is not an object, or the value is `null`.
    pub fn raw_at<S: AsRef<str>>(&self, path: &[S]) -> Option<&str> {
        let (first, rest) = path.split_first()?;
        let mut found = self.object()?.get(first.as_ref())?;
        for step in rest {
            found = found.object()?.get(step.as_ref())?;
        }
        let text = found.text.get();
        (text != "null").then_some(text)
    }

    /// The value at a path, parsed, for comparisons.
    pub fn value_at<S: AsRef<str>>(&self, path: &[S]) -> Option<Value> {
        serde_json::from_str(self.raw_at(path)?).ok()
    }

    /// The value at a path as text for a placeholder: a string's characters, anything else its
    /// JSON text exactly as sent; `None` for a missing, `null` or empty value.
    pub fn text_at<S: AsRef<str>>(&self, path: &[S]) -> Option<String> {
        let text = shown(self.raw_at(path)?)?;
        (!text.is_empty()).then(|| text.into_owned())
    }

    /// Text that was not a JSON object, as it came.
    pub fn raw_text(&self) -> Option<&str> {
        match &self.text {
            Text::Raw(text) => Some(text),
            Text::Json(_) => None,
        }
    }
}

/// A member's JSON text as a person reads it, in a placeholder or a summary: a string's
/// characters, anything else its text exactly as sent. `None` only for a string that does not
/// decode, which checked attributes never hold.
pub fn shown(raw: &str) -> Option<Cow<'_, str>> {
    if raw.starts_with('"') {
        serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(raw))
    }
}

impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.text {
            Text::Json(raw) => raw.serialize(serializer),
            Text::Raw(text) => serializer.serialize_str(text),
        }
    }
}

/// A stored object is kept as its text; a stored string is the text that was not JSON.
impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        match raw.get().as_bytes().first() {
            Some(b'{') => Ok(Attributes::from_text(Text::Json(raw))),
            Some(b'"') => serde_json::from_str(raw.get())
                .map(|text| Attributes::from_text(Text::Raw(text)))
                .map_err(de::Error::custom),
            _ => Err(de::Error::custom("attributes must be a JSON object or text")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const EXACT: &str = r#"{"big":9007199254740993,"huge":123456789012345678901234567890,"u":18446744073709551615,"f":0.1,"neg0":-0,"exp":1e400,"e":1.5E-7,"trail":1.50}"#;

    fn is_json(attributes: &Attributes) -> bool {
        attributes.json_text().is_some()
    }

    #[test]
    fn every_number_round_trips_exactly() {
        let attributes = Attributes::parse(EXACT);
        assert_eq!(attributes.json_text(), Some(EXACT));
        let written = serde_json::to_string(&attributes).unwrap();
        assert_eq!(written, EXACT);
        let read: Attributes = serde_json::from_str(&written).unwrap();
        assert_eq!(read, attributes);
        assert_eq!(serde_json::to_string(&read).unwrap(), EXACT);
        assert_eq!(read.raw_at(&["exp"]), Some("1e400"), "read from the stored text, exactly");
    }

    #[test]
    fn text_that_is_not_a_json_object_is_kept_as_text() {
        for odd in ["not json", "[1,2]", "\"text\"", "", "{\"unclosed\":", "12"] {
            let attributes = Attributes::parse(odd);
            assert_eq!(attributes.raw_text(), Some(odd), "{odd}");
            let written = serde_json::to_string(&attributes).unwrap();
            assert_eq!(serde_json::from_str::<Attributes>(&written).unwrap(), attributes);
        }
    }

    #[test]
    fn attributes_too_deep_for_a_record_are_kept_as_text() {
        let nested = |depth: usize| format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        assert!(is_json(&Attributes::parse(&nested(MAX_ATTRIBUTE_DEPTH))));
        let deep = nested(126);
        assert_eq!(Attributes::parse(&deep).raw_text(), Some(deep.as_str()));
        assert_eq!(json_depth(br#"{"a":"[[[{{","b":[{}]}"#), 3);
        assert_eq!(json_depth(br#"["\"[["]"#), 1);
        #[derive(Serialize, Deserialize)]
        struct Record {
            task_attributes: Attributes,
        }
        let record = Record { task_attributes: Attributes::parse(&nested(MAX_ATTRIBUTE_DEPTH)) };
        let text = serde_json::to_string(&record).unwrap();
        let read: Record =
            serde_json::from_str(&text).expect("a record holding the deepest JSON attributes reads back");
        assert!(read.task_attributes == record.task_attributes);
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
        assert_eq!(Attributes::parse("x").text_at(&["x"]), None);
    }

    #[test]
    fn an_object_is_split_once_however_often_it_is_read() {
        let attributes = Attributes::parse(r#"{"caller":{"tier":"gold"},"type":"voice"}"#);
        assert!(attributes.members.get().is_none(), "nothing is read until asked");
        let first = attributes.object().map(std::ptr::from_ref);
        for _ in 0..20 {
            assert_eq!(attributes.text_at(&["caller", "tier"]).as_deref(), Some("gold"));
        }
        assert_eq!(attributes.object().map(std::ptr::from_ref), first, "the same split members, kept");
        let caller = attributes.object().unwrap().get("caller").unwrap();
        assert!(caller.members.get().is_some(), "the nested object was split once, and kept");
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value_as_serde_json_reads_a_map() {
        let attributes = Attributes::parse(r#"{"a":1,"a":2}"#);
        assert_eq!(attributes.raw_at(&["a"]), Some("2"));
        assert_eq!(attributes.members().unwrap().collect::<Vec<_>>(), [("a", "2")]);
    }
}
