//! TaskRouter's REST API over the runtime's `fetch`, by the project's one retry rule
//! ([`crate::twilio::rest`]). What to believe when an update fails is decided in
//! [`crate::flows::decide`]; this file only sends and reads.

use std::time::Duration;

use futures_util::future::{Either, select};
use worker::Delay;
use worker::js_sys::{self, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{Headers, RequestInit, Response, WorkerGlobalScope};

use crate::config::Secret;
use crate::flows::decide::ReservationAtTwilio;
use crate::http::unexpected_answer;
use crate::models::{ActivitySid, ReservationSid, Status, TaskSid, WorkspaceSid};
use crate::thrown;
use crate::twilio::rest::{
    ATTEMPTS, Activity, ActivityPage, Repeat, RestError, TwilioReservation, is_retried, refused, reservation_path,
    retry_delay_ms, update_form,
};

/// How long one attempt may wait for Twilio's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read from Twilio: a page of activities is a few KiB.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

pub struct TaskRouter {
    base_url: String,
    authorization: Secret,
}

/// One attempt's result: Twilio's status, `Retry-After` and body, or why there was none.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Vec<u8>,
}

impl TaskRouter {
    pub fn new(base_url: &str, authorization: Secret) -> TaskRouter {
        TaskRouter { base_url: base_url.to_owned(), authorization }
    }

    /// Calls the runtime's `fetch` through `web_sys`, not `worker::Fetch`: every failure of
    /// `worker`'s wrappers is a `worker::Error`, and formatting one links the messages of every
    /// error workers-rs can make (see the entry point in `lib.rs`).
    async fn attempt(&self, method: &str, path: &str, form: Option<&str>) -> Result<Answer, String> {
        let headers = Headers::new().map_err(thrown::message)?;
        headers.set("authorization", self.authorization.expose()).map_err(thrown::message)?;
        headers.set("accept", "application/json").map_err(thrown::message)?;
        if form.is_some() {
            headers.set("content-type", "application/x-www-form-urlencoded").map_err(thrown::message)?;
        }
        let init = RequestInit::new();
        init.set_method(method);
        init.set_headers(&headers);
        if let Some(form) = form {
            init.set_body(&JsValue::from_str(form));
        }
        let url = format!("{}{path}", self.base_url);
        let exchange = async {
            let scope: WorkerGlobalScope = js_sys::global().unchecked_into();
            let sent = JsFuture::from(scope.fetch_with_str_and_init(&url, &init)).await;
            let response: Response = sent.map_err(thrown::message)?.unchecked_into();
            let status = response.status();
            let retry_after = response.headers().get("retry-after").ok().flatten();
            let length = response.headers().get("content-length").ok().flatten().and_then(|l| l.parse::<usize>().ok());
            if length.is_some_and(|length| length > MAX_ANSWER_BYTES) {
                return Err(format!("an answer of {} bytes, over the limit", length.unwrap_or_default()));
            }
            let body =
                JsFuture::from(response.array_buffer().map_err(thrown::message)?).await.map_err(thrown::message)?;
            Ok(Answer { status, retry_after, body: Uint8Array::new(&body).to_vec() })
        };
        let timeout = Delay::from(ANSWER_TIMEOUT);
        match select(std::pin::pin!(exchange), std::pin::pin!(timeout)).await {
            Either::Left((answer, _)) => answer,
            Either::Right(_) => Err(format!("no answer within {} s", ANSWER_TIMEOUT.as_secs())),
        }
    }

    /// Sends until the rule says stop. A failure without an answer is `Lost` for an update (it
    /// may have been applied) and `Unreachable` for a read.
    async fn send(&self, method: &str, path: &str, form: Option<&str>) -> Result<Vec<u8>, RestError> {
        let repeat = if form.is_some() { Repeat::IfUnsent } else { Repeat::Freely };
        let mut attempt = 1;
        loop {
            let retry_after = match self.attempt(method, path, form).await {
                Ok(answer) if (200..300).contains(&answer.status) => return Ok(answer.body),
                Ok(answer) if is_retried(answer.status, repeat) && attempt < ATTEMPTS => answer.retry_after,
                Ok(answer) => return Err(refused(answer.status, &answer.body, repeat)),
                // The runtime's fetch does not tell a refused connection from a dropped one.
                Err(reason) if repeat == Repeat::IfUnsent => return Err(RestError::Lost(reason)),
                Err(_) if attempt < ATTEMPTS => None,
                Err(reason) => return Err(RestError::Unreachable(reason)),
            };
            Delay::from(Duration::from_millis(retry_delay_ms(attempt, retry_after.as_deref()))).await;
            attempt += 1;
        }
    }

    async fn get<T: for<'a> crate::json::FromJson<'a>>(&self, path: &str) -> Result<T, RestError> {
        let body = self.send("GET", path, None).await?;
        crate::json::parse_bytes(&body).map_err(|error| RestError::Unexpected(unexpected_answer(error, &body)))
    }

    /// The Workspace's activities, first page (TaskRouter's largest: 1,000).
    pub async fn activities(&self, workspace: &WorkspaceSid) -> Result<Vec<Activity>, RestError> {
        let page: ActivityPage = self.get(&format!("/v1/Workspaces/{workspace}/Activities?PageSize=1000")).await?;
        Ok(page.activities)
    }

    pub fn reservation<'a>(
        &'a self,
        workspace: &'a WorkspaceSid,
        task: &'a TaskSid,
        reservation: &'a ReservationSid,
    ) -> At<'a> {
        At { twilio: self, path: reservation_path(workspace, task, reservation), sid: reservation }
    }
}

/// One reservation at Twilio, for the decision flow.
pub struct At<'a> {
    twilio: &'a TaskRouter,
    path: String,
    sid: &'a ReservationSid,
}

impl ReservationAtTwilio for At<'_> {
    type Error = RestError;

    async fn update(&self, status: Status, activity: Option<&ActivitySid>) -> Result<(), RestError> {
        let form = form_urlencoded::Serializer::new(String::new()).extend_pairs(update_form(status, activity)).finish();
        self.twilio.send("POST", &self.path, Some(&form)).await.map(drop)
    }

    async fn status(&self) -> Result<Option<Status>, RestError> {
        let found: TwilioReservation = self.twilio.get(&self.path).await?;
        found.check_is(self.sid).map_err(RestError::Unexpected)?;
        Ok(found.status())
    }
}
