//! `GET /activities?reservation_sid=WR…`: the activities of that reservation's Workspace, for
//! the console's reject menu. The stored reservation names the Workspace and the Account the
//! worker signs in to Twilio as, the same way accept and reject do.

use serde::Serialize;

use crate::web::context::Context;
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::log::RequestLog;
use crate::web::request::{self, Incoming};
use crate::web::taskrouter::TaskRouter;
use taskrouter_core::models::{ReservationSid, WorkspaceSid};
use taskrouter_core::store::Kv;
use taskrouter_core::twilio::rest::Activity;

/// The answer.
#[derive(Serialize)]
struct Activities {
    workspace_sid: WorkspaceSid,
    activities: Vec<Activity>,
}

pub async fn handle(req: &Incoming, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let config = ctx.config()?;
    request::operator(req, config, log).await?;
    let mut sid = None;
    for (name, value) in form_urlencoded::parse(req.query().as_bytes()) {
        match name.as_ref() {
            "reservation_sid" => sid = Some(value.parse::<ReservationSid>()?),
            other => {
                return Err(ApiError::InvalidQuery(format!("unknown query parameter {other:?}: use reservation_sid")));
            }
        }
    }
    let sid = sid.ok_or_else(|| {
        ApiError::InvalidQuery("reservation_sid is missing: the reservation names the Workspace and the Account".into())
    })?;
    let store = ctx.store()?;
    let hub = ctx.hub()?;
    let found = taskrouter_core::flows::reading::show(&store, &hub, &sid).await;
    log.kv = Some(store.kv().operations());
    let (record, _) = found?;
    let twilio = TaskRouter::signed_in(config, record.callback_account().as_ref())?;
    let activities = twilio.activities(&record.workspace_sid).await?;
    log.outcome = "listed";
    Ok(Reply::json(200, &Activities { workspace_sid: record.workspace_sid, activities }))
}
