//! The operator's side: claims (one decision per reservation), status updates after Twilio
//! answered, and the decision taken at the edge (`POST /reservations/{sid}/accept|reject`),
//! which claims, asks Twilio, and settles or releases the claim by what Twilio answered.

use super::FlowError;
use super::decide::{Applied, ReservationAtTwilio, Verdict, decide};
use crate::access::Actor;
use crate::hub::claims::Decision;
use crate::hub::port::{Hub, HubError};
use crate::hub::protocol::{HubReply, HubRequest, HubRow, Refusal};
use crate::models::{ActivitySid, ReservationSid, Status, Timestamp, TransitionError};
use crate::twilio::rest::RestError;

/// A claim granted: its token (for release or settling) and when it lapses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimGranted {
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
pub async fn claim<H: Hub>(
    hub: &H,
    sid: &ReservationSid,
    decision: Decision,
    owner: &str,
    actor: &Actor,
) -> Result<ClaimGranted, FlowError> {
    let request = HubRequest::Claim { sid: sid.clone(), decision, owner: owner.to_owned(), actor: actor.recorded() };
    match hub.ask(request).await? {
        HubReply::Granted { token, until } => Ok(ClaimGranted { token, until }),
        HubReply::Refused(refusal) => Err(refused(sid, refusal)),
        other => Err(HubError::unexpected(&other).into()),
    }
}

/// Gives the claim back: nothing reached TaskRouter, or it refused and nothing changed.
pub async fn release<H: Hub>(hub: &H, sid: &ReservationSid, token: &str) -> Result<(), FlowError> {
    match hub.ask(HubRequest::Release { sid: sid.clone(), token: token.to_owned() }).await? {
        HubReply::Released => Ok(()),
        HubReply::Refused(refusal) => Err(refused(sid, refusal)),
        other => Err(HubError::unexpected(&other).into()),
    }
}

/// Moves the reservation to `next` within the status model, recording `actor` as who did and
/// settling the claim `token` names; returns what the hub now holds, and the log's outcome word.
pub async fn update_status<H: Hub>(
    hub: &H,
    sid: &ReservationSid,
    next: Status,
    token: Option<&str>,
    actor: &Actor,
) -> Result<(HubRow, &'static str), FlowError> {
    let request = HubRequest::Update {
        sid: sid.clone(),
        status: next,
        claim_token: token.map(str::to_owned),
        actor: actor.recorded(),
    };
    match hub.ask(request).await? {
        HubReply::Updated { row, changed } => Ok((*row, if changed { "updated" } else { "unchanged" })),
        HubReply::Refused(refusal) => Err(refused(sid, refusal)),
        other => Err(HubError::unexpected(&other).into()),
    }
}

/// Twilio applied the decision; what the worker made of it.
#[derive(Debug)]
pub struct EdgeDecided {
    pub status: Status,
    pub how: Applied,
    /// What the hub now holds, when recording it worked.
    pub row: Option<HubRow>,
    /// Why it was not recorded, when it was not.
    pub not_recorded: Option<String>,
}

/// The decision at the edge: claims it (fails closed without a hub: nothing is sent to
/// TaskRouter), asks Twilio, and records only what Twilio answered. The claim is settled by the
/// status recorded, given back when nothing reached TaskRouter or it refused, and kept until it
/// lapses when the outcome is unknown (a second decision meanwhile would be a guess).
pub async fn decide_at_edge<H: Hub, T: ReservationAtTwilio<Error = RestError>>(
    hub: &H,
    twilio: &T,
    sid: &ReservationSid,
    decision: Decision,
    activity: Option<&ActivitySid>,
    actor: &Actor,
) -> Result<EdgeDecided, FlowError> {
    let ClaimGranted { token, until } = claim(hub, sid, decision, "edge", actor).await?;
    let wanted = decision.status();
    match decide(twilio, wanted, activity).await {
        Verdict::Applied(how) => Ok(match update_status(hub, sid, wanted, Some(&token), actor).await {
            Ok((row, _)) => EdgeDecided { status: wanted, how, row: Some(row), not_recorded: None },
            Err(error) => EdgeDecided { status: wanted, how, row: None, not_recorded: Some(error.to_string()) },
        }),
        Verdict::NoLongerPending(status) => {
            let recorded = match update_status(hub, sid, status, Some(&token), actor).await {
                Ok(_) => "recorded".to_owned(),
                Err(FlowError::Transition(_)) => "the worker already had a later status".to_owned(),
                Err(error) => format!("not recorded: {error}"),
            };
            Err(FlowError::NoLongerPending { sid: sid.clone(), status, recorded })
        }
        Verdict::Refused(error) => {
            let _ = release(hub, sid, &token).await;
            Err(error.into())
        }
        Verdict::Unknown { refusal, read_error } => Err(FlowError::TwilioOutcomeUnknown {
            refusal: Box::new(refusal),
            read_error: Box::new(read_error),
            decision,
            until,
        }),
        Verdict::Unreachable(error) => {
            let _ = release(hub, sid, &token).await;
            Err(FlowError::TwilioUnreachable(Box::new(error)))
        }
    }
}
