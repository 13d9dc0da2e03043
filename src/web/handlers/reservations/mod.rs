//! The operator API under `/reservations`, behind the bearer token.

pub mod claim;
pub mod decide;
pub mod list;
pub mod show;
pub mod update_status;

use crate::web::context::Context;
use crate::web::error::ApiError;
use crate::web::log::RequestLog;
use crate::web::request::{self, Incoming};
use taskrouter_core::access::Actor;
use taskrouter_core::config::Config;
use taskrouter_core::models::ReservationSid;

/// What every route on one reservation does first: the operator's token checked, then the SID
/// from the path parsed and put on the log line.
async fn one_reservation<'a>(
    req: &Incoming,
    raw_sid: &str,
    ctx: &'a Context,
    log: &mut RequestLog,
) -> Result<(&'a Config, ReservationSid, Actor), ApiError> {
    let config = ctx.config()?;
    let actor = request::operator(req, config, log).await?;
    let sid: ReservationSid = raw_sid.parse()?;
    log.reservation_sid = Some(sid.clone());
    Ok((config, sid, actor))
}
