//! Workers KV behind the [`Kv`] interface, through workers-rs's `KvStore`: the only code that
//! talks to KV.

use std::time::Duration;

use worker::kv::{KvError, KvStore};
use worker::wasm_bindgen::JsCast;
use worker::{Delay, Env, js_sys};

use taskrouter_core::models::Summary;
use taskrouter_core::store::{Kv, ListedKey, ListedPage, OperationCounter, Operations, StoreError};

/// The KV binding's name in wrangler.toml.
pub const BINDING: &str = "RESERVATIONS";

pub struct WorkersKv {
    kv: KvStore,
    /// What this request has cost so far, for its log line.
    operations: OperationCounter,
}

impl WorkersKv {
    pub fn open(env: &Env) -> Result<WorkersKv, StoreError> {
        let kv = env.kv(BINDING).map_err(|_| StoreError::NotBound(BINDING))?;
        Ok(WorkersKv { kv, operations: OperationCounter::default() })
    }
}

/// What KV's failure says: an `Error`'s message, or the text of anything else thrown.
fn message(error: &KvError) -> String {
    match error {
        KvError::JavaScript(thrown) => thrown
            .dyn_ref::<js_sys::Error>()
            .map(|error| String::from(error.message()))
            .or_else(|| thrown.as_string())
            .unwrap_or_else(|| "an error without a message".to_owned()),
        other => other.to_string(),
    }
}

/// A failure as the store's kind of error. KV's runtime reports a write refused for its
/// one-write-per-second limit as an `Error` whose message holds the status (`KV PUT failed: 429
/// Too Many Requests`), with no other field to tell it by: this is the one place that reads it.
fn failed(action: &'static str, error: KvError) -> StoreError {
    let reason = message(&error);
    if reason.contains(" 429 ") || reason.contains("Too Many Requests") {
        StoreError::RateLimited { action, reason }
    } else {
        StoreError::Unavailable { action, reason }
    }
}

impl Kv for WorkersKv {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.operations.count(|o| o.reads += 1);
        self.kv.get(key).text().await.map_err(|e| failed("reading the store", e))
    }

    async fn put_once(
        &self,
        key: &str,
        value: &str,
        metadata: Option<&Summary>,
        expires_at_secs: u64,
    ) -> Result<(), StoreError> {
        self.operations.count(|o| o.writes += 1);
        let write = || -> Result<_, KvError> {
            let put = self.kv.put(key, value)?.expiration(expires_at_secs);
            Ok(match metadata {
                Some(summary) => put.metadata(summary)?,
                None => put,
            })
        };
        let put = write().map_err(|e| failed("writing the store", e))?;
        put.execute().await.map_err(|e| failed("writing the store", e))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.operations.count(|o| o.writes += 1);
        self.kv.delete(key).await.map_err(|e| failed("deleting from the store", e))
    }

    async fn list(&self, prefix: &str, cursor: Option<&str>, limit: usize) -> Result<ListedPage, StoreError> {
        self.operations.count(|o| o.lists += 1);
        let mut list = self.kv.list().prefix(prefix.to_owned()).limit(limit as u64);
        if let Some(cursor) = cursor {
            list = list.cursor(cursor.to_owned());
        }
        let listed = list.execute().await.map_err(|e| failed("listing the store", e))?;
        Ok(ListedPage {
            keys: listed.keys.into_iter().map(|key| ListedKey { name: key.name, metadata: key.metadata }).collect(),
            cursor: listed.cursor.filter(|_| !listed.list_complete),
        })
    }

    async fn pause(&self, ms: u64) {
        Delay::from(Duration::from_millis(ms)).await;
    }

    fn operations(&self) -> Operations {
        self.operations.get()
    }
}
