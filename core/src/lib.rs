//! taskrouter-core: what taskrouter-edge knows and decides, in plain Rust.
//!
//! The Worker (`taskrouter-edge`), the `reservations` CLI and `cargo test` on the host all build
//! this crate as it is; it does not know the `worker` crate or any runtime. The modules, from the
//! bottom up:
//!
//! - [`models`]: SIDs, statuses, times, attributes and the stored record;
//! - [`twilio`]: what TaskRouter sends (forms, signatures, events) and what its REST API answers;
//! - [`instructions`]: `ASSIGNMENT_INSTRUCTION`, the answer to each assignment callback;
//! - [`access`]: who an operator is (Cloudflare Access's JWT, or the shared token);
//! - [`config`]: the worker's variables, read and checked once;
//! - [`store`]: the key layout over a small [`store::Kv`] interface, with an in-memory twin;
//! - [`hub`]: the hub's tables and rules, and the port the flows reach it through;
//! - [`flows`]: what each request decides, over those ports.

pub mod access;
pub mod config;
pub mod flows;
pub mod hub;
pub mod instructions;
pub mod models;
pub mod store;
pub mod twilio;
