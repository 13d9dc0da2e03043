//! `GET /reservations/{sid}`: the whole record, with its status as of now.

use worker::Request;

use super::sid_from_path;
use crate::api::{Context, request};
use crate::error::ApiError;
use crate::http::Reply;
use crate::models::reservation::with_reported_status;
use crate::request_log::RequestLog;

pub async fn handle(req: Request, raw_sid: &str, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let config = ctx.config()?;
    request::operator(&req, config)?;
    let sid = sid_from_path(raw_sid)?;
    log.reservation_sid = Some(sid.clone());
    let record = ctx.store()?.get(&sid).await?.ok_or(ApiError::ReservationNotFound(sid))?;
    let status = record.reported_status(ctx.now(), config.reservation_timeout_seconds);
    log.outcome = "shown";
    Ok(Reply::json(200, &with_reported_status(&record, status)))
}
