//! One decision per reservation. An accept or a reject is claimed from the hub before anyone
//! calls TaskRouter. The hub grants one claim at a time, only on a reservation it holds, and none
//! once the reservation left `pending`. A claim has an owner, who gets a token back: only that
//! token releases it or settles it. A claim nobody settles (its outcome is unknown, or the client
//! was cut off) lapses at [`claim_until`]: by the reservation's own timeout at the latest, when
//! TaskRouter has decided for everyone.

use serde::{Deserialize, Serialize};

use crate::models::{Status, Timestamp};
use crate::twilio::rest::LONGEST_DECISION_MS;

/// The longest a claim holds, whatever the reservation's timeout: longer than the longest
/// decision (retries and read-backs included), so a slow decision is never joined by a second.
pub const CLAIM_LEASE_MS: u64 = LONGEST_DECISION_MS + 10_000;

/// The shortest a claim holds, even on a reservation already past its timeout: TaskRouter
/// answers such a decision at once (it is no longer pending).
pub const MIN_CLAIM_MS: u64 = 30_000;

/// What is decided: TaskRouter's two answers to a reservation.
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
pub enum Decision {
    Accept,
    Reject,
}

impl Decision {
    /// The status TaskRouter gives a reservation this decision applies to.
    pub fn status(self) -> Status {
        match self {
            Decision::Accept => Status::Accepted,
            Decision::Reject => Status::Rejected,
        }
    }

    /// Its name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A claim the hub holds, as anyone may see it (its token is its owner's alone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub decision: Decision,
    /// The client that took it: `edge` for a decision the worker takes, or the client's label.
    pub owner: String,
    /// Who: the person's email, the service token's name, or `operator token`.
    pub actor: String,
    pub since: Timestamp,
    /// When it lapses if nobody settles or releases it.
    pub until: Timestamp,
}

/// When a claim taken at `now` lapses, for a reservation TaskRouter times out at `expires`:
/// at the reservation's timeout, but never sooner than [`MIN_CLAIM_MS`] nor later than
/// [`CLAIM_LEASE_MS`] from now.
pub fn claim_until(now: Timestamp, expires: Timestamp) -> Timestamp {
    let floor = now.as_millis() + MIN_CLAIM_MS;
    let ceiling = now.as_millis() + CLAIM_LEASE_MS;
    Timestamp::from_millis(expires.as_millis().clamp(floor, ceiling))
}

/// The longest an owner label is kept.
pub const OWNER_CHARS: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn a_claim_ends_with_the_reservations_timeout_within_bounds() {
        let now = 1_000_000;
        assert_eq!(claim_until(at(now), at(now + 120_000)), at(now + 120_000), "a two-minute reservation");
        assert_eq!(claim_until(at(now), at(now - 5_000)), at(now + MIN_CLAIM_MS), "already past its timeout");
        assert_eq!(claim_until(at(now), at(now + 86_400_000)), at(now + CLAIM_LEASE_MS), "a day-long one");
        assert_eq!(Decision::Reject.status(), Status::Rejected);
        assert_eq!(serde_json::to_string(&Decision::Accept).unwrap(), r#""accept""#);
    }
}
