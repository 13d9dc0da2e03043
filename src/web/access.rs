//! Access in the worker: the team's keys, fetched and cached per isolate (fetched again for a
//! key id it has not seen, at most every [`REFETCH_AFTER_MS`]), and the signature checked by
//! WebCrypto's `RSASSA-PKCS1-v1_5` with SHA-256. The rules are `taskrouter_core::access::token`.

use std::cell::RefCell;
use std::time::Duration;

use futures_util::future::{Either, select};
use worker::js_sys::{self, Array, Function, Object, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Delay, Fetch, Method, Request, RequestInit};

use super::context::now;
use taskrouter_core::access::token::{self, AccessError, Jwk, Jwks, SignatureCheck, UnusableKey};
use taskrouter_core::access::{AccessSettings, Actor};

/// How soon the keys may be fetched again for an unknown key id: a forged `kid` cannot make
/// the worker fetch them on every request.
const REFETCH_AFTER_MS: u64 = 5_000;
/// How long the keys are kept before they are fetched again anyway (Access rotates them every
/// six weeks, the old one valid for seven more days).
const KEPT_MS: u64 = 60 * 60 * 1000;
/// How long the worker waits for the keys.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

thread_local! {
    /// The team's keys, by certs URL, with when they were fetched.
    static KEYS: RefCell<Option<(String, Jwks, u64)>> = const { RefCell::new(None) };
}

fn cached(url: &str) -> Option<(Jwks, u64)> {
    KEYS.with(|keys| {
        keys.borrow().as_ref().filter(|(at, ..)| at == url).map(|(_, jwks, fetched)| (jwks.clone(), *fetched))
    })
}

async fn fetch_keys(url: &str) -> Result<Jwks, AccessError> {
    let unavailable = |why: String| AccessError::KeysUnavailable(format!("{url}: {why}"));
    let mut init = RequestInit::new();
    init.with_method(Method::Get);
    let request = Request::new_with_init(url, &init).map_err(|e| unavailable(e.to_string()))?;
    let exchange = async {
        let mut response = Fetch::Request(request)
            .send()
            .await
            .map_err(|e| unavailable(crate::web::http::fetch_failure(&e.to_string())))?;
        if response.status_code() != 200 {
            return Err(unavailable(format!("answered {}", response.status_code())));
        }
        let text = response.text().await.map_err(|e| unavailable(e.to_string()))?;
        serde_json::from_str::<Jwks>(&text).map_err(|_| unavailable("not a JWKS".into()))
    };
    match select(std::pin::pin!(exchange), std::pin::pin!(Delay::from(FETCH_TIMEOUT))).await {
        Either::Left((keys, _)) => keys,
        Either::Right(_) => Err(unavailable(format!("no answer within {} s", FETCH_TIMEOUT.as_secs()))),
    }
}

/// The team's keys, from the cache when they are fresh and hold `kid`.
async fn keys_for(settings: &AccessSettings, kid: &str) -> Result<Jwks, AccessError> {
    let url = settings.certs_url();
    let now = now().as_millis();
    if let Some((keys, fetched)) = cached(&url) {
        let fresh = now.saturating_sub(fetched) < KEPT_MS;
        if fresh && (keys.key(kid).is_some() || now.saturating_sub(fetched) < REFETCH_AFTER_MS) {
            return Ok(keys);
        }
    }
    let keys = fetch_keys(&url).await?;
    KEYS.with(|cache| *cache.borrow_mut() = Some((url, keys.clone(), now)));
    Ok(keys)
}

/// WebCrypto's RSASSA-PKCS1-v1_5 with SHA-256.
struct WebCrypto;

fn js_error(value: JsValue) -> UnusableKey {
    UnusableKey(
        value
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_else(|| "WebCrypto failed".into()),
    )
}

fn object(members: &[(&str, JsValue)]) -> Result<Object, UnusableKey> {
    let object = Object::new();
    for (name, value) in members {
        Reflect::set(&object, &JsValue::from_str(name), value).map_err(js_error)?;
    }
    Ok(object)
}

async fn call(subtle: &JsValue, method: &str, arguments: &Array) -> Result<JsValue, UnusableKey> {
    let function: Function =
        Reflect::get(subtle, &JsValue::from_str(method)).map_err(js_error)?.dyn_into().map_err(js_error)?;
    let promise: Promise = function.apply(subtle, arguments).map_err(js_error)?.dyn_into().map_err(js_error)?;
    JsFuture::from(promise).await.map_err(js_error)
}

impl SignatureCheck for WebCrypto {
    async fn verify(&self, key: &Jwk, signed: &[u8], signature: &[u8]) -> Result<bool, UnusableKey> {
        let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).map_err(js_error)?;
        let subtle = Reflect::get(&crypto, &JsValue::from_str("subtle")).map_err(js_error)?;
        let jwk = object(&[
            ("kty", "RSA".into()),
            ("n", key.n.as_str().into()),
            ("e", key.e.as_str().into()),
            ("alg", "RS256".into()),
            ("ext", true.into()),
        ])?;
        let algorithm =
            object(&[("name", "RSASSA-PKCS1-v1_5".into()), ("hash", object(&[("name", "SHA-256".into())])?.into())])?;
        let usages = Array::of1(&"verify".into());
        let imported =
            call(&subtle, "importKey", &Array::of5(&"jwk".into(), &jwk, &algorithm, &false.into(), &usages)).await?;
        let verified = call(
            &subtle,
            "verify",
            &Array::of4(&algorithm, &imported, &Uint8Array::from(signature), &Uint8Array::from(signed)),
        )
        .await?;
        Ok(verified.as_bool().unwrap_or(false))
    }
}

/// The actor an Access JWT names, checked against the team's keys.
pub async fn actor(token_text: &str, settings: &AccessSettings) -> Result<Actor, AccessError> {
    let presented = token::read(token_text)?;
    let keys = keys_for(settings, &presented.kid).await?;
    token::check_presented(&presented, settings, &keys, &WebCrypto, now().as_millis() / 1000).await
}
