//! `GET /live`: a console's WebSocket. The operator token is checked here, from the `bearer.`
//! subprotocol (or `Authorization`), before the upgrade is handed to the hub, which accepts the
//! socket and answers `101` (with the subprotocol `taskrouter-edge.v1` when it was offered).

use worker::Response;

use crate::durable::PROTOCOL;
use crate::web::auth;
use crate::web::context::Context;
use crate::web::error::ApiError;
use crate::web::http::origin_of;
use crate::web::log::RequestLog;
use crate::web::request::{self, Incoming};
use taskrouter_core::access::Actor;

pub async fn handle(req: &Incoming, ctx: &Context, log: &mut RequestLog) -> Result<Response, ApiError> {
    let config = ctx.config()?;
    let protocols = req.header("sec-websocket-protocol");
    // Behind Access, the JWT Access adds to the upgrade; else the token, from the `bearer.`
    // subprotocol (a browser cannot set `Authorization` on a WebSocket) or `Authorization`.
    let actor = request::operator_by(req, config, log, || {
        auth::require_console_token(
            protocols.as_deref(),
            req.header("authorization").as_deref(),
            config.reservations_api_token.as_ref(),
        )
    })
    .await?;
    // Access's cookie goes with any page's upgrade: only the worker's own pages (or a program,
    // which sends no Origin) may open the socket with it.
    if actor != Actor::OperatorToken
        && let Some(origin) = req.header("origin")
        && !same_origin(&origin, req.url(), config.public_url.as_deref())
    {
        return Err(ApiError::ForeignOrigin(taskrouter_core::models::summary::clipped(&origin, 100)));
    }
    let hub = ctx.hub()?;
    if !req.header("upgrade").is_some_and(|upgrade| upgrade.eq_ignore_ascii_case("websocket")) {
        return Err(ApiError::UpgradeRequired);
    }
    // The hub answers with `taskrouter-edge.v1` only when the client offered it: a client that
    // offered none (it sent `Authorization`) must not be answered a subprotocol.
    let speaks_v1 = auth::offered_protocols(protocols.as_deref()).any(|protocol| protocol == PROTOCOL);
    let response = hub.connect(speaks_v1).await?;
    log.outcome = if response.status_code() == 101 { "connected" } else { "hub_refused" };
    Ok(response)
}

/// Whether `origin` is the worker's own: the request's scheme, host and port, or `PUBLIC_URL`.
fn same_origin(origin: &str, request_url: &str, public_url: Option<&str>) -> bool {
    let origin = origin.trim().trim_end_matches('/');
    let own = |url: &str| origin_of(url).is_some_and(|own| own.eq_ignore_ascii_case(origin));
    own(request_url) || public_url.is_some_and(own)
}
