//! The store. [`Kv`] is what the project needs of Workers KV: get, put with metadata and an
//! expiry, list by prefix with cursors, and a pause. The worker's implementation is Workers KV
//! itself (`kv`, wasm only); `memory` is a twin that behaves as KV does, for tests on the host.
//! [`layout::Reservations`] is the key layout over it, the same for both.

#[cfg(target_arch = "wasm32")]
pub mod kv;
pub mod layout;
pub mod listing;
pub mod memory;
#[cfg(target_arch = "wasm32")]
mod settled;
pub mod slots;

use crate::models::Summary;

/// The store could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

/// KV accepts one write per second to a key and answers others with 429: such a write is tried
/// again after this long, up to [`WRITE_ATTEMPTS`] times in all (within TaskRouter's 5 s).
pub const WRITE_RETRY_DELAY_MS: u64 = 1_000;
pub const WRITE_ATTEMPTS: u32 = 3;

/// KV's largest page of keys.
pub const LIST_PAGE: usize = 1_000;

/// Whether a failed KV write was refused for writing the same key too often.
pub fn is_rate_limited(error: &StoreError) -> bool {
    error.0.contains("429") || error.0.contains("Too Many Requests")
}

/// One key of a listing, with its metadata as the JSON text the store holds: the listing reads
/// it as a [`Summary`] with the same reader as every other JSON text (see `crate::json`).
#[derive(Debug, Clone, PartialEq)]
pub struct ListedKey {
    pub name: String,
    pub metadata: Option<String>,
}

/// One page of keys, in key order; `cursor` is `None` on the last page.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedPage {
    pub keys: Vec<ListedKey>,
    pub cursor: Option<String>,
}

/// KV operations made (attempts, including refused writes), by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Operations {
    pub reads: u64,
    /// Writes and deletes.
    pub writes: u64,
    pub lists: u64,
}

/// Counts the operations made through one store handle.
#[derive(Debug, Default)]
pub struct OperationCounter(std::cell::Cell<Operations>);

impl OperationCounter {
    pub fn count(&self, op: impl FnOnce(&mut Operations)) {
        let mut operations = self.0.get();
        op(&mut operations);
        self.0.set(operations);
    }

    pub fn get(&self) -> Operations {
        self.0.get()
    }
}

/// What the project needs of a key-value store. Not `Send`: a Worker runs on one thread.
#[allow(async_fn_in_trait)]
pub trait Kv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// One attempt to write `value` (with `metadata`) under `key`, to expire at `expires_at_secs`
    /// (Unix time). Last writer wins; a second write to the same key within a second may be
    /// refused with 429.
    async fn put_once(
        &self,
        key: &str,
        value: &[u8],
        metadata: Option<&Summary>,
        expires_at_secs: u64,
    ) -> Result<(), StoreError>;

    /// Removes `key`.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;

    /// Up to `limit` keys starting with `prefix`, in key order, from `cursor` (a previous page's).
    async fn list(&self, prefix: &str, cursor: Option<&str>, limit: usize) -> Result<ListedPage, StoreError>;

    /// Waits `ms` (a timer in the worker; the twin's clock moves instead).
    async fn pause(&self, ms: u64);

    /// The operations made through this handle so far.
    fn operations(&self) -> Operations;

    /// Writes; a write refused by KV's one-write-per-second limit is tried again after
    /// [`WRITE_RETRY_DELAY_MS`], up to [`WRITE_ATTEMPTS`] times. The one retry rule.
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        metadata: Option<&Summary>,
        expires_at_secs: u64,
    ) -> Result<(), StoreError> {
        let mut attempt = 1;
        loop {
            match self.put_once(key, value, metadata, expires_at_secs).await {
                Err(error) if attempt < WRITE_ATTEMPTS && is_rate_limited(&error) => {
                    self.pause(WRITE_RETRY_DELAY_MS).await;
                    attempt += 1;
                }
                done => return done,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_kv_rate_limits_are_retried() {
        assert!(is_rate_limited(&StoreError("KV PUT failed: 429 Too Many Requests".into())));
        assert!(!is_rate_limited(&StoreError("KV PUT failed: 500 Internal Server Error".into())));
        assert!(!is_rate_limited(&StoreError("network connection lost".into())));
    }
}
