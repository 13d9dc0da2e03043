//! The messages: what the worker asks of the hub and what it answers (JSON, `POST /ledger`), and
//! what the hub sends the consoles (JSON text, one object per WebSocket message, told apart by
//! `type`).

use serde::{Deserialize, Serialize};

use super::card::Card;
use super::catch_up::{CatchUpPlan, CatchUpReport, NameFound};
use super::claims::{Claim, Decision};
use super::outcomes::{Day, DayMove};
use crate::models::{
    ReportedStatus, ReservationSid, Status, StatusSource, Summary, TaskEnding, TaskSid, Timestamp, WorkspaceSid,
};

/// One question to the hub. Each is answered in one transaction of the hub's SQLite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "ask", rename_all = "snake_case")]
pub enum HubRequest {
    /// An assignment callback: the reservation as this callback describes it (pending), a digest
    /// of its parameters (a repeated callback that changed them rewrites the KV record), and the
    /// status the callback's answer settles it at (an `accept` instruction), if any.
    Callback {
        card: Box<Card>,
        digest: String,
        settles: Option<Status>,
    },
    /// The KV write a `callback` answer asked for failed: the next callback writes it again.
    RecordUnwritten {
        sid: ReservationSid,
    },
    /// A `reservation.*` event; `card` describes the reservation from the event's own fields, for
    /// when the hub has never seen it.
    ReservationEvent {
        card: Box<Card>,
        status: Status,
    },
    /// A task event: the task's reservations end, now and for callbacks still to come.
    TaskEvent {
        task_sid: TaskSid,
        ending: TaskEnding,
    },
    /// An operator's status update, after Twilio answered, by `actor`; settles the claim
    /// `claim_token` names.
    Update {
        sid: ReservationSid,
        status: Status,
        claim_token: Option<String>,
        actor: String,
    },
    /// One decision per reservation, for `owner` (the client) and `actor` (who).
    Claim {
        sid: ReservationSid,
        decision: Decision,
        owner: String,
        actor: String,
    },
    /// Gives a claim back: nothing reached TaskRouter, or TaskRouter refused and nothing changed.
    Release {
        sid: ReservationSid,
        token: String,
    },
    Show {
        sid: ReservationSid,
    },
    List(ListRequest),
    /// Events from one delivery, applied in order in one run: only `reservation_event` and
    /// `task_event` are taken. The hub notes when it last heard from `channel`.
    Batch {
        channel: Channel,
        events: Vec<HubRequest>,
    },
    /// When each event channel was last heard from, and what the last catch-up found.
    Heard,
    /// What a catch-up is to read, with up to `read_backs` reservations to read back and
    /// `names` names to look up.
    PlanCatchUp {
        read_backs: usize,
        #[serde(default)]
        names: usize,
    },
    /// TaskRouter no longer has the reservation (it answered `404`): it ends, with `reason`.
    Gone {
        sid: ReservationSid,
        reason: String,
    },
    /// What a catch-up found, and where each Workspace's next one starts.
    CaughtUp {
        report: Box<CatchUpReport>,
        cursors: Vec<(WorkspaceSid, Timestamp)>,
        #[serde(default)]
        names: Vec<NameFound>,
    },
}

/// The channels TaskRouter's events arrive by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Channel {
    /// The Workspace's Event Callback URL (`POST /events`).
    EventCallback,
    /// An Event Streams webhook Sink (`POST /event-streams`).
    EventStreams,
    /// The hub's own catch-up, from TaskRouter's Events resource and read-backs.
    CatchUp,
}

impl Channel {
    /// Its name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// When each channel last delivered an event the hub applied (or knew already), and what the
/// last catch-up found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeardFrom {
    pub event_callback: Option<Timestamp>,
    pub event_streams: Option<Timestamp>,
    /// The last catch-up's report, if one ran.
    #[serde(default)]
    pub catch_up: Option<CatchUpReport>,
}

/// A page of the listing: newest first, `status` as reported (`expired` derived), after the
/// cursor of the previous page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRequest {
    pub status: Option<ReportedStatus>,
    pub limit: usize,
    pub cursor: Option<ListCursor>,
}

/// Where a page ended: the arrival time and SID of its last reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCursor {
    pub received_ms: u64,
    pub sid: ReservationSid,
}

/// What the hub holds of one reservation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HubRow {
    pub card: Card,
    pub status_source: StatusSource,
    /// The decision in flight, if any (never its token).
    pub claim: Option<Claim>,
}

/// What an event did, for the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum EventEffectOutcome {
    Created,
    Moved,
    Unchanged,
    Stale,
    EndedTaskReservations,
    NoOpenReservations,
    /// A catch-up's event about a reservation the hub does not hold: not this worker's.
    NotHeld,
}

impl EventEffectOutcome {
    /// Its name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What the hub refuses, and why; nothing was changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "refused", rename_all = "snake_case")]
pub enum Refusal {
    /// The hub holds no such reservation.
    NotFound,
    /// The status model does not allow the move.
    Transition { from: Status, to: Status },
    /// Another decision is in flight.
    InFlight { claim: Claim },
    /// The reservation already left `pending`.
    Settled { status: Status, at: Timestamp },
    /// The token names no claim this reservation holds (another's, or one that ended).
    NotHolder,
}

/// The hub's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum HubReply {
    /// A callback was recorded: the reservation as the hub now holds it; `write_record` says
    /// the worker is to write the KV record (a new reservation, or changed parameters).
    Recorded {
        card: Box<Card>,
        write_record: bool,
    },
    /// An event was applied: what it did, the reservations it changed, as now held.
    Applied {
        outcome: EventEffectOutcome,
        changed: Vec<Card>,
    },
    /// An update was applied (or the reservation already had that status).
    Updated {
        row: Box<HubRow>,
        changed: bool,
    },
    /// A claim was granted: its token, for release or settling, and when it lapses.
    Granted {
        token: String,
        until: Timestamp,
    },
    Released,
    /// Taken note of.
    Noted,
    Shown {
        row: Option<Box<HubRow>>,
    },
    Listed {
        reservations: Vec<Summary<ReportedStatus>>,
        cursor: Option<ListCursor>,
    },
    /// A batch's answers, in order.
    Batch {
        replies: Vec<HubReply>,
    },
    Heard(HeardFrom),
    CatchUpPlanned(CatchUpPlan),
    Refused(Refusal),
}

/// What the hub sends a console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToConsole {
    /// First, on every (re)connection: what is pending, what settled lately, and the day.
    Snapshot { now: Timestamp, pending: Vec<Card>, recent: Vec<Card>, day: Day },
    /// Then, as each happens: a reservation as just changed, and what its outcome, if it had
    /// a new one, moved in the day.
    Change {
        now: Timestamp,
        card: Box<Card>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        day_moved: Option<DayMove>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ReservationTimeouts;
    use crate::models::reservation::tests::pending;

    #[test]
    fn messages_are_tagged_json() {
        let card = Card::of(&pending("{}", 0), &ReservationTimeouts::uniform(120));
        let now = Timestamp::from_millis(1_000);
        let change = ToConsole::Change { now, card: Box::new(card.clone()), day_moved: None };
        let text = serde_json::to_string(&change).unwrap();
        assert!(text.starts_with(r#"{"type":"change","now":"1970-01-01T00:00:01.000Z","card":{"summary":"#), "{text}");
        assert_eq!(serde_json::from_str::<ToConsole>(&text).unwrap(), change);
        let snapshot = ToConsole::Snapshot { now, pending: vec![card.clone()], recent: vec![], day: Day::of(&[], now) };
        let text = serde_json::to_string(&snapshot).unwrap();
        assert!(text.starts_with(r#"{"type":"snapshot""#));
        assert_eq!(serde_json::from_str::<ToConsole>(&text).unwrap(), snapshot);
        let ask = HubRequest::Callback { card: Box::new(card), digest: "d".into(), settles: None };
        let text = serde_json::to_string(&ask).unwrap();
        assert!(text.starts_with(r#"{"ask":"callback""#), "{text}");
        assert_eq!(serde_json::from_str::<HubRequest>(&text).unwrap(), ask);
        let refused = HubReply::Refused(Refusal::NotFound);
        assert_eq!(serde_json::to_string(&refused).unwrap(), r#"{"reply":"refused","refused":"not_found"}"#);
    }
}
