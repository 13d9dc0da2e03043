//! The incoming request, read through `web_sys` directly, and the two gates: Twilio's signature,
//! the operator token.
//!
//! Not `worker::Request`: its conversion reads `request.cf` on every request (a crossing into
//! JavaScript that builds the object, about 0.1 ms of CPU per request in the profile; on
//! Cloudflare `cf` is larger still), and it copies the method and path eagerly. This worker
//! never uses `cf`, so it reads only what it needs, when it needs it.

use futures_util::StreamExt;
use worker::js_sys::Uint8Array;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys;

use crate::config::Config;
use crate::error::ApiError;
use crate::http::{self, FORM, JSON};
use crate::twilio::{FormParams, signature};

pub struct Incoming {
    raw: web_sys::Request,
    /// Fetched from the request once: each `headers()` is a crossing of its own.
    headers: web_sys::Headers,
    /// As the runtime serialized it. Kept as text: parsing it with the `url` crate would bring
    /// IDNA's Unicode tables into the bundle for nothing.
    url: String,
}

impl Incoming {
    pub fn new(raw: web_sys::Request) -> Incoming {
        let url = raw.url();
        let headers = raw.headers();
        Incoming { raw, headers, url }
    }

    pub fn method(&self) -> String {
        self.raw.method()
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn path(&self) -> &str {
        http::path_of(&self.url)
    }

    pub fn query(&self) -> &str {
        http::query_of(&self.url)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).ok().flatten()
    }

    /// The body, if it has the expected media type and fits the limit. A body that declares its
    /// length (TaskRouter's do) is refused by it before any byte is read, then read at once:
    /// HTTP framing holds it to that length. A body that declares none (chunked) is read as a
    /// stream and refused at the first chunk past the limit: an upload of any size costs at
    /// most the limit in memory, and its sender hears 413 before it has finished sending.
    /// Reading chunk by chunk costs about 0.1 ms of CPU more per request (a crossing into
    /// JavaScript per chunk), so it is kept for the bodies that need it.
    pub async fn body(&self, media_type: &'static str) -> Result<Vec<u8>, ApiError> {
        http::require_media_type(self.header("content-type").as_deref(), media_type)?;
        let mut limited = http::LimitedBody::default();
        if http::check_declared_length(self.header("content-length").as_deref())?.is_some() {
            let buffer = self.raw.array_buffer().map_err(|_| ApiError::UnreadableBody)?;
            let buffer = JsFuture::from(buffer).await.map_err(|_| ApiError::UnreadableBody)?;
            limited.push(&Uint8Array::new(&buffer).to_vec())?;
            return Ok(limited.into_bytes());
        }
        // No body stream at all: an empty body.
        let Some(stream) = self.raw.body() else { return Ok(Vec::new()) };
        let mut chunks = wasm_streams::ReadableStream::from_raw(stream.unchecked_into()).into_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk: JsValue = chunk.map_err(|_| ApiError::UnreadableBody)?;
            let chunk = chunk.dyn_into::<Uint8Array>().map_err(|_| ApiError::UnreadableBody)?;
            limited.push(&chunk.to_vec())?;
        }
        Ok(limited.into_bytes())
    }

    /// An operator's JSON body, parsed as `T` (whose unknown fields are refused).
    pub async fn json<T: for<'a> crate::json::FromJson<'a>>(&self) -> Result<T, ApiError> {
        crate::json::parse_bytes(&self.body(JSON).await?).map_err(|e| ApiError::InvalidJson(e.to_string()))
    }
}

/// The form parameters of a request from TaskRouter, once its `X-Twilio-Signature` checks out.
pub async fn twilio_form(req: &Incoming, config: &Config) -> Result<FormParams, ApiError> {
    if config.twilio_auth_token.is_none() && !config.allow_unsigned_callbacks {
        return Err(ApiError::MissingSecret("TWILIO_AUTH_TOKEN"));
    }
    let params = FormParams::parse(&req.body(FORM).await?)?;
    match &config.twilio_auth_token {
        Some(token) => {
            let claimed = req.header("x-twilio-signature").ok_or(ApiError::MissingSignature)?;
            let url = config.signed_url(req.url());
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
pub fn operator(req: &Incoming, config: &Config) -> Result<(), ApiError> {
    http::require_bearer(req.header("authorization").as_deref(), config.reservations_api_token.as_ref())
}
