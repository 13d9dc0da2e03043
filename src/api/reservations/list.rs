//! `GET /reservations?status=&limit=&cursor=`: newest first, from KV metadata only, a bounded
//! number of KV list calls per page (see `store::layout`).

use crate::api::Context;
use crate::api::request::{self, Incoming};
use crate::error::ApiError;
use crate::http::Reply;
use crate::request_log::RequestLog;
use crate::store::Kv;
use crate::store::listing::ListQuery;

pub async fn handle(req: &Incoming, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let config = ctx.config()?;
    request::operator(req, config)?;
    let query = ListQuery::parse(req.query())?;
    let store = ctx.store()?;
    let page = store.page(&query, ctx.now(), &config.reservation_timeouts).await?;
    log.kv = Some(store.kv().operations());
    log.outcome = "listed";
    Ok(Reply::json(200, &page))
}
