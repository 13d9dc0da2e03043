//! The day in running counts: each outcome is added to its 10-minute bar and to the day's totals
//! as it arrives, and bars that leave the 24-hour window are taken off the totals once. So a
//! change reads the same few rows at the first outcome of a day and at the three-thousandth,
//! and only a console's snapshot reads the bars.
//!
//! | table | holds |
//! | --- | --- |
//! | `day_bars` | per bar and outcome, how many |
//! | `day_totals` | per outcome, how many in the window's bars |
//! | `accept_bars`, `accept_totals` | times to accept, in [`accept_bin`]s, per bar and in all |

use std::collections::BTreeMap;

use super::ledger::{Ledger, LedgerFault, unreadable};
use super::outcomes::{Day, DayMove, DayTotals, Outcome, OutcomeRow, accept_bin, bucket_of, window};
use super::sql::{Sql, SqlValue};
use crate::models::Timestamp;

pub(super) const TABLES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS day_bars (bar_ms INTEGER NOT NULL, outcome TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (bar_ms, outcome))",
    "CREATE TABLE IF NOT EXISTS day_totals (outcome TEXT PRIMARY KEY, count INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS accept_bars (bar_ms INTEGER NOT NULL, bin_ms INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (bar_ms, bin_ms))",
    "CREATE TABLE IF NOT EXISTS accept_totals (bin_ms INTEGER PRIMARY KEY, count INTEGER NOT NULL)",
];

/// How many of each outcome.
type Counts = BTreeMap<Outcome, u64>;

fn outcome_of(value: &SqlValue) -> Result<Outcome, LedgerFault> {
    value.as_str().and_then(|text| text.parse().ok()).ok_or_else(|| unreadable("day_bars", "an outcome"))
}

fn count_of(value: &SqlValue) -> Result<u64, LedgerFault> {
    value.as_u64().ok_or_else(|| unreadable("the day", "a count"))
}

impl<S: Sql> Ledger<S> {
    /// Takes the bars that left the window off the totals, once each.
    fn expire_day(&mut self, now: Timestamp) -> Result<(), LedgerFault> {
        let (_, first) = window(now);
        let first = SqlValue::int(first.as_millis());
        for (bars, totals, key) in [("day_bars", "day_totals", "outcome"), ("accept_bars", "accept_totals", "bin_ms")] {
            let gone = self.sql.exec(
                &format!("SELECT {key}, SUM(count) FROM {bars} WHERE bar_ms < ? GROUP BY {key}"),
                vec![first.clone()],
            )?;
            for row in gone {
                self.sql.exec(
                    &format!("UPDATE {totals} SET count = count - ? WHERE {key} = ?"),
                    vec![SqlValue::int(count_of(&row[1])?), row[0].clone()],
                )?;
            }
            self.sql.exec(&format!("DELETE FROM {bars} WHERE bar_ms < ?"), vec![first.clone()])?;
        }
        Ok(())
    }

    /// Adds a new outcome to its bar and to the totals.
    pub(super) fn count_outcome(&mut self, row: &OutcomeRow, now: Timestamp) -> Result<(), LedgerFault> {
        self.expire_day(now)?;
        let (_, first) = window(now);
        if row.at < first || row.at > now {
            return Ok(());
        }
        let bar = SqlValue::int(bucket_of(row.at).as_millis());
        let outcome = SqlValue::text(row.outcome.as_str());
        self.sql.exec(
            "INSERT INTO day_bars (bar_ms, outcome, count) VALUES (?, ?, 1) ON CONFLICT (bar_ms, outcome) DO UPDATE SET count = count + 1",
            vec![bar.clone(), outcome.clone()],
        )?;
        self.sql.exec(
            "INSERT INTO day_totals (outcome, count) VALUES (?, 1) ON CONFLICT (outcome) DO UPDATE SET count = count + 1",
            vec![outcome],
        )?;
        if let Some(ms) = row.accept_ms {
            let bin = SqlValue::int(accept_bin(ms));
            self.sql.exec(
                "INSERT INTO accept_bars (bar_ms, bin_ms, count) VALUES (?, ?, 1) ON CONFLICT (bar_ms, bin_ms) DO UPDATE SET count = count + 1",
                vec![bar, bin.clone()],
            )?;
            self.sql.exec(
                "INSERT INTO accept_totals (bin_ms, count) VALUES (?, 1) ON CONFLICT (bin_ms) DO UPDATE SET count = count + 1",
                vec![bin],
            )?;
        }
        Ok(())
    }

    /// Reservations of the window still `pending` past their timeout at `now`.
    fn expired(&mut self, now: Timestamp) -> Result<u64, LedgerFault> {
        let rows = self.sql.exec(
            "SELECT COUNT(*) FROM reservations WHERE status = 'pending' AND expires_ms < ? AND received_ms >= ?",
            vec![SqlValue::int(now.as_millis()), SqlValue::int(window(now).0.as_millis())],
        )?;
        rows.first().map_or(Ok(0), |row| count_of(&row[0]))
    }

    /// The totals by outcome, and the times to accept by bin in time order.
    fn totals(&mut self) -> Result<(Counts, Vec<(u64, u64)>), LedgerFault> {
        let mut counts = BTreeMap::new();
        for row in self.sql.exec("SELECT outcome, count FROM day_totals WHERE count > 0", vec![])? {
            counts.insert(outcome_of(&row[0])?, count_of(&row[1])?);
        }
        let mut bins = Vec::new();
        for row in self.sql.exec("SELECT bin_ms, count FROM accept_totals WHERE count > 0 ORDER BY bin_ms", vec![])? {
            bins.push((count_of(&row[0])?, count_of(&row[1])?));
        }
        Ok((counts, bins))
    }

    /// The whole day, for a console's snapshot: the totals and every bar of the window.
    pub fn day(&mut self, now: Timestamp) -> Result<Day, LedgerFault> {
        self.expire_day(now)?;
        let (counts, bins) = self.totals()?;
        let mut bars = Vec::new();
        for row in self.sql.exec("SELECT bar_ms, outcome, count FROM day_bars", vec![])? {
            bars.push((Timestamp::from_millis(count_of(&row[0])?), outcome_of(&row[1])?, count_of(&row[2])?));
        }
        let expired = self.expired(now)?;
        Ok(Day::of_bars(now, counts, expired, &bins, &bars))
    }

    /// What the outcome at each of `ats` moved (`None`: not an outcome, or not readable), with the totals read
    /// once for all of them: one answer may change many cards.
    pub fn day_moves(&mut self, now: Timestamp, ats: &[Option<Timestamp>]) -> Vec<Option<DayMove>> {
        let totals = if ats.iter().any(Option::is_some) { self.day_totals(now).ok() } else { None };
        ats.iter().map(|at| self.day_bar(totals.clone()?, (*at)?).ok()).collect()
    }

    fn day_totals(&mut self, now: Timestamp) -> Result<DayTotals, LedgerFault> {
        let (counts, bins) = self.totals()?;
        let expired = self.expired(now)?;
        Ok(DayTotals::of(now, counts, expired, &bins))
    }

    /// The bar holding `at`, with `totals`.
    fn day_bar(&mut self, totals: DayTotals, at: Timestamp) -> Result<DayMove, LedgerFault> {
        let bucket_from = bucket_of(at);
        let mut bucket = BTreeMap::new();
        for row in self.sql.exec(
            "SELECT outcome, count FROM day_bars WHERE bar_ms = ?",
            vec![SqlValue::int(bucket_from.as_millis())],
        )? {
            bucket.insert(outcome_of(&row[0])?, count_of(&row[1])?);
        }
        Ok(DayMove { totals, bucket_from, bucket })
    }
}
