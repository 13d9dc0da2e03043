//! Catching up: what the hub asks TaskRouter when events may have been lost, and what it keeps
//! of each run. A run (`crate::flows::catch_up`) asks for a [`CatchUpPlan`], reads TaskRouter's
//! Events resource for each Workspace with open reservations and reads back the reservations
//! still `pending` past their timeout, applies what it learned as events of the `catch_up`
//! channel, and reports ([`CatchUpReport`]). The hub keeps each Workspace's cursor and the last
//! report in `meta`, and when each reservation was last read back in `read_backs`
//! (`recovery.rs` holds those rules).
//!
//! A run also looks up names the callback lacks: the agent's and the queue's `friendly_name`,
//! from TaskRouter's Worker and TaskQueue resources, at most once a day per SID. The hub keeps
//! them in `names`, with the Worker names events bring, and puts them on every card of that SID.

use serde::{Deserialize, Serialize};

use crate::models::{AccountSid, ReservationSid, TaskQueueSid, TaskSid, Timestamp, WorkerSid, WorkspaceSid};

/// How far before its cursor a Workspace's events are read again: an event TaskRouter logs a
/// little after it happened is still found. Reading one twice changes nothing.
pub const OVERLAP_MS: u64 = 2 * 60 * 1000;

/// How long a name looked up, or learned from an event, stands before it is looked up again.
pub const NAME_KEPT_MS: u64 = 24 * 60 * 60 * 1000;

/// The tables of the catch-up (made with the others, `schema.rs`): when each reservation was
/// last read back, and the names known per Worker or TaskQueue SID (`name` null: TaskRouter has
/// no such resource).
pub(super) const TABLES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS read_backs (sid TEXT PRIMARY KEY, at_ms INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS names (sid TEXT PRIMARY KEY, name TEXT, at_ms INTEGER NOT NULL)",
];

/// A Worker or a TaskQueue: what has a name to look up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "sid", rename_all = "snake_case")]
pub enum NameOwner {
    Worker(WorkerSid),
    Queue(TaskQueueSid),
}

impl NameOwner {
    pub fn as_str(&self) -> &str {
        match self {
            NameOwner::Worker(sid) => sid.as_str(),
            NameOwner::Queue(sid) => sid.as_str(),
        }
    }
}

/// A name to look up from TaskRouter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameToRead {
    pub workspace_sid: WorkspaceSid,
    pub account_sid: Option<AccountSid>,
    pub named: NameOwner,
}

/// What a lookup found: the resource's `friendly_name`, or `None` when TaskRouter has no such
/// resource (`404`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameFound {
    pub named: NameOwner,
    pub name: Option<String>,
}

/// One Workspace with open reservations: whose events to read, from when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceToRead {
    pub workspace_sid: WorkspaceSid,
    /// The Account a reservation of the Workspace named, if any did.
    pub account_sid: Option<AccountSid>,
    pub since: Timestamp,
}

/// A reservation to read back from TaskRouter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadBack {
    pub workspace_sid: WorkspaceSid,
    pub task_sid: TaskSid,
    pub reservation_sid: ReservationSid,
    pub account_sid: Option<AccountSid>,
}

/// What a run is to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatchUpPlan {
    pub workspaces: Vec<WorkspaceToRead>,
    pub read_backs: Vec<ReadBack>,
    /// Workers and TaskQueues of the day's reservations with no name known from the last day.
    #[serde(default)]
    pub names: Vec<NameToRead>,
    /// Reservations not yet final (`pending`, `accepted`, `wrapping`).
    pub open: usize,
}

/// What one run found, as `/health` and the console show it. No secret: errors are Twilio's
/// words about a request, never its credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatchUpReport {
    /// When the run ended.
    pub at: Timestamp,
    /// TaskRouter events read from the Events resource.
    pub events_read: usize,
    /// Reservations read back one by one.
    pub read_back: usize,
    /// Names looked up from TaskRouter's Worker and TaskQueue resources.
    #[serde(default)]
    pub names_read: usize,
    /// Reservations whose status the run corrected.
    pub corrected: usize,
    /// Reservations TaskRouter no longer has (`404`), ended as such.
    pub gone: usize,
    /// Reservations still open after the run.
    pub open: usize,
    /// What failed, if anything did; the rest of the run went on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Runs this hub has made since it was created.
    pub runs: u64,
}
