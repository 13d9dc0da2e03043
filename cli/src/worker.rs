//! The taskrouter-edge worker's operator API. Nothing it answers is trusted blindly: answers are
//! read up to a size limit, a listing stops on a repeated cursor or after a bounded number of
//! pages, and a record must be about the reservation asked for.

use std::collections::HashSet;

use reqwest::{Client, StatusCode};
use serde::Deserialize;
use serde_json::json;
use taskrouter_core::flows::operator::ClaimGrant;
use taskrouter_core::hub::query::{MAX_LIMIT, Page};
use taskrouter_core::models::{ReportedStatus, Reservation, ReservationSid, Status, Summary};
use taskrouter_core::twilio::rest::unexpected_answer;

use crate::http::{self, AnswerError, AnswerLost, Repeat, SendError, Unreachable};
use crate::output;

/// The most listing pages read for one command: a million reservations, far more than a
/// worker's store holds in a day, and a bound on a worker that keeps answering with cursors.
pub const MAX_PAGES: usize = 1_000;

#[derive(Clone)]
pub struct Worker {
    client: Client,
    base_url: String,
    token: Option<String>,
    /// An Access service token: client id and secret, sent on every request.
    access: Option<(String, String)>,
}

#[derive(Debug, Deserialize, Default)]
struct WorkerErrorBody {
    error: WorkerErrorDetail,
}

#[derive(Debug, Deserialize, Default)]
struct WorkerErrorDetail {
    code: String,
    message: String,
    /// For `already_decided`: the status the reservation has.
    #[serde(default)]
    settled: Option<SettledStatus>,
}

#[derive(Debug, Deserialize, Default)]
struct SettledStatus {
    status: Option<Status>,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("the worker refused ({status}, {}): {}", output::printable(.code), output::printable(.message))]
    Refused { status: StatusCode, code: String, message: String, settled: Option<Status> },
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
    #[error(transparent)]
    Answer(#[from] AnswerError),
    #[error("the worker answered something unexpected: {}", output::printable(.0))]
    UnexpectedAnswer(String),
    #[error("the worker answered about reservation {}, not {asked}", output::printable(.answered))]
    WrongReservation { asked: ReservationSid, answered: String },
    #[error("the worker's listing did not end: {0}")]
    EndlessListing(String),
    /// A claim was sent and its answer lost: it may be held.
    #[error(transparent)]
    ClaimLost(AnswerLost),
}

impl Worker {
    pub fn new(client: Client, base_url: &str, token: Option<String>, access: Option<(String, String)>) -> Worker {
        Worker { client, base_url: base_url.trim_end_matches('/').to_owned(), token, access }
    }

    /// A request to the worker, signed in: the operator token as a bearer, and the Access
    /// service token's two headers.
    fn signed_in(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        match &self.access {
            Some((id, secret)) => request.header("cf-access-client-id", id).header("cf-access-client-secret", secret),
            None => request,
        }
    }

    /// The Access service token's headers, for the live connection.
    pub fn access_headers(&self) -> Option<(&str, &str)> {
        self.access.as_ref().map(|(id, secret)| (id.as_str(), secret.as_str()))
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The operator token, for the live connection's `bearer.` subprotocol.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    async fn json<T: serde::de::DeserializeOwned>(&self, response: reqwest::Response) -> Result<T, WorkerError> {
        let status = response.status();
        let bytes = http::body("the worker", response).await?;
        if !status.is_success() {
            let body: WorkerErrorBody = output::parse_json(&bytes).unwrap_or_default();
            let settled = body.error.settled.and_then(|settled| settled.status);
            return Err(WorkerError::Refused { status, code: body.error.code, message: body.error.message, settled });
        }
        output::parse_json(&bytes).map_err(|error| WorkerError::UnexpectedAnswer(unexpected_answer(error, &bytes)))
    }

    /// Every stored reservation with `status` (`all`, `pending`, …), newest first, all pages.
    pub async fn list(&self, status: &str) -> Result<Vec<Summary<ReportedStatus>>, WorkerError> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen_cursors = HashSet::new();
        for _ in 0..MAX_PAGES {
            let mut query = vec![("status", status.to_owned()), ("limit", MAX_LIMIT.to_string())];
            if let Some(cursor) = cursor.take() {
                query.push(("cursor", cursor));
            }
            let url = format!("{}/reservations", self.base_url);
            let response = http::read("the worker", || self.signed_in(self.client.get(&url)).query(&query)).await?;
            let page: Page = self.json(response).await?;
            all.extend(page.reservations);
            match page.cursor {
                Some(next) if !seen_cursors.insert(next.clone()) => {
                    return Err(WorkerError::EndlessListing(format!(
                        "it gave the same cursor twice, after {} reservations",
                        all.len()
                    )));
                }
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
        Err(WorkerError::EndlessListing(format!(
            "it still gave a cursor after {MAX_PAGES} pages ({} reservations)",
            all.len()
        )))
    }

    pub async fn show(&self, sid: &ReservationSid) -> Result<Reservation<ReportedStatus>, WorkerError> {
        let url = format!("{}/reservations/{sid}", self.base_url);
        let response = http::read("the worker", || self.signed_in(self.client.get(&url))).await?;
        about(sid, self.json(response).await?)
    }

    /// Records a status Twilio reported, settling the claim `claim` holds; the worker answers 409
    /// if the record is already past it.
    pub async fn record_status(
        &self,
        sid: &ReservationSid,
        status: Status,
        claim: Option<&ClaimGrant>,
    ) -> Result<Reservation<ReportedStatus>, WorkerError> {
        let url = format!("{}/reservations/{sid}/status", self.base_url);
        let body = match claim {
            Some(claim) => json!({ "status": status, "claim_token": claim.token }),
            None => json!({ "status": status }),
        };
        // Setting a status twice is the same as once, so the request may be repeated.
        let response = http::read("the worker", || self.signed_in(self.client.post(&url)).json(&body)).await?;
        about(sid, self.json(response).await?)
    }
}

impl Worker {
    /// Claims the one decision on a reservation (`accept` or `reject`) before Twilio is asked. A
    /// decision in flight, or a reservation already settled, is `Refused` with `409`.
    pub async fn claim(&self, sid: &ReservationSid, decision: &str) -> Result<ClaimGrant, WorkerError> {
        let url = format!("{}/reservations/{sid}/claim", self.base_url);
        let body = json!({ "decision": decision, "owner": "cli" });
        // Sent again only when it certainly did not arrive: a claim granted whose answer was lost
        // would otherwise meet itself as `decision_in_flight`.
        let build = || self.signed_in(self.client.post(&url)).json(&body);
        let response = match http::send("the worker", Repeat::IfUnsent, build).await {
            Ok(response) => response,
            Err(SendError::Unreachable(error)) => return Err(error.into()),
            Err(SendError::AnswerLost(lost)) => return Err(WorkerError::ClaimLost(lost)),
        };
        self.json::<ClaimGrant>(response).await
    }

    /// Gives a claim back: nothing reached Twilio, or Twilio refused and nothing changed.
    pub async fn release(&self, sid: &ReservationSid, claim: &ClaimGrant) -> Result<(), WorkerError> {
        let url = format!("{}/reservations/{sid}/release", self.base_url);
        let body = json!({ "claim_token": claim.token });
        let response = http::read("the worker", || self.signed_in(self.client.post(&url)).json(&body)).await?;
        self.json::<serde_json::Value>(response).await.map(drop)
    }
}

/// The record, if it is about the reservation asked for.
fn about(
    asked: &ReservationSid,
    record: Reservation<ReportedStatus>,
) -> Result<Reservation<ReportedStatus>, WorkerError> {
    if &record.reservation_sid == asked {
        Ok(record)
    } else {
        Err(WorkerError::WrongReservation { asked: asked.clone(), answered: record.reservation_sid.to_string() })
    }
}
