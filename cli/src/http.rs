//! Sending a request with bounded retries, by the project's one retry rule
//! ([`taskrouter_core::twilio::rest`]), which the worker follows too.

use std::time::Duration;

use reqwest::{RequestBuilder, Response};
pub use taskrouter_core::twilio::rest::{ATTEMPTS, Repeat};
use taskrouter_core::twilio::rest::{is_retried, retry_delay_ms};

/// A service could not be reached at all, even after retries: exit code 3.
#[derive(Debug, thiserror::Error)]
#[error("could not reach {service} at {url} after {ATTEMPTS} attempts: {reason}")]
pub struct Unreachable {
    pub service: &'static str,
    pub url: String,
    pub reason: String,
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

fn delay(attempt: u32, response: Option<&Response>) -> Duration {
    let retry_after =
        response.and_then(|r| r.headers().get(reqwest::header::RETRY_AFTER)).and_then(|value| value.to_str().ok());
    Duration::from_millis(retry_delay_ms(attempt, retry_after))
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
            Ok(response) if is_retried(response.status().as_u16(), repeat) && attempt < ATTEMPTS => {
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
