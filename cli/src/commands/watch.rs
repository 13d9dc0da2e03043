//! `reservations watch [--accept] [--interval SECS]`: follow new pending reservations as the
//! worker's hub pushes them, over the same `/live` WebSocket as the console. A dropped connection
//! is opened again with backoff, and its first message (the snapshot) catches up on what arrived
//! meanwhile. Only when no socket can be opened at all (a proxy that refuses upgrades) does it
//! poll the listing, every `--interval` seconds.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Result;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Client;
use serde::Serialize;
use serde_json::json;
use taskrouter_core::hub::protocol::ToConsole;
use taskrouter_core::models::{Status, Summary};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as SocketError, Message};

use super::decide::{self, OperatorDecision, Target};
use crate::exit;
use crate::settings::Settings;
use crate::twilio::TwilioClient;
use crate::worker::Worker;

/// The subprotocol the hub speaks.
const PROTOCOL: &str = "taskrouter-edge.v1";
/// The longest wait before opening the connection again.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long opening the connection may take.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// How many times in a row a first connection may fail before watch falls back to listing.
const OPENINGS_BEFORE_POLLING: u32 = 3;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Why a live connection could not be opened.
enum Refused {
    /// The worker refused the operator token: no point trying again.
    Token,
    /// No WebSocket can be had here (the worker or something before it answered plain HTTP).
    NoSocket(String),
    /// A failure that may pass (the worker is restarting, the network dropped).
    Passing(String),
}

async fn open(worker: &Worker) -> Result<Socket, Refused> {
    let url = format!("{}/live", worker.base_url().replacen("http", "ws", 1));
    let mut request = url.as_str().into_client_request().map_err(|e| Refused::NoSocket(e.to_string()))?;
    let offered = match worker.token() {
        Some(token) => format!("{PROTOCOL}, bearer.{}", URL_SAFE_NO_PAD.encode(token)),
        None => PROTOCOL.to_owned(),
    };
    let header = |value: &str| HeaderValue::from_str(value).map_err(|e| Refused::NoSocket(e.to_string()));
    request.headers_mut().insert("sec-websocket-protocol", header(&offered)?);
    if let Some((id, secret)) = worker.access_headers() {
        request.headers_mut().insert("cf-access-client-id", header(id)?);
        request.headers_mut().insert("cf-access-client-secret", header(secret)?);
    }
    let opened = tokio::time::timeout(OPEN_TIMEOUT, tokio_tungstenite::connect_async(request)).await;
    let Ok(opened) = opened else {
        return Err(Refused::Passing(format!("no answer within {} s", OPEN_TIMEOUT.as_secs())));
    };
    match opened {
        Ok((socket, _)) => Ok(socket),
        Err(SocketError::Http(response)) if response.status() == 401 => Err(Refused::Token),
        // The hub is missing or down: it may come back.
        Err(SocketError::Http(response)) if response.status() == 503 => {
            Err(Refused::Passing(format!("the worker answered {}", response.status())))
        }
        Err(SocketError::Http(response)) => {
            Err(Refused::NoSocket(format!("the worker answered {} to the upgrade", response.status())))
        }
        Err(error) => Err(Refused::Passing(error.to_string())),
    }
}

/// What the watch has seen and done.
struct Watch<'a> {
    worker: Worker,
    twilio: Option<TwilioClient>,
    json: bool,
    status: &'a ProgressBar,
    seen: HashSet<String>,
    accepted: usize,
    failed: usize,
}

impl Watch<'_> {
    fn say(&self, line: String) {
        self.status.suspend(|| outln!("{line}"));
    }

    /// A reservation pushed or listed: announced once if it is pending, and accepted with
    /// `--accept`.
    async fn arrived<S: Serialize>(&mut self, summary: &Summary<S>, pending: bool) {
        if !pending || !self.seen.insert(summary.reservation_sid.to_string()) {
            return;
        }
        if self.json {
            outln!("{}", json!({ "event": "new", "reservation": summary }));
        } else {
            self.say(format!("new  {}  task {}  {}", summary.reservation_sid, summary.task_sid, summary.task));
        }
        let Some(twilio) = &self.twilio else { return };
        let target = Target {
            reservation: summary.reservation_sid.clone(),
            task: summary.task_sid.clone(),
            workspace: summary.workspace_sid.clone(),
        };
        let outcome = decide::decide_one(twilio, &self.worker, &OperatorDecision::Accept, target).await;
        if outcome.succeeded() {
            self.accepted += 1;
        } else {
            self.failed += 1;
        }
        if self.json {
            outln!("{}", json!({ "event": "outcome", "outcome": outcome }));
        } else {
            self.say(outcome.line());
        }
    }

    fn show_state(&self, how: &str) {
        let what = if self.twilio.is_some() { "accepting" } else { "watching" };
        self.status.set_message(format!(
            "{what} new pending reservations at {} ({how}) · {} seen, {} accepted, {} failed · Ctrl-C to stop",
            self.worker.base_url(),
            self.seen.len(),
            self.accepted,
            self.failed
        ));
    }

    /// Follows one live connection until it closes or fails.
    async fn follow(&mut self, mut socket: Socket) -> String {
        self.show_state("live");
        while let Some(message) = socket.next().await {
            let text = match message {
                Ok(Message::Text(text)) => text,
                Ok(Message::Close(_)) => return "the worker closed the connection".to_owned(),
                Ok(_) => continue,
                Err(error) => return error.to_string(),
            };
            match serde_json::from_str::<ToConsole>(&text) {
                // The snapshot, first on every connection: newest first, announced oldest first.
                Ok(ToConsole::Snapshot { pending, .. }) => {
                    for card in pending.iter().rev() {
                        self.arrived(&card.summary, card.summary.status == Status::Pending).await;
                    }
                }
                Ok(ToConsole::Change { card, .. }) => {
                    self.arrived(&card.summary, card.summary.status == Status::Pending).await;
                }
                Err(error) => self.say(format!("ignored a message that does not read: {error}")),
            }
            self.show_state("live");
        }
        "the connection ended".to_owned()
    }

    /// The fallback: one listing of pending reservations.
    async fn poll(&mut self) -> Result<(), crate::worker::WorkerError> {
        let pending = self.worker.list("pending").await?;
        for summary in pending.iter().rev() {
            self.arrived(summary, true).await;
        }
        Ok(())
    }
}

pub async fn run(settings: &Settings, client: &Client, accept: bool, interval: f64, json: bool) -> Result<u8> {
    let worker = settings.worker(client)?;
    let twilio = if accept { Some(settings.taskrouter(client)?) } else { None };
    let status = if json { ProgressBar::hidden() } else { ProgressBar::new_spinner() };
    status.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("a valid template"));
    status.enable_steady_tick(Duration::from_millis(120));
    let mut watch = Watch { worker, twilio, json, status: &status, seen: HashSet::new(), accepted: 0, failed: 0 };
    let mut interrupted = std::pin::pin!(tokio::signal::ctrl_c());
    let mut backoff = Duration::from_secs(1);
    let mut opened_once = false;
    let mut reachable_checked = false;
    let mut failed_openings = 0;
    let mut polling = None;
    loop {
        if let Some(every) = polling {
            tokio::select! {
                _ = &mut interrupted => break,
                () = tokio::time::sleep(every) => {}
            }
            match watch.poll().await {
                Ok(()) => watch.show_state(&format!("no live connection: listing every {interval}s")),
                Err(error) => status
                    .set_message(format!("cannot list pending reservations ({error}); trying again in {interval}s")),
            }
            continue;
        }
        let opened = tokio::select! {
            _ = &mut interrupted => break,
            opened = open(&watch.worker) => opened,
        };
        // No socket at all (a proxy that refuses upgrades), or none after a few tries: list.
        let fall_back = !opened_once
            && match &opened {
                Err(Refused::NoSocket(_)) => true,
                Err(Refused::Passing(_)) => failed_openings + 1 >= OPENINGS_BEFORE_POLLING,
                _ => false,
            };
        let why = match opened {
            Ok(socket) => {
                opened_once = true;
                reachable_checked = true;
                backoff = Duration::from_secs(1);
                tokio::select! {
                    _ = &mut interrupted => break,
                    why = watch.follow(socket) => why,
                }
            }
            Err(Refused::Token) => {
                status.finish_and_clear();
                anyhow::bail!("the worker refused the operator token (401): check RESERVATIONS_API_TOKEN");
            }
            Err(Refused::NoSocket(why) | Refused::Passing(why)) if fall_back => {
                watch.say(format!("no live connection can be opened ({why}): listing every {interval}s instead"));
                polling = Some(Duration::from_secs_f64(interval));
                // The first listing at once; an unreachable worker at the start is a setup problem.
                watch.poll().await?;
                continue;
            }
            Err(Refused::Passing(why)) if !reachable_checked => {
                reachable_checked = true;
                // Is the worker there at all? An unreachable one at the start is a setup
                // problem (exit 3); a reachable one is listed once while the socket is retried.
                watch.poll().await?;
                why
            }
            Err(Refused::NoSocket(why) | Refused::Passing(why)) => why,
        };
        if !opened_once {
            failed_openings += 1;
        }
        status.set_message(format!("reconnecting in {}s ({why})", backoff.as_secs()));
        tokio::select! {
            _ = &mut interrupted => break,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    status.finish_and_clear();
    let (seen, accepted, failed) = (watch.seen.len(), watch.accepted, watch.failed);
    if json {
        outln!("{}", json!({ "event": "stopped", "seen": seen, "accepted": accepted, "failed": failed }));
    } else {
        outln!("stopped: {seen} seen, {accepted} accepted, {failed} failed");
    }
    Ok(if failed == 0 { exit::OK } else { exit::ACTION_FAILED })
}
