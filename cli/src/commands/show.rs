//! `reservations show WR…`

use anyhow::Result;
use taskrouter_core::models::{Attributes, ReservationSid};

use crate::exit;
use crate::output;
use crate::worker::Worker;

/// Attributes for a terminal: JSON pretty-printed with every number as stored, and no control
/// character left raw (attributes come from callers, and must not drive the operator's terminal).
fn attributes_text(attributes: Option<&Attributes>) -> String {
    let Some(attributes) = attributes else { return "(none)".to_owned() };
    match (attributes.json_text(), attributes.raw_text()) {
        (Some(json), _) => output::printable(
            &output::parse_json::<serde_json::Value>(json.as_bytes())
                .and_then(|value| serde_json::to_string_pretty(&value).map_err(Into::into))
                .unwrap_or_else(|_| json.to_owned()),
        ),
        (None, text) => format!("{}   (not JSON, kept as sent)", output::printable(text.unwrap_or_default())),
    }
}

/// A SID with the name the worker shows for it: `Alice Smith (WK…)`, the SID alone when the name
/// is only the SID again, or `-`.
fn labelled(sid: Option<String>, name: Option<&str>) -> String {
    match (sid, name) {
        (Some(sid), Some(name)) if name != sid => format!("{} ({sid})", output::printable(name)),
        (Some(sid), _) => sid,
        (None, Some(name)) => output::printable(name),
        (None, None) => "-".to_owned(),
    }
}

pub async fn run(worker: &Worker, sid: &ReservationSid, json: bool) -> Result<u8> {
    let record = worker.show(sid).await?;
    if json {
        output::print_json(&record);
        return Ok(exit::OK);
    }
    let now = output::now();
    let rows = [
        ("Reservation", record.reservation_sid.to_string()),
        (
            "Status",
            format!(
                "{} (set by {}{} at {})",
                output::status_text(record.status),
                output::source_text(record.status_source),
                record.decided_by.as_deref().map(|who| format!(", {}", output::printable(who))).unwrap_or_default(),
                record.status_updated_at
            ),
        ),
        ("Task", record.task_sid.to_string()),
        ("Worker", labelled(record.worker_sid.as_ref().map(ToString::to_string), record.agent.as_deref())),
        (
            "Queue",
            labelled(
                record.parameters.get("TaskQueueSid").and_then(serde_json::Value::as_str).map(str::to_owned),
                record.queue.as_deref(),
            ),
        ),
        ("Workspace", record.workspace_sid.to_string()),
        ("Received", format!("{} ({} ago)", record.received_at, output::age(record.received_at, now))),
    ];
    for (label, value) in rows {
        outln!("{label:<12} {value}");
    }
    outln!("\nTask attributes:\n{}", attributes_text(record.task_attributes.as_ref()));
    outln!("\nWorker attributes:\n{}", attributes_text(record.worker_attributes.as_ref()));
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sid_is_shown_with_its_name_when_the_worker_knows_one() {
        let wk = format!("WK{}", "a".repeat(32));
        assert_eq!(labelled(Some(wk.clone()), Some("Ana Lima")), format!("Ana Lima ({wk})"));
        assert_eq!(labelled(Some(wk.clone()), Some(&wk)), wk, "a queue not yet named shows its SID once");
        assert_eq!(labelled(Some(wk.clone()), None), wk);
        assert_eq!(labelled(None, Some("client:\u{1b}[31mana")), "client:\\u{1b}[31mana");
        assert_eq!(labelled(None, None), "-");
    }
}
