//! What each request decides, as plain Rust over two ports: the [`Kv`](crate::store::Kv) that
//! keeps each reservation once, and the [`HubPort`](crate::hub::port::HubPort) that holds everything
//! that changes. The worker runs these flows over Workers KV and the Durable Object; `cargo
//! test` over their twins ([`MemoryKv`](crate::store::memory::MemoryKv) and
//! `LocalHub` (`crate::hub::port`, tests only), the hub's rules over a host SQLite), without
//! Miniflare and without sleeping. The HTTP layer (the Worker's `web`) only reads requests, calls a
//! flow and writes its answer; a flow knows nothing of HTTP and fails with a [`FlowError`].
//!
//! The modules, in the order they build on each other: `record` (records from what TaskRouter
//! sent), `callback` and `events` (TaskRouter's two callbacks), `reading` (a reservation and
//! the listing), `decide` (what to believe of Twilio's answers), `operator` (the operator's
//! claims, updates and decisions) and `catch_up` (what the hub missed, read from TaskRouter).

pub mod callback;
pub mod catch_up;
pub mod decide;
pub mod events;
pub mod operator;
pub mod reading;
pub mod record;

#[cfg(test)]
mod catch_up_tests;
#[cfg(test)]
mod tests;

use crate::config::rest::UnsetSecret;
use crate::hub::claims::Claim;
use crate::hub::port::HubError;
use crate::models::{ReservationSid, Status, Timestamp, TransitionError};
use crate::store::StoreError;
use crate::twilio::rest::RestError;

/// Why a flow did not do what it was asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FlowError {
    #[error("the reservation store is unavailable: {0}")]
    Store(#[from] StoreError),
    /// The hub could not be asked: nothing it holds changed, and nothing was sent to TaskRouter.
    #[error("{0}")]
    Hub(#[from] HubError),
    #[error("no reservation {0} is known: the hub keeps each for a day after its last change")]
    ReservationNotFound(ReservationSid),
    /// The worker lacks a setting this needs (TaskRouter's credentials): nothing was sent.
    #[error(transparent)]
    NotConfigured(#[from] UnsetSecret),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Twilio refused, or could not be reached, and nothing changed.
    #[error("{0}")]
    Twilio(Box<RestError>),
    /// Twilio's answer was lost and reading the reservation back failed too.
    #[error(
        "{refusal}; reading the reservation back to learn its status failed too: {read_error}. Your {} is kept as yours until {until}, when TaskRouter has timed the reservation out if nothing else decided it; see it in Twilio's console", decision.as_str()
    )]
    TwilioOutcomeUnknown {
        refusal: Box<RestError>,
        read_error: Box<RestError>,
        decision: crate::hub::claims::Decision,
        until: Timestamp,
    },
    /// TaskRouter answered neither the update nor any read-back: it did not get the update.
    #[error(
        "TaskRouter could not be reached ({0}). Nothing changed: the reservation was neither accepted nor rejected, and nothing was recorded; try again once TaskRouter can be reached"
    )]
    TwilioUnreachable(Box<RestError>),
    /// Another decision on the reservation is being taken: nothing was sent to TaskRouter.
    #[error(
        "{sid} is being decided ({} by {} via {}, since {}, until {} at the latest): nothing was sent to TaskRouter", claim.decision.as_str(), claim.actor, claim.owner, claim.since, claim.until
    )]
    DecisionInFlight { sid: ReservationSid, claim: Claim },
    /// A release or settling with a token that names no claim the reservation holds.
    #[error("the claim token names no decision {sid} holds now: it was another's, or it ended")]
    NotClaimHolder { sid: ReservationSid },
    /// The reservation already left `pending`, as the hub was told: nothing was sent to TaskRouter.
    #[error("{sid} is already {status} (since {at}): nothing was sent to TaskRouter")]
    AlreadyDecided { sid: ReservationSid, status: Status, at: Timestamp },
    /// Twilio says the reservation already left `pending`; `recorded` says what the worker made
    /// of that.
    #[error("Twilio says {sid} is {status}, no longer pending: {recorded}")]
    NoLongerPending { sid: ReservationSid, status: Status, recorded: String },
}

impl From<RestError> for FlowError {
    fn from(error: RestError) -> Self {
        FlowError::Twilio(Box::new(error))
    }
}

/// Runs a flow to its end on the host. Every await in a flow over the in-memory store completes
/// at once, so one poll is enough; anything else is a bug in the test.
#[cfg(test)]
pub(crate) fn finish<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("a flow over the in-memory store waited on something"),
    }
}
