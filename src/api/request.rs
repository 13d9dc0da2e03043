//! Reading bodies under the limit, and the two gates: Twilio's signature, the operator token.

use futures_util::StreamExt;
use worker::Request;

use crate::config::Config;
use crate::error::ApiError;
use crate::http::{self, FORM};
use crate::twilio::{FormParams, signature};

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// The URL as the runtime serialized it. Read as text: parsing it with the `url` crate
/// (`Request::url`) would bring IDNA's Unicode tables into the bundle for nothing.
pub fn url(req: &Request) -> String {
    req.inner().url()
}

/// The query string, without `?`.
pub fn query(req: &Request) -> String {
    let url = url(req);
    let without_fragment = url.split('#').next().unwrap_or_default();
    without_fragment.split_once('?').map(|(_, query)| query.to_owned()).unwrap_or_default()
}

/// The body, if it has the expected media type and fits the limit. A body that declares its
/// length (TaskRouter's do) is refused by it before any byte is read, then read at once: HTTP
/// framing holds it to that length. A body that declares none (chunked) is read as a stream and
/// refused at the first chunk past the limit: an upload of any size costs at most the limit in
/// memory, and its sender hears 413 before it has finished sending. Reading chunk by chunk costs
/// about 0.1 ms of CPU more per request (a crossing into JavaScript per chunk), so it is kept for
/// the bodies that need it.
pub async fn body(req: &mut Request, media_type: &'static str) -> Result<Vec<u8>, ApiError> {
    http::require_media_type(header(req, "content-type").as_deref(), media_type)?;
    if http::check_declared_length(header(req, "content-length").as_deref())?.is_some() {
        let body = req.bytes().await.map_err(|_| ApiError::UnreadableBody)?;
        let mut limited = http::LimitedBody::default();
        limited.push(&body)?;
        return Ok(limited.into_bytes());
    }
    // No body stream at all: an empty body.
    let Ok(mut stream) = req.stream() else { return Ok(Vec::new()) };
    let mut body = http::LimitedBody::default();
    while let Some(chunk) = stream.next().await {
        body.push(&chunk.map_err(|_| ApiError::UnreadableBody)?)?;
    }
    Ok(body.into_bytes())
}

/// The form parameters of a request from TaskRouter, once its `X-Twilio-Signature` checks out.
pub async fn twilio_form(req: &mut Request, config: &Config) -> Result<FormParams, ApiError> {
    if config.twilio_auth_token.is_none() && !config.allow_unsigned_callbacks {
        return Err(ApiError::MissingSecret("TWILIO_AUTH_TOKEN"));
    }
    let params = FormParams::parse(&body(req, FORM).await?)?;
    match &config.twilio_auth_token {
        Some(token) => {
            let claimed = header(req, "x-twilio-signature").ok_or(ApiError::MissingSignature)?;
            let url = config.signed_url(&url(req));
            if !signature::is_valid(token.expose(), &claimed, &url, &params) {
                return Err(ApiError::InvalidSignature);
            }
        }
        None => worker::console_warn!(
            "{{\"warning\":\"ALLOW_UNSIGNED_CALLBACKS is true and TWILIO_AUTH_TOKEN is unset: this request's signature was NOT checked\"}}"
        ),
    }
    Ok(params)
}

/// Lets the request through only with the operator's bearer token.
pub fn operator(req: &Request, config: &Config) -> Result<(), ApiError> {
    http::require_bearer(header(req, "authorization").as_deref(), config.reservations_api_token.as_ref())
}
