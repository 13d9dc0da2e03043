//! The operator API under `/reservations`, behind the bearer token.

pub mod decide;
pub mod list;
pub mod show;
pub mod update_status;

use crate::error::ApiError;
use crate::models::ReservationSid;

fn sid_from_path(raw: &str) -> Result<ReservationSid, ApiError> {
    Ok(raw.parse()?)
}
