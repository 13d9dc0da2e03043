//! Signing in to Twilio's REST API (accept and reject at the edge, the catch-up's reads): which
//! credentials, and the `Authorization` header they make.

use base64::Engine;

use super::{Config, Secret};
use crate::models::AccountSid;

/// A setting the worker needs for this and does not have: it names the variable to set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not set: run 'wrangler secret put {0}' (or add it to .dev.vars)")]
pub struct UnsetSecret(pub &'static str);

/// Where the credentials for Twilio's REST API come from (accept and reject at the edge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestSignIn<'a> {
    /// `TWILIO_API_KEY` and `TWILIO_API_SECRET`.
    ApiKey(&'a str, &'a Secret),
    /// `TWILIO_ACCOUNT_SID` and `TWILIO_AUTH_TOKEN`.
    ConfiguredAccount(&'a AccountSid, &'a Secret),
    /// The reservation's callback's Account SID and `TWILIO_AUTH_TOKEN`.
    CallbackAccount(&'a Secret),
    NotConfigured,
}

impl RestSignIn<'_> {
    /// For `/health`: the variables it uses, never their values.
    pub fn describe(self) -> &'static str {
        match self {
            RestSignIn::ApiKey(..) => "TWILIO_API_KEY and TWILIO_API_SECRET",
            RestSignIn::ConfiguredAccount(..) => "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
            RestSignIn::CallbackAccount(_) => "each reservation's AccountSid and TWILIO_AUTH_TOKEN",
            RestSignIn::NotConfigured => {
                "not configured: set TWILIO_AUTH_TOKEN, or TWILIO_API_KEY and TWILIO_API_SECRET"
            }
        }
    }
}

impl Config {
    /// How the worker signs in to Twilio's REST API: the API key pair when set, otherwise the
    /// Account SID (`TWILIO_ACCOUNT_SID`, else the reservation's callback's) with
    /// `TWILIO_AUTH_TOKEN`.
    pub fn rest_sign_in(&self) -> RestSignIn<'_> {
        match (&self.twilio_api_key, &self.twilio_auth_token, &self.twilio_account_sid) {
            (Some((key, secret)), _, _) => RestSignIn::ApiKey(key, secret),
            (None, Some(token), Some(account)) => RestSignIn::ConfiguredAccount(account, token),
            (None, Some(token), None) => RestSignIn::CallbackAccount(token),
            (None, None, _) => RestSignIn::NotConfigured,
        }
    }

    /// How often the hub catches up from TaskRouter, in seconds: `None` when it never does
    /// (`CATCH_UP_SECONDS=off`, or no credentials for TaskRouter's REST API).
    pub fn catch_up_every(&self) -> Option<u64> {
        self.catch_up_seconds.filter(|_| self.rest_sign_in() != RestSignIn::NotConfigured)
    }

    /// `Authorization: Basic …` for Twilio's REST API, by [`Config::rest_sign_in`]; `account` is
    /// the Account SID the reservation's callback carried. `Err` names what is missing.
    pub fn rest_authorization(&self, account: Option<&AccountSid>) -> Result<Secret, UnsetSecret> {
        let (user, password) = match self.rest_sign_in() {
            RestSignIn::ApiKey(key, secret) => (key.to_owned(), secret),
            RestSignIn::ConfiguredAccount(account, token) => (account.to_string(), token),
            RestSignIn::CallbackAccount(token) => {
                (account.ok_or(UnsetSecret("TWILIO_ACCOUNT_SID"))?.to_string(), token)
            }
            RestSignIn::NotConfigured => return Err(UnsetSecret("TWILIO_AUTH_TOKEN")),
        };
        let password = password.expose();
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        Ok(Secret::new(format!("Basic {encoded}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_rest_credentials_prefer_the_api_key_and_name_what_is_missing() {
        let basic = |user_pass: &str| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_pass));
        let config = |vars: &[(&str, &str)]| {
            let vars: std::collections::HashMap<&str, &str> = vars.iter().copied().collect();
            Config::from_lookup(|name| vars.get(name).map(|value| value.to_string()))
        };
        let from_callback: AccountSid = format!("AC{}", "c".repeat(32)).parse().unwrap();
        let token_only = config(&[("TWILIO_AUTH_TOKEN", "tok")]).unwrap();
        assert_eq!(token_only.rest_authorization(None).unwrap_err(), UnsetSecret("TWILIO_ACCOUNT_SID"));
        assert_eq!(
            token_only.rest_authorization(Some(&from_callback)).unwrap().expose(),
            basic(&format!("{from_callback}:tok"))
        );
        let account = format!("AC{}", "a".repeat(32));
        let with_account = config(&[("TWILIO_AUTH_TOKEN", "tok"), ("TWILIO_ACCOUNT_SID", &account)]).unwrap();
        assert_eq!(
            with_account.rest_authorization(Some(&from_callback)).unwrap().expose(),
            basic(&format!("{account}:tok"))
        );
        let key = config(&[("TWILIO_API_KEY", "SKkey"), ("TWILIO_API_SECRET", " sec\n")]).unwrap();
        assert_eq!(key.rest_authorization(None).unwrap().expose(), basic("SKkey:sec"));
        assert_eq!(
            config(&[]).unwrap().rest_authorization(Some(&from_callback)).unwrap_err(),
            UnsetSecret("TWILIO_AUTH_TOKEN")
        );
        assert_eq!(config(&[("TWILIO_API_KEY", "SKkey")]).unwrap_err().name, "TWILIO_API_SECRET");
        assert_eq!(config(&[("TWILIO_ACCOUNT_SID", "nope")]).unwrap_err().name, "TWILIO_ACCOUNT_SID");
    }
}
