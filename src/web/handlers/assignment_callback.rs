//! `POST /assignment_callback`: reads the signed form, runs the callback flow, answers TaskRouter
//! with `{}` or the instruction the policy gave.

use crate::flows::callback;
use crate::store::Kv;
use crate::twilio::ReservationParams;
use crate::web::after::{confirm_later, tell_hub};
use crate::web::context::{Context, now};
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::log::RequestLog;
use crate::web::request::{self, Incoming};

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
    let answered = callback::assignment_callback(&store, &params, policy, now()).await?;
    log.kv = Some(store.kv().operations());
    // Another callback for the same new reservation at the same moment may have written a key
    // of its own: one of the two is removed a moment later.
    confirm_later(worker_ctx, store, answered.recheck, log);
    tell_hub(worker_ctx, ctx, vec![answered.record], log);
    log.instruction = answered.decision.answered.instruction;
    log.outcome = "stored";
    Ok(Reply::raw_json(200, answered.decision.body))
}
