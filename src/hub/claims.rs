//! One decision per reservation. An accept or a reject at the edge is claimed from the hub
//! before anyone calls TaskRouter; the hub grants one claim at a time, and none once the
//! reservation left `pending`. A claim nobody settles (the worker that held it was cut off) lapses
//! after [`CLAIM_LEASE_MS`], longer than a decision can take.

use serde::{Deserialize, Serialize};

use crate::models::{Status, Timestamp};
use crate::twilio::rest::LONGEST_DECISION_MS;

/// How long a claim holds without being settled or released: longer than the longest decision
/// (retries and read-backs included), so that a slow decision is never joined by a second one.
/// A reservation that times out at TaskRouter meanwhile is settled by its event, sooner.
pub const CLAIM_LEASE_MS: u64 = LONGEST_DECISION_MS + 10_000;

/// What is decided: TaskRouter's two answers to a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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
}

/// A claim the hub holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub decision: Decision,
    pub since: Timestamp,
}

/// The hub's answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Go ahead: call TaskRouter, then settle or release.
    Granted,
    /// Another decision is being taken now.
    InFlight(Claim),
    /// The reservation already left `pending`, as the hub was told.
    Settled { status: Status, at: Timestamp },
}

/// The rule, from what the hub knows: the reservation's status and when it was set, if it was
/// told of it, and the claim it holds, if any.
pub fn judge(status: Option<(Status, Timestamp)>, held: Option<Claim>, now: Timestamp) -> Verdict {
    if let Some((status, at)) = status.filter(|(status, _)| *status != Status::Pending) {
        return Verdict::Settled { status, at };
    }
    match held {
        Some(claim) if claim.since.age_ms(now) < CLAIM_LEASE_MS => Verdict::InFlight(claim),
        _ => Verdict::Granted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn one_claim_at_a_time_and_none_after_the_reservation_settled() {
        let claim = Claim { decision: Decision::Accept, since: at(1_000) };
        assert_eq!(judge(None, None, at(1_000)), Verdict::Granted, "nothing known: go ahead");
        assert_eq!(judge(Some((Status::Pending, at(0))), None, at(1_000)), Verdict::Granted);
        assert_eq!(judge(Some((Status::Pending, at(0))), Some(claim), at(2_000)), Verdict::InFlight(claim));
        assert_eq!(
            judge(Some((Status::Accepted, at(1_500))), Some(claim), at(2_000)),
            Verdict::Settled { status: Status::Accepted, at: at(1_500) },
            "a settled status wins over a claim"
        );
        assert_eq!(
            judge(Some((Status::Timeout, at(1_500))), None, at(2_000)),
            Verdict::Settled { status: Status::Timeout, at: at(1_500) }
        );
    }

    #[test]
    fn a_claim_nobody_settled_lapses() {
        let claim = Claim { decision: Decision::Reject, since: at(0) };
        assert_eq!(judge(None, Some(claim), at(CLAIM_LEASE_MS - 1)), Verdict::InFlight(claim));
        assert_eq!(judge(None, Some(claim), at(CLAIM_LEASE_MS)), Verdict::Granted);
    }

    #[test]
    fn verdicts_travel_as_json() {
        let settled = Verdict::Settled { status: Status::Accepted, at: at(5) };
        let text = serde_json::to_string(&settled).unwrap();
        assert_eq!(text, r#"{"settled":{"status":"accepted","at":"1970-01-01T00:00:00.005Z"}}"#);
        assert_eq!(serde_json::from_str::<Verdict>(&text).unwrap(), settled);
        assert_eq!(serde_json::to_string(&Verdict::Granted).unwrap(), r#""granted""#);
        assert_eq!(Decision::Reject.status(), Status::Rejected);
    }
}
