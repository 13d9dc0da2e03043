//! The hub itself: one SQLite-backed Durable Object for the deployment (`HUB`, named
//! [`HUB_NAME`](taskrouter_core::hub::HUB_NAME)). It is reached only through the worker:
//!
//! - `POST /ledger`: one [`HubRequest`], answered by the [`Ledger`] in one run of statements;
//!   every reservation it changed is pushed to the open consoles;
//! - `GET /live`: a console's WebSocket (the worker checked the operator first), accepted with
//!   the Hibernation API (no duration is billed while it is idle), which gets a snapshot first.
//!
//! Its tables are made once, when the object starts. When it is new, ran the earlier layout, or
//! the worker could not hand it a callback, it imports the newest reservations from KV before its
//! first answer: one KV list, at most once per start. Each request logs one JSON line with the
//! rows it read and wrote.

use std::cell::{Cell, RefCell};

use serde::Serialize;
use worker::wasm_bindgen::{JsCast, JsValue};
// `#[durable_object]` expands to code that names `wasm_bindgen`.
use worker::wasm_bindgen;
use worker::{
    DurableObject, Env, Headers, Method, Request, Response, State, WebSocket, WebSocketIncomingMessage, WebSocketPair,
    console_log, durable_object, js_sys,
};

use super::storage::DurableSql;
use super::{IMPORT_DUE_KEY, PROTOCOL};
use crate::web::context::{Context, now};
use taskrouter_core::hub::KEPT_MS;
use taskrouter_core::hub::card::Card;
use taskrouter_core::hub::ledger::{Ledger, LedgerFault};
use taskrouter_core::hub::outcomes::{DayMove, OutcomeRow};
use taskrouter_core::hub::protocol::{HubReply, HubRequest, ToConsole};
use taskrouter_core::hub::schema::Schema;
use taskrouter_core::hub::sql::SqlCost;
use taskrouter_core::store::Kv;

#[durable_object]
pub struct Hub {
    pub(super) state: State,
    /// The worker's configuration and bindings, read once per start.
    pub(super) context: Context,
    pub(super) ledger: RefCell<Ledger<DurableSql>>,
    /// Why the tables could not be made, if they could not: every answer is then `500`.
    broken: Option<String>,
    /// Whether this start has looked for an import that is due.
    import_checked: Cell<bool>,
    /// When the next catch-up is set for (ms), as far as this start knows (`alarm.rs`).
    pub(super) alarm_at: Cell<Option<u64>>,
}

/// The log line of a request the hub handled.
#[derive(Serialize)]
struct HubLine<'a> {
    route: &'a str,
    outcome: &'a str,
    rows_read: u64,
    rows_written: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    kv: Option<taskrouter_core::store::Operations>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    consoles: usize,
}

/// Why the hub could not answer a question; nothing it holds changed.
#[derive(Debug, thiserror::Error)]
pub(super) enum AnswerFailure {
    #[error("the hub could not make a claim token (crypto.randomUUID)")]
    NoClaimToken,
    #[error(transparent)]
    Ledger(#[from] LedgerFault),
}

/// A claim's token: 128 random bits from the runtime's `crypto.randomUUID()`.
fn random_token() -> Option<String> {
    let crypto = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).ok()?;
    let make =
        js_sys::Reflect::get(&crypto, &JsValue::from_str("randomUUID")).ok()?.dyn_into::<js_sys::Function>().ok()?;
    Some(make.call0(&crypto).ok()?.as_string()?.replace('-', ""))
}

fn json_reply<T: Serialize>(status: u16, value: &T) -> worker::Result<Response> {
    Ok(Response::from_json(value)?.with_status(status))
}

impl Hub {
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

    pub(super) fn log(
        &self,
        route: &str,
        outcome: &str,
        cost: SqlCost,
        kv: Option<taskrouter_core::store::Operations>,
        error: Option<String>,
    ) {
        let line = HubLine {
            route,
            outcome,
            rows_read: cost.rows_read,
            rows_written: cost.rows_written,
            kv,
            error,
            consoles: self.consoles().len(),
        };
        console_log!("{}", serde_json::to_string(&line).unwrap_or_default());
    }

    /// Imports the newest reservations from KV when an import is due (one KV list), once per
    /// start. A failure is logged and leaves the import due.
    pub(super) async fn import_if_due(&self) {
        if self.import_checked.replace(true) {
            return;
        }
        let (Ok(config), Ok(store)) = (self.context.config(), self.context.store()) else { return };
        let due_here = Schema::import_due(self.ledger.borrow_mut().sql()).unwrap_or(true);
        let marked = match store.kv().get(IMPORT_DUE_KEY).await {
            Ok(marker) => marker.is_some(),
            Err(_) => false,
        };
        if !due_here && !marked {
            return;
        }
        let result = match store.newest().await {
            Ok((summaries, unreadable)) => {
                for key in &unreadable {
                    console_log!(
                        "{}",
                        serde_json::json!({ "route": "hub import", "outcome": "skipped_unreadable", "key": key })
                    );
                }
                let cards = summaries
                    .into_iter()
                    .map(|summary| Card::of_summary(summary, &config.reservation_timeouts))
                    .collect();
                let mut ledger = self.ledger.borrow_mut();
                ledger
                    .import(cards, now())
                    .and_then(|added| Schema::mark_imported(ledger.sql()).map(|()| added).map_err(LedgerFault::from))
                    .map_err(|fault| fault.to_string())
            }
            Err(error) => Err(error.to_string()),
        };
        if result.is_ok() && marked {
            let _ = store.kv().delete(IMPORT_DUE_KEY).await;
        }
        let cost = self.ledger.borrow_mut().sql().take_cost();
        let operations = Some(store.kv().operations());
        match result {
            Ok(added) => self.log("hub import", &format!("imported_{added}"), cost, operations, None),
            Err(error) => {
                self.import_checked.set(false);
                self.log("hub import", "import_failed", cost, operations, Some(error));
            }
        }
    }

    async fn ledger(&self, mut req: Request) -> worker::Result<Response> {
        let request: HubRequest = match req.text().await.map(|text| serde_json::from_str(&text)) {
            Ok(Ok(request)) => request,
            Ok(Err(error)) => return Response::error(format!("a question that does not read: {error}"), 400),
            Err(error) => return Response::error(error.to_string(), 400),
        };
        self.import_if_due().await;
        match self.answer(request, "hub /ledger") {
            Ok((reply, changed)) => {
                if changed {
                    self.ensure_catch_up().await;
                }
                json_reply(200, &reply)
            }
            Err(fault) => Response::error(fault.to_string(), 500),
        }
    }

    /// Answers one question in one run of statements, pushes what it changed to the consoles
    /// and logs it under `route`; returns the reply and whether anything changed.
    pub(super) fn answer(&self, request: HubRequest, route: &str) -> Result<(HubReply, bool), AnswerFailure> {
        let now = now();
        let answered = {
            let mut ledger = self.ledger.borrow_mut();
            // A claim is granted only with a token nobody can guess; no other question needs one.
            let token = if matches!(request, HubRequest::Claim { .. }) {
                random_token().ok_or(AnswerFailure::NoClaimToken)?
            } else {
                String::new()
            };
            let answer = ledger.answer(request, now, || token);
            // What each change moved in the day, only for someone who looks.
            let looking = !self.consoles().is_empty();
            let moved: Vec<Option<DayMove>> = match &answer {
                Ok(answer) if looking => {
                    let ats: Vec<_> =
                        answer.changed.iter().map(|card| OutcomeRow::of(card).map(|row| row.at)).collect();
                    ledger.day_moves(now, &ats)
                }
                _ => Vec::new(),
            };
            if answer.as_ref().is_ok_and(|answer| !answer.changed.is_empty()) {
                let _ = ledger.prune(now, KEPT_MS);
            }
            (answer, moved, ledger.sql().take_cost())
        };
        match answered {
            (Ok(answer), moved, cost) => {
                for (index, card) in answer.changed.iter().enumerate() {
                    let day_moved = moved.get(index).cloned().flatten();
                    self.broadcast(&ToConsole::Change { now, card: Box::new(card.clone()), day_moved });
                }
                let outcome = serde_json::to_value(&answer.reply)
                    .ok()
                    .and_then(|value| value.get("reply").and_then(|reply| reply.as_str().map(str::to_owned)))
                    .unwrap_or_default();
                self.log(route, &outcome, cost, None, None);
                Ok((answer.reply, !answer.changed.is_empty()))
            }
            (Err(fault), _, cost) => {
                self.log(route, "failed", cost, None, Some(fault.to_string()));
                Err(fault.into())
            }
        }
    }

    /// A console's WebSocket; `speaks_v1`: the worker says the client offered `taskrouter-edge.v1`.
    async fn live_socket(&self, speaks_v1: bool) -> worker::Result<Response> {
        self.import_if_due().await;
        let now = now();
        let snapshot = {
            let mut ledger = self.ledger.borrow_mut();
            let (pending, recent) =
                ledger.snapshot(now).map_err(|fault| worker::Error::RustError(fault.to_string()))?;
            let day = ledger.day(now).map_err(|fault| worker::Error::RustError(fault.to_string()))?;
            ToConsole::Snapshot { now, pending, recent, day }
        };
        let WebSocketPair { client, server } = WebSocketPair::new()?;
        self.state.accept_web_socket(&server);
        server.send_with_str(serde_json::to_string(&snapshot).map_err(|e| worker::Error::RustError(e.to_string()))?)?;
        let cost = self.ledger.borrow_mut().sql().take_cost();
        self.log("hub /live", "connected", cost, None, None);
        let headers = Headers::new();
        if speaks_v1 {
            headers.set("sec-websocket-protocol", PROTOCOL)?;
        }
        Ok(Response::from_websocket(client)?.with_headers(headers))
    }
}

impl DurableObject for Hub {
    fn new(state: State, env: Env) -> Self {
        let mut sql = DurableSql::new(state.storage().sql());
        let broken = Schema::create(&mut sql).err().map(|failure| failure.to_string());
        Hub {
            state,
            context: Context::new(env),
            ledger: RefCell::new(Ledger::new(sql)),
            broken,
            import_checked: Cell::new(false),
            alarm_at: Cell::new(None),
        }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        if let Some(broken) = &self.broken {
            return Response::error(format!("the hub's tables could not be made: {broken}"), 500);
        }
        match (req.method(), req.path().as_str()) {
            (Method::Post, "/ledger") => self.ledger(req).await,
            (Method::Get, "/live") => {
                let speaks_v1 = req.headers().get("sec-websocket-protocol")?.is_some_and(|offered| offered == PROTOCOL);
                self.live_socket(speaks_v1).await
            }
            _ => Response::error("no such hub route", 404),
        }
    }

    /// The catch-up's schedule (`alarm.rs`): never failed, so the platform does not retry it;
    /// the run sets the next alarm itself.
    async fn alarm(&self) -> worker::Result<Response> {
        if self.broken.is_none() {
            self.catch_up().await;
        }
        Response::empty()
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
