//! `reservations connect --workspace WS… --workflow WW… --url URL [--events]`

use anyhow::{Result, bail};
use serde_json::json;
use taskrouter_edge::models::{WorkflowSid, WorkspaceSid};
use taskrouter_edge::twilio::event::handled_event_types;

use crate::exit;
use crate::output;
use crate::twilio::TaskRouter;

pub async fn run(
    twilio: &TaskRouter,
    workspace: &WorkspaceSid,
    workflow: &WorkflowSid,
    url: &str,
    events: bool,
    json: bool,
) -> Result<u8> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        bail!("--url must be the worker's http(s) base URL, not {url:?}");
    }
    let base = url.trim_end_matches('/');
    let assignment_url = format!("{base}/assignment_callback");
    twilio.set_assignment_callback(workspace, workflow, &assignment_url).await?;
    if !json {
        println!("✓ Workflow {workflow} now sends assignment callbacks to {assignment_url}");
    }
    let filter = handled_event_types();
    let events_url = format!("{base}/events");
    if events {
        twilio.set_event_callback(workspace, &events_url, &filter).await?;
        if !json {
            println!("✓ Workspace {workspace} now sends its events to {events_url}");
            println!("  events: {}", filter.join(", "));
        }
    }
    if json {
        output::print_json(&json!({
            "workspace_sid": workspace,
            "workflow_sid": workflow,
            "assignment_callback_url": assignment_url,
            "event_callback_url": events.then_some(&events_url),
            "events_filter": events.then_some(&filter),
        }));
    }
    Ok(exit::OK)
}
