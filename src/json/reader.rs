//! JSON text as events, each with where its token starts, so a value's exact text can be kept.
//!
//! The grammar (RFC 8259, strictly: no comments, no trailing commas, escapes and surrogates
//! checked) is `json-event-parser`'s; this file only tracks positions and describes values.

use json_event_parser::{JsonEvent, LowLevelJsonParser};

use super::Error;

/// The deepest nesting read, as serde_json reads (127 levels; a test holds the two together),
/// which the worker's limits are set against (`MAX_ATTRIBUTE_DEPTH`). Each level holds one
/// state in the parser's stack, so memory is bounded by this, not by the text.
pub const MAX_DEPTH: usize = 127;

pub struct Reader<'a> {
    text: &'a str,
    parser: LowLevelJsonParser,
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Reader<'a> {
        Reader { text, parser: LowLevelJsonParser::new().with_max_stack_size(MAX_DEPTH - 1), at: 0 }
    }

    /// The next event, and the offset its token starts at (after whitespace and separators).
    pub fn next(&mut self) -> Result<(JsonEvent<'a>, usize), Error> {
        let text: &'a str = self.text;
        let rest = &text.as_bytes()[self.at..];
        if self.at == 0 && rest.starts_with("\u{feff}".as_bytes()) {
            // The parser would skip a byte order mark; JSON text has none (RFC 8259, 8.1).
            return Err(Error::new("a byte order mark is not JSON at line 1 column 1"));
        }
        let result = self.parser.parse_next(rest, true);
        let consumed = result.consumed_bytes.min(rest.len());
        let skipped = rest[..consumed]
            .iter()
            .position(|byte| !matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | b':' | b','))
            .unwrap_or(consumed);
        let start = self.at + skipped;
        self.at += consumed;
        match result.event {
            Some(Ok(event)) => Ok((event, start)),
            Some(Err(error)) => Err(syntax_error(&error)),
            None => Err(Error::new("unexpected end of input")),
        }
    }

    /// The text of the value that `first` (just read, starting at `start`) begins: the value
    /// itself, or a whole array or object, exactly as written.
    pub fn value_text(&mut self, first: &JsonEvent<'a>, start: usize) -> Result<&'a str, Error> {
        let mut depth = usize::from(matches!(first, JsonEvent::StartArray | JsonEvent::StartObject));
        if !is_value(first) {
            return Err(Error::new(format!("expected a value, found {}", describe(first))));
        }
        while depth > 0 {
            match self.next()?.0 {
                JsonEvent::StartArray | JsonEvent::StartObject => depth += 1,
                JsonEvent::EndArray | JsonEvent::EndObject => depth -= 1,
                _ => {}
            }
        }
        let text: &'a str = self.text;
        Ok(&text[start..self.at])
    }

    /// The one value in the text, as a first event and the reader positioned after it.
    pub fn first(&mut self) -> Result<JsonEvent<'a>, Error> {
        self.next().map(|(event, _)| event)
    }

    /// Nothing but whitespace may follow the value.
    pub fn end(&mut self) -> Result<(), Error> {
        match self.next()?.0 {
            JsonEvent::Eof => Ok(()),
            other => Err(Error::new(format!("trailing characters: {}", describe(&other)))),
        }
    }
}

/// The text's one value, exactly as written (without the whitespace around it); an error when
/// the text is not one JSON value.
pub fn whole_value(text: &str) -> Result<&str, Error> {
    let mut reader = Reader::new(text);
    let (first, start) = reader.next()?;
    let value = reader.value_text(&first, start)?;
    reader.end()?;
    Ok(value)
}

fn is_value(event: &JsonEvent<'_>) -> bool {
    !matches!(event, JsonEvent::EndArray | JsonEvent::EndObject | JsonEvent::ObjectKey(_) | JsonEvent::Eof)
}

/// A value as serde's messages name one (`integer `5``, `string "x"`, `map`), from its text:
/// no number is converted to be named.
pub fn describe(event: &JsonEvent<'_>) -> String {
    match event {
        JsonEvent::String(text) => format!("string {text:?}"),
        JsonEvent::Number(text) if text.contains(['.', 'e', 'E']) => format!("floating point `{text}`"),
        JsonEvent::Number(text) => format!("integer `{text}`"),
        JsonEvent::Boolean(value) => format!("boolean `{value}`"),
        JsonEvent::Null => "null".to_owned(),
        JsonEvent::StartArray => "sequence".to_owned(),
        JsonEvent::StartObject => "map".to_owned(),
        JsonEvent::ObjectKey(key) => format!("key {key:?}"),
        JsonEvent::EndArray | JsonEvent::EndObject => "the end of a container".to_owned(),
        JsonEvent::Eof => "the end of the text".to_owned(),
    }
}

/// The parser's message, where serde_json put its position: "… at line 1 column 5".
#[cold]
#[inline(never)]
fn syntax_error(error: &json_event_parser::JsonSyntaxError) -> Error {
    let at = error.location().start;
    let message = error.message();
    let mut first = message.chars();
    let message: String = first.next().map(|c| c.to_ascii_lowercase()).into_iter().chain(first).collect();
    Error::new(format!("{message} at line {} column {}", at.line + 1, at.column + 1))
}
