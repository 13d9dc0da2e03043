//! The ledger's part in catching up ([`super::catch_up`]): the plan of a run, a reservation
//! TaskRouter no longer has, and what a run found.

use super::catch_up::{CatchUpPlan, CatchUpReport, NameFound, OVERLAP_MS, ReadBack, WorkspaceToRead};
use super::ledger::{Ledger, LedgerAnswer, LedgerFault, unreadable};
use super::protocol::{EventEffectOutcome, HubReply};
use super::sql::{Sql, SqlValue};
use crate::models::{ReservationSid, Status, StatusSource, Timestamp, WorkspaceSid};

/// The statuses that are not final.
const OPEN: &str = "status IN ('pending', 'accepted', 'wrapping')";

fn meta_get<S: Sql>(sql: &mut S, key: &str) -> Result<Option<String>, LedgerFault> {
    let rows = sql.exec("SELECT value FROM meta WHERE key = ?", vec![SqlValue::text(key)])?;
    Ok(rows.first().and_then(|row| row[0].as_str()).map(str::to_owned))
}

fn meta_set<S: Sql>(sql: &mut S, key: &str, value: String) -> Result<(), LedgerFault> {
    sql.exec(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        vec![SqlValue::text(key), SqlValue::Text(value)],
    )?;
    Ok(())
}

impl<S: Sql> Ledger<S> {
    /// How many reservations are not yet final.
    pub fn open_count(&mut self) -> Result<usize, LedgerFault> {
        let rows = self.sql.exec(&format!("SELECT COUNT(*) FROM reservations WHERE {OPEN}"), vec![])?;
        Ok(rows.first().and_then(|row| row[0].as_u64()).unwrap_or(0) as usize)
    }

    /// The Workspaces with open reservations, and up to `read_backs` reservations still
    /// `pending` past their timeout, those read back longest ago first; each is noted as read
    /// back now.
    pub(super) fn plan_catch_up(
        &mut self,
        read_backs: usize,
        names: usize,
        now: Timestamp,
    ) -> Result<LedgerAnswer, LedgerFault> {
        let rows = self.sql.exec(
            &format!(
                "SELECT json_extract(card, '$.summary.workspace_sid'), MAX(json_extract(card, '$.account_sid')), MIN(received_ms), COUNT(*) FROM reservations WHERE {OPEN} GROUP BY 1"
            ),
            vec![],
        )?;
        let names = self.names_to_read(names, now)?;
        let mut plan = CatchUpPlan { workspaces: Vec::new(), read_backs: Vec::new(), names, open: 0 };
        for row in rows {
            let workspace_sid = row[0].as_str().and_then(|sid| sid.parse().ok());
            let Some(workspace_sid) = workspace_sid else { return Err(unreadable("reservations", "a Workspace SID")) };
            let account_sid = row[1].as_str().and_then(|sid| sid.parse().ok());
            let oldest = row[2].as_u64().unwrap_or(now.as_millis());
            plan.open += row[3].as_u64().unwrap_or(0) as usize;
            let cursor = meta_get(&mut self.sql, &format!("cursor:{workspace_sid}"))?.and_then(|ms| ms.parse().ok());
            let since = cursor.unwrap_or(oldest).saturating_sub(OVERLAP_MS);
            plan.workspaces.push(WorkspaceToRead { workspace_sid, account_sid, since: Timestamp::from_millis(since) });
        }
        let due = self.sql.exec(
            "SELECT r.sid, r.task_sid, json_extract(r.card, '$.summary.workspace_sid'), json_extract(r.card, '$.account_sid') FROM reservations r LEFT JOIN read_backs b ON b.sid = r.sid WHERE r.status = 'pending' AND r.expires_ms < ? ORDER BY COALESCE(b.at_ms, 0), r.expires_ms LIMIT ?",
            vec![SqlValue::int(now.as_millis()), SqlValue::int(read_backs as u64)],
        )?;
        for row in due {
            let sid = |index: usize| row[index].as_str().unwrap_or_default();
            let (Ok(reservation_sid), Ok(task_sid), Ok(workspace_sid)) =
                (sid(0).parse(), sid(1).parse(), sid(2).parse::<WorkspaceSid>())
            else {
                return Err(unreadable(&format!("reservations/{}", sid(0)), "a SID"));
            };
            let account_sid = sid(3).parse().ok();
            self.sql.exec(
                "INSERT OR REPLACE INTO read_backs (sid, at_ms) VALUES (?, ?)",
                vec![SqlValue::text(sid(0)), SqlValue::int(now.as_millis())],
            )?;
            plan.read_backs.push(ReadBack { workspace_sid, task_sid, reservation_sid, account_sid });
        }
        Ok(LedgerAnswer::only(HubReply::CatchUpPlanned(plan)))
    }

    /// Ends a reservation TaskRouter no longer has: a `pending` one becomes `canceled` (it can
    /// no longer be accepted); any other keeps its status. Either way it carries `reason`.
    pub(super) fn gone(
        &mut self,
        sid: &ReservationSid,
        reason: &str,
        now: Timestamp,
    ) -> Result<LedgerAnswer, LedgerFault> {
        let Some(mut held) = self.held(sid)? else {
            return Ok(LedgerAnswer::only(HubReply::Applied { outcome: EventEffectOutcome::NotHeld, changed: vec![] }));
        };
        if held.card.ended_because.is_some() {
            return Ok(LedgerAnswer::only(HubReply::Applied {
                outcome: EventEffectOutcome::Unchanged,
                changed: vec![],
            }));
        }
        held.card.ended_because = Some(reason.to_owned());
        let moved = self.move_to(&mut held, Status::Canceled, StatusSource::Event, now)?;
        if moved {
            self.write(&held)?;
        } else {
            self.write_description(&held)?;
        }
        let outcome = if moved { EventEffectOutcome::Moved } else { EventEffectOutcome::Unchanged };
        let changed = vec![held.card];
        Ok(LedgerAnswer { reply: HubReply::Applied { outcome, changed: changed.clone() }, changed })
    }

    /// Keeps a run's report, each Workspace's new cursor and the names it found; counts the run.
    /// The cards a name changed go to the consoles.
    pub(super) fn caught_up(
        &mut self,
        mut report: CatchUpReport,
        cursors: Vec<(WorkspaceSid, Timestamp)>,
        names: Vec<NameFound>,
        now: Timestamp,
    ) -> Result<LedgerAnswer, LedgerFault> {
        let changed = self.names_found(names, now)?;
        for (workspace, cursor) in cursors {
            meta_set(&mut self.sql, &format!("cursor:{workspace}"), cursor.as_millis().to_string())?;
        }
        report.runs = self.catch_up_report()?.map_or(0, |last| last.runs) + 1;
        report.open = self.open_count()?;
        let text = serde_json::to_string(&report).map_err(|e| unreadable("meta/catch_up", e))?;
        meta_set(&mut self.sql, "catch_up", text)?;
        Ok(LedgerAnswer { reply: HubReply::Noted, changed })
    }

    /// The last run's report, if a run was made.
    pub fn catch_up_report(&mut self) -> Result<Option<CatchUpReport>, LedgerFault> {
        let Some(text) = meta_get(&mut self.sql, "catch_up")? else { return Ok(None) };
        serde_json::from_str(&text).map(Some).map_err(|e| unreadable("meta/catch_up", e))
    }
}
