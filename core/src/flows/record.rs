//! Records made from what TaskRouter sent: an assignment callback, or an event about a
//! reservation the store has never seen.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::models::{Attributes, Reservation, Status, StatusSource, Timestamp};
use crate::twilio::ReservationParams;

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
            decided_by: None,
            ended_because: None,
            agent: None,
            queue: None,
        }
    }

    /// A record made from a reservation event, when the store has never seen the reservation.
    pub fn from_event(params: &ReservationParams, reported: Status, now: Timestamp) -> Reservation {
        Reservation { status: reported, status_source: StatusSource::Event, ..Reservation::from_callback(params, now) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::WorkerSid;
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
            assert_eq!(record.task_attributes.as_ref().and_then(Attributes::raw_text), Some(odd), "{odd}");
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
    fn an_event_about_an_unseen_reservation_makes_its_record_with_the_reported_status() {
        let record = Reservation::from_event(&callback("{}"), Status::Accepted, at(7));
        assert_eq!(
            (record.status, record.status_source, record.received_at),
            (Status::Accepted, StatusSource::Event, at(7))
        );
    }
}
