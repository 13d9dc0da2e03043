//! What a console shows of one reservation: its summary (the same one a listing gives), its
//! Workflow's reservation timeout, so the page counts down to expiry, and its first task
//! attributes as text, so the page can show what tells two rows apart.

use serde::{Deserialize, Serialize};

use crate::models::attributes::shown;
use crate::models::summary::clipped;
use crate::models::{AccountSid, Reservation, ReservationTimeouts, Summary, TaskQueueSid};

/// The most attributes a card carries, and the longest text of each.
pub const CARD_ATTRIBUTES: usize = 12;
pub const ATTRIBUTE_CHARS: usize = 60;

/// Whether a card's queue label is still the TaskQueue's SID, not its name.
pub fn is_queue_sid(queue: &str) -> bool {
    queue.parse::<TaskQueueSid>().is_ok()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub summary: Summary,
    /// The reservation's Workflow's `TaskReservationTimeout`, in seconds.
    pub timeout_seconds: u64,
    /// Top-level task attributes in key order, each `[key, value as text]`, clipped; empty for a
    /// card made from a listing's summary alone.
    #[serde(default)]
    pub attributes: Vec<[String; 2]>,
    /// Who took the operator's decision or update that gave the reservation its status, if one
    /// did: an email, a service token, or `operator token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// The Account the reservation's callback or event named: a catch-up signs in to TaskRouter
    /// as it when the worker has no `TWILIO_ACCOUNT_SID` of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_sid: Option<AccountSid>,
    /// Why the reservation ended without an event saying so: TaskRouter no longer has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_because: Option<String>,
    /// Whether `summary.agent` is the Worker's name (from `WorkerName`, or looked up), not its
    /// `contact_uri`: a name need not be looked up.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub agent_is_name: bool,
}

impl Card {
    /// Shows the Worker's name as the agent.
    pub fn name_agent(&mut self, name: String) {
        self.summary.agent = Some(name);
        self.agent_is_name = true;
    }

    /// Shows the TaskQueue's name instead of its SID.
    pub fn name_queue(&mut self, name: String) {
        self.summary.queue = Some(name);
    }

    /// The card of a record as stored.
    pub fn of(record: &Reservation, timeouts: &ReservationTimeouts) -> Card {
        let attributes = record
            .task_attributes
            .as_ref()
            .and_then(|attributes| attributes.members())
            .map(|members| {
                members
                    .take(CARD_ATTRIBUTES)
                    .map(|(key, raw)| {
                        [clipped(key, ATTRIBUTE_CHARS), clipped(&shown(raw).unwrap_or_default(), ATTRIBUTE_CHARS)]
                    })
                    .collect()
            })
            .unwrap_or_default();
        Card {
            summary: record.summary(),
            timeout_seconds: timeouts.seconds_for(record.workflow_sid.as_ref()),
            attributes,
            decided_by: None,
            account_sid: record.parameter("AccountSid").and_then(|sid| sid.parse().ok()),
            ended_because: None,
            agent_is_name: record.parameter("WorkerName").is_some(),
        }
    }

    /// The card of a listing's summary (what the hub learns from KV when it has not been told).
    pub fn of_summary(summary: Summary, timeouts: &ReservationTimeouts) -> Card {
        let timeout_seconds = timeouts.seconds_for(summary.workflow_sid.as_ref());
        Card {
            summary,
            timeout_seconds,
            attributes: Vec::new(),
            decided_by: None,
            account_sid: None,
            ended_because: None,
            agent_is_name: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::reservation::tests::pending;

    #[test]
    fn a_card_carries_the_summary_the_timeout_and_the_first_attributes_as_text() {
        let record = pending(
            r#"{"b":"two\nlines","a":1,"c":{"d":[1, 2]},"long":"%LONG%"}"#.replace("%LONG%", &"x".repeat(100)).as_str(),
            0,
        );
        let mut timeouts = ReservationTimeouts::uniform(120);
        let card = Card::of(&record, &timeouts);
        assert_eq!(card.summary, record.summary());
        assert_eq!(card.timeout_seconds, 120);
        assert_eq!(card.attributes[0], ["a".to_owned(), "1".to_owned()]);
        assert_eq!(card.attributes[1], ["b".to_owned(), "two lines".to_owned()], "text, one line");
        assert_eq!(card.attributes[2][1], "{\"d\":[1, 2]}", "an object as its JSON text");
        assert_eq!(card.attributes[3][1].chars().count(), ATTRIBUTE_CHARS);
        let workflow = format!("WW{}", "e".repeat(32));
        let record = Reservation { workflow_sid: Some(workflow.parse().unwrap()), ..pending("{}", 0) };
        timeouts.per_workflow.insert(workflow.parse().unwrap(), 600);
        assert_eq!(Card::of(&record, &timeouts).timeout_seconds, 600);
        let many = format!("{{{}}}", (0..40).map(|i| format!("\"k{i:02}\":{i}")).collect::<Vec<_>>().join(","));
        assert_eq!(Card::of(&pending(&many, 0), &timeouts).attributes.len(), CARD_ATTRIBUTES);
        assert!(Card::of(&pending("not json", 0), &timeouts).attributes.is_empty());
    }

    #[test]
    fn a_card_travels_as_json_and_reads_back() {
        let card = Card::of(&pending(r#"{"type":"voice"}"#, 5), &ReservationTimeouts::uniform(120));
        let text = serde_json::to_string(&card).unwrap();
        assert_eq!(serde_json::from_str::<Card>(&text).unwrap(), card);
    }
}
