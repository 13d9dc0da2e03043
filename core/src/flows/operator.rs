//! The operator's side: claims (one decision per reservation), status updates after Twilio
//! answered, and the decision taken at the edge (`POST /reservations/{sid}/accept|reject`),
//! which reads the reservation, claims it, asks Twilio, settles or releases the claim by what
//! Twilio answered, and reports the reservation as now recorded.

use serde::Serialize;

use super::FlowError;
use super::decide::{HowApplied, ReservationAtTwilio, TwilioVerdict, decide};
use super::reading;
use crate::access::Actor;
use crate::config::{Config, Secret};
use crate::hub::claims::Decision;
use crate::hub::port::{HubError, HubPort};
use crate::hub::protocol::{HubReply, HubRequest, HubRow, Refusal};
use crate::models::{ActivitySid, ReportedStatus, Reservation, ReservationSid, Status, Timestamp, TransitionError};
use crate::store::Kv;
use crate::store::layout::Reservations;
use crate::twilio::rest::RestError;

/// A claim the hub granted: settle it by recording Twilio's answer with its token, or release it
/// with its token. It lapses on its own at `until`. The CLI reads it from the worker's answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ClaimGrant {
    pub token: String,
    pub until: Timestamp,
}

fn refused(sid: &ReservationSid, refusal: Refusal) -> FlowError {
    match refusal {
        Refusal::NotFound => FlowError::ReservationNotFound(sid.clone()),
        Refusal::Transition { from, to } => FlowError::Transition(TransitionError { from, to }),
        Refusal::InFlight { claim } => FlowError::DecisionInFlight { sid: sid.clone(), claim },
        Refusal::Settled { status, at } => FlowError::AlreadyDecided { sid: sid.clone(), status, at },
        Refusal::NotHolder => FlowError::NotClaimHolder { sid: sid.clone() },
    }
}

/// Claims the one decision on `sid` for `owner`. Fails closed: without a hub, no claim.
pub async fn claim<H: HubPort>(
    hub: &H,
    sid: &ReservationSid,
    decision: Decision,
    owner: &str,
    actor: &Actor,
) -> Result<ClaimGrant, FlowError> {
    let request = HubRequest::Claim { sid: sid.clone(), decision, owner: owner.to_owned(), actor: actor.recorded() };
    match hub.ask(request).await? {
        HubReply::Granted { token, until } => Ok(ClaimGrant { token, until }),
        HubReply::Refused(refusal) => Err(refused(sid, refusal)),
        other => Err(HubError::unexpected(&other).into()),
    }
}

/// Gives the claim back: nothing reached TaskRouter, or it refused and nothing changed.
pub async fn release<H: HubPort>(hub: &H, sid: &ReservationSid, token: &str) -> Result<(), FlowError> {
    match hub.ask(HubRequest::Release { sid: sid.clone(), token: token.to_owned() }).await? {
        HubReply::Released => Ok(()),
        HubReply::Refused(refusal) => Err(refused(sid, refusal)),
        other => Err(HubError::unexpected(&other).into()),
    }
}

/// What a status update left: the hub's row, and whether it changed (an update to the status
/// already held changes nothing).
#[derive(Debug)]
pub(crate) struct StatusUpdate {
    pub row: HubRow,
    pub changed: bool,
}

/// Moves the reservation to `next` within the status model, recording `actor` as who did and
/// settling the claim `token` names.
pub(crate) async fn update_status<H: HubPort>(
    hub: &H,
    sid: &ReservationSid,
    next: Status,
    token: Option<&str>,
    actor: &Actor,
) -> Result<StatusUpdate, FlowError> {
    let request = HubRequest::Update {
        sid: sid.clone(),
        status: next,
        claim_token: token.map(str::to_owned),
        actor: actor.recorded(),
    };
    match hub.ask(request).await? {
        HubReply::Updated { row, changed } => Ok(StatusUpdate { row: *row, changed }),
        HubReply::Refused(refusal) => Err(refused(sid, refusal)),
        other => Err(HubError::unexpected(&other).into()),
    }
}

/// A status recorded at an operator's word (`POST /reservations/{sid}/status`): the
/// reservation as the hub now holds it, over its KV record, and whether anything changed.
#[derive(Debug)]
pub struct RecordedStatus {
    pub reservation: Reservation,
    pub changed: bool,
}

/// Records what Twilio answered a client that decided itself (the CLI): the status move, the
/// actor and the claim settled by `token`, then the reservation as now held.
pub async fn record_status<K: Kv, H: HubPort>(
    store: &Reservations<K>,
    hub: &H,
    sid: &ReservationSid,
    next: Status,
    token: Option<&str>,
    actor: &Actor,
) -> Result<RecordedStatus, FlowError> {
    let update = update_status(hub, sid, next, token, actor).await?;
    let record = store.get(sid, update.row.card.summary.received_at).await?;
    Ok(RecordedStatus { reservation: reading::with_status(record, &update.row), changed: update.changed })
}

/// Twilio applied the decision; what the worker made of it.
#[derive(Debug)]
pub(crate) struct EdgeDecision {
    pub status: Status,
    pub how: HowApplied,
    /// What the hub now holds, when recording it worked.
    pub row: Option<HubRow>,
    /// Why it was not recorded, when it was not.
    pub not_recorded: Option<String>,
}

/// The decision at the edge: claims it (fails closed without a hub: nothing is sent to
/// TaskRouter), asks Twilio, and records only what Twilio answered. The claim is settled by the
/// status recorded, given back when nothing reached TaskRouter or it refused, and kept until it
/// lapses when the outcome is unknown (a second decision meanwhile would be a guess).
pub(crate) async fn decide_at_edge<H: HubPort, T: ReservationAtTwilio<Error = RestError>>(
    hub: &H,
    twilio: &T,
    sid: &ReservationSid,
    decision: Decision,
    activity: Option<&ActivitySid>,
    actor: &Actor,
) -> Result<EdgeDecision, FlowError> {
    let ClaimGrant { token, until } = claim(hub, sid, decision, "edge", actor).await?;
    let wanted = decision.status();
    match decide(twilio, wanted, activity).await {
        TwilioVerdict::Applied(how) => Ok(match update_status(hub, sid, wanted, Some(&token), actor).await {
            Ok(update) => EdgeDecision { status: wanted, how, row: Some(update.row), not_recorded: None },
            Err(error) => EdgeDecision { status: wanted, how, row: None, not_recorded: Some(error.to_string()) },
        }),
        TwilioVerdict::NoLongerPending(status) => {
            let recorded = match update_status(hub, sid, status, Some(&token), actor).await {
                Ok(_) => "recorded".to_owned(),
                Err(FlowError::Transition(_)) => "the worker already had a later status".to_owned(),
                Err(error) => format!("not recorded: {error}"),
            };
            Err(FlowError::NoLongerPending { sid: sid.clone(), status, recorded })
        }
        TwilioVerdict::Refused(error) => {
            let _ = release(hub, sid, &token).await;
            Err(error.into())
        }
        TwilioVerdict::Unknown { refusal, read_error } => Err(FlowError::TwilioOutcomeUnknown {
            refusal: Box::new(refusal),
            read_error: Box::new(read_error),
            decision,
            until,
        }),
        TwilioVerdict::Unreachable(error) => {
            let _ = release(hub, sid, &token).await;
            Err(FlowError::TwilioUnreachable(Box::new(error)))
        }
    }
}

/// An operator's decision on one reservation, as asked.
pub struct DecisionAsked<'a> {
    pub sid: &'a ReservationSid,
    pub decision: Decision,
    /// The Worker's next Activity, with `reject` only.
    pub activity: Option<&'a ActivitySid>,
    pub actor: &'a Actor,
}

/// What the operator is told once Twilio applied the decision.
#[derive(Debug, Serialize)]
pub struct DecisionReport {
    /// The status Twilio gave the reservation.
    pub twilio_status: Status,
    /// Whether the hub recorded it (Twilio's word stands either way).
    pub recorded: bool,
    pub message: String,
    /// The reservation as the hub now holds it, when it recorded the decision.
    pub reservation: Option<Reservation<ReportedStatus>>,
}

impl DecisionReport {
    fn of(decided: EdgeDecision, record: Reservation, config: &Config, now: Timestamp) -> DecisionReport {
        let wanted = decided.status;
        let message = match (&decided.not_recorded, decided.how.describe()) {
            (Some(problem), _) => format!("{wanted} by Twilio, but the worker did not record it: {problem}"),
            (None, "") => format!("{wanted} by Twilio"),
            (None, how) => format!("{wanted} by Twilio ({how})"),
        };
        let reservation = decided
            .row
            .as_ref()
            .map(|row| reading::with_status(Some(record), row).reported(now, &config.reservation_timeouts));
        DecisionReport { twilio_status: wanted, recorded: decided.not_recorded.is_none(), message, reservation }
    }
}

/// `POST /reservations/{sid}/accept|reject`: reads the reservation (the hub's status over the
/// KV record), signs in to TaskRouter for its account (`TWILIO_ACCOUNT_SID`, else the one its
/// callback carried), and takes the decision by `decide_at_edge`. `at_twilio` makes the
/// reservation's handle at TaskRouter from the record and the `Authorization` to send.
pub async fn decide_reservation<K: Kv, H: HubPort, T: ReservationAtTwilio<Error = RestError>>(
    store: &Reservations<K>,
    hub: &H,
    config: &Config,
    at_twilio: impl FnOnce(&Reservation, Secret) -> T,
    asked: DecisionAsked<'_>,
    now: Timestamp,
) -> Result<DecisionReport, FlowError> {
    let (record, _) = reading::show(store, hub, asked.sid).await?;
    let authorization = config.rest_authorization(record.callback_account().as_ref())?;
    let twilio = at_twilio(&record, authorization);
    let decided = decide_at_edge(hub, &twilio, asked.sid, asked.decision, asked.activity, asked.actor).await?;
    Ok(DecisionReport::of(decided, record, config, now))
}
