//! The names of the store's keys (see [`super::layout`] for what each holds).

use crate::models::{ReservationSid, Timestamp};

pub const TIME_PREFIX: &str = "at:";

/// Milliseconds are written as `INVERTED - ms`, 13 digits, so that newer sorts first (until the
/// year 2286).
const INVERTED: u64 = 9_999_999_999_999;

/// `at:{inverted ms}:{WR}`: the record, listed newest first.
pub fn time_key(received_at: Timestamp, sid: &ReservationSid) -> String {
    format!("{TIME_PREFIX}{:013}:{sid}", INVERTED.saturating_sub(received_at.as_millis()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_keys_sort_newest_first() {
        let sid: ReservationSid = format!("WR{}", "a".repeat(32)).parse().unwrap();
        assert!(time_key(Timestamp::from_millis(2), &sid) < time_key(Timestamp::from_millis(1), &sid));
        assert_eq!(time_key(Timestamp::from_millis(0), &sid), format!("at:9999999999999:{sid}"));
    }
}
