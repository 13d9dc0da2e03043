//! `POST /events`: reads the signed form, runs the event flow, answers `204`; the second look
//! at the event's write runs after the answer, in `waitUntil`.

use worker::{Context as WorkerContext, Request, console_log};

use super::{Context, request};
use crate::error::ApiError;
use crate::flows::events::{self, Confirmed};
use crate::http::Reply;
use crate::request_log::RequestLog;
use crate::store::kv::KvReservations;
use crate::twilio::{EventEffect, TaskRouterEvent};

pub async fn handle(
    mut req: Request,
    ctx: &Context,
    worker_ctx: &WorkerContext,
    log: &mut RequestLog,
) -> Result<Reply, ApiError> {
    let config = ctx.config()?;
    let event = TaskRouterEvent::from_params(request::twilio_form(&mut req, config).await?)?;
    if let EventEffect::Reservation { reservation, .. } = &event.effect {
        log.reservation_sid = Some(reservation.reservation_sid.clone());
    }
    let store = ctx.store()?;
    let applied = events::apply(&store, &event, ctx.now()).await?;
    log.outcome = applied.outcome;
    if let Some(written) = applied.written {
        worker_ctx.wait_until(confirm(store, written));
    }
    Ok(Reply::no_content())
}

/// Logs a line only when the second look had something to do.
async fn confirm(store: KvReservations, written: crate::models::Reservation) {
    let (outcome, error) = match events::confirm(&store, &written).await {
        Confirmed::Held => return,
        Confirmed::Restored => ("restored", None),
        Confirmed::RestoreFailed(error) => ("restore_failed", Some(error)),
        Confirmed::Unreadable(error) => ("store_unavailable", Some(error)),
    };
    console_log!(
        "{}",
        serde_json::json!({ "route": "/events", "phase": "confirm", "reservation_sid": written.reservation_sid, "outcome": outcome, "error": error })
    );
}
