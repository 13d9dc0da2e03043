//! `GET /reservations/{sid}`: the record as TaskRouter delivered it, with the status the hub
//! holds, as of now.

use super::one_reservation;
use crate::web::context::{Context, now};
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::log::RequestLog;
use crate::web::request::Incoming;
use taskrouter_core::flows::reading;
use taskrouter_core::store::Kv;

pub async fn handle(req: &Incoming, raw_sid: &str, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let (config, sid, _) = one_reservation(req, raw_sid, ctx, log).await?;
    let store = ctx.store()?;
    let hub = ctx.hub()?;
    let shown = reading::show(&store, &hub, &sid).await;
    log.kv = Some(store.kv().operations());
    let (record, _) = shown?;
    log.outcome = "shown";
    Ok(Reply::json(200, &record.reported(now(), &config.reservation_timeouts)))
}
