//! What runs after the answer, in `waitUntil`: handing the hub a callback it could not take
//! when TaskRouter was answered. It cannot fail the request it follows.

use std::time::Duration;

use serde::Serialize;
use worker::{Context as WorkerContext, Delay, Env, console_log};

use super::context::now;
use super::kv::WorkersKv;
use super::log::RequestLog;
use crate::durable::IMPORT_DUE_KEY;
use crate::durable::client::HubClient;
use taskrouter_core::hub::port::{HubError, HubPort};
use taskrouter_core::hub::protocol::HubRequest;
use taskrouter_core::store::Kv;
use taskrouter_core::store::layout::Reservations;

/// How long to wait before each further try to hand the hub a callback.
const RETRY_DELAYS_MS: [u64; 3] = [1_000, 3_000, 6_000];

/// How long an import stays marked due: past the day the hub keeps reservations.
const MARK_KEPT_SECS: u64 = 2 * 24 * 60 * 60;

/// Hands the hub the callback it missed, a few times over about 10 s. If it still cannot be
/// told, the worker marks an import as due in KV (one write): the hub imports the newest
/// reservations from KV at its next start. Logs one line.
pub fn hand_over_later(
    worker_ctx: &WorkerContext,
    env: Env,
    store: Reservations<WorkersKv>,
    request: HubRequest,
    first: HubError,
    log: &RequestLog,
) {
    let route = log.route.clone();
    worker_ctx.wait_until(async move {
        let mut last = first.to_string();
        let hub = HubClient::open(&env);
        for delay in RETRY_DELAYS_MS {
            Delay::from(Duration::from_millis(delay)).await;
            let Ok(hub) = &hub else { break };
            match hub.ask(request.clone()).await {
                Ok(_) => {
                    log_line(&route, "handed_over", &last);
                    return;
                }
                Err(error) => last = error.to_string(),
            }
        }
        let expires = now().as_millis() / 1000 + MARK_KEPT_SECS;
        let marked = store.kv().put(IMPORT_DUE_KEY, "due", None, expires).await;
        match marked {
            Ok(()) => log_line(&route, "import_due", &last),
            Err(error) => {
                log_line(&route, "hub_unreachable", &format!("{last}; marking an import failed too: {error}"))
            }
        }
    });
}

/// The log line of a hand-over that did not go through at once.
#[derive(Serialize)]
struct HandOverLine<'a> {
    route: &'a str,
    phase: &'static str,
    outcome: &'a str,
    error: &'a str,
}

fn log_line(route: &str, outcome: &str, error: &str) {
    let line = HandOverLine { route, phase: "hand_over", outcome, error };
    console_log!("{}", serde_json::to_string(&line).unwrap_or_default());
}
