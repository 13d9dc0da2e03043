//! Sending a request with bounded retries: `429` and `5xx` answers and refused or dropped
//! connections are tried again with exponential backoff (honouring `Retry-After`).

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

fn is_retried(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

fn delay(attempt: u32, response: Option<&Response>) -> Duration {
    let retry_after = response
        .and_then(|r| r.headers().get(reqwest::header::RETRY_AFTER))
        .and_then(|value| value.to_str().ok()?.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    retry_after.unwrap_or(FIRST_DELAY * 2u32.pow(attempt - 1)).min(MAX_DELAY)
}

/// Sends the request `build` makes, again while the answer says to retry. The last answer is
/// returned as it is, retried or not, for the caller to read Twilio's error from.
pub async fn send(service: &'static str, build: impl Fn() -> RequestBuilder) -> Result<Response, Unreachable> {
    let mut attempt = 1;
    loop {
        match build().send().await {
            Ok(response) if is_retried(response.status()) && attempt < ATTEMPTS => {
                tokio::time::sleep(delay(attempt, Some(&response))).await;
            }
            Ok(response) => return Ok(response),
            Err(error) if attempt < ATTEMPTS && (error.is_connect() || error.is_timeout() || error.is_request()) => {
                tokio::time::sleep(delay(attempt, None)).await;
            }
            Err(error) => {
                let reason = if error.is_connect() { "connection refused".to_owned() } else { error.to_string() };
                let url = error.url().map(ToString::to_string).unwrap_or_default();
                return Err(Unreachable { service, url, reason });
            }
        }
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_rate_limits_and_server_errors_only() {
        assert!(is_retried(StatusCode::TOO_MANY_REQUESTS));
        assert!(is_retried(StatusCode::SERVICE_UNAVAILABLE));
        assert!(is_retried(StatusCode::INTERNAL_SERVER_ERROR));
        assert!(!is_retried(StatusCode::BAD_REQUEST));
        assert!(!is_retried(StatusCode::UNAUTHORIZED));
        assert!(!is_retried(StatusCode::NOT_FOUND));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(delay(1, None), Duration::from_millis(250));
        assert_eq!(delay(2, None), Duration::from_millis(500));
        assert_eq!(delay(3, None), Duration::from_millis(1000));
        assert_eq!(delay(10, None), MAX_DELAY);
    }
}
