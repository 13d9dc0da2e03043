//! What a listing shows of a reservation: its summary, held in the hub's card and kept as its
//! KV key's metadata (what the hub imports from).

use serde::{Deserialize, Serialize};

use crate::models::attributes::shown;

use super::{
    Attributes, ReportedStatus, Reservation, ReservationSid, ReservationTimeouts, Status, TaskSid, Timestamp,
    WorkerSid, WorkflowSid, WorkspaceSid,
};

/// The longest task summary kept in KV metadata (which holds at most 1024 bytes in all).
pub const TASK_SUMMARY_CHARS: usize = 80;

/// What a listing shows, held by the hub and kept as the KV key's metadata. Stored
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
    /// The agent, as a supervisor knows them: the worker's name when TaskRouter sent it
    /// (`WorkerName`), else its `contact_uri` attribute; `None` leaves the SID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The task's queue: its name when TaskRouter sent it (`TaskQueueName`), else its SID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// `TaskPriority`, as the callback gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// `TaskAge` in seconds when the callback came (the task's age now adds the time since).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_age_seconds: Option<u64>,
    /// While pending: how long until TaskRouter times the reservation out, as of the answer.
    /// Shown to operators only (the console counts it down), never stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_ms: Option<u64>,
}

impl Reservation {
    /// The summary a listing shows of this record.
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
            agent: self
                .parameter("WorkerName")
                .map(str::to_owned)
                .or_else(|| self.worker_attributes.as_ref()?.text_at(&["contact_uri"]))
                .map(|name| clipped(&name, LABEL_CHARS)),
            queue: self
                .parameter("TaskQueueName")
                .map(|queue| clipped(queue, LABEL_CHARS))
                .or_else(|| self.parameter("TaskQueueSid").map(|sid| clipped(sid, SID_CHARS))),
            priority: self.parameter("TaskPriority").and_then(|priority| priority.trim().parse().ok()),
            task_age_seconds: self.parameter("TaskAge").and_then(|age| age.trim().parse().ok()),
            expires_in_ms: None,
        }
    }

    /// The first non-empty value TaskRouter sent under `name`.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        let value = match self.parameters.get(name)? {
            serde_json::Value::Array(values) => values.first()?,
            value => value,
        };
        value.as_str().filter(|text| !text.trim().is_empty())
    }
}

/// The longest agent or queue name kept in KV metadata.
pub const LABEL_CHARS: usize = 24;
/// A SID's length: a queue shown by its SID is shown whole.
const SID_CHARS: usize = 34;

/// `text` to at most `limit` characters, control characters made spaces.
pub fn clipped(text: &str, limit: usize) -> String {
    let mut clip = Clipped { limit, ..Clipped::default() };
    clip.push(text);
    clip.finish()
}

impl Summary {
    /// The summary as an operator should see it at `now`.
    pub fn reported(&self, now: Timestamp, timeouts: &ReservationTimeouts) -> Summary<ReportedStatus> {
        let timeout_secs = timeouts.seconds_for(self.workflow_sid.as_ref());
        let status = ReportedStatus::derive(self.status, self.received_at.age_ms(now), timeout_secs);
        let expires_in_ms = (status == ReportedStatus::Stored(Status::Pending))
            .then(|| timeout_secs.saturating_mul(1000).saturating_sub(self.received_at.age_ms(now)));
        self.shown_as(status, expires_in_ms)
    }

    /// The summary with the status an operator is shown, and how long until it expires.
    pub fn shown_as(&self, status: ReportedStatus, expires_in_ms: Option<u64>) -> Summary<ReportedStatus> {
        Summary {
            status,
            expires_in_ms,
            reservation_sid: self.reservation_sid.clone(),
            task_sid: self.task_sid.clone(),
            workspace_sid: self.workspace_sid.clone(),
            worker_sid: self.worker_sid.clone(),
            workflow_sid: self.workflow_sid.clone(),
            received_at: self.received_at,
            status_updated_at: self.status_updated_at,
            task: self.task.clone(),
            agent: self.agent.clone(),
            queue: self.queue.clone(),
            priority: self.priority,
            task_age_seconds: self.task_age_seconds,
        }
    }
}

/// `key=value, key=value…`, at most [`TASK_SUMMARY_CHARS`] characters, without control
/// characters.
fn summarize(attributes: &Attributes) -> String {
    let mut summary = Clipped::default();
    match (attributes.members(), attributes.raw_text()) {
        (Some(members), _) => {
            for (index, (key, raw)) in members.enumerate() {
                let text = shown(raw);
                let separator = if index == 0 { "" } else { ", " };
                if ![separator, key, "=", text.as_deref().unwrap_or(raw)].into_iter().all(|part| summary.push(part)) {
                    break;
                }
            }
        }
        (None, Some(text)) => drop(summary.push(text)),
        (None, None) => drop(summary.push(attributes.json_text().unwrap_or_default())),
    }
    summary.finish()
}

/// Text kept to `limit` characters ([`TASK_SUMMARY_CHARS`] by default), control characters made
/// spaces. It stops
/// taking text one character past the limit (so it knows to cut): the rendering is bounded by the
/// limit, not by the attributes' size.
struct Clipped {
    text: String,
    chars: usize,
    limit: usize,
}

impl Default for Clipped {
    fn default() -> Self {
        Clipped { text: String::new(), chars: 0, limit: TASK_SUMMARY_CHARS }
    }
}

impl Clipped {
    /// Takes `text`; `false` once more than the limit was taken.
    fn push(&mut self, text: &str) -> bool {
        for c in text.chars() {
            if self.chars > self.limit {
                return false;
            }
            self.text.push(if c.is_control() { ' ' } else { c });
            self.chars += 1;
        }
        self.chars <= self.limit
    }

    fn finish(mut self) -> String {
        if self.chars > self.limit {
            let cut = self.text.char_indices().nth(self.limit - 1).map_or(self.text.len(), |(at, _)| at);
            self.text.truncate(cut);
            self.text.push('…');
        }
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::reservation::tests::pending;

    #[test]
    fn the_summary_names_the_agent_queue_priority_and_age() {
        let mut record = pending("{}", 0);
        let text = |value: &str| serde_json::Value::String(value.to_owned());
        record.parameters.insert("TaskQueueSid".into(), text("WQ0123"));
        record.parameters.insert("TaskPriority".into(), text("7"));
        record.parameters.insert("TaskAge".into(), text("42"));
        record.worker_attributes = Some(Attributes::parse(r#"{"contact_uri":"client:alice"}"#));
        let summary = record.summary();
        assert_eq!(
            (summary.agent.as_deref(), summary.queue.as_deref(), summary.priority, summary.task_age_seconds),
            (Some("client:alice"), Some("WQ0123"), Some(7), Some(42))
        );
        record.parameters.insert("WorkerName".into(), text("Alice Smith"));
        record.parameters.insert("TaskQueueName".into(), text(&"Support ".repeat(20)));
        let named = record.summary();
        assert_eq!(named.agent.as_deref(), Some("Alice Smith"), "the worker's name first");
        assert_eq!(named.queue.as_ref().map(|queue| queue.chars().count()), Some(LABEL_CHARS));
        record.parameters.clear();
        record.worker_attributes = None;
        let bare = record.summary();
        assert_eq!((bare.agent, bare.queue, bare.priority), (None, None, None));
    }

    #[test]
    fn the_summary_is_short_and_fits_kv_metadata() {
        let record = pending(r#"{"b":"two","a":1}"#, 0);
        assert_eq!(record.summary().task, "a=1, b=two");

        let huge = format!(r#"{{"quote":"{}","line":"a\nb"}}"#, "\"\\€".repeat(500));
        let mut record = pending(&huge, u64::MAX / 4);
        let long = serde_json::Value::String("€\"".repeat(500));
        for name in ["WorkerName", "TaskQueueName", "TaskPriority", "TaskAge"] {
            record.parameters.insert(name.into(), long.clone());
        }
        let summary = record.summary();
        assert_eq!(summary.task.chars().count(), TASK_SUMMARY_CHARS);
        assert!(summary.task.ends_with('…') && !summary.task.contains('\n'));
        assert!(serde_json::to_vec(&summary).unwrap().len() < 1024);
        // Every field at its longest, in four-byte characters.
        let widest = format!(r#"{{"k":"{}"}}"#, "😀".repeat(200));
        let mut record = pending(&widest, u64::MAX / 4);
        record.workflow_sid = Some(format!("WW{}", "e".repeat(32)).parse().unwrap());
        for name in ["WorkerName", "TaskQueueName"] {
            record.parameters.insert(name.into(), serde_json::Value::String("😀".repeat(100)));
        }
        record.parameters.insert("TaskPriority".into(), serde_json::Value::String(i64::MIN.to_string()));
        record.parameters.insert("TaskAge".into(), serde_json::Value::String(u64::MAX.to_string()));
        let summary = record.summary();
        assert!(serde_json::to_vec(&summary).unwrap().len() < 1024, "{}", serde_json::to_vec(&summary).unwrap().len());
    }

    /// The plainest summary: every member rendered, joined, cleaned, then cut. The reference the
    /// clipped one must agree with.
    fn rendered_then_cut(attributes: &Attributes) -> String {
        let text = match attributes.members() {
            Some(members) => members
                .map(|(key, value)| match serde_json::from_str::<String>(value) {
                    Ok(text) => format!("{key}={text}"),
                    Err(_) => format!("{key}={value}"),
                })
                .collect::<Vec<_>>()
                .join(", "),
            None => attributes.raw_text().or(attributes.json_text()).unwrap_or_default().to_owned(),
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

    #[test]
    fn the_clipped_summary_is_the_rendered_one_cut() {
        let mut texts: Vec<String> = [
            "{}",
            "[1,2]",
            "not json at all",
            "\"a string\"",
            r#"{"n":1.50,"t":true,"z":null,"o":{"x":[1,{"y":"\u00e9"}]},"s":"tab\there\nline"}"#,
            r#"{"type":"support","from":"+14155550100","language":"en","selected_product":"billing","customer":{"id":"C-123456","tier":"gold"}}"#,
            "{\"a\":\"\u{7f}\u{85}\u{1}\"}",
        ]
        .map(str::to_owned)
        .to_vec();
        // Every length around the limit, with one- to four-byte characters at the cut.
        for filler in ["a", "é", "€", "😀", "\\n"] {
            for len in 60..=90 {
                texts.push(format!(r#"{{"k":"{}"}}"#, filler.repeat(len)));
                texts.push(format!(r#"{{"a":1,"b":"{}","c":2}}"#, filler.repeat(len / 2)));
                texts.push(filler.repeat(len));
            }
        }
        texts.push(format!("{{{}}}", (0..200).map(|i| format!(r#""k{i}":{i}"#)).collect::<Vec<_>>().join(",")));
        for text in &texts {
            let attributes = Attributes::parse(text);
            assert_eq!(summarize(&attributes), rendered_then_cut(&attributes), "{text}");
        }
    }
}
