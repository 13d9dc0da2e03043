//! How the Rust futures' work is scheduled: with a promise reaction, not `queueMicrotask`.
//!
//! Every `async` export and every awaited promise wakes a Rust task through js-sys's executor
//! (`js_sys::futures::queue`), which schedules its run as a microtask. It uses the global
//! `queueMicrotask` when there is one, and `Promise.resolve().then` otherwise, and decides once,
//! when its queue is made. Both run the task as a microtask, in the same order; in workerd
//! `queueMicrotask` costs several times what a promise reaction does (see the README's
//! *CPU per request*; `bench/boundary.mjs` measures one await). So the queue is made at start-up
//! with the global's `queueMicrotask` hidden for that moment, and put back at once.
//!
//! If the runtime does not let the global be changed, nothing changes: the executor keeps
//! `queueMicrotask`, which is only slower.

use worker::js_sys::{self, Reflect};
use worker::wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::spawn_local;

pub fn schedule_with_promises() {
    let global = js_sys::global();
    let name = JsValue::from_str("queueMicrotask");
    let Ok(queue_microtask) = Reflect::get(&global, &name) else { return };
    if Reflect::set(&global, &name, &JsValue::UNDEFINED) != Ok(true) {
        return;
    }
    // The executor's queue is made by its first task.
    spawn_local(async {});
    let _ = Reflect::set(&global, &name, &queue_microtask);
}
