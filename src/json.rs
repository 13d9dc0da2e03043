//! One reader for JSON text, and one way to read an object's fields.
//!
//! serde generates a type's reading code once per reader it is read with, and `serde_json` has
//! two: one over `&str`, one over bytes. Everything the worker reads arrives as bytes (bodies,
//! records, Twilio's answers), so text is read as bytes too, and the wasm holds one copy of the
//! parser and of each type's reading code: `serde_json::from_str` beside `from_slice` was 1.1 KB
//! of the gzipped wasm. Tests may use either.
//!
//! The records, bodies and answers the worker reads are objects, read with [`Fields`] rather
//! than `#[derive(Deserialize)]`: the derived code is a state machine per type (with a second
//! one for objects written as arrays, which no JSON here ever is), and the types' reading code
//! was most of what kept the gzipped wasm over its 150 KB target (README, *Size*). With
//! [`Fields`], each value is read by the reading code of its own type (`String`, a SID, a
//! status, a timestamp), which every object shares, and a type's own code is one call per field.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

pub fn parse<'a, T: Deserialize<'a>>(text: &'a str) -> serde_json::Result<T> {
    serde_json::from_slice(text.as_bytes())
}

/// A JSON object's fields, each value kept as its JSON text until it is read as its type.
/// Errors read as serde's derived ones do (``missing field `sid` ``, ``unknown field `x`,
/// expected …``, ``duplicate field `sid` ``), and a value of the wrong kind names its field.
pub struct Fields<'de> {
    fields: Vec<(Cow<'de, str>, &'de RawValue)>,
}

impl<'de> Fields<'de> {
    pub fn read<D: Deserializer<'de>>(deserializer: D) -> Result<Fields<'de>, D::Error> {
        deserializer.deserialize_map(FieldsVisitor)
    }

    fn raw(&self, name: &str) -> Option<&'de RawValue> {
        self.fields.iter().find(|(key, _)| key == name).map(|(_, raw)| *raw)
    }

    /// The field's JSON text as it stands, not read; absent or `null` is `None`.
    pub fn text(&self, name: &str) -> Option<&'de str> {
        self.raw(name).map(RawValue::get).filter(|text| *text != "null")
    }

    /// The field's value; an absent field is an error.
    pub fn required<T: Deserialize<'de>, E: de::Error>(&self, name: &'static str) -> Result<T, E> {
        match self.raw(name) {
            Some(raw) => value(name, raw.get()),
            None => Err(E::missing_field(name)),
        }
    }

    /// The field's value; absent or `null` is `None`.
    pub fn optional<T: Deserialize<'de>, E: de::Error>(&self, name: &'static str) -> Result<Option<T>, E> {
        self.text(name).map(|text| value(name, text)).transpose()
    }

    /// Refuses a field not in `known`.
    pub fn only<E: de::Error>(&self, known: &'static [&'static str]) -> Result<(), E> {
        match self.fields.iter().find(|(key, _)| !known.contains(&key.as_ref())) {
            Some((key, _)) => Err(E::unknown_field(key, known)),
            None => Ok(()),
        }
    }
}

/// A value written as a JSON string and read with its `FromStr`: a SID, a status, a time.
pub fn from_text<'de, D: Deserializer<'de>, T: FromStr<Err: fmt::Display>>(deserializer: D) -> Result<T, D::Error> {
    let Key(text) = Key::deserialize(deserializer)?;
    text.parse().map_err(de::Error::custom)
}

/// A unit enum written as its name, read against `names`, the names it is written with.
pub fn named<'de, D: Deserializer<'de>, T: Copy>(
    deserializer: D,
    names: &'static [(&'static str, T)],
) -> Result<T, D::Error> {
    let Key(text) = Key::deserialize(deserializer)?;
    match names.iter().find(|(name, _)| *name == text) {
        Some((_, value)) => Ok(*value),
        None => {
            let names: Vec<&str> = names.iter().map(|(name, _)| *name).collect();
            Err(de::Error::custom(format_args!("unknown value `{text}`: expected one of {}", names.join(", "))))
        }
    }
}

/// Reads a field's value; its error names the field.
fn value<'de, T: Deserialize<'de>, E: de::Error>(name: &str, text: &'de str) -> Result<T, E> {
    parse(text).map_err(|error| E::custom(field_error(name, &error)))
}

/// Kept out of line: every type read calls it, and only a bad value reaches it.
#[cold]
#[inline(never)]
fn field_error(name: &str, error: &serde_json::Error) -> String {
    // Without its position: that is the value's own (line 1, column n), not the document's.
    let message = error.to_string();
    let message = match message.rfind(" at line ") {
        Some(at) if error.line() > 0 => &message[..at],
        _ => &message,
    };
    format!("field `{name}`: {message}")
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
        let mut fields: Vec<(Cow<'de, str>, &'de RawValue)> = Vec::new();
        while let Some(Key(key)) = map.next_key()? {
            if fields.iter().any(|(seen, _)| *seen == key) {
                return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
            }
            fields.push((key, map.next_value()?));
        }
        Ok(Fields { fields })
    }
}

/// A string (a field's name, a SID), borrowed from the text unless it had escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(key)))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(key.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Reservation, StatusSource, Summary, TaskEnding};
    use crate::store::layout::TaskRecord;
    use crate::twilio::rest::TwilioErrorBody;

    /// A reader built on [`Fields`], with a required, an optional and a refused-unknown field.
    #[derive(Debug, PartialEq)]
    struct Body {
        status: String,
        count: Option<u32>,
    }

    impl<'de> Deserialize<'de> for Body {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let fields = Fields::read(deserializer)?;
            fields.only(&["status", "count"])?;
            Ok(Body { status: fields.required("status")?, count: fields.optional("count")? })
        }
    }

    fn read(text: &str) -> Result<Body, String> {
        parse::<Body>(text).map_err(|error| error.to_string())
    }

    #[test]
    fn reads_fields_in_any_order_with_escaped_names() {
        let body = Body { status: "accepted".into(), count: Some(3) };
        assert_eq!(read(r#"{"count":3,"status":"accepted"}"#), Ok(body));
        let escaped = Body { status: "a\"b".into(), count: None };
        assert_eq!(read(r#"{ "st\u0061tus" : "a\"b" }"#), Ok(escaped));
    }

    #[test]
    fn an_absent_or_null_optional_field_is_none() {
        assert_eq!(read(r#"{"status":"x"}"#).unwrap().count, None);
        assert_eq!(read(r#"{"status":"x","count":null}"#).unwrap().count, None);
    }

    #[test]
    fn a_field_can_be_kept_as_its_text() {
        let text = r#"{"metadata": {"n": 1.10, "s": "\u00e9"}, "none": null}"#;
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let fields = Fields::read(&mut deserializer).unwrap();
        assert_eq!(fields.text("metadata"), Some(r#"{"n": 1.10, "s": "\u00e9"}"#));
        assert_eq!(fields.text("none"), None);
        assert_eq!(fields.text("absent"), None);
    }

    #[test]
    fn errors_name_the_field_and_the_problem() {
        let missing = read(r#"{"count":1}"#).unwrap_err();
        assert!(missing.starts_with("missing field `status`"), "{missing}");
        let wrong = read(r#"{"status":5}"#).unwrap_err();
        assert_eq!(wrong, "field `status`: invalid type: integer `5`, expected a string");
        let range = read(r#"{"status":"x","count":-1}"#).unwrap_err();
        assert!(range.starts_with("field `count`: invalid value: integer `-1`"), "{range}");
        let unknown = read(r#"{"status":"x","cuont":1}"#).unwrap_err();
        assert!(unknown.starts_with("unknown field `cuont`, expected `status` or `count`"), "{unknown}");
        let twice = read(r#"{"status":"x","status":"y"}"#).unwrap_err();
        assert!(twice.starts_with("duplicate field `status`"), "{twice}");
        for not_an_object in [r#""x""#, "[]", "1", "null"] {
            let error = read(not_an_object).unwrap_err();
            assert!(error.contains("expected a JSON object"), "{not_an_object}: {error}");
        }
        assert!(read(r#"{"status":"x"} {}"#).unwrap_err().starts_with("trailing characters"));
    }

    #[test]
    fn enums_read_the_names_they_are_written_with() {
        for (name, ending) in TaskEnding::NAMES {
            assert_eq!(serde_json::to_string(ending).unwrap(), format!("\"{name}\""));
            assert_eq!(parse::<TaskEnding>(&format!("\"{name}\"")).unwrap(), *ending);
        }
        for (name, source) in StatusSource::NAMES {
            assert_eq!(serde_json::to_string(source).unwrap(), format!("\"{name}\""));
            assert_eq!(parse::<StatusSource>(&format!("\"{name}\"")).unwrap(), *source);
        }
        let error = parse::<TaskEnding>("\"ended\"").unwrap_err().to_string();
        assert!(error.starts_with("unknown value `ended`: expected one of canceled, completed, deleted"), "{error}");
    }

    #[test]
    fn what_is_written_reads_back() {
        let record = crate::models::reservation::tests::pending(r#"{"n": 1.10, "big": 123456789012345678901234}"#, 5);
        let text = serde_json::to_string(&record).unwrap();
        assert_eq!(parse::<Reservation>(&text).unwrap(), record);
        let summary = record.summary();
        assert_eq!(parse::<Summary>(&serde_json::to_string(&summary).unwrap()).unwrap(), summary);
        let task = TaskRecord { ended: Some(TaskEnding::Deleted), reservations: vec![record.reservation_sid] };
        assert_eq!(parse::<TaskRecord>(&serde_json::to_string(&task).unwrap()).unwrap(), task);
        assert_eq!(parse::<TaskRecord>("{}").unwrap(), TaskRecord::default());
        let twilio = TwilioErrorBody { code: Some(20404), message: None, more_info: Some("https://x".into()) };
        assert_eq!(parse::<TwilioErrorBody>(r#"{"code":20404,"more_info":"https://x","status":404}"#).unwrap(), twilio);
    }
}
