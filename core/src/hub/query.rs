//! `GET /reservations?status=&limit=&cursor=`: the query, checked, as the hub's
//! [`ListRequest`]; and the page the API answers. The cursor is the (arrival, SID) of the last
//! reservation shown, opaque to clients.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64_URL;
use serde::{Deserialize, Serialize};

use super::protocol::{ListCursor, ListRequest};
use crate::models::{ReportedStatus, Summary, UnknownStatus};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

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

impl ListCursor {
    pub fn encode(&self) -> String {
        BASE64_URL.encode(format!("{}:{}", self.received_ms, self.sid))
    }

    pub fn decode(text: &str) -> Option<ListCursor> {
        let raw = String::from_utf8(BASE64_URL.decode(text).ok()?).ok()?;
        let (received_ms, sid) = raw.split_once(':')?;
        Some(ListCursor { received_ms: received_ms.parse().ok()?, sid: sid.parse().ok()? })
    }
}

/// Parses `?status=&limit=&cursor=` (`status=all`, or none, lists every status).
pub fn parse_list_query(query: &str) -> Result<ListRequest, ListQueryError> {
    let mut list = ListRequest { status: None, limit: DEFAULT_LIMIT, cursor: None };
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "status" if value == "all" => list.status = None,
            "status" => list.status = Some(value.parse().map_err(ListQueryError::Status)?),
            "limit" => {
                list.limit =
                    value.parse().ok().filter(|limit| (1..=MAX_LIMIT).contains(limit)).ok_or(ListQueryError::Limit)?
            }
            "cursor" => list.cursor = Some(ListCursor::decode(&value).ok_or(ListQueryError::Cursor)?),
            other => return Err(ListQueryError::Unknown(other.to_owned())),
        }
    }
    Ok(list)
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
        assert_eq!(parse_list_query("limit=0"), Err(ListQueryError::Limit));
        assert_eq!(parse_list_query("limit=1001"), Err(ListQueryError::Limit));
        assert_eq!(parse_list_query("limit=ten"), Err(ListQueryError::Limit));
        assert_eq!(parse_list_query("cursor=abc"), Err(ListQueryError::Cursor));
        assert_eq!(parse_list_query("sort=asc"), Err(ListQueryError::Unknown("sort".into())));
        let err = parse_list_query("status=done").unwrap_err();
        assert!(err.to_string().starts_with("status: unknown status \"done\""), "{err}");
        assert_eq!(parse_list_query("limit=1000").unwrap().limit, 1000);
        assert_eq!(parse_list_query("status=all").unwrap().status, None);
        assert_eq!(parse_list_query("status=expired").unwrap().status, Some(ReportedStatus::EXPIRED));
    }

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let cursor =
            ListCursor { received_ms: 1_800_000_000_123, sid: format!("WR{}", "a".repeat(32)).parse().unwrap() };
        assert_eq!(ListCursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(ListCursor::decode(&BASE64_URL.encode("12:WR1")), None, "not a SID");
        assert_eq!(ListCursor::decode(&BASE64_URL.encode("at:1:WR1\nx")), None, "an earlier cursor");
    }
}
