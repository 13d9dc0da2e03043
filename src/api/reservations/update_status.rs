//! `POST /reservations/{sid}/status` with `{"status":"accepted"}`: records what Twilio answered
//! the operator, within the status model's rules.

use super::one_reservation;
use crate::api::Context;
use crate::api::request::Incoming;
use crate::error::ApiError;
use crate::flows::operator;
use crate::http::Reply;
use crate::json::{self, Fields, FromJson};
use crate::models::Status;
use crate::request_log::RequestLog;
use crate::store::Kv;

struct StatusUpdate {
    status: String,
}

impl<'a> FromJson<'a> for StatusUpdate {
    fn from_json(text: &'a str) -> Result<Self, json::Error> {
        let fields = Fields::parse(text)?;
        fields.only(&["status"])?;
        Ok(StatusUpdate { status: fields.required("status")? })
    }
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
    let now = ctx.now();
    let store = ctx.store()?;
    let (record, outcome, recheck) = operator::update_status(&store, sid, next, now).await?;
    log.outcome = outcome;
    log.kv = Some(store.kv().operations());
    // A repeated callback that read the record before this update may land after it.
    crate::api::events::confirm_later(worker_ctx, store, recheck, log);
    Ok(Reply::json(200, &record.reported(now, &config.reservation_timeouts)))
}
