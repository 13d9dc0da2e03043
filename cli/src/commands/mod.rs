//! One module per command; `run` dispatches.

mod connect;
mod decide;
mod event_streams;
mod list;
mod show;
mod simulate;
mod watch;

use std::time::Duration;

use anyhow::Result;
use taskrouter_core::twilio::rest::ANSWER_TIMEOUT_MS;

use crate::settings::Settings;
use crate::{Command, exit};

pub use decide::OperatorDecision;

pub async fn run(command: Command, settings: &Settings, json: bool) -> Result<u8> {
    let client = reqwest::Client::builder()
        .user_agent(concat!("taskrouter-edge-reservations/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_millis(ANSWER_TIMEOUT_MS))
        .build()?;
    match command {
        Command::List { status } => list::run(&settings.worker(&client)?, status, json).await,
        Command::Show { reservation } => show::run(&settings.worker(&client)?, &reservation, json).await,
        Command::Accept { reservations, all_pending, concurrency } => {
            let decision = OperatorDecision::Accept;
            decide::run(settings, &client, decision, reservations, all_pending, usize::from(concurrency), json).await
        }
        Command::Reject { reservations, activity } => {
            let decision = OperatorDecision::Reject { activity };
            decide::run(settings, &client, decision, reservations, false, decide::DEFAULT_CONCURRENCY, json).await
        }
        Command::Watch { accept, interval } => watch::run(settings, &client, accept, interval, json).await,
        Command::Connect { workspace, workflow, url, events, replace_event_callback, event_streams, remove } => {
            let url = match url {
                Some(url) => url,
                None => settings.worker_url()?.to_owned(),
            };
            let base = connect::base_url(&url)?;
            let taskrouter_is_local = connect::is_unreachable_from_twilio(&settings.taskrouter_url)
                && (!event_streams || connect::is_unreachable_from_twilio(&settings.events_url));
            if !remove {
                connect::refuse_unreachable(&base, taskrouter_is_local)?;
            }
            let streams = if event_streams {
                Some(event_streams::EventStreams::new(settings.events(&client)?, &base))
            } else {
                None
            };
            match (streams, workspace, workflow) {
                (Some(streams), _, _) if remove => {
                    event_streams::print(&streams.remove().await?, json, event_streams::print_removed);
                    Ok(exit::OK)
                }
                (streams, Some(workspace), Some(workflow)) => {
                    let args = connect::ConnectArgs {
                        workspace: &workspace,
                        workflow: &workflow,
                        base: &base,
                        events,
                        replace_event_callback,
                    };
                    connect::run(&settings.taskrouter(&client)?, args, streams, json).await
                }
                (Some(streams), _, _) => {
                    event_streams::print(&streams.connect().await?, json, event_streams::print_connected);
                    Ok(exit::OK)
                }
                // clap asks for both unless --event-streams is given.
                (None, _, _) => Err(crate::settings::UsageError(
                    "connect needs --workspace and --workflow, or --event-streams".into(),
                )
                .into()),
            }
        }
        Command::Simulate { url, shared_key, shared_key_secret, algorithm } => {
            let url = match url {
                Some(url) => crate::settings::http_url(&url, "--url")?.to_owned(),
                None => settings.worker_url()?.to_owned(),
            };
            // Checked here rather than by clap, whose usage line would not name the variables.
            let set = |value: Option<String>| value.filter(|value| !value.trim().is_empty());
            let signer = match (set(shared_key), set(shared_key_secret)) {
                (Some(id), Some(secret)) => simulate::CallbackSigner::SharedKey { id, secret, algorithm },
                (Some(_), None) => {
                    return Err(crate::settings::MissingSetting {
                        variable: "TWILIO_WEBHOOK_SHARED_KEY_SECRET",
                        flag: "--shared-key-secret",
                        what: "the secret of the SharedKey --shared-key names",
                    }
                    .into());
                }
                (None, Some(_)) => {
                    return Err(crate::settings::MissingSetting {
                        variable: "TWILIO_WEBHOOK_SHARED_KEY_ID",
                        flag: "--shared-key",
                        what: "the id of the SharedKey whose secret is given",
                    }
                    .into());
                }
                (None, None) => simulate::CallbackSigner::AuthToken(settings.auth_token()?.to_owned()),
            };
            simulate::run(&client, settings, &url, &signer, json).await
        }
    }
}
