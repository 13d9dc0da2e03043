//! `POST /assignment_callback`: store the reservation, then answer TaskRouter.

use worker::Request;

use super::{Context, request};
use crate::error::ApiError;
use crate::http::Reply;
use crate::models::Reservation;
use crate::request_log::RequestLog;
use crate::twilio::ReservationParams;

pub async fn handle(mut req: Request, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let config = ctx.config()?;
    let callback = ReservationParams::from_params(request::twilio_form(&mut req, config).await?)?;
    log.reservation_sid = Some(callback.reservation_sid.clone());
    let store = ctx.store()?;
    let existing = store.get(&callback.reservation_sid).await?;
    let record = Reservation::from_callback(&callback, ctx.now()).merged_with(existing);
    // TaskRouter hears 200 only once the record is written.
    store.put(&record).await?;
    log.outcome = "stored";
    Ok(Reply::empty_object())
}
