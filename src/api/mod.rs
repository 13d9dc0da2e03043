//! The worker's HTTP handlers: each reads its request, calls the pure core and returns a
//! [`Reply`](crate::http::Reply) or an [`ApiError`](crate::error::ApiError).

pub mod activities;
pub mod assignment_callback;
pub mod console;
pub mod context;
pub mod events;
pub mod executor;
pub mod health;
pub mod request;
pub mod reservations;
pub mod taskrouter;

use std::future::Future;
use std::pin::Pin;

pub use context::Context;

/// A future behind a box, so that its code is functions of its own in the wasm.
///
/// An `.await` inlines the awaited future's state machine into its caller's, so without a box
/// every route the entry point can await was one function of 75 KB. V8 compiles a wasm function
/// whole, when it is first called and again when it runs hot, so a new isolate paid for compiling
/// every route's code at its first requests, whichever route they took: its first 100 refused
/// callbacks cost about 290 ms of CPU, and 180 ms with each route, and the callback's store work,
/// apart (`bench/warmup.mjs`; the baseline in JavaScript: 90 ms). A box costs one allocation.
pub fn apart<'a, T>(future: impl Future<Output = T> + 'a) -> Pin<Box<dyn Future<Output = T> + 'a>> {
    Box::pin(future)
}
