//! The worker's HTTP side: the route table ([`routes`]), every error as an answer ([`error`], the
//! one place errors become status codes), who may call ([`auth`]), the HTTP rules and the reply
//! ([`http`]), the request log line ([`log`]) and the API's description ([`openapi`]); then the
//! Worker itself: its entry point, the handlers, Workers KV behind
//! [`taskrouter_core::store::Kv`] and TaskRouter's REST API over the runtime's `fetch`. The hub's
//! Durable Object and its client are `crate::durable`.
//!
//! All of it builds on the host too (workers-rs's bindings compile there, and panic only if
//! called), so `cargo test` runs the HTTP rules' tests; the runtime parts run in workerd.

pub mod auth;
pub mod error;
pub mod http;
pub mod log;
pub mod openapi;
pub mod routes;

mod access;
mod after;
pub(crate) mod context;
mod entry;
mod handlers;
mod kv;
mod request;
pub(crate) mod taskrouter;
