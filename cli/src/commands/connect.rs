//! `reservations connect --workspace WS… --workflow WW… --url URL [--events | --event-streams]`
//!
//! A Workspace has one `EventCallbackUrl`, and a Workflow one `AssignmentCallbackUrl`. Both are
//! read before anything changes: another event consumer is never replaced unless asked, the
//! `EventsFilter` of the worker's own URL is merged rather than overwritten, and the Workflow's
//! fallback URL is left as it is.

use anyhow::Result;
use serde_json::json;
use taskrouter_core::models::{WorkflowSid, WorkspaceSid};
use taskrouter_core::twilio::event::handled_event_types;
use url::{Host, Url};

use super::event_streams::{self, EventStreams};
use crate::exit;
use crate::output;
use crate::settings::UsageError;
use crate::twilio::{TwilioClient, TwilioWorkspace};

pub struct ConnectArgs<'a> {
    pub workspace: &'a WorkspaceSid,
    pub workflow: &'a WorkflowSid,
    /// The worker's base URL, as [`base_url`] made it.
    pub base: &'a str,
    pub events: bool,
    pub replace_event_callback: bool,
}

/// Whether Twilio cannot reach `url`: its host is `localhost` (or under it), or a loopback,
/// private, link-local or unspecified address. Anything else (a public name or address) is taken
/// as reachable; a name that resolves to a private address is not caught here.
pub fn is_unreachable_from_twilio(url: &str) -> bool {
    let Ok(parsed) = Url::parse(url.trim()) else { return false };
    match parsed.host() {
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.');
            name == "localhost" || name.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified(),
        Some(Host::Ipv6(ip)) => {
            let first = ip.segments()[0];
            ip.is_loopback()
                || ip.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local (fc00::/7)
                || (first & 0xffc0) == 0xfe80 // link-local (fe80::/10)
                || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback() || v4.is_private() || v4.is_link_local())
        }
        None => false,
    }
}

/// The worker's base URL as Twilio should call it: `http(s)://`, the scheme and host in lower
/// case (as `Url` writes them), no trailing slash. The runtime lower-cases the host it sees, while
/// Twilio signs the URL as it was configured: an upper-case letter there would fail every
/// signature.
pub fn base_url(url: &str) -> Result<String, UsageError> {
    let usage = |problem: &str| UsageError(format!("--url must be {problem}, not {url:?}"));
    let parsed = Url::parse(url.trim())
        .map_err(|_| usage("the worker's http(s) base URL, such as https://taskrouter-edge.you.workers.dev"))?;
    if parsed.scheme() != "https" && parsed.scheme() != "http" {
        return Err(usage("an https:// (or http://) URL"));
    }
    if parsed.host_str().is_none_or(str::is_empty) || parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(usage("the worker's base URL, with a host and without a query"));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// What to do with the Workspace's event callback.
#[derive(Debug, PartialEq, Eq)]
pub enum EventsPlan {
    /// Set the URL and this filter.
    Set { filter: Vec<String>, replacing: Option<String> },
    /// Another consumer has the Workspace's events: change nothing.
    Taken { current: String },
}

/// Decides the event callback from what the Workspace has now.
pub fn plan_events(current: &TwilioWorkspace, events_url: &str, replace: bool) -> EventsPlan {
    let ours = handled_event_types();
    let existing_url = current.event_callback_url.as_deref().map(str::trim).filter(|url| !url.is_empty());
    match existing_url {
        Some(url) if url != events_url && !replace => EventsPlan::Taken { current: url.to_owned() },
        Some(url) if url != events_url => {
            EventsPlan::Set { filter: ours.iter().map(|e| (*e).to_owned()).collect(), replacing: Some(url.to_owned()) }
        }
        Some(_) => {
            // Already ours: keep the events chosen so far, and add the ones the worker uses.
            let mut filter: Vec<String> = current
                .events_filter
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|event| !event.is_empty())
                .map(str::to_owned)
                .collect();
            for event in ours {
                if !filter.iter().any(|kept| kept == event) {
                    filter.push(event.to_owned());
                }
            }
            EventsPlan::Set { filter, replacing: None }
        }
        None => EventsPlan::Set { filter: ours.iter().map(|e| (*e).to_owned()).collect(), replacing: None },
    }
}

/// Refuses a worker URL Twilio cannot reach, unless Twilio itself is local (a mock, in tests).
pub fn refuse_unreachable(base: &str, twilio_is_local: bool) -> Result<(), UsageError> {
    if is_unreachable_from_twilio(base) && !twilio_is_local {
        return Err(UsageError(format!(
            "{base} is a local address: Twilio cannot reach it, so every reservation would time out. \
             Pass the worker's public URL with --url (after `npm run deploy`, https://taskrouter-edge.<you>.workers.dev; \
             for `wrangler dev`, a tunnel's https URL, with PUBLIC_URL set to it). Nothing was changed."
        )));
    }
    Ok(())
}

/// Sets the Workflow's Assignment Callback URL, and the events channel asked for: the
/// Workspace's Event Callback URL (`events`) or Event Streams (`streams`).
pub async fn run(
    twilio: &TwilioClient,
    args: ConnectArgs<'_>,
    streams: Option<EventStreams>,
    json: bool,
) -> Result<u8> {
    let ConnectArgs { workspace, workflow, base, events, replace_event_callback } = args;
    let assignment_url = format!("{base}/assignment_callback");
    let events_url = format!("{base}/events");

    // Read everything first: a refusal must leave both untouched.
    let events_plan = if events {
        let current = twilio.fetch_workspace(workspace).await?;
        Some(plan_events(&current, &events_url, replace_event_callback))
    } else {
        None
    };
    if let Some(EventsPlan::Taken { current }) = &events_plan {
        if json {
            output::print_json(&json!({ "workspace_sid": workspace, "event_callback_url": current, "changed": false }));
        }
        eprintln!(
            "error: Workspace {workspace} already sends its events to {current}; nothing was changed. \
             TaskRouter has one Event Callback URL per Workspace: to send the events to {events_url} instead, \
             run again with --replace-event-callback"
        );
        return Ok(exit::ACTION_FAILED);
    }
    let current_workflow = twilio.fetch_workflow(workspace, workflow).await?;
    let replaced_assignment = current_workflow
        .assignment_callback_url
        .as_deref()
        .filter(|old| !old.is_empty() && *old != assignment_url)
        .map(str::to_owned);
    twilio.set_assignment_callback(workspace, workflow, &assignment_url).await?;
    let fallback = current_workflow.fallback_assignment_callback_url.as_deref().filter(|url| !url.is_empty());
    let timeout = current_workflow.task_reservation_timeout;
    if !json {
        outln!("✓ Workflow {workflow} now sends assignment callbacks to {assignment_url}");
        if let Some(old) = &replaced_assignment {
            outln!("  it sent them to {old} before");
        }
        if let Some(fallback) = fallback {
            outln!("  its fallback URL stays {fallback}");
        }
        outln!("  its reservations time out after {timeout} s (TaskReservationTimeout)");
        if timeout != taskrouter_core::config::DEFAULT_TIMEOUT_SECONDS {
            outln!("  tell the worker, in wrangler.toml [vars]: WORKFLOW_TIMEOUTS = '{{\"{workflow}\": {timeout}}}'");
        }
    }
    let mut set_filter = None;
    if let Some(EventsPlan::Set { filter, replacing }) = events_plan {
        twilio.set_event_callback(workspace, &events_url, &filter).await?;
        if !json {
            outln!("✓ Workspace {workspace} now sends its events to {events_url}");
            if let Some(old) = &replacing {
                outln!("  it sent them to {old} before (replaced with --replace-event-callback)");
            }
            outln!("  events: {}", filter.join(", "));
        }
        set_filter = Some((filter, replacing));
    }
    let connected = match streams {
        Some(streams) => Some(streams.connect().await?),
        None => None,
    };
    if let (Some(connected), false) = (&connected, json) {
        event_streams::print_connected(connected);
    }
    if json {
        output::print_json(&json!({
            "event_streams": connected,
            "workspace_sid": workspace,
            "workflow_sid": workflow,
            "assignment_callback_url": assignment_url,
            "replaced_assignment_callback_url": replaced_assignment,
            "fallback_assignment_callback_url": fallback,
            "task_reservation_timeout": timeout,
            "event_callback_url": set_filter.as_ref().map(|_| &events_url),
            "replaced_event_callback_url": set_filter.as_ref().and_then(|(_, replacing)| replacing.as_ref()),
            "events_filter": set_filter.as_ref().map(|(filter, _)| filter),
        }));
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace(url: Option<&str>, filter: Option<&str>) -> TwilioWorkspace {
        TwilioWorkspace { event_callback_url: url.map(str::to_owned), events_filter: filter.map(str::to_owned) }
    }

    const OURS: &str = "https://edge.example.com/events";

    #[test]
    fn the_host_is_lower_cased_and_the_path_kept() {
        assert_eq!(base_url("HTTPS://Edge.Example.COM/").unwrap(), "https://edge.example.com");
        assert_eq!(base_url("https://Edge.example.com/Tenant/").unwrap(), "https://edge.example.com/Tenant");
        assert!(base_url("edge.example.com").is_err());
        assert!(base_url("ftp://edge.example.com").is_err());
        assert!(base_url("https://edge.example.com/?x=1").is_err());
    }

    #[test]
    fn local_addresses_are_told_apart_from_public_ones() {
        for local in [
            "http://127.0.0.1:8787",
            "http://localhost:8787",
            "https://LOCALHOST.",
            "http://tenant.localhost",
            "http://10.1.2.3",
            "http://172.16.0.1",
            "http://192.168.1.10:8080/path",
            "http://169.254.169.254",
            "http://0.0.0.0:8787",
            "http://[::1]:8787",
            "http://[fd12:3456::1]",
            "http://[fe80::1]",
            "http://[::ffff:127.0.0.1]",
            "http://user@127.0.0.1",
        ] {
            assert!(is_unreachable_from_twilio(local), "{local}");
        }
        for public in [
            "https://taskrouter-edge.you.workers.dev",
            "https://203.0.113.7",
            "https://172.32.0.1",
            "https://[2001:db8::1]",
            "https://localhost.example.com",
            "https://example.com:8443/tenant",
        ] {
            assert!(!is_unreachable_from_twilio(public), "{public}");
        }
    }

    #[test]
    fn another_consumer_is_never_replaced_unless_asked() {
        let taken = workspace(Some("https://other.example.com/hook"), Some("task.created"));
        assert_eq!(
            plan_events(&taken, OURS, false),
            EventsPlan::Taken { current: "https://other.example.com/hook".into() }
        );
        let EventsPlan::Set { filter, replacing } = plan_events(&taken, OURS, true) else { panic!() };
        assert_eq!(replacing.as_deref(), Some("https://other.example.com/hook"));
        assert_eq!(filter.len(), handled_event_types().len());
    }

    #[test]
    fn the_workers_own_url_keeps_the_events_already_chosen() {
        let ours = workspace(Some(OURS), Some("task.created, reservation.accepted,worker.activity.update"));
        let EventsPlan::Set { filter, replacing } = plan_events(&ours, OURS, false) else { panic!() };
        assert_eq!(replacing, None);
        assert_eq!(&filter[..3], ["task.created", "reservation.accepted", "worker.activity.update"]);
        assert_eq!(filter.iter().filter(|e| *e == "reservation.accepted").count(), 1);
        for event in handled_event_types() {
            assert!(filter.iter().any(|kept| kept == event), "{event}");
        }
    }

    #[test]
    fn an_empty_workspace_gets_the_workers_events() {
        for empty in [workspace(None, None), workspace(Some(""), None)] {
            let EventsPlan::Set { filter, replacing } = plan_events(&empty, OURS, false) else { panic!() };
            assert_eq!((filter.len(), replacing), (handled_event_types().len(), None));
        }
    }
}
