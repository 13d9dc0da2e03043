//! The hub's SQLite tables: what it was told of each reservation, the outcomes of the day, and
//! the decisions in flight. Every method is one or a few synchronous statements, so a run of
//! them with no `.await` between commits as one unit: the claim rule is never interleaved.

use serde::Deserialize;
use worker::{SqlStorage, SqlStorageValue};

use crate::hub::KEPT_MS;
use crate::hub::card::Card;
use crate::hub::claims::{Claim, Decision};
use crate::hub::outcomes::{Outcome, OutcomeRow};
use crate::models::{ReservationSid, Status, Timestamp};

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS reservations (sid TEXT PRIMARY KEY, status TEXT NOT NULL, card TEXT NOT NULL, received_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS reservations_by_status ON reservations (status, received_ms)",
    "CREATE INDEX IF NOT EXISTS reservations_by_update ON reservations (updated_ms)",
    "CREATE TABLE IF NOT EXISTS outcomes (sid TEXT NOT NULL, outcome TEXT NOT NULL, at_ms INTEGER NOT NULL, accept_ms INTEGER, PRIMARY KEY (sid, outcome))",
    "CREATE INDEX IF NOT EXISTS outcomes_by_time ON outcomes (at_ms)",
    "CREATE TABLE IF NOT EXISTS decisions (sid TEXT PRIMARY KEY, decision TEXT NOT NULL, since_ms INTEGER NOT NULL)",
];

/// How many pending reservations a snapshot shows, and how many settled ones.
const SNAPSHOT_PENDING: i64 = 200;
const SNAPSHOT_RECENT: i64 = 20;

pub struct Tables {
    sql: SqlStorage,
    /// Rows read and written so far, for the request's log line.
    pub rows_read: usize,
    pub rows_written: usize,
}

fn int(ms: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(i64::try_from(ms).unwrap_or(i64::MAX))
}

fn text(value: &str) -> SqlStorageValue {
    SqlStorageValue::String(value.to_owned())
}

#[derive(Deserialize)]
struct StatusRow {
    status: String,
    updated_ms: f64,
}

#[derive(Deserialize)]
struct CardRow {
    card: String,
}

#[derive(Deserialize)]
struct ClaimRow {
    decision: String,
    since_ms: f64,
}

#[derive(Deserialize)]
struct OutcomeRowSql {
    outcome: String,
    at_ms: f64,
    accept_ms: Option<f64>,
}

impl Tables {
    /// The tables, made if they are not there yet.
    pub fn open(sql: SqlStorage) -> worker::Result<Tables> {
        for statement in SCHEMA {
            sql.exec(statement, None)?;
        }
        Ok(Tables { sql, rows_read: 0, rows_written: 0 })
    }

    fn rows<T: serde::de::DeserializeOwned>(
        &mut self,
        query: &str,
        bindings: Vec<SqlStorageValue>,
    ) -> worker::Result<Vec<T>> {
        let cursor = self.sql.exec(query, bindings)?;
        let rows = cursor.to_array()?;
        self.rows_read += cursor.rows_read();
        self.rows_written += cursor.rows_written();
        Ok(rows)
    }

    fn run(&mut self, query: &str, bindings: Vec<SqlStorageValue>) -> worker::Result<usize> {
        let cursor = self.sql.exec(query, bindings)?;
        self.rows_read += cursor.rows_read();
        self.rows_written += cursor.rows_written();
        Ok(cursor.rows_written())
    }

    /// The status the hub was told of, and when it was set.
    pub fn status(&mut self, sid: &ReservationSid) -> worker::Result<Option<(Status, Timestamp)>> {
        let rows: Vec<StatusRow> =
            self.rows("SELECT status, updated_ms FROM reservations WHERE sid = ?", vec![text(sid.as_str())])?;
        Ok(rows.first().and_then(|row| Some((row.status.parse().ok()?, Timestamp::from_millis(row.updated_ms as u64)))))
    }

    /// Keeps `card` unless the hub already holds a status past it (a late or repeated message:
    /// statuses only move forward). Returns whether it was kept, and the outcome it added to
    /// the day, if any.
    pub fn keep(&mut self, card: &Card) -> worker::Result<(bool, Option<OutcomeRow>)> {
        let summary = &card.summary;
        let sid = summary.reservation_sid.as_str();
        if let Some((status, _)) = self.status(&summary.reservation_sid)?
            && status != summary.status
            && !status.can_reach(summary.status)
        {
            return Ok((false, None));
        }
        let json = serde_json::to_string(card).map_err(|e| worker::Error::RustError(e.to_string()))?;
        self.run(
            "INSERT OR REPLACE INTO reservations (sid, status, card, received_ms, updated_ms) VALUES (?, ?, ?, ?, ?)",
            vec![
                text(sid),
                text(summary.status.as_str()),
                SqlStorageValue::String(json),
                int(summary.received_at.as_millis()),
                int(summary.status_updated_at.as_millis()),
            ],
        )?;
        if summary.status != Status::Pending {
            // A decision is over once the reservation left pending.
            self.run("DELETE FROM decisions WHERE sid = ?", vec![text(sid)])?;
        }
        let Some(outcome) = OutcomeRow::of(card) else { return Ok((true, None)) };
        let added = self.run(
            "INSERT OR IGNORE INTO outcomes (sid, outcome, at_ms, accept_ms) VALUES (?, ?, ?, ?)",
            vec![
                text(sid),
                text(outcome.outcome.as_str()),
                int(outcome.at.as_millis()),
                outcome.accept_ms.map_or(SqlStorageValue::Null, int),
            ],
        )?;
        Ok((true, (added > 0).then_some(outcome)))
    }

    /// Forgets what is older than a day.
    pub fn prune(&mut self, now: Timestamp) -> worker::Result<()> {
        let horizon = int(now.as_millis().saturating_sub(KEPT_MS));
        self.run("DELETE FROM reservations WHERE updated_ms < ?", vec![horizon.clone()])?;
        self.run("DELETE FROM outcomes WHERE at_ms < ?", vec![horizon.clone()])?;
        self.run("DELETE FROM decisions WHERE since_ms < ?", vec![horizon])?;
        Ok(())
    }

    /// The pending reservations, newest first, and the latest ones that left pending.
    pub fn snapshot(&mut self) -> worker::Result<(Vec<Card>, Vec<Card>)> {
        let read = |rows: Vec<CardRow>| rows.iter().filter_map(|row| serde_json::from_str(&row.card).ok()).collect();
        let pending = self.rows(
            "SELECT card FROM reservations WHERE status = 'pending' ORDER BY received_ms DESC LIMIT ?",
            vec![SqlStorageValue::Integer(SNAPSHOT_PENDING)],
        )?;
        let recent = self.rows(
            "SELECT card FROM reservations WHERE status != 'pending' ORDER BY updated_ms DESC LIMIT ?",
            vec![SqlStorageValue::Integer(SNAPSHOT_RECENT)],
        )?;
        Ok((read(pending), read(recent)))
    }

    /// The outcomes of the last day.
    pub fn outcomes(&mut self, now: Timestamp) -> worker::Result<Vec<OutcomeRow>> {
        let rows: Vec<OutcomeRowSql> = self.rows(
            "SELECT outcome, at_ms, accept_ms FROM outcomes WHERE at_ms >= ?",
            vec![int(now.as_millis().saturating_sub(KEPT_MS))],
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let outcome = Outcome::ALL.into_iter().find(|outcome| outcome.as_str() == row.outcome)?;
                Some(OutcomeRow {
                    outcome,
                    at: Timestamp::from_millis(row.at_ms as u64),
                    accept_ms: row.accept_ms.map(|ms| ms as u64),
                })
            })
            .collect())
    }

    /// The claim held on a reservation, if any.
    pub fn claim(&mut self, sid: &ReservationSid) -> worker::Result<Option<Claim>> {
        let rows: Vec<ClaimRow> =
            self.rows("SELECT decision, since_ms FROM decisions WHERE sid = ?", vec![text(sid.as_str())])?;
        Ok(rows.first().map(|row| Claim {
            decision: if row.decision == "reject" { Decision::Reject } else { Decision::Accept },
            since: Timestamp::from_millis(row.since_ms as u64),
        }))
    }

    pub fn hold(&mut self, sid: &ReservationSid, claim: Claim) -> worker::Result<()> {
        let decision = match claim.decision {
            Decision::Accept => "accept",
            Decision::Reject => "reject",
        };
        self.run(
            "INSERT OR REPLACE INTO decisions (sid, decision, since_ms) VALUES (?, ?, ?)",
            vec![text(sid.as_str()), text(decision), int(claim.since.as_millis())],
        )?;
        Ok(())
    }

    pub fn release(&mut self, sid: &ReservationSid) -> worker::Result<()> {
        self.run("DELETE FROM decisions WHERE sid = ?", vec![text(sid.as_str())])?;
        Ok(())
    }
}
