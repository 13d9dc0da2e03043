//! `POST /assignment_callback`: reads the signed form, runs the callback flow, answers TaskRouter
//! with `{}` or the instruction the policy gave. A hub that could not be told is handed the
//! callback after the answer.

use crate::durable::client::MissingHub;
use crate::web::after::hand_over_later;
use crate::web::context::{Context, now};
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::log::RequestLog;
use crate::web::request::{self, Incoming};
use taskrouter_core::flows::callback;
use taskrouter_core::store::Kv;
use taskrouter_core::twilio::ReservationParams;

pub async fn handle(
    req: &Incoming,
    ctx: &Context,
    worker_ctx: &worker::Context,
    log: &mut RequestLog,
) -> Result<Reply, ApiError> {
    let config = ctx.config()?;
    let policy = config.assignment_policy()?;
    let params = ReservationParams::from_params(request::twilio_form(req, config, log).await?)?;
    log.reservation_sid = Some(params.reservation_sid.clone());
    let store = ctx.store()?;
    let timeouts = &config.reservation_timeouts;
    let answered = match ctx.hub() {
        Ok(hub) => callback::assignment_callback(&store, &hub, &params, policy, timeouts, now()).await?,
        Err(_) => callback::assignment_callback(&store, &MissingHub, &params, policy, timeouts, now()).await?,
    };
    log.kv = Some(store.kv().operations());
    log.instruction = answered.decision.answered.instruction.clone();
    log.outcome = if answered.written { "stored" } else { "unchanged" };
    let body = answered.decision.body;
    if let Some((request, error)) = answered.untold {
        log.hub = Some("untold");
        log.error = Some(error.to_string());
        hand_over_later(worker_ctx, ctx.env.clone(), store, request, error, log);
    }
    Ok(Reply::raw_json(200, body))
}
