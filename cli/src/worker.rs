//! The taskrouter-edge worker's operator API.

use reqwest::{Client, StatusCode};
use serde::Deserialize;
use serde_json::json;
use taskrouter_edge::models::{ReportedStatus, Reservation, ReservationSid, Status, Summary};
use taskrouter_edge::store::listing::Page;

use crate::http::{self, Unreachable};

#[derive(Clone)]
pub struct Worker {
    client: Client,
    base_url: String,
    token: String,
}

#[derive(Debug, Deserialize, Default)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize, Default)]
struct ErrorDetail {
    code: String,
    message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("the worker refused ({status}, {code}): {message}")]
    Refused { status: StatusCode, code: String, message: String },
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
    #[error("the worker answered something unexpected: {0}")]
    UnexpectedAnswer(String),
}

impl Worker {
    pub fn new(client: Client, base_url: &str, token: &str) -> Worker {
        Worker { client, base_url: base_url.trim_end_matches('/').to_owned(), token: token.to_owned() }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    async fn json<T: serde::de::DeserializeOwned>(&self, response: reqwest::Response) -> Result<T, WorkerError> {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            let body: ErrorBody = serde_json::from_str(&text).unwrap_or_default();
            return Err(WorkerError::Refused { status, code: body.error.code, message: body.error.message });
        }
        serde_json::from_str(&text).map_err(|_| WorkerError::UnexpectedAnswer(text.chars().take(200).collect()))
    }

    /// Every stored reservation with `status` (`all`, `pending`, …), newest first, all pages.
    pub async fn list(&self, status: &str) -> Result<Vec<Summary<ReportedStatus>>, WorkerError> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("status", status.to_owned()), ("limit", "1000".to_owned())];
            if let Some(cursor) = cursor.take() {
                query.push(("cursor", cursor));
            }
            let url = format!("{}/reservations", self.base_url);
            let response =
                http::read("the worker", || self.client.get(&url).bearer_auth(&self.token).query(&query)).await?;
            let page: Page = self.json(response).await?;
            all.extend(page.reservations);
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    pub async fn show(&self, sid: &ReservationSid) -> Result<Reservation<ReportedStatus>, WorkerError> {
        let url = format!("{}/reservations/{sid}", self.base_url);
        let response = http::read("the worker", || self.client.get(&url).bearer_auth(&self.token)).await?;
        self.json(response).await
    }

    /// Records a status Twilio reported; the worker answers 409 if the record is already past it.
    pub async fn record_status(
        &self,
        sid: &ReservationSid,
        status: Status,
    ) -> Result<Reservation<ReportedStatus>, WorkerError> {
        let url = format!("{}/reservations/{sid}/status", self.base_url);
        let body = json!({ "status": status });
        let response = http::read("the worker", || self.client.post(&url).bearer_auth(&self.token).json(&body)).await?;
        self.json(response).await
    }
}
