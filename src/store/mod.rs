//! The store: one KV key per reservation, the summary in the key's metadata. The flows use it
//! through [`ReservationStore`]; the worker's implementation is Workers KV (`kv`, wasm only), and
//! `memory` is a twin that behaves as KV does, for tests on the host.

#[cfg(target_arch = "wasm32")]
pub mod kv;
pub mod listing;
pub mod memory;

use crate::models::{Reservation, ReservationSid, Summary, TaskSid};

/// Every reservation key starts with this.
pub const KEY_PREFIX: &str = "reservation:";

pub fn key_for(sid: &ReservationSid) -> String {
    format!("{KEY_PREFIX}{sid}")
}

/// The store could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

/// KV accepts one write per second to a key and answers others with 429: such a write is tried
/// again after this long, up to [`WRITE_ATTEMPTS`] times in all (within TaskRouter's 5 s).
pub const WRITE_RETRY_DELAY_MS: u64 = 1_000;
pub const WRITE_ATTEMPTS: u32 = 3;

/// Whether a failed KV write was refused for writing the same key too often.
pub fn is_rate_limited(error: &StoreError) -> bool {
    error.0.contains("429") || error.0.contains("Too Many Requests")
}

/// What the flows need of a store. Not `Send`: a Worker runs on one thread.
#[allow(async_fn_in_trait)]
pub trait ReservationStore {
    /// The record stored for `sid`, if any.
    async fn get(&self, sid: &ReservationSid) -> Result<Option<Reservation>, StoreError>;

    /// One attempt to write the record, with its summary as metadata and the store's TTL. Last
    /// writer wins; a second write to the same key within a second may be refused (429).
    async fn put_once(&self, record: &Reservation) -> Result<(), StoreError>;

    /// Waits `ms` (a timer in the worker; the twin's clock moves instead).
    async fn pause(&self, ms: u64);

    /// Every stored summary, in key order.
    async fn summaries(&self) -> Result<Vec<Summary>, StoreError>;

    /// The summaries of one task's reservations.
    async fn summaries_of_task(&self, task_sid: &TaskSid) -> Result<Vec<Summary>, StoreError> {
        let all = self.summaries().await?;
        Ok(all.into_iter().filter(|summary| &summary.task_sid == task_sid).collect())
    }

    /// Writes the record; a write refused by KV's one-write-per-second limit is tried again
    /// after [`WRITE_RETRY_DELAY_MS`], up to [`WRITE_ATTEMPTS`] times. The one retry rule.
    async fn put(&self, record: &Reservation) -> Result<(), StoreError> {
        let mut attempt = 1;
        loop {
            match self.put_once(record).await {
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
    fn keys_are_the_documented_layout() {
        let sid: ReservationSid = format!("WR{}", "0".repeat(32)).parse().unwrap();
        assert_eq!(key_for(&sid), format!("reservation:WR{}", "0".repeat(32)));
    }

    #[test]
    fn only_kv_rate_limits_are_retried() {
        assert!(is_rate_limited(&StoreError("KV PUT failed: 429 Too Many Requests".into())));
        assert!(!is_rate_limited(&StoreError("KV PUT failed: 500 Internal Server Error".into())));
        assert!(!is_rate_limited(&StoreError("network connection lost".into())));
    }
}
