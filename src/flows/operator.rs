//! The operator's status update: records what Twilio answered, within the status model.

use super::events::Recheck;
use crate::error::ApiError;
use crate::models::{Moved, Reservation, ReservationSid, Status, StatusSource, Timestamp};
use crate::store::Kv;
use crate::store::layout::Reservations;

/// Moves the reservation to `next`; returns the record, the log's outcome word, and what to check
/// again once a racing callback's write has landed.
pub async fn update_status<K: Kv>(
    store: &Reservations<K>,
    sid: ReservationSid,
    next: Status,
    now: Timestamp,
) -> Result<(Reservation, &'static str, Recheck), ApiError> {
    let mut stored = store.get(&sid).await?.ok_or(ApiError::ReservationNotFound(sid))?;
    match stored.record.move_to(next, StatusSource::Operator, now)? {
        Moved::Changed => {
            store.put(&stored.record, stored.indexed, now).await?;
            let recheck = Recheck { record: Some(Box::new(stored.record.clone())), ..Recheck::default() };
            Ok((stored.record, "updated", recheck))
        }
        Moved::AlreadyThere => Ok((stored.record, "unchanged", Recheck::default())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::callback::tests::{callback, status, store};
    use crate::flows::callback::{self};
    use crate::flows::events::{Confirmed, confirm};
    use crate::flows::finish;
    use crate::instructions::Policy;

    #[test]
    fn an_update_follows_the_status_model() {
        let store = store();
        let params = callback(8);
        finish(callback::assignment_callback(&store, &params, &Policy::Defer, store.kv().now())).unwrap();
        store.kv().advance(1_000);
        let sid = params.reservation_sid.clone();
        let (record, outcome, _) =
            finish(update_status(&store, sid.clone(), Status::Accepted, store.kv().now())).unwrap();
        assert_eq!((record.status, outcome), (Status::Accepted, "updated"));
        let (_, again, _) = finish(update_status(&store, sid.clone(), Status::Accepted, store.kv().now())).unwrap();
        assert_eq!(again, "unchanged");
        let back = finish(update_status(&store, sid, Status::Pending, store.kv().now())).unwrap_err();
        assert_eq!(back.status(), 409);
        let unknown = finish(update_status(&store, callback(9).reservation_sid, Status::Accepted, store.kv().now()));
        assert_eq!(unknown.unwrap_err().code(), "reservation_not_found");
    }

    #[test]
    fn an_update_racing_a_repeated_callback_ends_with_the_update() {
        let store = store();
        let params = callback(10);
        finish(callback::assignment_callback(&store, &params, &Policy::Defer, store.kv().now())).unwrap();
        store.kv().advance(1_000);
        // The repeated callback reads the pending record …
        let existing = finish(store.get(&params.reservation_sid)).unwrap().unwrap();
        // … the operator's update lands …
        let (_, _, recheck) =
            finish(update_status(&store, params.reservation_sid.clone(), Status::Accepted, store.kv().now())).unwrap();
        // … and the callback writes what it planned from its stale read.
        let (stale, _) = callback::plan(Some(existing.record), None, &params, &Policy::Defer, store.kv().now());
        finish(store.put(&stale, true, store.kv().now())).unwrap();
        assert_eq!(status(&store, &params.reservation_sid), Status::Pending, "lost, for now");
        assert_eq!(finish(confirm(&store, &recheck, store.kv().now())), Confirmed::Restored(1));
        assert_eq!(status(&store, &params.reservation_sid), Status::Accepted);
    }
}
