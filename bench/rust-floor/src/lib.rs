//! Reads the body and answers `{}`, with the same request type as the project's worker
//! (`web_sys::Request`, no `cf` read) and workers-rs's own `#[event(fetch)]`: what a Rust worker
//! pays as workers-rs comes. (The project's worker exports `fetch` with `wasm_bindgen` itself,
//! for size: see `src/lib.rs`.)
//!
//! With `?awaits=N` it first awaits N promises that the runtime has already resolved, one after
//! another: `bench/boundary.mjs` compares what one such await costs here (wasm-bindgen-futures'
//! `JsFuture` and js-sys's executor) with what it costs in JavaScript (`bench/floor`).

use worker::js_sys::{Promise, Uint8Array};
use worker::wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{Request, Response, ResponseInit};
use worker::{Context, Env, event};

fn awaits_asked(url: &str) -> usize {
    url.split_once("awaits=").and_then(|(_, n)| n.split('&').next()?.parse().ok()).unwrap_or(0)
}

#[event(fetch)]
async fn fetch(req: Request, _env: Env, _ctx: Context) -> worker::Result<Response> {
    for _ in 0..awaits_asked(&req.url()) {
        JsFuture::from(Promise::resolve(&JsValue::NULL)).await?;
    }
    let body = JsFuture::from(req.array_buffer()?).await?;
    let _bytes = Uint8Array::new(&body).to_vec();
    let headers = worker::web_sys::Headers::new()?;
    headers.set("content-type", "application/json")?;
    let init = ResponseInit::new();
    init.set_headers(&JsValue::from(headers));
    Ok(Response::new_with_opt_str_and_init(Some("{}"), &init)?)
}
