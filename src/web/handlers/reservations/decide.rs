//! `POST /reservations/{sid}/accept` and `…/reject` (JSON body, optional `activity_sid` on
//! reject): the operator's decision taken at the edge. The worker asks TaskRouter's REST API
//! and records only what Twilio answered (see `flows::operator::decide_at_twilio`).

use serde::{Deserialize, Serialize};

use super::one_reservation;
use crate::flows::FlowError;
use crate::flows::operator;
use crate::hub::claims::Decision;
use crate::models::{AccountSid, ActivitySid, ReportedStatus, Reservation, Status};
use crate::store::Kv;
use crate::web::after::{confirm_later, tell_hub};
use crate::web::context::{Context, now};
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::hub_decisions;
use crate::web::log::RequestLog;
use crate::web::request::Incoming;
use crate::web::taskrouter::TaskRouter;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Asked {
    activity_sid: Option<String>,
}

/// The answer: what Twilio said, whether the worker recorded it, and the reservation as recorded.
#[derive(Serialize)]
struct Decided {
    twilio_status: Status,
    recorded: bool,
    message: String,
    reservation: Option<Reservation<ReportedStatus>>,
}

/// Twilio's REST API as this reservation's account: the Account SID from `TWILIO_ACCOUNT_SID`,
/// else from the reservation's own callback.
pub fn taskrouter_for(ctx: &Context, record: &Reservation) -> Result<TaskRouter, ApiError> {
    let config = ctx.config()?;
    let account = record.parameters.get("AccountSid").and_then(|sid| sid.as_str()?.parse::<AccountSid>().ok());
    let authorization = config.rest_authorization(account.as_ref()).map_err(ApiError::MissingSecret)?;
    Ok(TaskRouter::new(&config.taskrouter_url, authorization))
}

pub async fn handle(
    req: &Incoming,
    raw_sid: &str,
    decision: Decision,
    ctx: &Context,
    worker_ctx: &worker::Context,
    log: &mut RequestLog,
) -> Result<Reply, ApiError> {
    let (config, sid) = one_reservation(req, raw_sid, ctx, log)?;
    let asked: Asked = req.json().await?;
    let (wanted, activity) = match (decision, asked.activity_sid) {
        (Decision::Accept, Some(_)) => {
            return Err(ApiError::InvalidJson("activity_sid goes with reject only".into()));
        }
        (Decision::Accept, None) => (Status::Accepted, None),
        (Decision::Reject, activity) => (Status::Rejected, activity.map(|sid| sid.parse::<ActivitySid>()).transpose()?),
    };
    let store = ctx.store()?;
    let stored = store.get(&sid).await?.ok_or_else(|| ApiError::ReservationNotFound(sid.clone()))?.record;
    let twilio = taskrouter_for(ctx, &stored)?;
    let at = twilio.reservation(&stored.workspace_sid, &stored.task_sid, &stored.reservation_sid);
    // One decision per reservation: a second one, while this one is in flight or after the
    // reservation settled, is answered 409 without asking TaskRouter.
    let held = hub_decisions::claim(ctx, &sid, decision, log).await?;
    let now = now();
    let decided = operator::decide_at_twilio(&store, &at, sid.clone(), wanted, activity.as_ref(), now).await;
    log.kv = Some(store.kv().operations());
    let decided = match decided {
        Ok(decided) => decided,
        Err(error) => {
            // Given back only when TaskRouter was not changed; when that is unknown, the claim is
            // kept and lapses on its own (a second decision meanwhile would be a guess).
            if let Some(held) = held.as_ref().filter(|_| !matches!(error, FlowError::TwilioOutcomeUnknown { .. })) {
                held.release().await;
            }
            // Twilio's real status was recorded: the hub learns of it too.
            if matches!(error, FlowError::NoLongerPending { .. })
                && let Ok(Some(stored)) = store.get(&sid).await
            {
                tell_hub(worker_ctx, ctx, vec![stored.record], log);
            }
            return Err(error.into());
        }
    };
    match (&decided.record, &held) {
        (Some(record), _) => tell_hub(worker_ctx, ctx, vec![record.clone()], log),
        // Applied at Twilio but not recorded: the hub cannot settle the claim, so it is given back.
        (None, Some(held)) => held.release().await,
        (None, None) => {}
    }
    log.outcome = if decided.not_recorded.is_none() { "decided" } else { "decided_not_recorded" };
    let how = decided.how.describe();
    let message = match (&decided.not_recorded, how) {
        (Some(problem), _) => format!("{wanted} by Twilio, but the worker did not record it: {problem}"),
        (None, "") => format!("{wanted} by Twilio"),
        (None, how) => format!("{wanted} by Twilio ({how})"),
    };
    let record = decided.record.map(|record| record.reported(now, &config.reservation_timeouts));
    confirm_later(worker_ctx, store, decided.recheck, log);
    let recorded = decided.not_recorded.is_none();
    Ok(Reply::json(200, &Decided { twilio_status: decided.status, recorded, message, reservation: record }))
}
