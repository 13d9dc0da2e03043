//! Workers KV behind the [`Kv`] interface: the only code that talks to KV.

use std::time::Duration;

use worker::kv::KvStore;
use worker::{Delay, Env};

use super::{Kv, ListedKey, ListedPage, OperationCounter, Operations, StoreError};
use crate::models::Summary;

/// The KV binding's name in wrangler.toml.
pub const BINDING: &str = "RESERVATIONS";

pub struct WorkersKv {
    kv: KvStore,
    /// What this request has cost so far, for its log line.
    operations: OperationCounter,
}

fn failed(action: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError(format!("{action}: {error}"))
}

impl WorkersKv {
    pub fn open(env: &Env) -> Result<WorkersKv, StoreError> {
        let kv = env
            .kv(BINDING)
            .map_err(|_| StoreError(format!("the {BINDING} KV binding is missing: add it to wrangler.toml")))?;
        Ok(WorkersKv { kv, operations: OperationCounter::default() })
    }
}

impl Kv for WorkersKv {
    /// As bytes, parsed by the caller: KV's own `json()` goes through JavaScript's `JSON.parse`,
    /// which rounds every number to a double (and costs a conversion per field).
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.operations.count(|o| o.reads += 1);
        self.kv.get(key).bytes().await.map_err(|e| failed("reading the store", e))
    }

    async fn put_once(
        &self,
        key: &str,
        value: &[u8],
        metadata: Option<&Summary>,
        expires_at_secs: u64,
    ) -> Result<(), StoreError> {
        self.operations.count(|o| o.writes += 1);
        // Bytes, not `put(&str)`: that goes through serde_wasm_bindgen and float formatting.
        let mut put = self.kv.put_bytes(key, value).map_err(|e| failed("preparing a write", e))?;
        if let Some(metadata) = metadata {
            put = put.metadata(metadata).map_err(|e| failed("preparing a write", e))?;
        }
        put.expiration(expires_at_secs).execute().await.map_err(|e| failed("writing the store", e))
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
        let page = list.execute().await.map_err(|e| failed("listing the store", e))?;
        let keys = page.keys.into_iter().map(|key| ListedKey { name: key.name, metadata: key.metadata }).collect();
        Ok(ListedPage { keys, cursor: page.cursor.filter(|_| !page.list_complete) })
    }

    async fn pause(&self, ms: u64) {
        Delay::from(Duration::from_millis(ms)).await;
    }

    fn operations(&self) -> Operations {
        self.operations.get()
    }
}
