//! Workers KV I/O for reservations. The value is the whole record; the metadata is its
//! [`Summary`], so a listing reads metadata only.

use std::time::Duration;

use worker::kv::KvStore;
use worker::{Delay, Env};

use super::{KEY_PREFIX, ReservationStore, StoreError};
use crate::models::{Reservation, ReservationSid, Summary};

/// The KV binding's name in wrangler.toml.
pub const BINDING: &str = "RESERVATIONS";
/// KV's largest page of keys.
const LIST_PAGE: u64 = 1000;

pub struct KvReservations {
    kv: KvStore,
    ttl_seconds: u64,
}

fn failed(action: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError(format!("{action}: {error}"))
}

impl KvReservations {
    pub fn open(env: &Env, ttl_seconds: u64) -> Result<KvReservations, StoreError> {
        let kv = env
            .kv(BINDING)
            .map_err(|_| StoreError(format!("the {BINDING} KV binding is missing: add it to wrangler.toml")))?;
        Ok(KvReservations { kv, ttl_seconds })
    }

    /// Reads a record as bytes and parses it here. KV's own `json()` goes through JavaScript's
    /// `JSON.parse`, which rounds every number to a double (and costs a conversion per field).
    async fn read(&self, key: &str) -> Result<Option<Reservation>, StoreError> {
        let Some(bytes) = self.kv.get(key).bytes().await.map_err(|e| failed("reading a reservation", e))? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| failed("reading a stored reservation", e))
    }
}

impl ReservationStore for KvReservations {
    async fn get(&self, sid: &ReservationSid) -> Result<Option<Reservation>, StoreError> {
        self.read(&super::key_for(sid)).await
    }

    async fn put_once(&self, record: &Reservation) -> Result<(), StoreError> {
        let value = serde_json::to_string(record).map_err(|e| failed("encoding a reservation", e))?;
        self.kv
            // Bytes, not `put(&str)`: that goes through serde_wasm_bindgen and float formatting.
            .put_bytes(&super::key_for(&record.reservation_sid), value.as_bytes())
            .and_then(|put| put.metadata(record.summary()))
            .map_err(|e| failed("preparing a write", e))?
            .expiration_ttl(self.ttl_seconds)
            .execute()
            .await
            .map_err(|e| failed("writing a reservation", e))
    }

    async fn pause(&self, ms: u64) {
        Delay::from(Duration::from_millis(ms)).await;
    }

    /// Every stored summary: one KV `list` per 1000 keys. A key whose metadata cannot be read
    /// (written by another version) is read whole rather than left out.
    async fn summaries(&self) -> Result<Vec<Summary>, StoreError> {
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
