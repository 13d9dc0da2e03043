//! `POST /reservations/{sid}/claim` with `{"decision":"accept"}` (or `reject`), and
//! `POST /reservations/{sid}/release`: the one decision per reservation, for a client that calls
//! TaskRouter itself (the CLI). Claim before calling Twilio; release when Twilio refused and
//! nothing changed; record Twilio's answer with `POST …/status`, which settles the claim.

use serde::{Deserialize, Serialize};

use super::one_reservation;
use crate::hub::claims::Decision;
use crate::web::context::Context;
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::hub_decisions;
use crate::web::log::RequestLog;
use crate::web::request::Incoming;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Asked {
    decision: Decision,
}

#[derive(Serialize)]
struct Claimed {
    /// Whether the hub holds the claim; `false` when there is no hub to ask, and the decision
    /// goes through unserialized.
    claimed: bool,
}

pub async fn claim(req: &Incoming, raw_sid: &str, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let (_, sid) = one_reservation(req, raw_sid, ctx, log)?;
    let asked: Asked = req.json().await?;
    let held = hub_decisions::claim(ctx, &sid, asked.decision, log).await?;
    log.outcome = if held.is_some() { "claimed" } else { "unclaimed" };
    Ok(Reply::json(200, &Claimed { claimed: held.is_some() }))
}

pub async fn release(req: &Incoming, raw_sid: &str, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let (_, sid) = one_reservation(req, raw_sid, ctx, log)?;
    let asked: Asked = req.json().await?;
    if let Some(hub) = crate::web::hub_client::HubClient::open(&ctx.env) {
        let request = crate::hub::protocol::ClaimRequest { reservation_sid: sid, decision: asked.decision };
        hub.release(&request).await.map_err(ApiError::HubUnavailable)?;
    }
    log.outcome = "released";
    Ok(Reply::json(200, &serde_json::json!({ "released": true })))
}
