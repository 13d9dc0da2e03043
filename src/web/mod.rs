//! The worker's HTTP side. On every target: the route table ([`routes`]), every error as an
//! answer ([`error`], the one place errors become status codes), who may call ([`auth`]), the
//! HTTP rules and the reply ([`http`]), the request log line ([`log`]), and the API's
//! description ([`openapi`]). On wasm32 only: the Worker itself, that is its entry point, the
//! handlers, Workers KV behind [`crate::store::Kv`], TaskRouter's REST API over the runtime's
//! `fetch`, and the live hub (a Durable Object) with the worker's client of it.

pub mod auth;
pub mod error;
pub mod http;
pub mod log;
pub mod openapi;
pub mod routes;

#[cfg(target_arch = "wasm32")]
mod after;
#[cfg(target_arch = "wasm32")]
mod context;
#[cfg(target_arch = "wasm32")]
mod entry;
#[cfg(target_arch = "wasm32")]
mod handlers;
#[cfg(target_arch = "wasm32")]
mod hub_client;
#[cfg(target_arch = "wasm32")]
mod hub_decisions;
#[cfg(target_arch = "wasm32")]
pub mod hub_object;
#[cfg(target_arch = "wasm32")]
mod hub_tables;
#[cfg(target_arch = "wasm32")]
mod kv;
#[cfg(target_arch = "wasm32")]
mod request;
#[cfg(target_arch = "wasm32")]
mod taskrouter;
