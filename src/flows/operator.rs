//! The operator's status update: records what Twilio answered, within the status model; and the
//! decision taken at the edge, which asks Twilio first (`POST /reservations/{sid}/accept|reject`).

use super::FlowError;
use super::decide::{Applied, ReservationAtTwilio, Verdict, decide};
use super::recheck::Recheck;
use crate::models::{ActivitySid, Moved, Reservation, ReservationSid, Status, StatusSource, Timestamp};
use crate::store::Kv;
use crate::store::layout::Reservations;
use crate::twilio::rest::RestError;

/// Twilio applied the decision; what the worker made of it.
#[derive(Debug)]
pub struct Decided {
    pub status: Status,
    pub how: Applied,
    /// The record as now stored, when recording it worked.
    pub record: Option<Reservation>,
    /// Why it was not recorded, when it was not.
    pub not_recorded: Option<String>,
    pub recheck: Recheck,
}

/// Asks Twilio to move the reservation to `wanted` and records Twilio's answer, never more:
/// nothing is recorded unless Twilio applied it, and a reservation Twilio says left `pending` is
/// recorded with its real status ([`FlowError::NoLongerPending`]).
pub async fn decide_at_twilio<K: Kv, T: ReservationAtTwilio<Error = RestError>>(
    store: &Reservations<K>,
    twilio: &T,
    sid: ReservationSid,
    wanted: Status,
    activity: Option<&ActivitySid>,
    now: Timestamp,
) -> Result<Decided, FlowError> {
    match decide(twilio, wanted, activity).await {
        Verdict::Applied(how) => Ok(match update_status(store, sid, wanted, now).await {
            Ok((record, _, recheck)) => {
                Decided { status: wanted, how, record: Some(record), not_recorded: None, recheck }
            }
            Err(error) => Decided {
                status: wanted,
                how,
                record: None,
                not_recorded: Some(error.to_string()),
                recheck: Recheck::default(),
            },
        }),
        Verdict::NoLongerPending(status) => {
            let recorded = match update_status(store, sid.clone(), status, now).await {
                Ok(_) => "recorded".to_owned(),
                Err(FlowError::Transition(_)) => "the worker already had a later status".to_owned(),
                Err(error) => format!("not recorded: {error}"),
            };
            Err(FlowError::NoLongerPending { sid, status, recorded })
        }
        Verdict::Refused(error) => Err(error.into()),
        Verdict::Unknown { refusal, read_error } => {
            Err(FlowError::TwilioOutcomeUnknown { refusal: Box::new(refusal), read_error: Box::new(read_error) })
        }
        Verdict::Unreachable(error) => Err(FlowError::TwilioUnreachable(Box::new(error))),
    }
}

/// Moves the reservation to `next`; returns the record, the log's outcome word, and what to check
/// again once a racing callback's write has landed.
pub async fn update_status<K: Kv>(
    store: &Reservations<K>,
    sid: ReservationSid,
    next: Status,
    now: Timestamp,
) -> Result<(Reservation, &'static str, Recheck), FlowError> {
    let mut stored = store.get(&sid).await?.ok_or(FlowError::ReservationNotFound(sid))?;
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
    use crate::flows::finish;
    use crate::flows::recheck::{Confirmed, confirm};
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
        assert!(matches!(back, FlowError::Transition(_)), "{back:?}");
        let unknown = finish(update_status(&store, callback(9).reservation_sid, Status::Accepted, store.kv().now()));
        assert!(matches!(unknown, Err(FlowError::ReservationNotFound(_))), "{unknown:?}");
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

    /// Twilio as a script, for the edge's decision.
    struct Twilio {
        update: Result<(), RestError>,
        now: Option<Status>,
    }

    impl ReservationAtTwilio for Twilio {
        type Error = RestError;
        async fn update(&self, _: Status, _: Option<&ActivitySid>) -> Result<(), RestError> {
            self.update.clone()
        }
        async fn status(&self) -> Result<Option<Status>, RestError> {
            Ok(self.now)
        }
    }

    #[test]
    fn a_decision_at_the_edge_records_only_what_twilio_applied() {
        let store = store();
        let params = callback(9);
        let now = store.kv().now();
        finish(callback::assignment_callback(&store, &params, &Policy::Defer, now)).unwrap();
        let sid = params.reservation_sid.clone();
        let not_pending = crate::twilio::rest::refused(
            400,
            br#"{"code":20001,"message":"not in expected state"}"#,
            crate::twilio::rest::Repeat::IfUnsent,
        );

        let refused = Twilio {
            update: Err(crate::twilio::rest::refused(401, b"{}", crate::twilio::rest::Repeat::IfUnsent)),
            now: None,
        };
        let error = finish(decide_at_twilio(&store, &refused, sid.clone(), Status::Accepted, None, now)).unwrap_err();
        assert!(
            matches!(&error, FlowError::Twilio(refusal) if matches!(**refusal, RestError::Refused { status: 401, .. })),
            "{error:?}"
        );
        assert_eq!(status(&store, &sid), Status::Pending, "nothing recorded");

        let gone = Twilio { update: Err(not_pending.clone()), now: Some(Status::Timeout) };
        let error = finish(decide_at_twilio(&store, &gone, sid.clone(), Status::Accepted, None, now)).unwrap_err();
        assert!(matches!(error, FlowError::NoLongerPending { status: Status::Timeout, .. }), "{error:?}");
        assert_eq!(status(&store, &sid), Status::Timeout, "Twilio's real status recorded");

        let other = callback(10);
        finish(callback::assignment_callback(&store, &other, &Policy::Defer, now)).unwrap();
        let applied = Twilio { update: Err(not_pending), now: Some(Status::Rejected) };
        let decided =
            finish(decide_at_twilio(&store, &applied, other.reservation_sid.clone(), Status::Rejected, None, now))
                .unwrap();
        assert_eq!((decided.status, decided.how, decided.not_recorded), (Status::Rejected, Applied::AlreadySo, None));
        assert_eq!(status(&store, &other.reservation_sid), Status::Rejected);
    }
}
