//! `POST /assignment_callback`: store the reservation, then answer TaskRouter with `{}` or the
//! instruction `ASSIGNMENT_INSTRUCTION` gives for it.

use worker::Request;

use super::{Context, request};
use crate::error::ApiError;
use crate::http::Reply;
use crate::instructions::TaskContext;
use crate::models::Reservation;
use crate::request_log::RequestLog;
use crate::twilio::ReservationParams;

pub async fn handle(mut req: Request, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let config = ctx.config()?;
    let policy = config.assignment_policy()?;
    let callback = ReservationParams::from_params(request::twilio_form(&mut req, config).await?)?;
    log.reservation_sid = Some(callback.reservation_sid.clone());
    let store = ctx.store()?;
    let existing = store.get(&callback.reservation_sid).await?;
    let now = ctx.now();
    let mut record = Reservation::from_callback(&callback, now).merged_with(existing);
    let decision = policy.decide(&TaskContext {
        params: &callback.params,
        task: record.task_attributes.as_ref(),
        worker: record.worker_attributes.as_ref(),
    });
    log.instruction.clone_from(&decision.answered.instruction);
    record.record_answer(decision.answered, decision.settles, now);
    // TaskRouter hears 200 only once the record is written.
    store.put(&record).await?;
    log.outcome = "stored";
    Ok(Reply { status: 200, body: decision.body, allow: None })
}
