//! `POST /reservations/{sid}/status` with `{"status":"accepted"}`: records what Twilio answered
//! the operator, within the status model's rules.

use super::one_reservation;
use crate::flows::operator;
use crate::models::Status;
use crate::store::Kv;
use crate::web::context::{Context, now};
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::log::RequestLog;
use crate::web::request::Incoming;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusUpdate {
    status: String,
}

pub async fn handle(
    req: &Incoming,
    raw_sid: &str,
    ctx: &Context,
    worker_ctx: &worker::Context,
    log: &mut RequestLog,
) -> Result<Reply, ApiError> {
    let (config, sid) = one_reservation(req, raw_sid, ctx, log)?;
    let update: StatusUpdate = req.json().await?;
    let next: Status = update.status.parse()?;
    let now = now();
    let store = ctx.store()?;
    let (record, outcome, recheck) = operator::update_status(&store, sid, next, now).await?;
    log.outcome = outcome;
    log.kv = Some(store.kv().operations());
    // A repeated callback that read the record before this update may land after it.
    crate::web::after::confirm_later(worker_ctx, store, recheck, log);
    // Also when unchanged: a client that claimed the decision (the CLI) settles it so.
    crate::web::after::tell_hub(worker_ctx, ctx, vec![record.clone()], log);
    Ok(Reply::json(200, &record.reported(now, &config.reservation_timeouts)))
}
