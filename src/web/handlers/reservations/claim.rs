//! `POST /reservations/{sid}/claim` and `…/release`: one decision per reservation, for a client
//! that calls TaskRouter itself (the CLI, a script). The claim's token is the claimant's own:
//! it settles the claim (`POST …/status` with `claim_token`) or gives it back (`…/release`).

use serde::{Deserialize, Serialize};

use super::one_reservation;
use crate::web::context::Context;
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::log::RequestLog;
use crate::web::request::Incoming;
use taskrouter_core::flows::operator;
use taskrouter_core::hub::claims::{Decision, OWNER_CHARS};
use taskrouter_core::models::Timestamp;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimBody {
    decision: Decision,
    owner: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseBody {
    claim_token: String,
}

#[derive(Serialize)]
struct ClaimAnswer {
    claimed: bool,
    token: String,
    until: Timestamp,
}

pub async fn claim(req: &Incoming, raw_sid: &str, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let (_, sid, actor) = one_reservation(req, raw_sid, ctx, log).await?;
    let asked: ClaimBody = req.json().await?;
    if asked.owner.as_ref().is_some_and(|owner| owner.chars().count() > OWNER_CHARS) {
        return Err(ApiError::InvalidJson(format!("owner: at most {OWNER_CHARS} characters")));
    }
    let hub = ctx.hub()?;
    let owner = asked.owner.as_deref().filter(|owner| !owner.trim().is_empty()).unwrap_or("client");
    let granted = operator::claim(&hub, &sid, asked.decision, owner, &actor).await?;
    log.outcome = "claimed";
    Ok(Reply::json(200, &ClaimAnswer { claimed: true, token: granted.token, until: granted.until }))
}

pub async fn release(req: &Incoming, raw_sid: &str, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let (_, sid, _) = one_reservation(req, raw_sid, ctx, log).await?;
    let asked: ReleaseBody = req.json().await?;
    let hub = ctx.hub()?;
    operator::release(&hub, &sid, &asked.claim_token).await?;
    log.outcome = "released";
    Ok(Reply::json(200, &serde_json::json!({ "released": true })))
}
