//! Event callbacks: `reservation.*` events move a reservation's status; task events end the
//! task's reservations, now and for callbacks still to come. The hub applies each in one
//! transaction; an event it cannot apply fails the request (`503`), so that TaskRouter sends it
//! again rather than it being acknowledged and lost.

use super::FlowError;
use crate::hub::card::Card;
use crate::hub::port::{Hub, HubError};
use crate::hub::protocol::{EventEffectOutcome, HubReply, HubRequest};
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

pub async fn apply<K: Kv, H: Hub>(
    store: &Reservations<K>,
    hub: &H,
    event: &TaskRouterEvent,
    timeouts: &ReservationTimeouts,
    now: Timestamp,
) -> Result<EventApplied, FlowError> {
    let (request, record) = match &event.effect {
        EventEffect::Ignored => return Ok(EventApplied { outcome: "ignored", changed: vec![], record_failed: None }),
        EventEffect::Reservation { reservation, status } => {
            let record = Reservation::from_event(reservation, *status, now);
            let card = Card::of(&record, timeouts);
            (HubRequest::ReservationEvent { card: Box::new(card), status: *status }, Some(record))
        }
        EventEffect::Task { task_sid, ending } => {
            (HubRequest::TaskEvent { task_sid: task_sid.clone(), ending: *ending }, None)
        }
    };
    let (outcome, changed) = match hub.ask(request).await? {
        HubReply::Applied { outcome, changed } => (outcome, changed),
        other => return Err(HubError::unexpected(&other).into()),
    };
    // A reservation whose callback never came here is kept in KV from the event's own fields.
    let mut record_failed = None;
    if let (EventEffectOutcome::Created, Some(mut record), Some(card)) = (outcome, record, changed.first()) {
        record.received_at = card.summary.received_at;
        record.status = card.summary.status;
        record.status_updated_at = card.summary.status_updated_at;
        record_failed = store.put(&record, now).await.err();
    }
    Ok(EventApplied { outcome: outcome.as_str(), changed, record_failed })
}
