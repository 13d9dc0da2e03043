//! `reservations accept …` and `reservations reject …`: ask Twilio, then record in the worker
//! what Twilio answered. Nothing is shown or recorded as done unless Twilio said so.

use anyhow::Result;
use futures::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::{Client, StatusCode};
use serde::Serialize;
use taskrouter_core::flows::decide::{TwilioVerdict, decide};
use taskrouter_core::flows::operator::ClaimGrant;
use taskrouter_core::models::{ActivitySid, ReportedStatus, ReservationSid, Status, Summary, TaskSid, WorkspaceSid};

use crate::exit;
use crate::output;
use crate::settings::Settings;
use crate::twilio::{ReservationResource, TwilioClient, TwilioError};
use crate::worker::{Worker, WorkerError};

pub const DEFAULT_CONCURRENCY: usize = 8;

#[derive(Debug, Clone)]
pub enum OperatorDecision {
    Accept,
    Reject { activity: Option<ActivitySid> },
}

impl OperatorDecision {
    fn status(&self) -> Status {
        match self {
            OperatorDecision::Accept => Status::Accepted,
            OperatorDecision::Reject { .. } => Status::Rejected,
        }
    }

    fn activity(&self) -> Option<&ActivitySid> {
        match self {
            OperatorDecision::Accept => None,
            OperatorDecision::Reject { activity } => activity.as_ref(),
        }
    }
}

/// What Twilio's reservation URL needs.
#[derive(Debug, Clone)]
pub struct Target {
    pub reservation: ReservationSid,
    pub task: TaskSid,
    pub workspace: WorkspaceSid,
}

impl Target {
    pub fn of(summary: &Summary<ReportedStatus>) -> Target {
        Target {
            reservation: summary.reservation_sid.clone(),
            task: summary.task_sid.clone(),
            workspace: summary.workspace_sid.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionResult {
    /// Twilio applied the decision and the worker recorded it.
    Done,
    /// Twilio applied the decision; the worker could not record it.
    NotRecorded,
    /// Twilio says the reservation already left `pending`.
    NoLongerPending,
    Failed,
    Unreachable,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecisionRow {
    pub reservation_sid: ReservationSid,
    pub result: DecisionResult,
    /// The reservation's status as Twilio reported it, when known.
    pub twilio_status: Option<Status>,
    pub message: String,
}

impl DecisionRow {
    pub fn succeeded(&self) -> bool {
        self.result == DecisionResult::Done
    }

    pub fn line(&self) -> String {
        let mark = if self.succeeded() { "✓" } else { "✗" };
        format!("{mark} {}  {}", self.reservation_sid, self.message)
    }
}

fn failed(target: &Target, error: &TwilioError) -> DecisionRow {
    let result =
        if matches!(error, TwilioError::Unreachable(_)) { DecisionResult::Unreachable } else { DecisionResult::Failed };
    DecisionRow { reservation_sid: target.reservation.clone(), result, twilio_status: None, message: error.to_string() }
}

/// Asks Twilio to apply `decision` to one reservation (by the shared flow: see
/// [`taskrouter_core::flows::decide`]) and records the outcome in the worker.
pub async fn decide_one(
    twilio: &TwilioClient,
    worker: &Worker,
    decision: &OperatorDecision,
    target: Target,
) -> DecisionRow {
    let wanted = decision.status();
    let verb = wanted.as_verb();
    // One decision per reservation, as at the edge: the worker's hub is asked first, and
    // without its claim Twilio is not asked at all.
    let claim = match worker.claim(&target.reservation, verb).await {
        Ok(claim) => claim,
        Err(WorkerError::Refused { status: StatusCode::CONFLICT, code, message, settled }) => {
            return not_claimed(target, wanted, &code, &message, settled);
        }
        Err(error) => return unclaimed(target, &error),
    };
    let at = ReservationResource {
        twilio,
        workspace: &target.workspace,
        task: &target.task,
        reservation: &target.reservation,
    };
    let verdict = decide(&at, wanted, decision.activity()).await;
    // Given back at once when nothing reached Twilio or it refused; kept when the outcome is
    // unknown (it lapses at the reservation's timeout); settled by recording Twilio's answer.
    if matches!(verdict, TwilioVerdict::Refused(_) | TwilioVerdict::Unreachable(_)) {
        let _ = worker.release(&target.reservation, &claim).await;
    }
    match verdict {
        TwilioVerdict::Applied(how) => {
            let how = match how.describe() {
                "" => String::new(),
                how => format!("{how}; "),
            };
            let said = format!("{wanted} ({how}task {})", target.task);
            done(worker, target, wanted, said, &claim).await
        }
        TwilioVerdict::NoLongerPending(status) => no_longer_pending(worker, target, status, &claim).await,
        TwilioVerdict::Refused(error) => failed(&target, &error),
        TwilioVerdict::Unknown { refusal, read_error } => unknown(&target, &refusal, &read_error, &claim),
        TwilioVerdict::Unreachable(error) => DecisionRow {
            reservation_sid: target.reservation,
            result: DecisionResult::Unreachable,
            twilio_status: None,
            message: format!("TaskRouter could not be reached ({error}); nothing changed"),
        },
    }
}

/// The worker's hub refused the claim: another decision is in flight, or the reservation already
/// settled. Twilio was not asked.
fn not_claimed(target: Target, wanted: Status, code: &str, message: &str, settled: Option<Status>) -> DecisionRow {
    let message = output::printable(message);
    match (code, settled) {
        ("already_decided", Some(status)) if status == wanted => DecisionRow {
            reservation_sid: target.reservation,
            result: DecisionResult::Done,
            twilio_status: Some(status),
            message: format!("already {status}, as the worker knows; Twilio was not asked again"),
        },
        ("already_decided", Some(status)) => DecisionRow {
            reservation_sid: target.reservation,
            result: DecisionResult::NoLongerPending,
            twilio_status: Some(status),
            message: format!("no longer pending: {message}"),
        },
        _ => DecisionRow {
            reservation_sid: target.reservation,
            result: DecisionResult::Failed,
            twilio_status: None,
            message,
        },
    }
}

/// The worker could not claim the decision (it has no hub, or could not be reached): Twilio was
/// not asked.
fn unclaimed(target: Target, error: &WorkerError) -> DecisionRow {
    let result = match error {
        WorkerError::Unreachable(_) => DecisionResult::Unreachable,
        _ => DecisionResult::Failed,
    };
    let message = match error {
        WorkerError::ClaimLost(_) => format!(
            "the worker's answer to the claim was lost ({error}): it may hold the decision until the reservation times out; Twilio was not asked"
        ),
        _ => format!("the decision could not be claimed ({error}); Twilio was not asked"),
    };
    DecisionRow { reservation_sid: target.reservation, result, twilio_status: None, message }
}

/// Twilio applied the decision: record it in the worker, settling the claim.
async fn done(worker: &Worker, target: Target, wanted: Status, said: String, claim: &ClaimGrant) -> DecisionRow {
    let (result, message) = match worker.record_status(&target.reservation, wanted, Some(claim)).await {
        Ok(_) => (DecisionResult::Done, said),
        Err(error) => {
            (DecisionResult::NotRecorded, format!("{wanted} by Twilio, but the worker did not record it: {error}"))
        }
    };
    DecisionRow { reservation_sid: target.reservation, result, twilio_status: Some(wanted), message }
}

/// Twilio's answer was lost, and reading the reservation back failed too: nothing is known. The
/// claim stays this client's until it lapses.
fn unknown(target: &Target, refusal: &TwilioError, read_error: &TwilioError, claim: &ClaimGrant) -> DecisionRow {
    let result = if matches!(read_error, TwilioError::Unreachable(_)) {
        DecisionResult::Unreachable
    } else {
        DecisionResult::Failed
    };
    DecisionRow {
        reservation_sid: target.reservation.clone(),
        result,
        twilio_status: None,
        message: format!(
            "{refusal}; reading the reservation back to learn its status failed too: {read_error}. The decision stays yours until {}: try again then if it is still pending",
            claim.until
        ),
    }
}

/// Twilio says the reservation is no longer pending: record its real status, so it leaves the
/// worker's pending list.
async fn no_longer_pending(worker: &Worker, target: Target, status: Status, claim: &ClaimGrant) -> DecisionRow {
    let recorded = match worker.record_status(&target.reservation, status, Some(claim)).await {
        Ok(_) => "recorded in the worker".to_owned(),
        Err(WorkerError::Refused { status: StatusCode::CONFLICT, .. }) => {
            "the worker already had a later status".to_owned()
        }
        Err(error) => format!("the worker did not record it: {error}"),
    };
    DecisionRow {
        reservation_sid: target.reservation,
        result: DecisionResult::NoLongerPending,
        twilio_status: Some(status),
        message: format!("no longer pending: Twilio says it is {status} ({recorded})"),
    }
}

pub fn exit_code(outcomes: &[DecisionRow]) -> u8 {
    if outcomes.iter().any(|o| o.result == DecisionResult::Unreachable) {
        exit::UNREACHABLE
    } else if outcomes.iter().all(DecisionRow::succeeded) {
        exit::OK
    } else {
        exit::ACTION_FAILED
    }
}

/// The reservations named on the command line, as the worker stored them.
async fn named_targets(worker: &Worker, sids: Vec<ReservationSid>) -> Result<(Vec<Target>, Vec<DecisionRow>)> {
    let mut targets = Vec::new();
    let mut unknown = Vec::new();
    for sid in sids {
        match worker.show(&sid).await {
            Ok(record) => targets.push(Target {
                reservation: record.reservation_sid,
                task: record.task_sid,
                workspace: record.workspace_sid,
            }),
            Err(error @ WorkerError::Refused { status: StatusCode::NOT_FOUND, .. }) => unknown.push(DecisionRow {
                reservation_sid: sid,
                result: DecisionResult::Failed,
                twilio_status: None,
                message: format!("not stored in the worker, so its task and workspace are unknown: {error}"),
            }),
            Err(error) => return Err(error.into()),
        }
    }
    Ok((targets, unknown))
}

pub async fn run(
    settings: &Settings,
    client: &Client,
    decision: OperatorDecision,
    sids: Vec<ReservationSid>,
    all_pending: bool,
    concurrency: usize,
    json: bool,
) -> Result<u8> {
    let worker = settings.worker(client)?;
    let twilio = settings.taskrouter(client)?;
    let (targets, mut outcomes) = if all_pending {
        (worker.list("pending").await?.iter().map(Target::of).collect(), Vec::new())
    } else {
        named_targets(&worker, sids).await?
    };
    if targets.is_empty() && outcomes.is_empty() {
        if json {
            output::print_json(&outcomes);
        } else {
            outln!("Nothing pending in {}.", worker.base_url());
        }
        return Ok(exit::OK);
    }

    let progress =
        if json || targets.len() < 2 { ProgressBar::hidden() } else { ProgressBar::new(targets.len() as u64) };
    progress
        .set_style(ProgressStyle::with_template("{spinner} {pos}/{len} asked Twilio {msg}").expect("a valid template"));
    progress.set_message(format!("({concurrency} at a time)"));
    for outcome in &outcomes {
        if !json {
            progress.suspend(|| outln!("{}", outcome.line()));
        }
    }
    let mut answers = stream::iter(targets)
        .map(|target| decide_one(&twilio, &worker, &decision, target))
        .buffer_unordered(concurrency);
    while let Some(outcome) = answers.next().await {
        progress.inc(1);
        if !json {
            progress.suspend(|| outln!("{}", outcome.line()));
        }
        outcomes.push(outcome);
    }
    progress.finish_and_clear();

    if json {
        output::print_json(&outcomes);
    } else {
        let done = outcomes.iter().filter(|o| o.succeeded()).count();
        let gone = outcomes.iter().filter(|o| o.result == DecisionResult::NoLongerPending).count();
        let verb = decision.status();
        outln!("\n{done} {verb}, {gone} no longer pending, {} failed", outcomes.len() - done - gone);
    }
    Ok(exit_code(&outcomes))
}
