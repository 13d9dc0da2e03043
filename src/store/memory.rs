//! An in-memory store that behaves as Workers KV does, where the flows can see it: the value and
//! its metadata under one key, last writer wins, a second write to a key within a second refused
//! with 429, keys listed in alphabetical order, and records gone once their TTL has passed. Its
//! clock moves only when told to (or when a flow pauses), so tests need no sleep.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use super::{KEY_PREFIX, ReservationStore, StoreError, key_for};
use crate::models::{Reservation, ReservationSid, Summary, Timestamp};

struct Entry {
    value: String,
    metadata: Summary,
    expires_at_ms: u64,
    written_at_ms: u64,
}

pub struct MemoryStore {
    entries: RefCell<BTreeMap<String, Entry>>,
    now_ms: Cell<u64>,
    ttl_seconds: u64,
    writes: Cell<u64>,
    reads: Cell<u64>,
}

/// KV's limit on writes to one key.
const ONE_WRITE_PER_MS: u64 = 1_000;

impl MemoryStore {
    pub fn new(now: Timestamp, ttl_seconds: u64) -> MemoryStore {
        MemoryStore {
            entries: RefCell::new(BTreeMap::new()),
            now_ms: Cell::new(now.as_millis()),
            ttl_seconds,
            writes: Cell::new(0),
            reads: Cell::new(0),
        }
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.now_ms.get())
    }

    /// Moves the clock forward.
    pub fn advance(&self, ms: u64) {
        self.now_ms.set(self.now_ms.get() + ms);
    }

    /// Writes that landed, and reads made, so far.
    pub fn operations(&self) -> (u64, u64) {
        (self.writes.get(), self.reads.get())
    }

    fn live<T>(&self, key: &str, read: impl FnOnce(&Entry) -> T) -> Option<T> {
        let entries = self.entries.borrow();
        entries.get(key).filter(|entry| entry.expires_at_ms > self.now_ms.get()).map(read)
    }
}

impl ReservationStore for MemoryStore {
    async fn get(&self, sid: &ReservationSid) -> Result<Option<Reservation>, StoreError> {
        self.reads.set(self.reads.get() + 1);
        match self.live(&key_for(sid), |entry| entry.value.clone()) {
            None => Ok(None),
            Some(value) => serde_json::from_str(&value).map(Some).map_err(|e| StoreError(format!("reading: {e}"))),
        }
    }

    async fn put_once(&self, record: &Reservation) -> Result<(), StoreError> {
        let key = key_for(&record.reservation_sid);
        let now = self.now_ms.get();
        let mut entries = self.entries.borrow_mut();
        if entries.get(&key).is_some_and(|entry| now < entry.written_at_ms + ONE_WRITE_PER_MS) {
            return Err(StoreError("KV PUT failed: 429 Too Many Requests".into()));
        }
        let value = serde_json::to_string(record).map_err(|e| StoreError(format!("encoding: {e}")))?;
        let entry = Entry {
            value,
            metadata: record.summary(),
            expires_at_ms: now + self.ttl_seconds * 1000,
            written_at_ms: now,
        };
        entries.insert(key, entry);
        self.writes.set(self.writes.get() + 1);
        Ok(())
    }

    async fn pause(&self, ms: u64) {
        self.advance(ms);
    }

    async fn summaries(&self) -> Result<Vec<Summary>, StoreError> {
        let now = self.now_ms.get();
        let entries = self.entries.borrow();
        Ok(entries
            .range(KEY_PREFIX.to_owned()..)
            .take_while(|(key, _)| key.starts_with(KEY_PREFIX))
            .filter(|(_, entry)| entry.expires_at_ms > now)
            .map(|(_, entry)| entry.metadata.clone())
            .collect())
    }
}
