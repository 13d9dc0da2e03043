//! Twilio's TaskRouter REST API: the calls the CLI makes, and Twilio's errors in plain words.

use reqwest::{Client, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use taskrouter_core::flows::decide::{Failure, ReservationAtTwilio};
use taskrouter_core::models::{ActivitySid, ReservationSid, Status, TaskSid, WorkflowSid, WorkspaceSid};
use taskrouter_core::twilio::rest::unexpected_answer;
pub use taskrouter_core::twilio::rest::{TwilioErrorBody, TwilioReservation};
use taskrouter_core::twilio::rest::{describe, is_retried, reservation_path, update_form};

use crate::http::{self, AnswerError, AnswerLost, Repeat, SendError, Unreachable};
use crate::output;

/// How the CLI signs in to Twilio: HTTP Basic with the Account SID and Auth Token, or with an
/// API Key SID and its secret.
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

#[derive(Clone)]
pub struct TwilioClient {
    client: Client,
    base_url: String,
    credentials: Credentials,
}

#[derive(Debug, thiserror::Error)]
pub enum TwilioError {
    #[error("{}", output::printable(&describe(status.as_u16(), body, *retried)))]
    Refused { status: StatusCode, body: TwilioErrorBody, retried: bool },
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
    #[error(transparent)]
    AnswerLost(#[from] AnswerLost),
    #[error(transparent)]
    Answer(#[from] AnswerError),
    #[error("Twilio answered something unexpected: {}", output::printable(.0))]
    UnexpectedAnswer(String),
}

impl From<SendError> for TwilioError {
    fn from(error: SendError) -> Self {
        match error {
            SendError::Unreachable(error) => TwilioError::Unreachable(error),
            SendError::AnswerLost(error) => TwilioError::AnswerLost(error),
        }
    }
}

impl TwilioError {
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            TwilioError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether an update may have been applied although it was not confirmed: Twilio failed
    /// (`5xx`), or its answer never arrived. Only reading the resource back tells.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            TwilioError::Refused { status, .. } => status.is_server_error(),
            TwilioError::AnswerLost(_) => true,
            _ => false,
        }
    }
}

/// The fields of a Workspace that `connect` reads before changing them.
#[derive(Debug, Clone, Deserialize)]
pub struct TwilioWorkspace {
    #[serde(default)]
    pub event_callback_url: Option<String>,
    #[serde(default)]
    pub events_filter: Option<String>,
}

/// The fields of a Workflow that `connect` reads before changing them.
#[derive(Debug, Clone, Deserialize)]
pub struct TwilioWorkflow {
    #[serde(default)]
    pub assignment_callback_url: Option<String>,
    #[serde(default)]
    pub fallback_assignment_callback_url: Option<String>,
    pub task_reservation_timeout: u64,
}

impl TwilioClient {
    pub fn new(client: Client, base_url: &str, credentials: Credentials) -> TwilioClient {
        TwilioClient { client, base_url: base_url.trim_end_matches('/').to_owned(), credentials }
    }

    fn reservation_url(&self, workspace: &WorkspaceSid, task: &TaskSid, reservation: &ReservationSid) -> String {
        format!("{}{}", self.base_url, reservation_path(workspace, task, reservation))
    }

    /// The same client and sign-in, at another of Twilio's API hosts (Events v1 for
    /// `connect --event-streams`).
    pub fn at(&self, base_url: &str) -> TwilioClient {
        TwilioClient::new(self.client.clone(), base_url, self.credentials.clone())
    }

    /// `path` (with its query) at this API's host.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// An update: sent again only when it surely was not applied (see [`Repeat::IfUnsent`]).
    async fn post(&self, url: &str, form: &[(&str, String)]) -> Result<reqwest::Response, TwilioError> {
        let response = http::send("Twilio", Repeat::IfUnsent, || {
            self.client.post(url).basic_auth(&self.credentials.username, Some(&self.credentials.password)).form(form)
        })
        .await?;
        ok_or_refused(response, Repeat::IfUnsent).await
    }

    /// A creation, its answer parsed as `T`.
    pub async fn create<T: DeserializeOwned>(&self, url: &str, form: &[(&str, String)]) -> Result<T, TwilioError> {
        let response = self.post(url, form).await?;
        let bytes = http::body("Twilio", response).await?;
        output::parse_json(&bytes).map_err(|error| TwilioError::UnexpectedAnswer(unexpected_answer(error, &bytes)))
    }

    /// `DELETE url`; a resource already gone (`404`) counts as deleted.
    pub async fn delete(&self, url: &str) -> Result<(), TwilioError> {
        let response = http::send("Twilio", Repeat::IfUnsent, || {
            self.client.delete(url).basic_auth(&self.credentials.username, Some(&self.credentials.password))
        })
        .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(());
        }
        ok_or_refused(response, Repeat::IfUnsent).await.map(drop)
    }

    /// A read, retried freely, parsed as `T`.
    pub async fn get<T: DeserializeOwned>(&self, url: &str) -> Result<T, TwilioError> {
        let response = http::read("Twilio", || {
            self.client.get(url).basic_auth(&self.credentials.username, Some(&self.credentials.password))
        })
        .await?;
        let bytes = http::body("Twilio", ok_or_refused(response, Repeat::Freely).await?).await?;
        output::parse_json(&bytes).map_err(|error| TwilioError::UnexpectedAnswer(unexpected_answer(error, &bytes)))
    }

    /// `POST …/Reservations/{WR}` with `ReservationStatus` (and `WorkerActivitySid` on reject).
    pub async fn update_reservation(
        &self,
        workspace: &WorkspaceSid,
        task: &TaskSid,
        reservation: &ReservationSid,
        status: Status,
        activity: Option<&ActivitySid>,
    ) -> Result<(), TwilioError> {
        let form = update_form(status, activity);
        self.post(&self.reservation_url(workspace, task, reservation), &form).await.map(drop)
    }

    /// `GET …/Reservations/{WR}`: the reservation as Twilio sees it now.
    pub async fn fetch_reservation(
        &self,
        workspace: &WorkspaceSid,
        task: &TaskSid,
        reservation: &ReservationSid,
    ) -> Result<TwilioReservation, TwilioError> {
        let found: TwilioReservation = self.get(&self.reservation_url(workspace, task, reservation)).await?;
        found.check_is(reservation).map_err(|problem| TwilioError::UnexpectedAnswer(output::printable(&problem)))?;
        Ok(found)
    }

    /// `GET /v1/Workspaces/{WS}`.
    pub async fn fetch_workspace(&self, workspace: &WorkspaceSid) -> Result<TwilioWorkspace, TwilioError> {
        self.get(&format!("{}/v1/Workspaces/{workspace}", self.base_url)).await
    }

    /// `GET /v1/Workspaces/{WS}/Workflows/{WW}`.
    pub async fn fetch_workflow(
        &self,
        workspace: &WorkspaceSid,
        workflow: &WorkflowSid,
    ) -> Result<TwilioWorkflow, TwilioError> {
        self.get(&format!("{}/v1/Workspaces/{workspace}/Workflows/{workflow}", self.base_url)).await
    }

    /// Points a Workflow's `AssignmentCallbackUrl` at `callback_url`.
    pub async fn set_assignment_callback(
        &self,
        workspace: &WorkspaceSid,
        workflow: &WorkflowSid,
        callback_url: &str,
    ) -> Result<(), TwilioError> {
        let url = format!("{}/v1/Workspaces/{workspace}/Workflows/{workflow}", self.base_url);
        self.post(&url, &[("AssignmentCallbackUrl", callback_url.to_owned())]).await.map(drop)
    }

    /// Points a Workspace's `EventCallbackUrl` at `events_url`, for the events in `filter`.
    pub async fn set_event_callback(
        &self,
        workspace: &WorkspaceSid,
        events_url: &str,
        filter: &[String],
    ) -> Result<(), TwilioError> {
        let url = format!("{}/v1/Workspaces/{workspace}", self.base_url);
        let form = [("EventCallbackUrl", events_url.to_owned()), ("EventsFilter", filter.join(","))];
        self.post(&url, &form).await.map(drop)
    }
}

/// The answer if it is a success; otherwise Twilio's refusal, saying whether the request was
/// sent as many times as the retry rule allows for its kind (`repeat`).
async fn ok_or_refused(response: reqwest::Response, repeat: Repeat) -> Result<reqwest::Response, TwilioError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = match http::body("Twilio", response).await {
        Ok(bytes) => output::parse_json::<TwilioErrorBody>(&bytes).unwrap_or_default(),
        Err(_) => TwilioErrorBody::default(),
    };
    let retried = is_retried(status.as_u16(), repeat);
    Err(TwilioError::Refused { status, body, retried })
}

impl Failure for TwilioError {
    fn bad_request(&self) -> bool {
        self.status() == Some(StatusCode::BAD_REQUEST)
    }

    fn outcome_unknown(&self) -> bool {
        TwilioError::outcome_unknown(self)
    }

    fn unsent(&self) -> bool {
        // For an update, `Unreachable` is a connection refused at every attempt (see `http::send`).
        matches!(self, TwilioError::Unreachable(_))
    }

    fn connection_failed(&self) -> bool {
        matches!(self, TwilioError::Unreachable(_))
    }
}

/// One reservation at Twilio, for the shared decision flow.
pub struct ReservationResource<'a> {
    pub twilio: &'a TwilioClient,
    pub workspace: &'a WorkspaceSid,
    pub task: &'a TaskSid,
    pub reservation: &'a ReservationSid,
}

impl ReservationAtTwilio for ReservationResource<'_> {
    type Error = TwilioError;

    async fn update(&self, status: Status, activity: Option<&ActivitySid>) -> Result<(), TwilioError> {
        self.twilio.update_reservation(self.workspace, self.task, self.reservation, status, activity).await
    }

    async fn status(&self) -> Result<Option<Status>, TwilioError> {
        Ok(self.twilio.fetch_reservation(self.workspace, self.task, self.reservation).await?.status())
    }
}
