//! What every handler may need: the checked configuration, the store, the clock.

use std::cell::RefCell;
use std::rc::Rc;

use worker::Env;
use worker::js_sys::{self, JSON, Object, Reflect};
use worker::wasm_bindgen::JsValue;

use crate::config::{Config, ConfigError};
use crate::error::ApiError;
use crate::models::Timestamp;
use crate::store::kv::WorkersKv;
use crate::store::layout::Reservations;

/// The configuration, or why it is unusable; one per isolate.
type Checked = Rc<Result<Config, ConfigError>>;

pub struct Context {
    pub env: Env,
    pub config: Checked,
}

thread_local! {
    /// The configuration read from the `env` it came from. An isolate's `env` is one object
    /// that lives as long as the isolate, and a new deployment (new vars or secrets) runs in new
    /// isolates, so the configuration is read and checked once per isolate, not on every
    /// request: that was about a dozen crossings into JavaScript per request, two per unset
    /// variable. The `env` is compared by identity, so a runtime that passes a new `env` gets
    /// its configuration read again.
    static CONFIG: RefCell<Option<(Env, Checked)>> = const { RefCell::new(None) };
}

/// A variable as text. A var written as a TOML table or array in wrangler.toml arrives as an
/// object: it is read as its JSON text.
fn var(env: &Env, name: &str) -> Option<String> {
    let value = Reflect::get(env, &JsValue::from_str(name)).ok()?;
    if value.is_undefined() || value.is_null() {
        return None;
    }
    value.as_string().or_else(|| JSON::stringify(&value).ok().and_then(|text| text.as_string()))
}

/// Once per isolate, so kept out of line (here for LLVM, in `Cargo.toml` for `wasm-opt`): inlined,
/// its code sat in the entry point's function, which runs on every request and which V8 compiles
/// whole, and again when it tiers it up.
#[cold]
#[inline(never)]
fn read_config(env: &Env) -> Checked {
    Rc::new(Config::from_lookup(|name| var(env, name)))
}

impl Context {
    pub fn new(env: Env) -> Context {
        let config = CONFIG.with_borrow_mut(|cached| match cached {
            Some((seen, config)) if Object::is(seen, &env) => Rc::clone(config),
            _ => {
                let config = read_config(&env);
                *cached = Some((env.clone(), Rc::clone(&config)));
                config
            }
        });
        Context { env, config }
    }

    pub fn config(&self) -> Result<&Config, ApiError> {
        self.config.as_ref().as_ref().map_err(|error| ApiError::Config(error.clone()))
    }

    pub fn store(&self) -> Result<Reservations<WorkersKv>, ApiError> {
        Ok(Reservations::new(WorkersKv::open(&self.env)?, self.config()?.reservation_ttl_seconds))
    }

    pub fn now(&self) -> Timestamp {
        now()
    }
}

/// The time now: JavaScript's `Date.now()`, one call, where `worker::Date::now()` makes a `Date`
/// and asks it the time (two crossings and an object, four times per stored callback).
pub fn now() -> Timestamp {
    Timestamp::from_millis(js_sys::Date::now() as u64)
}
