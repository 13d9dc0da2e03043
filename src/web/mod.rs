//! The worker's HTTP side. On every target: the route table ([`routes`]), every error as an
//! answer ([`error`], the one place errors become status codes), who may call ([`auth`]), the
//! HTTP rules and the reply ([`http`]), the request log line ([`log`]), and the API's
//! description ([`openapi`]). On wasm32 only: the Worker itself, that is its entry point, the
//! handlers, Workers KV behind [`crate::store::Kv`], TaskRouter's REST API over the runtime's
//! `fetch`. The hub, its Durable Object and its client, is `crate::hub`.

pub mod auth;
pub mod error;
pub mod http;
pub mod log;
pub mod openapi;
pub mod routes;

#[cfg(target_arch = "wasm32")]
mod access;
#[cfg(target_arch = "wasm32")]
mod after;
#[cfg(target_arch = "wasm32")]
pub(crate) mod context;
#[cfg(target_arch = "wasm32")]
mod entry;
#[cfg(target_arch = "wasm32")]
mod handlers;
#[cfg(target_arch = "wasm32")]
mod kv;
#[cfg(target_arch = "wasm32")]
mod request;
#[cfg(target_arch = "wasm32")]
pub(crate) mod taskrouter;
