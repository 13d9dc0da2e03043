//! What every handler may need: the checked configuration, the store, the clock.

use worker::{Date, Env};

use crate::config::{Config, ConfigError};
use crate::error::ApiError;
use crate::models::Timestamp;
use crate::store::kv::WorkersKv;
use crate::store::layout::Reservations;

pub struct Context {
    pub env: Env,
    pub config: Result<Config, ConfigError>,
}

impl Context {
    pub fn new(env: Env) -> Context {
        // A var may be text or, written as a TOML table or array in wrangler.toml, JSON.
        let config = Config::from_lookup(|name| {
            env.var(name)
                .ok()
                .map(|value| value.to_string())
                .or_else(|| env.object_var::<serde_json::Value>(name).ok().map(|value| value.to_string()))
        });
        Context { env, config }
    }

    pub fn config(&self) -> Result<&Config, ApiError> {
        self.config.as_ref().map_err(|error| ApiError::Config(error.clone()))
    }

    pub fn store(&self) -> Result<Reservations<WorkersKv>, ApiError> {
        Ok(Reservations::new(WorkersKv::open(&self.env)?, self.config()?.reservation_ttl_seconds))
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::from_millis(Date::now().as_millis())
    }
}
