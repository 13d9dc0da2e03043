//! taskrouter-edge: a Twilio TaskRouter Assignment Callback URL on Cloudflare Workers.
//!
//! The pure core (everything but `api`, `store::kv` and the entry point below) has no `worker`
//! types and is tested on the host; the CLI reuses it.

pub mod config;
pub mod error;
pub mod flows;
pub mod http;
pub mod instructions;
pub mod json;
pub mod models;
pub mod request_log;
pub mod routes;
pub mod store;
pub mod twilio;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod thrown;

/// Talc, not the standard library's dlmalloc (see Cargo.toml); it grows the wasm memory as
/// dlmalloc does.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
// SAFETY: `new_global` is for the one global allocator, which this is; `TalckWasm` skips locking,
// which is sound on one thread, and a Workers isolate runs its wasm on one.
static ALLOCATOR: talc::TalckWasm = unsafe { talc::TalckWasm::new_global() };

#[cfg(target_arch = "wasm32")]
mod entry {
    use worker::wasm_bindgen::JsValue;
    use worker::wasm_bindgen::prelude::wasm_bindgen;
    use worker::web_sys::{self, Headers, Response, ResponseInit};
    use worker::{Context as WorkerContext, Env, console_log, event, worker_sys};

    use crate::api::request::Incoming;
    use crate::api::{Context, activities, apart, assignment_callback, console, events, health, reservations};
    use crate::http::Reply;
    use crate::request_log::RequestLog;
    use crate::routes::{self, Route};

    /// Once per isolate, before its first request: see `api::executor`.
    #[event(start)]
    fn start() {
        crate::api::executor::schedule_with_promises();
    }

    /// The runtime's `fetch` handler, exported with `wasm_bindgen` as `#[event(fetch)]` would
    /// export it, but without `worker::Error`: that macro formats its error with `Display`, which
    /// links the messages of every error workers-rs can make (its router's, `std::io`'s,
    /// `serde_wasm_bindgen`'s) though this worker never makes them. With the TaskRouter client
    /// off `worker::Fetch` too (`api::taskrouter`), nothing formats a `worker::Error`, and the
    /// gzipped wasm lost 17.8 KB (214,294 to 196,476 bytes). Every failure here is already an
    /// `ApiError` answer; only the runtime's own `Headers` or `Response` constructor throwing
    /// reaches the runtime, which answers 500 and logs it.
    ///
    /// Takes the runtime's own `Request` rather than `worker::Request`: see `api::request`.
    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, wasm_bindgen_futures = ::worker::wasm_bindgen_futures, js_sys = ::worker::js_sys)]
    pub async fn fetch(raw: web_sys::Request, env: Env, worker_ctx: worker_sys::Context) -> Result<JsValue, JsValue> {
        let worker_ctx = WorkerContext::new(worker_ctx);
        let started = crate::api::context::now();
        let req = Incoming::new(raw);
        let method = req.method();
        let path = req.path();
        let ctx = Context::new(env);
        let route = routes::resolve(&method, path);
        let pattern: &str = match &route {
            Ok(route) => route.pattern(),
            Err(_) => path,
        };
        let mut log = RequestLog::new(&method, pattern);

        // Each route apart: see `api::apart`.
        let answer = match route {
            Ok(Route::AssignmentCallback) => {
                apart(assignment_callback::handle(&req, &ctx, &worker_ctx, &mut log)).await
            }
            Ok(Route::Events) => apart(events::handle(&req, &ctx, &worker_ctx, &mut log)).await,
            Ok(Route::ListReservations) => apart(reservations::list::handle(&req, &ctx, &mut log)).await,
            Ok(Route::ShowReservation(sid)) => apart(reservations::show::handle(&req, &sid, &ctx, &mut log)).await,
            Ok(Route::UpdateStatus(sid)) => {
                apart(reservations::update_status::handle(&req, &sid, &ctx, &worker_ctx, &mut log)).await
            }
            Ok(Route::Decide(sid, decision)) => {
                apart(reservations::decide::handle(&req, &sid, decision, &ctx, &worker_ctx, &mut log)).await
            }
            Ok(Route::Activities) => apart(activities::handle(&req, &ctx, &mut log)).await,
            Ok(Route::Health) => Ok(health::handle(&ctx, &mut log)),
            Ok(Route::Console(asset)) => Ok(console::handle(asset)),
            Err(error) => Err(error),
        };
        let reply = answer.unwrap_or_else(|error| {
            log.outcome = error.code();
            Reply::error(&error)
        });

        log.status = reply.status;
        log.duration_ms = started.age_ms(crate::api::context::now());
        console_log!("{}", log.line());
        respond(reply)
    }

    /// The headers of each kind of answer (they are all `&'static str`), made once per isolate:
    /// a `Response` copies the headers it is given, so one `Headers` serves every answer of its
    /// kind, and an answer costs no crossing into JavaScript per header.
    type HeaderKind = (&'static str, &'static str, Option<&'static str>);

    thread_local! {
        static HEADERS: std::cell::RefCell<Vec<(HeaderKind, JsValue)>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    fn headers_for(kind: HeaderKind) -> Result<JsValue, JsValue> {
        if let Some(found) = HEADERS.with_borrow(|made| made.iter().find(|(k, _)| *k == kind).map(|(_, h)| h.clone())) {
            return Ok(found);
        }
        let (content_type, csp, allow) = kind;
        let headers = Headers::new()?;
        headers.set("content-type", content_type)?;
        headers.set("content-security-policy", csp)?;
        headers.set("x-content-type-options", "nosniff")?;
        headers.set("referrer-policy", "no-referrer")?;
        if let Some(allow) = allow {
            headers.set("allow", allow)?;
        }
        let headers = JsValue::from(headers);
        HEADERS.with_borrow_mut(|made| made.push((kind, headers.clone())));
        Ok(headers)
    }

    fn respond(reply: Reply) -> Result<JsValue, JsValue> {
        let init = ResponseInit::new();
        init.set_status(reply.status);
        init.set_headers(&headers_for((reply.content_type, reply.csp, reply.allow))?);
        // A 204 may carry no body at all, not even an empty one.
        let body = (!reply.body.is_empty()).then_some(reply.body.as_str());
        Ok(Response::new_with_opt_str_and_init(body, &init)?.into())
    }
}
