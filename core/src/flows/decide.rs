//! Accepting or rejecting a reservation at Twilio, for both clients (the CLI, and the worker's
//! `POST /reservations/{sid}/accept|reject`): what to believe when Twilio refuses or its answer
//! is lost. The caller records the verdict; nothing is recorded as done unless Twilio said so.
//!
//! An update is never sent again blindly. When Twilio refuses it (`400`) or its answer is lost
//! (`5xx`, a timeout, a connection dropped after sending), the reservation is read back from
//! Twilio: if it already has the status asked for, that is success (an earlier send went
//! through); if it is still pending after a lost answer, the update is sent again, a bounded
//! number of times; any other status is Twilio's truth, to be recorded as it is.

use crate::models::{ActivitySid, Status};
use crate::twilio::rest::{ATTEMPTS, RestError};

/// How a failed call to Twilio reads to the flow.
pub trait Failure {
    /// Twilio refused the update as invalid (`400`): often because the reservation already left
    /// `pending`.
    fn bad_request(&self) -> bool;
    /// The update may have been applied although it was not confirmed (`5xx`, answer lost).
    fn outcome_unknown(&self) -> bool;
    /// The request certainly never reached Twilio (its connection was refused, at every attempt).
    fn unsent(&self) -> bool;
    /// No connection carried the request through (refused, or dropped before any answer).
    fn connection_failed(&self) -> bool;
}

impl Failure for RestError {
    fn bad_request(&self) -> bool {
        matches!(self, RestError::Refused { status: 400, .. })
    }

    fn outcome_unknown(&self) -> bool {
        match self {
            RestError::Refused { status, .. } => (500..600).contains(status),
            RestError::Lost(_) | RestError::Dropped(_) => true,
            _ => false,
        }
    }

    fn unsent(&self) -> bool {
        matches!(self, RestError::Unreachable(_))
    }

    fn connection_failed(&self) -> bool {
        matches!(self, RestError::Dropped(_) | RestError::Unreachable(_))
    }
}

/// One reservation at Twilio. Not `Send`: a Worker runs on one thread.
#[allow(async_fn_in_trait)]
pub trait ReservationAtTwilio {
    type Error: Failure;
    /// `POST …/Reservations/{WR}` with `ReservationStatus` (and `WorkerActivitySid`).
    async fn update(&self, status: Status, activity: Option<&ActivitySid>) -> Result<(), Self::Error>;
    /// `GET …/Reservations/{WR}`: its status now (`None`: one this project does not model).
    async fn status(&self) -> Result<Option<Status>, Self::Error>;
}

/// How Twilio came to apply the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HowApplied {
    /// Twilio answered the update with success.
    Directly,
    /// Twilio refused the update, and the reservation already had the status asked for.
    AlreadySo,
    /// The update's answer was lost, and reading the reservation back showed it applied.
    ReadBack,
}

impl HowApplied {
    pub fn describe(self) -> &'static str {
        match self {
            HowApplied::Directly => "",
            HowApplied::AlreadySo => "already so at Twilio",
            HowApplied::ReadBack => "its answer was lost; read back from Twilio",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum TwilioVerdict<E> {
    Applied(HowApplied),
    /// Twilio says the reservation already left `pending`, for this status.
    NoLongerPending(Status),
    /// Twilio refused, and reading back did not show it applied.
    Refused(E),
    /// The answer was lost and reading the reservation back failed too: nothing is known.
    Unknown {
        refusal: E,
        read_error: E,
    },
    /// TaskRouter could not be reached: the update never left, or no connection carried it and
    /// none carried a read since (so it almost surely never arrived). Nothing changed.
    Unreachable(E),
}

/// Asks Twilio to move the reservation to `wanted` (accepted or rejected).
pub async fn decide<T: ReservationAtTwilio>(
    twilio: &T,
    wanted: Status,
    activity: Option<&ActivitySid>,
) -> TwilioVerdict<T::Error> {
    let mut sent = 0;
    loop {
        sent += 1;
        let refusal = match twilio.update(wanted, activity).await {
            Ok(()) => return TwilioVerdict::Applied(HowApplied::Directly),
            Err(error) if error.unsent() => return TwilioVerdict::Unreachable(error),
            Err(error) if error.bad_request() || error.outcome_unknown() => error,
            Err(error) => return TwilioVerdict::Refused(error),
        };
        let current = match twilio.status().await {
            Ok(current) => current,
            // No connection carried the update, and none has carried a read since: TaskRouter is
            // out of reach. (An update whose connection was made is unknown until read back.)
            Err(read_error) if refusal.connection_failed() && read_error.connection_failed() => {
                return TwilioVerdict::Unreachable(read_error);
            }
            Err(read_error) => return TwilioVerdict::Unknown { refusal, read_error },
        };
        match current {
            Some(status) if status == wanted => {
                let how = if refusal.outcome_unknown() { HowApplied::ReadBack } else { HowApplied::AlreadySo };
                return TwilioVerdict::Applied(how);
            }
            Some(Status::Pending) if refusal.outcome_unknown() && sent < ATTEMPTS => continue,
            Some(status) if status != Status::Pending => return TwilioVerdict::NoLongerPending(status),
            _ => return TwilioVerdict::Refused(refusal),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use super::*;
    use crate::flows::finish;

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Fail {
        BadRequest,
        Lost,
        /// No connection carried it (refused or dropped: the worker's runtime does not say).
        Dropped,
        Unreachable,
        Forbidden,
        ServerError,
    }

    impl Failure for Fail {
        fn bad_request(&self) -> bool {
            *self == Fail::BadRequest
        }
        fn outcome_unknown(&self) -> bool {
            matches!(self, Fail::Lost | Fail::Dropped)
        }
        fn unsent(&self) -> bool {
            *self == Fail::Unreachable
        }
        fn connection_failed(&self) -> bool {
            matches!(self, Fail::Dropped | Fail::Unreachable)
        }
    }

    /// Twilio as a script: each update and each read takes the next answer.
    #[derive(Default)]
    struct Script {
        updates: RefCell<VecDeque<Result<(), Fail>>>,
        reads: RefCell<VecDeque<Result<Option<Status>, Fail>>>,
        sent: RefCell<u32>,
    }

    impl ReservationAtTwilio for Script {
        type Error = Fail;
        async fn update(&self, _: Status, _: Option<&ActivitySid>) -> Result<(), Fail> {
            *self.sent.borrow_mut() += 1;
            self.updates.borrow_mut().pop_front().expect("an update the script did not expect")
        }
        async fn status(&self) -> Result<Option<Status>, Fail> {
            self.reads.borrow_mut().pop_front().expect("a read the script did not expect")
        }
    }

    fn script(updates: Vec<Result<(), Fail>>, reads: Vec<Result<Option<Status>, Fail>>) -> Script {
        Script { updates: RefCell::new(updates.into()), reads: RefCell::new(reads.into()), ..Script::default() }
    }

    fn run(twilio: &Script) -> TwilioVerdict<Fail> {
        finish(decide(twilio, Status::Accepted, None))
    }

    #[test]
    fn success_is_believed_at_once() {
        assert_eq!(run(&script(vec![Ok(())], vec![])), TwilioVerdict::Applied(HowApplied::Directly));
    }

    #[test]
    fn a_refusal_reads_the_reservation_back() {
        let already = script(vec![Err(Fail::BadRequest)], vec![Ok(Some(Status::Accepted))]);
        assert_eq!(run(&already), TwilioVerdict::Applied(HowApplied::AlreadySo));
        let gone = script(vec![Err(Fail::BadRequest)], vec![Ok(Some(Status::Timeout))]);
        assert_eq!(run(&gone), TwilioVerdict::NoLongerPending(Status::Timeout));
        let still = script(vec![Err(Fail::BadRequest)], vec![Ok(Some(Status::Pending))]);
        assert_eq!(run(&still), TwilioVerdict::Refused(Fail::BadRequest));
    }

    #[test]
    fn a_lost_answer_is_read_back_and_sent_again_only_while_pending() {
        let applied = script(vec![Err(Fail::Lost)], vec![Ok(Some(Status::Accepted))]);
        assert_eq!(run(&applied), TwilioVerdict::Applied(HowApplied::ReadBack));
        let again = script(vec![Err(Fail::Lost), Ok(())], vec![Ok(Some(Status::Pending))]);
        assert_eq!(run(&again), TwilioVerdict::Applied(HowApplied::Directly));
        let lost = Script {
            updates: RefCell::new((0..ATTEMPTS).map(|_| Err(Fail::Lost)).collect()),
            reads: RefCell::new((0..ATTEMPTS).map(|_| Ok(Some(Status::Pending))).collect()),
            ..Script::default()
        };
        assert_eq!(run(&lost), TwilioVerdict::Refused(Fail::Lost));
        assert_eq!(*lost.sent.borrow(), ATTEMPTS, "bounded");
    }

    #[test]
    fn nothing_is_known_when_the_read_back_fails_too() {
        let unknown = script(vec![Err(Fail::Lost)], vec![Err(Fail::ServerError)]);
        assert_eq!(run(&unknown), TwilioVerdict::Unknown { refusal: Fail::Lost, read_error: Fail::ServerError });
        // Even when Twilio then seems out of reach: an update whose connection was made may
        // have arrived.
        let silent = script(vec![Err(Fail::Lost)], vec![Err(Fail::Unreachable)]);
        assert_eq!(run(&silent), TwilioVerdict::Unknown { refusal: Fail::Lost, read_error: Fail::Unreachable });
    }

    #[test]
    fn twilio_out_of_reach_changed_nothing() {
        // The update never left: nothing is read.
        let refused = script(vec![Err(Fail::Unreachable)], vec![]);
        assert_eq!(run(&refused), TwilioVerdict::Unreachable(Fail::Unreachable));
        // No connection carried the update, nor any read since.
        let offline = script(vec![Err(Fail::Dropped)], vec![Err(Fail::Unreachable)]);
        assert_eq!(run(&offline), TwilioVerdict::Unreachable(Fail::Unreachable));
        // A dropped connection, then Twilio answering: believed as read.
        let applied = script(vec![Err(Fail::Dropped)], vec![Ok(Some(Status::Accepted))]);
        assert_eq!(run(&applied), TwilioVerdict::Applied(HowApplied::ReadBack));
    }

    #[test]
    fn twilios_answers_read_as_failures() {
        use crate::twilio::rest::{Repeat, refused};
        let not_pending = refused(400, br#"{"code":20001,"message":"not in expected state"}"#, Repeat::IfUnsent);
        assert!(not_pending.bad_request() && !not_pending.outcome_unknown());
        assert!(refused(502, b"<html>", Repeat::IfUnsent).outcome_unknown());
        assert!(RestError::Lost("timed out".into()).outcome_unknown());
        assert!(!refused(401, b"{}", Repeat::Freely).outcome_unknown());
        assert!(!RestError::Unreachable("refused".into()).outcome_unknown());
    }

    #[test]
    fn any_other_refusal_is_final_and_read_nothing() {
        assert_eq!(run(&script(vec![Err(Fail::Forbidden)], vec![])), TwilioVerdict::Refused(Fail::Forbidden));
    }
}
