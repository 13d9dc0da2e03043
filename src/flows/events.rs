//! Event callbacks: `reservation.*` events move a reservation's status; task events end the
//! task's reservations, now and for callbacks still to come. Every write that moves a status is
//! looked at again once racing writes have landed (`super::recheck`).

use super::FlowError;
use super::recheck::Recheck;
use super::task::{end_task, join_task};
use crate::models::{EventOutcome, Reservation, Status, Timestamp};
use crate::store::Kv;
use crate::store::layout::Reservations;
use crate::twilio::{EventEffect, ReservationParams, TaskRouterEvent};

/// What an event did: the log's outcome word, the reservations it wrote (as written), and what
/// to check again once racing writes have landed.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub outcome: &'static str,
    pub written: Vec<Reservation>,
    pub recheck: Recheck,
}

impl Applied {
    fn nothing(outcome: &'static str) -> Applied {
        Applied { outcome, written: Vec::new(), recheck: Recheck::default() }
    }
}

pub async fn apply<K: Kv>(
    store: &Reservations<K>,
    event: &TaskRouterEvent,
    now: Timestamp,
) -> Result<Applied, FlowError> {
    match &event.effect {
        EventEffect::Ignored => Ok(Applied::nothing("ignored")),
        EventEffect::Reservation { reservation, status } => reservation_event(store, reservation, *status, now).await,
        EventEffect::Task { task_sid, ending } => {
            let written = end_task(store, task_sid, *ending, now).await?;
            let outcome = if written.is_empty() { "no_open_reservations" } else { "ended_task_reservations" };
            let recheck = Recheck { task: Some((task_sid.clone(), *ending)), ..Recheck::default() };
            Ok(Applied { outcome, written, recheck })
        }
    }
}

/// Applies a reservation event: moves the stored record, or makes one from the event.
pub async fn reservation_event<K: Kv>(
    store: &Reservations<K>,
    reservation: &ReservationParams,
    status: Status,
    now: Timestamp,
) -> Result<Applied, FlowError> {
    let (record, indexed, outcome) = match store.get(&reservation.reservation_sid).await? {
        None => (Reservation::from_event(reservation, status, now), false, "created"),
        Some(mut stored) => match stored.record.record_event(status, now) {
            EventOutcome::Moved => (stored.record, stored.indexed, "moved"),
            EventOutcome::AlreadyThere => return Ok(Applied::nothing("unchanged")),
            EventOutcome::Stale => return Ok(Applied::nothing("stale")),
        },
    };
    store.put(&record, indexed, now).await?;
    let claim = Recheck::claim_of(&record, indexed);
    // A record made from an event joins its task too, so a task event finds it.
    let member =
        if indexed { None } else { join_task(store, store.task(&record.task_sid).await?, &record, now).await? };
    let recheck = Recheck { record: Some(Box::new(record.clone())), claim, member, task: None };
    Ok(Applied { outcome, written: vec![record], recheck })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::callback::tests::{callback as assignment, status, store};
    use crate::flows::callback::{self};
    use crate::flows::finish;
    use crate::flows::recheck::{Confirmed, confirm};
    use crate::instructions::Policy;
    use crate::models::{ReservationSid, TaskSid};
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
        finish(crate::flows::task::join_task(store, task, &record, store.kv().now())).unwrap()
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
