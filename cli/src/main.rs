//! `reservations`: the operator's command-line tool for taskrouter-edge.

// The doc comments on the arguments are clap's `--help`, read in a terminal: URLs stay bare.
#![allow(rustdoc::bare_urls)]

/// `println!` for what the CLI prints: when the reader goes away (`reservations list | head -1`:
/// a closed pipe, or, where stdout is a socket, a reset), it ends quietly as Unix tools do,
/// instead of panicking.
macro_rules! outln {
    () => {
        $crate::output::write_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::write_line(format_args!($($arg)*))
    };
}

mod commands;
mod http;
pub mod output;
mod settings;
mod twilio;
mod worker;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use taskrouter_core::models::{ActivitySid, ReportedStatus, ReservationSid, WorkflowSid, WorkspaceSid};
use taskrouter_core::twilio::signature::Algorithm;

use crate::settings::{MissingSetting, Settings, UsageError};
use crate::twilio::TwilioError;
use crate::worker::WorkerError;

/// Exit codes, documented in `--help` and the README.
pub mod exit {
    /// Every requested action succeeded.
    pub const OK: u8 = 0;
    /// At least one action failed: Twilio refused it, or the reservation was no longer pending.
    pub const ACTION_FAILED: u8 = 1;
    /// Wrong usage or a missing setting.
    pub const USAGE: u8 = 2;
    /// Twilio or the worker could not be reached, even after retries.
    pub const UNREACHABLE: u8 = 3;
}

const AFTER_HELP: &str = "\
Settings come from flags or the environment (flags win): RESERVATIONS_URL and
RESERVATIONS_API_TOKEN for the worker; TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN (or
TWILIO_API_KEY with TWILIO_API_SECRET) for Twilio. Behind Cloudflare Access, set an Access
service token's CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET: they are sent on every request
to the worker as CF-Access-Client-Id and CF-Access-Client-Secret.

Examples:
  reservations simulate                     # send the worker a signed test callback
  reservations list --status pending        # what can still be accepted
  reservations accept WR0123…               # accept one over Twilio's REST API
  reservations accept --all-pending         # accept everything pending, 8 at a time
  reservations watch --accept               # accept each new reservation as it arrives

Exit status: 0 every action succeeded; 1 an action failed (Twilio refused it, or the
reservation was no longer pending); 2 wrong usage or a missing setting; 3 Twilio or the
worker could not be reached.";

/// List the TaskRouter reservations a taskrouter-edge worker stored, and accept or reject them
/// over Twilio's REST API.
#[derive(Parser, Debug)]
#[command(name = "reservations", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(flatten)]
    settings: Settings,

    /// Print JSON for scripts instead of text for people
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List stored reservations, newest first
    #[command(
        after_help = "Examples:\n  reservations list\n  reservations list --status pending --json | jq -r '.[].reservation_sid'"
    )]
    List {
        /// Only this status: pending (still acceptable), expired, accepted, rejected, timeout,
        /// canceled, rescinded, wrapping, completed, failed, or all
        #[arg(long, default_value = "all", value_name = "STATUS")]
        status: StatusArg,
    },
    /// Show one reservation with its task and worker attributes
    #[command(after_help = "Example:\n  reservations show WR0123456789abcdef0123456789abcdef")]
    Show {
        #[arg(value_name = "WR…")]
        reservation: ReservationSid,
    },
    /// Accept reservations over Twilio's REST API, then record the outcome in the worker
    #[command(
        after_help = "Examples:\n  reservations accept WR0123456789abcdef0123456789abcdef\n  reservations accept --all-pending --concurrency 16"
    )]
    Accept {
        #[arg(value_name = "WR…", required_unless_present = "all_pending", conflicts_with = "all_pending")]
        reservations: Vec<ReservationSid>,
        /// Accept every reservation the worker lists as pending
        #[arg(long)]
        all_pending: bool,
        /// How many requests to Twilio may be in flight at once
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
        concurrency: u16,
    },
    /// Reject reservations over Twilio's REST API, then record the outcome in the worker
    #[command(
        after_help = "Example:\n  reservations reject WR0123456789abcdef0123456789abcdef --activity WA0123456789abcdef0123456789abcdef"
    )]
    Reject {
        #[arg(value_name = "WR…", required = true)]
        reservations: Vec<ReservationSid>,
        /// The Activity to move the worker to (WorkerActivitySid), e.g. Offline
        #[arg(long, value_name = "WA…")]
        activity: Option<ActivitySid>,
    },
    /// Follow new pending reservations as the worker pushes them (/live), until Ctrl-C
    #[command(after_help = "Examples:\n  reservations watch\n  reservations watch --accept --interval 1")]
    Watch {
        /// Accept each new pending reservation as it arrives
        #[arg(long)]
        accept: bool,
        /// Seconds between two listings when no live connection can be opened, from 0.1 to 3600
        #[arg(long, default_value_t = 2.0, value_name = "SECS", value_parser = parse_interval)]
        interval: f64,
    },
    /// Point a Workflow's Assignment Callback URL at the worker, and send it TaskRouter's events
    /// through the Workspace's Event Callback URL (--events) or Event Streams (--event-streams)
    #[command(after_help = CONNECT_HELP)]
    Connect {
        /// The TaskRouter Workspace (WS…) that holds the Workflow, and whose Event Callback URL
        /// --events sets
        #[arg(long, value_name = "WS…", required_unless_present = "event_streams", requires = "workflow")]
        workspace: Option<WorkspaceSid>,
        /// The Workflow (WW…) whose Assignment Callback URL is set to the worker's /assignment_callback
        #[arg(long, value_name = "WW…", required_unless_present = "event_streams", requires = "workspace")]
        workflow: Option<WorkflowSid>,
        /// The worker's public base URL, as Twilio reaches it (default: RESERVATIONS_URL). A
        /// loopback, private or link-local address is refused: Twilio cannot reach it
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// Also send the Workspace's events to the worker's /events, adding the worker's events to its
        /// EventsFilter
        #[arg(long, conflicts_with = "event_streams")]
        events: bool,
        /// With --events: replace the Workspace's Event Callback URL even when it points
        /// somewhere else (another consumer then stops receiving events)
        #[arg(long, requires = "events")]
        replace_event_callback: bool,
        /// Send TaskRouter's events to the worker's /event-streams through an Event Streams webhook
        /// Sink and Subscription (made once, then reused); Event Callback URLs are left alone
        #[arg(long)]
        event_streams: bool,
        /// With --event-streams: delete the worker's Sink and its Subscriptions instead
        #[arg(long, requires = "event_streams", conflicts_with_all = ["workspace", "workflow"])]
        remove: bool,
    },
    /// Send a worker a realistic, correctly signed assignment callback (a smoke test)
    #[command(after_help = SIMULATE_HELP)]
    Simulate {
        /// The worker's base URL (default: RESERVATIONS_URL)
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// Sign as a Webhook Rule does, with this SharedKey's id (sent in
        /// X-Twilio-Webhooks-Signature-Settings) instead of the Auth Token
        #[arg(long, value_name = "ID", env = "TWILIO_WEBHOOK_SHARED_KEY_ID")]
        shared_key: Option<String>,
        /// The secret of --shared-key
        #[arg(long, value_name = "SECRET", env = "TWILIO_WEBHOOK_SHARED_KEY_SECRET", hide_env_values = true)]
        shared_key_secret: Option<String>,
        /// The algorithm of --shared-key: HMAC_SHA256 or HMAC_SHA1
        #[arg(long, value_name = "ALGORITHM", default_value = "HMAC_SHA256", value_parser = parse_algorithm, requires = "shared_key")]
        algorithm: Algorithm,
    },
}

/// `--status`: one of the statuses the worker reports, or `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusArg {
    All,
    Only(ReportedStatus),
}

impl std::str::FromStr for StatusArg {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value == "all" {
            return Ok(StatusArg::All);
        }
        value.parse().map(StatusArg::Only).map_err(|error| format!("{error}, expired, or all"))
    }
}

impl std::fmt::Display for StatusArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StatusArg::All => f.write_str("all"),
            StatusArg::Only(status) => f.write_str(&output::status_text(*status)),
        }
    }
}

const CONNECT_HELP: &str = "\
Examples:
  reservations connect --workspace WS… --workflow WW… --url https://taskrouter-edge.you.workers.dev --events
  reservations connect --workspace WS… --workflow WW… --events --replace-event-callback
  reservations connect --workspace WS… --workflow WW… --event-streams
  reservations connect --event-streams --remove

The Workspace and the Workflow are read first. An Event Callback URL that points elsewhere is
left alone (exit 1) unless --replace-event-callback is given; the worker's own URL keeps the
events already chosen. The Workflow's fallback URL is not touched.

A Workspace has one Event Callback URL; Event Streams takes any number of Sinks. When another
system already owns the Event Callback URL (a Flex plugin, your backend), use --event-streams:
it finds or makes a webhook Sink for the worker's /event-streams and a Subscription to the
TaskRouter events the worker uses, and running it again changes nothing.";

const SIMULATE_HELP: &str = "\
Examples:
  reservations simulate                              # to RESERVATIONS_URL, signed with TWILIO_AUTH_TOKEN
  reservations simulate --url https://taskrouter-edge.you.workers.dev

Signed as a Webhook Rule signs with a SharedKey (the worker must hold it in
TWILIO_WEBHOOK_SHARED_KEYS). After a rotation, smoke-test both keys:
  reservations simulate --shared-key webhooks_sharedkey_A… --shared-key-secret …
  reservations simulate --shared-key webhooks_sharedkey_B… --shared-key-secret … --algorithm HMAC_SHA1";

/// `--algorithm`: a signature algorithm Twilio names, in any case.
fn parse_algorithm(value: &str) -> Result<Algorithm, String> {
    Algorithm::named(value).ok_or_else(|| format!("{value:?} is not HMAC_SHA256 or HMAC_SHA1"))
}

/// `--interval`: a number of seconds a timer can wait, from 0.1 to an hour.
fn parse_interval(value: &str) -> Result<f64, String> {
    let seconds: f64 = value.parse().map_err(|_| format!("{value:?} is not a number of seconds"))?;
    if seconds.is_finite() && (0.1..=3600.0).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(format!("{value} is not between 0.1 and 3600 seconds"))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // Like other Unix tools, end quietly when the reader of our output goes away
    // (`reservations list | head -1`) instead of failing to print.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to its default, before any other thread runs.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let outcome = commands::run(cli.command, &cli.settings, cli.json).await;
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(exit_code_of(&error))
        }
    }
}

fn exit_code_of(error: &anyhow::Error) -> u8 {
    let unreachable = error.chain().any(|cause| {
        cause.downcast_ref::<http::Unreachable>().is_some()
            || matches!(cause.downcast_ref::<WorkerError>(), Some(WorkerError::Unreachable(_)))
            || matches!(cause.downcast_ref::<TwilioError>(), Some(TwilioError::Unreachable(_)))
    });
    if error.downcast_ref::<MissingSetting>().is_some() || error.downcast_ref::<UsageError>().is_some() {
        exit::USAGE
    } else if unreachable {
        exit::UNREACHABLE
    } else {
        exit::ACTION_FAILED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_service_exits_3_however_it_is_wrapped() {
        let unreachable =
            || http::Unreachable { service: "the worker", url: "http://x".into(), reason: "refused".into() };
        assert_eq!(exit_code_of(&anyhow::Error::from(unreachable())), exit::UNREACHABLE);
        assert_eq!(exit_code_of(&anyhow::Error::from(WorkerError::Unreachable(unreachable()))), exit::UNREACHABLE);
        assert_eq!(exit_code_of(&anyhow::Error::from(TwilioError::Unreachable(unreachable()))), exit::UNREACHABLE);
        assert_eq!(exit_code_of(&anyhow::Error::from(UsageError("bad".into()))), exit::USAGE);
        assert_eq!(exit_code_of(&anyhow::anyhow!("other")), exit::ACTION_FAILED);
    }

    #[test]
    fn intervals_are_bounded() {
        assert_eq!(parse_interval("0.2"), Ok(0.2));
        for bad in ["0", "1e-12", "1e300", "-1", "NaN", "inf", "soon"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn statuses_are_parsed_as_statuses() {
        assert_eq!("all".parse::<StatusArg>(), Ok(StatusArg::All));
        assert_eq!("expired".parse::<StatusArg>(), Ok(StatusArg::Only(ReportedStatus::EXPIRED)));
        assert_eq!("pending".parse::<StatusArg>().unwrap().to_string(), "pending");
        assert!("bogus".parse::<StatusArg>().is_err());
    }
}
