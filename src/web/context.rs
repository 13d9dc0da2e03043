//! What every handler may need: the checked configuration, the store, the hub, the clock.

use worker::{Env, js_sys};

use super::error::ApiError;
use super::kv::WorkersKv;
use crate::durable::client::HubClient;
use taskrouter_core::config::{Config, ConfigError};
use taskrouter_core::hub::port::HubError;
use taskrouter_core::models::Timestamp;
use taskrouter_core::store::layout::Reservations;

pub struct Context {
    pub env: Env,
    /// The configuration, or why it is unusable.
    pub config: Result<Config, ConfigError>,
}

/// A variable as text. A var written as a TOML table or array in wrangler.toml arrives as an
/// object: it is read as its JSON text.
fn var(env: &Env, name: &str) -> Option<String> {
    let value = js_sys::Reflect::get(env, &name.into()).ok()?;
    if value.is_undefined() || value.is_null() {
        return None;
    }
    value.as_string().or_else(|| js_sys::JSON::stringify(&value).ok().and_then(|text| text.as_string()))
}

impl Context {
    pub fn new(env: Env) -> Context {
        let config = Config::from_lookup(|name| var(&env, name));
        Context { env, config }
    }

    pub fn config(&self) -> Result<&Config, ApiError> {
        self.config.as_ref().map_err(|error| ApiError::Config(error.clone()))
    }

    pub fn store(&self) -> Result<Reservations<WorkersKv>, ApiError> {
        Ok(Reservations::new(WorkersKv::open(&self.env)?, self.config()?.reservation_ttl_seconds))
    }

    /// The hub; a missing binding is an error when asked, not here (a callback goes on without).
    pub fn hub(&self) -> Result<HubClient, HubError> {
        HubClient::open(&self.env)
    }
}

/// The time now.
pub fn now() -> Timestamp {
    Timestamp::from_millis(js_sys::Date::now() as u64)
}
