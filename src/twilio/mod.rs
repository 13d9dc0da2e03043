//! What TaskRouter sends: form bodies, their signature, and the assignment callback.

pub mod callback;
pub mod form;
pub mod signature;

pub use callback::{AssignmentCallback, CallbackError};
pub use form::{FormError, FormParams};
