//! `GET /health`: liveness, version, and whether the worker is configured, without any secret.

use serde_json::json;

use super::Context;
use crate::http::Reply;
use crate::request_log::RequestLog;
use crate::store::kv::WorkersKv;

pub fn handle(ctx: &Context, log: &mut RequestLog) -> Reply {
    let configured = |present: bool| if present { "set" } else { "missing" };
    let configuration = match &*ctx.config {
        Ok(config) => json!({
            "ok": config.assignment_policy.is_ok(),
            "TWILIO_AUTH_TOKEN": configured(config.twilio_auth_token.is_some()),
            "RESERVATIONS_API_TOKEN": configured(config.reservations_api_token.is_some()),
            "signatures_checked": config.twilio_auth_token.is_some(),
            // How accept and reject at the edge sign in to TaskRouter's REST API.
            "accept_at_the_edge": config.rest_sign_in().describe(),
            "TWILIO_TASKROUTER_URL": config.taskrouter_url,
            "RESERVATION_TIMEOUT_SECONDS": config.reservation_timeouts.default_seconds,
            "WORKFLOW_TIMEOUTS": config.reservation_timeouts.per_workflow,
            "ASSIGNMENT_INSTRUCTION": match &config.assignment_policy {
                Ok(policy) => json!(policy.summary()),
                Err(problem) => json!({ "problem": problem.to_string() }),
            },
        }),
        Err(problem) => json!({ "ok": false, "problem": problem.to_string() }),
    };
    let store_bound = WorkersKv::open(&ctx.env).is_ok();
    let healthy = store_bound && ctx.config.as_ref().as_ref().is_ok_and(|config| config.assignment_policy.is_ok());
    log.outcome = if healthy { "healthy" } else { "unhealthy" };
    Reply::json(
        200,
        &json!({
            "status": "ok",
            "service": "taskrouter-edge",
            "version": env!("CARGO_PKG_VERSION"),
            "store": configured(store_bound),
            "configuration": configuration,
        }),
    )
}
