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
/// `part` starts in the body, for the error. `percent-encoding` decodes; the check before it is
/// this project's own, because the crate passes a malformed escape through where this refuses it.
fn decode(part: &[u8], offset: usize) -> Result<String, FormError> {
    let malformed = part.iter().enumerate().find(|(at, byte)| {
        **byte == b'%' && !part.get(at + 1..at + 3).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if let Some((at, _)) = malformed {
        return Err(FormError::BadPercentEncoding { offset: offset + at });
    }
    let spaced: Vec<u8> = part.iter().map(|byte| if *byte == b'+' { b' ' } else { *byte }).collect();
    String::from_utf8(percent_encoding::percent_decode(&spaced).collect()).map_err(|_| FormError::NotUtf8)
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

    proptest::proptest! {
        /// Whatever a form encoder writes, this reads back as written: the pairs, in order.
        #[test]
        fn any_encoded_form_reads_back_as_its_pairs(pairs in proptest::collection::vec(("\\PC{0,12}", "\\PC{0,24}"), 1..6)) {
            let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
            proptest::prop_assume!(!body.is_empty());
            let parsed = FormParams::parse(body.as_bytes()).unwrap();
            let expected: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            proptest::prop_assert_eq!(parsed.pairs(), expected);
        }

        /// Any body at all: refused or read, never a panic, and when read, read as
        /// `form_urlencoded` reads it.
        #[test]
        fn any_body_is_refused_or_read_as_form_urlencoded_reads_it(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..64)) {
            if let Ok(parsed) = FormParams::parse(&body) {
                let expected: Vec<(String, String)> = form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
                proptest::prop_assert_eq!(parsed.pairs(), expected);
            }
        }
    }
}
