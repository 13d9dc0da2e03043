//! Where the CLI finds its settings: flags first, then the environment (clap reads both), with a
//! one-line error naming the variable and the flag when one is missing.

use clap::Args;
use reqwest::Client;

use crate::twilio::{Credentials, TwilioClient};
use crate::worker::Worker;

/// Where the worker and Twilio are, and how to sign in: every command takes them, from a flag or
/// the environment. `--help` lists them under their own heading, after the command's own options.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Settings (every command; a flag or its environment variable)")]
pub struct Settings {
    /// The worker's base URL, e.g. http://127.0.0.1:8787 or https://taskrouter-edge.YOU.workers.dev
    #[arg(long, env = "RESERVATIONS_URL", global = true, value_name = "URL")]
    pub worker_url: Option<String>,

    /// The worker's operator token (its RESERVATIONS_API_TOKEN secret), when the worker takes it
    #[arg(long, env = "RESERVATIONS_API_TOKEN", global = true, hide_env_values = true, value_name = "TOKEN")]
    pub api_token: Option<String>,

    /// A Cloudflare Access service token's client id, sent as CF-Access-Client-Id to a worker
    /// behind Access
    #[arg(long, env = "CF_ACCESS_CLIENT_ID", global = true, value_name = "ID")]
    pub access_client_id: Option<String>,

    /// That service token's secret, sent as CF-Access-Client-Secret
    #[arg(long, env = "CF_ACCESS_CLIENT_SECRET", global = true, hide_env_values = true, value_name = "SECRET")]
    pub access_client_secret: Option<String>,

    /// Your Twilio Account SID (AC…)
    #[arg(long, env = "TWILIO_ACCOUNT_SID", global = true, value_name = "AC…")]
    pub account_sid: Option<String>,

    /// Your Twilio Auth Token: signs `simulate`, and signs in to Twilio unless an API key is given
    #[arg(long, env = "TWILIO_AUTH_TOKEN", global = true, hide_env_values = true, value_name = "TOKEN")]
    pub auth_token: Option<String>,

    /// A Twilio API Key SID (SK…), used with --api-secret instead of the Auth Token
    #[arg(long, env = "TWILIO_API_KEY", global = true, value_name = "SK…")]
    pub api_key: Option<String>,

    /// The secret of --api-key
    #[arg(long, env = "TWILIO_API_SECRET", global = true, hide_env_values = true, value_name = "SECRET")]
    pub api_secret: Option<String>,

    /// TaskRouter's base URL (change it only to test against a mock)
    #[arg(
        long,
        env = "TWILIO_TASKROUTER_URL",
        global = true,
        default_value = "https://taskrouter.twilio.com",
        value_name = "URL"
    )]
    pub taskrouter_url: String,

    /// The Events API's base URL, for `connect --event-streams` (change it only to test against a
    /// mock)
    #[arg(
        long,
        env = "TWILIO_EVENTS_URL",
        global = true,
        default_value = "https://events.twilio.com",
        value_name = "URL"
    )]
    pub events_url: String,
}

/// A setting that is needed and missing: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{variable} is not set: export {variable}=… or pass {flag} ({what})")]
pub struct MissingSetting {
    pub variable: &'static str,
    pub flag: &'static str,
    pub what: &'static str,
}

/// A setting that is there but unusable (a URL that does not parse): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Checks that `url` is an absolute http(s) URL with a host.
pub fn http_url<'a>(url: &'a str, what: &str) -> Result<&'a str, UsageError> {
    match reqwest::Url::parse(url.trim()) {
        Ok(parsed)
            if matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some_and(|h| !h.is_empty()) =>
        {
            Ok(url.trim())
        }
        _ => Err(UsageError(format!(
            "{what} must be an http(s) URL such as https://taskrouter-edge.you.workers.dev, not {url:?}"
        ))),
    }
}

fn required<'a>(
    value: &'a Option<String>,
    variable: &'static str,
    flag: &'static str,
    what: &'static str,
) -> Result<&'a str, MissingSetting> {
    value.as_deref().filter(|v| !v.trim().is_empty()).ok_or(MissingSetting { variable, flag, what })
}

impl Settings {
    pub fn worker_url(&self) -> anyhow::Result<&str> {
        let url = required(&self.worker_url, "RESERVATIONS_URL", "--worker-url", "the worker's base URL")?;
        Ok(http_url(url, "RESERVATIONS_URL (--worker-url)")?)
    }

    /// The worker, signed in with the operator token, an Access service token, or both (the
    /// service token gets through Access, the operator token through the worker).
    pub fn worker(&self, client: &Client) -> anyhow::Result<Worker> {
        let url = self.worker_url()?;
        let set = |value: &Option<String>| value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let access = match (set(&self.access_client_id), set(&self.access_client_secret)) {
            (Some(id), Some(secret)) => Some((id, secret)),
            (None, None) => None,
            (Some(_), None) => {
                required(
                    &None,
                    "CF_ACCESS_CLIENT_SECRET",
                    "--access-client-secret",
                    "the Access service token's secret",
                )?;
                None
            }
            (None, Some(_)) => {
                required(&None, "CF_ACCESS_CLIENT_ID", "--access-client-id", "the Access service token's client id")?;
                None
            }
        };
        let token = set(&self.api_token);
        if token.is_none() && access.is_none() {
            required(
                &self.api_token,
                "RESERVATIONS_API_TOKEN",
                "--api-token",
                "the worker's operator token, or an Access service token in CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET",
            )?;
        }
        Ok(Worker::new(client.clone(), url, token, access))
    }

    pub fn auth_token(&self) -> Result<&str, MissingSetting> {
        required(&self.auth_token, "TWILIO_AUTH_TOKEN", "--auth-token", "your Twilio Auth Token")
    }

    pub fn taskrouter(&self, client: &Client) -> anyhow::Result<TwilioClient> {
        http_url(&self.taskrouter_url, "TWILIO_TASKROUTER_URL (--taskrouter-url)")?;
        let credentials = match (&self.api_key, &self.api_secret) {
            (Some(key), _) if !key.is_empty() => Credentials {
                username: key.clone(),
                password: required(
                    &self.api_secret,
                    "TWILIO_API_SECRET",
                    "--api-secret",
                    "the secret of TWILIO_API_KEY",
                )?
                .to_owned(),
            },
            _ => Credentials {
                username: required(
                    &self.account_sid,
                    "TWILIO_ACCOUNT_SID",
                    "--account-sid",
                    "your Twilio Account SID",
                )?
                .to_owned(),
                password: self.auth_token()?.to_owned(),
            },
        };
        Ok(TwilioClient::new(client.clone(), &self.taskrouter_url, credentials))
    }

    /// Twilio's Events API, signed in as [`Settings::taskrouter`] is.
    pub fn events(&self, client: &Client) -> anyhow::Result<TwilioClient> {
        http_url(&self.events_url, "TWILIO_EVENTS_URL (--events-url)")?;
        Ok(self.taskrouter(client)?.at(&self.events_url))
    }
}
