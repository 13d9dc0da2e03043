//! The catch-up's schedule: the hub's one alarm. A change that leaves anything open sets it
//! (`CATCH_UP_SECONDS` ahead) when none is set; each run ([`taskrouter_core::flows::catch_up`]) sets the
//! next while reservations stay open, four periods ahead after TaskRouter answered `429`. With
//! nothing open, no alarm is left: an idle hub costs nothing.

use std::time::Duration;

use worker::console_log;

use super::object::Hub;
use crate::web::context::now;
use crate::web::taskrouter::Records;
use taskrouter_core::flows::catch_up::catch_up;
use taskrouter_core::hub::port::{self, HubError};
use taskrouter_core::hub::protocol::{HubReply, HubRequest};

/// How many periods a run waits after TaskRouter asked it to slow down.
const RATE_LIMITED_PERIODS: u64 = 4;

/// The hub, asked from inside itself: the questions a run asks are answered, pushed to the
/// consoles and logged as any other.
struct Here<'a>(&'a Hub);

impl port::HubPort for Here<'_> {
    async fn ask(&self, request: HubRequest) -> Result<HubReply, HubError> {
        self.0
            .answer(request, "hub catch-up")
            .map(|(reply, _)| reply)
            .map_err(|fault| HubError::Failed(fault.to_string()))
    }
}

impl Hub {
    /// The period between runs in ms, if catching up is on and the worker can sign in to
    /// TaskRouter at all.
    fn catch_up_period_ms(&self) -> Option<u64> {
        Some(self.context.config().ok()?.catch_up_every()? * 1000)
    }

    async fn set_alarm_in(&self, delay_ms: u64) {
        if self.state.storage().set_alarm(Duration::from_millis(delay_ms)).await.is_ok() {
            self.alarm_at.set(Some(now().as_millis() + delay_ms));
        }
    }

    /// Sets the alarm one period ahead unless one is set. Known to this start, this costs
    /// nothing; otherwise one storage read, and a write when none was set.
    pub(super) async fn ensure_catch_up(&self) {
        let Some(period) = self.catch_up_period_ms() else { return };
        if self.alarm_at.get().is_some_and(|at| at > now().as_millis()) {
            return;
        }
        match self.state.storage().get_alarm().await {
            Ok(Some(at)) => self.alarm_at.set(u64::try_from(at).ok()),
            Ok(None) => self.set_alarm_in(period).await,
            Err(_) => {}
        }
    }

    /// One run, then the next alarm if anything is still open.
    pub(super) async fn catch_up(&self) {
        self.alarm_at.set(None);
        let Some(period) = self.catch_up_period_ms() else { return };
        self.import_if_due().await;
        let (Ok(config), Ok(store)) = (self.context.config(), self.context.store()) else { return };
        let result = catch_up(&store, &Here(self), &Records { config }, &config.reservation_timeouts, now()).await;
        let line = match &result {
            Ok(caught) => serde_json::json!({
                "route": "hub catch-up",
                "outcome": if caught.report.errors.is_empty() { "caught_up" } else { "caught_up_in_part" },
                "events_read": caught.report.events_read,
                "read_back": caught.report.read_back,
                "corrected": caught.report.corrected,
                "gone": caught.report.gone,
                "errors": caught.report.errors,
                "rate_limited": caught.rate_limited,
            }),
            Err(error) => {
                serde_json::json!({ "route": "hub catch-up", "outcome": "failed", "error": error.to_string() })
            }
        };
        console_log!("{line}");
        let open = self.ledger.borrow_mut().open_count().unwrap_or(1);
        if open > 0 {
            let rate_limited = result.as_ref().is_ok_and(|caught| caught.rate_limited);
            self.set_alarm_in(if rate_limited { period * RATE_LIMITED_PERIODS } else { period }).await;
        }
    }
}
