//! The incoming request, and the two gates: Twilio's signature, the operator token.

use std::cell::RefCell;

use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Request, js_sys};

use super::auth::{self, Signer};
use super::error::ApiError;
use super::http::{self, FORM, JSON};
use super::log::{RequestLog, SignedWith};
use taskrouter_core::access::Actor;
use taskrouter_core::access::token::AccessError;
use taskrouter_core::config::Config;
use taskrouter_core::twilio::FormParams;
use taskrouter_core::twilio::signature::{self, Algorithm, SETTINGS_HEADER};

pub struct Incoming {
    /// Its body is read once, so the request is borrowed mutably then.
    raw: RefCell<Request>,
    method: String,
    /// As the runtime serialized it: what Twilio's signature is checked against.
    url: String,
    /// The same, parsed: its path and query route the request.
    parsed: Option<url::Url>,
}

impl Incoming {
    pub fn new(raw: Request) -> Incoming {
        let method = raw.method().to_string();
        let url = raw.inner().url();
        let parsed = http::parse_url(&url);
        Incoming { raw: RefCell::new(raw), method, url, parsed }
    }

    pub fn method(&self) -> String {
        self.method.clone()
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn path(&self) -> &str {
        self.parsed.as_ref().map_or("/", url::Url::path)
    }

    pub fn query(&self) -> &str {
        self.parsed.as_ref().and_then(url::Url::query).unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.raw.borrow().headers().get(name).ok().flatten()
    }

    /// The body, if it has the expected media type and fits the limit. A body that declares its
    /// length (TaskRouter's do) is refused by it before any byte is read, then read at once: HTTP
    /// framing holds it to that length. A body that declares none is read as a stream and refused
    /// at the first chunk past the limit, so an upload of any size costs at most the limit in
    /// memory.
    pub async fn body(&self, media_type: &'static str) -> Result<Vec<u8>, ApiError> {
        http::require_media_type(self.header("content-type").as_deref(), media_type)?;
        let declared = http::check_declared_length(self.header("content-length").as_deref())?;
        let mut limited = http::LimitedBody::default();
        if declared.is_some() {
            let read = self.raw.borrow().inner().array_buffer().map_err(|_| ApiError::UnreadableBody)?;
            let buffer = JsFuture::from(read).await.map_err(|_| ApiError::UnreadableBody)?;
            limited.push(&js_sys::Uint8Array::new(&buffer).to_vec())?;
            return Ok(limited.into_bytes());
        }
        // No body at all is an empty one.
        if self.raw.borrow().inner().body().is_none() {
            return Ok(Vec::new());
        }
        let mut chunks = self.raw.borrow_mut().stream().map_err(|_| ApiError::UnreadableBody)?;
        while let Some(chunk) = chunks.next().await {
            limited.push(&chunk.map_err(|_| ApiError::UnreadableBody)?)?;
        }
        Ok(limited.into_bytes())
    }

    /// An operator's JSON body, parsed as `T`.
    pub async fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        http::read_json(&self.body(JSON).await?)
    }
}

/// The signer the request names (see [`auth::signer`]), recorded in the log line.
fn signer<'c>(req: &Incoming, config: &'c Config, log: &mut RequestLog) -> Result<Signer<'c>, ApiError> {
    let signer = auth::signer(config, req.header(SETTINGS_HEADER).as_deref())?;
    let (key, algorithm) = signer.describe();
    log.signed_with = Some(SignedWith { key, algorithm });
    Ok(signer)
}

/// Checks `X-Twilio-Signature` over the URL and `params` under the key and algorithm `signer`
/// gives. `ALLOW_UNSIGNED_CALLBACKS` without an auth token lets the request through unchecked,
/// with a warning in the log.
fn check_signature(req: &Incoming, config: &Config, signer: &Signer, params: &FormParams) -> Result<(), ApiError> {
    let (secret, algorithm) = match signer {
        Signer::AuthToken(token) => (*token, Algorithm::HmacSha1),
        Signer::SharedKey { secret, algorithm, .. } => (*secret, *algorithm),
        Signer::Unchecked => {
            worker::console_warn!(
                "{{\"warning\":\"ALLOW_UNSIGNED_CALLBACKS is true and TWILIO_AUTH_TOKEN is unset: this request's signature was NOT checked\"}}"
            );
            return Ok(());
        }
    };
    let claimed = req.header("x-twilio-signature").ok_or(ApiError::MissingSignature)?;
    if !signature::is_valid(secret.expose(), &claimed, &config.signed_url(req.url()), params, algorithm) {
        let (key, algorithm) = signer.describe();
        return Err(ApiError::InvalidSignature(format!("{key} ({algorithm})")));
    }
    Ok(())
}

/// The form parameters of a request from TaskRouter, once its `X-Twilio-Signature` checks out.
pub async fn twilio_form(req: &Incoming, config: &Config, log: &mut RequestLog) -> Result<FormParams, ApiError> {
    let signer = signer(req, config, log)?;
    let params = FormParams::parse(&req.body(FORM).await?)?;
    check_signature(req, config, &signer, &params)?;
    Ok(params)
}

/// The body of a request from an Event Streams webhook Sink, once its `X-Twilio-Signature` (over
/// the URL alone, its `bodySHA256` included) checks out and the body is the one that hash names.
/// The same keys and algorithms as TaskRouter's other routes.
pub async fn twilio_json(req: &Incoming, config: &Config, log: &mut RequestLog) -> Result<Vec<u8>, ApiError> {
    let signer = signer(req, config, log)?;
    let body = req.body(JSON).await?;
    check_signature(req, config, &signer, &FormParams::default())?;
    if !matches!(signer, Signer::Unchecked)
        && !taskrouter_core::twilio::event_stream::body_hash_matches(req.query(), &body)
    {
        return Err(ApiError::InvalidBodyHash);
    }
    Ok(body)
}

/// Who the operator is, by what `OPERATOR_AUTH` accepts: a valid Cloudflare Access JWT
/// (`Cf-Access-Jwt-Assertion`), or the bearer token. A JWT that is present is checked and never
/// passed over for the token; under `access` alone there is no other way in.
pub async fn operator(req: &Incoming, config: &Config, log: &mut RequestLog) -> Result<Actor, ApiError> {
    operator_by(req, config, log, || {
        auth::require_bearer(req.header("authorization").as_deref(), config.reservations_api_token.as_ref())
    })
    .await
}

/// [`operator`], with the token presented as `token_check` reads it (`GET /live` also takes it
/// from a subprotocol).
pub async fn operator_by(
    req: &Incoming,
    config: &Config,
    log: &mut RequestLog,
    token_check: impl FnOnce() -> Result<(), ApiError>,
) -> Result<Actor, ApiError> {
    let allowed = config.operator_auth()?;
    let actor = match (&allowed.access, req.header("cf-access-jwt-assertion")) {
        (Some(settings), Some(jwt)) => super::access::actor(&jwt, settings).await.map_err(ApiError::Access)?,
        (Some(_), None) if !allowed.token => return Err(ApiError::Access(AccessError::Missing)),
        _ => {
            token_check()?;
            Actor::OperatorToken
        }
    };
    log.actor = Some(actor.recorded());
    Ok(actor)
}
