//! `application/x-www-form-urlencoded` bodies, decoded strictly: TaskRouter always sends valid
//! encoding, so anything else is refused rather than guessed at.

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
        let mut pairs = Vec::new();
        let mut offset = 0;
        for pair in body.split(|byte| *byte == b'&') {
            if !pair.is_empty() {
                let (key, value) = match pair.iter().position(|byte| *byte == b'=') {
                    Some(at) => (&pair[..at], &pair[at + 1..]),
                    None => (pair, &pair[pair.len()..]),
                };
                let value_offset = offset + key.len() + 1;
                pairs.push((decode(key, offset)?, decode(value, value_offset)?));
            }
            offset += pair.len() + 1;
        }
        Ok(FormParams(pairs))
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

/// One key or value: `+` is a space, `%XX` a byte, and the bytes must be UTF-8. `offset` is where
/// `part` starts in the body, for the error.
fn decode(part: &[u8], offset: usize) -> Result<String, FormError> {
    let mut bytes = Vec::with_capacity(part.len());
    let mut rest = part;
    while let Some(at) = rest.iter().position(|byte| matches!(byte, b'+' | b'%')) {
        bytes.extend_from_slice(&rest[..at]);
        if rest[at] == b'+' {
            bytes.push(b' ');
            rest = &rest[at + 1..];
            continue;
        }
        let hex = rest.get(at + 1..at + 3).filter(|hex| hex.iter().all(u8::is_ascii_hexdigit));
        let byte = hex.and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        let at_in_body = offset + (part.len() - rest.len()) + at;
        bytes.push(byte.ok_or(FormError::BadPercentEncoding { offset: at_in_body })?);
        rest = &rest[at + 3..];
    }
    bytes.extend_from_slice(rest);
    String::from_utf8(bytes).map_err(|_| FormError::NotUtf8)
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
    fn decodes_as_form_urlencoded_does() {
        let bodies: [&[u8]; 8] = [
            b"a=1&b=2",
            b"a&b=&=c&&d=%41%2b+x",
            b"k=v=w",
            b"%E2%82%AC=%F0%9F%98%80",
            b"TaskAttributes=%7B%22name%22%3A%22Jos%C3%A9%22%7D&x=a+b",
            b"&&&",
            b"=",
            b"a=%20%25%26",
        ];
        for body in bodies {
            let ours = FormParams::parse(body).unwrap();
            let theirs: Vec<(String, String)> =
                form_urlencoded::parse(body).map(|(key, value)| (key.into_owned(), value.into_owned())).collect();
            assert_eq!(ours.pairs(), theirs, "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn refuses_bytes_that_are_not_utf8() {
        assert_eq!(FormParams::parse(b"a=%C3%28"), Err(FormError::NotUtf8));
        assert_eq!(FormParams::parse(b"a=\xff"), Err(FormError::NotUtf8));
    }
}
