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

pub use context::Context;
