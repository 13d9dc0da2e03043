//! The messages: what the worker tells the hub, and what the hub sends the consoles (JSON text,
//! one object per WebSocket message, told apart by `type`).

use serde::{Deserialize, Serialize};

use super::card::Card;
use super::claims::Decision;
use super::outcomes::Day;
use crate::models::{ReservationSid, Timestamp};

/// `POST /changes`: reservations as the worker just wrote them to KV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changes {
    pub cards: Vec<Card>,
}

/// `POST /claims`: the worker's claim of a decision, and `POST /claims/release`'s (`decision`
/// unused) when TaskRouter refused and nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRequest {
    pub reservation_sid: ReservationSid,
    pub decision: Decision,
}

/// What the hub sends a console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToConsole {
    /// First, on every (re)connection: what is pending, what settled lately, and the day.
    Snapshot { now: Timestamp, pending: Vec<Card>, recent: Vec<Card>, day: Day },
    /// Then, as each happens: a reservation as just written, and the day when it moved.
    Change {
        now: Timestamp,
        card: Box<Card>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        day: Option<Day>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ReservationTimeouts;
    use crate::models::reservation::tests::pending;

    #[test]
    fn messages_are_tagged_json() {
        let card = Card::of(&pending("{}", 0), &ReservationTimeouts::uniform(120));
        let now = Timestamp::from_millis(1_000);
        let change = ToConsole::Change { now, card: Box::new(card.clone()), day: None };
        let text = serde_json::to_string(&change).unwrap();
        assert!(text.starts_with(r#"{"type":"change","now":"1970-01-01T00:00:01.000Z","card":{"summary":"#), "{text}");
        assert_eq!(serde_json::from_str::<ToConsole>(&text).unwrap(), change);
        let snapshot = ToConsole::Snapshot { now, pending: vec![card], recent: vec![], day: Day::of(&[], now) };
        let text = serde_json::to_string(&snapshot).unwrap();
        assert!(text.starts_with(r#"{"type":"snapshot""#));
        assert_eq!(serde_json::from_str::<ToConsole>(&text).unwrap(), snapshot);
    }
}
