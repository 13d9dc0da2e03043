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
