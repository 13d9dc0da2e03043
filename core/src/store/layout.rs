//! The key layout: each reservation once, as TaskRouter delivered it.
//!
//! | key | value | metadata | written |
//! | --- | --- | --- | --- |
//! | `at:{inverted ms}:{WR}` | the record: every callback parameter, the attributes as sent, the arrival time, the status the callback gave it | its [`Summary`] | once, at its first callback (again when a repeated callback changed its parameters); by an event only for a reservation whose callback never came |
//!
//! Status, tasks, listings and claims live in the hub (`crate::hub`), which knows each
//! reservation's arrival time and so its key: reading a record is one `get`. KV lists keys in
//! alphabetical order with the time inverted, so `at:` lists newest first: the hub's one import
//! (when it is new, or was told it missed a callback) reads the newest page and nothing else.
//! Every key expires `RESERVATION_TTL_SECONDS` after the reservation arrived. The earlier
//! layout's keys (`reservation:{WR}` pointers and `task:{WT}` records) are no longer read; its
//! `at:` keys are this layout's, so its records stay readable.

use super::keys::{TIME_PREFIX, time_key};
use super::{Kv, LIST_PAGE, StoreError};
use crate::models::{Reservation, ReservationSid, Summary, Timestamp};

/// KV refuses an expiry less than a minute away.
const MIN_EXPIRY_SECS: u64 = 60;

/// The reservations, laid out over a [`Kv`].
pub struct Reservations<K> {
    kv: K,
    ttl_seconds: u64,
}

impl<K: Kv> Reservations<K> {
    pub fn new(kv: K, ttl_seconds: u64) -> Reservations<K> {
        Reservations { kv, ttl_seconds }
    }

    pub fn kv(&self) -> &K {
        &self.kv
    }

    /// When the key of a reservation that arrived at `received_at` expires (Unix seconds).
    fn expiry(&self, received_at: Timestamp, now: Timestamp) -> u64 {
        (received_at.as_millis() / 1000 + self.ttl_seconds).max(now.as_millis() / 1000 + MIN_EXPIRY_SECS)
    }

    /// The record of `sid`, which arrived at `received_at`: one read. A value that does not
    /// parse is an error naming its key.
    pub async fn get(&self, sid: &ReservationSid, received_at: Timestamp) -> Result<Option<Reservation>, StoreError> {
        let key = time_key(received_at, sid);
        let Some(value) = self.kv.get(&key).await? else { return Ok(None) };
        serde_json::from_str(&value)
            .map(Some)
            .map_err(|e| StoreError::unreadable("a reservation", format!("{key}: {e}")))
    }

    /// Writes the record, with its summary as the key's metadata: one write.
    pub async fn put(&self, record: &Reservation, now: Timestamp) -> Result<(), StoreError> {
        // A record is plain data: writing it as JSON cannot fail.
        let value = serde_json::to_string(record).unwrap_or_default();
        let key = time_key(record.received_at, &record.reservation_sid);
        self.kv.put(&key, &value, Some(&record.summary()), self.expiry(record.received_at, now)).await
    }

    /// The newest reservations' summaries, from one list of keys (metadata only): what the hub
    /// imports. A key without a summary that reads is skipped, and named in the second list.
    pub async fn newest(&self) -> Result<(Vec<Summary>, Vec<String>), StoreError> {
        let listed = self.kv.list(TIME_PREFIX, None, LIST_PAGE).await?;
        let mut summaries = Vec::new();
        let mut unreadable = Vec::new();
        for key in listed.keys {
            match key.metadata.map(serde_json::from_value::<Summary>) {
                Some(Ok(summary)) => summaries.push(summary),
                _ => unreadable.push(key.name),
            }
        }
        Ok((summaries, unreadable))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::finish;
    use crate::models::reservation::tests::pending;
    use crate::store::memory::MemoryKv;

    const T0: u64 = 1_800_000_000_000;

    fn record(n: u32, received_ms: u64) -> Reservation {
        Reservation { reservation_sid: format!("WR{n:032x}").parse().unwrap(), ..pending("{}", received_ms) }
    }

    #[test]
    fn a_record_is_one_write_and_one_read_by_its_arrival() {
        let store = Reservations::new(MemoryKv::new(Timestamp::from_millis(T0)), 86_400);
        let written = record(1, T0 + 10);
        finish(store.put(&written, store.kv().now())).unwrap();
        let read = finish(store.get(&written.reservation_sid, written.received_at)).unwrap();
        assert_eq!(read.as_ref(), Some(&written));
        let operations = store.kv().operations();
        assert_eq!((operations.reads, operations.writes, operations.lists), (1, 1, 0));
        assert_eq!(finish(store.get(&written.reservation_sid, Timestamp::from_millis(T0))).unwrap(), None);
    }

    #[test]
    fn a_record_that_does_not_parse_is_an_error_naming_its_key() {
        let store = Reservations::new(MemoryKv::new(Timestamp::from_millis(T0)), 86_400);
        let written = record(2, T0);
        let key = time_key(written.received_at, &written.reservation_sid);
        finish(store.kv().put(&key, "{not json", None, T0 / 1000 + 3600)).unwrap();
        let error = finish(store.get(&written.reservation_sid, written.received_at)).unwrap_err();
        assert!(error.to_string().contains(&key), "{error}");
    }

    #[test]
    fn the_newest_page_is_one_list_of_summaries_and_names_what_does_not_read() {
        let store = Reservations::new(MemoryKv::new(Timestamp::from_millis(T0)), 86_400);
        for n in 0..5 {
            finish(store.put(&record(n, T0 + u64::from(n)), store.kv().now())).unwrap();
        }
        finish(store.kv().put("at:0000000000000:WRbroken", "{}", None, T0 / 1000 + 3600)).unwrap();
        let (summaries, unreadable) = finish(store.newest()).unwrap();
        assert_eq!(summaries.len(), 5);
        assert_eq!(summaries[0].received_at, Timestamp::from_millis(T0 + 4), "newest first");
        assert_eq!(unreadable, ["at:0000000000000:WRbroken"]);
        assert_eq!(store.kv().operations().lists, 1);
    }
}
