//! The assignment callback: store the reservation, and answer `{}` or the instruction the policy
//! gives for it.

use super::FlowError;
use super::recheck::Recheck;
use super::task::join_task;
use crate::instructions::{Decision, Policy, TaskContext};
use crate::models::{Reservation, TaskEnding, Timestamp};
use crate::store::Kv;
use crate::store::layout::Reservations;
use crate::twilio::ReservationParams;

/// The record a callback writes, given what the store held when it was read (the record, and
/// whether its task had already ended), and the answer.
pub fn plan(
    existing: Option<Reservation>,
    task_ended: Option<TaskEnding>,
    callback: &ReservationParams,
    policy: &Policy,
    now: Timestamp,
) -> (Reservation, Decision) {
    let mut record = Reservation::from_callback(callback, now).merged_with(existing);
    let decision = policy.decide(&TaskContext {
        params: &callback.params,
        task: record.task_attributes.as_ref(),
        worker: record.worker_attributes.as_ref(),
    });
    record.record_answer(decision.answered.clone(), decision.settles, now);
    // A task event that came first (TaskRouter does not order its callbacks) still counts.
    if let Some(next) = task_ended.and_then(|ending| ending.status_for(record.status)) {
        record.record_event(next, now);
    }
    (record, decision)
}

/// Reads (the record and the task's ending: two or three reads), decides and writes (one
/// write, three for a new reservation). TaskRouter hears the decision once the record is written;
/// a new record is checked again later (see [`Recheck::claim`]).
pub async fn assignment_callback<K: Kv>(
    store: &Reservations<K>,
    callback: &ReservationParams,
    policy: &Policy,
    now: Timestamp,
) -> Result<Answered, FlowError> {
    let existing = store.get(&callback.reservation_sid).await?;
    let task = store.task(&callback.task_sid).await?;
    let indexed = existing.as_ref().is_some_and(|stored| stored.indexed);
    let (record, decision) = plan(existing.map(|stored| stored.record), task.ended, callback, policy, now);
    store.put(&record, indexed, now).await?;
    let member = join_task(store, task, &record, now).await?;
    let recheck = Recheck { claim: Recheck::claim_of(&record, indexed), member, ..Recheck::default() };
    Ok(Answered { decision, record, recheck })
}

/// What a callback did: the answer for TaskRouter, the record as written, and what to check
/// again once racing writes have landed.
#[derive(Debug)]
pub struct Answered {
    pub decision: Decision,
    pub record: Reservation,
    pub recheck: Recheck,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::flows::finish;
    use crate::models::{ReservationSid, Status};
    use crate::store::memory::MemoryKv;
    use crate::twilio::FormParams;

    pub(crate) fn callback(n: u8) -> ReservationParams {
        let hex = |c: u8| format!("{:x}", c % 16).repeat(32);
        ReservationParams::from_params(FormParams::from_pairs([
            ("ReservationSid", format!("WR{}", hex(n))),
            ("TaskSid", format!("WT{}", hex(n))),
            ("WorkspaceSid", format!("WS{}", hex(1))),
            ("TaskAttributes", r#"{"type":"support","big":9007199254740993}"#.to_owned()),
        ]))
        .unwrap()
    }

    pub(crate) fn store() -> Reservations<MemoryKv> {
        Reservations::new(MemoryKv::new(Timestamp::from_millis(1_800_000_000_000)), 3600)
    }

    pub(crate) fn status(store: &Reservations<MemoryKv>, sid: &ReservationSid) -> Status {
        finish(store.get(sid)).unwrap().unwrap().record.status
    }

    #[test]
    fn a_callback_is_stored_before_it_is_answered() {
        let store = store();
        let answered = finish(assignment_callback(&store, &callback(1), &Policy::Defer, store.kv().now())).unwrap();
        assert!(answered.recheck.claim.is_some(), "a new record is checked again");
        assert_eq!(answered.decision.body, "{}");
        assert_eq!(answered.record.status, Status::Pending, "the record as written");
        let stored = finish(store.get(&callback(1).reservation_sid)).unwrap().unwrap();
        assert_eq!(stored.record.status, Status::Pending);
        assert!(serde_json::to_string(&stored.record).unwrap().contains("9007199254740993"));
        let operations = store.kv().operations();
        assert_eq!((operations.writes, operations.lists), (3, 0), "record, pointer and the task's record");
    }

    #[test]
    fn a_repeated_callback_within_a_second_waits_for_kvs_limit_and_keeps_one_record() {
        let store = store();
        let accept = Policy::parse(Some(r#"{"instruction":"accept"}"#)).unwrap();
        finish(assignment_callback(&store, &callback(2), &accept, store.kv().now())).unwrap();
        let before = store.kv().now();
        finish(assignment_callback(&store, &callback(2), &Policy::Defer, store.kv().now())).unwrap();
        assert!(store.kv().now().as_millis() >= before.as_millis() + 1_000, "the second write waited out the 429");
        assert_eq!(store.kv().len(), 3, "one record, one pointer, one task record");
        assert_eq!(status(&store, &callback(2).reservation_sid), Status::Accepted, "never back to pending");
    }
}
