//! The worker's side of the hub: its stub, and the requests the worker makes of it. The hub is
//! optional (an older `wrangler.toml` has no `HUB` binding): without it, the worker works without
//! live consoles or serialized decisions.

use serde::Serialize;
use serde::de::DeserializeOwned;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Stub};

use crate::hub::HUB_NAME;
use crate::hub::claims::Verdict;
use crate::hub::protocol::{Changes, ClaimRequest};

/// The Durable Object binding's name in wrangler.toml.
pub const BINDING: &str = "HUB";

pub struct HubClient {
    stub: Stub,
}

impl HubClient {
    /// The deployment's hub; `None` when the worker has no `HUB` binding.
    pub fn open(env: &Env) -> Option<HubClient> {
        let namespace = env.durable_object(BINDING).ok()?;
        Some(HubClient { stub: namespace.get_by_name(HUB_NAME).ok()? })
    }

    async fn post<T: Serialize>(&self, path: &str, body: &T) -> Result<Response, String> {
        let headers = Headers::new();
        headers.set("content-type", "application/json").map_err(|e| e.to_string())?;
        let mut init = RequestInit::new();
        let body = serde_json::to_string(body).map_err(|e| e.to_string())?;
        init.with_method(Method::Post).with_headers(headers).with_body(Some(body.into()));
        let request = Request::new_with_init(&format!("https://hub{path}"), &init).map_err(|e| e.to_string())?;
        self.stub.fetch_with_request(request).await.map_err(|e| e.to_string())
    }

    async fn answer<T: DeserializeOwned>(mut response: Response) -> Result<T, String> {
        let text = response.text().await.map_err(|e| e.to_string())?;
        serde_json::from_str(&text).map_err(|e| format!("the hub answered {}: {e}", response.status_code()))
    }

    /// Tells the hub of reservations just written.
    pub async fn tell(&self, changes: &Changes) -> Result<(), String> {
        let response = self.post("/changes", changes).await?;
        match response.status_code() {
            200 => Ok(()),
            status => Err(format!("the hub answered {status}")),
        }
    }

    /// Asks for the one decision on a reservation.
    pub async fn claim(&self, request: &ClaimRequest) -> Result<Verdict, String> {
        let response = self.post("/claims", request).await?;
        match response.status_code() {
            200 | 409 => Self::answer(response).await,
            status => Err(format!("the hub answered {status}")),
        }
    }

    /// Gives a claim back: TaskRouter was not asked, or refused, and nothing changed.
    pub async fn release(&self, request: &ClaimRequest) -> Result<(), String> {
        self.post("/claims/release", request).await.map(drop)
    }

    /// Hands a console's WebSocket upgrade to the hub, which answers `101` with the socket, and
    /// with the subprotocol `taskrouter-edge.v1` when `speaks_v1` (the client offered it). The
    /// client's other subprotocols (its token) stay here.
    pub async fn connect(&self, speaks_v1: bool) -> worker::Result<Response> {
        let headers = Headers::new();
        headers.set("upgrade", "websocket")?;
        if speaks_v1 {
            headers.set("sec-websocket-protocol", super::hub_object::PROTOCOL)?;
        }
        let mut init = RequestInit::new();
        init.with_method(Method::Get).with_headers(headers);
        self.stub.fetch_with_request(Request::new_with_init("https://hub/live", &init)?).await
    }
}
