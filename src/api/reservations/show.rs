//! `GET /reservations/{sid}`: the whole record, with its status as of now.

use worker::Request;

use super::sid_from_path;
use crate::api::{Context, request};
use crate::error::ApiError;
use crate::http::Reply;
use crate::request_log::RequestLog;

pub async fn handle(req: Request, raw_sid: &str, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let config = ctx.config()?;
    request::operator(&req, config)?;
    let sid = sid_from_path(raw_sid)?;
    log.reservation_sid = Some(sid.clone());
    let record = ctx.store()?.get(&sid).await?.ok_or(ApiError::ReservationNotFound(sid))?.record;
    log.outcome = "shown";
    Ok(Reply::json(200, &record.reported(ctx.now(), &config.reservation_timeouts)))
}
