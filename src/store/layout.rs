//! The key layout: what each request reads, writes and lists, so that none costs more as the
//! store grows.
//!
//! | key | value | metadata | written |
//! | --- | --- | --- | --- |
//! | `at:{inverted ms}:{WR}` | the whole record | its [`Summary`] | on every change |
//! | `reservation:{WR}` | the name of its `at:` key | | once, when the record is made |
//! | `task:{WT}` | its reservations' SIDs, and how the task ended | | when a reservation of the task is made, and when the task ends |
//!
//! KV lists keys in alphabetical order, and the time is written inverted, so `at:` lists newest
//! first: a page of `limit` is about `limit / 1000 + 1` list calls, and a pending listing stops
//! at the longest reservation timeout. `at:` sorts before every other key, so even a store that
//! scans from the first key to find a prefix (Miniflare's local KV does) finds it at once. A
//! task's reservations are one read of `task:{WT}`, never a list. Every key expires
//! `RESERVATION_TTL_SECONDS` after the reservation arrived (a task's, after its last write).
//!
//! Records written before this layout (the whole record under `reservation:{WR}`) are still
//! read by SID, and move to this layout at their next write.

use serde::{Deserialize, Serialize};

use super::keys::{TIME_PREFIX, record_key, task_key, time_key};
use super::listing::{Cursor, ListQuery, Page};
use super::{Kv, LIST_PAGE, StoreError};
use crate::models::{Reservation, ReservationSid, ReservationTimeouts, Summary, TaskEnding, TaskSid, Timestamp};

/// KV refuses an expiry less than a minute away.
const MIN_EXPIRY_SECS: u64 = 60;

/// What the store knows of a task: its reservations, and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskRecord {
    pub ended: Option<TaskEnding>,
    pub reservations: Vec<ReservationSid>,
}

/// A stored record, and whether it already has this layout's keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub record: Reservation,
    pub indexed: bool,
}

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

    /// Waits, as the store waits (see [`Kv::pause`]).
    pub async fn pause(&self, ms: u64) {
        self.kv.pause(ms).await;
    }

    /// When the keys of a reservation that arrived at `received_at` expire (Unix seconds).
    fn expiry(&self, received_at: Timestamp, now: Timestamp) -> u64 {
        (received_at.as_millis() / 1000 + self.ttl_seconds).max(now.as_millis() / 1000 + MIN_EXPIRY_SECS)
    }

    /// The record stored for `sid`: two reads (the pointer, then the record).
    pub async fn get(&self, sid: &ReservationSid) -> Result<Option<Stored>, StoreError> {
        let Some(pointer) = self.kv.get(&record_key(sid)).await? else { return Ok(None) };
        if pointer.starts_with('{') {
            // Written before this layout: the record itself.
            let record = serde_json::from_str(&pointer).map_err(|e| StoreError::unreadable("a reservation", e))?;
            return Ok(Some(Stored { record, indexed: false }));
        }
        let Some(value) = self.kv.get(&pointer).await? else { return Ok(None) };
        let record = serde_json::from_str(&value).map_err(|e| StoreError::unreadable("a reservation", e))?;
        Ok(Some(Stored { record, indexed: true }))
    }

    /// Writes the record (one write), and when it is new to this layout its pointer too (two
    /// writes); the task's record is the caller's ([`Self::put_task`]).
    ///
    /// Two writers that both found no record (a storm of the same first callback, or a callback
    /// and an event about a reservation never seen) each write an `at:` key of their own, since
    /// each takes its own arrival time; the pointer keeps the last. [`Self::settle_new`], a
    /// moment later, removes the others.
    pub async fn put(&self, record: &Reservation, indexed: bool, now: Timestamp) -> Result<(), StoreError> {
        // A record is plain data: writing it as JSON cannot fail.
        let value = serde_json::to_string(record).unwrap_or_default();
        let expires = self.expiry(record.received_at, now);
        let key = time_key(record.received_at, &record.reservation_sid);
        self.kv.put(&key, &value, Some(&record.summary()), expires).await?;
        if !indexed {
            self.kv.put(&record_key(&record.reservation_sid), &key, None, expires).await?;
        }
        Ok(())
    }

    /// After a record was written as new under `key`: if the pointer names another `at:` key
    /// (another writer made the record at the same moment, and its pointer write landed last),
    /// removes `key`, so the reservation is listed once. One read, and a delete when it lost.
    pub async fn settle_new(&self, sid: &ReservationSid, key: &str) -> Result<bool, StoreError> {
        match self.kv.get(&record_key(sid)).await? {
            Some(pointer) if pointer != key => self.kv.delete(key).await.map(|()| true),
            _ => Ok(false),
        }
    }

    /// What the store knows of a task: one read.
    pub async fn task(&self, task: &TaskSid) -> Result<TaskRecord, StoreError> {
        let Some(value) = self.kv.get(&task_key(task)).await? else { return Ok(TaskRecord::default()) };
        Ok(serde_json::from_str(&value).unwrap_or_default())
    }

    /// Writes what the store knows of a task: one write.
    pub async fn put_task(&self, task: &TaskSid, record: &TaskRecord, now: Timestamp) -> Result<(), StoreError> {
        let value = serde_json::to_string(record).unwrap_or_default();
        self.kv.put(&task_key(task), &value, None, self.expiry(now, now)).await
    }

    /// One page of the listing, newest first, from the `at:` keys' metadata alone.
    pub async fn page(
        &self,
        query: &ListQuery,
        now: Timestamp,
        timeouts: &ReservationTimeouts,
    ) -> Result<Page, StoreError> {
        let horizon = query.filter.horizon(now, timeouts);
        let (mut call_cursor, after) = match &query.cursor {
            Some(cursor) => (cursor.kv_cursor.clone(), Some(cursor.after_key.clone())),
            None => (None, None),
        };
        let mut shown = Vec::new();
        let mut last: Option<Cursor> = None;
        loop {
            let listed = self.kv.list(TIME_PREFIX, call_cursor.as_deref(), LIST_PAGE).await?;
            // Keys are in order: skip what the previous page showed, even if its last key expired.
            for key in listed.keys.iter().filter(|key| after.as_ref().is_none_or(|after| key.name > *after)) {
                // A key written without a summary, or by another program, is not listed.
                let Some(summary) = key.metadata.as_ref().and_then(|m| Summary::deserialize(m).ok()) else {
                    continue;
                };
                if horizon.is_some_and(|horizon| summary.received_at < horizon) {
                    return Ok(Page { reservations: shown, cursor: None });
                }
                let reported = summary.reported(now, timeouts);
                // A reservation two writers made at the same moment has two keys until the
                // loser's is removed (`settle_new`, about a second later): show it once.
                if !query.filter.matches(reported.status)
                    || shown.iter().any(|s: &Summary<_>| s.reservation_sid == reported.reservation_sid)
                {
                    continue;
                }
                if shown.len() == query.limit {
                    return Ok(Page { reservations: shown, cursor: last.map(|cursor| cursor.encode()) });
                }
                shown.push(reported);
                last = Some(Cursor { kv_cursor: call_cursor.clone(), after_key: key.name.clone() });
            }
            match listed.cursor {
                Some(next) => call_cursor = Some(next),
                None => return Ok(Page { reservations: shown, cursor: None }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::finish;
    use crate::models::reservation::tests::pending;
    use crate::models::{ReportedStatus, Status};
    use crate::store::listing::StatusFilter;
    use crate::store::memory::MemoryKv;

    const T0: u64 = 1_800_000_000_000;

    fn record(n: u32, received_ms: u64) -> Reservation {
        Reservation {
            reservation_sid: format!("WR{n:032x}").parse().unwrap(),
            task_sid: format!("WT{:032x}", n / 2).parse().unwrap(),
            ..pending("{}", received_ms)
        }
    }

    fn store_of(count: u32, spacing_ms: u64) -> Reservations<MemoryKv> {
        let kv = MemoryKv::new(Timestamp::from_millis(T0 + u64::from(count) * spacing_ms));
        let store = Reservations::new(kv, 86_400);
        for n in 0..count {
            let record = record(n, T0 + u64::from(n) * spacing_ms);
            finish(store.put(&record, false, store.kv().now())).unwrap();
        }
        store
    }

    #[test]
    fn a_record_is_read_back_by_sid_and_old_records_still_are() {
        let store = store_of(3, 10);
        let stored = finish(store.get(&record(1, 0).reservation_sid)).unwrap().unwrap();
        assert!(stored.indexed);
        assert_eq!(stored.record.received_at, Timestamp::from_millis(T0 + 10));
        // A record written whole under reservation:{WR}, as the previous layout did.
        let old = record(9, T0);
        let text = serde_json::to_string(&old).unwrap();
        finish(store.kv().put(&record_key(&old.reservation_sid), &text, Some(&old.summary()), T0 / 1000 + 3600))
            .unwrap();
        let read = finish(store.get(&old.reservation_sid)).unwrap().unwrap();
        assert_eq!((read.record, read.indexed), (old, false));
    }

    #[test]
    fn pages_follow_each_other_newest_first_without_gaps_or_repeats() {
        let store = store_of(2_500, 1);
        let mut query = ListQuery::parse("limit=700").unwrap();
        let mut seen = Vec::new();
        loop {
            let page = finish(store.page(&query, store.kv().now(), &ReservationTimeouts::uniform(86_400))).unwrap();
            seen.extend(page.reservations.iter().map(|r| r.received_at.as_millis()));
            match page.cursor {
                Some(cursor) => query = ListQuery::parse(&format!("limit=700&cursor={cursor}")).unwrap(),
                None => break,
            }
        }
        let expected: Vec<u64> = (0..2_500).rev().map(|n| T0 + n).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn new_arrivals_do_not_shift_the_next_page() {
        let store = store_of(10, 1_000);
        let first = finish(store.page(
            &ListQuery::parse("limit=4").unwrap(),
            store.kv().now(),
            &ReservationTimeouts::uniform(86_400),
        ))
        .unwrap();
        finish(store.put(&record(100, T0 + 50_000), false, store.kv().now())).unwrap();
        let next = ListQuery::parse(&format!("limit=4&cursor={}", first.cursor.unwrap())).unwrap();
        let second = finish(store.page(&next, store.kv().now(), &ReservationTimeouts::uniform(86_400))).unwrap();
        let times: Vec<u64> = second.reservations.iter().map(|r| (r.received_at.as_millis() - T0) / 1000).collect();
        assert_eq!(times, [5, 4, 3, 2]);
    }

    #[test]
    fn a_first_page_and_a_pending_listing_cost_the_same_whatever_the_store_holds() {
        // One reservation a second; the newest 120 seconds are still pending.
        let mut costs = Vec::new();
        for count in [1_000, 20_000] {
            let store = store_of(count, 1_000);
            let timeouts = ReservationTimeouts::uniform(120);
            let before = store.kv().operations();
            let pending = finish(store.page(
                &ListQuery::parse("status=pending&limit=1000").unwrap(),
                store.kv().now(),
                &timeouts,
            ))
            .unwrap();
            assert!(pending.reservations.iter().all(|r| r.status == ReportedStatus::Stored(Status::Pending)));
            assert_eq!(pending.reservations.len(), 120);
            let first =
                finish(store.page(&ListQuery::parse("limit=100").unwrap(), store.kv().now(), &timeouts)).unwrap();
            assert_eq!(first.reservations.len(), 100);
            let after = store.kv().operations();
            costs.push((after.lists - before.lists, after.reads - before.reads));
        }
        assert_eq!(costs, [(2, 0), (2, 0)], "one list call each, no reads, at 1,000 and at 20,000 stored");
        assert_eq!(StatusFilter::All.horizon(Timestamp::from_millis(0), &ReservationTimeouts::uniform(1)), None);
    }

    #[test]
    fn two_writers_that_made_the_same_record_leave_one_key() {
        let store = store_of(0, 1);
        let first = record(1, T0);
        let second = Reservation { received_at: Timestamp::from_millis(T0 + 5), ..record(1, T0) };
        // Both found no record; both write as new; the second's pointer lands last (after
        // waiting out KV's one write per second to the pointer).
        finish(store.put(&first, false, store.kv().now())).unwrap();
        finish(store.put(&second, false, store.kv().now())).unwrap();
        let all = ListQuery::parse("").unwrap();
        let listed = finish(store.page(&all, store.kv().now(), &ReservationTimeouts::uniform(60))).unwrap();
        assert_eq!(listed.reservations.len(), 1, "shown once even before the loser's key is removed");
        let sid = &first.reservation_sid;
        assert!(finish(store.settle_new(sid, &time_key(first.received_at, sid))).unwrap(), "the first lost");
        assert!(!finish(store.settle_new(sid, &time_key(second.received_at, sid))).unwrap(), "the second won");
        let keys = finish(store.kv().list(TIME_PREFIX, None, 10)).unwrap().keys;
        assert_eq!(keys.len(), 1);
    }

    #[test]
    fn a_tasks_record_is_one_read_and_defaults_to_empty() {
        let store = store_of(0, 1);
        let task: TaskSid = format!("WT{}", "7".repeat(32)).parse().unwrap();
        assert_eq!(finish(store.task(&task)).unwrap(), TaskRecord::default());
        let record =
            TaskRecord { ended: Some(TaskEnding::Canceled), reservations: vec![record(1, T0).reservation_sid] };
        finish(store.put_task(&task, &record, store.kv().now())).unwrap();
        let before = store.kv().operations();
        assert_eq!(finish(store.task(&task)).unwrap(), record);
        let after = store.kv().operations();
        assert_eq!((after.reads - before.reads, after.lists - before.lists), (1, 0));
    }
}
