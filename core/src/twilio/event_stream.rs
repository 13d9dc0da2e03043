//! Event Streams: what a webhook Sink receives. A batch is a JSON array of CloudEvents 1.0;
//! TaskRouter's sit under `com.twilio.taskrouter.`, with the event's fields in `data.payload`,
//! snake_case. Each is read as the Event Callback URL's event of the same name
//! ([`TaskRouterEvent`]), so both channels apply one status model. A batch that is not such an
//! array is refused whole. A TaskRouter event that cannot be read (no `data.payload`, a SID
//! missing) is skipped and named, not the batch refused for it: Event Streams would send the
//! same batch again for hours, then drop the good events with it.
//!
//! Signed with `X-Twilio-Signature` over the URL alone, which carries `bodySHA256`, the body's
//! SHA-256 in hex ([`body_hash_matches`]), as twilio-node's `validateRequestWithBody` checks.

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::EventEffect;
use super::event::TaskRouterEvent;
use super::form::FormParams;
use super::reservation_params::ParamsError;

/// The CloudEvents type prefix of TaskRouter's events.
pub const TYPE_PREFIX: &str = "com.twilio.taskrouter.";

/// The schema version a Subscription asks for. Version 1 carries every field the worker reads
/// (`FIELDS`); later versions add fields it does not use.
pub const SCHEMA_VERSION: u32 = 1;

/// The Event Streams types a Subscription for the worker names: TaskRouter's, for every event the
/// worker acts on (the same list as the Event Callback URL's `EventsFilter`).
pub fn subscribed_types() -> Vec<String> {
    super::event::handled_event_types().into_iter().map(|name| format!("{TYPE_PREFIX}{name}")).collect()
}

/// The most events one batch may hold (Event Streams sends far fewer).
pub const MAX_EVENTS: usize = 1_000;

/// The payload's snake_case fields, and the Event Callback parameter each stands for.
const FIELDS: [(&str, &str); 16] = [
    ("account_sid", "AccountSid"),
    ("workspace_sid", "WorkspaceSid"),
    ("reservation_sid", "ReservationSid"),
    ("task_sid", "TaskSid"),
    ("worker_sid", "WorkerSid"),
    ("worker_name", "WorkerName"),
    ("worker_attributes", "WorkerAttributes"),
    ("task_queue_sid", "TaskQueueSid"),
    ("task_queue_name", "TaskQueueName"),
    ("workflow_sid", "WorkflowSid"),
    ("task_attributes", "TaskAttributes"),
    ("task_priority", "TaskPriority"),
    ("task_age", "TaskAge"),
    ("task_assignment_status", "TaskAssignmentStatus"),
    ("resource_sid", "ResourceSid"),
    ("resource_type", "ResourceType"),
];

/// Why a batch was refused; nothing in it was applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("the body is not a JSON array of CloudEvents: {0}")]
    NotABatch(String),
    #[error("the batch holds {0} events, more than {MAX_EVENTS}")]
    TooMany(usize),
    #[error("event {index} is not a CloudEvent 1.0: {reason}")]
    NotACloudEvent { index: usize, reason: &'static str },
    #[error("event {index} ({event_type}): {error}")]
    Event { index: usize, event_type: String, error: ParamsError },
}

#[derive(Deserialize)]
struct CloudEvent {
    specversion: Value,
    #[serde(rename = "type")]
    event_type: Value,
    id: Value,
    #[serde(default)]
    data: Option<Value>,
}

/// A batch read: the events the worker acts on, in order; how many it does not use; and the
/// TaskRouter events it could not read, each with why.
#[derive(Debug)]
pub struct StreamBatch {
    pub events: Vec<TaskRouterEvent>,
    pub ignored: usize,
    pub skipped: Vec<BatchError>,
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Null => None,
        // Attributes may come as an object: kept as its JSON text, as the Event Callback sends it.
        other => Some(other.to_string()),
    }
}

/// Reads a batch.
pub fn read_batch(body: &[u8]) -> Result<StreamBatch, BatchError> {
    let values: Vec<Value> = serde_json::from_slice(body).map_err(|e| BatchError::NotABatch(e.to_string()))?;
    if values.len() > MAX_EVENTS {
        return Err(BatchError::TooMany(values.len()));
    }
    let mut batch = StreamBatch { events: Vec::new(), ignored: 0, skipped: Vec::new() };
    for (index, value) in values.into_iter().enumerate() {
        let not = |reason| BatchError::NotACloudEvent { index, reason };
        let event: CloudEvent = serde_json::from_value(value).map_err(|_| not("it lacks specversion, type or id"))?;
        if event.specversion != Value::String("1.0".into()) {
            return Err(not("its specversion is not \"1.0\""));
        }
        let (Value::String(event_type), Value::String(_)) = (&event.event_type, &event.id) else {
            return Err(not("its type or id is not a string"));
        };
        let Some(name) = event_type.strip_prefix(TYPE_PREFIX) else {
            batch.ignored += 1;
            continue;
        };
        let payload = event.data.as_ref().and_then(|data| data.get("payload")).and_then(Value::as_object);
        let Some(payload) = payload else {
            batch.skipped.push(not("a TaskRouter event without data.payload"));
            continue;
        };
        match event_of_payload(name, payload) {
            Ok(parsed) if parsed.effect == EventEffect::Ignored => batch.ignored += 1,
            Ok(parsed) => batch.events.push(parsed),
            Err(error) => {
                let event_type = crate::models::summary::clipped(name, 60);
                batch.skipped.push(BatchError::Event { index, event_type, error });
            }
        }
    }
    Ok(batch)
}

/// A TaskRouter event named `name` (`reservation.accepted`) from its snake_case fields, read as
/// the Event Callback URL's event of that name. TaskRouter's Events resource keeps the same
/// fields in each event's `event_data` (`crate::twilio::events_resource`).
pub fn event_of_payload(name: &str, payload: &serde_json::Map<String, Value>) -> Result<TaskRouterEvent, ParamsError> {
    let mut params = FormParams::from_pairs([("EventType", name)]);
    for (field, parameter) in FIELDS {
        if let Some(value) = payload.get(field).and_then(text) {
            params.set(parameter, value);
        }
    }
    TaskRouterEvent::from_params(params)
}

/// Whether `body` is what the URL's `bodySHA256` (hex) says it is.
pub fn body_hash_matches(query: &str, body: &[u8]) -> bool {
    let claimed =
        form_urlencoded::parse(query.as_bytes()).find(|(name, _)| name == "bodySHA256").map(|(_, value)| value);
    let actual: String = Sha256::digest(body).iter().map(|byte| format!("{byte:02x}")).collect();
    claimed.is_some_and(|claimed| claimed.eq_ignore_ascii_case(&actual))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::models::Status;

    const WR: &str = "WRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const WT: &str = "WTbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const WS: &str = "WScccccccccccccccccccccccccccccccc";

    fn cloud_event(event_type: &str, payload: Value) -> Value {
        json!({ "specversion": "1.0", "type": event_type, "id": "CE1", "source": "/v1/Workspaces", "time": "2026-12-07T05:00:00Z", "data": { "payload": payload } })
    }

    fn reservation_payload() -> Value {
        json!({ "reservation_sid": WR, "task_sid": WT, "workspace_sid": WS, "worker_name": "Alice", "task_queue_name": "Support", "task_attributes": "{\"type\":\"support\"}", "task_priority": 0 })
    }

    #[test]
    fn taskrouter_events_read_as_the_event_callbacks_and_others_are_counted() {
        let body = json!([
            cloud_event("com.twilio.taskrouter.reservation.accepted", reservation_payload()),
            cloud_event("com.twilio.taskrouter.reservation.created", reservation_payload()),
            cloud_event("com.twilio.taskrouter.task.canceled", json!({ "task_sid": WT, "workspace_sid": WS })),
            cloud_event("com.twilio.studio.flow.started", json!({})),
        ]);
        let batch = read_batch(body.to_string().as_bytes()).unwrap();
        assert_eq!((batch.events.len(), batch.ignored), (2, 2));
        let EventEffect::Reservation { reservation, status } = &batch.events[0].effect else { panic!() };
        assert_eq!((reservation.reservation_sid.as_str(), *status), (WR, Status::Accepted));
        assert_eq!(reservation.params.get("WorkerName"), Some("Alice"));
        assert_eq!(reservation.params.get("TaskPriority"), Some("0"));
        assert!(matches!(batch.events[1].effect, EventEffect::Task { .. }));
    }

    #[test]
    fn a_batch_that_is_not_one_is_refused_whole() {
        for (body, expected) in [
            ("{}", "not a JSON array"),
            ("[1]", "lacks specversion"),
            (r#"[{"specversion":"0.3","type":"x","id":"1"}]"#, "specversion"),
            (r#"[{"specversion":"1.0","type":7,"id":"1"}]"#, "not a string"),
            ("not json", "not a JSON array"),
        ] {
            let error = read_batch(body.as_bytes()).unwrap_err();
            assert!(error.to_string().contains(expected), "{body}: {error}");
        }
        // A TaskRouter event that cannot be read is skipped and named; the others go on.
        let mixed = json!([
            cloud_event("com.twilio.taskrouter.reservation.accepted", json!({ "task_sid": WT, "workspace_sid": WS })),
            json!({ "specversion": "1.0", "type": "com.twilio.taskrouter.reservation.rejected", "id": "2" }),
            cloud_event("com.twilio.taskrouter.reservation.accepted", reservation_payload()),
        ]);
        let batch = read_batch(mixed.to_string().as_bytes()).unwrap();
        assert_eq!((batch.events.len(), batch.skipped.len()), (1, 2));
        assert!(matches!(batch.skipped[0], BatchError::Event { index: 0, .. }));
        assert!(batch.skipped[1].to_string().contains("data.payload"));
    }

    #[test]
    fn the_body_hash_is_the_bodys_own() {
        let body = br#"[{"a":1}]"#;
        let hex: String = Sha256::digest(body).iter().map(|byte| format!("{byte:02x}")).collect();
        assert!(body_hash_matches(&format!("bodySHA256={hex}"), body));
        assert!(body_hash_matches(&format!("x=1&bodySHA256={}", hex.to_uppercase()), body));
        assert!(!body_hash_matches(&format!("bodySHA256={hex}"), b"[]"));
        assert!(!body_hash_matches("", body), "no hash, no match");
    }
}
