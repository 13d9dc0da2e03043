//! One module per route (see `super::routes`): each reads its request, runs a flow and answers a
//! [`Reply`](super::http::Reply) or an [`ApiError`](super::error::ApiError).

pub mod activities;
pub mod assignment_callback;
pub mod console;
pub mod event_streams;
pub mod events;
pub mod health;
pub mod live;
pub mod me;
pub mod reservations;
