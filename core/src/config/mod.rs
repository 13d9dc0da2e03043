//! The worker's configuration, read and checked in one place. A value that does not parse is
//! an error naming the variable, never a silent default.

use std::collections::BTreeMap;

use crate::access::OperatorAuth;
use crate::instructions::Policy;
use crate::models::{AccountSid, ReservationTimeouts, WorkflowSid};

mod operator_auth;
pub mod rest;
mod secret;

pub use secret::Secret;

pub const DEFAULT_TTL_SECONDS: u64 = 86_400;
pub const MIN_TTL_SECONDS: u64 = 60;
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 120;
/// A catch-up a minute while anything is open: a lost event is put right within a minute, at
/// most 1,440 runs a day (`docs/hub.md`).
pub const DEFAULT_CATCH_UP_SECONDS: u64 = 60;
/// Where TaskRouter's REST API lives; `TWILIO_TASKROUTER_URL` points elsewhere (a mock).
pub const TASKROUTER_URL: &str = "https://taskrouter.twilio.com";

#[derive(Debug, Clone)]
pub struct Config {
    /// Key of `X-Twilio-Signature`; `None` makes Twilio routes answer 503, unless unsigned
    /// callbacks are allowed.
    pub twilio_auth_token: Option<Secret>,
    pub allow_unsigned_callbacks: bool,
    /// Bearer token of the operator API; `None` makes operator routes answer 503.
    pub reservations_api_token: Option<Secret>,
    /// `scheme://host[:port]` Twilio calls, when it differs from what the worker sees.
    pub public_url: Option<String>,
    pub reservation_ttl_seconds: u64,
    /// `RESERVATION_TIMEOUT_SECONDS`, and each Workflow's own from `WORKFLOW_TIMEOUTS`.
    pub reservation_timeouts: ReservationTimeouts,
    /// TaskRouter's REST API, `scheme://host[:port]`, for accept and reject at the edge.
    pub taskrouter_url: String,
    /// Whom the worker signs in to Twilio's REST API as. Without `TWILIO_ACCOUNT_SID`, the
    /// Account SID that came with the reservation's own callback is used.
    pub twilio_account_sid: Option<AccountSid>,
    /// An API key pair, preferred to the Auth Token when both halves are set.
    pub twilio_api_key: Option<(String, Secret)>,
    /// What the assignment callback answers. Kept apart so that a bad value stops only the
    /// callback (503 naming it), not the operator API.
    pub assignment_policy: Result<Policy, ConfigError>,
    /// `TWILIO_WEBHOOK_SHARED_KEYS`: the secrets of the SharedKeys a Webhook Rule may sign with,
    /// by id. Kept apart like the policy: a bad value stops only the Twilio routes.
    pub webhook_shared_keys: Result<Option<SharedKeys>, ConfigError>,
    /// `OPERATOR_AUTH`, `ACCESS_TEAM_DOMAIN`, `ACCESS_AUD`: what the operator routes accept. Kept
    /// apart: a bad value stops only the operator routes.
    pub operator_auth: Result<OperatorAuth, ConfigError>,
    /// `CATCH_UP_SECONDS`: how often the hub reads TaskRouter for events it missed while any
    /// reservation is open; `None` (`off`) never.
    pub catch_up_seconds: Option<u64>,
}

/// The SharedKeys' secrets by id: one, or two while a key is rotated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedKeys(BTreeMap<String, Secret>);

impl SharedKeys {
    /// The secret of the key with this id.
    pub fn secret(&self, id: &str) -> Option<&Secret> {
        self.0.get(id)
    }

    /// The configured ids, for `/health` (never the secrets).
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} is {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

fn invalid(name: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError { name, problem: problem.into() }
}

impl Config {
    /// Reads every variable through `lookup` (vars and secrets by name); empty counts as unset.
    /// Secrets are trimmed: a token pasted with a trailing newline (`echo … | wrangler secret
    /// put`) would otherwise fail every request while looking set.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let secret = |name: &str| get(name).map(|value| Secret::new(value.trim()));
        Ok(Config {
            twilio_auth_token: secret("TWILIO_AUTH_TOKEN"),
            allow_unsigned_callbacks: flag(get("ALLOW_UNSIGNED_CALLBACKS"), "ALLOW_UNSIGNED_CALLBACKS")?,
            reservations_api_token: secret("RESERVATIONS_API_TOKEN"),
            public_url: get("PUBLIC_URL").map(|url| origin("PUBLIC_URL", &url)).transpose()?,
            taskrouter_url: origin(
                "TWILIO_TASKROUTER_URL",
                &get("TWILIO_TASKROUTER_URL").unwrap_or(TASKROUTER_URL.into()),
            )?,
            twilio_account_sid: get("TWILIO_ACCOUNT_SID")
                .map(|sid| {
                    sid.trim()
                        .parse()
                        .map_err(|e: crate::models::SidError| invalid("TWILIO_ACCOUNT_SID", e.to_string()))
                })
                .transpose()?,
            twilio_api_key: match (get("TWILIO_API_KEY"), secret("TWILIO_API_SECRET")) {
                (Some(key), Some(secret)) => Some((key.trim().to_owned(), secret)),
                (None, None) => None,
                (Some(_), None) => return Err(invalid("TWILIO_API_SECRET", "unset while TWILIO_API_KEY is set")),
                (None, Some(_)) => return Err(invalid("TWILIO_API_KEY", "unset while TWILIO_API_SECRET is set")),
            },
            reservation_ttl_seconds: seconds(
                get("RESERVATION_TTL_SECONDS"),
                "RESERVATION_TTL_SECONDS",
                DEFAULT_TTL_SECONDS,
                MIN_TTL_SECONDS,
            )?,
            reservation_timeouts: ReservationTimeouts {
                default_seconds: seconds(
                    get("RESERVATION_TIMEOUT_SECONDS"),
                    "RESERVATION_TIMEOUT_SECONDS",
                    DEFAULT_TIMEOUT_SECONDS,
                    1,
                )?,
                per_workflow: workflow_timeouts(get("WORKFLOW_TIMEOUTS"))?,
            },
            assignment_policy: Policy::parse(get("ASSIGNMENT_INSTRUCTION").as_deref())
                .map_err(|problem| invalid("ASSIGNMENT_INSTRUCTION", problem.to_string())),
            webhook_shared_keys: get("TWILIO_WEBHOOK_SHARED_KEYS").map(|text| shared_keys(&text)).transpose(),
            catch_up_seconds: match get("CATCH_UP_SECONDS").as_deref().map(str::trim) {
                Some("off") => None,
                other => Some(seconds(other.map(str::to_owned), "CATCH_UP_SECONDS", DEFAULT_CATCH_UP_SECONDS, 1)?),
            },
            operator_auth: OperatorAuth::read(
                get("OPERATOR_AUTH").as_deref(),
                get("ACCESS_TEAM_DOMAIN").as_deref(),
                get("ACCESS_AUD").as_deref(),
            ),
        })
    }

    pub fn assignment_policy(&self) -> Result<&Policy, ConfigError> {
        self.assignment_policy.as_ref().map_err(Clone::clone)
    }

    pub fn operator_auth(&self) -> Result<&OperatorAuth, ConfigError> {
        self.operator_auth.as_ref().map_err(Clone::clone)
    }

    pub fn webhook_shared_keys(&self) -> Result<Option<&SharedKeys>, ConfigError> {
        self.webhook_shared_keys.as_ref().map(Option::as_ref).map_err(Clone::clone)
    }

    /// The URL Twilio signed for a request the worker saw as `request_url`.
    pub fn signed_url(&self, request_url: &str) -> String {
        match &self.public_url {
            None => request_url.to_owned(),
            Some(origin) => {
                let after_scheme = request_url.split_once("://").map_or(request_url, |(_, rest)| rest);
                let path_and_query = after_scheme.find('/').map_or("/", |start| &after_scheme[start..]);
                format!("{origin}{path_and_query}")
            }
        }
    }
}

fn seconds(value: Option<String>, name: &'static str, default: u64, minimum: u64) -> Result<u64, ConfigError> {
    let Some(text) = value else {
        return Ok(default);
    };
    let parsed: u64 =
        text.trim().parse().map_err(|_| invalid(name, format!("{text:?}, not a whole number of seconds")))?;
    if parsed < minimum {
        return Err(invalid(name, format!("{parsed}, below the minimum of {minimum} seconds")));
    }
    Ok(parsed)
}

/// `TWILIO_WEBHOOK_SHARED_KEYS`: a JSON object from SharedKey id to its secret,
/// `{"webhooks_sharedkey_…": "…"}`. Ids and secrets are trimmed, like every secret.
fn shared_keys(text: &str) -> Result<SharedKeys, ConfigError> {
    const NAME: &str = "TWILIO_WEBHOOK_SHARED_KEYS";
    let bad = |problem: String| {
        invalid(
            NAME,
            format!(
                "{problem}: use a JSON object from SharedKey id to its secret, such as {{\"webhooks_sharedkey_…\": \"…\"}}"
            ),
        )
    };
    // serde's own message may quote the value (a secret written as a JSON string): only where
    // the problem lies is repeated.
    let object: BTreeMap<String, serde_json::Value> = serde_json::from_str(text.trim())
        .map_err(|e| bad(format!("not a JSON object (at line {}, column {})", e.line(), e.column())))?;
    if object.is_empty() {
        return Err(bad("an object without any key".to_owned()));
    }
    object
        .into_iter()
        .map(|(id, secret)| {
            let id = id.trim().to_owned();
            if id.is_empty() {
                return Err(bad("a key with an empty id".to_owned()));
            }
            match secret.as_str().map(str::trim) {
                Some(secret) if !secret.is_empty() => Ok((id, Secret::new(secret))),
                // The value may be a secret: it is never repeated in the message.
                _ => Err(bad(format!("the secret of {id:?} is not a non-empty string"))),
            }
        })
        .collect::<Result<_, _>>()
        .map(SharedKeys)
}

/// `WORKFLOW_TIMEOUTS`: a JSON object from Workflow SID to its `TaskReservationTimeout` in
/// seconds, `{"WW…": 300}` (text, or a TOML table that wrangler passes as an object).
fn workflow_timeouts(value: Option<String>) -> Result<BTreeMap<WorkflowSid, u64>, ConfigError> {
    const NAME: &str = "WORKFLOW_TIMEOUTS";
    let Some(text) = value else { return Ok(BTreeMap::new()) };
    let bad = |problem: String| invalid(NAME, format!("{problem}: use a JSON object such as {{\"WW…\": 300}}"));
    let object: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&text).map_err(|e| bad(format!("not a JSON object ({e})")))?;
    object
        .into_iter()
        .map(|(key, value)| {
            let sid: WorkflowSid = key.parse().map_err(|e| bad(format!("key {key:?}: {e}")))?;
            let seconds = value
                .as_u64()
                .filter(|s| *s >= 1)
                .ok_or_else(|| bad(format!("{key}: {value} is not a whole number of seconds")))?;
            Ok((sid, seconds))
        })
        .collect()
}

fn flag(value: Option<String>, name: &'static str) -> Result<bool, ConfigError> {
    match value.as_deref().map(str::trim) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(invalid(name, format!("{other:?}: use \"true\" or \"false\""))),
    }
}

fn origin(name: &'static str, url: &str) -> Result<String, ConfigError> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| invalid(name, format!("{url:?}: it must start with https:// (or http://)")))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
        return Err(invalid(name, format!("{url:?}: give only scheme://host[:port], without a path")));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let config = config(&[]).unwrap();
        assert!(config.twilio_auth_token.is_none() && config.reservations_api_token.is_none());
        assert!(!config.allow_unsigned_callbacks);
        assert_eq!(config.reservation_ttl_seconds, 86_400);
        assert_eq!(config.reservation_timeouts, ReservationTimeouts::uniform(120));
        assert_eq!(config.public_url, None);
    }

    #[test]
    fn reads_every_variable() {
        let config = config(&[
            ("TWILIO_AUTH_TOKEN", "tok"),
            ("RESERVATIONS_API_TOKEN", "op"),
            ("ALLOW_UNSIGNED_CALLBACKS", "true"),
            ("PUBLIC_URL", "https://tr.example.com/"),
            ("RESERVATION_TTL_SECONDS", "60"),
            ("RESERVATION_TIMEOUT_SECONDS", "30"),
        ])
        .unwrap();
        assert!(config.twilio_auth_token.unwrap().matches("tok"));
        assert!(config.reservations_api_token.unwrap().matches("op"));
        assert!(config.allow_unsigned_callbacks);
        assert_eq!(config.public_url.as_deref(), Some("https://tr.example.com"));
        assert_eq!((config.reservation_ttl_seconds, config.reservation_timeouts.default_seconds), (60, 30));
    }

    #[test]
    fn each_workflow_may_have_its_own_reservation_timeout() {
        let workflow = format!("WW{}", "a".repeat(32));
        let config = config(&[("WORKFLOW_TIMEOUTS", &format!(r#"{{"{workflow}": 300}}"#))]).unwrap();
        assert_eq!(config.reservation_timeouts.seconds_for(Some(&workflow.parse().unwrap())), 300);
        assert_eq!(config.reservation_timeouts.seconds_for(None), 120);
        for bad in
            ["300", r#"{"WW1": 300}"#, &format!(r#"{{"{workflow}": "300"}}"#), &format!(r#"{{"{workflow}": 0}}"#)]
        {
            let err = self::config(&[("WORKFLOW_TIMEOUTS", bad)]).unwrap_err();
            assert_eq!(err.name, "WORKFLOW_TIMEOUTS", "{bad}");
        }
    }

    #[test]
    fn the_catch_up_runs_every_minute_unless_told_otherwise() {
        assert_eq!(config(&[]).unwrap().catch_up_seconds, Some(60));
        assert_eq!(config(&[("CATCH_UP_SECONDS", " 5 ")]).unwrap().catch_up_seconds, Some(5));
        assert_eq!(config(&[("CATCH_UP_SECONDS", "off")]).unwrap().catch_up_seconds, None);
        for bad in ["0", "soon", "-1"] {
            assert_eq!(config(&[("CATCH_UP_SECONDS", bad)]).unwrap_err().name, "CATCH_UP_SECONDS", "{bad}");
        }
    }

    #[test]
    fn secrets_pasted_with_whitespace_are_trimmed() {
        let config = config(&[("TWILIO_AUTH_TOKEN", "tok\n"), ("RESERVATIONS_API_TOKEN", "  op \r\n")]).unwrap();
        assert!(config.twilio_auth_token.unwrap().matches("tok"));
        assert!(config.reservations_api_token.unwrap().matches("op"));
    }

    #[test]
    fn a_bad_assignment_instruction_is_kept_for_the_callback_to_report() {
        let bad = config(&[("ASSIGNMENT_INSTRUCTION", r#"{"instruction":"transfer"}"#)]).unwrap();
        let err = bad.assignment_policy().unwrap_err();
        assert_eq!(err.name, "ASSIGNMENT_INSTRUCTION");
        assert!(err.to_string().contains("unknown instruction `transfer`"), "{err}");
        assert!(config(&[]).unwrap().assignment_policy().is_ok());
    }

    #[test]
    fn shared_keys_are_read_trimmed_and_a_bad_value_names_the_variable_without_its_secrets() {
        let keys = r#"{" webhooks_sharedkey_a ": " secret-a\n", "webhooks_sharedkey_b": "secret-b"}"#;
        let configured = config(&[("TWILIO_WEBHOOK_SHARED_KEYS", keys)]).unwrap();
        let keys = configured.webhook_shared_keys().unwrap().unwrap();
        assert_eq!(keys.ids().collect::<Vec<_>>(), ["webhooks_sharedkey_a", "webhooks_sharedkey_b"]);
        assert!(keys.secret("webhooks_sharedkey_a").unwrap().matches("secret-a"));
        assert_eq!(config(&[]).unwrap().webhook_shared_keys(), Ok(None));
        for bad in [
            "secret",
            r#""s3cret-value""#,
            "1234567890",
            r#"["s3cret-value"]"#,
            "[]",
            "{}",
            r#"{"k": 1}"#,
            r#"{"k": "  "}"#,
            r#"{"": "s3cret-value"}"#,
            r#"{"k": "s3cret-value""#,
        ] {
            let configured =
                config(&[("TWILIO_WEBHOOK_SHARED_KEYS", bad)]).expect("the rest of the configuration stands");
            let error = configured.webhook_shared_keys().unwrap_err();
            assert_eq!(error.name, "TWILIO_WEBHOOK_SHARED_KEYS", "{bad}");
            assert!(!error.to_string().contains("s3cret-value"), "{error}");
            assert!(!error.to_string().contains("1234567890"), "{error}");
        }
    }

    #[test]
    fn an_empty_secret_is_unset() {
        assert!(config(&[("TWILIO_AUTH_TOKEN", "")]).unwrap().twilio_auth_token.is_none());
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("RESERVATION_TTL_SECONDS", "a day"),
            ("RESERVATION_TTL_SECONDS", "59"),
            ("RESERVATION_TIMEOUT_SECONDS", "-1"),
            ("RESERVATION_TIMEOUT_SECONDS", "0"),
            ("ALLOW_UNSIGNED_CALLBACKS", "yes"),
            ("PUBLIC_URL", "tr.example.com"),
            ("PUBLIC_URL", "https://tr.example.com/callbacks"),
        ] {
            let err = config(&[(name, value)]).unwrap_err();
            assert_eq!(err.name, name);
            assert!(err.to_string().starts_with(name), "{err}");
        }
    }

    #[test]
    fn secrets_are_not_printed() {
        let config = config(&[("TWILIO_AUTH_TOKEN", "hunter2"), ("RESERVATIONS_API_TOKEN", "letmein")]).unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2") && !printed.contains("letmein"), "{printed}");
    }

    #[test]
    fn the_signed_url_uses_public_url_when_set() {
        let plain = config(&[]).unwrap();
        assert_eq!(
            plain.signed_url("http://127.0.0.1:8787/assignment_callback?x=1"),
            "http://127.0.0.1:8787/assignment_callback?x=1"
        );
        let public = config(&[("PUBLIC_URL", "https://abc.ngrok.app")]).unwrap();
        assert_eq!(
            public.signed_url("http://127.0.0.1:8787/assignment_callback?x=1"),
            "https://abc.ngrok.app/assignment_callback?x=1"
        );
        assert_eq!(public.signed_url("http://127.0.0.1:8787"), "https://abc.ngrok.app/");
    }

    #[test]
    fn the_taskrouter_url_defaults_to_twilio_and_takes_an_origin() {
        assert_eq!(config(&[]).unwrap().taskrouter_url, TASKROUTER_URL);
        assert_eq!(
            config(&[("TWILIO_TASKROUTER_URL", "http://127.0.0.1:4010/")]).unwrap().taskrouter_url,
            "http://127.0.0.1:4010"
        );
        assert_eq!(config(&[("TWILIO_TASKROUTER_URL", "ftp://x")]).unwrap_err().name, "TWILIO_TASKROUTER_URL");
    }
}
