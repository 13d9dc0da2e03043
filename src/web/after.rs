//! What runs after the answer, in `waitUntil`: the second look at a write that moved a status.

use serde::Serialize;
use worker::{Context as WorkerContext, console_log};

use super::context::now;
use super::kv::WorkersKv;
use super::log::RequestLog;
use crate::flows::recheck::{self, Confirmed, Recheck};
use crate::models::{ReservationSid, TaskSid};
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
