//! `POST /reservations/{sid}/status` with `{"status":"accepted"}` (and the claim's
//! `claim_token`, which it settles): records what Twilio answered the operator, within the
//! status model's rules.

use super::one_reservation;
use crate::web::context::{Context, now};
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::log::RequestLog;
use crate::web::request::Incoming;
use taskrouter_core::flows::{operator, reading};
use taskrouter_core::models::Status;
use taskrouter_core::store::Kv;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusUpdate {
    status: String,
    claim_token: Option<String>,
}

pub async fn handle(req: &Incoming, raw_sid: &str, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let (config, sid, actor) = one_reservation(req, raw_sid, ctx, log).await?;
    let update: StatusUpdate = req.json().await?;
    let next: Status = update.status.parse()?;
    let hub = ctx.hub()?;
    let (row, outcome) = operator::update_status(&hub, &sid, next, update.claim_token.as_deref(), &actor).await?;
    log.outcome = outcome;
    let store = ctx.store()?;
    let record = store.get(&sid, row.card.summary.received_at).await;
    log.kv = Some(store.kv().operations());
    let record = reading::with_status(record?, &row);
    Ok(Reply::json(200, &record.reported(now(), &config.reservation_timeouts)))
}
