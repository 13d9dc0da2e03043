//! The Worker's `fetch` handler: resolve the route, run its handler, answer, and log one line.

use futures_util::FutureExt;
use worker::{Context as WorkerContext, Env, Headers, Request, Response, console_log, event};

use super::context::{Context, now};
use super::handlers::{
    activities, assignment_callback, console, event_streams, events, health, live, me, reservations::claim,
    reservations::decide, reservations::list, reservations::show, reservations::update_status,
};
use super::http::Reply;
use super::log::RequestLog;
use super::request::Incoming;
use super::routes::{self, Route};

#[event(fetch)]
async fn fetch(req: Request, env: Env, worker_ctx: WorkerContext) -> worker::Result<Response> {
    let started = now();
    let req = Incoming::new(req);
    let method = req.method();
    let ctx = Context::new(env);
    let route = routes::resolve(&method, req.path());
    let mut log = RequestLog::new(&method, route.as_ref().map_or(req.path(), |route| route.pattern()));

    // Each handler's future is boxed (`boxed_local`) so that each route's code is a function of
    // its own, and an isolate's first request compiles only the route it takes.
    let answer = match route {
        // A console's WebSocket is answered by the hub, with the socket itself.
        Ok(Route::Live) => match live::handle(&req, &ctx, &mut log).boxed_local().await {
            Ok(response) => {
                log.status = response.status_code();
                log.duration_ms = started.age_ms(now());
                console_log!("{}", log.line());
                return Ok(response);
            }
            Err(error) => Err(error),
        },
        Ok(Route::AssignmentCallback) => {
            assignment_callback::handle(&req, &ctx, &worker_ctx, &mut log).boxed_local().await
        }
        Ok(Route::Events) => events::handle(&req, &ctx, &mut log).boxed_local().await,
        Ok(Route::EventStreams) => event_streams::handle(&req, &ctx, &mut log).boxed_local().await,
        Ok(Route::ListReservations) => list::handle(&req, &ctx, &mut log).boxed_local().await,
        Ok(Route::ShowReservation(sid)) => show::handle(&req, &sid, &ctx, &mut log).boxed_local().await,
        Ok(Route::UpdateStatus(sid)) => update_status::handle(&req, &sid, &ctx, &mut log).boxed_local().await,
        Ok(Route::Decide(sid, decision)) => decide::handle(&req, &sid, decision, &ctx, &mut log).boxed_local().await,
        Ok(Route::Activities) => activities::handle(&req, &ctx, &mut log).boxed_local().await,
        Ok(Route::Me) => me::handle(&req, &ctx, &mut log).boxed_local().await,
        Ok(Route::Claim(sid)) => claim::claim(&req, &sid, &ctx, &mut log).boxed_local().await,
        Ok(Route::Release(sid)) => claim::release(&req, &sid, &ctx, &mut log).boxed_local().await,
        Ok(Route::Health) => Ok(health::handle(&ctx, &mut log).boxed_local().await),
        Ok(Route::OpenApi) => Ok(Reply::raw_json(200, crate::web::openapi::DESCRIPTION.to_owned())),
        Ok(Route::Console(asset)) => Ok(console::handle(asset)),
        Err(error) => Err(error),
    };
    let reply = answer.unwrap_or_else(|error| {
        log.outcome = error.code();
        Reply::error(&error)
    });

    log.status = reply.status;
    log.duration_ms = started.age_ms(now());
    console_log!("{}", log.line());
    respond(reply)
}

fn respond(reply: Reply) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", reply.content_type)?;
    headers.set("content-security-policy", reply.csp)?;
    headers.set("x-content-type-options", "nosniff")?;
    headers.set("referrer-policy", "no-referrer")?;
    if let Some(allow) = reply.allow {
        headers.set("allow", allow)?;
    }
    let response = Response::builder().with_status(reply.status).with_headers(headers);
    // A 204 carries no body at all, not even an empty one.
    Ok(if reply.body.is_empty() { response.empty() } else { response.fixed(reply.body.into_bytes()) })
}
