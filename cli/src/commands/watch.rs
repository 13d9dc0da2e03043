//! `reservations watch [--accept] [--interval SECS]`: follow new pending reservations.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Client;
use serde_json::json;

use super::decide::{self, Decision, Target};
use crate::exit;
use crate::settings::Settings;

pub async fn run(settings: &Settings, client: &Client, accept: bool, interval: f64, json: bool) -> Result<u8> {
    let worker = settings.worker(client)?;
    let twilio = if accept { Some(settings.taskrouter(client)?) } else { None };
    let status = if json { ProgressBar::hidden() } else { ProgressBar::new_spinner() };
    status.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("a valid template"));
    status.enable_steady_tick(Duration::from_millis(120));
    let say = |line: String| status.suspend(|| println!("{line}"));

    let mut seen: HashSet<String> = HashSet::new();
    let (mut accepted, mut failed) = (0, 0);
    let mut interrupted = std::pin::pin!(tokio::signal::ctrl_c());
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(interval));
    let mut first_look = true;
    loop {
        tokio::select! {
            _ = &mut interrupted => break,
            _ = ticker.tick() => {}
        }
        let pending = match worker.list("pending").await {
            Ok(pending) => pending,
            // A worker that cannot be reached at all at the start is a setup problem (exit 3);
            // later, a failed look is retried at the next tick.
            Err(error) if first_look => return Err(error.into()),
            Err(error) => {
                status.set_message(format!("cannot list pending reservations ({error}); trying again in {interval}s"));
                continue;
            }
        };
        first_look = false;
        for summary in pending.iter().rev().filter(|s| seen.insert(s.reservation_sid.to_string())) {
            if json {
                println!("{}", json!({ "event": "new", "reservation": summary }));
            } else {
                say(format!("new  {}  task {}  {}", summary.reservation_sid, summary.task_sid, summary.task));
            }
            if let Some(twilio) = &twilio {
                let outcome = decide::decide_one(twilio, &worker, &Decision::Accept, Target::of(summary)).await;
                if outcome.succeeded() {
                    accepted += 1;
                } else {
                    failed += 1;
                }
                if json {
                    println!("{}", json!({ "event": "outcome", "outcome": outcome }));
                } else {
                    say(outcome.line());
                }
            }
        }
        let what = if accept { "accepting" } else { "watching" };
        status.set_message(format!(
            "{what} new pending reservations at {} every {interval}s · {} seen, {accepted} accepted, {failed} failed · Ctrl-C to stop",
            worker.base_url(),
            seen.len()
        ));
    }
    status.finish_and_clear();
    if json {
        println!("{}", json!({ "event": "stopped", "seen": seen.len(), "accepted": accepted, "failed": failed }));
    } else {
        println!("stopped: {} seen, {accepted} accepted, {failed} failed", seen.len());
    }
    Ok(if failed == 0 { exit::OK } else { exit::ACTION_FAILED })
}
