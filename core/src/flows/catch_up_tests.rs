//! Catching up over the twins, with TaskRouter in memory: it keeps each reservation's truth and
//! the Workspace's events, and can be told to lose or refuse.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use super::FlowError;
use super::catch_up::{CaughtUp, READ_BACKS_PER_RUN, ReadBackFound, ReadError, TaskRouterRecords, catch_up};
use super::finish;
use super::operator::decide_at_edge;
use super::reading::hub_row;
use super::tests::{T0, Twilio, ana, call, callback, timeouts, twins};
use crate::hub::catch_up::{NAME_KEPT_MS, NameToRead, OVERLAP_MS, ReadBack};
use crate::hub::claims::Decision;
use crate::hub::port::{HubPort, LocalHub};
use crate::hub::protocol::{HubReply, HubRequest};
use crate::models::{AccountSid, ReservationSid, Status, Timestamp};
use crate::store::layout::Reservations;
use crate::store::memory::MemoryKv;
use crate::twilio::events_resource::{EventsPage, read_page};
use crate::twilio::rest::{Repeat, refused};
use crate::twilio::{FormParams, ReservationParams};

#[derive(Default)]
struct Truth {
    /// Each reservation's status at TaskRouter; one absent answers `404`.
    statuses: RefCell<BTreeMap<String, Status>>,
    /// The Events resource's one page, as JSON events.
    events: RefCell<Vec<serde_json::Value>>,
    /// Each Worker's and TaskQueue's `friendly_name`; one absent answers `404`.
    names: RefCell<BTreeMap<String, String>>,
    /// While set, every request is answered `429`.
    limited: Cell<bool>,
    asked: RefCell<Vec<String>>,
}

impl Truth {
    fn event(&self, event_type: &str, reservation: &ReservationSid, task: &str) {
        self.events.borrow_mut().push(serde_json::json!({
            "event_type": event_type, "resource_type": "reservation", "resource_sid": reservation.as_str(),
            "workspace_sid": format!("WS{}", "1".repeat(32)), "event_data": { "task_sid": task },
        }));
    }
}

impl TaskRouterRecords for Truth {
    async fn friendly_name(&self, name: &NameToRead) -> Result<Option<String>, ReadError> {
        self.asked.borrow_mut().push(name.named.as_str().to_owned());
        if self.limited.get() {
            return Err(refused(429, b"{}", Repeat::Freely).into());
        }
        Ok(self.names.borrow().get(name.named.as_str()).cloned())
    }

    async fn events_page(&self, _: Option<&AccountSid>, path: &str) -> Result<EventsPage, ReadError> {
        self.asked.borrow_mut().push(path.to_owned());
        if self.limited.get() {
            return Err(refused(429, b"{}", Repeat::Freely).into());
        }
        let body = serde_json::json!({ "events": *self.events.borrow(), "meta": {} }).to_string();
        Ok(read_page(body.as_bytes()).unwrap())
    }

    async fn read_back(&self, reservation: &ReadBack) -> Result<ReadBackFound, ReadError> {
        self.asked.borrow_mut().push(reservation.reservation_sid.to_string());
        if self.limited.get() {
            return Err(refused(429, b"{}", Repeat::Freely).into());
        }
        Ok(match self.statuses.borrow().get(reservation.reservation_sid.as_str()) {
            Some(status) => ReadBackFound::Status(*status),
            None => ReadBackFound::Gone,
        })
    }
}

fn run(store: &Reservations<MemoryKv>, hub: &LocalHub, truth: &Truth) -> CaughtUp {
    finish(catch_up(store, hub, truth, &timeouts(), hub.now())).unwrap()
}

fn status_of(hub: &LocalHub, n: u8) -> Status {
    finish(hub_row(hub, &callback(n, "0").reservation_sid)).unwrap().card.summary.status
}

#[test]
fn lost_events_are_read_from_taskrouter_and_a_reservation_it_no_longer_has_ends() {
    let (store, hub) = twins();
    for n in 1..=4 {
        call(&store, &hub, &callback(n, "0"));
    }
    let truth = Truth::default();
    let sid = |n: u8| callback(n, "0").reservation_sid;
    let task = |n: u8| callback(n, "0").task_sid.to_string();
    // 1 was accepted and 2 timed out, and neither event reached the worker. 3 is still pending
    // at TaskRouter; 4 is gone. Only 1's and 2's events are in the Events resource.
    truth.event("reservation.accepted", &sid(1), &task(1));
    truth.event("reservation.timeout", &sid(2), &task(2));
    truth.statuses.borrow_mut().extend([(sid(1).to_string(), Status::Accepted), (sid(3).to_string(), Status::Pending)]);
    // An event of a reservation this worker never held changes nothing here.
    truth.event("reservation.accepted", &callback(9, "0").reservation_sid, &task(9));

    let first = run(&store, &hub, &truth);
    assert_eq!((status_of(&hub, 1), status_of(&hub, 2)), (Status::Accepted, Status::Timeout));
    assert_eq!((first.report.events_read, first.report.corrected, first.report.read_back), (3, 2, 0));
    assert!(matches!(
        finish(hub.ask(HubRequest::Show { sid: callback(9, "0").reservation_sid })),
        Ok(HubReply::Shown { row: None })
    ));
    assert!(
        truth.asked.borrow()[0].contains(&format!(
            "StartDate={}",
            Timestamp::from_millis(T0 - OVERLAP_MS).to_string().replace(':', "%3A")
        ))
    );

    // Past the timeout, what no event settled is read back: 3 stays pending, 4 ends as gone.
    hub.advance(121_000);
    let second = run(&store, &hub, &truth);
    assert_eq!((second.report.read_back, second.report.gone, second.report.corrected), (2, 1, 1));
    assert_eq!(status_of(&hub, 3), Status::Pending);
    let gone = finish(hub_row(&hub, &sid(4))).unwrap().card;
    assert_eq!(gone.summary.status, Status::Canceled);
    assert!(gone.ended_because.unwrap().contains("404"));
    // The second run read from the first one's cursor, less the overlap.
    let since = Timestamp::from_millis(T0 - OVERLAP_MS).to_string().replace(':', "%3A");
    assert!(
        truth.asked.borrow().iter().filter(|path| path.contains(&since)).count() == 2,
        "{:?}",
        truth.asked.borrow()
    );

    // A third run changes nothing, and the hub kept each run's report.
    let third = run(&store, &hub, &truth);
    assert_eq!((third.report.corrected, third.report.gone), (0, 0));
    let HubReply::Heard(heard) = finish(hub.ask(HubRequest::Heard)).unwrap() else { panic!() };
    let report = heard.catch_up.unwrap();
    assert_eq!((report.runs, report.open), (3, 2), "1 accepted and 3 pending stay open");
}

#[test]
fn an_accept_whose_outcome_was_unknown_is_settled_by_what_taskrouter_recorded() {
    let (store, hub) = twins();
    call(&store, &hub, &callback(1, "0"));
    let sid = callback(1, "0").reservation_sid;
    // The accept reached TaskRouter, but neither its answer nor a read-back came back: `504`.
    let lost = refused(503, b"{}", Repeat::IfUnsent);
    let twilio = Twilio::answering(Err(lost.clone()), Err(lost));
    let error = finish(decide_at_edge(&hub, &twilio, &sid, Decision::Accept, None, &ana())).unwrap_err();
    assert!(matches!(error, FlowError::TwilioOutcomeUnknown { .. }), "{error:?}");
    assert!(finish(hub_row(&hub, &sid)).unwrap().claim.is_some(), "the claim is held while nobody knows");

    let truth = Truth::default();
    truth.event("reservation.accepted", &sid, &callback(1, "0").task_sid.to_string());
    let caught_up = run(&store, &hub, &truth);
    assert_eq!(caught_up.report.corrected, 1);
    let row = finish(hub_row(&hub, &sid)).unwrap();
    assert_eq!((row.card.summary.status, row.claim), (Status::Accepted, None), "settled: accepted, the claim gone");
}

/// A callback of reservation `n`, for Worker `worker` in TaskQueue `queue`, with no names.
fn staffed(n: u8, worker: char, queue: char) -> ReservationParams {
    let hex = |c: u8| format!("{:x}", c % 16).repeat(32);
    ReservationParams::from_params(FormParams::from_pairs([
        ("ReservationSid", format!("WR{}", hex(n))),
        ("TaskSid", format!("WT{}", hex(n))),
        ("WorkspaceSid", format!("WS{}", hex(1))),
        ("WorkerSid", format!("WK{}", worker.to_string().repeat(32))),
        ("TaskQueueSid", format!("WQ{}", queue.to_string().repeat(32))),
        ("WorkerAttributes", r#"{"contact_uri":"client:alice"}"#.to_owned()),
        ("TaskAttributes", "{}".to_owned()),
    ]))
    .unwrap()
}

#[test]
fn names_the_callback_lacks_are_looked_up_once_a_day_and_put_on_every_row() {
    let (store, hub) = twins();
    for n in 1..=3 {
        call(&store, &hub, &staffed(n, 'a', 'b'));
    }
    call(&store, &hub, &staffed(4, 'c', 'b'));
    let row = |n: u8| finish(hub_row(&hub, &staffed(n, 'a', 'b').reservation_sid)).unwrap().card.summary;
    assert_eq!(
        (row(1).agent.as_deref(), row(1).queue.as_deref()),
        (Some("client:alice"), Some(&*format!("WQ{}", "b".repeat(32))))
    );
    let truth = Truth::default();
    truth.names.borrow_mut().extend([
        (format!("WK{}", "a".repeat(32)), "Alice Smith".to_owned()),
        (format!("WQ{}", "b".repeat(32)), "Support".to_owned()),
    ]);
    // Three SIDs, two lookups a run: the Worker TaskRouter has no record of (WKccc…) ends as none.
    let first = run(&store, &hub, &truth);
    let second = run(&store, &hub, &truth);
    assert_eq!(first.report.names_read + second.report.names_read, 3);
    for n in 1..=3 {
        assert_eq!((row(n).agent.as_deref(), row(n).queue.as_deref()), (Some("Alice Smith"), Some("Support")), "{n}");
    }
    let fourth = finish(hub_row(&hub, &staffed(4, 'c', 'b').reservation_sid)).unwrap().card.summary;
    assert_eq!((fourth.agent.as_deref(), fourth.queue.as_deref()), (Some("client:alice"), Some("Support")));

    // A new reservation of a known Worker shows the name at once; nothing is looked up again
    // within the day, whatever the runs.
    call(&store, &hub, &staffed(5, 'a', 'b'));
    assert_eq!(row(5).agent.as_deref(), Some("Alice Smith"));
    let asked = truth.asked.borrow().iter().filter(|asked| asked.starts_with("WK") || asked.starts_with("WQ")).count();
    run(&store, &hub, &truth);
    let asked_again =
        truth.asked.borrow().iter().filter(|asked| asked.starts_with("WK") || asked.starts_with("WQ")).count();
    assert_eq!((asked, asked_again), (3, 3));
    // A day later, the names are looked up again (a Worker may have been renamed).
    hub.advance(NAME_KEPT_MS + 1);
    call(&store, &hub, &staffed(6, 'a', 'b'));
    truth.names.borrow_mut().insert(format!("WK{}", "a".repeat(32)), "Alice Jones".to_owned());
    run(&store, &hub, &truth);
    assert_eq!(
        finish(hub_row(&hub, &staffed(6, 'a', 'b').reservation_sid)).unwrap().card.summary.agent.as_deref(),
        Some("Alice Jones")
    );
}

#[test]
fn a_rate_limited_taskrouter_slows_the_catch_up_and_keeps_the_cursor() {
    let (store, hub) = twins();
    for n in 1..=READ_BACKS_PER_RUN as u8 + 2 {
        call(&store, &hub, &callback(n, "0"));
    }
    hub.advance(121_000);
    let truth = Truth::default();
    truth.limited.set(true);
    let limited = run(&store, &hub, &truth);
    assert!(limited.rate_limited);
    assert_eq!(truth.asked.borrow().len(), 1, "after a 429 nothing more is asked: {:?}", truth.asked.borrow());
    assert!(limited.report.errors[0].contains("rate-limiting"), "{:?}", limited.report.errors);
    truth.limited.set(false);
    truth.asked.borrow_mut().clear();
    let next = run(&store, &hub, &truth);
    assert!(!next.rate_limited);
    // The cursor did not move: the same start is read again. The read-backs the limited run
    // planned but never made wait their turn behind the others.
    assert!(truth.asked.borrow()[0].contains("StartDate="));
    assert_eq!(next.report.read_back, READ_BACKS_PER_RUN);
    assert_eq!(next.report.gone, READ_BACKS_PER_RUN, "none is known to TaskRouter here");
    let read: Vec<String> = truth.asked.borrow()[1..].to_vec();
    for never_read in [READ_BACKS_PER_RUN as u8 + 1, READ_BACKS_PER_RUN as u8 + 2] {
        assert!(read.contains(&callback(never_read, "0").reservation_sid.to_string()), "{read:?}");
    }
}
