//! One decision per reservation, for accept and reject at the edge and for the CLI: the claim is
//! asked of the hub before TaskRouter is, and given back when nothing changed. Without a hub (no
//! binding), or when the hub fails, decisions go through unserialized: TaskRouter refuses the
//! second of two with its "not in expected state", which the decision flow reads back. The request's log line says so.

use super::context::Context;
use super::error::ApiError;
use super::hub_client::HubClient;
use super::log::RequestLog;
use crate::flows::FlowError;
use crate::hub::claims::{Decision, Verdict};
use crate::hub::protocol::ClaimRequest;
use crate::models::ReservationSid;

/// A claim held: give it back with [`Held::release`] when TaskRouter was not changed. Settling it
/// is the hub's own business, when it is told of the reservation's new status.
pub struct Held {
    hub: HubClient,
    request: ClaimRequest,
}

impl Held {
    pub async fn release(&self) {
        let _ = self.hub.release(&self.request).await;
    }
}

/// Claims the decision on `sid`: `Ok(Some)` holds it, `Ok(None)` means there is no hub to ask;
/// a decision already in flight, or a reservation already settled, is the error.
pub async fn claim(
    ctx: &Context,
    sid: &ReservationSid,
    decision: Decision,
    log: &mut RequestLog,
) -> Result<Option<Held>, ApiError> {
    let Some(hub) = HubClient::open(&ctx.env) else {
        log.hub = Some("absent");
        return Ok(None);
    };
    let request = ClaimRequest { reservation_sid: sid.clone(), decision };
    match hub.claim(&request).await {
        Ok(Verdict::Granted) => {
            log.hub = Some("claimed");
            Ok(Some(Held { hub, request }))
        }
        Ok(Verdict::InFlight(claim)) => Err(FlowError::DecisionInFlight { sid: sid.clone(), claim }.into()),
        Ok(Verdict::Settled { status, at }) => Err(FlowError::AlreadyDecided { sid: sid.clone(), status, at }.into()),
        Err(_) => {
            log.hub = Some("unavailable");
            Ok(None)
        }
    }
}
