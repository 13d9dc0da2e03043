//! The worker's side of the hub: its stub, and one question at a time, each bounded by
//! [`HUB_TIMEOUT_MS`]. A missing binding, a failure and a timeout are all [`HubError`]s: the
//! callback carries on without the hub, everything else answers `503`.

use std::time::Duration;

use futures_util::future::{Either, select};
use worker::{Delay, Env, Headers, Method, Request, RequestInit, Response, Stub};

use super::{BINDING, PROTOCOL};
use taskrouter_core::hub::HUB_NAME;
use taskrouter_core::hub::port::{HUB_TIMEOUT_MS, HubError, HubPort};
use taskrouter_core::hub::protocol::{HubReply, HubRequest};

pub struct HubClient {
    stub: Stub,
}

fn failed(error: impl std::fmt::Display) -> HubError {
    HubError::Failed(error.to_string())
}

impl HubClient {
    /// The deployment's hub.
    pub fn open(env: &Env) -> Result<HubClient, HubError> {
        let namespace = env.durable_object(BINDING).map_err(|_| HubError::NotBound)?;
        Ok(HubClient { stub: namespace.get_by_name(HUB_NAME).map_err(failed)? })
    }

    async fn exchange(&self, body: String) -> Result<HubReply, HubError> {
        let headers = Headers::new();
        headers.set("content-type", "application/json").map_err(failed)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_headers(headers).with_body(Some(body.into()));
        let request = Request::new_with_init("https://hub/ledger", &init).map_err(failed)?;
        let mut response = self.stub.fetch_with_request(request).await.map_err(failed)?;
        let text = response.text().await.map_err(failed)?;
        match response.status_code() {
            200 => serde_json::from_str(&text).map_err(|e| failed(format!("an answer that does not read: {e}"))),
            status => Err(failed(format!("it answered {status}: {text}"))),
        }
    }

    /// Hands a console's WebSocket upgrade to the hub, which answers `101` with the socket, and
    /// with the subprotocol `taskrouter-edge.v1` when `speaks_v1` (the client offered it). The
    /// client's other subprotocols (its token) stay here.
    pub async fn connect(&self, speaks_v1: bool) -> Result<Response, HubError> {
        let headers = Headers::new();
        if speaks_v1 {
            headers.set("sec-websocket-protocol", PROTOCOL).map_err(failed)?;
        }
        headers.set("upgrade", "websocket").map_err(failed)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Get).with_headers(headers);
        let request = Request::new_with_init("https://hub/live", &init).map_err(failed)?;
        let upgrade = self.stub.fetch_with_request(request);
        let timeout = Delay::from(Duration::from_millis(HUB_TIMEOUT_MS));
        match select(std::pin::pin!(upgrade), std::pin::pin!(timeout)).await {
            Either::Left((answer, _)) => answer.map_err(failed),
            Either::Right(((), _)) => Err(HubError::TimedOut(HUB_TIMEOUT_MS)),
        }
    }
}

impl HubPort for HubClient {
    async fn ask(&self, request: HubRequest) -> Result<HubReply, HubError> {
        let body = serde_json::to_string(&request).map_err(failed)?;
        let exchange = self.exchange(body);
        let timeout = Delay::from(Duration::from_millis(HUB_TIMEOUT_MS));
        match select(std::pin::pin!(exchange), std::pin::pin!(timeout)).await {
            Either::Left((answer, _)) => answer,
            Either::Right(((), _)) => Err(HubError::TimedOut(HUB_TIMEOUT_MS)),
        }
    }
}

/// Without a binding there is no hub to ask: every question fails as a missing binding.
pub struct MissingHub;

impl HubPort for MissingHub {
    async fn ask(&self, _: HubRequest) -> Result<HubReply, HubError> {
        Err(HubError::NotBound)
    }
}
