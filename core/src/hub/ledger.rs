//! The hub's rules over its tables ([`super::schema`]): every change to a reservation, applied
//! with the status model (the furthest status wins, nothing moves back), each question answered
//! in one run of statements with no `.await` between them, so that none interleaves with another.
//! Runs in the Durable Object over its `SqlStorage`, and in `cargo test` over a host SQLite.

use super::card::{Card, is_queue_sid};
use super::claims::{Claim, Decision, OWNER_CHARS, claim_until};
use super::outcomes::OutcomeRow;
use super::protocol::{Channel, EventEffectOutcome, HeardFrom, HubReply, HubRequest, HubRow, Refusal};
use super::sql::{Sql, SqlFailure, SqlValue};
use crate::access::actor::ACTOR_CHARS;
use crate::models::summary::clipped;
use crate::models::{ReservationSid, Status, StatusSource, TaskEnding, TaskSid, Timestamp};

/// Why the hub could not answer: its database failed, or holds a value it cannot read. Nothing
/// was changed by the statements that did not run; the worker answers `503`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerFault {
    #[error(transparent)]
    Sql(#[from] SqlFailure),
    #[error("the hub's row {key} does not read: {reason}")]
    Unreadable { key: String, reason: String },
}

/// What the hub holds of a reservation, read from its row.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Holding {
    pub card: Card,
    pub source: StatusSource,
    pub expires: Timestamp,
    pub digest: String,
}

/// An answer, and the reservations it changed (as now held), for the consoles.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerAnswer {
    pub reply: HubReply,
    pub changed: Vec<Card>,
}

impl LedgerAnswer {
    pub(super) fn only(reply: HubReply) -> LedgerAnswer {
        LedgerAnswer { reply, changed: Vec::new() }
    }
}

pub struct Ledger<S> {
    pub(super) sql: S,
}

pub(super) fn unreadable(key: &str, reason: impl std::fmt::Display) -> LedgerFault {
    LedgerFault::Unreadable { key: key.to_owned(), reason: reason.to_string() }
}

/// Takes the agent's and the queue's names an event carries (`WorkerName`, `TaskQueueName`)
/// over what the hub shows (a `contact_uri`, a queue's SID); a name is never replaced by a
/// `contact_uri`. Returns whether anything changed.
fn learn_names(held: &mut Holding, from: &Card) -> bool {
    let card = &mut held.card;
    let before = (card.summary.agent.clone(), card.summary.queue.clone(), card.agent_is_name);
    if from.summary.agent.is_some() && (from.agent_is_name || !card.agent_is_name) {
        card.summary.agent.clone_from(&from.summary.agent);
        card.agent_is_name = from.agent_is_name;
    }
    if let Some(queue) = from.summary.queue.as_ref().filter(|queue| !is_queue_sid(queue)) {
        card.summary.queue = Some(queue.clone());
    }
    before != (card.summary.agent.clone(), card.summary.queue.clone(), card.agent_is_name)
}

impl<S: Sql> Ledger<S> {
    pub fn new(sql: S) -> Ledger<S> {
        Ledger { sql }
    }

    pub fn sql(&mut self) -> &mut S {
        &mut self.sql
    }

    /// Answers one question. `token` makes a claim's token, when one is granted.
    pub fn answer(
        &mut self,
        request: HubRequest,
        now: Timestamp,
        token: impl FnOnce() -> String,
    ) -> Result<LedgerAnswer, LedgerFault> {
        match request {
            HubRequest::Callback { card, digest, settles } => self.callback(*card, &digest, settles, now),
            HubRequest::RecordUnwritten { sid } => {
                self.sql
                    .exec("UPDATE reservations SET digest = '' WHERE sid = ?", vec![SqlValue::text(sid.as_str())])?;
                Ok(LedgerAnswer::only(HubReply::Noted))
            }
            HubRequest::ReservationEvent { card, status } => self.reservation_event(*card, status, now),
            HubRequest::TaskEvent { task_sid, ending } => self.task_event(&task_sid, ending, now),
            HubRequest::Update { sid, status, claim_token, actor } => {
                self.update(&sid, status, claim_token.as_deref(), &actor, now)
            }
            HubRequest::Claim { sid, decision, owner, actor } => {
                self.claim(&sid, decision, (&owner, &actor), now, token)
            }
            HubRequest::Release { sid, token } => self.release(&sid, &token),
            HubRequest::Show { sid } => {
                let row = self.row(&sid, now)?;
                Ok(LedgerAnswer::only(HubReply::Shown { row: row.map(Box::new) }))
            }
            HubRequest::List(request) => self.list(&request, now).map(LedgerAnswer::only),
            HubRequest::Batch { channel, events } => self.batch(channel, events, now),
            HubRequest::Heard => self.heard().map(|heard| LedgerAnswer::only(HubReply::Heard(heard))),
            HubRequest::PlanCatchUp { read_backs, names } => self.plan_catch_up(read_backs, names, now),
            HubRequest::Gone { sid, reason } => self.gone(&sid, &reason, now),
            HubRequest::CaughtUp { report, cursors, names } => self.caught_up(*report, cursors, names, now),
        }
    }

    pub(super) fn held(&mut self, sid: &ReservationSid) -> Result<Option<Holding>, LedgerFault> {
        let rows = self.sql.exec(
            "SELECT card, source, expires_ms, digest FROM reservations WHERE sid = ?",
            vec![SqlValue::text(sid.as_str())],
        )?;
        let Some(row) = rows.into_iter().next() else { return Ok(None) };
        let key = format!("reservations/{sid}");
        let card: Card = serde_json::from_str(row[0].as_str().unwrap_or_default()).map_err(|e| unreadable(&key, e))?;
        let source = row[1]
            .as_str()
            .and_then(|text| text.parse::<StatusSource>().ok())
            .ok_or_else(|| unreadable(&key, "status source"))?;
        let expires = row[2].as_u64().map(Timestamp::from_millis).ok_or_else(|| unreadable(&key, "expires_ms"))?;
        let digest = row[3].as_str().unwrap_or_default().to_owned();
        Ok(Some(Holding { card, source, expires, digest }))
    }

    fn card_text(held: &Holding) -> Result<String, LedgerFault> {
        serde_json::to_string(&held.card).map_err(|e| unreadable(held.card.summary.reservation_sid.as_str(), e))
    }

    /// Writes a new row.
    fn write_new(&mut self, held: &Holding) -> Result<(), LedgerFault> {
        let summary = &held.card.summary;
        self.sql.exec(
            "INSERT INTO reservations (sid, task_sid, status, source, received_ms, updated_ms, expires_ms, digest, card) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                SqlValue::text(summary.reservation_sid.as_str()),
                SqlValue::text(summary.task_sid.as_str()),
                SqlValue::text(summary.status.as_str()),
                SqlValue::text(held.source.as_str()),
                SqlValue::int(summary.received_at.as_millis()),
                SqlValue::int(summary.status_updated_at.as_millis()),
                SqlValue::int(held.expires.as_millis()),
                SqlValue::text(&held.digest),
                SqlValue::Text(Self::card_text(held)?),
            ],
        )?;
        Ok(())
    }

    /// Writes a row's status (the status columns follow the card's summary) and description. The
    /// arrival, the task and the timeout never change once a row is made.
    pub(super) fn write(&mut self, held: &Holding) -> Result<(), LedgerFault> {
        let summary = &held.card.summary;
        self.sql.exec(
            "UPDATE reservations SET status = ?, source = ?, updated_ms = ?, digest = ?, card = ? WHERE sid = ?",
            vec![
                SqlValue::text(summary.status.as_str()),
                SqlValue::text(held.source.as_str()),
                SqlValue::int(summary.status_updated_at.as_millis()),
                SqlValue::text(&held.digest),
                SqlValue::Text(Self::card_text(held)?),
                SqlValue::text(summary.reservation_sid.as_str()),
            ],
        )?;
        Ok(())
    }

    /// Writes a row's description alone (its status unchanged): the indexes stay as they are.
    pub(super) fn write_description(&mut self, held: &Holding) -> Result<(), LedgerFault> {
        self.sql.exec(
            "UPDATE reservations SET digest = ?, card = ? WHERE sid = ?",
            vec![
                SqlValue::text(&held.digest),
                SqlValue::Text(Self::card_text(held)?),
                SqlValue::text(held.card.summary.reservation_sid.as_str()),
            ],
        )?;
        Ok(())
    }

    /// Moves the held reservation to `next` if the model lets it; records the outcome and ends
    /// a claim once the reservation left `pending`. Returns whether it moved.
    pub(super) fn move_to(
        &mut self,
        held: &mut Holding,
        next: Status,
        source: StatusSource,
        now: Timestamp,
    ) -> Result<bool, LedgerFault> {
        let summary = &mut held.card.summary;
        if summary.status == next || !summary.status.can_reach(next) {
            return Ok(false);
        }
        summary.status = next;
        summary.status_updated_at = now;
        held.source = source;
        self.settled(held, now)?;
        Ok(true)
    }

    /// What follows a status that is new: the end of any claim, and the outcome, counted in the
    /// day once per reservation.
    fn settled(&mut self, held: &Holding, now: Timestamp) -> Result<(), LedgerFault> {
        let sid = SqlValue::text(held.card.summary.reservation_sid.as_str());
        if held.card.summary.status != Status::Pending {
            self.sql.exec("DELETE FROM claims WHERE sid = ?", vec![sid.clone()])?;
        }
        let Some(row) = OutcomeRow::of(&held.card) else { return Ok(()) };
        let outcome = SqlValue::text(row.outcome.as_str());
        let known = self
            .sql
            .exec("SELECT 1 FROM outcomes WHERE sid = ? AND outcome = ?", vec![sid.clone(), outcome.clone()])?;
        if known.is_empty() {
            self.sql.exec(
                "INSERT INTO outcomes (sid, outcome, at_ms, accept_ms) VALUES (?, ?, ?, ?)",
                vec![
                    sid,
                    outcome,
                    SqlValue::int(row.at.as_millis()),
                    row.accept_ms.map_or(SqlValue::Null, SqlValue::int),
                ],
            )?;
            self.count_outcome(&row, now)?;
        }
        Ok(())
    }

    fn task_ending(&mut self, task: &TaskSid) -> Result<Option<TaskEnding>, LedgerFault> {
        let rows = self.sql.exec("SELECT ending FROM tasks WHERE task_sid = ?", vec![SqlValue::text(task.as_str())])?;
        let Some(row) = rows.first() else { return Ok(None) };
        let text = row[0].as_str().unwrap_or_default();
        text.parse::<TaskEnding>().map(Some).map_err(|e| unreadable(&format!("tasks/{task}"), e))
    }

    /// The longest reservation timeout of any reservation held: no reservation that arrived
    /// earlier than that can still be pending.
    pub(super) fn longest_timeout_ms(&mut self) -> Result<u64, LedgerFault> {
        let rows = self.sql.exec("SELECT value FROM meta WHERE key = 'longest_timeout_ms'", vec![])?;
        Ok(rows.first().and_then(|row| row[0].as_str()).and_then(|text| text.parse().ok()).unwrap_or(0))
    }

    /// A reservation new to the hub, from a callback or an event's fields.
    fn insert(
        &mut self,
        card: Card,
        source: StatusSource,
        digest: &str,
        now: Timestamp,
    ) -> Result<Holding, LedgerFault> {
        let timeout_ms = card.timeout_seconds.saturating_mul(1000);
        if timeout_ms > self.longest_timeout_ms()? {
            self.sql.exec(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('longest_timeout_ms', ?)",
                vec![SqlValue::Text(timeout_ms.to_string())],
            )?;
        }
        let expires = Timestamp::from_millis(card.summary.received_at.as_millis().saturating_add(timeout_ms));
        let held = Holding { card, source, expires, digest: digest.to_owned() };
        self.write_new(&held)?;
        self.settled(&held, now)?;
        Ok(held)
    }

    fn callback(
        &mut self,
        card: Card,
        digest: &str,
        settles: Option<Status>,
        now: Timestamp,
    ) -> Result<LedgerAnswer, LedgerFault> {
        let sid = card.summary.reservation_sid.clone();
        self.remember_names(&card, now)?;
        let (mut held, new, write_record) = match self.held(&sid)? {
            None => {
                // The arrival is the worker's, as its KV key has it: a callback handed over late
                // (the hub was down or slow) still names its record.
                let mut card = card;
                card.summary.status = Status::Pending;
                card.summary.status_updated_at = card.summary.received_at;
                self.put_known_names(&mut card)?;
                (self.insert(card, StatusSource::Callback, digest, now)?, true, true)
            }
            Some(mut held) => {
                // The newest description, but the first arrival, the status the hub holds, who
                // decided, and the names an event brought.
                let changed = held.digest != digest;
                let earlier = std::mem::replace(&mut held.card, card);
                let summary = &mut held.card.summary;
                summary.status = earlier.summary.status;
                summary.received_at = earlier.summary.received_at;
                summary.status_updated_at = earlier.summary.status_updated_at;
                held.card.decided_by = earlier.decided_by.clone();
                learn_names(&mut held, &earlier);
                self.put_known_names(&mut held.card)?;
                held.digest = digest.to_owned();
                (held, false, changed)
            }
        };
        let mut moved = false;
        if let Some(status) = settles {
            moved |= self.move_to(&mut held, status, StatusSource::Callback, now)?;
        }
        // A task event that came first (TaskRouter does not order its callbacks) still counts.
        if let Some(next) = self
            .task_ending(&held.card.summary.task_sid)?
            .and_then(|ending| ending.status_for(held.card.summary.status))
        {
            moved |= self.move_to(&mut held, next, StatusSource::Event, now)?;
        }
        // A repeated callback that changed nothing writes nothing, and tells no console.
        if moved {
            self.write(&held)?;
        } else if write_record && !new {
            self.write_description(&held)?;
        } else if !new {
            let card = held.card;
            return Ok(LedgerAnswer::only(HubReply::Recorded { card: Box::new(card), write_record }));
        }
        let card = held.card;
        Ok(LedgerAnswer {
            reply: HubReply::Recorded { card: Box::new(card.clone()), write_record },
            changed: vec![card],
        })
    }

    fn reservation_event(&mut self, card: Card, status: Status, now: Timestamp) -> Result<LedgerAnswer, LedgerFault> {
        let sid = card.summary.reservation_sid.clone();
        self.remember_names(&card, now)?;
        let (mut held, outcome) = match self.held(&sid)? {
            None => {
                let mut card = card;
                self.put_known_names(&mut card)?;
                card.summary.status = status;
                card.summary.received_at = now;
                card.summary.status_updated_at = now;
                (self.insert(card, StatusSource::Event, "", now)?, EventEffectOutcome::Created)
            }
            Some(mut held) => {
                // The callback carries no worker or queue name; an event does: keep them.
                let named = learn_names(&mut held, &card);
                let current = held.card.summary.status;
                let quiet = if current == status {
                    Some(EventEffectOutcome::Unchanged)
                } else if !self.move_to(&mut held, status, StatusSource::Event, now)? {
                    Some(EventEffectOutcome::Stale)
                } else {
                    None
                };
                if let Some(outcome) = quiet {
                    if !named {
                        return Ok(LedgerAnswer::only(HubReply::Applied { outcome, changed: vec![] }));
                    }
                    self.write_description(&held)?;
                    return Ok(LedgerAnswer {
                        reply: HubReply::Applied { outcome, changed: vec![] },
                        changed: vec![held.card],
                    });
                }
                (held, EventEffectOutcome::Moved)
            }
        };
        if let Some(next) = self
            .task_ending(&held.card.summary.task_sid)?
            .and_then(|ending| ending.status_for(held.card.summary.status))
        {
            self.move_to(&mut held, next, StatusSource::Event, now)?;
        }
        self.write(&held)?;
        let changed = vec![held.card];
        Ok(LedgerAnswer { reply: HubReply::Applied { outcome, changed: changed.clone() }, changed })
    }

    fn task_event(&mut self, task: &TaskSid, ending: TaskEnding, now: Timestamp) -> Result<LedgerAnswer, LedgerFault> {
        self.sql.exec(
            "INSERT OR REPLACE INTO tasks (task_sid, ending, at_ms) VALUES (?, ?, ?)",
            vec![SqlValue::text(task.as_str()), SqlValue::text(ending.as_str()), SqlValue::int(now.as_millis())],
        )?;
        let sids =
            self.sql.exec("SELECT sid FROM reservations WHERE task_sid = ?", vec![SqlValue::text(task.as_str())])?;
        let mut changed = Vec::new();
        for row in sids {
            let Some(sid) = row[0].as_str().and_then(|sid| sid.parse::<ReservationSid>().ok()) else {
                return Err(unreadable(&format!("reservations of {task}"), "a SID"));
            };
            let Some(mut held) = self.held(&sid)? else { continue };
            let Some(next) = ending.status_for(held.card.summary.status) else { continue };
            if self.move_to(&mut held, next, StatusSource::Event, now)? {
                self.write(&held)?;
                changed.push(held.card);
            }
        }
        let outcome = if changed.is_empty() {
            EventEffectOutcome::NoOpenReservations
        } else {
            EventEffectOutcome::EndedTaskReservations
        };
        Ok(LedgerAnswer { reply: HubReply::Applied { outcome, changed: changed.clone() }, changed })
    }

    fn claim_of(&mut self, sid: &ReservationSid) -> Result<Option<(Claim, String)>, LedgerFault> {
        let rows = self.sql.exec(
            "SELECT decision, owner, actor, token, since_ms, until_ms FROM claims WHERE sid = ?",
            vec![SqlValue::text(sid.as_str())],
        )?;
        let Some(row) = rows.into_iter().next() else { return Ok(None) };
        let key = format!("claims/{sid}");
        let decision =
            row[0].as_str().and_then(|text| text.parse().ok()).ok_or_else(|| unreadable(&key, "decision"))?;
        let time =
            |value: &SqlValue| value.as_u64().map(Timestamp::from_millis).ok_or_else(|| unreadable(&key, "a time"));
        let claim = Claim {
            decision,
            owner: row[1].as_str().unwrap_or_default().to_owned(),
            actor: row[2].as_str().unwrap_or_default().to_owned(),
            since: time(&row[4])?,
            until: time(&row[5])?,
        };
        Ok(Some((claim, row[3].as_str().unwrap_or_default().to_owned())))
    }

    /// The claim in force on `sid`, if any (a lapsed one is not).
    fn live_claim(&mut self, sid: &ReservationSid, now: Timestamp) -> Result<Option<(Claim, String)>, LedgerFault> {
        Ok(self.claim_of(sid)?.filter(|(claim, _)| claim.until > now))
    }

    fn update(
        &mut self,
        sid: &ReservationSid,
        status: Status,
        token: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<LedgerAnswer, LedgerFault> {
        let Some(mut held) = self.held(sid)? else {
            return Ok(LedgerAnswer::only(HubReply::Refused(Refusal::NotFound)));
        };
        if let Some(token) = token
            && (token.is_empty() || self.live_claim(sid, now)?.is_some_and(|(_, held_token)| held_token != token))
        {
            return Ok(LedgerAnswer::only(HubReply::Refused(Refusal::NotHolder)));
        }
        let from = held.card.summary.status;
        if from != status && !from.can_reach(status) {
            return Ok(LedgerAnswer::only(HubReply::Refused(Refusal::Transition { from, to: status })));
        }
        let changed = self.move_to(&mut held, status, StatusSource::Operator, now)?;
        if changed {
            held.card.decided_by = Some(clipped(actor, ACTOR_CHARS));
            self.write(&held)?;
        } else if token.is_some() && status != Status::Pending {
            // Already so: the claimant settles its claim all the same.
            self.sql.exec("DELETE FROM claims WHERE sid = ?", vec![SqlValue::text(sid.as_str())])?;
        }
        let row = self.row(sid, now)?.ok_or_else(|| unreadable(sid.as_str(), "vanished"))?;
        let cards = if changed { vec![row.card.clone()] } else { vec![] };
        Ok(LedgerAnswer { reply: HubReply::Updated { row: Box::new(row), changed }, changed: cards })
    }

    fn claim(
        &mut self,
        sid: &ReservationSid,
        decision: Decision,
        (owner, actor): (&str, &str),
        now: Timestamp,
        token: impl FnOnce() -> String,
    ) -> Result<LedgerAnswer, LedgerFault> {
        let Some(held) = self.held(sid)? else { return Ok(LedgerAnswer::only(HubReply::Refused(Refusal::NotFound))) };
        let summary = &held.card.summary;
        if summary.status != Status::Pending {
            let refusal = Refusal::Settled { status: summary.status, at: summary.status_updated_at };
            return Ok(LedgerAnswer::only(HubReply::Refused(refusal)));
        }
        if let Some((claim, _)) = self.live_claim(sid, now)? {
            return Ok(LedgerAnswer::only(HubReply::Refused(Refusal::InFlight { claim })));
        }
        let token = token();
        let until = claim_until(now, held.expires);
        self.sql.exec(
            "INSERT OR REPLACE INTO claims (sid, decision, owner, actor, token, since_ms, until_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                SqlValue::text(sid.as_str()),
                SqlValue::text(decision.as_str()),
                SqlValue::Text(clipped(owner, OWNER_CHARS)),
                SqlValue::Text(clipped(actor, ACTOR_CHARS)),
                SqlValue::text(&token),
                SqlValue::int(now.as_millis()),
                SqlValue::int(until.as_millis()),
            ],
        )?;
        Ok(LedgerAnswer::only(HubReply::Granted { token, until }))
    }

    fn release(&mut self, sid: &ReservationSid, token: &str) -> Result<LedgerAnswer, LedgerFault> {
        match self.claim_of(sid)? {
            Some((_, held)) if !token.is_empty() && held == token => {
                self.sql.exec("DELETE FROM claims WHERE sid = ?", vec![SqlValue::text(sid.as_str())])?;
                Ok(LedgerAnswer::only(HubReply::Released))
            }
            _ => Ok(LedgerAnswer::only(HubReply::Refused(Refusal::NotHolder))),
        }
    }

    /// A delivery's events in order. A catch-up's are TaskRouter's whole Workspace: it changes
    /// only reservations the hub holds, and is not a channel heard from.
    fn batch(
        &mut self,
        channel: Channel,
        events: Vec<HubRequest>,
        now: Timestamp,
    ) -> Result<LedgerAnswer, LedgerFault> {
        if channel != Channel::CatchUp {
            self.sql.exec(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                vec![
                    SqlValue::Text(format!("heard:{}", channel.as_str())),
                    SqlValue::Text(now.as_millis().to_string()),
                ],
            )?;
        }
        let mut replies = Vec::with_capacity(events.len());
        let mut changed = Vec::new();
        for event in events {
            let answer = match event {
                HubRequest::ReservationEvent { card, .. }
                    if channel == Channel::CatchUp && self.held(&card.summary.reservation_sid)?.is_none() =>
                {
                    LedgerAnswer::only(HubReply::Applied { outcome: EventEffectOutcome::NotHeld, changed: vec![] })
                }
                event @ (HubRequest::ReservationEvent { .. } | HubRequest::TaskEvent { .. }) => {
                    self.answer(event, now, String::new)?
                }
                _ => LedgerAnswer::only(HubReply::Refused(Refusal::NotFound)),
            };
            replies.push(answer.reply);
            changed.extend(answer.changed);
        }
        Ok(LedgerAnswer { reply: HubReply::Batch { replies }, changed })
    }

    /// When each channel was last heard from.
    fn heard(&mut self) -> Result<HeardFrom, LedgerFault> {
        let mut heard = HeardFrom { event_callback: None, event_streams: None, catch_up: self.catch_up_report()? };
        for row in self.sql.exec("SELECT key, value FROM meta WHERE key LIKE 'heard:%'", vec![])? {
            let at = row[1].as_str().and_then(|text| text.parse().ok()).map(Timestamp::from_millis);
            match row[0].as_str() {
                Some("heard:event_callback") => heard.event_callback = at,
                Some("heard:event_streams") => heard.event_streams = at,
                _ => {}
            }
        }
        Ok(heard)
    }

    /// What the hub holds of `sid`, with the claim in force.
    pub fn row(&mut self, sid: &ReservationSid, now: Timestamp) -> Result<Option<HubRow>, LedgerFault> {
        let Some(held) = self.held(sid)? else { return Ok(None) };
        let claim = self.live_claim(sid, now)?.map(|(claim, _)| claim);
        Ok(Some(HubRow { card: held.card, status_source: held.source, claim }))
    }

    /// Keeps cards read from KV (an import) that the hub does not hold; the hub's own rows are
    /// newer than anything KV has. Returns how many were new.
    pub fn import(&mut self, cards: Vec<Card>, now: Timestamp) -> Result<usize, LedgerFault> {
        let mut added = 0;
        for card in cards {
            if self.held(&card.summary.reservation_sid)?.is_none() {
                let source =
                    if card.summary.status == Status::Pending { StatusSource::Callback } else { StatusSource::Event };
                self.insert(card, source, "", now)?;
                added += 1;
            }
        }
        Ok(added)
    }

    /// Forgets what is older than `kept_ms`: reservations last changed then, ended tasks,
    /// outcomes and lapsed claims.
    pub fn prune(&mut self, now: Timestamp, kept_ms: u64) -> Result<(), LedgerFault> {
        let horizon = SqlValue::int(now.as_millis().saturating_sub(kept_ms));
        self.sql.exec("DELETE FROM reservations WHERE updated_ms < ?", vec![horizon.clone()])?;
        self.sql.exec("DELETE FROM tasks WHERE at_ms < ?", vec![horizon.clone()])?;
        self.sql.exec("DELETE FROM outcomes WHERE at_ms < ?", vec![horizon])?;
        self.sql.exec("DELETE FROM claims WHERE until_ms < ?", vec![SqlValue::int(now.as_millis())])?;
        self.sql.exec("DELETE FROM read_backs WHERE sid NOT IN (SELECT sid FROM reservations)", vec![])?;
        Ok(())
    }
}
