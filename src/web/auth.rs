//! Who may call: TaskRouter's signature (who must have signed a request), the operator's bearer
//! token, and the console's token on its WebSocket. Each check fails closed: a secret that is
//! not configured lets nothing in.

use base64::Engine;

use super::error::ApiError;
use taskrouter_core::config::rest::UnsetSecret;
use taskrouter_core::config::{Config, Secret};
use taskrouter_core::twilio::signature::{Algorithm, SignatureSettings};

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
/// Token with HMAC-SHA1.
pub fn signer<'a>(config: &'a Config, settings: Option<&str>) -> Result<Signer<'a>, ApiError> {
    // A malformed TWILIO_WEBHOOK_SHARED_KEYS stops every Twilio route, header or not.
    let shared_keys = config.webhook_shared_keys()?;
    let Some(settings) = settings.filter(|header| !header.trim().is_empty()) else {
        return match (&config.twilio_auth_token, config.allow_unsigned_callbacks) {
            (Some(token), _) => Ok(Signer::AuthToken(token)),
            (None, true) => Ok(Signer::Unchecked),
            (None, false) => Err(ApiError::from(UnsetSecret("TWILIO_AUTH_TOKEN"))),
        };
    };
    let settings = SignatureSettings::read(settings);
    let algorithm = Algorithm::named(settings.algorithm)
        .ok_or_else(|| ApiError::UnsupportedSignatureAlgorithm(echoed(settings.algorithm)))?;
    let keys = shared_keys.ok_or(ApiError::from(UnsetSecret("TWILIO_WEBHOOK_SHARED_KEYS")))?;
    let id = settings.key.unwrap_or_default();
    let secret = keys.secret(id).ok_or_else(|| ApiError::UnknownSigningKey(echoed(id)))?;
    Ok(Signer::SharedKey { id: id.to_owned(), secret, algorithm })
}

/// The token of `Bearer <token>`; the scheme's name is case-insensitive (RFC 9110).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token)
}

/// `Authorization: Bearer <token>` against the configured operator token. No token configured
/// means the operator API is closed.
pub fn require_bearer(header: Option<&str>, token: Option<&Secret>) -> Result<(), ApiError> {
    let token = token.ok_or(ApiError::from(UnsetSecret("RESERVATIONS_API_TOKEN")))?;
    let presented = header.and_then(|value| bearer_token(value.trim())).map(str::trim).ok_or(ApiError::Unauthorized)?;
    if token.matches(presented) { Ok(()) } else { Err(ApiError::TokenRefused) }
}

/// The subprotocol that carries the operator token to `GET /live`: `bearer.` followed by the token
/// in unpadded base64url, which a browser may send in `Sec-WebSocket-Protocol` (it cannot send an
/// `Authorization` header with a WebSocket, and a token in the URL would reach logs).
pub const BEARER_PROTOCOL: &str = "bearer.";

/// The subprotocols a WebSocket client offers in `Sec-WebSocket-Protocol`.
pub fn offered_protocols(header: Option<&str>) -> impl Iterator<Item = &str> {
    header.into_iter().flat_map(|header| header.split(',')).map(str::trim)
}

/// `GET /live`'s gate: the operator token from the `bearer.` subprotocol, or from `Authorization`.
pub fn require_console_token(
    protocols: Option<&str>,
    authorization: Option<&str>,
    token: Option<&Secret>,
) -> Result<(), ApiError> {
    let offered = offered_protocols(protocols);
    let Some(encoded) = offered.filter_map(|protocol| protocol.strip_prefix(BEARER_PROTOCOL)).next() else {
        return require_bearer(authorization, token);
    };
    let token = token.ok_or(ApiError::from(UnsetSecret("RESERVATIONS_API_TOKEN")))?;
    let presented = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or(ApiError::Unauthorized)?;
    if token.matches(presented.trim()) { Ok(()) } else { Err(ApiError::TokenRefused) }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_operator_api_fails_closed() {
        let token = Secret::new("s3cret");
        assert!(require_bearer(Some("Bearer s3cret"), Some(&token)).is_ok());
        assert!(require_bearer(Some("bearer s3cret"), Some(&token)).is_ok());
        assert!(require_bearer(Some("BEARER  s3cret "), Some(&token)).is_ok());
        assert!(require_bearer(Some("Basic s3cret"), Some(&token)).is_err());
        assert_eq!(require_bearer(Some("Bearer s3cre"), Some(&token)), Err(ApiError::TokenRefused), "sent, and wrong");
        assert_eq!(require_bearer(Some("s3cret"), Some(&token)), Err(ApiError::Unauthorized));
        assert_eq!(require_bearer(Some("Basic s3cret"), Some(&token)), Err(ApiError::Unauthorized));
        assert_eq!(require_bearer(None, Some(&token)), Err(ApiError::Unauthorized));
        assert_eq!(
            require_bearer(Some("Bearer s3cret"), None),
            Err(ApiError::from(UnsetSecret("RESERVATIONS_API_TOKEN")))
        );
    }

    #[test]
    fn the_live_route_takes_the_token_as_a_subprotocol_or_a_bearer() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let token = Secret::new("s3cret+/=");
        let offered = |value: &str| format!("taskrouter-edge.v1, bearer.{}", URL_SAFE_NO_PAD.encode(value));
        assert!(require_console_token(Some(&offered("s3cret+/=")), None, Some(&token)).is_ok());
        assert_eq!(require_console_token(Some(&offered("s3cret")), None, Some(&token)), Err(ApiError::TokenRefused));
        assert!(require_console_token(Some(&offered("s3cret+/=")), Some("Bearer s3cret+/="), Some(&token)).is_ok());
        assert_eq!(
            require_console_token(Some("taskrouter-edge.v1, bearer.%%%"), None, Some(&token)),
            Err(ApiError::Unauthorized)
        );
        assert!(require_console_token(Some("taskrouter-edge.v1"), Some("Bearer s3cret+/="), Some(&token)).is_ok());
        assert_eq!(require_console_token(Some("taskrouter-edge.v1"), None, Some(&token)), Err(ApiError::Unauthorized));
        assert_eq!(
            require_console_token(Some(&offered("x")), None, None),
            Err(ApiError::from(UnsetSecret("RESERVATIONS_API_TOKEN")))
        );
    }
}
