//! What a listing shows of a reservation: its summary, kept as the KV key's metadata.

use serde::{Deserialize, Serialize};

use crate::models::attributes::shown;

use super::{
    Attributes, ReportedStatus, Reservation, ReservationSid, ReservationTimeouts, Status, TaskSid, Timestamp,
    WorkerSid, WorkflowSid, WorkspaceSid,
};

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
            expires_in_ms: None,
        }
    }
}

impl Summary {
    /// The summary as an operator should see it at `now`.
    pub fn reported(&self, now: Timestamp, timeouts: &ReservationTimeouts) -> Summary<ReportedStatus> {
        let timeout_secs = timeouts.seconds_for(self.workflow_sid.as_ref());
        let status = ReportedStatus::derive(self.status, self.received_at.age_ms(now), timeout_secs);
        let expires_in_ms = (status == ReportedStatus::Stored(Status::Pending))
            .then(|| timeout_secs.saturating_mul(1000).saturating_sub(self.received_at.age_ms(now)));
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

/// Text kept to [`TASK_SUMMARY_CHARS`] characters, control characters made spaces. It stops
/// taking text one character past the limit (so it knows to cut): the rendering is bounded by the
/// limit, not by the attributes' size.
#[derive(Default)]
struct Clipped {
    text: String,
    chars: usize,
}

impl Clipped {
    /// Takes `text`; `false` once more than the limit was taken.
    fn push(&mut self, text: &str) -> bool {
        for c in text.chars() {
            if self.chars > TASK_SUMMARY_CHARS {
                return false;
            }
            self.text.push(if c.is_control() { ' ' } else { c });
            self.chars += 1;
        }
        self.chars <= TASK_SUMMARY_CHARS
    }

    fn finish(mut self) -> String {
        if self.chars > TASK_SUMMARY_CHARS {
            let cut = self.text.char_indices().nth(TASK_SUMMARY_CHARS - 1).map_or(self.text.len(), |(at, _)| at);
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
    fn the_summary_is_short_and_fits_kv_metadata() {
        let record = pending(r#"{"b":"two","a":1}"#, 0);
        assert_eq!(record.summary().task, "a=1, b=two");

        let huge = format!(r#"{{"quote":"{}","line":"a\nb"}}"#, "\"\\€".repeat(500));
        let summary = pending(&huge, u64::MAX / 4).summary();
        assert_eq!(summary.task.chars().count(), TASK_SUMMARY_CHARS);
        assert!(summary.task.ends_with('…') && !summary.task.contains('\n'));
        assert!(serde_json::to_vec(&summary).unwrap().len() < 1024);
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
