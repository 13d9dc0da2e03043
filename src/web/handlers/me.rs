//! `GET /me`: who the operator is and how they got in, for the console's header: behind
//! Cloudflare Access, the person (or service token) and where to sign out; else the shared
//! operator token.

use serde::Serialize;

use crate::web::context::Context;
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::log::RequestLog;
use crate::web::request::{self, Incoming};
use taskrouter_core::access::Actor;

/// Access's own sign-out, on the same host.
const SIGN_OUT: &str = "/cdn-cgi/access/logout";

#[derive(Serialize)]
struct Me {
    actor: String,
    via: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sign_out: Option<&'static str>,
}

pub async fn handle(req: &Incoming, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let actor = request::operator(req, ctx.config()?, log).await?;
    let (via, sign_out) = match actor {
        Actor::OperatorToken => ("token", None),
        Actor::Person(_) | Actor::ServiceToken(_) => ("access", Some(SIGN_OUT)),
    };
    log.outcome = "known";
    Ok(Reply::json(200, &Me { actor: actor.recorded(), via, sign_out }))
}
