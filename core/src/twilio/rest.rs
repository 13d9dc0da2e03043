//! TaskRouter's REST API as both clients call it (the CLI over reqwest, the worker over the
//! runtime's `fetch`): the one retry rule, the reservation update, and Twilio's errors in plain
//! words.
//!
//! One retry rule, two kinds of request. A read ([`Repeat::Freely`]) is tried again after a
//! `429`, a `5xx`, a refused or dropped connection or a timeout: reading twice does no harm. An
//! update ([`Repeat::IfUnsent`]) is tried again only when it surely did not happen: after a `429`
//! or a connection refused before anything was sent. A `5xx`, a timeout or a connection dropped
//! after sending leaves it unknown whether Twilio applied the update; the caller reads the
//! resource back before deciding anything (see [`crate::flows::decide`]).

use serde::{Deserialize, Serialize};

use crate::models::{ActivitySid, ReservationSid, Status, TaskQueueSid, TaskSid, WorkerSid, WorkspaceSid};

/// Attempts in all, and the first delay (doubled after each attempt).
pub const ATTEMPTS: u32 = 4;
const FIRST_DELAY_MS: u64 = 250;
/// The longest `Retry-After` honoured; a longer one is capped.
const MAX_DELAY_MS: u64 = 5_000;
/// How long one request may wait for its answer before it counts as unanswered, in the worker
/// and in the CLI.
pub const ANSWER_TIMEOUT_MS: u64 = 10_000;

/// The longest a decision can take ([`crate::flows::decide`]): up to [`ATTEMPTS`] updates, each
/// read back, each of those requests sent up to [`ATTEMPTS`] times, waiting its whole
/// [`ANSWER_TIMEOUT_MS`] and the longest pause in between. A claim on the decision must outlast
/// it.
pub const LONGEST_DECISION_MS: u64 = {
    let one_request = ATTEMPTS as u64 * ANSWER_TIMEOUT_MS + (ATTEMPTS as u64 - 1) * MAX_DELAY_MS;
    ATTEMPTS as u64 * 2 * one_request
};

/// Whether a request may be sent again as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// A read: any failure that may pass is retried.
    Freely,
    /// An update: retried only when it was surely not applied.
    IfUnsent,
}

/// Whether an answer with this HTTP status is worth sending the request again for.
pub fn is_retried(status: u16, repeat: Repeat) -> bool {
    status == 429 || (repeat == Repeat::Freely && (500..600).contains(&status))
}

/// How long to wait before attempt `attempt + 1`: the answer's `Retry-After` (in seconds) when it
/// has one, exponential backoff otherwise, capped either way.
pub fn retry_delay_ms(attempt: u32, retry_after: Option<&str>) -> u64 {
    let asked = retry_after.and_then(|value| value.trim().parse::<u64>().ok()).map(|secs| secs.saturating_mul(1000));
    asked.unwrap_or(FIRST_DELAY_MS << attempt.saturating_sub(1).min(16)).min(MAX_DELAY_MS)
}

/// `/v1/Workspaces/{WS}/Tasks/{WT}/Reservations/{WR}`, after the API's base URL.
pub fn reservation_path(workspace: &WorkspaceSid, task: &TaskSid, reservation: &ReservationSid) -> String {
    format!("/v1/Workspaces/{workspace}/Tasks/{task}/Reservations/{reservation}")
}

/// The form of a reservation update: `ReservationStatus`, and `WorkerActivitySid` on reject.
pub fn update_form(status: Status, activity: Option<&ActivitySid>) -> Vec<(&'static str, String)> {
    let mut form = vec![("ReservationStatus", status.to_string())];
    if let Some(activity) = activity {
        form.push(("WorkerActivitySid", activity.to_string()));
    }
    form
}

/// The fields of Twilio's Reservation resource that are read back.
#[derive(Debug, Clone, Deserialize)]
pub struct TwilioReservation {
    pub sid: String,
    pub reservation_status: String,
}

impl TwilioReservation {
    pub fn status(&self) -> Option<Status> {
        self.reservation_status.parse().ok()
    }

    /// Twilio's answer must be about the reservation asked for: a record about another SID is
    /// an unexpected answer, never a status to believe.
    pub fn check_is(&self, asked: &ReservationSid) -> Result<(), String> {
        if self.sid == asked.as_str() {
            Ok(())
        } else {
            Err(format!("reservation {} when {asked} was asked for", self.sid))
        }
    }
}

/// Twilio's JSON error body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TwilioErrorBody {
    pub code: Option<u64>,
    pub message: Option<String>,
    pub more_info: Option<String>,
}

/// Twilio's refusal in plain words: what it means for the operator, then Twilio's own code,
/// message and link. `retried`: whether the request was sent [`ATTEMPTS`] times before this.
pub fn describe(status: u16, body: &TwilioErrorBody, retried: bool) -> String {
    let what = match status {
        401 => "Twilio rejected the credentials: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)".to_owned(),
        404 => "Twilio does not know this resource (wrong Workspace, Task or Reservation SID, or another account)".to_owned(),
        429 => format!("Twilio is rate-limiting these requests; gave up after {ATTEMPTS} attempts"),
        500..=599 if retried => format!("Twilio failed with {status}; gave up after {ATTEMPTS} attempts"),
        500..=599 => format!("Twilio failed with {status}"),
        _ => format!("Twilio refused the request ({status})"),
    };
    let code = body.code.map(|code| format!(" [error {code}]")).unwrap_or_default();
    let message = body.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default();
    let more = body.more_info.as_deref().map(|m| format!(" (see {m})")).unwrap_or_default();
    format!("{what}{code}{message}{more}")
}

/// What went wrong asking Twilio, for the worker (the CLI has its own, with reqwest's causes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    #[error("{}", describe(*.status, .body, *.retried))]
    Refused { status: u16, body: TwilioErrorBody, retried: bool },
    /// An update got no answer in time, or one that broke off: it may or may not have been
    /// applied.
    #[error("the answer from Twilio was lost ({0})")]
    Lost(String),
    /// An update's connection failed. The runtime reports a refused connection and a dropped one
    /// alike, so it may or may not have reached Twilio.
    #[error("the connection to Twilio failed ({0})")]
    Dropped(String),
    /// A read failed at every attempt without any answer.
    #[error("could not reach Twilio after {ATTEMPTS} attempts {0}")]
    Unreachable(String),
    #[error("Twilio answered something unexpected: {0}")]
    Unexpected(String),
}

/// What an answer that could not be read as expected said: the reason, then the answer's first
/// 200 characters. Used by both clients (the worker's and the CLI's).
pub fn unexpected_answer(error: impl std::fmt::Display, body: &[u8]) -> String {
    let start: String = String::from_utf8_lossy(body).chars().take(200).collect();
    format!("{error}: {start}")
}

/// Twilio's answer to a request that was not a success, as a [`RestError`]. Whether it came
/// after every attempt follows the retry rule for the request's kind: an update that met a `5xx`
/// was sent once.
pub fn refused(status: u16, body: &[u8], repeat: Repeat) -> RestError {
    let body = serde_json::from_slice(body).unwrap_or_default();
    RestError::Refused { status, body, retried: is_retried(status, repeat) }
}

/// One of a Workspace's activities, for the reject menu.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Activity {
    pub sid: ActivitySid,
    pub friendly_name: String,
    pub available: bool,
}

/// A page of `GET /v1/Workspaces/{WS}/Activities`.
#[derive(Debug, Clone, Deserialize)]
pub struct ActivityPage {
    pub activities: Vec<Activity>,
}

/// `GET /v1/Workspaces/{WS}/Workers/{WK}`: the Worker's name, as TaskRouter's console shows it.
pub fn worker_path(workspace: &WorkspaceSid, worker: &WorkerSid) -> String {
    format!("/v1/Workspaces/{workspace}/Workers/{worker}")
}

/// `GET /v1/Workspaces/{WS}/TaskQueues/{WQ}`.
pub fn task_queue_path(workspace: &WorkspaceSid, queue: &TaskQueueSid) -> String {
    format!("/v1/Workspaces/{workspace}/TaskQueues/{queue}")
}

/// The one field read of a Worker or a TaskQueue.
#[derive(Debug, Clone, Deserialize)]
pub struct FriendlyName {
    #[serde(default)]
    pub friendly_name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_retry_rate_limits_and_server_errors_only() {
        for status in [429, 500, 503] {
            assert!(is_retried(status, Repeat::Freely), "{status}");
        }
        for status in [400, 401, 404] {
            assert!(!is_retried(status, Repeat::Freely), "{status}");
        }
    }

    #[test]
    fn updates_retry_only_what_surely_did_not_happen() {
        assert!(is_retried(429, Repeat::IfUnsent));
        assert!(!is_retried(503, Repeat::IfUnsent));
        assert!(!is_retried(500, Repeat::IfUnsent));
    }

    #[test]
    fn backoff_doubles_and_is_capped_and_retry_after_wins() {
        assert_eq!([1, 2, 3, 10].map(|attempt| retry_delay_ms(attempt, None)), [250, 500, 1000, MAX_DELAY_MS]);
        assert_eq!(retry_delay_ms(1, Some(" 2 ")), 2000);
        assert_eq!(retry_delay_ms(1, Some("3600")), MAX_DELAY_MS);
        assert_eq!(retry_delay_ms(2, Some("Wed, 21 Oct 2015 07:28:00 GMT")), 500);
    }

    fn body(code: u64, message: &str) -> TwilioErrorBody {
        TwilioErrorBody {
            code: Some(code),
            message: Some(message.into()),
            more_info: Some(format!("https://www.twilio.com/docs/errors/{code}")),
        }
    }

    #[test]
    fn twilio_errors_read_as_plain_words() {
        assert_eq!(
            describe(401, &body(20003, "Authenticate"), false),
            "Twilio rejected the credentials: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET) [error 20003]: Authenticate (see https://www.twilio.com/docs/errors/20003)"
        );
        assert_eq!(
            describe(503, &TwilioErrorBody::default(), true),
            "Twilio failed with 503; gave up after 4 attempts"
        );
    }

    #[test]
    fn a_refusal_keeps_twilios_words_and_says_whether_it_may_have_applied() {
        let body = br#"{"code":20001,"message":"Reservation is not in expected state [pending]","more_info":"https://www.twilio.com/docs/errors/20001","status":400}"#;
        let not_pending = refused(400, body, Repeat::IfUnsent);
        assert!(matches!(not_pending, RestError::Refused { status: 400, retried: false, .. }));
        assert_eq!(
            not_pending.to_string(),
            "Twilio refused the request (400) [error 20001]: Reservation is not in expected state [pending] (see https://www.twilio.com/docs/errors/20001)"
        );
        assert_eq!(
            refused(502, b"<html>", Repeat::IfUnsent).to_string(),
            "Twilio failed with 502",
            "an answer that is not JSON"
        );
    }

    #[test]
    fn only_a_request_that_was_retried_says_it_gave_up() {
        // An update is never sent again after a 5xx (it may have been applied); a read is.
        assert_eq!(refused(503, b"", Repeat::IfUnsent).to_string(), "Twilio failed with 503");
        assert_eq!(refused(503, b"", Repeat::Freely).to_string(), "Twilio failed with 503; gave up after 4 attempts");
        assert_eq!(
            refused(429, b"", Repeat::IfUnsent).to_string(),
            "Twilio is rate-limiting these requests; gave up after 4 attempts"
        );
    }

    #[test]
    fn an_update_names_the_activity_on_reject_only() {
        let activity: ActivitySid = format!("WA{}", "a".repeat(32)).parse().unwrap();
        assert_eq!(update_form(Status::Accepted, None), vec![("ReservationStatus", "accepted".to_owned())]);
        assert_eq!(update_form(Status::Rejected, Some(&activity))[1], ("WorkerActivitySid", activity.to_string()));
    }
}
