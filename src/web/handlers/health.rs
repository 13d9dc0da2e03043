//! `GET /health`: liveness, version, and whether the worker is configured, without any secret.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::web::context::Context;
use crate::web::http::Reply;
use crate::web::kv::WorkersKv;
use crate::web::log::RequestLog;
use crate::web::routes::Route;
use taskrouter_core::config::Config;
use taskrouter_core::hub::port::HubPort;
use taskrouter_core::hub::protocol::{HeardFrom, HubReply, HubRequest};
use taskrouter_core::instructions::policy::PolicySummary;
use taskrouter_core::models::WorkflowSid;

#[derive(Serialize)]
struct Health<'a> {
    /// `ok`, or `degraded` when the configuration does not parse or KV is not bound: then
    /// `configuration` (or `store`) names the problem, and routes that need it answer `503`.
    status: &'static str,
    service: &'static str,
    version: &'static str,
    store: &'static str,
    /// The live hub (a Durable Object): `set` when the worker has its binding.
    hub: &'static str,
    /// Where the API's OpenAPI description is served.
    openapi: &'static str,
    /// What the operator routes accept (`OPERATOR_AUTH`): `access`, `token` or `access,token`,
    /// so that the console knows whether Access signs it in.
    #[serde(skip_serializing_if = "Option::is_none")]
    operator_auth: Option<&'static str>,
    /// When each event channel last delivered, as the hub noted it; absent when the hub cannot
    /// be asked. A channel never heard from is `null`: its events go elsewhere, or nowhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<HeardFrom>,
    configuration: Configuration<'a>,
}

/// The variables the worker uses, never their values; or why the configuration is unusable.
#[derive(Serialize)]
#[serde(untagged)]
enum Configuration<'a> {
    Read(Variables<'a>),
    Unusable { ok: bool, problem: String },
}

#[derive(Serialize)]
#[allow(non_snake_case)] // the variables' own names
struct Variables<'a> {
    ok: bool,
    TWILIO_AUTH_TOKEN: &'static str,
    /// The ids of the SharedKeys a Webhook Rule may sign with (never their secrets).
    TWILIO_WEBHOOK_SHARED_KEYS: SharedKeyIds<'a>,
    RESERVATIONS_API_TOKEN: &'static str,
    signatures_checked: bool,
    /// How accept and reject at the edge sign in to TaskRouter's REST API.
    accept_at_the_edge: &'static str,
    TWILIO_TASKROUTER_URL: &'a str,
    RESERVATION_TIMEOUT_SECONDS: u64,
    /// `null` when the hub never catches up: `off`, or no credentials for TaskRouter.
    CATCH_UP_SECONDS: Option<u64>,
    WORKFLOW_TIMEOUTS: &'a BTreeMap<WorkflowSid, u64>,
    ASSIGNMENT_INSTRUCTION: AssignmentInstruction,
}

#[derive(Serialize)]
#[serde(untagged)]
enum SharedKeyIds<'a> {
    Missing(&'static str),
    Ids(Vec<&'a str>),
    Unusable { problem: String },
}

#[derive(Serialize)]
#[serde(untagged)]
enum AssignmentInstruction {
    Read(PolicySummary),
    Unusable { problem: String },
}

fn configured(present: bool) -> &'static str {
    if present { "set" } else { "missing" }
}

fn variables(config: &Config) -> Variables<'_> {
    Variables {
        ok: config.assignment_policy.is_ok() && config.webhook_shared_keys.is_ok(),
        TWILIO_AUTH_TOKEN: configured(config.twilio_auth_token.is_some()),
        TWILIO_WEBHOOK_SHARED_KEYS: match config.webhook_shared_keys() {
            Ok(None) => SharedKeyIds::Missing("missing"),
            Ok(Some(keys)) => SharedKeyIds::Ids(keys.ids().collect()),
            Err(problem) => SharedKeyIds::Unusable { problem: problem.to_string() },
        },
        RESERVATIONS_API_TOKEN: configured(config.reservations_api_token.is_some()),
        signatures_checked: config.twilio_auth_token.is_some() || !config.allow_unsigned_callbacks,
        accept_at_the_edge: config.rest_sign_in().describe(),
        TWILIO_TASKROUTER_URL: &config.taskrouter_url,
        RESERVATION_TIMEOUT_SECONDS: config.reservation_timeouts.default_seconds,
        CATCH_UP_SECONDS: config.catch_up_every(),
        WORKFLOW_TIMEOUTS: &config.reservation_timeouts.per_workflow,
        ASSIGNMENT_INSTRUCTION: match &config.assignment_policy {
            Ok(policy) => AssignmentInstruction::Read(policy.summary()),
            Err(problem) => AssignmentInstruction::Unusable { problem: problem.to_string() },
        },
    }
}

pub async fn handle(ctx: &Context, log: &mut RequestLog) -> Reply {
    let configuration = match &ctx.config {
        Ok(config) => Configuration::Read(variables(config)),
        Err(problem) => Configuration::Unusable { ok: false, problem: problem.to_string() },
    };
    let store_bound = WorkersKv::open(&ctx.env).is_ok();
    let healthy = store_bound
        && ctx
            .config
            .as_ref()
            .is_ok_and(|config| config.assignment_policy.is_ok() && config.webhook_shared_keys.is_ok());
    log.outcome = if healthy { "healthy" } else { "unhealthy" };
    let health = Health {
        status: if healthy { "ok" } else { "degraded" },
        service: "taskrouter-edge",
        version: env!("CARGO_PKG_VERSION"),
        store: configured(store_bound),
        hub: configured(ctx.hub().is_ok()),
        openapi: Route::OpenApi.pattern(),
        operator_auth: ctx
            .config
            .as_ref()
            .ok()
            .and_then(|config| config.operator_auth().ok())
            .map(|auth| auth.describe()),
        events: heard(ctx).await,
        configuration,
    };
    Reply::json(200, &health)
}

/// How long an isolate keeps what the hub said of the channels: `/health` is open to anyone,
/// and must not become a way to flood the one hub.
const HEARD_KEPT_MS: u64 = 30_000;

thread_local! {
    static HEARD: std::cell::RefCell<Option<(u64, HeardFrom)>> = const { std::cell::RefCell::new(None) };
}

/// When each channel was last heard from, if the hub answers: asked at most every
/// [`HEARD_KEPT_MS`] per isolate.
async fn heard(ctx: &Context) -> Option<HeardFrom> {
    let now = crate::web::context::now().as_millis();
    let kept = HEARD.with(|heard| heard.borrow().clone());
    if let Some((_, heard)) = kept.filter(|(at, _)| now.saturating_sub(*at) < HEARD_KEPT_MS) {
        return Some(heard);
    }
    let heard = match ctx.hub().ok()?.ask(HubRequest::Heard).await.ok()? {
        HubReply::Heard(heard) => heard,
        _ => return None,
    };
    HEARD.with(|cache| *cache.borrow_mut() = Some((now, heard.clone())));
    Some(heard)
}
