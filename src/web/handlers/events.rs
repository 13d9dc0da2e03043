//! `POST /events`: reads the signed form, runs the event flow, answers `204`; the second look
//! at the event's write runs after the answer, in `waitUntil`.

use worker::Context as WorkerContext;

use crate::flows::events;
use crate::store::Kv;
use crate::twilio::{EventEffect, TaskRouterEvent};
use crate::web::after::{confirm_later, tell_hub};
use crate::web::context::{Context, now};
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::log::RequestLog;
use crate::web::request::{self, Incoming};

pub async fn handle(
    req: &Incoming,
    ctx: &Context,
    worker_ctx: &WorkerContext,
    log: &mut RequestLog,
) -> Result<Reply, ApiError> {
    let config = ctx.config()?;
    let event = TaskRouterEvent::from_params(request::twilio_form(req, config, log).await?)?;
    if let EventEffect::Reservation { reservation, .. } = &event.effect {
        log.reservation_sid = Some(reservation.reservation_sid.clone());
    }
    let store = ctx.store()?;
    let applied = events::apply(&store, &event, now()).await?;
    log.outcome = applied.outcome;
    log.kv = Some(store.kv().operations());
    confirm_later(worker_ctx, store, applied.recheck, log);
    tell_hub(worker_ctx, ctx, applied.written, log);
    Ok(Reply::no_content())
}
