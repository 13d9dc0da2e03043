//! Listing queries: which reservations a query selects, how many, and where the next page
//! starts. The pages themselves are read by `Reservations::page` (in [`super::layout`]) from keys
//! that KV already lists newest first.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64_URL;
use serde::{Deserialize, Serialize};

use crate::models::{ReportedStatus, ReservationTimeouts, Status, Summary, Timestamp, UnknownStatus};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// Which reservations a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    All,
    Only(ReportedStatus),
}

impl StatusFilter {
    pub fn matches(self, status: ReportedStatus) -> bool {
        match self {
            StatusFilter::All => true,
            StatusFilter::Only(wanted) => status == wanted,
        }
    }

    /// The oldest arrival a match can have: a pending reservation older than the longest
    /// reservation timeout is expired, so a pending listing stops there.
    pub fn horizon(self, now: Timestamp, timeouts: &ReservationTimeouts) -> Option<Timestamp> {
        (self == StatusFilter::Only(ReportedStatus::Stored(Status::Pending)))
            .then(|| Timestamp::from_millis(now.as_millis().saturating_sub(timeouts.longest_seconds() * 1000)))
    }
}

/// Where the previous page ended: the last key it showed, and the KV cursor of the list call
/// that found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub kv_cursor: Option<String>,
    pub after_key: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        BASE64_URL.encode(format!("{}\n{}", self.after_key, self.kv_cursor.as_deref().unwrap_or_default()))
    }

    pub fn decode(text: &str) -> Option<Cursor> {
        let raw = String::from_utf8(BASE64_URL.decode(text).ok()?).ok()?;
        let (after_key, kv_cursor) = raw.split_once('\n')?;
        after_key.starts_with(super::keys::TIME_PREFIX).then(|| Cursor {
            kv_cursor: (!kv_cursor.is_empty()).then(|| kv_cursor.to_owned()),
            after_key: after_key.to_owned(),
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let cursor = Cursor { kv_cursor: Some("opaque==".into()), after_key: "at:8239000000000:WR1".into() };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        let first = Cursor { kv_cursor: None, after_key: "at:1:WR1".into() };
        assert_eq!(Cursor::decode(&first.encode()), Some(first));
        assert_eq!(Cursor::decode(&BASE64_URL.encode("reservation:WR1\nx")), None);
    }

    #[test]
    fn only_a_pending_listing_has_a_horizon() {
        let timeouts = ReservationTimeouts::uniform(120);
        let now = Timestamp::from_millis(1_000_000);
        let pending = StatusFilter::Only(ReportedStatus::Stored(Status::Pending));
        assert_eq!(pending.horizon(now, &timeouts), Some(Timestamp::from_millis(880_000)));
        assert_eq!(StatusFilter::All.horizon(now, &timeouts), None);
        assert_eq!(StatusFilter::Only(ReportedStatus::EXPIRED).horizon(now, &timeouts), None);
    }
}
