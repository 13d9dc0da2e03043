//! What runs after the answer, in `waitUntil`: the second look at a write that moved a status,
//! and telling the hub of what was written. Neither can fail the request it follows.

use serde::Serialize;
use worker::{Context as WorkerContext, console_log};

use super::context::{Context, now};
use super::hub_client::HubClient;
use super::kv::WorkersKv;
use super::log::RequestLog;
use crate::flows::recheck::{self, Confirmed, Recheck};
use crate::hub::card::Card;
use crate::hub::protocol::Changes;
use crate::models::{Reservation, ReservationSid, TaskSid};
use crate::store::layout::Reservations;

/// After the answer, in `waitUntil`: the second look at a write that moved a status. Logs a line
/// (under the request's route) only when it had something to do.
pub fn confirm_later(worker_ctx: &WorkerContext, store: Reservations<WorkersKv>, recheck: Recheck, log: &RequestLog) {
    if recheck.is_empty() {
        return;
    }
    let route = log.route.clone();
    worker_ctx.wait_until(async move {
        let now = now();
        let (outcome, error) = match recheck::confirm(&store, &recheck, now).await {
            Confirmed::Held => return,
            Confirmed::Restored(_) => ("restored", None),
            Confirmed::Failed(error) => ("confirm_failed", Some(error.to_string())),
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

/// After the answer, in `waitUntil`: tells the hub of the reservations just written to KV. A hub
/// that is missing, fails or throws is logged, never the request's failure.
pub fn tell_hub(worker_ctx: &WorkerContext, ctx: &Context, written: Vec<Reservation>, log: &RequestLog) {
    if written.is_empty() {
        return;
    }
    let (Some(hub), Ok(config)) = (HubClient::open(&ctx.env), ctx.config()) else { return };
    let changes =
        Changes { cards: written.iter().map(|record| Card::of(record, &config.reservation_timeouts)).collect() };
    let route = log.route.clone();
    worker_ctx.wait_until(async move {
        if let Err(error) = hub.tell(&changes).await {
            let line = HubFailed { route: &route, phase: "tell_hub", outcome: "hub_failed", error };
            console_log!("{}", serde_json::to_string(&line).unwrap_or_default());
        }
    });
}

/// The log line of a hub that could not be told.
#[derive(Serialize)]
struct HubFailed<'a> {
    route: &'a str,
    phase: &'static str,
    outcome: &'static str,
    error: String,
}
