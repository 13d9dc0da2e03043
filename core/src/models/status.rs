//! A reservation's status and the moves TaskRouter allows between them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// What is stored. `expired` is not here: it is derived at read time (see [`ReportedStatus`]).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Status {
    Pending,
    Accepted,
    Rejected,
    Timeout,
    Canceled,
    Rescinded,
    Wrapping,
    Completed,
    /// TaskRouter's `reservation.failed`: the reservation could not be carried out (for example
    /// the call an instruction placed failed). Not one of the REST API's statuses, so only an
    /// event sets it.
    Failed,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Pending,
        Status::Accepted,
        Status::Rejected,
        Status::Timeout,
        Status::Canceled,
        Status::Rescinded,
        Status::Wrapping,
        Status::Completed,
        Status::Failed,
    ];

    /// Its name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The decision that leads to this status, as a noun for messages (`accept`, `reject`).
    pub fn as_verb(self) -> &'static str {
        match self {
            Status::Accepted => "accept",
            Status::Rejected => "reject",
            other => other.as_str(),
        }
    }

    /// Whether TaskRouter can move a reservation from `self` to `next`. Staying put is not a
    /// move: callers treat `self == next` as already done.
    pub fn can_move_to(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (Pending, Accepted | Rejected | Timeout | Canceled | Rescinded | Failed)
                | (Accepted, Wrapping | Completed | Failed)
                | (Wrapping, Completed)
        )
    }

    /// Whether `next` lies ahead of `self` in one move or more. TaskRouter's events may arrive
    /// out of order or not at all, so an event may skip a step (`pending` → `completed`), but
    /// never go back.
    pub fn can_reach(self, next: Status) -> bool {
        self.next_statuses().into_iter().any(|step| step == next || step.can_reach(next))
    }

    /// The statuses reachable from `self` in one move.
    pub fn next_statuses(self) -> Vec<Status> {
        Status::ALL.into_iter().filter(|next| self.can_move_to(*next)).collect()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`Status::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown status {given:?}: use one of pending, accepted, rejected, timeout, canceled, rescinded, wrapping, completed, failed"
)]
pub struct UnknownStatus {
    pub given: String,
}

impl FromStr for Status {
    type Err = UnknownStatus;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
            .ok_or_else(|| UnknownStatus { given: value.to_owned() })
    }
}

/// The status an operator is shown: the stored one, or `expired` for a pending reservation
/// older than the Workflow's reservation timeout (TaskRouter has timed it out by then, even if
/// no event said so).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ReportedStatus {
    Stored(Status),
    Expired(ExpiredTag),
}

/// Serializes as the string `"expired"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpiredTag {
    Expired,
}

impl<'de> Deserialize<'de> for ReportedStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::text::parsed(deserializer)
    }
}

impl ReportedStatus {
    pub const EXPIRED: ReportedStatus = ReportedStatus::Expired(ExpiredTag::Expired);

    pub fn derive(stored: Status, age_ms: u64, timeout_secs: u64) -> ReportedStatus {
        if stored == Status::Pending && age_ms > timeout_secs.saturating_mul(1000) {
            ReportedStatus::EXPIRED
        } else {
            ReportedStatus::Stored(stored)
        }
    }
}

impl FromStr for ReportedStatus {
    type Err = UnknownStatus;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value == "expired" {
            return Ok(ReportedStatus::EXPIRED);
        }
        value.parse().map(ReportedStatus::Stored).map_err(|_| UnknownStatus { given: value.to_owned() })
    }
}

/// How a task ended, which decides what becomes of its reservations.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum TaskEnding {
    Canceled,
    Completed,
    Deleted,
}

impl TaskEnding {
    /// Its name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// What a reservation of the ended task becomes, if anything: a pending one can no longer
    /// be accepted, so it is `canceled`; a completed task completes its accepted reservation.
    pub fn status_for(self, current: Status) -> Option<Status> {
        match (self, current) {
            (_, Status::Pending) => Some(Status::Canceled),
            (TaskEnding::Completed, Status::Accepted | Status::Wrapping) => Some(Status::Completed),
            _ => None,
        }
    }
}

/// Who set the current status.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum StatusSource {
    /// TaskRouter's assignment callback (a new reservation, or the instruction we answered).
    Callback,
    /// A TaskRouter event callback.
    Event,
    /// An operator, through the API (the CLI after Twilio answered).
    Operator,
}

impl StatusSource {
    /// Its name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    /// Every pair of statuses, checked against the README's status model.
    #[test]
    fn transitions_are_exactly_the_documented_ones() {
        let allowed = [
            (Pending, Accepted),
            (Pending, Rejected),
            (Pending, Timeout),
            (Pending, Canceled),
            (Pending, Rescinded),
            (Pending, Failed),
            (Accepted, Wrapping),
            (Accepted, Completed),
            (Accepted, Failed),
            (Wrapping, Completed),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                assert_eq!(from.can_move_to(to), allowed.contains(&(from, to)), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn reachability_is_the_closure_of_the_moves() {
        for from in Status::ALL {
            for to in Status::ALL {
                let through = Status::ALL.iter().any(|mid| from.can_move_to(*mid) && mid.can_move_to(to));
                let through_two = Status::ALL.iter().any(|a| {
                    Status::ALL.iter().any(|b| from.can_move_to(*a) && a.can_move_to(*b) && b.can_move_to(to))
                });
                assert_eq!(from.can_reach(to), from.can_move_to(to) || through || through_two, "{from} -> {to}");
            }
        }
        assert!(Pending.can_reach(Completed) && Pending.can_reach(Wrapping));
        assert!(!Completed.can_reach(Accepted) && !Accepted.can_reach(Pending));
        assert!(!Rejected.can_reach(Accepted), "a final status is final");
    }

    #[test]
    fn nothing_moves_back_to_pending() {
        for from in Status::ALL {
            assert!(!from.can_move_to(Pending) && !from.can_reach(Pending), "{from} -> pending");
        }
    }

    #[test]
    fn final_statuses_have_no_way_out() {
        for status in [Rejected, Timeout, Canceled, Rescinded, Completed, Failed] {
            assert!(status.next_statuses().is_empty(), "{status}");
        }
        assert_eq!(Accepted.next_statuses(), vec![Wrapping, Completed, Failed]);
    }

    #[test]
    fn names_round_trip() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>().unwrap(), status);
            assert_eq!(serde_json::to_string(&status).unwrap(), format!("\"{status}\""));
        }
        let err = "done".parse::<Status>().unwrap_err();
        assert!(err.to_string().contains("unknown status \"done\""));
        assert!("expired".parse::<Status>().is_err());
    }

    #[test]
    fn expiry_is_derived_only_for_old_pending_reservations() {
        assert_eq!(ReportedStatus::derive(Pending, 120_000, 120), ReportedStatus::Stored(Pending));
        assert_eq!(ReportedStatus::derive(Pending, 120_001, 120), ReportedStatus::EXPIRED);
        assert_eq!(ReportedStatus::derive(Accepted, 10_000_000, 120), ReportedStatus::Stored(Accepted));
        assert_eq!(serde_json::to_string(&ReportedStatus::EXPIRED).unwrap(), "\"expired\"");
        assert_eq!("expired".parse::<ReportedStatus>().unwrap(), ReportedStatus::EXPIRED);
        assert_eq!("timeout".parse::<ReportedStatus>().unwrap(), ReportedStatus::Stored(Timeout));
    }
}
