//! The hub on Cloudflare: the Durable Object ([`object`]) and its catch-up
//! schedule (`alarm`), its SQLite behind [`Sql`](taskrouter_core::hub::sql::Sql) ([`storage`]), and the worker's
//! client of it ([`client`]), which bounds every question in time.

mod alarm;
pub mod client;
pub mod object;
pub mod storage;

/// The Durable Object binding's name in wrangler.toml.
pub const BINDING: &str = "HUB";

/// The subprotocol a console asks for (beside the one that carries its token), and gets back.
pub const PROTOCOL: &str = "taskrouter-edge.v1";

/// The KV key the worker writes when it could not hand the hub a callback: the hub imports from
/// KV at its next start, and removes it.
pub const IMPORT_DUE_KEY: &str = "hub:import-due";
