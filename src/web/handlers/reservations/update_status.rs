//! `POST /reservations/{sid}/status` with `{"status":"accepted"}` (and the claim's
//! `claim_token`, which it settles): records what Twilio answered the operator, within the
//! status model's rules.

use super::one_reservation;
use crate::web::context::{Context, now};
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::log::RequestLog;
use crate::web::request::Incoming;
use taskrouter_core::flows::operator;
use taskrouter_core::models::Status;
use taskrouter_core::store::Kv;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: String,
    claim_token: Option<String>,
}

pub async fn handle(req: &Incoming, raw_sid: &str, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let (config, sid, actor) = one_reservation(req, raw_sid, ctx, log).await?;
    let body: StatusBody = req.json().await?;
    let next: Status = body.status.parse()?;
    let store = ctx.store()?;
    let hub = ctx.hub()?;
    let recorded = operator::record_status(&store, &hub, &sid, next, body.claim_token.as_deref(), &actor).await;
    log.kv = Some(store.kv().operations());
    let recorded = recorded?;
    log.outcome = if recorded.changed { "updated" } else { "unchanged" };
    Ok(Reply::json(200, &recorded.reservation.reported(now(), &config.reservation_timeouts)))
}
