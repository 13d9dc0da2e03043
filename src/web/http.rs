//! HTTP rules the worker applies before any handler logic: media types, the body limit, the
//! operator's bearer token, and the reply every handler produces.

use base64::Engine;
use serde::Serialize;

use super::error::ApiError;
use crate::config::{Config, Secret};
use crate::twilio::signature::{Algorithm, SignatureSettings};

/// The largest body accepted. TaskRouter's limits page allows 4,096 characters per string in a
/// task's or worker's attributes, and form encoding can triple what a callback carries; 128 KiB
/// holds the attributes of any realistic task with room to spare, and is read as a stream, so a
/// larger body is refused before it is all in memory.
pub const MAX_BODY_BYTES: usize = 128 * 1024;

pub const FORM: &str = "application/x-www-form-urlencoded";
pub const JSON: &str = "application/json";

/// The path of a URL as the runtime serialized it, undecoded. In a serialized special-scheme URL
/// the first `/` after the host begins the path, and `?` and `#` inside it are percent-encoded.
pub fn path_of(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("/", |start| &after_scheme[start..]);
    path.split(['?', '#']).next().unwrap_or("/")
}

/// The query string of a serialized URL, without `?`.
pub fn query_of(url: &str) -> &str {
    let without_fragment = url.split('#').next().unwrap_or_default();
    without_fragment.split_once('?').map_or("", |(_, query)| query)
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

/// The key, and the hash, a request from Twilio must be signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer<'a> {
    /// No `X-Twilio-Webhooks-Signature-Settings`: the account's Auth Token, HMAC-SHA1.
    AuthToken(&'a Secret),
    /// A Webhook Rule's SharedKey, as the settings header names it.
    SharedKey { id: String, secret: &'a Secret, algorithm: Algorithm },
    /// `ALLOW_UNSIGNED_CALLBACKS`, with no Auth Token set: nothing is checked.
    Unchecked,
}

impl Signer<'_> {
    /// What signed the request, for its log line and its error (never a secret).
    pub fn describe(&self) -> (String, &'static str) {
        match self {
            Signer::AuthToken(_) => ("TWILIO_AUTH_TOKEN".to_owned(), Algorithm::HmacSha1.as_str()),
            Signer::SharedKey { id, algorithm, .. } => (id.clone(), algorithm.as_str()),
            Signer::Unchecked => ("none".to_owned(), "none"),
        }
    }
}

/// The longest id or algorithm name from a request that an error or a log line repeats.
const ECHOED_CHARS: usize = 100;

fn echoed(text: &str) -> String {
    text.chars().take(ECHOED_CHARS).collect()
}

/// Who must have signed a request from Twilio, from its `X-Twilio-Webhooks-Signature-Settings`
/// header (`settings`, when not empty) and the configuration. With the header, only a SharedKey
/// it names, by the algorithm it names: the Auth Token is never tried. Without it, the Auth
/// Token with HMAC-SHA1, as before Webhook Rules existed.
pub fn signer<'a>(config: &'a Config, settings: Option<&str>) -> Result<Signer<'a>, ApiError> {
    // A malformed TWILIO_WEBHOOK_SHARED_KEYS stops every Twilio route, header or not.
    let shared_keys = config.webhook_shared_keys()?;
    let Some(settings) = settings.filter(|header| !header.trim().is_empty()) else {
        return match (&config.twilio_auth_token, config.allow_unsigned_callbacks) {
            (Some(token), _) => Ok(Signer::AuthToken(token)),
            (None, true) => Ok(Signer::Unchecked),
            (None, false) => Err(ApiError::MissingSecret("TWILIO_AUTH_TOKEN")),
        };
    };
    let settings = SignatureSettings::read(settings);
    let algorithm = Algorithm::named(settings.algorithm)
        .ok_or_else(|| ApiError::UnsupportedSignatureAlgorithm(echoed(settings.algorithm)))?;
    let keys = shared_keys.ok_or(ApiError::MissingSecret("TWILIO_WEBHOOK_SHARED_KEYS"))?;
    let id = settings.key.unwrap_or_default();
    let secret = keys.secret(id).ok_or_else(|| ApiError::UnknownSigningKey(echoed(id)))?;
    Ok(Signer::SharedKey { id: id.to_owned(), secret, algorithm })
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

/// `Authorization: Bearer <token>` against the configured operator token. No token configured
/// means the operator API is closed.
pub fn require_bearer(header: Option<&str>, token: Option<&Secret>) -> Result<(), ApiError> {
    let token = token.ok_or(ApiError::MissingSecret("RESERVATIONS_API_TOKEN"))?;
    let presented =
        header.and_then(|value| value.trim().strip_prefix("Bearer ")).map(str::trim).ok_or(ApiError::Unauthorized)?;
    if token.matches(presented) { Ok(()) } else { Err(ApiError::Unauthorized) }
}

/// The subprotocol that carries the operator token to `GET /live`: `bearer.` followed by the token
/// in unpadded base64url, which a browser may send in `Sec-WebSocket-Protocol` (it cannot send an
/// `Authorization` header with a WebSocket, and a token in the URL would reach logs).
pub const BEARER_PROTOCOL: &str = "bearer.";

/// `GET /live`'s gate: the operator token from the `bearer.` subprotocol, or from `Authorization`.
pub fn require_console_token(
    protocols: Option<&str>,
    authorization: Option<&str>,
    token: Option<&Secret>,
) -> Result<(), ApiError> {
    let offered = protocols.into_iter().flat_map(|header| header.split(',')).map(str::trim);
    let Some(encoded) = offered.filter_map(|protocol| protocol.strip_prefix(BEARER_PROTOCOL)).next() else {
        return require_bearer(authorization, token);
    };
    let token = token.ok_or(ApiError::MissingSecret("RESERVATIONS_API_TOKEN"))?;
    let presented = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or(ApiError::Unauthorized)?;
    if token.matches(presented.trim()) { Ok(()) } else { Err(ApiError::Unauthorized) }
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

    /// TaskRouter's "do nothing now" answer.
    pub fn empty_object() -> Reply {
        Reply::raw_json(200, "{}".into())
    }

    pub fn error(error: &ApiError) -> Reply {
        Reply { allow: error.allow(), ..Reply::raw_json(error.status(), error.body()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert_eq!((path_of(url), query_of(url)), (path, query), "{url}");
        }
    }

    fn configured(vars: &[(&str, &str)]) -> Config {
        let vars: std::collections::HashMap<&str, &str> = vars.iter().copied().collect();
        Config::from_lookup(|name| vars.get(name).map(|value| value.to_string())).unwrap()
    }

    #[test]
    fn the_settings_header_decides_the_key_and_the_auth_token_is_never_tried_under_it() {
        let keys = r#"{"webhooks_sharedkey_a":"secret-a","webhooks_sharedkey_b":"secret-b"}"#;
        let both = configured(&[("TWILIO_AUTH_TOKEN", "token"), ("TWILIO_WEBHOOK_SHARED_KEYS", keys)]);
        assert!(matches!(signer(&both, None), Ok(Signer::AuthToken(token)) if token.matches("token")));
        assert!(matches!(signer(&both, Some("  ")), Ok(Signer::AuthToken(_))), "an empty header is no header");
        let Ok(Signer::SharedKey { id, secret, algorithm }) =
            signer(&both, Some("key=webhooks_sharedkey_b,algorithm=hmac_sha256"))
        else {
            panic!("a SharedKey")
        };
        assert_eq!((id.as_str(), algorithm), ("webhooks_sharedkey_b", Algorithm::HmacSha256));
        assert!(secret.matches("secret-b"));
        let by_default = signer(&both, Some("key=webhooks_sharedkey_a")).unwrap();
        assert_eq!(by_default.describe(), ("webhooks_sharedkey_a".to_owned(), "HMAC_SHA1"));

        let code = |config: &Config, header: Option<&str>| signer(config, header).unwrap_err().code();
        assert_eq!(
            code(&both, Some("key=webhooks_sharedkey_a,algorithm=HMAC_SHA512")),
            "unsupported_signature_algorithm"
        );
        assert_eq!(code(&both, Some("key=webhooks_sharedkey_c,algorithm=HMAC_SHA256")), "unknown_signing_key");
        assert_eq!(code(&both, Some("algorithm=HMAC_SHA256")), "unknown_signing_key");
        let unknown = signer(&both, Some("key=webhooks_sharedkey_c")).unwrap_err();
        assert!(unknown.to_string().contains("\"webhooks_sharedkey_c\""), "{unknown}");

        let token_only = configured(&[("TWILIO_AUTH_TOKEN", "token"), ("ALLOW_UNSIGNED_CALLBACKS", "true")]);
        let missing = signer(&token_only, Some("key=webhooks_sharedkey_a")).unwrap_err();
        assert_eq!((missing.status(), missing.code()), (503, "not_configured"));
        assert!(missing.to_string().starts_with("TWILIO_WEBHOOK_SHARED_KEYS is not set"));
        let unsigned = configured(&[("ALLOW_UNSIGNED_CALLBACKS", "true")]);
        assert_eq!(signer(&unsigned, None), Ok(Signer::Unchecked));
        assert_eq!(code(&unsigned, Some("key=k")), "not_configured", "unsigned callbacks never pass a SharedKey check");
        assert_eq!(code(&configured(&[]), None), "not_configured");

        let malformed = configured(&[("TWILIO_AUTH_TOKEN", "token"), ("TWILIO_WEBHOOK_SHARED_KEYS", "[1]")]);
        for header in [None, Some("key=k")] {
            let error = signer(&malformed, header).unwrap_err();
            assert_eq!((error.status(), error.code()), (503, "invalid_configuration"));
            assert!(error.to_string().contains("TWILIO_WEBHOOK_SHARED_KEYS"));
        }
        let long = format!("key={}", "k".repeat(5_000));
        assert!(signer(&both, Some(&long)).unwrap_err().to_string().len() < 400, "an id from the request is clipped");
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
    fn the_operator_api_fails_closed() {
        let token = Secret::new("s3cret");
        assert!(require_bearer(Some("Bearer s3cret"), Some(&token)).is_ok());
        assert_eq!(require_bearer(Some("Bearer s3cre"), Some(&token)), Err(ApiError::Unauthorized));
        assert_eq!(require_bearer(Some("s3cret"), Some(&token)), Err(ApiError::Unauthorized));
        assert_eq!(require_bearer(Some("Basic s3cret"), Some(&token)), Err(ApiError::Unauthorized));
        assert_eq!(require_bearer(None, Some(&token)), Err(ApiError::Unauthorized));
        assert_eq!(require_bearer(Some("Bearer s3cret"), None), Err(ApiError::MissingSecret("RESERVATIONS_API_TOKEN")));
    }

    #[test]
    fn the_live_route_takes_the_token_as_a_subprotocol_or_a_bearer() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let token = Secret::new("s3cret+/=");
        let offered = |value: &str| format!("taskrouter-edge.v1, bearer.{}", URL_SAFE_NO_PAD.encode(value));
        assert!(require_console_token(Some(&offered("s3cret+/=")), None, Some(&token)).is_ok());
        assert_eq!(require_console_token(Some(&offered("s3cret")), None, Some(&token)), Err(ApiError::Unauthorized));
        assert!(require_console_token(Some(&offered("s3cret+/=")), Some("Bearer s3cret+/="), Some(&token)).is_ok());
        assert_eq!(
            require_console_token(Some("taskrouter-edge.v1, bearer.%%%"), None, Some(&token)),
            Err(ApiError::Unauthorized)
        );
        assert!(require_console_token(Some("taskrouter-edge.v1"), Some("Bearer s3cret+/="), Some(&token)).is_ok());
        assert_eq!(require_console_token(Some("taskrouter-edge.v1"), None, Some(&token)), Err(ApiError::Unauthorized));
        assert_eq!(
            require_console_token(Some(&offered("x")), None, None),
            Err(ApiError::MissingSecret("RESERVATIONS_API_TOKEN"))
        );
    }

    #[test]
    fn replies_carry_the_error_shape() {
        let reply = Reply::error(&ApiError::MethodNotAllowed { method: "GET".into(), allow: "POST" });
        assert_eq!((reply.status, reply.allow), (405, Some("POST")));
        assert!(reply.body.contains("\"code\":\"method_not_allowed\""));
        assert_eq!(Reply::empty_object().body, "{}");
    }
}
