//! `POST /reservations/{sid}/accept` and `…/reject` (JSON body, optional `activity_sid` on
//! reject): the operator's decision taken at the edge. The worker claims it from the hub (fails
//! closed: no hub, no request to TaskRouter), asks TaskRouter's REST API and records only what
//! Twilio answered (see `flows::operator::decide_at_edge`).

use serde::{Deserialize, Serialize};

use super::one_reservation;
use crate::web::context::{Context, now};
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::log::RequestLog;
use crate::web::request::Incoming;
use crate::web::taskrouter::TaskRouter;
use taskrouter_core::flows::{operator, reading};
use taskrouter_core::hub::claims::Decision;
use taskrouter_core::models::{AccountSid, ActivitySid, ReportedStatus, Reservation, Status};
use taskrouter_core::store::Kv;

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
    log: &mut RequestLog,
) -> Result<Reply, ApiError> {
    let (config, sid, actor) = one_reservation(req, raw_sid, ctx, log).await?;
    let asked: Asked = req.json().await?;
    let activity = match (decision, asked.activity_sid) {
        (Decision::Accept, Some(_)) => return Err(ApiError::InvalidJson("activity_sid goes with reject only".into())),
        (_, activity) => activity.map(|sid| sid.parse::<ActivitySid>()).transpose()?,
    };
    let store = ctx.store()?;
    let hub = ctx.hub()?;
    let (record, _) = reading::show(&store, &hub, &sid).await?;
    log.kv = Some(store.kv().operations());
    let twilio = taskrouter_for(ctx, &record)?;
    let at = twilio.reservation(&record.workspace_sid, &record.task_sid, &record.reservation_sid);
    let decided = operator::decide_at_edge(&hub, &at, &sid, decision, activity.as_ref(), &actor).await?;
    log.outcome = if decided.not_recorded.is_none() { "decided" } else { "decided_not_recorded" };
    let wanted = decided.status;
    let message = match (&decided.not_recorded, decided.how.describe()) {
        (Some(problem), _) => format!("{wanted} by Twilio, but the worker did not record it: {problem}"),
        (None, "") => format!("{wanted} by Twilio"),
        (None, how) => format!("{wanted} by Twilio ({how})"),
    };
    let reservation = decided
        .row
        .as_ref()
        .map(|row| reading::with_status(Some(record.clone()), row).reported(now(), &config.reservation_timeouts));
    let recorded = decided.not_recorded.is_none();
    Ok(Reply::json(200, &Decided { twilio_status: wanted, recorded, message, reservation }))
}
