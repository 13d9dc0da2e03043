//! Values written as JSON strings and read back with their `FromStr`: SIDs, statuses, times.

use std::fmt::Display;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, de};

/// Reads a value written as a JSON string with its `FromStr` (a SID, a status, a time), so that
/// every way in checks it the same way; the error is `FromStr`'s own.
pub(crate) fn parsed<'de, D: Deserializer<'de>, T: FromStr<Err: Display>>(deserializer: D) -> Result<T, D::Error> {
    String::deserialize(deserializer)?.parse().map_err(de::Error::custom)
}
