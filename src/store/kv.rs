//! Workers KV I/O for reservations. The value is the whole record; the metadata is its
//! [`Summary`], so a listing reads metadata only.

use std::time::Duration;

use worker::kv::KvStore;
use worker::{Delay, Env};

use super::{KEY_PREFIX, StoreError, WRITE_ATTEMPTS, WRITE_RETRY_DELAY_MS, is_rate_limited, key_for};
use crate::models::{Reservation, ReservationSid, Summary, TaskSid};

/// The KV binding's name in wrangler.toml.
pub const BINDING: &str = "RESERVATIONS";
/// KV's largest page of keys.
const LIST_PAGE: u64 = 1000;

pub struct ReservationStore {
    kv: KvStore,
    ttl_seconds: u64,
}

fn failed(action: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError(format!("{action}: {error}"))
}

impl ReservationStore {
    pub fn open(env: &Env, ttl_seconds: u64) -> Result<ReservationStore, StoreError> {
        let kv = env
            .kv(BINDING)
            .map_err(|_| StoreError(format!("the {BINDING} KV binding is missing: add it to wrangler.toml")))?;
        Ok(ReservationStore { kv, ttl_seconds })
    }

    pub async fn get(&self, sid: &ReservationSid) -> Result<Option<Reservation>, StoreError> {
        self.read(&key_for(sid)).await
    }

    /// Reads a record as bytes and parses it here. KV's own `json()` goes through JavaScript's
    /// `JSON.parse`, which rounds every number to a double (and costs a conversion per field).
    async fn read(&self, key: &str) -> Result<Option<Reservation>, StoreError> {
        let Some(bytes) = self.kv.get(key).bytes().await.map_err(|e| failed("reading a reservation", e))? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| failed("reading a stored reservation", e))
    }

    /// Writes the record with its summary and TTL; a write refused by KV's one-write-per-second
    /// limit is tried again.
    pub async fn put(&self, record: &Reservation) -> Result<(), StoreError> {
        let key = key_for(&record.reservation_sid);
        let value = serde_json::to_string(record).map_err(|e| failed("encoding a reservation", e))?;
        let mut attempt = 1;
        loop {
            let written = self
                .kv
                // Bytes, not `put(&str)`: that goes through serde_wasm_bindgen and float formatting.
                .put_bytes(&key, value.as_bytes())
                .and_then(|put| put.metadata(record.summary()))
                .map_err(|e| failed("preparing a write", e))?
                .expiration_ttl(self.ttl_seconds)
                .execute()
                .await;
            match written {
                Ok(()) => return Ok(()),
                Err(error) if attempt < WRITE_ATTEMPTS && is_rate_limited(&error.to_string()) => {
                    Delay::from(Duration::from_millis(WRITE_RETRY_DELAY_MS)).await;
                    attempt += 1;
                }
                Err(error) => return Err(failed("writing a reservation", error)),
            }
        }
    }

    /// The summaries of one task's reservations.
    pub async fn summaries_of_task(&self, task_sid: &TaskSid) -> Result<Vec<Summary>, StoreError> {
        let all = self.summaries().await?;
        Ok(all.into_iter().filter(|summary| &summary.task_sid == task_sid).collect())
    }

    /// Every stored summary: one KV `list` per 1000 keys. A key whose metadata cannot be read
    /// (written by another version) is read whole rather than left out.
    pub async fn summaries(&self) -> Result<Vec<Summary>, StoreError> {
        let mut summaries = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut list = self.kv.list().prefix(KEY_PREFIX.to_owned()).limit(LIST_PAGE);
            if let Some(cursor) = cursor.take() {
                list = list.cursor(cursor);
            }
            let page = list.execute().await.map_err(|e| failed("listing reservations", e))?;
            for key in page.keys {
                match key.metadata.and_then(|metadata| serde_json::from_value::<Summary>(metadata).ok()) {
                    Some(summary) => summaries.push(summary),
                    None => summaries.extend(self.read(&key.name).await?.map(|record| record.summary())),
                }
            }
            match page.cursor.filter(|_| !page.list_complete) {
                Some(next) => cursor = Some(next),
                None => return Ok(summaries),
            }
        }
    }
}
