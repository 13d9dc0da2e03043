//! The stored reservation, its summary (kept in KV metadata for listings) and its status moves.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    Attributes, ReportedStatus, ReservationSid, ReservationTimeouts, Status, StatusSource, TaskSid, Timestamp,
    WorkerSid, WorkflowSid, WorkspaceSid,
};
use crate::twilio::ReservationParams;

/// What the assignment callback answered TaskRouter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answered {
    /// The instruction's name (`accept`, `dequeue`, …), or `None` for `{}` (deferred).
    pub instruction: Option<String>,
    /// The rule of `ASSIGNMENT_INSTRUCTION` that chose it, counting from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<usize>,
    /// Why a chosen instruction was not given (a placeholder without a value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The longest task summary kept in KV metadata (which holds at most 1024 bytes in all).
pub const TASK_SUMMARY_CHARS: usize = 80;

/// What a listing shows, stored as the KV key's metadata so a listing needs no `get`. Stored
/// with a [`Status`]; shown to operators with a [`ReportedStatus`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary<S = Status> {
    pub reservation_sid: ReservationSid,
    pub task_sid: TaskSid,
    pub workspace_sid: WorkspaceSid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_sid: Option<WorkerSid>,
    /// The Workflow that made the reservation: its own reservation timeout decides expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_sid: Option<WorkflowSid>,
    pub status: S,
    pub received_at: Timestamp,
    pub status_updated_at: Timestamp,
    /// A short `key=value` rendering of the task attributes.
    pub task: String,
}

/// The whole record, stored as the KV value under `reservation:{ReservationSid}` with a
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
    pub answered: Option<Answered>,
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

/// What [`Reservation::record_event`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    Moved,
    AlreadyThere,
    /// The reservation is already past what the event reports (a late or repeated event).
    Stale,
}

/// What [`Reservation::move_to`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moved {
    Changed,
    /// The reservation already had that status: nothing to write.
    AlreadyThere,
}

fn parameters_of(callback: &ReservationParams) -> BTreeMap<String, Value> {
    let mut parameters: BTreeMap<String, Value> = BTreeMap::new();
    for (key, value) in callback.params.pairs() {
        let value = Value::String(value.clone());
        match parameters.get_mut(key) {
            None => {
                parameters.insert(key.clone(), value);
            }
            Some(Value::Array(values)) => values.push(value),
            Some(first) => *first = Value::Array(vec![first.take(), value]),
        }
    }
    parameters
}

impl Reservation {
    /// A new pending reservation from TaskRouter's assignment callback.
    pub fn from_callback(callback: &ReservationParams, now: Timestamp) -> Reservation {
        let params = &callback.params;
        Reservation {
            reservation_sid: callback.reservation_sid.clone(),
            task_sid: callback.task_sid.clone(),
            workspace_sid: callback.workspace_sid.clone(),
            worker_sid: params.get("WorkerSid").and_then(|sid| sid.parse().ok()),
            workflow_sid: params.get("WorkflowSid").and_then(|sid| sid.parse().ok()),
            task_attributes: params.get("TaskAttributes").map(Attributes::parse),
            worker_attributes: params.get("WorkerAttributes").map(Attributes::parse),
            parameters: parameters_of(callback),
            received_at: now,
            status: Status::Pending,
            status_updated_at: now,
            status_source: StatusSource::Callback,
            answered: None,
        }
    }

    /// Records the answer given to TaskRouter. An answer that settles the reservation (`accept`,
    /// `reject`, a `call` or `redirect` with `"accept": true`) moves it at once, so the list is true
    /// without waiting for the event.
    pub fn record_answer(&mut self, answered: Answered, settles: Option<Status>, now: Timestamp) {
        if let Some(status) = settles {
            // A reservation already past this (a repeated callback) keeps its status.
            let _ = self.move_to(status, StatusSource::Callback, now);
        }
        self.answered = Some(answered);
    }

    /// A record made from a reservation event, when the store has never seen the reservation.
    pub fn from_event(params: &ReservationParams, reported: Status, now: Timestamp) -> Reservation {
        Reservation { status: reported, status_source: StatusSource::Event, ..Reservation::from_callback(params, now) }
    }

    /// This (newer) record merged with what the store already holds for the same reservation:
    /// the newest parameters, but the first arrival time and the existing status, so a repeated
    /// or late callback never moves a reservation back to `pending`.
    pub fn merged_with(self, existing: Option<Reservation>) -> Reservation {
        match existing {
            None => self,
            Some(existing) => Reservation {
                received_at: existing.received_at.min(self.received_at),
                status: existing.status,
                status_updated_at: existing.status_updated_at,
                status_source: existing.status_source,
                ..self
            },
        }
    }

    /// Moves the status forward, recording when and who. A move may skip steps (Twilio may be
    /// asked after a reservation already went further) but never goes back.
    pub fn move_to(&mut self, next: Status, source: StatusSource, now: Timestamp) -> Result<Moved, TransitionError> {
        if self.status == next {
            return Ok(Moved::AlreadyThere);
        }
        if !self.status.can_reach(next) {
            return Err(TransitionError { from: self.status, to: next });
        }
        self.status = next;
        self.status_updated_at = now;
        self.status_source = source;
        Ok(Moved::Changed)
    }

    /// Records what a TaskRouter event reports: a status behind the current one is a late
    /// event, ignored rather than refused.
    pub fn record_event(&mut self, reported: Status, now: Timestamp) -> EventOutcome {
        match self.move_to(reported, StatusSource::Event, now) {
            Ok(Moved::Changed) => EventOutcome::Moved,
            Ok(Moved::AlreadyThere) => EventOutcome::AlreadyThere,
            Err(_) => EventOutcome::Stale,
        }
    }

    /// What to write again when `written`'s status may have been overwritten by a concurrent
    /// writer that read the record before `written` landed (KV has no compare-and-swap):
    /// `None` when the store holds `written`'s status or one past it.
    pub fn restore_lost_status(current: Option<Reservation>, written: &Reservation) -> Option<Reservation> {
        match current {
            None => Some(written.clone()),
            Some(current) if current.status != written.status && current.status.can_reach(written.status) => {
                Some(Reservation {
                    status: written.status,
                    status_updated_at: written.status_updated_at,
                    status_source: written.status_source,
                    ..current
                })
            }
            Some(_) => None,
        }
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
        }
    }

    pub fn summary(&self) -> Summary {
        Summary {
            reservation_sid: self.reservation_sid.clone(),
            task_sid: self.task_sid.clone(),
            workspace_sid: self.workspace_sid.clone(),
            worker_sid: self.worker_sid.clone(),
            workflow_sid: self.workflow_sid.clone(),
            status: self.status,
            received_at: self.received_at,
            status_updated_at: self.status_updated_at,
            task: self.task_attributes.as_ref().map(summarize).unwrap_or_default(),
        }
    }
}

impl Summary {
    /// The summary as an operator should see it at `now`.
    pub fn reported(&self, now: Timestamp, timeouts: &ReservationTimeouts) -> Summary<ReportedStatus> {
        let timeout_secs = timeouts.seconds_for(self.workflow_sid.as_ref());
        Summary {
            status: ReportedStatus::derive(self.status, self.received_at.age_ms(now), timeout_secs),
            reservation_sid: self.reservation_sid.clone(),
            task_sid: self.task_sid.clone(),
            workspace_sid: self.workspace_sid.clone(),
            worker_sid: self.worker_sid.clone(),
            workflow_sid: self.workflow_sid.clone(),
            received_at: self.received_at,
            status_updated_at: self.status_updated_at,
            task: self.task.clone(),
        }
    }
}

/// `key=value, key=value…`, at most [`TASK_SUMMARY_CHARS`] characters, without control
/// characters.
fn summarize(attributes: &Attributes) -> String {
    let text = match (attributes, attributes.members()) {
        (_, Some(members)) => members
            .iter()
            .map(|(key, value)| match serde_json::from_str::<String>(value.get()) {
                Ok(text) => format!("{key}={text}"),
                Err(_) => format!("{key}={}", value.get()),
            })
            .collect::<Vec<_>>()
            .join(", "),
        (Attributes::Raw(text), None) => text.clone(),
        (Attributes::Json(raw), None) => raw.get().to_owned(),
    };
    let clean: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if clean.chars().count() <= TASK_SUMMARY_CHARS {
        clean
    } else {
        let mut cut: String = clean.chars().take(TASK_SUMMARY_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::twilio::FormParams;

    const WR: &str = "WRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const WT: &str = "WTbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const WS: &str = "WScccccccccccccccccccccccccccccccc";
    const WK: &str = "WKdddddddddddddddddddddddddddddddd";

    fn callback(task_attributes: &str) -> ReservationParams {
        ReservationParams::from_params(FormParams::from_pairs([
            ("ReservationSid", WR),
            ("TaskSid", WT),
            ("WorkspaceSid", WS),
            ("WorkerSid", WK),
            ("TaskAttributes", task_attributes),
            ("WorkerAttributes", r#"{"skills":["en"]}"#),
            ("TaskAge", "12"),
        ]))
        .unwrap()
    }

    fn at(ms: u64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn a_callback_makes_a_pending_record_with_everything_it_carried() {
        let record = Reservation::from_callback(&callback(r#"{"type":"support","vip":true}"#), at(5));
        assert_eq!(record.status, Status::Pending);
        assert_eq!(record.status_source, StatusSource::Callback);
        assert_eq!((record.received_at, record.status_updated_at), (at(5), at(5)));
        assert_eq!(record.worker_sid.as_ref().map(WorkerSid::as_str), Some(WK));
        assert_eq!(record.task_attributes.as_ref().unwrap().value_at(&["vip"]), Some(Value::Bool(true)));
        assert_eq!(record.parameters["TaskAge"], Value::String("12".into()));
        assert_eq!(record.parameters.len(), 7);
    }

    #[test]
    fn attributes_that_are_not_a_json_object_are_kept_as_text() {
        for odd in ["not json", "[1,2]", "\"text\"", "", "{\"unclosed\":"] {
            let record = Reservation::from_callback(&callback(odd), at(0));
            assert_eq!(record.task_attributes, Some(Attributes::Raw(odd.to_owned())), "{odd}");
        }
    }

    #[test]
    fn repeated_parameters_are_all_kept() {
        let mut cb = callback("{}");
        cb.params = FormParams::from_pairs([("Digits", "1"), ("Digits", "2"), ("Digits", "3")]);
        let record = Reservation::from_callback(&cb, at(0));
        assert_eq!(record.parameters["Digits"], serde_json::json!(["1", "2", "3"]));
    }

    #[test]
    fn a_repeated_callback_keeps_the_first_arrival_and_the_status() {
        let mut first = Reservation::from_callback(&callback(r#"{"n":1}"#), at(100));
        first.move_to(Status::Accepted, StatusSource::Event, at(150)).unwrap();
        let again = Reservation::from_callback(&callback(r#"{"n":2}"#), at(200)).merged_with(Some(first));
        assert_eq!(again.status, Status::Accepted);
        assert_eq!(again.status_source, StatusSource::Event);
        assert_eq!(again.status_updated_at, at(150));
        assert_eq!(again.received_at, at(100));
        assert_eq!(again.task_attributes.unwrap().value_at(&["n"]), Some(serde_json::json!(2)));
    }

    #[test]
    fn moves_follow_the_status_model() {
        let mut record = Reservation::from_callback(&callback("{}"), at(0));
        assert_eq!(record.move_to(Status::Pending, StatusSource::Operator, at(1)), Ok(Moved::AlreadyThere));
        assert_eq!(record.move_to(Status::Accepted, StatusSource::Operator, at(2)), Ok(Moved::Changed));
        let mut skipping = record.clone();
        skipping.status = Status::Pending;
        assert_eq!(
            skipping.move_to(Status::Completed, StatusSource::Operator, at(2)),
            Ok(Moved::Changed),
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
    fn events_move_forward_and_late_ones_are_ignored() {
        let mut record = Reservation::from_callback(&callback("{}"), at(0));
        assert_eq!(record.record_event(Status::Completed, at(5)), EventOutcome::Moved, "a skipped step is fine");
        assert_eq!(
            (record.status, record.status_source, record.status_updated_at),
            (Status::Completed, StatusSource::Event, at(5))
        );
        assert_eq!(record.record_event(Status::Accepted, at(6)), EventOutcome::Stale, "a late accepted");
        assert_eq!(record.record_event(Status::Completed, at(7)), EventOutcome::AlreadyThere);
        assert_eq!(record.status_updated_at, at(5));

        let mut rejected = Reservation::from_callback(&callback("{}"), at(0));
        rejected.move_to(Status::Rejected, StatusSource::Operator, at(1)).unwrap();
        assert_eq!(rejected.record_event(Status::Accepted, at(2)), EventOutcome::Stale);
        assert_eq!(rejected.status, Status::Rejected);
    }

    #[test]
    fn a_status_overwritten_by_an_older_view_is_restored() {
        let pending = Reservation::from_callback(&callback(r#"{"from":"callback"}"#), at(0));
        let mut accepted = pending.clone();
        accepted.record_event(Status::Accepted, at(10));

        let restored = Reservation::restore_lost_status(Some(pending.clone()), &accepted).unwrap();
        assert_eq!(
            (restored.status, restored.status_source, restored.status_updated_at),
            (Status::Accepted, StatusSource::Event, at(10))
        );
        assert_eq!(restored.task_attributes, pending.task_attributes, "the rest of the stored record is kept");

        assert_eq!(Reservation::restore_lost_status(Some(accepted.clone()), &accepted), None);
        let mut completed = accepted.clone();
        completed.record_event(Status::Completed, at(20));
        assert_eq!(Reservation::restore_lost_status(Some(completed), &accepted), None, "moved on since");
        assert_eq!(Reservation::restore_lost_status(None, &accepted), Some(accepted));
    }

    #[test]
    fn an_accept_or_reject_answer_settles_the_reservation() {
        let answer = |name: Option<&str>| Answered { instruction: name.map(str::to_owned), rule: Some(2), note: None };
        for (name, settles, status) in [
            (Some("accept"), Some(Status::Accepted), Status::Accepted),
            (Some("reject"), Some(Status::Rejected), Status::Rejected),
            (Some("call"), Some(Status::Accepted), Status::Accepted),
            (Some("dequeue"), None, Status::Pending),
            (None, None, Status::Pending),
        ] {
            let mut record = Reservation::from_callback(&callback("{}"), at(0));
            record.record_answer(answer(name), settles, at(1));
            assert_eq!(record.status, status, "{name:?}");
            assert_eq!(record.answered, Some(answer(name)));
            if status != Status::Pending {
                assert_eq!((record.status_source, record.status_updated_at), (StatusSource::Callback, at(1)));
            }
        }
        let mut completed = Reservation::from_callback(&callback("{}"), at(0));
        completed.record_event(Status::Completed, at(1));
        completed.record_answer(answer(Some("accept")), Some(Status::Accepted), at(2));
        assert_eq!(completed.status, Status::Completed, "a repeated callback does not move it back");
    }

    #[test]
    fn the_summary_is_short_and_fits_kv_metadata() {
        let record = Reservation::from_callback(&callback(r#"{"b":"two","a":1}"#), at(0));
        assert_eq!(record.summary().task, "a=1, b=two");

        let huge = format!(r#"{{"quote":"{}","line":"a\nb"}}"#, "\"\\€".repeat(500));
        let summary = Reservation::from_callback(&callback(&huge), at(u64::MAX / 4)).summary();
        assert_eq!(summary.task.chars().count(), TASK_SUMMARY_CHARS);
        assert!(summary.task.ends_with('…') && !summary.task.contains('\n'));
        assert!(serde_json::to_vec(&summary).unwrap().len() < 1024);
    }

    #[test]
    fn the_reported_status_replaces_the_stored_one() {
        let record = Reservation::from_callback(&callback("{}"), at(0));
        let timeouts = ReservationTimeouts::uniform(120);
        assert_eq!(record.summary().reported(at(120_000), &timeouts).status, ReportedStatus::Stored(Status::Pending));
        assert_eq!(record.summary().reported(at(121_000), &timeouts).status, ReportedStatus::EXPIRED);
        let view = serde_json::to_value(record.reported(at(121_000), &timeouts)).unwrap();
        assert_eq!(view["status"], "expired");
        assert_eq!(view["reservation_sid"], WR);
    }

    #[test]
    fn expiry_follows_the_workflows_own_timeout() {
        let mut params = callback("{}");
        let workflow = format!("WW{}", "e".repeat(32));
        params.params.push("WorkflowSid", workflow.clone());
        let record = Reservation::from_callback(&params, at(0));
        assert_eq!(record.summary().workflow_sid.as_ref().map(WorkflowSid::as_str), Some(workflow.as_str()));
        let mut timeouts = ReservationTimeouts::uniform(120);
        timeouts.per_workflow.insert(workflow.parse().unwrap(), 600);
        assert_eq!(record.summary().reported(at(500_000), &timeouts).status, ReportedStatus::Stored(Status::Pending));
        assert_eq!(record.clone().reported(at(601_000), &timeouts).status, ReportedStatus::EXPIRED);
        let mut other = callback("{}");
        other.params.push("WorkflowSid", format!("WW{}", "f".repeat(32)));
        let elsewhere = Reservation::from_callback(&other, at(0));
        assert_eq!(elsewhere.summary().reported(at(121_000), &timeouts).status, ReportedStatus::EXPIRED);
    }
}
