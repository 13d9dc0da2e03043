//! taskrouter-edge: a Twilio TaskRouter Assignment Callback URL on Cloudflare Workers.
//!
//! The modules, from the bottom up:
//!
//! - [`models`]: SIDs, statuses, times, attributes and the stored record;
//! - [`twilio`]: what TaskRouter sends (forms, signatures, events) and what its REST API answers;
//! - [`instructions`]: `ASSIGNMENT_INSTRUCTION`, the answer to each assignment callback;
//! - [`access`]: who an operator is (Cloudflare Access's JWT, or the shared token);
//! - [`config`]: the worker's variables, read and checked once;
//! - [`store`]: the key layout over a small [`store::Kv`] interface, with an in-memory twin;
//! - [`flows`]: what each request decides, over that interface;
//! - [`web`]: HTTP (routes, errors as answers, request logs) and, on wasm32 only, the Worker
//!   itself: its entry point, handlers, Workers KV and TaskRouter's REST API.
//!
//! Everything but the wasm32-only part of `web` is plain Rust, tested on the host; the
//! `reservations` CLI reuses it.

pub mod access;
pub mod config;
pub mod flows;
pub mod hub;
pub mod instructions;
pub mod models;
pub mod store;
pub mod twilio;
pub mod web;
