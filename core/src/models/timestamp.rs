//! Milliseconds since the Unix epoch, written as RFC 3339 (`2026-11-21T09:30:00.000Z`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Always serialized with milliseconds and `Z`, so the text sorts like the number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    pub const fn from_millis(millis: u64) -> Self {
        Timestamp(millis)
    }

    pub fn as_millis(self) -> u64 {
        self.0
    }

    /// How long before `now` this was; zero when it is in the future (clock skew).
    pub fn age_ms(self, now: Timestamp) -> u64 {
        now.0.saturating_sub(self.0)
    }
}

/// A text that is not an RFC 3339 time at or after the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 time: {0:?}")]
pub struct NotATime(String);

impl FromStr for Timestamp {
    type Err = NotATime;

    fn from_str(text: &str) -> Result<Self, NotATime> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .and_then(|parsed| u64::try_from(parsed.timestamp_millis()).ok())
            .map(Timestamp)
            .ok_or_else(|| NotATime(text.to_owned()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = i64::try_from(self.0).unwrap_or(i64::MAX);
        match DateTime::from_timestamp_millis(millis) {
            Some(time) => f.write_str(&time.to_rfc3339_opts(SecondsFormat::Millis, true)),
            None => write!(f, "{millis}ms"),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::text::parsed(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_rfc3339_with_millis_and_reads_it_back() {
        let time = Timestamp::from_millis(1_790_000_000_123);
        assert_eq!(time.to_string(), "2026-09-21T14:13:20.123Z");
        assert_eq!("2026-09-21T14:13:20.123Z".parse(), Ok(time));
        let before_the_epoch = serde_json::from_str::<Timestamp>("\"1969-12-31T23:59:59Z\"").unwrap_err();
        assert!(before_the_epoch.to_string().starts_with("not an RFC 3339 time: \"1969-12-31T23:59:59Z\""));
        let json = serde_json::to_string(&time).unwrap();
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), time);
    }

    #[test]
    fn text_order_is_time_order() {
        let earlier = Timestamp::from_millis(999).to_string();
        let later = Timestamp::from_millis(1_000).to_string();
        assert!(earlier < later);
    }

    #[test]
    fn age_never_goes_negative() {
        let now = Timestamp::from_millis(10_000);
        assert_eq!(Timestamp::from_millis(4_000).age_ms(now), 6_000);
        assert_eq!(Timestamp::from_millis(20_000).age_ms(now), 0);
    }
}
