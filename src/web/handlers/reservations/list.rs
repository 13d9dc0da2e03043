//! `GET /reservations?status=&limit=&cursor=`: newest first, from the hub's SQLite (one hub
//! request, no KV).

use crate::web::context::Context;
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::log::RequestLog;
use crate::web::request::{self, Incoming};
use taskrouter_core::flows::reading;
use taskrouter_core::hub::query::parse_list_query;

pub async fn handle(req: &Incoming, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let config = ctx.config()?;
    request::operator(req, config, log).await?;
    let query = parse_list_query(req.query())?;
    let hub = ctx.hub()?;
    let page = reading::list(&hub, query).await?;
    log.kv = Some(taskrouter_core::store::Operations::default());
    log.outcome = "listed";
    Ok(Reply::json(200, &page))
}
