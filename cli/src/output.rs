//! How results look: aligned tables and short ages for people, JSON for scripts.

use comfy_table::presets::NOTHING;
use comfy_table::{Cell, Table};
use serde::Serialize;
use taskrouter_edge::models::{ReportedStatus, StatusSource, Summary, Timestamp};

pub fn now() -> Timestamp {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as u64)
        .unwrap_or(0);
    Timestamp::from_millis(millis)
}

/// `42s`, `3m 12s`, `2h 05m`, `3d 04h`.
pub fn age(since: Timestamp, now: Timestamp) -> String {
    let seconds = since.age_ms(now) / 1000;
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3_600 => format!("{}m {:02}s", seconds / 60, seconds % 60),
        3_600..86_400 => format!("{}h {:02}m", seconds / 3_600, seconds % 3_600 / 60),
        _ => format!("{}d {:02}h", seconds / 86_400, seconds % 86_400 / 3_600),
    }
}

/// A value's JSON name (`"expired"`, `"operator"`), for text output.
fn json_name<T: Serialize>(value: T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

pub fn status_text(status: ReportedStatus) -> String {
    json_name(status)
}

pub fn source_text(source: StatusSource) -> String {
    json_name(source)
}

/// A listed reservation as `--json` prints it: the API's fields and its age.
#[derive(Serialize)]
pub struct ListedReservation<'a> {
    #[serde(flatten)]
    pub summary: &'a Summary<ReportedStatus>,
    pub age_seconds: u64,
}

pub fn reservations_table(reservations: &[Summary<ReportedStatus>], now: Timestamp) -> String {
    let mut table = Table::new();
    table.load_preset(NOTHING).set_header(["SID", "TASK", "WORKER", "AGE", "STATUS", "TASK ATTRIBUTES"]);
    for reservation in reservations {
        table.add_row([
            Cell::new(&reservation.reservation_sid),
            Cell::new(&reservation.task_sid),
            Cell::new(reservation.worker_sid.as_ref().map_or("-".to_owned(), ToString::to_string)),
            Cell::new(age(reservation.received_at, now)),
            Cell::new(status_text(reservation.status)),
            Cell::new(&reservation.task),
        ]);
    }
    table.to_string()
}

pub fn print_json<T: Serialize>(value: &T) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_are_short_and_readable() {
        let now = Timestamp::from_millis(10_000_000_000);
        let ago = |seconds: u64| age(Timestamp::from_millis(10_000_000_000 - seconds * 1000), now);
        assert_eq!(ago(0), "0s");
        assert_eq!(ago(59), "59s");
        assert_eq!(ago(192), "3m 12s");
        assert_eq!(ago(7_500), "2h 05m");
        assert_eq!(ago(3 * 86_400 + 4 * 3_600), "3d 04h");
    }
}
