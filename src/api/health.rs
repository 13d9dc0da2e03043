//! `GET /health`: liveness, version, and whether the worker is configured, without any secret.

use serde_json::json;

use super::Context;
use crate::http::Reply;
use crate::store::kv::BINDING;

pub fn handle(ctx: &Context) -> Reply {
    let configured = |present: bool| if present { "set" } else { "missing" };
    let configuration = match &ctx.config {
        Ok(config) => json!({
            "ok": config.assignment_policy.is_ok(),
            "TWILIO_AUTH_TOKEN": configured(config.twilio_auth_token.is_some()),
            "RESERVATIONS_API_TOKEN": configured(config.reservations_api_token.is_some()),
            "signatures_checked": config.twilio_auth_token.is_some(),
            "ASSIGNMENT_INSTRUCTION": match &config.assignment_policy {
                Ok(policy) => json!(policy.summary()),
                Err(problem) => json!({ "problem": problem.to_string() }),
            },
        }),
        Err(problem) => json!({ "ok": false, "problem": problem.to_string() }),
    };
    Reply::json(
        200,
        &json!({
            "status": "ok",
            "service": "taskrouter-edge",
            "version": env!("CARGO_PKG_VERSION"),
            "store": configured(ctx.env.kv(BINDING).is_ok()),
            "configuration": configuration,
        }),
    )
}
