//! Names for the rows: the agent's and the queue's, where the assignment callback carries only
//! SIDs (and a `contact_uri`). The hub keeps the names it learns in `names`: a Worker's from an
//! event (`WorkerName`), and a Worker's or a TaskQueue's from a catch-up's lookup of TaskRouter's
//! resources; it puts each on the cards of that SID. A SID is looked up at most once per
//! [`NAME_KEPT_MS`], and a Worker not at all while an event's name is that fresh. (An event's
//! `TaskQueueName` names the card it came with; the card holds no queue SID to key it by.)

use super::card::{Card, is_queue_sid};
use super::catch_up::{NAME_KEPT_MS, NameFound, NameOwner, NameToRead};
use super::ledger::{Ledger, LedgerFault};
use super::sql::{Sql, SqlValue};
use crate::models::summary::{LABEL_CHARS, clipped};
use crate::models::{ReservationSid, Timestamp};

impl<S: Sql> Ledger<S> {
    /// Keeps `name` (already clipped) for `sid`. A row that already says so, and was written
    /// within half of [`NAME_KEPT_MS`], is left as it is: every event brings the Worker's name
    /// again, and a row written per event would be a write per event.
    fn remember_name(&mut self, sid: &str, name: Option<&str>, now: Timestamp) -> Result<(), LedgerFault> {
        let name = name.map(SqlValue::text).unwrap_or(SqlValue::Null);
        self.sql.exec(
            "INSERT INTO names (sid, name, at_ms) VALUES (?, ?, ?) ON CONFLICT (sid) DO UPDATE \
             SET name = excluded.name, at_ms = excluded.at_ms \
             WHERE names.name IS NOT excluded.name OR names.at_ms < excluded.at_ms - ?",
            vec![SqlValue::text(sid), name, SqlValue::int(now.as_millis()), SqlValue::int(NAME_KEPT_MS / 2)],
        )?;
        Ok(())
    }

    fn known_name(&mut self, sid: &str) -> Result<Option<String>, LedgerFault> {
        let rows = self.sql.exec("SELECT name FROM names WHERE sid = ?", vec![SqlValue::text(sid)])?;
        Ok(rows.first().and_then(|row| row[0].as_str()).map(str::to_owned))
    }

    /// Keeps the names an event's card carries, so they need no lookup.
    pub(super) fn remember_names(&mut self, card: &Card, now: Timestamp) -> Result<(), LedgerFault> {
        if let (Some(worker), Some(agent), true) = (&card.summary.worker_sid, &card.summary.agent, card.agent_is_name) {
            self.remember_name(worker.as_str(), Some(&clipped(agent, LABEL_CHARS)), now)?;
        }
        Ok(())
    }

    /// Puts the names the hub knows on a card that lacks them.
    pub(super) fn put_known_names(&mut self, card: &mut Card) -> Result<(), LedgerFault> {
        if let (Some(worker), false) = (card.summary.worker_sid.clone(), card.agent_is_name)
            && let Some(name) = self.known_name(worker.as_str())?
        {
            card.name_agent(name);
        }
        if let Some(queue) = card.summary.queue.clone().filter(|queue| is_queue_sid(queue))
            && let Some(name) = self.known_name(&queue)?
        {
            card.name_queue(name);
        }
        Ok(())
    }

    /// Workers and TaskQueues of the last day's reservations whose name no event or lookup gave
    /// in the last day, up to `limit`, those of the newest reservations first (what the console
    /// shows at the top).
    pub(super) fn names_to_read(&mut self, limit: usize, now: Timestamp) -> Result<Vec<NameToRead>, LedgerFault> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let since = SqlValue::int(now.as_millis().saturating_sub(NAME_KEPT_MS));
        let rows = self.sql.exec(
            "SELECT kind, sid, workspace, MAX(account), MAX(received) FROM (\
               SELECT 'worker' AS kind, json_extract(card, '$.summary.worker_sid') AS sid, json_extract(card, '$.summary.workspace_sid') AS workspace, json_extract(card, '$.account_sid') AS account, received_ms AS received \
                 FROM reservations WHERE received_ms > ? \
               UNION ALL \
               SELECT 'queue', json_extract(card, '$.summary.queue'), json_extract(card, '$.summary.workspace_sid'), json_extract(card, '$.account_sid'), received_ms \
                 FROM reservations WHERE received_ms > ? AND json_extract(card, '$.summary.queue') LIKE 'WQ%'\
             ) WHERE sid IS NOT NULL AND sid NOT IN (SELECT sid FROM names WHERE at_ms > ?) \
             GROUP BY kind, sid, workspace ORDER BY MAX(received) DESC, kind, sid LIMIT ?",
            vec![since.clone(), since.clone(), since, SqlValue::int(limit as u64)],
        )?;
        let text = |row: &[SqlValue], index: usize| row[index].as_str().unwrap_or_default().to_owned();
        Ok(rows
            .iter()
            .filter_map(|row| {
                let named = match text(row, 0).as_str() {
                    "worker" => NameOwner::Worker(text(row, 1).parse().ok()?),
                    _ => NameOwner::Queue(text(row, 1).parse().ok()?),
                };
                let workspace_sid = text(row, 2).parse().ok()?;
                Some(NameToRead { workspace_sid, account_sid: text(row, 3).parse().ok(), named })
            })
            .collect())
    }

    /// Keeps what a catch-up's lookups found and puts each name on the day's cards of its SID
    /// (a Worker renamed since shows its new name); returns the cards that changed.
    pub(super) fn names_found(&mut self, found: Vec<NameFound>, now: Timestamp) -> Result<Vec<Card>, LedgerFault> {
        let mut changed = Vec::new();
        for NameFound { named, name } in found {
            let name = name.map(|name| clipped(&name, LABEL_CHARS));
            self.remember_name(named.as_str(), name.as_deref(), now)?;
            let Some(name) = name else { continue };
            // A Worker's every card of the day, unless it shows that name already; a queue's
            // cards that still show its SID.
            let (matching, shown) = match named {
                NameOwner::Worker(_) => {
                    ("json_extract(card, '$.summary.worker_sid') = ? AND received_ms > ?", "$.summary.agent")
                }
                NameOwner::Queue(_) => {
                    ("json_extract(card, '$.summary.queue') = ? AND received_ms > ?", "$.summary.queue")
                }
            };
            let rows = self.sql.exec(
                &format!(
                    "SELECT sid FROM reservations WHERE {matching} AND COALESCE(json_extract(card, '{shown}'), '') != ?"
                ),
                vec![
                    SqlValue::text(named.as_str()),
                    SqlValue::int(now.as_millis().saturating_sub(NAME_KEPT_MS)),
                    SqlValue::text(&name),
                ],
            )?;
            for row in rows {
                let Some(sid) = row[0].as_str().and_then(|sid| sid.parse::<ReservationSid>().ok()) else { continue };
                let Some(mut held) = self.held(&sid)? else { continue };
                match named {
                    NameOwner::Worker(_) => held.card.name_agent(name.clone()),
                    NameOwner::Queue(_) => held.card.name_queue(name.clone()),
                }
                self.write_description(&held)?;
                changed.push(held.card);
            }
        }
        Ok(changed)
    }
}
