//! `POST /reservations/{sid}/accept` and `…/reject` (JSON body, optional `activity_sid` on
//! reject): the operator's decision taken at the edge, by `flows::operator::decide_reservation`
//! (claimed from the hub first, failing closed; only what Twilio answered is recorded).

use serde::Deserialize;

use super::one_reservation;
use crate::web::context::{Context, now};
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::log::RequestLog;
use crate::web::request::Incoming;
use crate::web::taskrouter::TaskRouter;
use taskrouter_core::flows::operator::{self, DecisionAsked};
use taskrouter_core::hub::claims::Decision;
use taskrouter_core::models::ActivitySid;
use taskrouter_core::store::Kv;

/// The request's body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    activity_sid: Option<String>,
}

pub async fn handle(
    req: &Incoming,
    raw_sid: &str,
    decision: Decision,
    ctx: &Context,
    log: &mut RequestLog,
) -> Result<Reply, ApiError> {
    let (config, sid, actor) = one_reservation(req, raw_sid, ctx, log).await?;
    let body: DecisionBody = req.json().await?;
    let activity = match (decision, body.activity_sid) {
        (Decision::Accept, Some(_)) => return Err(ApiError::InvalidJson("activity_sid goes with reject only".into())),
        (_, activity) => activity.map(|sid| sid.parse::<ActivitySid>()).transpose()?,
    };
    let store = ctx.store()?;
    let hub = ctx.hub()?;
    let at_twilio = |record: &taskrouter_core::models::Reservation, authorization| {
        TaskRouter::new(&config.taskrouter_url, authorization).reservation(
            &record.workspace_sid,
            &record.task_sid,
            &record.reservation_sid,
        )
    };
    let asked = DecisionAsked { sid: &sid, decision, activity: activity.as_ref(), actor: &actor };
    let decided = operator::decide_reservation(&store, &hub, config, at_twilio, asked, now()).await;
    log.kv = Some(store.kv().operations());
    let report = decided?;
    log.outcome = if report.recorded { "decided" } else { "decided_not_recorded" };
    Ok(Reply::json(200, &report))
}
