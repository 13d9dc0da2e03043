//! Workers KV I/O for reservations. The value is the whole record; the metadata is its
//! [`Summary`], so a listing reads metadata only.

use worker::kv::KvStore;
use worker::Env;

use super::{key_for, StoreError, KEY_PREFIX};
use crate::models::{Reservation, ReservationSid, Summary};

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
        let kv = env.kv(BINDING).map_err(|_| {
            StoreError(format!(
                "the {BINDING} KV binding is missing: add it to wrangler.toml"
            ))
        })?;
        Ok(ReservationStore { kv, ttl_seconds })
    }

    pub async fn get(&self, sid: &ReservationSid) -> Result<Option<Reservation>, StoreError> {
        self.kv
            .get(&key_for(sid))
            .json()
            .await
            .map_err(|e| failed("reading a reservation", e))
    }

    pub async fn put(&self, record: &Reservation) -> Result<(), StoreError> {
        let value =
            serde_json::to_string(record).map_err(|e| failed("encoding a reservation", e))?;
        self.kv
            .put(&key_for(&record.reservation_sid), value)
            .and_then(|put| put.metadata(record.summary()))
            .map_err(|e| failed("preparing a write", e))?
            .expiration_ttl(self.ttl_seconds)
            .execute()
            .await
            .map_err(|e| failed("writing a reservation", e))
    }

    /// Every stored summary: one KV `list` per 1000 keys. A key whose metadata cannot be read
    /// (written by another version) is read whole rather than left out.
    pub async fn summaries(&self) -> Result<Vec<Summary>, StoreError> {
        let mut summaries = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut list = self
                .kv
                .list()
                .prefix(KEY_PREFIX.to_owned())
                .limit(LIST_PAGE);
            if let Some(cursor) = cursor.take() {
                list = list.cursor(cursor);
            }
            let page = list
                .execute()
                .await
                .map_err(|e| failed("listing reservations", e))?;
            for key in page.keys {
                match key
                    .metadata
                    .and_then(|metadata| serde_json::from_value::<Summary>(metadata).ok())
                {
                    Some(summary) => summaries.push(summary),
                    None => {
                        let record: Option<Reservation> = self
                            .kv
                            .get(&key.name)
                            .json()
                            .await
                            .map_err(|e| failed("reading a reservation", e))?;
                        summaries.extend(record.map(|record| record.summary()));
                    }
                }
            }
            match page.cursor.filter(|_| !page.list_complete) {
                Some(next) => cursor = Some(next),
                None => return Ok(summaries),
            }
        }
    }
}
