//! taskrouter-edge: a Twilio TaskRouter Assignment Callback URL on Cloudflare Workers.
//!
//! This crate is the Worker's glue over `taskrouter_core`, which holds everything the worker
//! knows and decides:
//!
//! - `web`: HTTP (routes, errors as answers, request logs) and the Worker itself: its entry
//!   point, handlers, Workers KV and TaskRouter's REST API over `fetch`;
//! - `durable`: the hub's Durable Object, its SQLite and the worker's client of it.

mod durable;
mod web;
