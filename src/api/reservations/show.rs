//! `GET /reservations/{sid}`: the whole record, with its status as of now.

use super::one_reservation;
use crate::api::Context;
use crate::api::request::Incoming;
use crate::error::ApiError;
use crate::http::Reply;
use crate::request_log::RequestLog;
use crate::store::Kv;

pub async fn handle(req: &Incoming, raw_sid: &str, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let (config, sid) = one_reservation(req, raw_sid, ctx, log)?;
    let store = ctx.store()?;
    let found = store.get(&sid).await?;
    log.kv = Some(store.kv().operations());
    let record = found.ok_or(ApiError::ReservationNotFound(sid))?.record;
    log.outcome = "shown";
    Ok(Reply::json(200, &record.reported(ctx.now(), &config.reservation_timeouts)))
}
