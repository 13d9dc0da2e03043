//! Listing: which stored summaries a query selects, in what order, and where the next page starts.
//!
//! KV lists keys alphabetically, not by time, so a listing reads every summary (one KV `list`
//! per 1000 keys, from metadata) and orders them here, newest first.

use std::cmp::Reverse;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64_URL;
use serde::{Deserialize, Serialize};

use crate::models::{ReportedStatus, ReservationSid, ReservationTimeouts, Summary, Timestamp, UnknownStatus};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// Which reservations a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    All,
    Only(ReportedStatus),
}

/// Where the previous page ended: the last reservation it showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    received_at: Timestamp,
    reservation_sid: ReservationSid,
}

impl Cursor {
    fn after<S>(summary: &Summary<S>) -> Cursor {
        Cursor { received_at: summary.received_at, reservation_sid: summary.reservation_sid.clone() }
    }

    pub fn encode(&self) -> String {
        BASE64_URL.encode(format!("{}.{}", self.received_at.as_millis(), self.reservation_sid))
    }

    pub fn decode(text: &str) -> Option<Cursor> {
        let raw = String::from_utf8(BASE64_URL.decode(text).ok()?).ok()?;
        let (millis, sid) = raw.split_once('.')?;
        Some(Cursor { received_at: Timestamp::from_millis(millis.parse().ok()?), reservation_sid: sid.parse().ok()? })
    }
}

type OrderKey<'a> = (Reverse<Timestamp>, Reverse<&'a ReservationSid>);

/// The listing order: newest first, then by SID so equal times still have one order.
fn order_of(received_at: Timestamp, reservation_sid: &ReservationSid) -> OrderKey<'_> {
    (Reverse(received_at), Reverse(reservation_sid))
}

fn order_key(summary: &Summary) -> OrderKey<'_> {
    order_of(summary.received_at, &summary.reservation_sid)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListQueryError {
    #[error("status: {0}, or expired, or all")]
    Status(UnknownStatus),
    #[error("limit must be a whole number from 1 to {MAX_LIMIT}")]
    Limit,
    #[error("cursor is not one this API gave out: pass the cursor of the previous page unchanged")]
    Cursor,
    #[error("unknown query parameter {0:?}: use status, limit or cursor")]
    Unknown(String),
}

/// `?status=&limit=&cursor=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub filter: StatusFilter,
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

impl ListQuery {
    pub fn parse(query: &str) -> Result<ListQuery, ListQueryError> {
        let mut list = ListQuery { filter: StatusFilter::All, limit: DEFAULT_LIMIT, cursor: None };
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "status" if value == "all" => list.filter = StatusFilter::All,
                "status" => list.filter = StatusFilter::Only(value.parse().map_err(ListQueryError::Status)?),
                "limit" => {
                    list.limit = value
                        .parse()
                        .ok()
                        .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                        .ok_or(ListQueryError::Limit)?
                }
                "cursor" => list.cursor = Some(Cursor::decode(&value).ok_or(ListQueryError::Cursor)?),
                other => return Err(ListQueryError::Unknown(other.to_owned())),
            }
        }
        Ok(list)
    }
}

/// One page of a listing, as the API answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub reservations: Vec<Summary<ReportedStatus>>,
    pub cursor: Option<String>,
}

/// Selects, orders and pages `summaries` for `query`; statuses are reported as of `now`.
pub fn page(mut summaries: Vec<Summary>, query: &ListQuery, now: Timestamp, timeouts: &ReservationTimeouts) -> Page {
    summaries.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
    let mut selected = summaries
        .iter()
        .filter(|summary| {
            query
                .cursor
                .as_ref()
                .is_none_or(|cursor| order_key(summary) > order_of(cursor.received_at, &cursor.reservation_sid))
        })
        .map(|summary| summary.reported(now, timeouts))
        .filter(|summary| match query.filter {
            StatusFilter::All => true,
            StatusFilter::Only(wanted) => summary.status == wanted,
        });
    let shown: Vec<Summary<ReportedStatus>> = selected.by_ref().take(query.limit).collect();
    let more = selected.next().is_some();
    Page { cursor: shown.last().filter(|_| more).map(|last| Cursor::after(last).encode()), reservations: shown }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Status, TaskSid, WorkspaceSid};

    fn summary(n: u64, received_ms: u64, status: Status) -> Summary {
        Summary {
            reservation_sid: format!("WR{n:032x}").parse().unwrap(),
            task_sid: format!("WT{n:032x}").parse::<TaskSid>().unwrap(),
            workspace_sid: format!("WS{:032x}", 1).parse::<WorkspaceSid>().unwrap(),
            worker_sid: None,
            workflow_sid: None,
            status,
            received_at: Timestamp::from_millis(received_ms),
            status_updated_at: Timestamp::from_millis(received_ms),
            task: String::new(),
        }
    }

    fn sids(page: &Page) -> Vec<String> {
        page.reservations.iter().map(|r| r.reservation_sid.as_str()[30..].to_owned()).collect()
    }

    const NOW: Timestamp = Timestamp::from_millis(1_000_000);

    #[test]
    fn newest_first_with_ties_in_a_stable_order() {
        let all = vec![
            summary(1, 10, Status::Pending),
            summary(2, 30, Status::Pending),
            summary(3, 30, Status::Pending),
            summary(4, 20, Status::Pending),
        ];
        let query = ListQuery::parse("").unwrap();
        let page = page(all, &query, Timestamp::from_millis(40), &ReservationTimeouts::uniform(120));
        assert_eq!(sids(&page), ["0003", "0002", "0004", "0001"]);
        assert_eq!(page.cursor, None);
    }

    #[test]
    fn pages_follow_each_other_without_gaps_or_repeats() {
        let all: Vec<Summary> = (0..25).map(|n| summary(n, 1000 + n / 2, Status::Pending)).collect();
        let mut seen = Vec::new();
        let mut query = ListQuery::parse("limit=10").unwrap();
        loop {
            let page = page(all.clone(), &query, Timestamp::from_millis(2000), &ReservationTimeouts::uniform(120));
            seen.extend(sids(&page));
            match page.cursor {
                Some(cursor) => query = ListQuery::parse(&format!("limit=10&cursor={cursor}")).unwrap(),
                None => break,
            }
        }
        let mut expected: Vec<Summary> = all.clone();
        expected.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
        let expected: Vec<String> = expected.iter().map(|s| s.reservation_sid.as_str()[30..].to_owned()).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn pending_excludes_expired_and_expired_can_be_asked_for() {
        let all =
            vec![summary(1, 0, Status::Pending), summary(2, 900_000, Status::Pending), summary(3, 0, Status::Accepted)];
        let pending =
            page(all.clone(), &ListQuery::parse("status=pending").unwrap(), NOW, &ReservationTimeouts::uniform(120));
        assert_eq!(sids(&pending), ["0002"]);
        let expired =
            page(all.clone(), &ListQuery::parse("status=expired").unwrap(), NOW, &ReservationTimeouts::uniform(120));
        assert_eq!(sids(&expired), ["0001"]);
        assert_eq!(expired.reservations[0].status, ReportedStatus::EXPIRED);
        let accepted =
            page(all, &ListQuery::parse("status=accepted").unwrap(), NOW, &ReservationTimeouts::uniform(120));
        assert_eq!(sids(&accepted), ["0003"]);
    }

    #[test]
    fn the_cursor_is_only_given_when_more_match() {
        let all = vec![summary(1, 1, Status::Pending), summary(2, 2, Status::Accepted)];
        let page = page(
            all,
            &ListQuery::parse("status=pending&limit=1").unwrap(),
            Timestamp::from_millis(3),
            &ReservationTimeouts::uniform(120),
        );
        assert_eq!(sids(&page), ["0001"]);
        assert_eq!(page.cursor, None);
    }

    #[test]
    fn bad_queries_say_what_is_wrong() {
        assert_eq!(ListQuery::parse("limit=0"), Err(ListQueryError::Limit));
        assert_eq!(ListQuery::parse("limit=1001"), Err(ListQueryError::Limit));
        assert_eq!(ListQuery::parse("limit=ten"), Err(ListQueryError::Limit));
        assert_eq!(ListQuery::parse("cursor=abc"), Err(ListQueryError::Cursor));
        assert_eq!(ListQuery::parse("sort=asc"), Err(ListQueryError::Unknown("sort".into())));
        let err = ListQuery::parse("status=done").unwrap_err();
        assert!(err.to_string().starts_with("status: unknown status \"done\""), "{err}");
        assert_eq!(ListQuery::parse("limit=1000").unwrap().limit, 1000);
        assert_eq!(ListQuery::parse("status=all").unwrap().filter, StatusFilter::All);
    }
}
