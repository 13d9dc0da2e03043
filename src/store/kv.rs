//! Workers KV behind the [`Kv`] interface: the only code that talks to KV.
//!
//! The binding is called directly, not through `worker::kv::KvStore`: that wrapper looks up its
//! five methods on every `env.kv()` (six crossings into JavaScript per request) and converts
//! options, metadata and listings field by field with `serde_wasm_bindgen` (a crossing per
//! field, and about 20 KB of wasm). Here options and metadata cross as one JSON text each
//! (`JSON.parse` on the JavaScript side), a listing comes back as one JSON text
//! (`JSON.stringify`), and values as bytes.

use std::time::Duration;

use serde::Serialize;
use wasm_bindgen::prelude::wasm_bindgen;
use worker::js_sys::{self, JSON, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Delay, Env};

use super::{Kv, ListedKey, ListedPage, OperationCounter, Operations, StoreError};
use crate::json::{self, Fields, FromJson};
use crate::models::Summary;
use crate::thrown;

/// The KV binding's name in wrangler.toml.
pub const BINDING: &str = "RESERVATIONS";

#[wasm_bindgen]
extern "C" {
    /// A Workers KV namespace binding, as the runtime gives it.
    #[wasm_bindgen(extends = js_sys::Object)]
    type KvNamespace;

    #[wasm_bindgen(method, catch)]
    fn get(this: &KvNamespace, key: &str, kind: &str) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn put(this: &KvNamespace, key: &str, value: &Uint8Array, options: &JsValue) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn delete(this: &KvNamespace, key: &str) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn list(this: &KvNamespace, options: &JsValue) -> Result<Promise, JsValue>;
}

pub struct WorkersKv {
    kv: KvNamespace,
    /// What this request has cost so far, for its log line.
    operations: OperationCounter,
}

fn failed(action: &str, error: JsValue) -> StoreError {
    StoreError(format!("{action}: {}", thrown::message(error)))
}

async fn settle(action: &str, call: Result<Promise, JsValue>) -> Result<JsValue, StoreError> {
    let promise = call.map_err(|error| failed(action, error))?;
    JsFuture::from(promise).await.map_err(|error| failed(action, error))
}

/// A call's options as the JavaScript object they describe: written as one JSON text and parsed
/// once, not set field by field (a crossing each).
fn call_options<T: Serialize>(options: &T) -> Result<JsValue, StoreError> {
    let text =
        serde_json::to_string(options).map_err(|error| StoreError(format!("preparing a store call: {error}")))?;
    JSON::parse(&text).map_err(|error| failed("preparing a store call", error))
}

/// `put`'s options.
#[derive(Serialize)]
struct PutOptions<'a> {
    expiration: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a Summary>,
}

/// `list`'s options.
#[derive(Serialize)]
struct ListOptions<'a> {
    prefix: &'a str,
    limit: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<&'a str>,
}

/// What `list` answers, as JSON.
struct Listing {
    keys: Vec<ListedKey>,
    list_complete: bool,
    cursor: Option<String>,
}

impl<'a> FromJson<'a> for Listing {
    fn from_json(text: &'a str) -> Result<Self, json::Error> {
        let fields = Fields::parse(text)?;
        Ok(Listing {
            keys: fields.required("keys")?,
            list_complete: fields.required("list_complete")?,
            cursor: fields.optional("cursor")?,
        })
    }
}

/// A listed key, its metadata kept as the JSON text it is (read as a `Summary` by the layout).
impl<'a> FromJson<'a> for ListedKey {
    fn from_json(text: &'a str) -> Result<Self, json::Error> {
        let fields = Fields::parse(text)?;
        Ok(ListedKey { name: fields.required("name")?, metadata: fields.text("metadata").map(str::to_owned) })
    }
}

impl WorkersKv {
    pub fn open(env: &Env) -> Result<WorkersKv, StoreError> {
        let binding = Reflect::get(env, &JsValue::from_str(BINDING)).unwrap_or(JsValue::UNDEFINED);
        if !binding.is_object() {
            return Err(StoreError(format!("the {BINDING} KV binding is missing: add it to wrangler.toml")));
        }
        Ok(WorkersKv { kv: binding.unchecked_into(), operations: OperationCounter::default() })
    }
}

impl Kv for WorkersKv {
    /// As bytes, parsed by the caller: KV's own `json()` goes through JavaScript's `JSON.parse`,
    /// which rounds every number to a double.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.operations.count(|o| o.reads += 1);
        let value = settle("reading the store", self.kv.get(key, "arrayBuffer")).await?;
        Ok((!value.is_null() && !value.is_undefined()).then(|| Uint8Array::new(&value).to_vec()))
    }

    async fn put_once(
        &self,
        key: &str,
        value: &[u8],
        metadata: Option<&Summary>,
        expires_at_secs: u64,
    ) -> Result<(), StoreError> {
        self.operations.count(|o| o.writes += 1);
        let options = call_options(&PutOptions { expiration: expires_at_secs, metadata })?;
        settle("writing the store", self.kv.put(key, &Uint8Array::from(value), &options)).await.map(drop)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.operations.count(|o| o.writes += 1);
        settle("deleting from the store", self.kv.delete(key)).await.map(drop)
    }

    async fn list(&self, prefix: &str, cursor: Option<&str>, limit: usize) -> Result<ListedPage, StoreError> {
        self.operations.count(|o| o.lists += 1);
        let options = call_options(&ListOptions { prefix, limit, cursor })?;
        let answer = settle("listing the store", self.kv.list(&options)).await?;
        let text = JSON::stringify(&answer).map_err(|error| failed("reading a listing", error))?;
        let listing: Listing = crate::json::parse(&String::from(text))
            .map_err(|error| StoreError(format!("reading a listing: {error}")))?;
        Ok(ListedPage { keys: listing.keys, cursor: listing.cursor.filter(|_| !listing.list_complete) })
    }

    async fn pause(&self, ms: u64) {
        Delay::from(Duration::from_millis(ms)).await;
    }

    fn operations(&self) -> Operations {
        self.operations.get()
    }
}
