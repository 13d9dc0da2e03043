//! The live hub: one Durable Object for the deployment, beside the store. Workers KV stays the
//! store of record; the hub is told of every change after the KV write, pushes each to the open
//! consoles over hibernating WebSockets, lets one decision per reservation through to TaskRouter,
//! and keeps the last 24 hours of outcomes. This module is what the hub and the worker share,
//! plain Rust tested on the host: what a console is shown of a reservation ([`card`]), the rule
//! for one decision at a time ([`claims`]), the outcomes kept ([`outcomes`]) and the messages
//! between them ([`protocol`]). The object itself is wasm only (`crate::web`).

pub mod card;
pub mod claims;
pub mod outcomes;
pub mod protocol;

/// The one hub of a deployment, by name.
pub const HUB_NAME: &str = "hub";

/// How long the hub keeps what it was told: the console's "day at a glance".
pub const KEPT_MS: u64 = 24 * 60 * 60 * 1000;
