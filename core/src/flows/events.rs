//! Event callbacks: `reservation.*` events move a reservation's status; task events end the
//! task's reservations, now and for callbacks still to come. The hub applies each in one
//! transaction; an event it cannot apply fails the request (`503`), so that TaskRouter sends it
//! again rather than it being acknowledged and lost.

use super::FlowError;
use crate::hub::card::Card;
use crate::hub::port::{HubError, HubPort};
use crate::hub::protocol::{Channel, EventEffectOutcome, HubReply, HubRequest};
use crate::models::{Reservation, ReservationTimeouts, Timestamp};
use crate::store::Kv;
use crate::store::StoreError;
use crate::store::layout::Reservations;
use crate::twilio::{EventEffect, TaskRouterEvent};

/// What an event did: the log's outcome word, the reservations it changed (as the hub now
/// holds them), and, for a reservation the worker had never seen, whether its record could
/// not be written (the hub holds it all the same).
#[derive(Debug, Clone, PartialEq)]
pub struct EventApplied {
    pub outcome: &'static str,
    pub changed: Vec<Card>,
    pub record_failed: Option<StoreError>,
}

/// What the hub is asked for an event, and the record to keep if it turns out new.
fn ask_of(
    event: &TaskRouterEvent,
    timeouts: &ReservationTimeouts,
    now: Timestamp,
) -> Option<(HubRequest, Option<Reservation>)> {
    match &event.effect {
        EventEffect::Ignored => None,
        EventEffect::Reservation { reservation, status } => {
            let record = Reservation::from_event(reservation, *status, now);
            let card = Card::of(&record, timeouts);
            Some((HubRequest::ReservationEvent { card: Box::new(card), status: *status }, Some(record)))
        }
        EventEffect::Task { task_sid, ending } => {
            Some((HubRequest::TaskEvent { task_sid: task_sid.clone(), ending: *ending }, None))
        }
    }
}

/// A reservation whose callback never came here is kept in KV from the event's own fields.
async fn keep_created<K: Kv>(
    store: &Reservations<K>,
    outcome: EventEffectOutcome,
    record: Option<Reservation>,
    changed: &[Card],
    now: Timestamp,
) -> Option<StoreError> {
    let (EventEffectOutcome::Created, Some(mut record), Some(card)) = (outcome, record, changed.first()) else {
        return None;
    };
    record.received_at = card.summary.received_at;
    record.status = card.summary.status;
    record.status_updated_at = card.summary.status_updated_at;
    store.put(&record, now).await.err()
}

/// Applies one event from the Event Callback URL.
pub async fn apply<K: Kv, H: HubPort>(
    store: &Reservations<K>,
    hub: &H,
    event: &TaskRouterEvent,
    timeouts: &ReservationTimeouts,
    now: Timestamp,
) -> Result<EventApplied, FlowError> {
    let Some(ask) = ask_of(event, timeouts, now) else {
        return Ok(EventApplied { outcome: "ignored", changed: vec![], record_failed: None });
    };
    let mut applied = apply_in_order(store, hub, Channel::EventCallback, vec![ask], now).await?;
    match (applied.pop(), applied.is_empty()) {
        (Some(one), true) => Ok(one),
        _ => Err(HubError::Failed("the hub did not answer the event once".into()).into()),
    }
}

/// What a batch did: how many events changed a reservation, and records not written.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchApplied {
    pub applied: usize,
    pub unchanged: usize,
    pub records_failed: Vec<StoreError>,
}

/// Applies a delivery's events in order, in one question to the hub (a batch of a hundred
/// costs one subrequest, not a hundred). The hub fails the whole batch or applies it all.
pub async fn apply_batch<K: Kv, H: HubPort>(
    store: &Reservations<K>,
    hub: &H,
    channel: Channel,
    events: &[TaskRouterEvent],
    timeouts: &ReservationTimeouts,
    now: Timestamp,
) -> Result<BatchApplied, FlowError> {
    let asks = events.iter().filter_map(|event| ask_of(event, timeouts, now)).collect();
    let mut done = BatchApplied { applied: 0, unchanged: 0, records_failed: vec![] };
    for event in apply_in_order(store, hub, channel, asks, now).await? {
        if event.changed.is_empty() {
            done.unchanged += 1;
        } else {
            done.applied += 1;
        }
        done.records_failed.extend(event.record_failed);
    }
    Ok(done)
}

/// Asks the hub to apply the events in one batch, then keeps the records of the reservations
/// they made known.
async fn apply_in_order<K: Kv, H: HubPort>(
    store: &Reservations<K>,
    hub: &H,
    channel: Channel,
    asks: Vec<(HubRequest, Option<Reservation>)>,
    now: Timestamp,
) -> Result<Vec<EventApplied>, FlowError> {
    let (requests, records): (Vec<HubRequest>, Vec<Option<Reservation>>) = asks.into_iter().unzip();
    let replies = match hub.ask(HubRequest::Batch { channel, events: requests }).await? {
        HubReply::Batch { replies } => replies,
        other => return Err(HubError::unexpected(&other).into()),
    };
    let mut applied = Vec::with_capacity(replies.len());
    for (reply, record) in replies.into_iter().zip(records) {
        let HubReply::Applied { outcome, changed } = reply else { return Err(HubError::unexpected(&reply).into()) };
        let record_failed = keep_created(store, outcome, record, &changed, now).await;
        applied.push(EventApplied { outcome: outcome.as_str(), changed, record_failed });
    }
    Ok(applied)
}
