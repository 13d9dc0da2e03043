//! HTTP rules the worker applies before any handler logic: media types, the body limit, the
//! security headers, and the reply every handler produces (who may call: [`super::auth`]).

use serde::Serialize;

use super::error::ApiError;

/// The largest body accepted. TaskRouter's limits page allows 4,096 characters per string in a
/// task's or worker's attributes, and form encoding can triple what a callback carries; 128 KiB
/// holds the attributes of any realistic task with room to spare, and is read as a stream, so a
/// larger body is refused before it is all in memory.
pub const MAX_BODY_BYTES: usize = 128 * 1024;

pub const FORM: &str = "application/x-www-form-urlencoded";
pub const JSON: &str = "application/json";

/// The request's URL, as the runtime serialized it, parsed by the `url` crate (the catch-up
/// links it anyway, `taskrouter_core::twilio::events_resource`). The path stays undecoded; `None` only for a
/// URL the runtime would never hand over.
pub fn parse_url(url: &str) -> Option<url::Url> {
    url::Url::parse(url).ok()
}

/// The origin of a URL (`scheme://host[:port]`, the default port left out), as a browser's
/// `Origin` header writes it.
pub fn origin_of(url: &str) -> Option<String> {
    parse_url(url).map(|url| url.origin().ascii_serialization())
}

/// The runtime's words for a fetch that failed, fit for an operator. workerd says only
/// `internal error; reference = <id>` for some failures (a refused connection among them), which
/// reads as a bug of this worker and names nothing the operator can act on.
pub fn fetch_failure(reason: &str) -> String {
    match reason.split_once("internal error; reference =") {
        Some((before, _)) => {
            let before = before.trim().trim_end_matches(':').trim();
            let said = "the connection failed (the runtime gives no reason: is the URL right, and is it up?)";
            if before.is_empty() { said.to_owned() } else { format!("{before}: {said}") }
        }
        None => reason.to_owned(),
    }
}

/// An operator's JSON body as `T`; the error names the field that is wrong, as in
/// ``field `status`: invalid type: integer `5`, expected a string``.
pub fn read_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut reader = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut reader).map_err(|error| {
        let path = error.path().to_string();
        let error = error.into_inner();
        ApiError::InvalidJson(if path == "." { error.to_string() } else { format!("field `{path}`: {error}") })
    })?;
    reader.end().map_err(|error| ApiError::InvalidJson(error.to_string()))?;
    Ok(value)
}

/// Checks a `Content-Type` header's media type, ignoring parameters such as `charset`.
pub fn require_media_type(header: Option<&str>, expected: &'static str) -> Result<(), ApiError> {
    let media_type = header.map(|value| value.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    match media_type {
        Some(found) if found == expected => Ok(()),
        other => Err(ApiError::UnsupportedMediaType {
            expected,
            got: other.map_or_else(|| "no Content-Type".to_owned(), |found| format!("Content-Type {found}")),
        }),
    }
}

/// Refuses a body by its declared length before reading it; the length, when one is declared.
pub fn check_declared_length(content_length: Option<&str>) -> Result<Option<u64>, ApiError> {
    match content_length.and_then(|value| value.trim().parse::<u64>().ok()) {
        Some(length) if length > MAX_BODY_BYTES as u64 => Err(ApiError::BodyTooLarge { limit: MAX_BODY_BYTES }),
        declared => Ok(declared),
    }
}

/// A body read chunk by chunk, refused as soon as it passes the limit (a chunked body declares
/// no length, and must not be read whole to learn it).
#[derive(Debug, Default)]
pub struct LimitedBody {
    bytes: Vec<u8>,
}

impl LimitedBody {
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), ApiError> {
        if self.bytes.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ApiError::BodyTooLarge { limit: MAX_BODY_BYTES });
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// The `Content-Security-Policy` of every answer that is not the console: nothing may load,
/// run or frame it.
pub const CSP_NONE: &str = "default-src 'none'; frame-ancestors 'none'";
/// The console's: its own script and style only, no inline script or style, requests to this
/// origin only, never framed (clickjacking), no `<base>` or form posts elsewhere.
pub const CSP_CONSOLE: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// What a handler answers: JSON, except the console's files.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    /// The `Allow` header of a 405.
    pub allow: Option<&'static str>,
    pub content_type: &'static str,
    pub csp: &'static str,
}

impl Reply {
    pub fn json<T: Serialize>(status: u16, value: &T) -> Reply {
        Reply::raw_json(status, serde_json::to_string(value).unwrap_or_else(|_| "{}".into()))
    }

    /// One of the console's files, under the console's policy.
    pub fn console_file(content_type: &'static str, body: &str) -> Reply {
        Reply { content_type, csp: CSP_CONSOLE, ..Reply::raw_json(200, body.to_owned()) }
    }

    /// A body that is JSON already.
    pub fn raw_json(status: u16, body: String) -> Reply {
        Reply { status, body, allow: None, content_type: JSON, csp: CSP_NONE }
    }

    /// What TaskRouter's event reference asks of an event callback: `204 No Content` (with
    /// `Content-Type: application/json`).
    pub fn no_content() -> Reply {
        Reply::raw_json(204, String::new())
    }

    pub fn error(error: &ApiError) -> Reply {
        Reply { allow: error.allow(), ..Reply::raw_json(error.status(), error.body()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtimes_internal_error_reference_is_not_shown() {
        let said = fetch_failure("TypeError: internal error; reference = dcafo40cl2qdpojqlhf2tfvd");
        assert_eq!(
            said,
            "TypeError: the connection failed (the runtime gives no reason: is the URL right, and is it up?)"
        );
        assert!(!fetch_failure("internal error; reference = x").contains("reference"));
        assert_eq!(fetch_failure("Network connection lost."), "Network connection lost.");
    }

    #[test]
    fn the_origin_of_a_serialized_url() {
        let origin = |url: &str| origin_of(url).unwrap();
        assert_eq!(origin("https://example.com/reservations?x=1"), "https://example.com");
        assert_eq!(origin("http://127.0.0.1:8787/live"), "http://127.0.0.1:8787");
        assert_eq!(origin("https://example.com"), "https://example.com");
        assert_eq!(origin("https://example.com?q#f"), "https://example.com");
        assert_eq!(origin("https://example.com:443/x"), "https://example.com", "as a browser writes it");
        assert_eq!(origin_of("not a url"), None);
    }

    #[test]
    fn path_and_query_of_a_serialized_url() {
        for (url, path, query) in [
            ("https://example.com/", "/", ""),
            ("https://example.com/reservations?status=pending", "/reservations", "status=pending"),
            ("https://example.com/a/b?x=/y#frag?z", "/a/b", "x=/y"),
            ("https://example.com/a#f", "/a", ""),
            ("http://127.0.0.1:8787//health", "//health", ""),
            ("https://example.com/r%3F?q", "/r%3F", "q"),
        ] {
            let parsed = parse_url(url).unwrap();
            assert_eq!((parsed.path(), parsed.query().unwrap_or_default()), (path, query), "{url}");
        }
    }

    #[test]
    fn a_bad_json_body_names_its_field() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Update {
            status: String,
        }
        let message = |body: &str| read_json::<Update>(body.as_bytes()).unwrap_err().to_string();
        assert!(read_json::<Update>(br#"{"status":"accepted"}"#).is_ok());
        assert!(message(r#"{"status":5}"#).contains("field `status`: invalid type: integer `5`, expected a string"));
        assert!(message(r#"{"status":"a","x":1}"#).contains("unknown field `x`"));
        assert!(message(r#"{"status":"a","status":"b"}"#).contains("duplicate field `status`"));
        assert!(message(r#"{"status":"a"} {}"#).contains("trailing characters"));
        assert!(message("not json").starts_with("the body is not valid JSON: expected"));
    }

    #[test]
    fn media_types_ignore_parameters_and_case() {
        assert!(require_media_type(Some("application/x-www-form-urlencoded; charset=utf-8"), FORM).is_ok());
        assert!(require_media_type(Some("Application/JSON"), JSON).is_ok());
        let err = require_media_type(Some("application/json"), FORM).unwrap_err();
        assert_eq!(err.status(), 415);
        assert_eq!(
            err.to_string(),
            "the body must be application/x-www-form-urlencoded; got Content-Type application/json"
        );
        assert_eq!(
            require_media_type(None, FORM).unwrap_err().to_string(),
            "the body must be application/x-www-form-urlencoded; got no Content-Type"
        );
    }

    #[test]
    fn the_body_limit_holds_for_declared_and_real_lengths() {
        assert_eq!(check_declared_length(Some(&MAX_BODY_BYTES.to_string())), Ok(Some(MAX_BODY_BYTES as u64)));
        assert_eq!(check_declared_length(Some(&(MAX_BODY_BYTES + 1).to_string())).unwrap_err().status(), 413);
        assert_eq!(check_declared_length(None), Ok(None));
        let mut body = LimitedBody::default();
        for _ in 0..MAX_BODY_BYTES / 1024 {
            body.push(&[b'a'; 1024]).unwrap();
        }
        assert_eq!(body.push(b"a").unwrap_err().status(), 413, "one byte past the limit");
        assert_eq!(body.into_bytes().len(), MAX_BODY_BYTES);
    }

    #[test]
    fn the_limit_holds_attributes_at_twilios_string_limit() {
        // Four attribute strings of 4,096 characters each, every character escaped twice over.
        let task = format!(
            "{{{}}}",
            (0..4).map(|i| format!("\"k{i}\":\"{}\"", "\"".repeat(4096))).collect::<Vec<_>>().join(",")
        );
        let body: String =
            form_urlencoded::Serializer::new(String::new()).append_pair("TaskAttributes", &task).finish();
        assert!(body.len() > 3 * 4 * 4096, "every character escaped: {}", body.len());
        let mut limited = LimitedBody::default();
        assert!(limited.push(body.as_bytes()).is_ok());
    }

    #[test]
    fn replies_carry_the_error_shape() {
        let reply = Reply::error(&ApiError::MethodNotAllowed { method: "GET".into(), allow: "POST" });
        assert_eq!((reply.status, reply.allow), (405, Some("POST")));
        assert!(reply.body.contains("\"code\":\"method_not_allowed\""));
    }

    proptest::proptest! {
        /// The origin, path and query of a URL the runtime could hand over, as written.
        #[test]
        fn a_urls_parts_read_back_as_written(
            host in "[a-z][a-z0-9-]{0,20}(\\.[a-z][a-z0-9-]{0,10}){0,3}",
            port in proptest::option::of(1024u16..65535),
            path in "(/[A-Za-z0-9._~-]{0,10}){1,4}",
            query in proptest::option::of("[A-Za-z0-9=&_-]{0,20}"),
        ) {
            let origin = match port { Some(port) => format!("http://{host}:{port}"), None => format!("http://{host}") };
            let url = format!("{origin}{path}{}", query.as_ref().map(|q| format!("?{q}")).unwrap_or_default());
            let parsed = parse_url(&url).unwrap();
            proptest::prop_assume!(!path.split('/').any(|segment| segment == "." || segment == ".."));
            proptest::prop_assert_eq!(origin_of(&url).unwrap(), origin);
            proptest::prop_assert_eq!(parsed.path(), path.as_str());
            proptest::prop_assert_eq!(parsed.query(), query.as_deref());
        }
    }
}
