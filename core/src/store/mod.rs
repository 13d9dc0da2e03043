//! The store. [`Kv`] is what the project needs of Workers KV: get, put with metadata and an
//! expiry, list by prefix with cursors, and a pause. The worker's implementation is Workers KV
//! through workers-rs (the Worker's `web::kv`); [`memory::MemoryKv`] is a twin that behaves as
//! KV does, for tests on the host. [`layout::Reservations`] is the key layout over it, the same
//! for both.

pub mod keys;
pub mod layout;
pub mod memory;

use crate::models::Summary;

/// Why the store could not be read or written. The kind decides what happens next: a rate limit
/// is waited out and the write tried again; anything else fails the request with `503`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// KV refused a write because the key was written less than a second ago (`429`).
    #[error("{action}: {reason}")]
    RateLimited { action: &'static str, reason: String },
    /// KV failed, or could not be reached.
    #[error("{action}: {reason}")]
    Unavailable { action: &'static str, reason: String },
    /// The worker has no KV binding by that name.
    #[error("the {0} KV binding is missing: add it to wrangler.toml")]
    NotBound(&'static str),
    /// A stored value is not what this worker writes there.
    #[error("reading {what}: {reason}")]
    Unreadable { what: &'static str, reason: String },
}

impl StoreError {
    pub fn unreadable(what: &'static str, reason: impl std::fmt::Display) -> StoreError {
        StoreError::Unreadable { what, reason: reason.to_string() }
    }
}

/// KV accepts one write per second to a key and answers others with 429: such a write is tried
/// again after this long, up to [`WRITE_ATTEMPTS`] times in all (within TaskRouter's 5 s).
pub const WRITE_RETRY_DELAY_MS: u64 = 1_000;
pub const WRITE_ATTEMPTS: u32 = 3;

/// KV's largest page of keys.
pub const LIST_PAGE: usize = 1_000;

/// One key of a listing, with its metadata as KV returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedKey {
    pub name: String,
    pub metadata: Option<serde_json::Value>,
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

/// What the project needs of a key-value store. Values are text (the records are JSON). Not
/// `Send`: a Worker runs on one thread.
#[allow(async_fn_in_trait)]
pub trait Kv {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// One attempt to write `value` (with `metadata`) under `key`, to expire at `expires_at_secs`
    /// (Unix time). Last writer wins; a second write to the same key within a second may be
    /// refused with [`StoreError::RateLimited`].
    async fn put_once(
        &self,
        key: &str,
        value: &str,
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
        value: &str,
        metadata: Option<&Summary>,
        expires_at_secs: u64,
    ) -> Result<(), StoreError> {
        let mut attempt = 1;
        loop {
            match self.put_once(key, value, metadata, expires_at_secs).await {
                Err(StoreError::RateLimited { .. }) if attempt < WRITE_ATTEMPTS => {
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
    use crate::flows::finish;
    use crate::models::Timestamp;
    use crate::store::memory::MemoryKv;

    /// A store whose writes fail as `failures` says, then succeed.
    struct Failing {
        kv: MemoryKv,
        failures: std::cell::RefCell<Vec<StoreError>>,
    }

    impl Kv for Failing {
        async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
            self.kv.get(key).await
        }
        async fn put_once(
            &self,
            key: &str,
            value: &str,
            metadata: Option<&Summary>,
            expires: u64,
        ) -> Result<(), StoreError> {
            let failure = self.failures.borrow_mut().pop();
            match failure {
                Some(error) => Err(error),
                None => self.kv.put_once(key, value, metadata, expires).await,
            }
        }
        async fn delete(&self, key: &str) -> Result<(), StoreError> {
            self.kv.delete(key).await
        }
        async fn list(&self, prefix: &str, cursor: Option<&str>, limit: usize) -> Result<ListedPage, StoreError> {
            self.kv.list(prefix, cursor, limit).await
        }
        async fn pause(&self, ms: u64) {
            self.kv.pause(ms).await;
        }
        fn operations(&self) -> Operations {
            self.kv.operations()
        }
    }

    fn failing(failures: Vec<StoreError>) -> Failing {
        Failing { kv: MemoryKv::new(Timestamp::from_millis(1_800_000_000_000)), failures: failures.into() }
    }

    fn rate_limited() -> StoreError {
        StoreError::RateLimited { action: "writing the store", reason: "KV PUT failed: 429 Too Many Requests".into() }
    }

    #[test]
    fn only_a_rate_limit_is_waited_out_and_tried_again() {
        let busy = failing(vec![rate_limited(), rate_limited()]);
        finish(busy.put("k", "v", None, 1_800_000_000 + 3600)).unwrap();
        assert_eq!(busy.kv.now().as_millis(), 1_800_000_000_000 + 2 * WRITE_RETRY_DELAY_MS, "two pauses");
        assert_eq!(finish(busy.get("k")).unwrap().as_deref(), Some("v"));

        let down = StoreError::Unavailable { action: "writing the store", reason: "KV PUT failed: 500".into() };
        let broken = failing(vec![down.clone()]);
        assert_eq!(finish(broken.put("k", "v", None, 1_800_000_000 + 3600)), Err(down));
        assert_eq!(broken.kv.now().as_millis(), 1_800_000_000_000, "no pause");

        let always = failing(vec![rate_limited(); WRITE_ATTEMPTS as usize]);
        assert_eq!(finish(always.put("k", "v", None, 1_800_000_000 + 3600)), Err(rate_limited()), "bounded");
    }

    #[test]
    fn each_kind_says_what_failed() {
        assert_eq!(rate_limited().to_string(), "writing the store: KV PUT failed: 429 Too Many Requests");
        assert_eq!(
            StoreError::NotBound("RESERVATIONS").to_string(),
            "the RESERVATIONS KV binding is missing: add it to wrangler.toml"
        );
        assert_eq!(
            StoreError::unreadable("a reservation", "expected value").to_string(),
            "reading a reservation: expected value"
        );
    }
}
