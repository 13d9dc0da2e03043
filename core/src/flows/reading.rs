//! Reading: one reservation (the hub's status over the KV record), and a page of the listing
//! (the hub's SQLite alone). A status one request wrote is what the next one reads.

use super::FlowError;
use crate::hub::card::Card;
use crate::hub::port::{HubError, HubPort};
use crate::hub::protocol::{HubReply, HubRequest, HubRow, ListRequest};
use crate::hub::query::Page;
use crate::models::{Reservation, ReservationSid};
use crate::store::Kv;
use crate::store::layout::Reservations;

/// What the hub holds of `sid`; a reservation it does not hold is [`FlowError::ReservationNotFound`].
pub async fn hub_row<H: HubPort>(hub: &H, sid: &ReservationSid) -> Result<HubRow, FlowError> {
    match hub.ask(HubRequest::Show { sid: sid.clone() }).await? {
        HubReply::Shown { row: Some(row) } => Ok(*row),
        HubReply::Shown { row: None } => Err(FlowError::ReservationNotFound(sid.clone())),
        other => Err(HubError::unexpected(&other).into()),
    }
}

/// The record with the status the hub holds. A record KV no longer has (it expired, or its
/// write failed) is made from the hub's card: the SIDs, times and status, without parameters.
pub fn with_status(record: Option<Reservation>, row: &HubRow) -> Reservation {
    let summary = &row.card.summary;
    let mut record = record.unwrap_or_else(|| from_card(&row.card));
    record.status = summary.status;
    record.status_updated_at = summary.status_updated_at;
    record.status_source = row.status_source;
    record.decided_by = row.card.decided_by.clone();
    record.ended_because = row.card.ended_because.clone();
    record.agent.clone_from(&summary.agent);
    record.queue.clone_from(&summary.queue);
    record
}

fn from_card(card: &Card) -> Reservation {
    let summary = &card.summary;
    Reservation {
        reservation_sid: summary.reservation_sid.clone(),
        task_sid: summary.task_sid.clone(),
        workspace_sid: summary.workspace_sid.clone(),
        worker_sid: summary.worker_sid.clone(),
        workflow_sid: summary.workflow_sid.clone(),
        task_attributes: None,
        worker_attributes: None,
        parameters: Default::default(),
        received_at: summary.received_at,
        status: summary.status,
        status_updated_at: summary.status_updated_at,
        status_source: crate::models::StatusSource::Callback,
        answered: None,
        decided_by: None,
        ended_because: None,
        agent: None,
        queue: None,
    }
}

/// One reservation: one hub request, one KV read.
pub async fn show<K: Kv, H: HubPort>(
    store: &Reservations<K>,
    hub: &H,
    sid: &ReservationSid,
) -> Result<(Reservation, HubRow), FlowError> {
    let row = hub_row(hub, sid).await?;
    let record = store.get(sid, row.card.summary.received_at).await?;
    Ok((with_status(record, &row), row))
}

/// One page of the listing: one hub request, no KV.
pub async fn list<H: HubPort>(hub: &H, request: ListRequest) -> Result<Page, FlowError> {
    match hub.ask(HubRequest::List(request)).await? {
        HubReply::Listed { reservations, cursor } => Ok(Page { reservations, cursor: cursor.map(|c| c.encode()) }),
        other => Err(HubError::unexpected(&other).into()),
    }
}
