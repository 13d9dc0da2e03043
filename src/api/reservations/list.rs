//! `GET /reservations?status=&limit=&cursor=`: newest first, from KV metadata only.

use worker::Request;

use crate::api::{Context, request};
use crate::error::ApiError;
use crate::http::Reply;
use crate::request_log::RequestLog;
use crate::store::ReservationStore;
use crate::store::listing::{self, ListQuery};

pub async fn handle(req: Request, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let config = ctx.config()?;
    request::operator(&req, config)?;
    let query = ListQuery::parse(&request::query(&req))?;
    let summaries = ctx.store()?.summaries().await?;
    let page = listing::page(summaries, &query, ctx.now(), &config.reservation_timeouts);
    log.outcome = "listed";
    Ok(Reply::json(200, &page))
}
