//! The assignment callback: store the reservation, and answer `{}` or the instruction the policy
//! gives for it.

use crate::instructions::{Decision, Policy, TaskContext};
use crate::models::{Reservation, Timestamp};
use crate::store::{ReservationStore, StoreError};
use crate::twilio::ReservationParams;

/// The record a callback writes, given what the store held when it was read, and the answer.
pub fn plan(
    existing: Option<Reservation>,
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
    (record, decision)
}

/// Reads, decides and writes. TaskRouter hears the decision only once the record is written.
pub async fn assignment_callback<S: ReservationStore>(
    store: &S,
    callback: &ReservationParams,
    policy: &Policy,
    now: Timestamp,
) -> Result<Decision, StoreError> {
    let existing = store.get(&callback.reservation_sid).await?;
    let (record, decision) = plan(existing, callback, policy, now);
    store.put(&record).await?;
    Ok(decision)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::flows::finish;
    use crate::models::{ReservationSid, Status};
    use crate::store::memory::MemoryStore;
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

    fn sid(n: u8) -> ReservationSid {
        callback(n).reservation_sid
    }

    #[test]
    fn a_callback_is_stored_before_it_is_answered() {
        let store = MemoryStore::new(Timestamp::from_millis(1_000), 3600);
        let decision = finish(assignment_callback(&store, &callback(1), &Policy::Defer, store.now())).unwrap();
        assert_eq!(decision.body, "{}");
        let stored = finish(store.get(&sid(1))).unwrap().unwrap();
        assert_eq!(stored.status, Status::Pending);
        assert!(serde_json::to_string(&stored).unwrap().contains("9007199254740993"));
        assert_eq!(store.operations(), (1, 2));
    }

    #[test]
    fn a_repeated_callback_within_a_second_waits_for_kvs_limit_and_keeps_one_record() {
        let store = MemoryStore::new(Timestamp::from_millis(1_000), 3600);
        let accept = Policy::parse(Some(r#"{"instruction":"accept"}"#)).unwrap();
        finish(assignment_callback(&store, &callback(2), &accept, store.now())).unwrap();
        let before = store.now();
        finish(assignment_callback(&store, &callback(2), &Policy::Defer, store.now())).unwrap();
        assert!(store.now().as_millis() >= before.as_millis() + 1_000, "the second write waited out the 429");
        assert_eq!(finish(store.summaries()).unwrap().len(), 1);
        assert_eq!(finish(store.get(&sid(2))).unwrap().unwrap().status, Status::Accepted, "never back to pending");
    }
}
