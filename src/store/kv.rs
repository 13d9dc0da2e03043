//! Workers KV behind the [`Kv`] interface: the only code that talks to KV.
//!
//! The binding is called directly, not through `worker::kv::KvStore`: that wrapper looks up its
//! five methods on every `env.kv()` (six crossings into JavaScript per request) and converts
//! options, metadata and listings field by field with `serde_wasm_bindgen` (a crossing per
//! field, and about 20 KB of wasm). Here each operation is one call into `kv.js`, which makes
//! the options object and reports the result to one function the worker made once
//! (`settled.rs`): metadata and a listing's options cross as one JSON text each, a listing comes
//! back as one JSON text, and values as bytes.

use serde::Serialize;
use wasm_bindgen::prelude::wasm_bindgen;
use worker::Env;
use worker::js_sys::{self, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};

use super::settled::{Settling, settling};
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
}

#[wasm_bindgen(module = "/src/store/kv.js")]
extern "C" {
    #[wasm_bindgen(js_name = kvGet)]
    fn kv_get(kv: &KvNamespace, key: &str, slot: u32, settled: &JsValue);

    /// `expiration` in seconds since the epoch (a whole number, exact as a double).
    #[wasm_bindgen(js_name = kvPut)]
    fn kv_put(
        kv: &KvNamespace,
        key: &str,
        value: &[u8],
        expiration: f64,
        metadata: Option<&str>,
        slot: u32,
        settled: &JsValue,
    );

    #[wasm_bindgen(js_name = kvDelete)]
    fn kv_delete(kv: &KvNamespace, key: &str, slot: u32, settled: &JsValue);

    #[wasm_bindgen(js_name = kvList)]
    fn kv_list(kv: &KvNamespace, options: &str, slot: u32, settled: &JsValue);

    fn sleep(ms: f64, slot: u32, settled: &JsValue);
}

pub struct WorkersKv {
    kv: KvNamespace,
    /// What this request has cost so far, for its log line.
    operations: OperationCounter,
}

fn failed(action: &str, error: JsValue) -> StoreError {
    StoreError(format!("{action}: {}", thrown::message(error)))
}

/// What an operation gave, or why it failed, named by `action`. Takes the started operation, not
/// the call that starts it, so that it is one function, not one per call.
async fn call(action: &str, operation: Settling) -> Result<JsValue, StoreError> {
    operation.await.map_err(|error| failed(action, error))
}

/// A call's metadata or options, as the JSON text `kv.js` parses.
fn json_text<T: Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError(format!("preparing a store call: {error}")))
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
        let value = call("reading the store", settling(|slot, settled| kv_get(&self.kv, key, slot, settled))).await?;
        Ok((!value.is_null()).then(|| value.unchecked_into::<Uint8Array>().to_vec()))
    }

    async fn put_once(
        &self,
        key: &str,
        value: &[u8],
        metadata: Option<&Summary>,
        expires_at_secs: u64,
    ) -> Result<(), StoreError> {
        self.operations.count(|o| o.writes += 1);
        let metadata = metadata.map(json_text).transpose()?;
        let expiration = expires_at_secs as f64;
        let put =
            settling(|slot, settled| kv_put(&self.kv, key, value, expiration, metadata.as_deref(), slot, settled));
        call("writing the store", put).await.map(drop)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.operations.count(|o| o.writes += 1);
        call("deleting from the store", settling(|slot, settled| kv_delete(&self.kv, key, slot, settled)))
            .await
            .map(drop)
    }

    async fn list(&self, prefix: &str, cursor: Option<&str>, limit: usize) -> Result<ListedPage, StoreError> {
        self.operations.count(|o| o.lists += 1);
        let options = json_text(&ListOptions { prefix, limit, cursor })?;
        let text = call("listing the store", settling(|slot, settled| kv_list(&self.kv, &options, slot, settled)))
            .await?
            .as_string()
            .ok_or_else(|| StoreError("reading a listing: it is not text".to_owned()))?;
        let listing: Listing =
            crate::json::parse(&text).map_err(|error| StoreError(format!("reading a listing: {error}")))?;
        Ok(ListedPage { keys: listing.keys, cursor: listing.cursor.filter(|_| !listing.list_complete) })
    }

    async fn pause(&self, ms: u64) {
        // A timer never rejects.
        let _ = settling(|slot, settled| sleep(ms as f64, slot, settled)).await;
    }

    fn operations(&self) -> Operations {
        self.operations.get()
    }
}
