//! `POST /assignment_callback`: reads the signed form, runs the callback flow, answers TaskRouter
//! with `{}` or the instruction the policy gave.

use worker::Request;

use super::{Context, request};
use crate::error::ApiError;
use crate::flows::callback;
use crate::http::Reply;
use crate::request_log::RequestLog;
use crate::store::Kv;
use crate::twilio::ReservationParams;

pub async fn handle(mut req: Request, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let config = ctx.config()?;
    let policy = config.assignment_policy()?;
    let params = ReservationParams::from_params(request::twilio_form(&mut req, config).await?)?;
    log.reservation_sid = Some(params.reservation_sid.clone());
    let store = ctx.store()?;
    let decision = callback::assignment_callback(&store, &params, policy, ctx.now()).await?;
    log.kv = Some(store.kv().operations());
    log.instruction = decision.answered.instruction;
    log.outcome = "stored";
    Ok(Reply { status: 200, body: decision.body, allow: None })
}
