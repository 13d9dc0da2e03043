//! The stored reservation and its status moves. How a record is made from what TaskRouter sent
//! is the flows' business (`crate::flows::record`); its listing summary is in `summary`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    AccountSid, Attributes, ReportedStatus, ReservationSid, ReservationTimeouts, Status, StatusSource, TaskSid,
    Timestamp, WorkerSid, WorkflowSid, WorkspaceSid,
};

/// What the assignment callback answered TaskRouter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerSummary {
    /// The instruction's name (`accept`, `dequeue`, …), or `None` for `{}` (deferred).
    pub instruction: Option<String>,
    /// The rule of `ASSIGNMENT_INSTRUCTION` that chose it, counting from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<usize>,
    /// Why a chosen instruction was not given (a placeholder without a value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The whole record, stored once as the KV value under `at:{inverted ms}:{ReservationSid}` with a
/// [`Status`]; shown to operators with a [`ReportedStatus`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reservation<S = Status> {
    pub reservation_sid: ReservationSid,
    pub task_sid: TaskSid,
    pub workspace_sid: WorkspaceSid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_sid: Option<WorkerSid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_sid: Option<WorkflowSid>,
    pub task_attributes: Option<Attributes>,
    pub worker_attributes: Option<Attributes>,
    /// Every parameter TaskRouter sent, as text; a key sent more than once holds a list.
    pub parameters: BTreeMap<String, Value>,
    pub received_at: Timestamp,
    pub status: S,
    pub status_updated_at: Timestamp,
    pub status_source: StatusSource,
    /// What the latest assignment callback was answered; absent for a record made from an event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered: Option<AnswerSummary>,
    /// Who took the operator's decision or update that gave it its status (the hub records it;
    /// never in KV's record as delivered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// Why it ended without an event saying so: TaskRouter no longer has it (the hub records it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_because: Option<String>,
    /// The agent and the queue as the hub shows them: their names once an event or a lookup gave
    /// them, else a `contact_uri` and the queue's SID. Answered with, never kept in KV's record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
}

/// A status move the model does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the reservation is {from}; it cannot become {to}{}", allowed_moves(*.from))]
pub struct TransitionError {
    pub from: Status,
    pub to: Status,
}

fn allowed_moves(from: Status) -> String {
    let next: Vec<&str> = Status::ALL.into_iter().filter(|next| from.can_reach(*next)).map(Status::as_str).collect();
    if next.is_empty() {
        format!(" ({from} is final)")
    } else {
        format!(" (from {from} it can become {})", next.join(", "))
    }
}

/// What [`Reservation::move_to`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMove {
    Changed,
    /// The reservation already had that status: nothing to write.
    AlreadyThere,
}

impl Reservation {
    /// Records the answer given to TaskRouter. An answer that settles the reservation (`accept`,
    /// `reject`, a `call` or `redirect` with `"accept": true`) moves it at once, so the list is true
    /// without waiting for the event.
    pub fn record_answer(&mut self, answered: AnswerSummary, settles: Option<Status>, now: Timestamp) {
        if let Some(status) = settles {
            // A reservation already past this (a repeated callback) keeps its status.
            let _ = self.move_to(status, StatusSource::Callback, now);
        }
        self.answered = Some(answered);
    }

    /// Moves the status forward, recording when and who. A move may skip steps (Twilio may be
    /// asked after a reservation already went further) but never goes back.
    pub fn move_to(
        &mut self,
        next: Status,
        source: StatusSource,
        now: Timestamp,
    ) -> Result<StatusMove, TransitionError> {
        if self.status == next {
            return Ok(StatusMove::AlreadyThere);
        }
        if !self.status.can_reach(next) {
            return Err(TransitionError { from: self.status, to: next });
        }
        self.status = next;
        self.status_updated_at = now;
        self.status_source = source;
        Ok(StatusMove::Changed)
    }

    /// The Account SID the reservation's callback carried, when it did and it reads.
    pub fn callback_account(&self) -> Option<AccountSid> {
        self.parameters.get("AccountSid").and_then(|sid| sid.as_str()?.parse().ok())
    }

    /// The record as an operator should see it at `now`.
    pub fn reported(self, now: Timestamp, timeouts: &ReservationTimeouts) -> Reservation<ReportedStatus> {
        let timeout_secs = timeouts.seconds_for(self.workflow_sid.as_ref());
        Reservation {
            status: ReportedStatus::derive(self.status, self.received_at.age_ms(now), timeout_secs),
            reservation_sid: self.reservation_sid,
            task_sid: self.task_sid,
            workspace_sid: self.workspace_sid,
            worker_sid: self.worker_sid,
            workflow_sid: self.workflow_sid,
            task_attributes: self.task_attributes,
            worker_attributes: self.worker_attributes,
            parameters: self.parameters,
            received_at: self.received_at,
            status_updated_at: self.status_updated_at,
            status_source: self.status_source,
            answered: self.answered,
            decided_by: self.decided_by,
            ended_because: self.ended_because,
            agent: self.agent,
            queue: self.queue,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const WR: &str = "WRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const WT: &str = "WTbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const WS: &str = "WScccccccccccccccccccccccccccccccc";
    const WK: &str = "WKdddddddddddddddddddddddddddddddd";

    /// A pending record as a callback at `ms` makes it, with these task attributes.
    pub(crate) fn pending(task_attributes: &str, ms: u64) -> Reservation {
        Reservation {
            reservation_sid: WR.parse().unwrap(),
            task_sid: WT.parse().unwrap(),
            workspace_sid: WS.parse().unwrap(),
            worker_sid: Some(WK.parse().unwrap()),
            workflow_sid: None,
            task_attributes: Some(Attributes::parse(task_attributes)),
            worker_attributes: Some(Attributes::parse(r#"{"skills":["en"]}"#)),
            parameters: BTreeMap::new(),
            received_at: at(ms),
            status: Status::Pending,
            status_updated_at: at(ms),
            status_source: StatusSource::Callback,
            answered: None,
            decided_by: None,
            ended_because: None,
            agent: None,
            queue: None,
        }
    }

    fn at(ms: u64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn moves_follow_the_status_model() {
        let mut record = pending("{}", 0);
        assert_eq!(record.move_to(Status::Pending, StatusSource::Operator, at(1)), Ok(StatusMove::AlreadyThere));
        assert_eq!(record.move_to(Status::Accepted, StatusSource::Operator, at(2)), Ok(StatusMove::Changed));
        let mut skipping = record.clone();
        skipping.status = Status::Pending;
        assert_eq!(
            skipping.move_to(Status::Completed, StatusSource::Operator, at(2)),
            Ok(StatusMove::Changed),
            "forward, skipping a step"
        );
        assert_eq!((record.status_updated_at, record.status_source), (at(2), StatusSource::Operator));
        let err = record.move_to(Status::Rejected, StatusSource::Operator, at(3)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the reservation is accepted; it cannot become rejected (from accepted it can become wrapping, completed, failed)"
        );
        record.move_to(Status::Completed, StatusSource::Event, at(4)).unwrap();
        let err = record.move_to(Status::Pending, StatusSource::Callback, at(5)).unwrap_err();
        assert_eq!(err.to_string(), "the reservation is completed; it cannot become pending (completed is final)");
        assert_eq!(record.status_updated_at, at(4));
    }

    #[test]
    fn an_accept_or_reject_answer_settles_the_reservation() {
        let answer =
            |name: Option<&str>| AnswerSummary { instruction: name.map(str::to_owned), rule: Some(2), note: None };
        for (name, settles, status) in [
            (Some("accept"), Some(Status::Accepted), Status::Accepted),
            (Some("reject"), Some(Status::Rejected), Status::Rejected),
            (Some("call"), Some(Status::Accepted), Status::Accepted),
            (Some("dequeue"), None, Status::Pending),
            (None, None, Status::Pending),
        ] {
            let mut record = pending("{}", 0);
            record.record_answer(answer(name), settles, at(1));
            assert_eq!(record.status, status, "{name:?}");
            assert_eq!(record.answered, Some(answer(name)));
            if status != Status::Pending {
                assert_eq!((record.status_source, record.status_updated_at), (StatusSource::Callback, at(1)));
            }
        }
        let mut completed = pending("{}", 0);
        completed.move_to(Status::Completed, StatusSource::Event, at(1)).unwrap();
        completed.record_answer(answer(Some("accept")), Some(Status::Accepted), at(2));
        assert_eq!(completed.status, Status::Completed, "a repeated callback does not move it back");
    }

    #[test]
    fn the_reported_status_replaces_the_stored_one() {
        let record = pending("{}", 0);
        let timeouts = ReservationTimeouts::uniform(120);
        assert_eq!(record.summary().reported(at(120_000), &timeouts).status, ReportedStatus::Stored(Status::Pending));
        assert_eq!(record.summary().reported(at(121_000), &timeouts).status, ReportedStatus::EXPIRED);
        let view = serde_json::to_value(record.reported(at(121_000), &timeouts)).unwrap();
        assert_eq!(view["status"], "expired");
        assert_eq!(view["reservation_sid"], WR);
    }

    #[test]
    fn expiry_follows_the_workflows_own_timeout() {
        let workflow = format!("WW{}", "e".repeat(32));
        let record = Reservation { workflow_sid: Some(workflow.parse().unwrap()), ..pending("{}", 0) };
        assert_eq!(record.summary().workflow_sid.as_ref().map(WorkflowSid::as_str), Some(workflow.as_str()));
        let mut timeouts = ReservationTimeouts::uniform(120);
        timeouts.per_workflow.insert(workflow.parse().unwrap(), 600);
        assert_eq!(record.summary().reported(at(500_000), &timeouts).status, ReportedStatus::Stored(Status::Pending));
        assert_eq!(record.clone().reported(at(601_000), &timeouts).status, ReportedStatus::EXPIRED);
        let elsewhere =
            Reservation { workflow_sid: Some(format!("WW{}", "f".repeat(32)).parse().unwrap()), ..pending("{}", 0) };
        assert_eq!(elsewhere.summary().reported(at(121_000), &timeouts).status, ReportedStatus::EXPIRED);
    }
}
