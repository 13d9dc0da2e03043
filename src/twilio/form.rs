//! `application/x-www-form-urlencoded` bodies, decoded strictly: TaskRouter always sends valid
//! encoding, so anything else is refused rather than guessed at.

use percent_encoding::percent_decode;

/// The parameters of a form body, in the order they were sent. Keys may repeat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormParams(Vec<(String, String)>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("the body is empty: expected form-encoded TaskRouter parameters")]
    Empty,
    #[error("the body has a malformed percent-encoding at byte {offset}: '%' must be followed by two hex digits")]
    BadPercentEncoding { offset: usize },
    #[error("the body does not decode to UTF-8 text")]
    NotUtf8,
}

impl FormParams {
    pub fn parse(body: &[u8]) -> Result<FormParams, FormError> {
        if body.is_empty() {
            return Err(FormError::Empty);
        }
        if let Some(offset) = first_bad_escape(body) {
            return Err(FormError::BadPercentEncoding { offset });
        }
        // `form_urlencoded` replaces bad UTF-8 silently; checking the whole decoded body is
        // enough, because `&`, `=` and `+` are ASCII and never split a UTF-8 sequence.
        if percent_decode(body).decode_utf8().is_err() {
            return Err(FormError::NotUtf8);
        }
        Ok(FormParams(
            form_urlencoded::parse(body).map(|(key, value)| (key.into_owned(), value.into_owned())).collect(),
        ))
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        FormParams(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }

    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.push((key.into(), value.into()));
    }

    /// Replaces every value of `key` with `value`.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        self.0.retain(|(k, _)| *k != key);
        self.0.push((key, value.into()));
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The first value sent under `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The first non-empty value sent under `key`.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|value| !value.is_empty())
    }
}

fn first_bad_escape(body: &[u8]) -> Option<usize> {
    body.iter().enumerate().find_map(|(offset, byte)| {
        let escape_ok = || body.get(offset + 1..offset + 3).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit));
        (*byte == b'%' && !escape_ok()).then_some(offset)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_pairs_in_order_with_repeats() {
        let params = FormParams::parse(b"Digits=5678&To=%2B1800&Digits=1234&Body=a+b%20c&Empty=").unwrap();
        assert_eq!(
            params.pairs(),
            FormParams::from_pairs([
                ("Digits", "5678"),
                ("To", "+1800"),
                ("Digits", "1234"),
                ("Body", "a b c"),
                ("Empty", ""),
            ])
            .pairs()
        );
        assert_eq!(params.get("Digits"), Some("5678"));
        assert_eq!(params.non_empty("Empty"), None);
    }

    #[test]
    fn decodes_json_attributes() {
        let params = FormParams::parse(b"TaskAttributes=%7B%22name%22%3A%22Jos%C3%A9%22%7D").unwrap();
        assert_eq!(params.get("TaskAttributes"), Some(r#"{"name":"José"}"#));
    }

    #[test]
    fn refuses_empty_bodies() {
        assert_eq!(FormParams::parse(b""), Err(FormError::Empty));
    }

    #[test]
    fn refuses_malformed_escapes() {
        for (body, offset) in [(&b"a=%"[..], 2), (b"a=%4", 2), (b"a=%zz", 2), (b"a=1&b%=2", 5)] {
            assert_eq!(FormParams::parse(body), Err(FormError::BadPercentEncoding { offset }));
        }
    }

    #[test]
    fn refuses_bytes_that_are_not_utf8() {
        assert_eq!(FormParams::parse(b"a=%C3%28"), Err(FormError::NotUtf8));
        assert_eq!(FormParams::parse(b"a=\xff"), Err(FormError::NotUtf8));
    }
}
