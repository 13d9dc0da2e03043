//! The second look. KV has no compare-and-swap: a callback or operator update that read a
//! record before another writer's write may land after it. Looking again once such writes have
//! landed, and writing back what was lost, makes the final status the furthest any writer
//! reported. The worker runs the second look after the answer, in `waitUntil`.

use super::task::{end_task, rejoin_task};
use crate::models::{Reservation, ReservationSid, TaskEnding, TaskSid, Timestamp};
use crate::store::keys::time_key;
use crate::store::layout::Reservations;
use crate::store::{Kv, StoreError};

/// How long after a write the worker looks again: past KV's one-write-per-second window, so a
/// concurrent writer that read the record earlier has landed by then.
pub const CONFIRM_AFTER_MS: u64 = 1_100;

/// What a second look checks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Recheck {
    /// That this record's status held.
    pub record: Option<Box<Reservation>>,
    /// That the task's reservations all ended, including one whose callback raced the event.
    pub task: Option<(TaskSid, TaskEnding)>,
    /// That a record written as new under this `at:` key is the only one (see
    /// `Reservations::settle_new`).
    pub claim: Option<(ReservationSid, String)>,
    /// That the reservation is still in its task's record (a task event may have written the
    /// task's key from an older read).
    pub member: Option<(TaskSid, ReservationSid)>,
}

impl Recheck {
    pub fn is_empty(&self) -> bool {
        self.record.is_none() && self.task.is_none() && self.claim.is_none() && self.member.is_none()
    }

    /// The claim of a record written by `put(record, indexed)`, if it was written as new.
    pub fn claim_of(record: &Reservation, indexed: bool) -> Option<(ReservationSid, String)> {
        (!indexed).then(|| (record.reservation_sid.clone(), time_key(record.received_at, &record.reservation_sid)))
    }
}

/// How long after a new record's write the worker checks that it is the only one: past the
/// longest a racing writer's pointer write can take (two retries of a second each).
pub const CLAIM_AFTER_MS: u64 = 2_500;

/// What the second look found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmed {
    /// The status held (or moved further).
    Held,
    /// A writer that read the record earlier had overwritten it; the status was written back.
    Restored(usize),
    Failed(StoreError),
}

/// Looks again at what `recheck` names, once racing writes have landed, and writes back what they
/// lost.
pub async fn confirm<K: Kv>(store: &Reservations<K>, recheck: &Recheck, now: Timestamp) -> Confirmed {
    if recheck.is_empty() {
        return Confirmed::Held;
    }
    let result = async {
        let mut restored = 0;
        if recheck.record.is_some() || recheck.task.is_some() || recheck.member.is_some() {
            store.pause(CONFIRM_AFTER_MS).await;
            if let Some((task, sid)) = &recheck.member {
                restored += rejoin_task(store, task, sid, now).await?;
            }
            if let Some(written) = &recheck.record {
                restored += restore_record(store, written, now).await?;
            }
            if let Some((task, ending)) = &recheck.task {
                restored += end_task(store, task, *ending, now).await?.len();
            }
        }
        if let Some((sid, key)) = &recheck.claim {
            let waited = if recheck.record.is_some() || recheck.task.is_some() || recheck.member.is_some() {
                CONFIRM_AFTER_MS
            } else {
                0
            };
            store.pause(CLAIM_AFTER_MS - waited).await;
            restored += usize::from(store.settle_new(sid, key).await?);
        }
        Ok::<usize, StoreError>(restored)
    };
    match result.await {
        Ok(0) => Confirmed::Held,
        Ok(restored) => Confirmed::Restored(restored),
        Err(error) => Confirmed::Failed(error),
    }
}

async fn restore_record<K: Kv>(
    store: &Reservations<K>,
    written: &Reservation,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let current = store.get(&written.reservation_sid).await?;
    let indexed = current.as_ref().is_some_and(|stored| stored.indexed);
    match Reservation::restore_lost_status(current.map(|stored| stored.record), written) {
        None => Ok(0),
        Some(restored) => store.put(&restored, indexed, now).await.map(|()| 1),
    }
}
