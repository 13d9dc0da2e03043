//! Catching up: what the hub missed, read from TaskRouter itself. Run by the hub on a schedule
//! while any reservation is open (its alarm, the Worker's `durable` module), so an event that was lost
//! (a deploy, an outage, a `503`, an Event Callback URL that belongs to another system) is
//! recovered within one period.
//!
//! One run: ask the hub for a [`CatchUpPlan`]; read each Workspace's events since its cursor from
//! the Events resource (at most [`PAGES_PER_WORKSPACE`] pages); read back each reservation still
//! `pending` past its timeout (at most [`READ_BACKS_PER_RUN`]); apply all of it as one batch of
//! the `catch_up` channel (the status model makes a repeat or a late event change nothing);
//! end the reservations TaskRouter answers `404` for; look up the names the day's reservations
//! lack (at most [`NAMES_PER_RUN`]); report. Every request is a read, retried
//! by the one rule (`crate::twilio::rest`): with four attempts each, a run sends at most
//! [`MAX_SUBREQUESTS`], within the Free plan's 50 per invocation.

use super::FlowError;
use super::events::apply_batch;
use crate::config::rest::UnsetSecret;
use crate::hub::catch_up::{CatchUpPlan, CatchUpReport, NameFound, NameToRead, ReadBack};
use crate::hub::port::{HubError, HubPort};
use crate::hub::protocol::{Channel, HubReply, HubRequest};
use crate::models::{AccountSid, ReservationTimeouts, Status, Timestamp, WorkspaceSid};
use crate::store::Kv;
use crate::store::layout::Reservations;
use crate::twilio::events_resource::{EventsPage, first_page_path, next_page_path};
use crate::twilio::rest::{ATTEMPTS, RestError};
use crate::twilio::{EventEffect, FormParams, ReservationParams, TaskRouterEvent};

/// Reservations read back one by one in a run.
pub const READ_BACKS_PER_RUN: usize = 4;
/// Worker and TaskQueue names looked up in a run.
pub const NAMES_PER_RUN: usize = 2;
/// Pages of 500 events read per Workspace in a run.
pub const PAGES_PER_WORKSPACE: usize = 3;
/// Workspaces read in a run (a deployment serves one, or a few).
pub const WORKSPACES_PER_RUN: usize = 2;
/// The most subrequests a run can make: every request at every attempt.
pub const MAX_SUBREQUESTS: usize =
    (WORKSPACES_PER_RUN * PAGES_PER_WORKSPACE + READ_BACKS_PER_RUN + NAMES_PER_RUN) * ATTEMPTS as usize;

/// What TaskRouter says of a reservation read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBackFound {
    Status(Status),
    /// TaskRouter answered `404`: it no longer has the reservation.
    Gone,
}

/// Why a read gave no answer to go by.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    /// The worker has no credentials for the Workspace: it names what to set.
    #[error("the worker cannot sign in to TaskRouter: {0}")]
    NotSignedIn(#[from] UnsetSecret),
    #[error(transparent)]
    Rest(#[from] RestError),
}

/// TaskRouter, as a catch-up reads it, signed in as `account` when the worker has no account
/// of its own configured.
#[allow(async_fn_in_trait)]
pub trait TaskRouterRecords {
    /// A page of the Events resource at `path` (and query), after the API's base URL.
    async fn events_page(&self, account: Option<&AccountSid>, path: &str) -> Result<EventsPage, ReadError>;
    async fn read_back(&self, reservation: &ReadBack) -> Result<ReadBackFound, ReadError>;
    /// A Worker's or a TaskQueue's `friendly_name`; `None` when TaskRouter answers `404`.
    async fn friendly_name(&self, name: &NameToRead) -> Result<Option<String>, ReadError>;
}

/// What a run did: its report, and whether TaskRouter asked it to slow down (`429`).
#[derive(Debug, Clone, PartialEq)]
pub struct CaughtUp {
    pub report: CatchUpReport,
    pub rate_limited: bool,
}

fn is_rate_limited(error: &ReadError) -> bool {
    matches!(error, ReadError::Rest(RestError::Refused { status: 429, .. }))
}

/// The event a read-back's status stands for, as an Event Callback would have sent it.
fn read_back_event(reservation: &ReadBack, status: Status) -> Option<TaskRouterEvent> {
    let mut params = FormParams::from_pairs([
        ("ReservationSid", reservation.reservation_sid.as_str()),
        ("TaskSid", reservation.task_sid.as_str()),
        ("WorkspaceSid", reservation.workspace_sid.as_str()),
    ]);
    if let Some(account) = &reservation.account_sid {
        params.set("AccountSid", account.as_str());
    }
    let reservation = ReservationParams::from_params(params).ok()?;
    Some(TaskRouterEvent {
        event_type: format!("read_back.{status}"),
        effect: EventEffect::Reservation { reservation: Box::new(reservation), status },
    })
}

/// Reads a Workspace's events since `since`: the events, how many were read, and whether every
/// page was read (the cursor may move on only then).
async fn workspace_events<T: TaskRouterRecords>(
    twilio: &T,
    workspace: &WorkspaceSid,
    account: Option<&AccountSid>,
    since: Timestamp,
) -> Result<(Vec<TaskRouterEvent>, usize, bool), ReadError> {
    let mut events = Vec::new();
    let mut read = 0;
    let mut path = Some(first_page_path(workspace, since));
    for _ in 0..PAGES_PER_WORKSPACE {
        let Some(asked) = path.take() else { break };
        let page = twilio.events_page(account, &asked).await?;
        read += page.read;
        events.extend(page.events);
        path = page.next_page_url.as_deref().and_then(|url| next_page_path(workspace, url));
    }
    Ok((events, read, path.is_none()))
}

/// One catch-up run at `now`.
pub async fn catch_up<K: Kv, H: HubPort, T: TaskRouterRecords>(
    store: &Reservations<K>,
    hub: &H,
    twilio: &T,
    timeouts: &ReservationTimeouts,
    now: Timestamp,
) -> Result<CaughtUp, FlowError> {
    let asked = HubRequest::PlanCatchUp { read_backs: READ_BACKS_PER_RUN, names: NAMES_PER_RUN };
    let plan: CatchUpPlan = match hub.ask(asked).await? {
        HubReply::CatchUpPlanned(plan) => plan,
        other => return Err(HubError::unexpected(&other).into()),
    };
    let mut report = CatchUpReport {
        at: now,
        events_read: 0,
        read_back: 0,
        names_read: 0,
        corrected: 0,
        gone: 0,
        open: plan.open,
        errors: Vec::new(),
        runs: 0,
    };
    let mut rate_limited = false;
    let mut events = Vec::new();
    let mut cursors = Vec::new();
    for workspace in plan.workspaces.iter().take(WORKSPACES_PER_RUN) {
        let account = workspace.account_sid.as_ref();
        match workspace_events(twilio, &workspace.workspace_sid, account, workspace.since).await {
            Ok((found, read, whole)) => {
                report.events_read += read;
                events.extend(found);
                if whole {
                    cursors.push((workspace.workspace_sid.clone(), now));
                }
            }
            Err(error) => {
                rate_limited |= is_rate_limited(&error);
                report.errors.push(format!("events of {}: {error}", workspace.workspace_sid));
            }
        }
    }
    let mut gone = Vec::new();
    for reservation in &plan.read_backs {
        if rate_limited {
            break;
        }
        match twilio.read_back(reservation).await {
            Ok(ReadBackFound::Status(status)) => {
                report.read_back += 1;
                events.extend(read_back_event(reservation, status));
            }
            Ok(ReadBackFound::Gone) => {
                report.read_back += 1;
                gone.push(reservation.reservation_sid.clone());
            }
            Err(error) => {
                rate_limited |= is_rate_limited(&error);
                report.errors.push(format!("reading back {}: {error}", reservation.reservation_sid));
                // TaskRouter failing one read-back fails the next alike: the rest wait a period.
                break;
            }
        }
    }
    if !events.is_empty() {
        let applied = apply_batch(store, hub, Channel::CatchUp, &events, timeouts, now).await?;
        report.corrected += applied.applied;
    }
    for sid in gone {
        let reason = format!("TaskRouter no longer has this reservation (404 when read back at {now})");
        match hub.ask(HubRequest::Gone { sid, reason }).await? {
            HubReply::Applied { changed, .. } => {
                report.gone += 1;
                report.corrected += usize::from(!changed.is_empty());
            }
            other => return Err(HubError::unexpected(&other).into()),
        }
    }
    let mut names = Vec::new();
    for name in &plan.names {
        if rate_limited {
            break;
        }
        match twilio.friendly_name(name).await {
            Ok(found) => {
                report.names_read += 1;
                names.push(NameFound { named: name.named.clone(), name: found });
            }
            Err(error) => {
                rate_limited |= is_rate_limited(&error);
                report.errors.push(format!("looking up the name of {}: {error}", name.named.as_str()));
                break;
            }
        }
    }
    hub.ask(HubRequest::CaughtUp { report: Box::new(report.clone()), cursors, names }).await?;
    Ok(CaughtUp { report, rate_limited })
}
