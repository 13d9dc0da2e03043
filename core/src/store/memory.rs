//! An in-memory key-value store that behaves as Workers KV does, where the flows can see it: a
//! value and its metadata under one key, last writer wins, a second write to a key within a
//! second refused with 429, keys listed in alphabetical order in pages with cursors, keys gone
//! once they expire. Its clock moves only when told to (or when a flow pauses), so tests need no
//! sleep; it counts every operation, so tests can check what a request costs.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use super::{Kv, ListedKey, ListedPage, OperationCounter, Operations, StoreError};
use crate::models::{Summary, Timestamp};

struct Entry {
    value: String,
    metadata: Option<serde_json::Value>,
    expires_at_ms: u64,
    written_at_ms: u64,
}

pub struct MemoryKv {
    entries: RefCell<BTreeMap<String, Entry>>,
    now_ms: Cell<u64>,
    operations: OperationCounter,
    /// While set, every write fails as KV's would when it is down.
    failing_writes: Cell<bool>,
}

/// KV's limit on writes to one key.
const ONE_WRITE_PER_MS: u64 = 1_000;

impl MemoryKv {
    pub fn new(now: Timestamp) -> MemoryKv {
        MemoryKv {
            entries: RefCell::new(BTreeMap::new()),
            now_ms: Cell::new(now.as_millis()),
            operations: OperationCounter::default(),
            failing_writes: Cell::new(false),
        }
    }

    /// Makes every write fail (`true`) or succeed again.
    pub fn fail_writes(&self, failing: bool) {
        self.failing_writes.set(failing);
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.now_ms.get())
    }

    /// Moves the clock forward.
    pub fn advance(&self, ms: u64) {
        self.now_ms.set(self.now_ms.get() + ms);
    }

    /// How many live keys there are.
    pub fn len(&self) -> usize {
        let now = self.now_ms.get();
        self.entries.borrow().values().filter(|entry| entry.expires_at_ms > now).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Kv for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.operations.count(|o| o.reads += 1);
        let now = self.now_ms.get();
        Ok(self.entries.borrow().get(key).filter(|entry| entry.expires_at_ms > now).map(|entry| entry.value.clone()))
    }

    async fn put_once(
        &self,
        key: &str,
        value: &str,
        metadata: Option<&Summary>,
        expires_at_secs: u64,
    ) -> Result<(), StoreError> {
        let now = self.now_ms.get();
        if self.failing_writes.get() {
            return Err(StoreError::Unavailable { action: "writing the store", reason: "KV PUT failed: 500".into() });
        }
        if expires_at_secs * 1000 < now + 60_000 {
            return Err(StoreError::Unavailable {
                action: "writing the store",
                reason: "KV PUT failed: 400 expiration must be at least 60 seconds in the future".into(),
            });
        }
        let mut entries = self.entries.borrow_mut();
        if entries
            .get(key)
            .is_some_and(|entry| entry.expires_at_ms > now && now < entry.written_at_ms + ONE_WRITE_PER_MS)
        {
            return Err(StoreError::RateLimited {
                action: "writing the store",
                reason: "KV PUT failed: 429 Too Many Requests".into(),
            });
        }
        let metadata = metadata.map(|m| serde_json::to_value(m).unwrap_or_default());
        entries.insert(
            key.to_owned(),
            Entry { value: value.to_owned(), metadata, expires_at_ms: expires_at_secs * 1000, written_at_ms: now },
        );
        drop(entries);
        self.operations.count(|o| o.writes += 1);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.operations.count(|o| o.writes += 1);
        self.entries.borrow_mut().remove(key);
        Ok(())
    }

    async fn list(&self, prefix: &str, cursor: Option<&str>, limit: usize) -> Result<ListedPage, StoreError> {
        self.operations.count(|o| o.lists += 1);
        let now = self.now_ms.get();
        let entries = self.entries.borrow();
        // The cursor is the last key of the previous page (opaque to callers, as KV's is).
        let start = cursor.map_or_else(|| prefix.to_owned(), |after| format!("{after}\u{0}"));
        let mut keys: Vec<ListedKey> = entries
            .range(start..)
            .take_while(|(name, _)| name.starts_with(prefix))
            .filter(|(_, entry)| entry.expires_at_ms > now)
            .take(limit + 1)
            .map(|(name, entry)| ListedKey { name: name.clone(), metadata: entry.metadata.clone() })
            .collect();
        let more = keys.len() > limit;
        keys.truncate(limit);
        let cursor = more.then(|| keys.last().map(|key| key.name.clone())).flatten();
        Ok(ListedPage { keys, cursor })
    }

    async fn pause(&self, ms: u64) {
        self.advance(ms);
    }

    fn operations(&self) -> Operations {
        self.operations.get()
    }
}
