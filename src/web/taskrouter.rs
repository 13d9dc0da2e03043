//! TaskRouter's REST API over the runtime's `fetch`, by the project's one retry rule
//! ([`taskrouter_core::twilio::rest`]). What to believe when an update fails is decided in
//! [`taskrouter_core::flows::decide`]; this file only sends and reads.

use std::time::Duration;

use futures_util::future::{Either, select};
use serde::de::DeserializeOwned;
use worker::{Delay, Fetch, Headers, Method, Request, RequestInit};

use crate::web::http::fetch_failure;
use taskrouter_core::config::rest::UnsetSecret;
use taskrouter_core::config::{Config, Secret};
use taskrouter_core::flows::catch_up::{ReadBackFound, ReadError, TaskRouterRecords};
use taskrouter_core::flows::decide::ReservationAtTwilio;
use taskrouter_core::hub::catch_up::{NameOwner, NameToRead, ReadBack};
use taskrouter_core::models::{AccountSid, ActivitySid, ReservationSid, Status, TaskSid, WorkspaceSid};
use taskrouter_core::twilio::events_resource::{EventsPage, read_page};
use taskrouter_core::twilio::rest::{
    ANSWER_TIMEOUT_MS, ATTEMPTS, Activity, ActivityPage, FriendlyName, Repeat, RestError, TwilioReservation,
    is_retried, refused, reservation_path, retry_delay_ms, task_queue_path, unexpected_answer, update_form,
    worker_path,
};

/// How long one attempt may wait for Twilio's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_millis(ANSWER_TIMEOUT_MS);
/// The largest answer read from Twilio: a page of activities is a few KiB, a page of 500
/// events with their attributes up to a few MiB.
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

pub struct TaskRouter {
    base_url: String,
    authorization: Secret,
}

/// Why an attempt got no answer.
enum NoAnswer {
    /// The runtime's fetch failed: no connection carried the request (refused or dropped; the
    /// runtime's error does not say which).
    Connection(String),
    /// No answer in time, or one that broke off or was too large.
    Other(String),
}

/// One attempt's result: Twilio's status, `Retry-After` and body.
struct RawAnswer {
    status: u16,
    retry_after: Option<String>,
    body: Vec<u8>,
}

impl TaskRouter {
    pub fn new(base_url: &str, authorization: Secret) -> TaskRouter {
        TaskRouter { base_url: base_url.to_owned(), authorization }
    }

    /// TaskRouter signed in by the worker's configuration for a reservation of `account` (the
    /// Account SID its callback carried; `TWILIO_ACCOUNT_SID` comes first).
    pub fn signed_in(config: &Config, account: Option<&AccountSid>) -> Result<TaskRouter, UnsetSecret> {
        Ok(TaskRouter::new(&config.taskrouter_url, config.rest_authorization(account)?))
    }

    /// One request and its answer, or why there was none (within [`ANSWER_TIMEOUT`]).
    async fn attempt(&self, method: Method, path: &str, form: Option<&str>) -> Result<RawAnswer, NoAnswer> {
        let other = |e: worker::Error| NoAnswer::Other(e.to_string());
        let exchange = async {
            let headers = Headers::new();
            headers.set("authorization", self.authorization.expose()).map_err(other)?;
            headers.set("accept", "application/json").map_err(other)?;
            let mut init = RequestInit::new();
            init.with_method(method).with_headers(headers);
            if let Some(form) = form {
                init.headers.set("content-type", "application/x-www-form-urlencoded").map_err(other)?;
                init.with_body(Some(form.into()));
            }
            let request = Request::new_with_init(&format!("{}{path}", self.base_url), &init).map_err(other)?;
            let mut response = Fetch::Request(request)
                .send()
                .await
                .map_err(|e| NoAnswer::Connection(fetch_failure(&e.to_string())))?;
            let status = response.status_code();
            let retry_after = response.headers().get("retry-after").ok().flatten();
            let length = response.headers().get("content-length").ok().flatten().and_then(|l| l.parse::<usize>().ok());
            if let Some(length) = length.filter(|length| *length > MAX_ANSWER_BYTES) {
                return Err(NoAnswer::Other(format!("an answer of {length} bytes, over the limit")));
            }
            let body = response.bytes().await.map_err(other)?;
            Ok(RawAnswer { status, retry_after, body })
        };
        let timeout = Delay::from(ANSWER_TIMEOUT);
        match select(std::pin::pin!(exchange), std::pin::pin!(timeout)).await {
            Either::Left((answer, _)) => answer,
            Either::Right(_) => Err(NoAnswer::Other(format!("no answer within {} s", ANSWER_TIMEOUT.as_secs()))),
        }
    }

    /// Sends until the rule says stop. A failure without an answer is, for an update (which may
    /// have been applied), `Dropped` when no connection carried it and `Lost` otherwise; for a
    /// read, `Unreachable`.
    async fn send(&self, method: Method, path: &str, form: Option<&str>) -> Result<Vec<u8>, RestError> {
        let repeat = if form.is_some() { Repeat::IfUnsent } else { Repeat::Freely };
        let at = |reason: String| format!("at {}{path}: {reason}", self.base_url);
        let mut attempt = 1;
        loop {
            let retry_after = match self.attempt(method.clone(), path, form).await {
                Ok(answer) if (200..300).contains(&answer.status) => return Ok(answer.body),
                Ok(answer) if is_retried(answer.status, repeat) && attempt < ATTEMPTS => answer.retry_after,
                Ok(answer) => return Err(refused(answer.status, &answer.body, repeat)),
                // The runtime's fetch does not tell a refused connection from a dropped one: an
                // update is never sent again without an answer.
                Err(NoAnswer::Connection(reason)) if repeat == Repeat::IfUnsent => {
                    return Err(RestError::Dropped(at(reason)));
                }
                Err(NoAnswer::Other(reason)) if repeat == Repeat::IfUnsent => return Err(RestError::Lost(at(reason))),
                Err(_) if attempt < ATTEMPTS => None,
                Err(NoAnswer::Connection(reason) | NoAnswer::Other(reason)) => {
                    return Err(RestError::Unreachable(at(reason)));
                }
            };
            Delay::from(Duration::from_millis(retry_delay_ms(attempt, retry_after.as_deref()))).await;
            attempt += 1;
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, RestError> {
        let body = self.send(Method::Get, path, None).await?;
        serde_json::from_slice(&body).map_err(|error| RestError::Unexpected(unexpected_answer(error, &body)))
    }

    /// The Workspace's activities, first page (TaskRouter's largest: 1,000).
    pub async fn activities(&self, workspace: &WorkspaceSid) -> Result<Vec<Activity>, RestError> {
        let page: ActivityPage = self.get(&format!("/v1/Workspaces/{workspace}/Activities?PageSize=1000")).await?;
        Ok(page.activities)
    }

    /// One reservation at TaskRouter, for the decision flow and the catch-up's read-back.
    pub fn reservation(
        self,
        workspace: &WorkspaceSid,
        task: &TaskSid,
        reservation: &ReservationSid,
    ) -> ReservationEndpoint {
        ReservationEndpoint {
            path: reservation_path(workspace, task, reservation),
            sid: reservation.clone(),
            twilio: self,
        }
    }
}

/// One reservation at TaskRouter: its path, signed in.
pub struct ReservationEndpoint {
    twilio: TaskRouter,
    path: String,
    sid: ReservationSid,
}

impl ReservationAtTwilio for ReservationEndpoint {
    type Error = RestError;

    async fn update(&self, status: Status, activity: Option<&ActivitySid>) -> Result<(), RestError> {
        let form = form_urlencoded::Serializer::new(String::new()).extend_pairs(update_form(status, activity)).finish();
        self.twilio.send(Method::Post, &self.path, Some(&form)).await.map(drop)
    }

    async fn status(&self) -> Result<Option<Status>, RestError> {
        let found: TwilioReservation = self.twilio.get(&self.path).await?;
        found.check_is(&self.sid).map_err(RestError::Unexpected)?;
        Ok(found.status())
    }
}

/// TaskRouter as the hub's catch-up reads it, signed in by the worker's configuration.
pub struct Records<'a> {
    pub config: &'a Config,
}

impl TaskRouterRecords for Records<'_> {
    async fn events_page(&self, account: Option<&AccountSid>, path: &str) -> Result<EventsPage, ReadError> {
        let body = TaskRouter::signed_in(self.config, account)?.send(Method::Get, path, None).await?;
        read_page(&body).map_err(|reason| RestError::Unexpected(reason).into())
    }

    async fn read_back(&self, reservation: &ReadBack) -> Result<ReadBackFound, ReadError> {
        let twilio = TaskRouter::signed_in(self.config, reservation.account_sid.as_ref())?;
        let at = twilio.reservation(&reservation.workspace_sid, &reservation.task_sid, &reservation.reservation_sid);
        match at.status().await {
            Ok(Some(status)) => Ok(ReadBackFound::Status(status)),
            Ok(None) => Err(RestError::Unexpected("a reservation_status the worker does not know".into()).into()),
            Err(RestError::Refused { status: 404, .. }) => Ok(ReadBackFound::Gone),
            Err(error) => Err(error.into()),
        }
    }

    async fn friendly_name(&self, name: &NameToRead) -> Result<Option<String>, ReadError> {
        let twilio = TaskRouter::signed_in(self.config, name.account_sid.as_ref())?;
        let path = match &name.named {
            NameOwner::Worker(sid) => worker_path(&name.workspace_sid, sid),
            NameOwner::Queue(sid) => task_queue_path(&name.workspace_sid, sid),
        };
        match twilio.get::<FriendlyName>(&path).await {
            Ok(found) => Ok(found.friendly_name.filter(|name| !name.trim().is_empty())),
            Err(RestError::Refused { status: 404, .. }) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }
}
