//! The day at a glance: how each reservation ended, when, and how long an accept took, kept for
//! [`KEPT_MS`](super::KEPT_MS), and what the console shows of them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::card::Card;
use crate::models::{Status, Timestamp};

/// The width of the chart's bars.
pub const BUCKET_MS: u64 = 10 * 60 * 1000;

/// How a reservation ended (or, for `accepted`, went on).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Outcome {
    Accepted,
    Rejected,
    Timeout,
    Canceled,
    Rescinded,
    Failed,
    Completed,
}

impl Outcome {
    pub fn of(status: Status) -> Option<Outcome> {
        match status {
            Status::Accepted => Some(Outcome::Accepted),
            Status::Rejected => Some(Outcome::Rejected),
            Status::Timeout => Some(Outcome::Timeout),
            Status::Canceled => Some(Outcome::Canceled),
            Status::Rescinded => Some(Outcome::Rescinded),
            Status::Failed => Some(Outcome::Failed),
            Status::Completed => Some(Outcome::Completed),
            Status::Pending | Status::Wrapping => None,
        }
    }

    /// Its name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One outcome of one reservation. A reservation has each outcome at most once (accepted, then
/// completed, is two).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRow {
    pub outcome: Outcome,
    pub at: Timestamp,
    /// For `accepted`: from the reservation's arrival to its accept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_ms: Option<u64>,
}

impl OutcomeRow {
    /// What a card's status adds to the day, if it is an outcome.
    pub fn of(card: &Card) -> Option<OutcomeRow> {
        let summary = &card.summary;
        let outcome = Outcome::of(summary.status)?;
        let accept_ms = (outcome == Outcome::Accepted).then(|| summary.received_at.age_ms(summary.status_updated_at));
        Some(OutcomeRow { outcome, at: summary.status_updated_at, accept_ms })
    }
}

/// The day's totals: counts by outcome and the time to accept, over the window's bars.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotals {
    /// The start of the window: 24 hours before it was computed.
    pub since: Timestamp,
    pub counts: BTreeMap<Outcome, u64>,
    /// Time to accept, median and 90th percentile (nearest rank), when anything was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_median_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_p90_ms: Option<u64>,
    /// Reservations of the window still `pending` past their timeout: TaskRouter has timed them
    /// out, and no event said so. Not an outcome (nothing was told), so counted apart.
    #[serde(default)]
    pub expired: u64,
}

impl DayTotals {
    /// The totals as of `now`, with the times to accept as a histogram in time order.
    pub fn of(now: Timestamp, counts: BTreeMap<Outcome, u64>, expired: u64, accept_bins: &[(u64, u64)]) -> DayTotals {
        DayTotals {
            since: window(now).0,
            counts,
            accept_median_ms: histogram_percentile(accept_bins, 50),
            accept_p90_ms: histogram_percentile(accept_bins, 90),
            expired,
        }
    }
}

/// The day's numbers: its totals, and the outcomes per 10 minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Day {
    #[serde(flatten)]
    pub totals: DayTotals,
    /// Bars of [`BUCKET_MS`], oldest first, from the one holding `since` to the one holding now:
    /// each the count per outcome (only the outcomes it has).
    pub buckets: Vec<BTreeMap<Outcome, u64>>,
    /// The start of the first bar.
    pub buckets_from: Timestamp,
}

/// What one change moved in the day: the totals as they now are, and the one bar it added to
/// (the console keeps the other bars from its snapshot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayMove {
    #[serde(flatten)]
    pub totals: DayTotals,
    /// The start of the bar that moved, and its counts now.
    pub bucket_from: Timestamp,
    pub bucket: BTreeMap<Outcome, u64>,
}

/// The `p`-th percentile of sorted values, by nearest rank.
#[cfg(test)]
fn percentile(sorted: &[u64], p: u64) -> Option<u64> {
    let rank = (sorted.len() as u64 * p).div_ceil(100).max(1);
    sorted.get(rank as usize - 1).copied()
}

/// The `p`-th percentile, by nearest rank, of a histogram: `(value, how many)` in value order.
pub fn histogram_percentile(bins: &[(u64, u64)], p: u64) -> Option<u64> {
    let total: u64 = bins.iter().map(|(_, count)| count).sum();
    let rank = (total * p).div_ceil(100).max(1);
    let mut seen = 0;
    bins.iter()
        .find(|(_, count)| {
            seen += count;
            seen >= rank
        })
        .map(|(value, _)| *value)
}

/// The bin a time to accept is counted in, as the lowest time it holds: whole seconds under a
/// minute, ten seconds under ten minutes, then steps of a quarter more each.
pub fn accept_bin(ms: u64) -> u64 {
    let seconds = ms / 1000;
    let lower = match seconds {
        0..60 => seconds,
        60..600 => seconds / 10 * 10,
        _ => {
            let mut lower = 600;
            while lower * 5 / 4 <= seconds {
                lower = lower * 5 / 4;
            }
            lower
        }
    };
    lower * 1000
}

/// The start of the bar holding `at`.
pub fn bucket_of(at: Timestamp) -> Timestamp {
    Timestamp::from_millis(at.as_millis() / BUCKET_MS * BUCKET_MS)
}

/// The day's window as of `now`: 24 hours back, and the start of the first bar.
pub fn window(now: Timestamp) -> (Timestamp, Timestamp) {
    let since = Timestamp::from_millis(now.as_millis().saturating_sub(super::KEPT_MS));
    (since, bucket_of(since))
}

impl Day {
    /// Bars from the first of the window to the one holding now, filled from `(bar start,
    /// outcome, count)` rows.
    pub fn of_bars(
        now: Timestamp,
        counts: BTreeMap<Outcome, u64>,
        expired: u64,
        accept_bins: &[(u64, u64)],
        bars: &[(Timestamp, Outcome, u64)],
    ) -> Day {
        let (_, buckets_from) = window(now);
        let count = (now.as_millis() / BUCKET_MS - buckets_from.as_millis() / BUCKET_MS + 1) as usize;
        let mut buckets = vec![BTreeMap::new(); count];
        for (start, outcome, n) in bars {
            let Some(index) =
                start.as_millis().checked_sub(buckets_from.as_millis()).map(|ms| (ms / BUCKET_MS) as usize)
            else {
                continue;
            };
            if let Some(bucket) = buckets.get_mut(index) {
                bucket.insert(*outcome, *n);
            }
        }
        Day { totals: DayTotals::of(now, counts, expired, accept_bins), buckets, buckets_from }
    }

    /// The day as of `now`, from every outcome kept (older ones are left out): the model the
    /// hub's running counts are tested against.
    #[cfg(test)]
    pub fn of(rows: &[OutcomeRow], now: Timestamp) -> Day {
        let (since, buckets_from) = window(now);
        let count = (now.as_millis() / BUCKET_MS - buckets_from.as_millis() / BUCKET_MS + 1) as usize;
        let mut day = Day {
            totals: DayTotals {
                since,
                counts: BTreeMap::new(),
                accept_median_ms: None,
                accept_p90_ms: None,
                expired: 0,
            },
            buckets: vec![BTreeMap::new(); count],
            buckets_from,
        };
        let mut accepts = Vec::new();
        for row in rows.iter().filter(|row| row.at >= buckets_from && row.at <= now) {
            *day.totals.counts.entry(row.outcome).or_default() += 1;
            let bucket = ((row.at.as_millis() - buckets_from.as_millis()) / BUCKET_MS) as usize;
            *day.buckets[bucket].entry(row.outcome).or_default() += 1;
            accepts.extend(row.accept_ms);
        }
        accepts.sort_unstable();
        day.totals.accept_median_ms = percentile(&accepts, 50);
        day.totals.accept_p90_ms = percentile(&accepts, 90);
        day
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ReservationTimeouts;
    use crate::models::reservation::tests::pending;

    const HOUR: u64 = 60 * 60 * 1000;

    fn row(outcome: Outcome, at_ms: u64, accept_ms: Option<u64>) -> OutcomeRow {
        OutcomeRow { outcome, at: Timestamp::from_millis(at_ms), accept_ms }
    }

    #[test]
    fn a_cards_status_is_an_outcome_with_its_time_to_accept() {
        let mut record = pending("{}", 10_000);
        let timeouts = ReservationTimeouts::uniform(120);
        assert_eq!(OutcomeRow::of(&Card::of(&record, &timeouts)), None, "pending is no outcome");
        record.move_to(Status::Accepted, crate::models::StatusSource::Event, Timestamp::from_millis(13_500)).unwrap();
        assert_eq!(OutcomeRow::of(&Card::of(&record, &timeouts)), Some(row(Outcome::Accepted, 13_500, Some(3_500))));
        record.move_to(Status::Wrapping, crate::models::StatusSource::Event, Timestamp::from_millis(20_000)).unwrap();
        assert_eq!(OutcomeRow::of(&Card::of(&record, &timeouts)), None, "wrapping is no outcome");
        for status in Status::ALL {
            assert_eq!(
                Outcome::of(status).map(Outcome::as_str),
                (status != Status::Pending && status != Status::Wrapping).then(|| status.as_str())
            );
        }
    }

    #[test]
    fn the_day_counts_each_outcome_and_the_time_to_accept() {
        let now = 100 * HOUR;
        let rows: Vec<OutcomeRow> = (1..=10)
            .map(|i| row(Outcome::Accepted, now - i * HOUR, Some(i * 1_000)))
            .chain([row(Outcome::Timeout, now - HOUR, None), row(Outcome::Completed, now - 2 * HOUR, None)])
            .chain([row(Outcome::Rejected, now - 25 * HOUR, None)])
            .collect();
        let day = Day::of(&rows, Timestamp::from_millis(now));
        assert_eq!(day.totals.counts.get(&Outcome::Accepted), Some(&10));
        assert_eq!(day.totals.counts.get(&Outcome::Timeout), Some(&1));
        assert_eq!(day.totals.counts.get(&Outcome::Rejected), None, "older than a day");
        assert_eq!((day.totals.accept_median_ms, day.totals.accept_p90_ms), (Some(5_000), Some(9_000)));
        assert_eq!(day.buckets.len(), 145, "24 hours of 10 minutes, both ends included");
        assert_eq!(day.buckets.iter().map(|bucket| bucket.values().sum::<u64>()).sum::<u64>(), 12);
        let last_hour = &day.buckets[day.buckets.len() - 1 - 6];
        assert_eq!((last_hour.get(&Outcome::Accepted), last_hour.get(&Outcome::Timeout)), (Some(&1), Some(&1)));
        let empty = Day::of(&[], Timestamp::from_millis(now));
        assert_eq!((empty.totals.accept_median_ms, empty.totals.counts.len()), (None, 0));
    }

    #[test]
    fn percentiles_are_by_nearest_rank() {
        assert_eq!(percentile(&[7], 50), Some(7));
        assert_eq!(percentile(&[1, 2], 50), Some(1));
        assert_eq!(percentile(&[1, 2, 3, 4], 90), Some(4));
        assert_eq!(percentile(&[], 90), None);
    }
}
