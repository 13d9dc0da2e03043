//! The reservation model: SIDs, statuses, times and the stored record.

pub mod attributes;
pub mod reservation;
pub mod sid;
pub mod status;
pub mod summary;
mod text;
pub mod timeouts;
pub mod timestamp;

pub use attributes::{Attributes, json_depth};
pub use reservation::{AnswerSummary, Reservation, StatusMove, TransitionError};
pub use sid::{
    AccountSid, ActivitySid, ReservationSid, SidError, TaskQueueSid, TaskSid, WorkerSid, WorkflowSid, WorkspaceSid,
};
pub use status::{ReportedStatus, Status, StatusSource, TaskEnding, UnknownStatus};
pub use summary::Summary;
pub use timeouts::ReservationTimeouts;
pub use timestamp::Timestamp;

/// Every variant's name as strum derives it is the one serde writes: one spelling per enum.
#[cfg(test)]
pub(crate) fn assert_names_agree<T>()
where
    T: strum::VariantArray + serde::Serialize + Copy + Into<&'static str> + std::fmt::Debug,
{
    for variant in T::VARIANTS {
        let name: &'static str = (*variant).into();
        assert_eq!(serde_json::to_value(variant).unwrap(), serde_json::Value::String(name.into()), "{variant:?}");
    }
}
