//! How long TaskRouter keeps a reservation pending: each Workflow's `TaskReservationTimeout`.

use std::collections::BTreeMap;

use super::WorkflowSid;

/// The reservation timeout of each Workflow the worker was told about, and the one assumed for
/// any other (Twilio's default is 120 s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationTimeouts {
    pub default_seconds: u64,
    pub per_workflow: BTreeMap<WorkflowSid, u64>,
}

impl ReservationTimeouts {
    /// The same timeout for every Workflow (the tests' default).
    #[cfg(test)]
    pub fn uniform(seconds: u64) -> ReservationTimeouts {
        ReservationTimeouts { default_seconds: seconds, per_workflow: BTreeMap::new() }
    }

    /// The longest timeout of any Workflow: no reservation older than this can still be pending.
    pub fn longest_seconds(&self) -> u64 {
        self.per_workflow.values().copied().chain([self.default_seconds]).max().unwrap_or(self.default_seconds)
    }

    /// The timeout of a reservation made by `workflow` (unknown for records written before the
    /// Workflow was recorded, or made from an event without one).
    pub fn seconds_for(&self, workflow: Option<&WorkflowSid>) -> u64 {
        workflow.and_then(|sid| self.per_workflow.get(sid)).copied().unwrap_or(self.default_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_workflow_has_its_own_timeout_and_others_the_default() {
        let slow: WorkflowSid = format!("WW{}", "1".repeat(32)).parse().unwrap();
        let other: WorkflowSid = format!("WW{}", "2".repeat(32)).parse().unwrap();
        let timeouts =
            ReservationTimeouts { default_seconds: 120, per_workflow: BTreeMap::from([(slow.clone(), 600)]) };
        assert_eq!(timeouts.seconds_for(Some(&slow)), 600);
        assert_eq!(timeouts.seconds_for(Some(&other)), 120);
        assert_eq!(timeouts.seconds_for(None), 120);
    }
}
