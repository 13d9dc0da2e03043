//! TaskRouter's Events resource (`GET /v1/Workspaces/{WS}/Events`), which keeps a Workspace's
//! events for 30 days: what a catch-up reads when events may have been lost. Each event has
//! `event_type` (`reservation.accepted`, as the Event Callback URL names it), `resource_sid`,
//! `resource_type`, `workspace_sid`, `account_sid` and an `event_data` object with the event's
//! fields in snake_case, as Event Streams sends them (`docs/twilio.md` says what is relied on).
//! An event whose SIDs cannot be found is skipped and counted: a read-back covers a reservation
//! still pending past its timeout.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::event::TaskRouterEvent;
use super::event_stream::event_of_payload;
use crate::models::{Timestamp, WorkspaceSid};
use crate::twilio::EventEffect;

/// Events asked for per page (TaskRouter serves up to 1,000; 500 keeps a page of events with
/// large attributes within what the worker reads of one answer).
pub const PAGE_SIZE: usize = 500;

/// The first page of a Workspace's events since `since` (an ISO 8601 `StartDate`).
pub fn first_page_path(workspace: &WorkspaceSid, since: Timestamp) -> String {
    let query = form_urlencoded::Serializer::new(String::new()).append_pair("StartDate", &since.to_string()).finish();
    format!("/v1/Workspaces/{workspace}/Events?{query}&PageSize={PAGE_SIZE}")
}

/// The path and query of a page's `next_page_url`, to be asked of the same base URL as the
/// first page (TaskRouter's, or a mock's). Only a URL of the same Workspace's Events is followed.
pub fn next_page_path(workspace: &WorkspaceSid, next_page_url: &str) -> Option<String> {
    let url = url::Url::parse(next_page_url).ok()?;
    let path = format!("/v1/Workspaces/{workspace}/Events");
    (url.path() == path).then(|| format!("{path}?{}", url.query().unwrap_or_default()))
}

#[derive(Deserialize)]
struct EventsResourcePage {
    events: Vec<Map<String, Value>>,
    #[serde(default)]
    meta: Option<PageMeta>,
}

#[derive(Deserialize)]
struct PageMeta {
    #[serde(default)]
    next_page_url: Option<String>,
}

/// A page read: the events the worker acts on, how many it skipped (unreadable), and the next
/// page's URL.
#[derive(Debug)]
pub struct EventsPage {
    pub events: Vec<TaskRouterEvent>,
    pub read: usize,
    pub skipped: usize,
    pub next_page_url: Option<String>,
}

/// Reads a page of the Events resource; `Err` names what does not read as one.
pub fn read_page(body: &[u8]) -> Result<EventsPage, String> {
    let page: EventsResourcePage =
        serde_json::from_slice(body).map_err(|e| format!("not a page of TaskRouter events: {e}"))?;
    let mut read = EventsPage {
        events: Vec::new(),
        read: page.events.len(),
        skipped: 0,
        next_page_url: page.meta.and_then(|meta| meta.next_page_url).filter(|url| !url.is_empty()),
    };
    for event in page.events {
        let Some(name) = event.get("event_type").and_then(Value::as_str) else {
            read.skipped += 1;
            continue;
        };
        // The event's own fields, then what the resource says of it where they are silent.
        let mut payload = event.get("event_data").and_then(Value::as_object).cloned().unwrap_or_default();
        for field in ["account_sid", "workspace_sid", "resource_sid", "resource_type"] {
            if let Some(value) = event.get(field).filter(|value| !value.is_null()) {
                payload.entry(field).or_insert_with(|| value.clone());
            }
        }
        match event_of_payload(name, &payload) {
            Ok(parsed) if parsed.effect == EventEffect::Ignored => {}
            Ok(parsed) => read.events.push(parsed),
            Err(_) => read.skipped += 1,
        }
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::models::Status;

    const WR: &str = "WRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const WT: &str = "WTbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const WS: &str = "WScccccccccccccccccccccccccccccccc";

    #[test]
    fn events_read_as_the_event_callbacks_with_the_resource_filling_in() {
        let body = json!({
            "events": [
                { "event_type": "reservation.timeout", "resource_type": "reservation", "resource_sid": WR, "workspace_sid": WS,
                  "event_data": { "task_sid": WT, "worker_name": "Alice" } },
                { "event_type": "task.completed", "resource_type": "task", "resource_sid": WT, "workspace_sid": WS, "event_data": {} },
                { "event_type": "worker.activity.update", "resource_type": "worker", "resource_sid": WT, "event_data": {} },
                { "event_type": "reservation.accepted", "resource_type": "reservation", "workspace_sid": WS, "event_data": {} },
                { "description": "no type" },
            ],
            "meta": { "next_page_url": format!("https://taskrouter.twilio.com/v1/Workspaces/{WS}/Events?PageSize=1000&PageToken=PT1") },
        });
        let page = read_page(body.to_string().as_bytes()).unwrap();
        assert_eq!((page.read, page.events.len(), page.skipped), (5, 2, 2));
        let EventEffect::Reservation { reservation, status } = &page.events[0].effect else { panic!() };
        assert_eq!((reservation.reservation_sid.as_str(), *status), (WR, Status::Timeout));
        assert_eq!(reservation.params.get("WorkerName"), Some("Alice"));
        assert!(matches!(&page.events[1].effect, EventEffect::Task { task_sid, .. } if task_sid.as_str() == WT));
        let workspace: WorkspaceSid = WS.parse().unwrap();
        assert_eq!(
            next_page_path(&workspace, page.next_page_url.as_deref().unwrap()).unwrap(),
            format!("/v1/Workspaces/{WS}/Events?PageSize=1000&PageToken=PT1")
        );
        // A next page elsewhere is not followed.
        assert_eq!(next_page_path(&workspace, "https://example.com/v1/Accounts?x=1"), None);
        assert!(read_page(b"[]").unwrap_err().contains("not a page"));
    }

    #[test]
    fn the_first_page_starts_at_the_cursor() {
        let path = first_page_path(&WS.parse().unwrap(), Timestamp::from_millis(1_000));
        assert_eq!(path, format!("/v1/Workspaces/{WS}/Events?StartDate=1970-01-01T00%3A00%3A01.000Z&PageSize=500"));
    }
}
