//! Listings from the hub's SQLite: newest first, by status as reported (`expired` is a pending
//! reservation past its timeout), after a cursor of (arrival, SID) that new arrivals never
//! shift. Each page walks an index from its cursor and stops after `limit + 1` rows, so its cost
//! does not grow with what the hub holds.

use super::card::Card;
use super::ledger::{Ledger, LedgerFault, unreadable};
use super::protocol::{HubReply, ListCursor, ListRequest};
use super::sql::{Sql, SqlValue};
use crate::models::{ReportedStatus, Status, Summary, Timestamp};

/// How many pending reservations a console's snapshot shows, and how many settled ones.
pub const SNAPSHOT_PENDING: u64 = 200;
pub const SNAPSHOT_RECENT: u64 = 20;

/// A held card as an operator sees it at `now`, given when TaskRouter times it out.
pub fn reported(card: &Card, expires_ms: u64, now: Timestamp) -> Summary<ReportedStatus> {
    let summary = &card.summary;
    let expired = summary.status == Status::Pending && now.as_millis() > expires_ms;
    let status = if expired { ReportedStatus::EXPIRED } else { ReportedStatus::Stored(summary.status) };
    let expires_in_ms =
        (status == ReportedStatus::Stored(Status::Pending)).then(|| expires_ms.saturating_sub(now.as_millis()));
    summary.shown_as(status, expires_in_ms)
}

fn cards(rows: Vec<Vec<SqlValue>>) -> Result<Vec<(Card, u64)>, LedgerFault> {
    rows.into_iter()
        .map(|row| {
            let card: Card =
                serde_json::from_str(row[0].as_str().unwrap_or_default()).map_err(|e| unreadable("a listed row", e))?;
            Ok((card, row[1].as_u64().unwrap_or_default()))
        })
        .collect()
}

impl<S: Sql> Ledger<S> {
    /// One page of the listing.
    pub(super) fn list(&mut self, request: &ListRequest, now: Timestamp) -> Result<HubReply, LedgerFault> {
        let mut conditions = Vec::new();
        let mut bindings = Vec::new();
        match request.status {
            None => {}
            Some(ReportedStatus::Stored(Status::Pending)) => {
                // Nothing that arrived before the longest timeout can still be pending: the index
                // walk stops there, however many timed-out reservations no event ended.
                conditions.push("status = 'pending' AND expires_ms >= ? AND received_ms >= ?");
                bindings.push(SqlValue::int(now.as_millis()));
                bindings.push(SqlValue::int(now.as_millis().saturating_sub(self.longest_timeout_ms()?)));
            }
            Some(ReportedStatus::Stored(status)) => {
                conditions.push("status = ?");
                bindings.push(SqlValue::text(status.as_str()));
            }
            Some(ReportedStatus::Expired(_)) => {
                conditions.push("status = 'pending' AND expires_ms < ?");
                bindings.push(SqlValue::int(now.as_millis()));
            }
        }
        if let Some(cursor) = &request.cursor {
            conditions.push("(received_ms < ? OR (received_ms = ? AND sid < ?))");
            bindings.push(SqlValue::int(cursor.received_ms));
            bindings.push(SqlValue::int(cursor.received_ms));
            bindings.push(SqlValue::text(cursor.sid.as_str()));
        }
        let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        bindings.push(SqlValue::int(request.limit as u64 + 1));
        let statement =
            format!("SELECT card, expires_ms FROM reservations {filter} ORDER BY received_ms DESC, sid DESC LIMIT ?");
        let mut found = cards(self.sql.exec(&statement, bindings)?)?;
        let more = found.len() > request.limit;
        found.truncate(request.limit);
        let cursor = more.then(|| found.last()).flatten().map(|(card, _)| ListCursor {
            received_ms: card.summary.received_at.as_millis(),
            sid: card.summary.reservation_sid.clone(),
        });
        let reservations = found.iter().map(|(card, expires)| reported(card, *expires, now)).collect();
        Ok(HubReply::Listed { reservations, cursor })
    }

    /// What a console is shown first: the pending reservations not yet timed out, newest first,
    /// and the latest ones that left pending.
    pub fn snapshot(&mut self, now: Timestamp) -> Result<(Vec<Card>, Vec<Card>), LedgerFault> {
        let horizon = now.as_millis().saturating_sub(self.longest_timeout_ms()?);
        let pending = self.sql.exec(
            "SELECT card, expires_ms FROM reservations WHERE status = 'pending' AND expires_ms >= ? AND received_ms >= ? ORDER BY received_ms DESC, sid DESC LIMIT ?",
            vec![SqlValue::int(now.as_millis()), SqlValue::int(horizon), SqlValue::int(SNAPSHOT_PENDING)],
        )?;
        let recent = self.sql.exec(
            "SELECT card, expires_ms FROM reservations WHERE status != 'pending' ORDER BY updated_ms DESC LIMIT ?",
            vec![SqlValue::int(SNAPSHOT_RECENT)],
        )?;
        let strip = |rows: Vec<(Card, u64)>| rows.into_iter().map(|(card, _)| card).collect();
        Ok((strip(cards(pending)?), strip(cards(recent)?)))
    }
}
