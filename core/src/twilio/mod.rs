//! What TaskRouter sends (form bodies, their signature, reservation parameters and events), and
//! what its REST API is asked (`rest`).

pub mod event;
pub mod event_stream;
pub mod events_resource;
pub mod form;
pub mod reservation_params;
pub mod rest;
pub mod signature;
pub mod signed_url;

pub use event::{EventEffect, TaskRouterEvent};
pub use form::{FormError, FormParams};
pub use reservation_params::{ParamsError, ReservationParams};
