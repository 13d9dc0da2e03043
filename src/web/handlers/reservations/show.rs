//! `GET /reservations/{sid}`: the whole record, with its status as of now.

use super::one_reservation;
use crate::store::Kv;
use crate::web::context::{Context, now};
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::log::RequestLog;
use crate::web::request::Incoming;

pub async fn handle(req: &Incoming, raw_sid: &str, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let (config, sid) = one_reservation(req, raw_sid, ctx, log)?;
    let store = ctx.store()?;
    let found = store.get(&sid).await?;
    log.kv = Some(store.kv().operations());
    let record = found.ok_or(ApiError::ReservationNotFound(sid))?.record;
    log.outcome = "shown";
    Ok(Reply::json(200, &record.reported(now(), &config.reservation_timeouts)))
}
