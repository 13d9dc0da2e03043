//! `POST /reservations/{sid}/accept` and `…/reject` (JSON body, optional `activity_sid` on
//! reject): the operator's decision taken at the edge. The worker asks TaskRouter's REST API
//! and records only what Twilio answered (see `flows::operator::decide_at_twilio`).

use serde::Serialize;

use super::one_reservation;
use crate::api::Context;
use crate::api::request::Incoming;
use crate::api::taskrouter::TaskRouter;
use crate::error::ApiError;
use crate::flows::operator;
use crate::http::Reply;
use crate::json::{self, Fields, FromJson};
use crate::models::{AccountSid, ActivitySid, ReportedStatus, Reservation, Status};
use crate::request_log::RequestLog;
use crate::routes::Decision;
use crate::store::Kv;

struct Asked {
    activity_sid: Option<String>,
}

impl<'a> FromJson<'a> for Asked {
    fn from_json(text: &'a str) -> Result<Self, json::Error> {
        let fields = Fields::parse(text)?;
        fields.only(&["activity_sid"])?;
        Ok(Asked { activity_sid: fields.optional("activity_sid")? })
    }
}

/// The answer: what Twilio said, whether the worker recorded it, and the reservation as recorded.
/// A struct rather than `json!`: `json!` would write the reservation through a `serde_json::Value`,
/// a second copy of its writing code in the wasm.
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
    let now = ctx.now();
    let decided = operator::decide_at_twilio(&store, &at, sid, wanted, activity.as_ref(), now).await;
    log.kv = Some(store.kv().operations());
    let decided = decided?;
    log.outcome = if decided.not_recorded.is_none() { "decided" } else { "decided_not_recorded" };
    let how = decided.how.describe();
    let message = match (&decided.not_recorded, how) {
        (Some(problem), _) => format!("{wanted} by Twilio, but the worker did not record it: {problem}"),
        (None, "") => format!("{wanted} by Twilio"),
        (None, how) => format!("{wanted} by Twilio ({how})"),
    };
    let record = decided.record.map(|record| record.reported(now, &config.reservation_timeouts));
    crate::api::events::confirm_later(worker_ctx, store, decided.recheck, log);
    let recorded = decided.not_recorded.is_none();
    Ok(Reply::json(200, &Decided { twilio_status: decided.status, recorded, message, reservation: record }))
}
