//! TaskRouter's assignment instructions, with the fields Twilio documents for each, as a table.
//! A required field must be given, so a configuration without it is refused; unknown fields are
//! refused, so a typo is caught when the configuration is read rather than by TaskRouter.
//!
//! Why a table, not a struct per instruction: an instruction is only checked, then written back as
//! JSON with its placeholders filled in; nothing reads its fields but [`Instruction::settles`].
//! The table is Twilio's documentation as data, and one loop checks every instruction against it.

use serde_json::{Map, Value};

use crate::models::{ActivitySid, Status};

/// What a field's JSON value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    /// A whole number that fits TaskRouter's 32 bits (seconds, participants).
    Count,
    Flag,
    /// A list of texts, as the Reservation resource's `…StatusCallbackEvent` parameters take.
    Texts,
    Activity,
}

impl Kind {
    fn fits(self, value: &Value) -> bool {
        match (self, value) {
            (Kind::Text, Value::String(_)) | (Kind::Flag, Value::Bool(_)) => true,
            (Kind::Count, Value::Number(n)) => n.as_u64().is_some_and(|n| u32::try_from(n).is_ok()),
            (Kind::Texts, Value::Array(items)) => items.iter().all(Value::is_string),
            (Kind::Activity, Value::String(sid)) => sid.parse::<ActivitySid>().is_ok(),
            _ => false,
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Kind::Text => "a string",
            Kind::Count => "a whole number from 0 to 4294967295",
            Kind::Flag => "true or false",
            Kind::Texts => "a list of strings",
            Kind::Activity => "an Activity SID (WA followed by 32 hex digits)",
        }
    }
}

/// One field an instruction takes: its name, its kind, and whether it is required.
struct Field(&'static str, Kind, bool);

const REQUIRED: bool = true;
const OPTIONAL: bool = false;

/// An instruction TaskRouter takes in an assignment callback's answer, with its fields.
struct Spec {
    name: &'static str,
    fields: &'static [Field],
}

use Kind::{Activity, Count, Flag, Text, Texts};

/// Every instruction and field, from "Handle assignment callbacks" except `conference`. That one
/// is not among the instructions the page documents; TaskRouter takes it with the Reservation
/// resource's conference parameters in lower snake case (the `Conference` instruction of the
/// Reservation REST API). Its `from` is required (without it TaskRouter fails the instruction with
/// error 40141) and its `…status_callback_event` fields take lists, as the REST parameters do. SIP
/// credentials are left out on purpose: they would sit in a plain variable.
const SPECS: &[Spec] = &[
    // Accept the reservation now.
    Spec { name: "accept", fields: &[] },
    // Reject it, optionally moving the worker to an activity.
    Spec { name: "reject", fields: &[Field("activity_sid", Activity, OPTIONAL)] },
    // Connect the call waiting in the queue (`<Enqueue>`) to the worker. `from` is optional
    // ("Required: No"): without it Twilio uses the number the caller dialled.
    Spec {
        name: "dequeue",
        fields: &[
            Field("from", Text, OPTIONAL),
            Field("to", Text, OPTIONAL),
            Field("post_work_activity_sid", Activity, OPTIONAL),
            Field("record", Text, OPTIONAL),
            Field("timeout", Count, OPTIONAL),
            Field("status_callback_url", Text, OPTIONAL),
            Field("status_callback_events", Text, OPTIONAL),
        ],
    },
    // Call the worker (caller ID `from`, a Twilio number) and run the TwiML at `url` when they
    // answer.
    Spec {
        name: "call",
        fields: &[
            Field("from", Text, REQUIRED),
            Field("url", Text, REQUIRED),
            Field("to", Text, OPTIONAL),
            Field("accept", Flag, OPTIONAL),
            Field("record", Text, OPTIONAL),
            Field("timeout", Count, OPTIONAL),
            Field("status_callback_url", Text, OPTIONAL),
        ],
    },
    // Send the call parked in a queue (`call_sid`, usually `{{task.call_sid}}`) to the TwiML at
    // `url`.
    Spec {
        name: "redirect",
        fields: &[Field("call_sid", Text, REQUIRED), Field("url", Text, REQUIRED), Field("accept", Flag, OPTIONAL)],
    },
    Spec {
        name: "conference",
        fields: &[
            Field("from", Text, REQUIRED),
            Field("to", Text, OPTIONAL),
            Field("post_work_activity_sid", Activity, OPTIONAL),
            Field("timeout", Count, OPTIONAL),
            Field("status_callback", Text, OPTIONAL),
            Field("status_callback_method", Text, OPTIONAL),
            Field("status_callback_event", Texts, OPTIONAL),
            Field("record", Flag, OPTIONAL),
            Field("muted", Flag, OPTIONAL),
            Field("beep", Text, OPTIONAL),
            Field("start_conference_on_enter", Flag, OPTIONAL),
            Field("end_conference_on_exit", Flag, OPTIONAL),
            Field("end_conference_on_customer_exit", Flag, OPTIONAL),
            Field("beep_on_customer_entrance", Flag, OPTIONAL),
            Field("wait_url", Text, OPTIONAL),
            Field("wait_method", Text, OPTIONAL),
            Field("early_media", Flag, OPTIONAL),
            Field("max_participants", Count, OPTIONAL),
            Field("conference_status_callback", Text, OPTIONAL),
            Field("conference_status_callback_method", Text, OPTIONAL),
            Field("conference_status_callback_event", Texts, OPTIONAL),
            Field("conference_record", Text, OPTIONAL),
            Field("conference_trim", Text, OPTIONAL),
            Field("recording_channels", Text, OPTIONAL),
            Field("recording_status_callback", Text, OPTIONAL),
            Field("recording_status_callback_method", Text, OPTIONAL),
            Field("conference_recording_status_callback", Text, OPTIONAL),
            Field("conference_recording_status_callback_method", Text, OPTIONAL),
            Field("region", Text, OPTIONAL),
            Field("jitter_buffer_size", Text, OPTIONAL),
        ],
    },
];

/// One checked instruction: exactly the JSON object TaskRouter is sent, `{"instruction":"accept"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Instruction {
    name: &'static str,
    object: Map<String, Value>,
}

/// `` `a`, `b` or `c` ``, for an error that lists what is allowed.
fn one_of<'n>(names: impl Iterator<Item = &'n str>) -> String {
    let names: Vec<String> = names.map(|name| format!("`{name}`")).collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => "none".to_owned(),
    }
}

/// The first thing wrong with an instruction object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstructionError {
    #[error("`instruction` must be a string")]
    NameNotText,
    #[error("missing field `instruction`")]
    NoName,
    #[error("unknown instruction `{name}`: use {known}")]
    Unknown { name: String, known: String },
    #[error("unknown field `{key}` for {name}: it takes {known}")]
    UnknownField { key: String, name: &'static str, known: String },
    #[error("`{key}` must be {expected}")]
    WrongKind { key: String, expected: &'static str },
    #[error("missing field `{missing}`: {name} requires it")]
    MissingField { missing: &'static str, name: &'static str },
}

impl Instruction {
    /// Checks an instruction object against the table. A `null` optional field counts as absent
    /// and is dropped. The error names the first problem: an unknown instruction or field, a
    /// field of the wrong kind, or a missing required field.
    pub fn read(object: &Map<String, Value>) -> Result<Instruction, InstructionError> {
        let name = match object.get("instruction") {
            Some(Value::String(name)) => name,
            Some(_) => return Err(InstructionError::NameNotText),
            None => return Err(InstructionError::NoName),
        };
        let Some(spec) = SPECS.iter().find(|spec| spec.name == name) else {
            let known = one_of(SPECS.iter().map(|spec| spec.name));
            return Err(InstructionError::Unknown { name: name.clone(), known });
        };
        let mut checked = Map::new();
        checked.insert("instruction".to_owned(), Value::String(spec.name.to_owned()));
        for (key, value) in object.iter().filter(|(key, _)| *key != "instruction") {
            let Some(Field(_, kind, required)) = spec.fields.iter().find(|field| field.0 == key) else {
                let known = one_of(spec.fields.iter().map(|field| field.0));
                return Err(InstructionError::UnknownField { key: key.clone(), name: spec.name, known });
            };
            if value.is_null() && !required {
                continue;
            }
            if !kind.fits(value) {
                return Err(InstructionError::WrongKind { key: key.clone(), expected: kind.expected() });
            }
            checked.insert(key.clone(), value.clone());
        }
        match spec.fields.iter().find(|Field(field, _, required)| *required && !checked.contains_key(*field)) {
            Some(Field(missing, ..)) => Err(InstructionError::MissingField { missing, name: spec.name }),
            None => Ok(Instruction { name: spec.name, object: checked }),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The instruction as TaskRouter is sent it, before its placeholders are filled in.
    pub fn to_value(&self) -> Value {
        Value::Object(self.object.clone())
    }

    /// The status TaskRouter gives the reservation as soon as it takes this answer: `accept`,
    /// and `call` or `redirect` with `"accept": true`, accept it; `reject` rejects it. Dequeue and
    /// conference accept it only once the worker answers, which the events report.
    pub fn settles(&self) -> Option<Status> {
        match self.name {
            "accept" => Some(Status::Accepted),
            "reject" => Some(Status::Rejected),
            "call" | "redirect" if self.object.get("accept") == Some(&Value::Bool(true)) => Some(Status::Accepted),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn read(text: Value) -> Result<Instruction, String> {
        Instruction::read(text.as_object().expect("an object")).map_err(|error| error.to_string())
    }

    fn round_trip(text: Value) -> Value {
        read(text).unwrap().to_value()
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
        assert!(read(json!({"instruction": "reject", "activity_sid": "WA1"})).is_err());
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
        let err = read(text_events).unwrap_err();
        assert_eq!(err, "`status_callback_event` must be a list of strings");
    }

    #[test]
    fn accept_reject_and_accepting_call_or_redirect_settle_the_reservation() {
        let settles = |value: Value| read(value).unwrap().settles();
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
            let err = read(text).unwrap_err();
            assert!(err.contains(&format!("missing field `{missing}`")), "{err}");
        }
    }

    #[test]
    fn unknown_instructions_and_fields_are_refused() {
        let err = read(json!({"instruction": "transfer"})).unwrap_err();
        assert_eq!(
            err,
            "unknown instruction `transfer`: use `accept`, `reject`, `dequeue`, `call`, `redirect` or `conference`"
        );
        let err = read(json!({"instruction": "dequeue", "form": "+1"})).unwrap_err().to_string();
        assert!(err.contains("unknown field `form`"), "{err}");
        let err = read(json!({"instruction": "accept", "x": 1})).unwrap_err();
        assert!(err.contains("unknown field `x`"), "{err}");
        assert_eq!(read(json!({"from": "+1"})).unwrap_err(), "missing field `instruction`");
        assert_eq!(read(json!({"instruction": 1})).unwrap_err(), "`instruction` must be a string");
        let err = read(json!({"instruction": "redirect", "call_sid": "CA1", "url": "u", "to": "+1"})).unwrap_err();
        assert_eq!(err, "unknown field `to` for redirect: it takes `call_sid`, `url` or `accept`");
        assert_eq!(
            read(json!({"instruction": "accept", "x": 1})).unwrap_err(),
            "unknown field `x` for accept: it takes none"
        );
    }

    #[test]
    fn each_field_takes_only_its_kind_of_value() {
        let with = |field: &str, value: Value| {
            let mut object = json!({"instruction": "conference", "from": "+1"});
            object[field] = value;
            read(object)
        };
        for (field, good, bad) in [
            ("to", json!("client:alice"), [json!(1), json!(true), json!(["a"])]),
            ("timeout", json!(4294967295u64), [json!(4294967296u64), json!(-1), json!(2.5)]),
            ("muted", json!(false), [json!("false"), json!(0), json!([])]),
            ("status_callback_event", json!(["initiated"]), [json!("initiated"), json!([1]), json!({})]),
            ("post_work_activity_sid", json!(WA), [json!("WA1"), json!(format!("WT{}", &WA[2..])), json!(7)]),
        ] {
            assert!(with(field, good.clone()).is_ok(), "{field}: {good}");
            for bad in bad {
                let err = with(field, bad.clone()).unwrap_err();
                assert!(err.starts_with(&format!("`{field}` must be ")), "{field}: {bad}: {err}");
            }
        }
    }

    #[test]
    fn a_null_optional_field_is_left_out_and_a_null_required_one_is_refused() {
        assert_eq!(
            round_trip(json!({"instruction": "reject", "activity_sid": null})),
            json!({"instruction": "reject"})
        );
        let err = read(json!({"instruction": "call", "from": null, "url": "https://e.com"})).unwrap_err();
        assert_eq!(err, "`from` must be a string");
    }

    #[test]
    fn every_instruction_names_its_fields_once() {
        for spec in SPECS {
            for (i, field) in spec.fields.iter().enumerate() {
                assert!(field.0 != "instruction", "{}", spec.name);
                assert!(spec.fields[i + 1..].iter().all(|other| other.0 != field.0), "{}: {}", spec.name, field.0);
            }
        }
    }
}
