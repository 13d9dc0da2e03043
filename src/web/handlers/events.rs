//! `POST /events`: reads the signed form and has the hub apply the event. An event the hub
//! cannot apply is answered `503`, so that TaskRouter sends it again.

use crate::web::context::{Context, now};
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::log::RequestLog;
use crate::web::request::{self, Incoming};
use taskrouter_core::flows::events;
use taskrouter_core::store::Kv;
use taskrouter_core::twilio::{EventEffect, TaskRouterEvent};

pub async fn handle(req: &Incoming, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let config = ctx.config()?;
    let event = TaskRouterEvent::from_params(request::twilio_form(req, config, log).await?)?;
    if let EventEffect::Reservation { reservation, .. } = &event.effect {
        log.reservation_sid = Some(reservation.reservation_sid.clone());
    }
    let store = ctx.store()?;
    let hub = ctx.hub()?;
    let applied = events::apply(&store, &hub, &event, &config.reservation_timeouts, now()).await?;
    log.outcome = applied.outcome;
    log.kv = Some(store.kv().operations());
    if let Some(error) = applied.record_failed {
        // The hub holds the reservation; only its KV record (its parameters) is missing.
        log.error = Some(format!("the record of a reservation first seen in an event was not written: {error}"));
    }
    Ok(Reply::no_content())
}
