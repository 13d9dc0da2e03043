//! The hub itself: one SQLite-backed Durable Object for the deployment (`HUB`, named
//! [`HUB_NAME`](crate::hub::HUB_NAME)). It is reached only through the worker, which checks the
//! operator token first:
//!
//! - `POST /changes`: reservations as just written to KV; each is kept (forward only) and pushed
//!   to every open console;
//! - `POST /claims`, `POST /claims/release`: one decision per reservation;
//! - `GET /live`: a console's WebSocket, accepted with the Hibernation API (no duration is billed
//!   while it is idle). It first gets a snapshot: what the hub holds, merged with the pending
//!   reservations KV lists (one list per connection, for what the hub was never told).
//!
//! Each request logs one JSON line with the rows it read and wrote.

use serde::Serialize;
// `#[durable_object]` expands to code that names `wasm_bindgen`.
use worker::wasm_bindgen;
use worker::{
    DurableObject, Env, Headers, Method, Request, Response, State, WebSocket, WebSocketIncomingMessage, WebSocketPair,
    console_log, durable_object,
};

use super::context::{Context, now};
use super::hub_tables::Tables;
use crate::hub::card::Card;
use crate::hub::claims::{self, Claim, Verdict};
use crate::hub::outcomes::Day;
use crate::hub::protocol::{Changes, ClaimRequest, ToConsole};
use crate::models::{ReportedStatus, Status, Summary, Timestamp};
use crate::store::Kv;
use crate::store::listing::ListQuery;

/// The subprotocol a console asks for (beside the one that carries its token), and gets back.
pub const PROTOCOL: &str = "taskrouter-edge.v1";

#[durable_object(websocket)]
pub struct Hub {
    state: State,
    env: Env,
}

/// The log line of a request the hub handled.
#[derive(Serialize)]
struct HubLine<'a> {
    route: &'a str,
    outcome: &'a str,
    rows_read: usize,
    rows_written: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    kv: Option<crate::store::Operations>,
    consoles: usize,
}

fn json_reply<T: Serialize>(status: u16, value: &T) -> worker::Result<Response> {
    Ok(Response::from_json(value)?.with_status(status))
}

impl Hub {
    fn tables(&self) -> worker::Result<Tables> {
        Tables::open(self.state.storage().sql())
    }

    fn consoles(&self) -> Vec<WebSocket> {
        self.state.get_websockets()
    }

    /// Sends `message` to every open console; a socket that cannot take it is left to close.
    fn broadcast(&self, message: &ToConsole) {
        let Ok(text) = serde_json::to_string(message) else { return };
        for socket in self.consoles() {
            let _ = socket.send_with_str(&text);
        }
    }

    fn log(&self, route: &str, outcome: &str, tables: &Tables, kv: Option<crate::store::Operations>) {
        let line = HubLine {
            route,
            outcome,
            rows_read: tables.rows_read,
            rows_written: tables.rows_written,
            kv,
            consoles: self.consoles().len(),
        };
        console_log!("{}", serde_json::to_string(&line).unwrap_or_default());
    }

    fn changes(&self, changes: Changes) -> worker::Result<Response> {
        let mut tables = self.tables()?;
        let now = now();
        let mut kept = 0;
        for card in changes.cards {
            let (was_kept, outcome) = tables.keep(&card)?;
            if !was_kept {
                continue;
            }
            kept += 1;
            // The day is sent again only when it moved, and only to someone who looks.
            let day = match outcome {
                Some(_) if !self.consoles().is_empty() => Some(Day::of(&tables.outcomes(now)?, now)),
                _ => None,
            };
            self.broadcast(&ToConsole::Change { now, card: Box::new(card), day });
        }
        tables.prune(now)?;
        self.log("hub /changes", if kept > 0 { "kept" } else { "stale" }, &tables, None);
        json_reply(200, &serde_json::json!({ "kept": kept }))
    }

    fn claim(&self, request: ClaimRequest) -> worker::Result<Response> {
        let mut tables = self.tables()?;
        let now = now();
        let sid = &request.reservation_sid;
        let verdict = claims::judge(tables.status(sid)?, tables.claim(sid)?, now);
        if verdict == Verdict::Granted {
            tables.hold(sid, Claim { decision: request.decision, since: now })?;
        }
        let (status, outcome) = match verdict {
            Verdict::Granted => (200, "granted"),
            Verdict::InFlight(_) => (409, "in_flight"),
            Verdict::Settled { .. } => (409, "settled"),
        };
        self.log("hub /claims", outcome, &tables, None);
        json_reply(status, &verdict)
    }

    fn release(&self, request: ClaimRequest) -> worker::Result<Response> {
        let mut tables = self.tables()?;
        tables.release(&request.reservation_sid)?;
        self.log("hub /claims/release", "released", &tables, None);
        json_reply(200, &serde_json::json!({ "released": true }))
    }

    /// What the hub was never told of, from KV: the pending reservations it lists (one list).
    async fn pending_in_kv(&self, context: &Context, now: Timestamp) -> (Vec<Card>, Option<crate::store::Operations>) {
        let (Ok(config), Ok(store)) = (context.config(), context.store()) else { return (Vec::new(), None) };
        let Ok(query) = ListQuery::parse("status=pending&limit=1000") else { return (Vec::new(), None) };
        let listed = store.page(&query, now, &config.reservation_timeouts).await;
        let operations = Some(store.kv().operations());
        let cards = listed
            .map(|page| {
                page.reservations
                    .into_iter()
                    .filter_map(|reported| {
                        stored_summary(reported).map(|summary| Card::of_summary(summary, &config.reservation_timeouts))
                    })
                    .collect()
            })
            .unwrap_or_default();
        (cards, operations)
    }

    /// A console's WebSocket; `speaks_v1`: the worker says the client offered `taskrouter-edge.v1`.
    async fn connect(&self, speaks_v1: bool) -> worker::Result<Response> {
        let now = now();
        let context = Context::new(self.env.clone());
        let (listed, kv) = self.pending_in_kv(&context, now).await;
        let mut tables = self.tables()?;
        for card in listed {
            // What the hub holds is as new as KV's, or newer: KV's fills the gaps only.
            if tables.status(&card.summary.reservation_sid)?.is_none() {
                tables.keep(&card)?;
            }
        }
        let (pending, recent) = tables.snapshot()?;
        let day = Day::of(&tables.outcomes(now)?, now);
        let WebSocketPair { client, server } = WebSocketPair::new()?;
        self.state.accept_web_socket(&server);
        let snapshot = ToConsole::Snapshot { now, pending, recent, day };
        server.send_with_str(serde_json::to_string(&snapshot).map_err(|e| worker::Error::RustError(e.to_string()))?)?;
        self.log("hub /live", "connected", &tables, kv);
        let headers = Headers::new();
        if speaks_v1 {
            headers.set("sec-websocket-protocol", PROTOCOL)?;
        }
        Ok(Response::from_websocket(client)?.with_headers(headers))
    }
}

/// A listed summary as stored: a pending listing holds pending ones only.
fn stored_summary(reported: Summary<ReportedStatus>) -> Option<Summary> {
    let ReportedStatus::Stored(status) = reported.status else { return None };
    Some(Summary {
        status,
        expires_in_ms: None,
        reservation_sid: reported.reservation_sid,
        task_sid: reported.task_sid,
        workspace_sid: reported.workspace_sid,
        worker_sid: reported.worker_sid,
        workflow_sid: reported.workflow_sid,
        received_at: reported.received_at,
        status_updated_at: reported.status_updated_at,
        task: reported.task,
        agent: reported.agent,
        queue: reported.queue,
        priority: reported.priority,
        task_age_seconds: reported.task_age_seconds,
    })
    .filter(|summary| summary.status == Status::Pending)
}

impl DurableObject for Hub {
    fn new(state: State, env: Env) -> Self {
        Hub { state, env }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        match (req.method(), req.path().as_str()) {
            (Method::Post, "/changes") => self.changes(req.json().await?),
            (Method::Post, "/claims") => self.claim(req.json().await?),
            (Method::Post, "/claims/release") => self.release(req.json().await?),
            (Method::Get, "/live") => {
                let speaks_v1 = req.headers().get("sec-websocket-protocol")?.is_some_and(|offered| offered == PROTOCOL);
                self.connect(speaks_v1).await
            }
            _ => Response::error("no such hub route", 404),
        }
    }

    /// Consoles send nothing the hub needs; a message is ignored.
    async fn websocket_message(&self, _: WebSocket, _: WebSocketIncomingMessage) -> worker::Result<()> {
        Ok(())
    }

    async fn websocket_close(&self, socket: WebSocket, _: usize, _: String, _: bool) -> worker::Result<()> {
        // A received 1005 or 1006 cannot be sent back: the socket is closed with 1000.
        let _ = socket.close(Some(1000), Some("closing"));
        Ok(())
    }

    async fn websocket_error(&self, socket: WebSocket, _: worker::Error) -> worker::Result<()> {
        let _ = socket.close(Some(1011), Some("error"));
        Ok(())
    }
}
