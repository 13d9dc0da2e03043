//! Reading JSON: one reader for every text the worker reads, and one way to read an object.
//!
//! The worker does not read JSON through serde's typed reading. `serde_json`'s typed reader,
//! once any value is read with it, links core's float formatting (9.5 KB of the gzipped wasm)
//! for the message a wrong-typed float would get, and with its per-type visitors kept the wasm
//! over its 150 KiB target (README, *Size*). Here a text is checked once by `serde_json`'s own
//! grammar without a typed read (`reader.rs`), then walked (`walk.rs`): every number stays text
//! until a type reads it, and a type's reader is a [`FromJson`] impl: objects through
//! [`Fields`], one call per field; texts through [`from_text`] (SIDs, statuses, times: their
//! `FromStr`); names through [`named`].
//!
//! Writing stays with serde and `serde_json`. Readers that go through serde (the CLI, tests) get
//! each type's one reader through [`deserialize_via_text`].

mod fields;
mod reader;
mod walk;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Number, Value};

pub use fields::Fields;
use reader::describe;
pub use reader::{MAX_DEPTH, whole_value};
use walk::{Token, scalar};

/// What is wrong with a JSON text, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    pub fn new(message: impl Into<String>) -> Error {
        Error(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// A value kept as its exact JSON text, not read (an attribute at a path, a member).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Raw<'a>(&'a str);

impl<'a> Raw<'a> {
    pub fn get(&self) -> &'a str {
        self.0
    }
}

impl<'a> FromJson<'a> for Raw<'a> {
    fn from_json(text: &'a str) -> Result<Raw<'a>, Error> {
        Ok(Raw(text))
    }
}

/// A type read from JSON text.
pub trait FromJson<'a>: Sized {
    /// Reads `text`: one JSON value, already checked. [`parse`] checks a text's grammar once,
    /// and the readers only walk it (`walk.rs`); call `parse`, not this, for text from outside.
    fn from_json(text: &'a str) -> Result<Self, Error>;
}

/// Checks the text's grammar (strict RFC 8259), then reads it as `T`.
pub fn parse<'a, T: FromJson<'a>>(text: &'a str) -> Result<T, Error> {
    T::from_json(whole_value(text)?)
}

/// Bytes from KV or a body: UTF-8 JSON text.
pub fn parse_bytes<'a, T: FromJson<'a>>(bytes: &'a [u8]) -> Result<T, Error> {
    let text = std::str::from_utf8(bytes).map_err(|error| Error::new(format!("not UTF-8 text ({error})")))?;
    parse(text)
}

#[cold]
#[inline(never)]
fn invalid_type(found: &Token<'_>, expected: &str) -> Error {
    Error::new(format!("invalid type: {}, expected {expected}", describe(found)))
}

/// A value written as a JSON string and read with its `FromStr`: a SID, a status, a time.
pub fn from_text<T: FromStr<Err: fmt::Display>>(text: &str) -> Result<T, Error> {
    match scalar(text)? {
        Token::String(text) => text.parse().map_err(|error: T::Err| Error::new(error.to_string())),
        other => Err(invalid_type(&other, "a string")),
    }
}

/// A unit enum written as its name, read against `names`, the names it is written with.
pub fn named<T: Copy>(text: &str, names: &'static [(&'static str, T)]) -> Result<T, Error> {
    let first = scalar(text)?;
    let Token::String(text) = &first else { return Err(invalid_type(&first, "a string")) };
    match names.iter().find(|(name, _)| name == text) {
        Some((_, value)) => Ok(*value),
        None => {
            let names: Vec<&str> = names.iter().map(|(name, _)| *name).collect();
            Err(Error::new(format!("unknown value `{text}`: expected one of {}", names.join(", "))))
        }
    }
}

/// serde's `Deserialize` for a type read by [`FromJson`], for readers that go through serde
/// (the CLI, tests): the value's text is taken as it stands and read by the type's one reader.
pub fn deserialize_via_text<'de, D: Deserializer<'de>, T: for<'a> FromJson<'a>>(
    deserializer: D,
) -> Result<T, D::Error> {
    let raw = Box::<RawValue>::deserialize(deserializer)?;
    parse(raw.get()).map_err(de::Error::custom)
}

/// serde's `Deserialize` for types read by [`FromJson`], through [`deserialize_via_text`].
#[macro_export]
macro_rules! deserialize_via_text {
    ($($type:ty),* $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::json::deserialize_via_text(deserializer)
            }
        }
    )*};
}

impl<'a> FromJson<'a> for String {
    fn from_json(text: &'a str) -> Result<String, Error> {
        match scalar(text)? {
            Token::String(text) => Ok(text.into_owned()),
            other => Err(invalid_type(&other, "a string")),
        }
    }
}

impl<'a> FromJson<'a> for bool {
    fn from_json(text: &'a str) -> Result<bool, Error> {
        match scalar(text)? {
            Token::Bool(value) => Ok(value),
            other => Err(invalid_type(&other, "a boolean")),
        }
    }
}

/// Whole numbers, from their text: a fraction or exponent is the wrong type, a sign or size
/// the type cannot hold the wrong value (serde's words for both).
macro_rules! whole_number {
    ($($type:ty),*) => {$(
        impl<'a> FromJson<'a> for $type {
            fn from_json(text: &'a str) -> Result<$type, Error> {
                match scalar(text)? {
                    Token::Number(number) if !number.contains(['.', 'e', 'E']) => number.parse().map_err(|_| {
                        Error::new(format!("invalid value: integer `{number}`, expected {}", stringify!($type)))
                    }),
                    other => Err(invalid_type(&other, stringify!($type))),
                }
            }
        }
    )*};
}

whole_number!(u16, u32, u64, usize);

impl<'a, T: FromJson<'a>> FromJson<'a> for Option<T> {
    fn from_json(text: &'a str) -> Result<Option<T>, Error> {
        if text.trim() == "null" { Ok(None) } else { T::from_json(text).map(Some) }
    }
}

impl<'a, T: FromJson<'a>> FromJson<'a> for Vec<T> {
    fn from_json(text: &'a str) -> Result<Vec<T>, Error> {
        let mut items = Vec::new();
        let array = walk::items(text, |item| {
            items.push(T::from_json(item)?);
            Ok(())
        })?;
        if !array {
            return Err(invalid_type(&scalar(text)?, "a sequence"));
        }
        Ok(items)
    }
}

impl<'a, T: FromJson<'a>> FromJson<'a> for BTreeMap<String, T> {
    fn from_json(text: &'a str) -> Result<BTreeMap<String, T>, Error> {
        let mut map = BTreeMap::new();
        let object = walk::members(text, |key, member| {
            map.insert(key.into_owned(), T::from_json(member)?);
            Ok(())
        })?;
        if !object {
            return Err(invalid_type(&scalar(text)?, "a map"));
        }
        Ok(map)
    }
}

/// As `serde_json` reads a `Value`: numbers by `serde_json`'s own number reading (so an
/// integer stays exact, `1e400` is out of range), a repeated key keeps its last value.
impl<'a> FromJson<'a> for Value {
    fn from_json(text: &'a str) -> Result<Value, Error> {
        value(text, 0)
    }
}

/// Walked, like every reader; `depth` bounds the recursion even for text never checked.
fn value(text: &str, depth: usize) -> Result<Value, Error> {
    Ok(match scalar(text)? {
        Token::String(text) => Value::String(text.into_owned()),
        Token::Number(text) => {
            Value::Number(Number::from_str(text).map_err(|_| Error::new(format!("number out of range: `{text}`")))?)
        }
        Token::Bool(flag) => Value::Bool(flag),
        Token::Array | Token::Object if depth >= MAX_DEPTH => {
            return Err(Error::new(format!("nested more than {MAX_DEPTH} levels deep")));
        }
        Token::Array => Value::Array(
            Vec::<Raw>::from_json(text)?.iter().map(|item| value(item.get(), depth + 1)).collect::<Result<_, _>>()?,
        ),
        Token::Object => Value::Object(
            BTreeMap::<String, Raw>::from_json(text)?
                .into_iter()
                .map(|(key, member)| Ok((key, value(member.get(), depth + 1)?)))
                .collect::<Result<Map<_, _>, Error>>()?,
        ),
        Token::Null => Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Attributes, Reservation, StatusSource, Summary, TaskEnding};
    use crate::store::layout::TaskRecord;
    use crate::twilio::rest::TwilioErrorBody;

    /// A reader built on [`Fields`], with a required, an optional and a refused-unknown field.
    #[derive(Debug, PartialEq)]
    struct Body {
        status: String,
        count: Option<u32>,
    }

    impl<'a> FromJson<'a> for Body {
        fn from_json(text: &'a str) -> Result<Self, Error> {
            let fields = Fields::parse(text)?;
            fields.only(&["status", "count"])?;
            Ok(Body { status: fields.required("status")?, count: fields.optional("count")? })
        }
    }

    fn read(text: &str) -> Result<Body, String> {
        parse::<Body>(text).map_err(|error| error.to_string())
    }

    /// Valid and invalid texts: numbers at every edge, escapes, lone surrogates, a BOM, trailing
    /// commas and text, depths around the limit.
    fn texts() -> Vec<String> {
        let nested = |depth: usize, open: &str, close: &str| format!("{}1{}", open.repeat(depth), close.repeat(depth));
        let mut texts: Vec<String> = [
            "0",
            "-0",
            "1",
            "-1",
            "1.0",
            "1.50",
            "-0.0",
            "1e5",
            "1E+5",
            "1e-5",
            "2.5e-3",
            "01",
            "1.",
            ".5",
            "+1",
            "-",
            "1e",
            "1e+",
            "0x10",
            "1e400",
            "-1e400",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "123456789012345678901234567890",
            "9007199254740993",
            "0.1",
            "1.7976931348623157e308",
            "5e-324",
            "NaN",
            "Infinity",
            "true",
            "false",
            "null",
            "tru",
            "nul",
            "True",
            r#""""#,
            r#""a""#,
            r#""\u00e9""#,
            r#""\ud83d\ude00""#,
            r#""\ud83d""#,
            r#""\ude00""#,
            r#""\ud83dx""#,
            r#""\x""#,
            r#""\/\b\f\n\r\t\"\\""#,
            "\"a\tb\"",
            "\"a\u{1}b\"",
            "\"é😀\"",
            r#""unclosed"#,
            "'a'",
            "[]",
            "{}",
            "[1,2]",
            "[1,]",
            "[,1]",
            "[1 2]",
            "{\"a\":1}",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{a:1}",
            "{\"a\":}",
            "{\"a\":1,\"a\":2}",
            "{1:2}",
            "[",
            "]",
            "{",
            "}",
            "[}",
            "{]",
            " \t\n\r[ 1 , { \"b\" : [ ] } ] \n",
            "",
            " ",
            "1 2",
            "[] []",
            "{} x",
            "\u{feff}1",
            "/* c */ 1",
            "[1] // c",
            "\"\u{2028}\"",
            "{\"\":\"\"}",
            "[null,true,false,{\"k\":[{}]}]",
            "\u{a0}1",
        ]
        .iter()
        .map(|text| text.to_string())
        .collect();
        for depth in [100, 126, 127, 128, 129, 200] {
            texts.push(nested(depth, "[", "]"));
            texts.push(nested(depth, "{\"a\":", "}"));
        }
        texts
    }

    /// serde_json is the oracle: over valid and invalid texts, this reader accepts exactly
    /// what `serde_json` accepts, and reads the same `Value`.
    #[test]
    fn reads_what_serde_json_reads_and_refuses_what_it_refuses() {
        let texts = texts();
        for text in &texts {
            let ours = parse::<Value>(text).map_err(|error| error.to_string());
            let theirs = serde_json::from_str::<Value>(text).map_err(|error| error.to_string());
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{text:?}"),
                (Err(_), Err(_)) => {}
                _ => panic!("{text:?}: ours {ours:?}, serde_json {theirs:?}"),
            }
            // Kept as text, a value is what serde_json keeps as a raw value (`1e400` too).
            let raw = serde_json::from_str::<Box<RawValue>>(text).map(|raw| raw.get().to_owned());
            assert_eq!(whole_value(text).ok(), raw.as_deref().ok(), "{text:?}");
        }
    }

    /// A member's key and exact text, and an item's, as serde_json finds them (as a map: in key
    /// order, the last of a repeated key).
    fn by_serde_json(text: &str) -> Result<Vec<(Option<String>, String)>, String> {
        let found: Result<Vec<(Option<String>, String)>, serde_json::Error> = if text.starts_with('{') {
            serde_json::from_str::<BTreeMap<String, Box<RawValue>>>(text)
                .map(|map| map.into_iter().map(|(key, raw)| (Some(key), raw.get().to_owned())).collect())
        } else {
            serde_json::from_str::<Vec<Box<RawValue>>>(text)
                .map(|items| items.into_iter().map(|raw| (None, raw.get().to_owned())).collect())
        };
        found.map_err(|error| error.to_string())
    }

    /// The readers walk checked text (`walk.rs`): over every valid array and object of the
    /// matrix, and each of their members, they find the keys and exact texts serde_json finds;
    /// given text that was never checked, they answer, never panic.
    #[test]
    fn walking_finds_what_the_parser_finds() {
        assert_eq!(Fields::parse(r#"{"a":1,"a":2}"#).err(), Some(Error::new("duplicate field `a`")));
        let mut valid: Vec<String> = texts().into_iter().filter(|text| whole_value(text).is_ok()).collect();
        valid.push(" { \"k\\\"ey\" : [ \"]\" , {\"}\": \"\\\\\"} ] , \"\\u00e9\":-0.5e+3 ,\"t\":true} ".to_owned());
        let mut checked = 0;
        while let Some(text) = valid.pop() {
            let value = whole_value(&text).unwrap();
            let walked: Result<Vec<(Option<String>, String)>, Error> = match value.as_bytes()[0] {
                b'{' => BTreeMap::<String, Raw>::from_json(value)
                    .map(|map| map.iter().map(|(k, v)| (Some(k.clone()), v.get().to_owned())).collect()),
                b'[' => Vec::<Raw>::from_json(value)
                    .map(|items| items.iter().map(|raw| (None, raw.get().to_owned())).collect()),
                _ => continue,
            };
            let theirs = by_serde_json(value);
            let Ok(walked) = walked else {
                // Only a key with a lone surrogate escape, which serde_json refuses too.
                assert!(theirs.is_err(), "{text:?}: {walked:?}");
                continue;
            };
            assert_eq!(Ok(walked.clone()), theirs, "{text:?}");
            valid.extend(walked.into_iter().map(|(_, member)| member));
            checked += 1;
        }
        assert!(checked > 250, "{checked}");
        for text in texts().iter().chain(&["{\"a\"".into(), "{\"a\":1 \"b\":2}".into(), "[1 2".into(), "{\"a\\".into()])
        {
            let _ = Fields::parse(text);
            let _ = Vec::<Raw>::from_json(text);
            let _ = BTreeMap::<String, Value>::from_json(text);
            let _ = Attributes::from_json(text);
            let _ = String::from_json(text);
        }
    }

    #[test]
    fn a_value_keeps_its_exact_text() {
        let text = " { \"a\" : [ 1.50 , {\"b\": \"\\u00e9\"} ] , \"n\":-0 } ";
        assert_eq!(whole_value(text), Ok(text.trim()));
        let fields = Fields::parse(text).unwrap();
        assert_eq!(fields.text("a"), Some("[ 1.50 , {\"b\": \"\\u00e9\"} ]"));
        assert_eq!(fields.text("n"), Some("-0"));
        let items: Vec<Raw> = parse("[1.50, \"x\" ,{}]").unwrap();
        assert_eq!(items.iter().map(Raw::get).collect::<Vec<_>>(), ["1.50", "\"x\"", "{}"]);
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
        let fields = Fields::parse(text).unwrap();
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
        let trailing = read(r#"{"status":"x"} {}"#).unwrap_err();
        assert_eq!(trailing, "trailing characters at line 1 column 16");
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
