//! Event callbacks: `reservation.*` events move a reservation's status; task events end the
//! task's reservations, now and for callbacks still to come; and every write that moves a status
//! is checked again once racing writes have landed.

use super::callback::join_task;
use crate::models::{EventOutcome, Reservation, ReservationSid, Status, TaskEnding, TaskSid, Timestamp};
use crate::store::layout::{Reservations, time_key};
use crate::store::{Kv, StoreError};
use crate::twilio::{EventEffect, ReservationParams, TaskRouterEvent};

/// How long after a write the worker looks again: past KV's one-write-per-second window, so a
/// concurrent writer that read the record earlier has landed by then.
pub const CONFIRM_AFTER_MS: u64 = 1_100;

/// What an event did: the log's outcome word, and what to check again once racing writes have
/// landed.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub outcome: &'static str,
    pub recheck: Recheck,
}

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

pub async fn apply<K: Kv>(
    store: &Reservations<K>,
    event: &TaskRouterEvent,
    now: Timestamp,
) -> Result<Applied, StoreError> {
    match &event.effect {
        EventEffect::Ignored => Ok(Applied { outcome: "ignored", recheck: Recheck::default() }),
        EventEffect::Reservation { reservation, status } => reservation_event(store, reservation, *status, now).await,
        EventEffect::Task { task_sid, ending } => {
            let ended = end_task(store, task_sid, *ending, now).await?;
            let outcome = if ended > 0 { "ended_task_reservations" } else { "no_open_reservations" };
            Ok(Applied { outcome, recheck: Recheck { task: Some((task_sid.clone(), *ending)), ..Recheck::default() } })
        }
    }
}

/// Applies a reservation event: moves the stored record, or makes one from the event.
pub async fn reservation_event<K: Kv>(
    store: &Reservations<K>,
    reservation: &ReservationParams,
    status: Status,
    now: Timestamp,
) -> Result<Applied, StoreError> {
    let (record, indexed, outcome) = match store.get(&reservation.reservation_sid).await? {
        None => (Reservation::from_event(reservation, status, now), false, "created"),
        Some(mut stored) => match stored.record.record_event(status, now) {
            EventOutcome::Moved => (stored.record, stored.indexed, "moved"),
            EventOutcome::AlreadyThere => return Ok(Applied { outcome: "unchanged", recheck: Recheck::default() }),
            EventOutcome::Stale => return Ok(Applied { outcome: "stale", recheck: Recheck::default() }),
        },
    };
    store.put(&record, indexed, now).await?;
    let claim = Recheck::claim_of(&record, indexed);
    // A record made from an event joins its task too, so a task event finds it.
    let member =
        if indexed { None } else { join_task(store, store.task(&record.task_sid).await?, &record, now).await? };
    Ok(Applied { outcome, recheck: Recheck { record: Some(Box::new(record)), claim, member, task: None } })
}

/// Ends the task: remembers how (so that a callback arriving later still learns of it), then
/// ends its reservations as `ending` says. One read and one write for the task, then two reads
/// and at most one write per reservation of the task. Returns how many it ended.
pub async fn end_task<K: Kv>(
    store: &Reservations<K>,
    task_sid: &TaskSid,
    ending: TaskEnding,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let mut task = store.task(task_sid).await?;
    if task.ended != Some(ending) {
        task.ended = Some(ending);
        store.put_task(task_sid, &task, now).await?;
    }
    let mut ended = 0;
    for sid in &task.reservations {
        let Some(mut stored) = store.get(sid).await? else {
            continue;
        };
        let Some(next) = ending.status_for(stored.record.status) else {
            continue;
        };
        if stored.record.record_event(next, now) == EventOutcome::Moved {
            store.put(&stored.record, stored.indexed, now).await?;
            ended += 1;
        }
    }
    Ok(ended)
}

/// Puts a reservation back into its task's record if a racing write dropped it, ending it too if
/// the task has ended since. Returns how many writes it had to make.
async fn rejoin_task<K: Kv>(
    store: &Reservations<K>,
    task_sid: &TaskSid,
    sid: &ReservationSid,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let mut task = store.task(task_sid).await?;
    if task.reservations.contains(sid) {
        return Ok(0);
    }
    task.reservations.push(sid.clone());
    store.put_task(task_sid, &task, now).await?;
    match task.ended {
        Some(ending) => Ok(1 + end_task(store, task_sid, ending, now).await?),
        None => Ok(1),
    }
}

/// What the second look found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmed {
    /// The status held (or moved further).
    Held,
    /// A writer that read the record earlier had overwritten it; the status was written back.
    Restored(usize),
    Failed(String),
}

/// KV has no compare-and-swap: a callback or operator update that read a record before another
/// writer's write may land after it. Looking again once such writes have landed, and writing
/// back what was lost, makes the final status the furthest any writer reported.
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
                restored += end_task(store, task, *ending, now).await?;
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
        Err(error) => Confirmed::Failed(error.0),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::callback::tests::{callback as assignment, status, store};
    use crate::flows::callback::{self};
    use crate::flows::finish;
    use crate::instructions::Policy;
    use crate::store::layout::Reservations;
    use crate::store::memory::MemoryKv;
    use crate::twilio::FormParams;

    fn event(event_type: &str, from: &ReservationParams) -> TaskRouterEvent {
        let mut params = from.params.clone();
        params.set("EventType", event_type);
        TaskRouterEvent::from_params(params).unwrap()
    }

    fn task_event(event_type: &str, task: &TaskSid) -> TaskRouterEvent {
        TaskRouterEvent::from_params(FormParams::from_pairs([("EventType", event_type), ("TaskSid", task.as_str())]))
            .unwrap()
    }

    /// A callback that read the store, then let `between` run before writing what it planned.
    fn callback_around(
        store: &Reservations<MemoryKv>,
        params: &ReservationParams,
        policy: &Policy,
        between: impl FnOnce(),
    ) -> Option<(TaskSid, ReservationSid)> {
        let existing = finish(store.get(&params.reservation_sid)).unwrap();
        let task = finish(store.task(&params.task_sid)).unwrap();
        let indexed = existing.as_ref().is_some_and(|stored| stored.indexed);
        between();
        let (record, _) =
            callback::plan(existing.map(|stored| stored.record), task.ended, params, policy, store.kv().now());
        finish(store.put(&record, indexed, store.kv().now())).unwrap();
        finish(callback::join_task(store, task, &record, store.kv().now())).unwrap()
    }

    #[test]
    fn reservation_accepted_racing_its_callback_ends_accepted() {
        let store = store();
        let params = assignment(3);
        let mut applied = None;
        let _ = callback_around(&store, &params, &Policy::Defer, || {
            applied = Some(finish(apply(&store, &event("reservation.accepted", &params), store.kv().now())).unwrap());
        });
        assert_eq!(status(&store, &params.reservation_sid), Status::Pending, "lost, for now");
        assert_eq!(finish(confirm(&store, &applied.unwrap().recheck, store.kv().now())), Confirmed::Restored(1));
        assert_eq!(status(&store, &params.reservation_sid), Status::Accepted);
    }

    #[test]
    fn an_accept_instruction_racing_reservation_completed_ends_completed() {
        let store = store();
        let params = assignment(4);
        let accept = Policy::parse(Some(r#"{"instruction":"accept"}"#)).unwrap();
        let mut applied = None;
        let _ = callback_around(&store, &params, &accept, || {
            applied = Some(finish(apply(&store, &event("reservation.completed", &params), store.kv().now())).unwrap());
        });
        assert_eq!(status(&store, &params.reservation_sid), Status::Accepted, "the callback's stale write");
        finish(confirm(&store, &applied.unwrap().recheck, store.kv().now()));
        assert_eq!(status(&store, &params.reservation_sid), Status::Completed);
    }

    #[test]
    fn task_canceled_before_the_first_callback_cancels_the_reservation() {
        let store = store();
        let params = assignment(5);
        finish(apply(&store, &task_event("task.canceled", &params.task_sid), store.kv().now())).unwrap();
        store.kv().advance(1_000);
        finish(callback::assignment_callback(&store, &params, &Policy::Defer, store.kv().now())).unwrap();
        assert_eq!(status(&store, &params.reservation_sid), Status::Canceled);
    }

    #[test]
    fn task_canceled_during_the_first_callback_cancels_the_reservation() {
        let store = store();
        let params = assignment(6);
        let mut applied = None;
        let _ = callback_around(&store, &params, &Policy::Defer, || {
            applied =
                Some(finish(apply(&store, &task_event("task.canceled", &params.task_sid), store.kv().now())).unwrap());
        });
        let applied = applied.unwrap();
        assert_eq!(applied.outcome, "no_open_reservations", "the callback had not written yet");
        assert_eq!(status(&store, &params.reservation_sid), Status::Pending, "for now");
        assert_eq!(finish(confirm(&store, &applied.recheck, store.kv().now())), Confirmed::Restored(1));
        assert_eq!(status(&store, &params.reservation_sid), Status::Canceled);
    }

    #[test]
    fn when_nothing_raced_the_second_look_writes_nothing() {
        let store = store();
        let params = assignment(7);
        finish(callback::assignment_callback(&store, &params, &Policy::Defer, store.kv().now())).unwrap();
        let applied = finish(apply(&store, &event("reservation.accepted", &params), store.kv().now())).unwrap();
        assert_eq!(applied.outcome, "moved");
        let writes = store.kv().operations().writes;
        assert_eq!(finish(confirm(&store, &applied.recheck, store.kv().now())), Confirmed::Held);
        assert_eq!(store.kv().operations().writes, writes);
    }

    #[test]
    fn a_task_event_costs_the_same_whatever_the_store_holds() {
        let mut costs = Vec::new();
        for count in [100u32, 5_000] {
            let store = Reservations::new(MemoryKv::new(Timestamp::from_millis(1_800_000_000_000)), 86_400);
            let mut last = None;
            for n in 0..count {
                let hex = format!("{n:032x}");
                let params = ReservationParams::from_params(FormParams::from_pairs([
                    ("ReservationSid", format!("WR{hex}")),
                    ("TaskSid", format!("WT{hex}")),
                    ("WorkspaceSid", format!("WS{hex}")),
                ]))
                .unwrap();
                finish(callback::assignment_callback(&store, &params, &Policy::Defer, store.kv().now())).unwrap();
                last = Some(params);
            }
            let task = last.unwrap().task_sid;
            let before = store.kv().operations();
            finish(apply(&store, &task_event("task.completed", &task), store.kv().now())).unwrap();
            let after = store.kv().operations();
            costs.push((after.reads - before.reads, after.writes - before.writes, after.lists - before.lists));
        }
        assert_eq!(costs[0], costs[1], "100 or 5,000 stored");
        assert_eq!(costs[0], (3, 2, 0), "the task's record and its reservation read (3), both written (2), no list");
    }
}
