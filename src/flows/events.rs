//! Event callbacks: `reservation.*` events move a reservation's status; task events end the
//! task's reservations; and an event's write is checked again once racing writes have landed.

use crate::models::{EventOutcome, Reservation, Status, TaskSid, Timestamp};
use crate::store::{ReservationStore, StoreError};
use crate::twilio::{EventEffect, ReservationParams, TaskEnding, TaskRouterEvent};

/// How long after an event's write the worker looks again: past KV's one-write-per-second
/// window, so a concurrent writer that read the record earlier has landed by then.
pub const CONFIRM_AFTER_MS: u64 = 1_100;

/// What an event did: the log's outcome word, and the record written, to confirm later.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub outcome: &'static str,
    pub written: Option<Reservation>,
}

pub async fn apply<S: ReservationStore>(
    store: &S,
    event: &TaskRouterEvent,
    now: Timestamp,
) -> Result<Applied, StoreError> {
    match &event.effect {
        EventEffect::Ignored => Ok(Applied { outcome: "ignored", written: None }),
        EventEffect::Reservation { reservation, status } => reservation_event(store, reservation, *status, now).await,
        EventEffect::Task { task_sid, ending } => {
            Ok(Applied { outcome: end_task_reservations(store, task_sid, *ending, now).await?, written: None })
        }
    }
}

/// Applies a reservation event: moves the stored record, or makes one from the event.
pub async fn reservation_event<S: ReservationStore>(
    store: &S,
    reservation: &ReservationParams,
    status: Status,
    now: Timestamp,
) -> Result<Applied, StoreError> {
    let (record, outcome) = match store.get(&reservation.reservation_sid).await? {
        None => (Reservation::from_event(reservation, status, now), "created"),
        Some(mut record) => match record.record_event(status, now) {
            EventOutcome::Moved => (record, "moved"),
            EventOutcome::AlreadyThere => return Ok(Applied { outcome: "unchanged", written: None }),
            EventOutcome::Stale => return Ok(Applied { outcome: "stale", written: None }),
        },
    };
    store.put(&record).await?;
    Ok(Applied { outcome, written: Some(record) })
}

/// Ends the task's reservations as `ending` says.
pub async fn end_task_reservations<S: ReservationStore>(
    store: &S,
    task_sid: &TaskSid,
    ending: TaskEnding,
    now: Timestamp,
) -> Result<&'static str, StoreError> {
    let mut ended = 0;
    for summary in store.summaries_of_task(task_sid).await? {
        let Some(mut record) = store.get(&summary.reservation_sid).await? else {
            continue;
        };
        let Some(next) = ending.status_for(record.status) else {
            continue;
        };
        if record.record_event(next, now) == EventOutcome::Moved {
            store.put(&record).await?;
            ended += 1;
        }
    }
    Ok(if ended > 0 { "ended_task_reservations" } else { "no_open_reservations" })
}

/// What the second look after an event found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmed {
    /// The event's status (or one past it) held.
    Held,
    /// A writer that read the record earlier had overwritten it; the status was written back.
    Restored,
    RestoreFailed(String),
    Unreadable(String),
}

/// KV has no compare-and-swap: a callback or operator update that read the record before this
/// event's write may land after it. Looking again once such writes have landed, and restoring
/// the event's status if it was lost, makes the final status right.
pub async fn confirm<S: ReservationStore>(store: &S, written: &Reservation) -> Confirmed {
    store.pause(CONFIRM_AFTER_MS).await;
    let current = match store.get(&written.reservation_sid).await {
        Ok(current) => current,
        Err(error) => return Confirmed::Unreadable(error.0),
    };
    match Reservation::restore_lost_status(current, written) {
        None => Confirmed::Held,
        Some(restored) => match store.put(&restored).await {
            Ok(()) => Confirmed::Restored,
            Err(error) => Confirmed::RestoreFailed(error.0),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::callback::{self, tests::callback as assignment};
    use crate::flows::finish;
    use crate::instructions::Policy;
    use crate::store::memory::MemoryStore;
    use crate::twilio::FormParams;

    fn event(event_type: &str, from: &ReservationParams) -> TaskRouterEvent {
        let mut params = from.params.clone();
        params.set("EventType", event_type);
        TaskRouterEvent::from_params(params).unwrap()
    }

    #[test]
    fn an_event_lost_to_a_callback_that_read_before_it_is_restored() {
        let store = MemoryStore::new(Timestamp::from_millis(10_000), 3600);
        let params = assignment(3);
        // The callback reads (nothing yet) …
        let stale_read = finish(store.get(&params.reservation_sid)).unwrap();
        // … the event lands first …
        let applied = finish(apply(&store, &event("reservation.accepted", &params), store.now())).unwrap();
        assert_eq!(applied.outcome, "created");
        // … then the callback writes what it planned from its stale read.
        let (record, _) = callback::plan(stale_read, &params, &Policy::Defer, store.now());
        finish(store.put(&record)).unwrap();
        assert_eq!(
            finish(store.get(&params.reservation_sid)).unwrap().unwrap().status,
            Status::Pending,
            "lost, for now"
        );
        // The second look puts it right.
        assert_eq!(finish(confirm(&store, &applied.written.unwrap())), Confirmed::Restored);
        assert_eq!(finish(store.get(&params.reservation_sid)).unwrap().unwrap().status, Status::Accepted);
    }

    #[test]
    fn when_nothing_raced_the_second_look_changes_nothing() {
        let store = MemoryStore::new(Timestamp::from_millis(10_000), 3600);
        let params = assignment(4);
        finish(callback::assignment_callback(&store, &params, &Policy::Defer, store.now())).unwrap();
        let applied = finish(apply(&store, &event("reservation.accepted", &params), store.now())).unwrap();
        assert_eq!(applied.outcome, "moved");
        let writes = store.operations().0;
        assert_eq!(finish(confirm(&store, &applied.written.unwrap())), Confirmed::Held);
        assert_eq!(store.operations().0, writes);
    }

    #[test]
    fn a_task_event_ends_the_tasks_pending_reservations_only() {
        let store = MemoryStore::new(Timestamp::from_millis(10_000), 3600);
        let first = assignment(5);
        let mut second = assignment(6);
        second.params.set("TaskSid", first.task_sid.as_str());
        let second = ReservationParams::from_params(second.params).unwrap();
        let other = assignment(7);
        for params in [&first, &second, &other] {
            finish(callback::assignment_callback(&store, params, &Policy::Defer, store.now())).unwrap();
        }
        let canceled = TaskRouterEvent::from_params(FormParams::from_pairs([
            ("EventType", "task.canceled"),
            ("TaskSid", first.task_sid.as_str()),
        ]))
        .unwrap();
        assert_eq!(finish(apply(&store, &canceled, store.now())).unwrap().outcome, "ended_task_reservations");
        let status = |params: &ReservationParams| finish(store.get(&params.reservation_sid)).unwrap().unwrap().status;
        assert_eq!(
            (status(&first), status(&second), status(&other)),
            (Status::Canceled, Status::Canceled, Status::Pending)
        );
    }
}
