//! The operator's status update: records what Twilio answered, within the status model.

use crate::error::ApiError;
use crate::models::{Moved, Reservation, ReservationSid, Status, StatusSource, Timestamp};
use crate::store::ReservationStore;

/// Moves the reservation to `next`; returns the record and the log's outcome word.
pub async fn update_status<S: ReservationStore>(
    store: &S,
    sid: ReservationSid,
    next: Status,
    now: Timestamp,
) -> Result<(Reservation, &'static str), ApiError> {
    let mut record = store.get(&sid).await?.ok_or(ApiError::ReservationNotFound(sid))?;
    match record.move_to(next, StatusSource::Operator, now)? {
        Moved::Changed => {
            store.put(&record).await?;
            Ok((record, "updated"))
        }
        Moved::AlreadyThere => Ok((record, "unchanged")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::callback::{assignment_callback, tests::callback};
    use crate::flows::finish;
    use crate::instructions::Policy;
    use crate::store::memory::MemoryStore;

    #[test]
    fn an_update_follows_the_status_model() {
        let store = MemoryStore::new(Timestamp::from_millis(5_000), 3600);
        let params = callback(8);
        finish(assignment_callback(&store, &params, &Policy::Defer, store.now())).unwrap();
        let sid = params.reservation_sid.clone();
        let (record, outcome) = finish(update_status(&store, sid.clone(), Status::Accepted, store.now())).unwrap();
        assert_eq!((record.status, outcome), (Status::Accepted, "updated"));
        let (_, again) = finish(update_status(&store, sid.clone(), Status::Accepted, store.now())).unwrap();
        assert_eq!(again, "unchanged");
        let back = finish(update_status(&store, sid, Status::Pending, store.now())).unwrap_err();
        assert_eq!(back.status(), 409);
        let unknown = finish(update_status(&store, callback(9).reservation_sid, Status::Accepted, store.now()));
        assert_eq!(unknown.unwrap_err().code(), "reservation_not_found");
    }
}
