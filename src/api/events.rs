//! `POST /events`: TaskRouter's event callbacks move stored reservations' statuses.

use std::time::Duration;

use worker::{Context as WorkerContext, Delay, Request, console_log};

use super::{Context, request};
use crate::error::ApiError;
use crate::http::Reply;
use crate::models::{EventOutcome, Reservation, Status, TaskSid, Timestamp};
use crate::request_log::RequestLog;
use crate::store::kv::ReservationStore;
use crate::twilio::{EventEffect, ReservationParams, TaskEnding, TaskRouterEvent};

/// How long after an event's write the worker looks again: past KV's one-write-per-second
/// window, so a concurrent writer that read the record earlier has landed by then.
const CONFIRM_AFTER_MS: u64 = 1_100;

pub async fn handle(
    mut req: Request,
    ctx: &Context,
    worker_ctx: &WorkerContext,
    log: &mut RequestLog,
) -> Result<Reply, ApiError> {
    let config = ctx.config()?;
    let event = TaskRouterEvent::from_params(request::twilio_form(&mut req, config).await?)?;
    let store = ctx.store()?;
    log.outcome = match event.effect {
        EventEffect::Ignored => "ignored",
        EventEffect::Reservation { reservation, status } => {
            log.reservation_sid = Some(reservation.reservation_sid.clone());
            let (outcome, written) = record_reservation_event(&store, &reservation, status, ctx.now()).await?;
            if let Some(written) = written {
                worker_ctx.wait_until(confirm(store, written));
            }
            outcome
        }
        EventEffect::Task { task_sid, ending } => end_task_reservations(&store, &task_sid, ending, ctx.now()).await?,
    };
    Ok(Reply::no_content())
}

/// Applies a reservation event; returns the log outcome and the record written, if any.
async fn record_reservation_event(
    store: &ReservationStore,
    reservation: &ReservationParams,
    status: Status,
    now: Timestamp,
) -> Result<(&'static str, Option<Reservation>), ApiError> {
    let (record, outcome) = match store.get(&reservation.reservation_sid).await? {
        None => (Reservation::from_event(reservation, status, now), "created"),
        Some(mut record) => match record.record_event(status, now) {
            EventOutcome::Moved => (record, "moved"),
            EventOutcome::AlreadyThere => return Ok(("unchanged", None)),
            EventOutcome::Stale => return Ok(("stale", None)),
        },
    };
    store.put(&record).await?;
    Ok((outcome, Some(record)))
}

async fn end_task_reservations(
    store: &ReservationStore,
    task_sid: &TaskSid,
    ending: TaskEnding,
    now: Timestamp,
) -> Result<&'static str, ApiError> {
    let mut ended = 0;
    for summary in store.summaries_of_task(task_sid).await? {
        let Some(mut record) = store.get(&summary.reservation_sid).await? else {
            continue;
        };
        let Some(next) = ending.status_for(record.status) else {
            continue;
        };
        if record.record_event(next, now) == EventOutcome::Moved {
            store.put(&record).await?;
            ended += 1;
        }
    }
    Ok(if ended > 0 { "ended_task_reservations" } else { "no_open_reservations" })
}

/// KV has no compare-and-swap: a callback or operator update that read the record before this
/// event's write may land after it. Looking again once such writes have landed, and restoring
/// the event's status if it was lost, makes the final status right.
async fn confirm(store: ReservationStore, written: Reservation) {
    Delay::from(Duration::from_millis(CONFIRM_AFTER_MS)).await;
    let restored = match store.get(&written.reservation_sid).await {
        Ok(current) => Reservation::restore_lost_status(current, &written),
        Err(error) => {
            console_log!(
                "{}",
                serde_json::json!({ "route": "/events", "phase": "confirm", "reservation_sid": written.reservation_sid, "outcome": "store_unavailable", "error": error.0 })
            );
            return;
        }
    };
    if let Some(restored) = restored {
        let outcome = if store.put(&restored).await.is_ok() { "restored" } else { "restore_failed" };
        console_log!(
            "{}",
            serde_json::json!({ "route": "/events", "phase": "confirm", "reservation_sid": written.reservation_sid, "outcome": outcome })
        );
    }
}
