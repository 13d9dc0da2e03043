//! Reads the body and answers `{}`, through the same entry point and request type as the
//! project's worker (`web_sys::Request`, no `cf` read).

use worker::js_sys::Uint8Array;
use worker::wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{Request, Response, ResponseInit};
use worker::{Context, Env, event};

#[event(fetch)]
async fn fetch(req: Request, _env: Env, _ctx: Context) -> worker::Result<Response> {
    let body = JsFuture::from(req.array_buffer()?).await?;
    let _bytes = Uint8Array::new(&body).to_vec();
    let headers = worker::web_sys::Headers::new()?;
    headers.set("content-type", "application/json")?;
    let init = ResponseInit::new();
    init.set_headers(&JsValue::from(headers));
    Ok(Response::new_with_opt_str_and_init(Some("{}"), &init)?)
}
