//! `POST /events`: reads the signed form, runs the event flow, answers `204`; the second look
//! at the event's write runs after the answer, in `waitUntil`.

use serde::Serialize;
use worker::{Context as WorkerContext, console_log};

use super::request::{self, Incoming};
use super::{Context, apart};
use crate::error::ApiError;
use crate::flows::events::{self, Confirmed, Recheck};
use crate::http::Reply;
use crate::models::{ReservationSid, TaskSid};
use crate::request_log::RequestLog;
use crate::store::Kv;
use crate::store::kv::WorkersKv;
use crate::store::layout::Reservations;
use crate::twilio::{EventEffect, TaskRouterEvent};

pub async fn handle(
    req: &Incoming,
    ctx: &Context,
    worker_ctx: &WorkerContext,
    log: &mut RequestLog,
) -> Result<Reply, ApiError> {
    let config = ctx.config()?;
    let event = TaskRouterEvent::from_params(request::twilio_form(req, config).await?)?;
    if let EventEffect::Reservation { reservation, .. } = &event.effect {
        log.reservation_sid = Some(reservation.reservation_sid.clone());
    }
    let store = ctx.store()?;
    let applied = apart(events::apply(&store, &event, ctx.now())).await?;
    log.outcome = applied.outcome;
    log.kv = Some(store.kv().operations());
    confirm_later(worker_ctx, store, applied.recheck, log);
    Ok(Reply::no_content())
}

/// After the answer, in `waitUntil`: the second look at a write that moved a status. Logs a line
/// (under the request's route) only when it had something to do.
pub fn confirm_later(worker_ctx: &WorkerContext, store: Reservations<WorkersKv>, recheck: Recheck, log: &RequestLog) {
    if recheck.is_empty() {
        return;
    }
    let route = log.route.clone();
    worker_ctx.wait_until(async move {
        let now = super::context::now();
        let (outcome, error) = match events::confirm(&store, &recheck, now).await {
            Confirmed::Held => return,
            Confirmed::Restored(_) => ("restored", None),
            Confirmed::Failed(error) => ("confirm_failed", Some(error)),
        };
        let reservation_sid = recheck
            .record
            .as_ref()
            .map(|record| &record.reservation_sid)
            .or(recheck.claim.as_ref().map(|(sid, _)| sid));
        let subject = Subject { reservation_sid, task_sid: recheck.task.as_ref().map(|(task, _)| task) };
        let line = ConfirmLine { route: &route, phase: "confirm", subject, outcome, error };
        console_log!("{}", serde_json::to_string(&line).unwrap_or_default());
    });
}

/// The log line of a second look that had something to do.
#[derive(Serialize)]
struct ConfirmLine<'a> {
    route: &'a str,
    phase: &'static str,
    subject: Subject<'a>,
    outcome: &'static str,
    error: Option<String>,
}

#[derive(Serialize)]
struct Subject<'a> {
    reservation_sid: Option<&'a ReservationSid>,
    task_sid: Option<&'a TaskSid>,
}
