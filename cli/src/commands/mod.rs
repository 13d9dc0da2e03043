//! One module per command; `run` dispatches.

mod connect;
mod decide;
mod list;
mod show;
mod simulate;
mod watch;

use std::time::Duration;

use anyhow::Result;
use taskrouter_edge::twilio::rest::ANSWER_TIMEOUT_MS;

use crate::Command;
use crate::settings::Settings;

pub use decide::Decision;

pub async fn run(command: Command, settings: &Settings, json: bool) -> Result<u8> {
    let client = reqwest::Client::builder()
        .user_agent(concat!("taskrouter-edge-reservations/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_millis(ANSWER_TIMEOUT_MS))
        .build()?;
    match command {
        Command::List { status } => list::run(&settings.worker(&client)?, status, json).await,
        Command::Show { reservation } => show::run(&settings.worker(&client)?, &reservation, json).await,
        Command::Accept { reservations, all_pending, concurrency } => {
            let decision = Decision::Accept;
            decide::run(settings, &client, decision, reservations, all_pending, usize::from(concurrency), json).await
        }
        Command::Reject { reservations, activity } => {
            let decision = Decision::Reject { activity };
            decide::run(settings, &client, decision, reservations, false, decide::DEFAULT_CONCURRENCY, json).await
        }
        Command::Watch { accept, interval } => watch::run(settings, &client, accept, interval, json).await,
        Command::Connect { workspace, workflow, url, events, replace_event_callback } => {
            let url = match url {
                Some(url) => url,
                None => settings.worker_url()?.to_owned(),
            };
            let args = connect::ConnectArgs {
                workspace: &workspace,
                workflow: &workflow,
                url: &url,
                events,
                replace_event_callback,
                taskrouter_is_local: connect::is_unreachable_from_twilio(&settings.taskrouter_url),
            };
            connect::run(&settings.taskrouter(&client)?, args, json).await
        }
        Command::Simulate { url, shared_key, shared_key_secret, algorithm } => {
            let url = match url {
                Some(url) => crate::settings::http_url(&url, "--url")?.to_owned(),
                None => settings.worker_url()?.to_owned(),
            };
            let signer = match (shared_key, shared_key_secret) {
                (Some(id), Some(secret)) => simulate::Signer::SharedKey { id, secret, algorithm },
                _ => simulate::Signer::AuthToken(settings.auth_token()?.to_owned()),
            };
            simulate::run(&client, settings, &url, &signer, json).await
        }
    }
}
