//! The assignment callback: tell the hub, keep the reservation in KV once, and answer `{}` or the
//! instruction the policy gives for it. TaskRouter is answered once the KV record is written; a
//! hub that is down or slow never fails the callback (the worker hands it over again later).

use sha2::{Digest, Sha256};

use super::FlowError;
use crate::hub::card::Card;
use crate::hub::port::{HubError, HubPort};
use crate::hub::protocol::{HubReply, HubRequest};
use crate::instructions::{Policy, PolicyChoice, TaskContext};
use crate::models::{Reservation, ReservationTimeouts, Status, StatusSource, Timestamp};
use crate::store::Kv;
use crate::store::layout::Reservations;
use crate::twilio::ReservationParams;

/// A digest of the callback's parameters: a repeated callback that changed them writes the
/// record again, one that did not writes nothing.
pub fn digest(callback: &ReservationParams) -> String {
    let mut pairs: Vec<_> = callback.params.pairs().iter().collect();
    pairs.sort();
    let mut hasher = Sha256::new();
    for (key, value) in pairs {
        hasher.update(key.as_bytes());
        hasher.update([0]);
        hasher.update(value.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize()[..16].iter().map(|byte| format!("{byte:02x}")).collect()
}

/// What a callback did: the answer for TaskRouter, the record as TaskRouter delivered it, the
/// reservation as the hub holds it, and, when the hub could not be told, what to tell it later.
#[derive(Debug)]
pub struct CallbackAnswered {
    pub decision: PolicyChoice,
    pub record: Reservation,
    pub card: Card,
    pub written: bool,
    pub untold: Option<(HubRequest, HubError)>,
}

/// Asks the hub (one request, bounded in time), then writes the record (one write) when the
/// reservation is new or its parameters changed.
pub async fn assignment_callback<K: Kv, H: HubPort>(
    store: &Reservations<K>,
    hub: &H,
    callback: &ReservationParams,
    policy: &Policy,
    timeouts: &ReservationTimeouts,
    now: Timestamp,
) -> Result<CallbackAnswered, FlowError> {
    let mut record = Reservation::from_callback(callback, now);
    let decision = policy.decide(&TaskContext {
        params: &callback.params,
        task: record.task_attributes.as_ref(),
        worker: record.worker_attributes.as_ref(),
    });
    let request = HubRequest::Callback {
        card: Box::new(Card::of(&record, timeouts)),
        digest: digest(callback),
        settles: decision.settles,
    };
    record.record_answer(decision.answered.clone(), decision.settles, now);
    let (card, write, untold) = match hub.ask(request.clone()).await {
        Ok(HubReply::Recorded { card, write_record }) => (*card, write_record, None),
        Ok(other) => (Card::of(&record, timeouts), true, Some((request, HubError::unexpected(&other)))),
        Err(error) => (Card::of(&record, timeouts), true, Some((request, error))),
    };
    // The record keeps the first arrival (its key) and the status the hub holds as of now: the
    // callback's own, or one a task event set first.
    record.received_at = card.summary.received_at;
    record.status_updated_at = card.summary.status_updated_at;
    if record.status != card.summary.status {
        record.status = card.summary.status;
        record.status_source =
            if card.summary.status == Status::Pending { StatusSource::Callback } else { StatusSource::Event };
    }
    if write && let Err(error) = store.put(&record, now).await {
        // The hub holds the reservation; a callback sent again must write its record.
        if untold.is_none() {
            let _ = hub.ask(HubRequest::RecordUnwritten { sid: record.reservation_sid.clone() }).await;
        }
        return Err(error.into());
    }
    Ok(CallbackAnswered { decision, record, card, written: write, untold })
}
