//! `POST /event-streams`: an Event Streams webhook Sink's batch (a JSON array of CloudEvents),
//! signed over the URL and its `bodySHA256`. Its TaskRouter events are applied in order, in one
//! question to the hub, with the status model of `/events`; other types are counted and
//! ignored. A batch the hub cannot apply is answered `503`, so that Event Streams sends it again.

use serde::Serialize;

use crate::web::context::{Context, now};
use crate::web::error::ApiError;
use crate::web::http::Reply;
use crate::web::log::RequestLog;
use crate::web::request::{self, Incoming};
use taskrouter_core::flows::events;
use taskrouter_core::hub::protocol::Channel;
use taskrouter_core::twilio::event_stream;

#[derive(Serialize)]
struct BatchAnswer {
    /// Events that changed a reservation.
    applied: usize,
    /// Events the hub already knew (repeated, or out of date).
    unchanged: usize,
    /// Events of types the worker does not use.
    ignored: usize,
    /// TaskRouter events that could not be read (each named in the log line).
    skipped: usize,
}

pub async fn handle(req: &Incoming, ctx: &Context, log: &mut RequestLog) -> Result<Reply, ApiError> {
    let config = ctx.config()?;
    let body = request::twilio_json(req, config, log).await?;
    let batch = event_stream::read_batch(&body)?;
    let store = ctx.store()?;
    let hub = ctx.hub()?;
    if !batch.skipped.is_empty() {
        let named: Vec<String> = batch.skipped.iter().take(5).map(ToString::to_string).collect();
        log.error = Some(format!("{} events skipped: {}", batch.skipped.len(), named.join("; ")));
    }
    let done =
        events::apply_batch(&store, &hub, Channel::EventStreams, &batch.events, &config.reservation_timeouts, now())
            .await?;
    if let Some(error) = done.records_failed.first() {
        log.error = Some(format!(
            "{} records of reservations first seen in events were not written: {error}",
            done.records_failed.len()
        ));
    }
    log.outcome = "applied";
    let answer = BatchAnswer {
        applied: done.applied,
        unchanged: done.unchanged,
        ignored: batch.ignored,
        skipped: batch.skipped.len(),
    };
    Ok(Reply::json(200, &answer))
}
