//! TaskRouter's assignment instructions, with the fields Twilio documents for each. A required
//! field is a plain field, so a configuration without it does not parse; unknown fields are
//! refused, so a typo is caught when the configuration is read rather than by TaskRouter.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::models::{ActivitySid, Status};

/// One instruction, serialized exactly as TaskRouter expects it: `{"instruction":"accept"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "instruction", rename_all = "lowercase")]
pub enum Instruction {
    Accept(Accept),
    Reject(Reject),
    Dequeue(Dequeue),
    Call(Call),
    Redirect(Redirect),
    Conference(Box<Conference>),
}

impl Instruction {
    pub fn name(&self) -> &'static str {
        match self {
            Instruction::Accept(_) => "accept",
            Instruction::Reject(_) => "reject",
            Instruction::Dequeue(_) => "dequeue",
            Instruction::Call(_) => "call",
            Instruction::Redirect(_) => "redirect",
            Instruction::Conference(_) => "conference",
        }
    }

    /// The status TaskRouter gives the reservation as soon as it takes this answer: `accept`,
    /// and `call` or `redirect` with `"accept": true`, accept it; `reject` rejects it. Dequeue and
    /// conference accept it only once the worker answers, which the events report.
    pub fn settles(&self) -> Option<Status> {
        match self {
            Instruction::Accept(_) => Some(Status::Accepted),
            Instruction::Reject(_) => Some(Status::Rejected),
            Instruction::Call(Call { accept: Some(true), .. })
            | Instruction::Redirect(Redirect { accept: Some(true), .. }) => Some(Status::Accepted),
            _ => None,
        }
    }
}

const NAMES: &[&str] = &["accept", "reject", "dequeue", "call", "redirect", "conference"];

/// Read through `serde_json::Value` rather than serde's derive for internally tagged enums: the
/// same errors, without serde's buffering machinery in the wasm bundle.
impl<'de> Deserialize<'de> for Instruction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = Map::<String, Value>::deserialize(deserializer)?;
        let name = match fields.remove("instruction") {
            Some(Value::String(name)) => name,
            Some(_) => return Err(D::Error::custom("`instruction` must be a string")),
            None => return Err(D::Error::missing_field("instruction")),
        };
        fn fields_of<T: DeserializeOwned, E: serde::de::Error>(fields: Map<String, Value>) -> Result<T, E> {
            serde_json::from_value(Value::Object(fields)).map_err(E::custom)
        }
        match name.as_str() {
            "accept" => fields_of(fields).map(Instruction::Accept),
            "reject" => fields_of(fields).map(Instruction::Reject),
            "dequeue" => fields_of(fields).map(Instruction::Dequeue),
            "call" => fields_of(fields).map(Instruction::Call),
            "redirect" => fields_of(fields).map(Instruction::Redirect),
            "conference" => fields_of(fields).map(|conference| Instruction::Conference(Box::new(conference))),
            other => Err(D::Error::unknown_variant(other, NAMES)),
        }
    }
}

/// `accept`: accept the reservation now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accept {}

/// `reject`: reject it, optionally moving the worker to `activity_sid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_sid: Option<ActivitySid>,
}

/// `dequeue`: connect the call waiting in the queue (`<Enqueue>`) to the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dequeue {
    /// Caller ID of the call to the worker. Optional ("Handle assignment callbacks": Required: No):
    /// without it Twilio uses the number the caller dialled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_work_activity_sid: Option<ActivitySid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_callback_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_callback_events: Option<String>,
}

/// `call`: call the worker and run TwiML at `url` when they answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// Caller ID of the call (a Twilio number): required.
    pub from: String,
    /// TwiML to run when the worker answers: required.
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_callback_url: Option<String>,
}

/// `redirect`: send a call parked in a queue to new TwiML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redirect {
    /// The parked call (`CA…`), usually `{{task.call_sid}}`: required.
    pub call_sid: String,
    /// TwiML to redirect the call to: required.
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<bool>,
}

/// `conference`: not among the instructions "Handle assignment callbacks" documents; TaskRouter
/// takes it with the Reservation resource's conference parameters in lower snake case (the
/// `Conference` instruction of the Reservation REST API). `from` is required (without it
/// TaskRouter fails the instruction with error 40141); the `…status_callback_event` fields take
/// lists, as the REST parameters do. SIP credentials are left out on purpose: they would sit in a
/// plain variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conference {
    /// Caller ID of the call to the worker: required.
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_work_activity_sid: Option<ActivitySid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_callback: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_callback_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_callback_event: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beep: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_conference_on_enter: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_conference_on_exit: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_conference_on_customer_exit: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beep_on_customer_entrance: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_media: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_participants: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_status_callback: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_status_callback_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_status_callback_event: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_record: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_trim: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_channels: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_status_callback: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_status_callback_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_recording_status_callback: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_recording_status_callback_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_buffer_size: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn round_trip(text: Value) -> Value {
        let instruction: Instruction = serde_json::from_value(text).unwrap();
        serde_json::to_value(&instruction).unwrap()
    }

    const WA: &str = "WAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    #[test]
    fn accept_is_just_its_name() {
        assert_eq!(round_trip(json!({"instruction": "accept"})), json!({"instruction": "accept"}));
    }

    #[test]
    fn reject_carries_an_optional_activity() {
        assert_eq!(round_trip(json!({"instruction": "reject"})), json!({"instruction": "reject"}));
        let full = json!({"instruction": "reject", "activity_sid": WA});
        assert_eq!(round_trip(full.clone()), full);
        assert!(
            serde_json::from_value::<Instruction>(json!({"instruction": "reject", "activity_sid": "WA1"})).is_err()
        );
    }

    #[test]
    fn dequeue_serializes_every_field() {
        let full = json!({
            "instruction": "dequeue", "from": "+14155550100", "to": "client:alice",
            "post_work_activity_sid": WA, "record": "record-from-answer", "timeout": 20,
            "status_callback_url": "https://example.com/status", "status_callback_events": "initiated,completed",
        });
        assert_eq!(round_trip(full.clone()), full);
        assert_eq!(
            round_trip(json!({"instruction": "dequeue", "from": "+1"})),
            json!({"instruction": "dequeue", "from": "+1"})
        );
        assert_eq!(
            round_trip(json!({"instruction": "dequeue"})),
            json!({"instruction": "dequeue"}),
            "from is optional"
        );
    }

    #[test]
    fn call_serializes_every_field() {
        let full = json!({
            "instruction": "call", "from": "+14155550100", "url": "https://example.com/twiml", "to": "+14155550101",
            "accept": true, "record": "record-from-answer", "timeout": 30, "status_callback_url": "https://example.com/s",
        });
        assert_eq!(round_trip(full.clone()), full);
    }

    #[test]
    fn redirect_serializes_every_field() {
        let full =
            json!({"instruction": "redirect", "call_sid": "CA123", "url": "https://example.com/hold", "accept": false});
        assert_eq!(round_trip(full.clone()), full);
    }

    #[test]
    fn conference_serializes_every_field() {
        let full = json!({
            "instruction": "conference", "from": "+14155550100", "to": "client:alice", "post_work_activity_sid": WA,
            "timeout": 25, "status_callback": "https://e.com/s", "status_callback_method": "POST",
            "status_callback_event": ["initiated", "ringing"], "record": true, "muted": false, "beep": "onEnter",
            "start_conference_on_enter": true, "end_conference_on_exit": false, "end_conference_on_customer_exit": true,
            "beep_on_customer_entrance": true, "wait_url": "https://e.com/wait", "wait_method": "GET",
            "early_media": true, "max_participants": 10, "conference_status_callback": "https://e.com/c",
            "conference_status_callback_method": "POST", "conference_status_callback_event": ["start", "end"],
            "conference_record": "record-from-start", "conference_trim": "trim-silence", "recording_channels": "dual",
            "recording_status_callback": "https://e.com/r", "recording_status_callback_method": "POST",
            "conference_recording_status_callback": "https://e.com/cr", "conference_recording_status_callback_method": "GET",
            "region": "us1", "jitter_buffer_size": "medium",
        });
        assert_eq!(round_trip(full.clone()), full);
        let minimal = json!({"instruction": "conference", "from": "+14155550100"});
        assert_eq!(round_trip(minimal.clone()), minimal);
        let text_events =
            json!({"instruction": "conference", "from": "+1", "status_callback_event": "initiated,ringing"});
        let err = serde_json::from_value::<Instruction>(text_events).unwrap_err().to_string();
        assert!(err.contains("expected a sequence"), "{err}");
    }

    #[test]
    fn accept_reject_and_accepting_call_or_redirect_settle_the_reservation() {
        let settles = |value: Value| serde_json::from_value::<Instruction>(value).unwrap().settles();
        assert_eq!(settles(json!({"instruction": "accept"})), Some(Status::Accepted));
        assert_eq!(settles(json!({"instruction": "reject"})), Some(Status::Rejected));
        let call = json!({"instruction": "call", "from": "+1", "url": "https://e.com", "accept": true});
        assert_eq!(settles(call), Some(Status::Accepted));
        let redirect = json!({"instruction": "redirect", "call_sid": "CA1", "url": "https://e.com", "accept": true});
        assert_eq!(settles(redirect), Some(Status::Accepted));
        assert_eq!(
            settles(json!({"instruction": "call", "from": "+1", "url": "https://e.com", "accept": false})),
            None
        );
        assert_eq!(settles(json!({"instruction": "redirect", "call_sid": "CA1", "url": "https://e.com"})), None);
        assert_eq!(settles(json!({"instruction": "dequeue"})), None);
        assert_eq!(settles(json!({"instruction": "conference", "from": "+1"})), None);
    }

    #[test]
    fn required_fields_are_required() {
        for (missing, text) in [
            ("from", json!({"instruction": "conference"})),
            ("from", json!({"instruction": "call", "url": "https://e.com"})),
            ("url", json!({"instruction": "call", "from": "+1"})),
            ("call_sid", json!({"instruction": "redirect", "url": "https://e.com"})),
            ("url", json!({"instruction": "redirect", "call_sid": "CA1"})),
        ] {
            let err = serde_json::from_value::<Instruction>(text).unwrap_err().to_string();
            assert!(err.contains(&format!("missing field `{missing}`")), "{err}");
        }
    }

    #[test]
    fn unknown_instructions_and_fields_are_refused() {
        let err = serde_json::from_value::<Instruction>(json!({"instruction": "transfer"})).unwrap_err().to_string();
        assert!(err.contains("unknown variant `transfer`"), "{err}");
        let err = serde_json::from_value::<Instruction>(json!({"instruction": "dequeue", "form": "+1"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `form`"), "{err}");
        let err =
            serde_json::from_value::<Instruction>(json!({"instruction": "accept", "x": 1})).unwrap_err().to_string();
        assert!(err.contains("unknown field `x`"), "{err}");
        assert!(serde_json::from_value::<Instruction>(json!({"from": "+1"})).is_err());
    }
}
