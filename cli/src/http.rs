//! Sending a request with bounded retries, with exponential backoff (honouring `Retry-After`).
//!
//! One retry rule, two kinds of request. A read ([`Repeat::Freely`]) is tried again after a
//! `429`, a `5xx`, a refused or dropped connection or a timeout: reading twice does no harm. An
//! update ([`Repeat::IfUnsent`]) is tried again only when it surely did not happen: after a `429`
//! or a connection refused before anything was sent. A `5xx`, a timeout or a connection dropped
//! after sending leaves it unknown whether Twilio applied the update; the caller reads the
//! resource back before deciding anything.

use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode};

/// Attempts in all, and the first delay (doubled after each attempt).
pub const ATTEMPTS: u32 = 4;
const FIRST_DELAY: Duration = Duration::from_millis(250);
/// The longest `Retry-After` honoured; a longer one is capped.
const MAX_DELAY: Duration = Duration::from_secs(5);

/// A service could not be reached at all, even after retries: exit code 3.
#[derive(Debug, thiserror::Error)]
#[error("could not reach {service} at {url} after {ATTEMPTS} attempts: {reason}")]
pub struct Unreachable {
    pub service: &'static str,
    pub url: String,
    pub reason: String,
}

/// Whether a request may be sent again as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// A read: any failure that may pass is retried.
    Freely,
    /// An update: retried only when it was surely not applied.
    IfUnsent,
}

/// An update was sent and its answer lost: it may or may not have been applied.
#[derive(Debug, thiserror::Error)]
#[error("the answer from {service} was lost ({reason})")]
pub struct AnswerLost {
    pub service: &'static str,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
    #[error(transparent)]
    AnswerLost(#[from] AnswerLost),
}

fn is_retried(status: StatusCode, repeat: Repeat) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || (repeat == Repeat::Freely && status.is_server_error())
}

fn delay(attempt: u32, response: Option<&Response>) -> Duration {
    let retry_after = response
        .and_then(|r| r.headers().get(reqwest::header::RETRY_AFTER))
        .and_then(|value| value.to_str().ok()?.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    retry_after.unwrap_or(FIRST_DELAY * 2u32.pow(attempt - 1)).min(MAX_DELAY)
}

/// Sends the request `build` makes, again while `repeat` allows it. The last answer is returned
/// as it is, retried or not, for the caller to read the service's error from.
pub async fn send(
    service: &'static str,
    repeat: Repeat,
    build: impl Fn() -> RequestBuilder,
) -> Result<Response, SendError> {
    let mut attempt = 1;
    loop {
        match build().send().await {
            Ok(response) if is_retried(response.status(), repeat) && attempt < ATTEMPTS => {
                tokio::time::sleep(delay(attempt, Some(&response))).await;
            }
            Ok(response) => return Ok(response),
            // Refused before anything was sent: safe to send again, whatever the request.
            Err(error) if attempt < ATTEMPTS && (error.is_connect() || repeat == Repeat::Freely) => {
                tokio::time::sleep(delay(attempt, None)).await;
            }
            Err(error) if error.is_connect() || repeat == Repeat::Freely => {
                let reason = if error.is_connect() { "connection refused".to_owned() } else { reason_of(&error) };
                let url = error.url().map(ToString::to_string).unwrap_or_default();
                return Err(Unreachable { service, url, reason }.into());
            }
            Err(error) => return Err(AnswerLost { service, reason: reason_of(&error) }.into()),
        }
        attempt += 1;
    }
}

/// Sends a read: any failure left after retries means the service could not be reached.
pub async fn read(service: &'static str, build: impl Fn() -> RequestBuilder) -> Result<Response, Unreachable> {
    match send(service, Repeat::Freely, build).await {
        Ok(response) => Ok(response),
        Err(SendError::Unreachable(error)) => Err(error),
        Err(SendError::AnswerLost(lost)) => Err(Unreachable { service, url: String::new(), reason: lost.reason }),
    }
}

/// The largest answer read from the worker or from Twilio: a listing page of 1,000 summaries is
/// well under 2 MiB. Anything larger is refused, not buffered.
pub const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// An answer larger than [`MAX_ANSWER_BYTES`], or one whose body broke off.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error("{service} answered more than {} MiB; refusing to read it", MAX_ANSWER_BYTES / 1024 / 1024)]
    TooLarge { service: &'static str },
    #[error("{service}'s answer broke off: {reason}")]
    Broken { service: &'static str, reason: String },
}

/// Reads an answer's body, chunk by chunk, up to [`MAX_ANSWER_BYTES`].
pub async fn body(service: &'static str, mut response: Response) -> Result<Vec<u8>, AnswerError> {
    if response.content_length().is_some_and(|length| length > MAX_ANSWER_BYTES as u64) {
        return Err(AnswerError::TooLarge { service });
    }
    let mut body = Vec::new();
    while let Some(chunk) =
        response.chunk().await.map_err(|error| AnswerError::Broken { service, reason: reason_of(&error) })?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(AnswerError::TooLarge { service });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn reason_of(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else {
        // reqwest's own text, with its cause ("connection closed before message completed").
        let mut reason = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            reason = format!("{reason}: {cause}");
            source = cause.source();
        }
        reason
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_retry_rate_limits_and_server_errors_only() {
        assert!(is_retried(StatusCode::TOO_MANY_REQUESTS, Repeat::Freely));
        assert!(is_retried(StatusCode::SERVICE_UNAVAILABLE, Repeat::Freely));
        assert!(is_retried(StatusCode::INTERNAL_SERVER_ERROR, Repeat::Freely));
        assert!(!is_retried(StatusCode::BAD_REQUEST, Repeat::Freely));
        assert!(!is_retried(StatusCode::UNAUTHORIZED, Repeat::Freely));
        assert!(!is_retried(StatusCode::NOT_FOUND, Repeat::Freely));
    }

    #[test]
    fn updates_retry_only_what_surely_did_not_happen() {
        assert!(is_retried(StatusCode::TOO_MANY_REQUESTS, Repeat::IfUnsent));
        assert!(!is_retried(StatusCode::SERVICE_UNAVAILABLE, Repeat::IfUnsent));
        assert!(!is_retried(StatusCode::INTERNAL_SERVER_ERROR, Repeat::IfUnsent));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(delay(1, None), Duration::from_millis(250));
        assert_eq!(delay(2, None), Duration::from_millis(500));
        assert_eq!(delay(3, None), Duration::from_millis(1000));
        assert_eq!(delay(10, None), MAX_DELAY);
    }
}
