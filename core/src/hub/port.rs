//! The worker's port to the hub: one question, one answer ([`HubPort::ask`]), bounded in time. The
//! worker's implementation is the Durable Object's stub (the Worker's `durable` module); `LocalHub` is
//! the same rules over a host SQLite, for the flows' tests, with a switch that breaks it.

use super::protocol::{HubReply, HubRequest};

/// How long the worker waits for the hub before it gives up: well within TaskRouter's 5 s for a
/// callback, and longer than any answer of a healthy hub.
pub const HUB_TIMEOUT_MS: u64 = 2_000;

/// Why the hub could not be asked; nothing the hub did is known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubError {
    #[error("the worker has no HUB Durable Object binding: add it to wrangler.toml")]
    NotBound,
    #[error("the hub did not answer within {0} ms")]
    TimedOut(u64),
    #[error("the hub failed: {0}")]
    Failed(String),
}

impl HubError {
    /// A reply the question does not take.
    pub fn unexpected(reply: &HubReply) -> HubError {
        HubError::Failed(format!("unexpected answer {}", serde_json::to_string(reply).unwrap_or_default()))
    }
}

/// The hub, as the worker asks it. Not `Send`: a Worker runs on one thread.
#[allow(async_fn_in_trait)]
pub trait HubPort {
    async fn ask(&self, request: HubRequest) -> Result<HubReply, HubError>;
}

#[cfg(test)]
pub use local::LocalHub;

#[cfg(test)]
mod local {
    use std::cell::{Cell, RefCell};

    use super::{HubError, HubPort};
    use crate::hub::ledger::Ledger;
    use crate::hub::protocol::{HubReply, HubRequest};
    use crate::hub::schema::Schema;
    use crate::hub::sql::host::HostSql;
    use crate::models::Timestamp;

    /// The hub's rules over a host SQLite, on a clock that moves only when told.
    pub struct LocalHub {
        pub ledger: RefCell<Ledger<HostSql>>,
        now: Cell<Timestamp>,
        /// While set, every question fails as an unreachable hub's would.
        pub down: Cell<bool>,
        pub asked: Cell<usize>,
        tokens: Cell<u64>,
    }

    impl LocalHub {
        pub fn new(now: Timestamp) -> LocalHub {
            let mut sql = HostSql::default();
            Schema::create(&mut sql).unwrap();
            LocalHub {
                ledger: RefCell::new(Ledger::new(sql)),
                now: Cell::new(now),
                down: Cell::new(false),
                asked: Cell::new(0),
                tokens: Cell::new(0),
            }
        }

        pub fn now(&self) -> Timestamp {
            self.now.get()
        }

        pub fn advance(&self, ms: u64) {
            self.now.set(Timestamp::from_millis(self.now.get().as_millis() + ms));
        }
    }

    impl HubPort for LocalHub {
        async fn ask(&self, request: HubRequest) -> Result<HubReply, HubError> {
            self.asked.set(self.asked.get() + 1);
            if self.down.get() {
                return Err(HubError::Failed("the hub is down (test)".into()));
            }
            let token = || {
                self.tokens.set(self.tokens.get() + 1);
                format!("token-{}", self.tokens.get())
            };
            let answer = self.ledger.borrow_mut().answer(request, self.now.get(), token);
            answer.map(|answer| answer.reply).map_err(|fault| HubError::Failed(fault.to_string()))
        }
    }
}
