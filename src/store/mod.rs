//! The store: one KV key per reservation, the summary in the key's metadata.

#[cfg(target_arch = "wasm32")]
pub mod kv;
pub mod listing;

use crate::models::ReservationSid;

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
pub fn is_rate_limited(error: &str) -> bool {
    error.contains("429") || error.contains("Too Many Requests")
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
        assert!(is_rate_limited("KV PUT failed: 429 Too Many Requests"));
        assert!(!is_rate_limited("KV PUT failed: 500 Internal Server Error"));
        assert!(!is_rate_limited("network connection lost"));
    }
}
