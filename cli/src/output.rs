//! How results look: aligned tables and short ages for people, JSON for scripts.

use comfy_table::presets::NOTHING;
use comfy_table::{Cell, Table};
use serde::Serialize;
use taskrouter_core::models::{ReportedStatus, StatusSource, Summary, Timestamp, json_depth};

/// Writes one line of output (`outln!`). A reader that went away ends the program quietly (exit
/// 0, as for SIGPIPE on a pipe); any other failure to print is said on stderr (exit 1).
pub fn write_line(line: std::fmt::Arguments<'_>) {
    use std::io::{ErrorKind, Write};
    if let Err(error) = writeln!(std::io::stdout().lock(), "{line}") {
        match error.kind() {
            ErrorKind::BrokenPipe | ErrorKind::ConnectionReset => std::process::exit(0),
            _ => {
                eprintln!("error: printing the output failed: {error}");
                std::process::exit(1)
            }
        }
    }
}

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
    table.load_style(NOTHING).set_header(["SID", "TASK", "WORKER", "AGE", "STATUS", "TASK ATTRIBUTES"]);
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

/// `text` with every control character but the line break written as an escape (`\u{1b}`), so
/// text that came over the network cannot move the cursor, recolour or retitle the terminal.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// The deepest nesting accepted in JSON from the network: deeper than anything the worker stores
/// (serde_json stops at 128 levels), shallow enough to parse without a stack overflow.
pub const MAX_JSON_DEPTH: usize = 512;

/// Parses JSON from the network: any depth up to [`MAX_JSON_DEPTH`] (serde_json's own limit is
/// 128, less than a record the worker accepted may need), an error past it.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> anyhow::Result<T> {
    let depth = json_depth(bytes);
    if depth > MAX_JSON_DEPTH {
        anyhow::bail!("the answer nests {depth} levels deep, more than the {MAX_JSON_DEPTH} this tool reads");
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    deserializer.disable_recursion_limit();
    let value = T::deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

pub fn print_json<T: Serialize>(value: &T) {
    outln!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("a\u{1b}[31mred\u{7}\u{9b}x\ny"), "a\\u{1b}[31mred\\u{7}\\u{9b}x\ny");
        assert_eq!(printable("José 😀"), "José 😀");
    }

    #[test]
    fn deep_json_is_read_up_to_the_limit() {
        let nested = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        assert!(parse_json::<serde_json::Value>(nested(300).as_bytes()).is_ok());
        assert!(parse_json::<serde_json::Value>(nested(MAX_JSON_DEPTH + 1).as_bytes()).is_err());
    }

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
