//! `GET /reservations?status=&limit=&cursor=`: newest first, from KV metadata only, a bounded
//! number of KV list calls per page (see `store::layout`).

use crate::store::Kv;
use crate::store::listing::ListQuery;
use crate::web::context::{Context, now};
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::log::RequestLog;
use crate::web::request::{self, Incoming};

pub async fn handle(req: &Incoming, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let config = ctx.config()?;
    request::operator(req, config)?;
    let query = ListQuery::parse(req.query())?;
    let store = ctx.store()?;
    let page = store.page(&query, now(), &config.reservation_timeouts).await?;
    log.kv = Some(store.kv().operations());
    log.outcome = "listed";
    Ok(Reply::json(200, &page))
}
