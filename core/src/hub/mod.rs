//! The hub: one SQLite-backed Durable Object for the deployment, the authority for everything
//! that changes. It holds each reservation's status, its task and the task's other reservations,
//! the index that listings read, the claims (one decision per reservation) and the day; Workers
//! KV keeps each reservation as TaskRouter delivered it, once. Every change is one run of
//! statements in the hub, applied with the status model, and pushed to the open consoles over
//! hibernating WebSockets.
//!
//! This module is the hub's rules and what the worker shares with it, plain Rust tested on the
//! host against a real SQLite: the tables ([`schema`]) and the rules over them ([`ledger`],
//! [`listing`]), what a console is shown ([`card`]), the claims ([`claims`]), the day
//! ([`outcomes`]), the messages ([`protocol`]) and the worker's port to it ([`port`]). The
//! Durable Object and its client are the Worker's glue (`taskrouter-edge`'s `durable`).

pub mod card;
pub mod catch_up;
pub mod claims;
mod day;
pub mod ledger;
pub mod listing;
mod names;
pub mod outcomes;
pub mod port;
pub mod protocol;
pub mod query;
mod recovery;
pub mod schema;
pub mod sql;

#[cfg(test)]
mod tests;

/// The one hub of a deployment, by name.
pub const HUB_NAME: &str = "hub";

/// How long the hub keeps what it was told: a reservation's row after its last change, the
/// day's outcomes. KV keeps each record `RESERVATION_TTL_SECONDS`.
pub const KEPT_MS: u64 = 24 * 60 * 60 * 1000;
