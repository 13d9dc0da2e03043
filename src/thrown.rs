//! What a value thrown by the runtime says, for an error message: the one reading of a
//! JavaScript exception, used by the KV store and by the TaskRouter client (wasm only). It sits
//! beside both rather than in `api`, so the store does not reach up into the handlers.

use worker::js_sys;
use worker::wasm_bindgen::{JsCast, JsValue};

/// An `Error`'s message, a thrown string as it is, or a plain phrase for anything else.
pub fn message(thrown: JsValue) -> String {
    thrown
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| thrown.as_string())
        .unwrap_or_else(|| "an error without a message".to_owned())
}
