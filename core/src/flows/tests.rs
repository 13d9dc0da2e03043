//! The flows over both twins: Workers KV in memory, and the hub's rules over a host SQLite.

use std::cell::Cell;

use super::callback::assignment_callback;
use super::decide::ReservationAtTwilio;
use super::events::apply;
use super::operator::{DecisionAsked, claim, decide_at_edge, decide_reservation, release, update_status};
use super::reading::show;
use super::{FlowError, finish};
use crate::access::Actor;
use crate::config::Config;
use crate::config::rest::UnsetSecret;
use crate::hub::claims::Decision;
use crate::hub::port::LocalHub;
use crate::instructions::Policy;
use crate::models::{ActivitySid, ReservationTimeouts, Status, Timestamp};
use crate::store::Kv;
use crate::store::layout::Reservations;
use crate::store::memory::MemoryKv;
use crate::twilio::rest::{Repeat, RestError, refused};
use crate::twilio::{FormParams, ReservationParams, TaskRouterEvent};

pub(super) const T0: u64 = 1_800_000_000_000;

pub(super) fn twins() -> (Reservations<MemoryKv>, LocalHub) {
    (Reservations::new(MemoryKv::new(Timestamp::from_millis(T0)), 86_400), LocalHub::new(Timestamp::from_millis(T0)))
}

pub(super) fn callback(n: u8, task_age: &str) -> ReservationParams {
    let hex = |c: u8| format!("{:x}", c % 16).repeat(32);
    ReservationParams::from_params(FormParams::from_pairs([
        ("ReservationSid", format!("WR{}", hex(n))),
        ("TaskSid", format!("WT{}", hex(n))),
        ("WorkspaceSid", format!("WS{}", hex(1))),
        ("TaskAttributes", r#"{"type":"support","big":9007199254740993}"#.to_owned()),
        ("TaskAge", task_age.to_owned()),
    ]))
    .unwrap()
}

fn event(event_type: &str, from: &ReservationParams) -> TaskRouterEvent {
    let mut params = from.params.clone();
    params.set("EventType", event_type);
    TaskRouterEvent::from_params(params).unwrap()
}

pub(super) fn timeouts() -> ReservationTimeouts {
    ReservationTimeouts::uniform(120)
}

pub(super) fn call(store: &Reservations<MemoryKv>, hub: &LocalHub, params: &ReservationParams) {
    finish(assignment_callback(store, hub, params, &Policy::Defer, &timeouts(), hub.now())).unwrap();
}

#[test]
fn a_reservations_whole_life_costs_one_kv_write_and_no_list() {
    let (store, hub) = twins();
    let params = callback(1, "4");
    call(&store, &hub, &params);
    call(&store, &hub, &params);
    for step in ["reservation.accepted", "reservation.wrapup", "reservation.completed"] {
        hub.advance(1_000);
        finish(apply(&store, &hub, &event(step, &params), &timeouts(), hub.now())).unwrap();
    }
    let task = TaskRouterEvent::from_params(FormParams::from_pairs([
        ("EventType", "task.completed"),
        ("TaskSid", params.task_sid.as_str()),
    ]))
    .unwrap();
    finish(apply(&store, &hub, &task, &timeouts(), hub.now())).unwrap();
    let operations = store.kv().operations();
    assert_eq!((operations.writes, operations.lists), (1, 0));
    let (record, _) = finish(show(&store, &hub, &params.reservation_sid)).unwrap();
    assert_eq!(record.status, Status::Completed);
    assert!(serde_json::to_string(&record).unwrap().contains("9007199254740993"), "as delivered");
    // A repeated callback with changed parameters writes the record again, at the same key.
    call(&store, &hub, &callback(1, "9"));
    assert_eq!(store.kv().operations().writes, 2);
    let (record, _) = finish(show(&store, &hub, &params.reservation_sid)).unwrap();
    assert_eq!((record.parameter("TaskAge"), record.status), (Some("9"), Status::Completed));
}

#[test]
fn a_callback_never_waits_on_a_broken_hub_and_an_event_is_not_acknowledged() {
    let (store, hub) = twins();
    hub.down.set(true);
    let params = callback(2, "1");
    let answered = finish(assignment_callback(&store, &hub, &params, &Policy::Defer, &timeouts(), hub.now())).unwrap();
    assert_eq!(answered.decision.body, "{}");
    assert!(answered.written && answered.untold.is_some(), "written to KV, to be handed over later");
    let error = finish(apply(&store, &hub, &event("reservation.accepted", &params), &timeouts(), hub.now()));
    assert!(matches!(error, Err(FlowError::Hub(_))), "{error:?}");
    // The hub comes back, seconds later, and is handed the callback it missed: the record KV
    // keeps is the one it names.
    hub.down.set(false);
    hub.advance(7_000);
    let (request, _) = answered.untold.unwrap();
    finish(crate::hub::port::HubPort::ask(&hub, request)).unwrap();
    finish(apply(&store, &hub, &event("reservation.accepted", &params), &timeouts(), hub.now())).unwrap();
    let (record, _) = finish(show(&store, &hub, &params.reservation_sid)).unwrap();
    assert_eq!((record.status, record.parameter("TaskAge")), (Status::Accepted, Some("1")), "the KV record, found");
}

#[test]
fn a_callback_whose_record_could_not_be_written_writes_it_when_it_comes_again() {
    let (store, hub) = twins();
    let params = callback(5, "1");
    store.kv().fail_writes(true);
    let failed = finish(assignment_callback(&store, &hub, &params, &Policy::Defer, &timeouts(), hub.now()));
    assert!(matches!(failed, Err(FlowError::Store(_))), "{failed:?}");
    store.kv().fail_writes(false);
    call(&store, &hub, &params);
    let (record, _) = finish(show(&store, &hub, &params.reservation_sid)).unwrap();
    assert_eq!(record.parameter("TaskAge"), Some("1"), "the record, from KV");
}

pub(super) fn ana() -> Actor {
    Actor::Person("ana@example.com".into())
}

/// TaskRouter as a script, counting the updates it was sent.
pub(super) struct Twilio {
    update: Result<(), RestError>,
    now: Result<Option<Status>, RestError>,
    updates: Cell<usize>,
}

impl Twilio {
    pub(super) fn answering(update: Result<(), RestError>, now: Result<Option<Status>, RestError>) -> Twilio {
        Twilio { update, now, updates: Cell::new(0) }
    }
}

/// The decision flow makes its handle from the record; the tests keep the script to count.
impl ReservationAtTwilio for &Twilio {
    type Error = RestError;
    async fn update(&self, status: Status, activity: Option<&ActivitySid>) -> Result<(), RestError> {
        (**self).update(status, activity).await
    }
    async fn status(&self) -> Result<Option<Status>, RestError> {
        (**self).status().await
    }
}

impl ReservationAtTwilio for Twilio {
    type Error = RestError;
    async fn update(&self, _: Status, _: Option<&ActivitySid>) -> Result<(), RestError> {
        self.updates.set(self.updates.get() + 1);
        self.update.clone()
    }
    async fn status(&self) -> Result<Option<Status>, RestError> {
        self.now.clone()
    }
}

#[test]
fn decisions_fail_closed_without_a_hub_and_never_reach_twilio_twice() {
    let (store, hub) = twins();
    let params = callback(3, "1");
    call(&store, &hub, &params);
    let sid = &params.reservation_sid;
    let twilio = Twilio::answering(Ok(()), Ok(None));
    hub.down.set(true);
    for _ in 0..50 {
        let error =
            finish(decide_at_edge(&hub, &twilio, sid, Decision::Accept, None, &Actor::OperatorToken)).unwrap_err();
        assert!(matches!(error, FlowError::Hub(_)), "{error:?}");
    }
    assert_eq!(twilio.updates.get(), 0, "no claim, no request to TaskRouter");
    hub.down.set(false);
    let decided = finish(decide_at_edge(&hub, &twilio, sid, Decision::Accept, None, &Actor::OperatorToken)).unwrap();
    assert_eq!(decided.row.unwrap().card.summary.status, Status::Accepted);
    let again = finish(decide_at_edge(&hub, &twilio, sid, Decision::Accept, None, &Actor::OperatorToken)).unwrap_err();
    assert!(matches!(again, FlowError::AlreadyDecided { status: Status::Accepted, .. }), "{again:?}");
    assert_eq!(twilio.updates.get(), 1);
    let unknown: crate::models::ReservationSid = format!("WR{}", "9".repeat(32)).parse().unwrap();
    let error =
        finish(decide_at_edge(&hub, &twilio, &unknown, Decision::Accept, None, &Actor::OperatorToken)).unwrap_err();
    assert!(matches!(error, FlowError::ReservationNotFound(_)), "{error:?}");
}

#[test]
fn a_claim_is_given_back_when_nothing_reached_twilio_and_kept_when_the_outcome_is_unknown() {
    let (store, hub) = twins();
    let params = callback(4, "1");
    call(&store, &hub, &params);
    let sid = &params.reservation_sid;
    let unsent =
        Twilio::answering(Err(RestError::Unreachable("DNS".into())), Err(RestError::Unreachable("DNS".into())));
    let error = finish(decide_at_edge(&hub, &unsent, sid, Decision::Accept, None, &Actor::OperatorToken)).unwrap_err();
    assert!(matches!(error, FlowError::TwilioUnreachable(_)), "{error:?}");
    let lost = refused(503, b"{}", Repeat::IfUnsent);
    let unknown = Twilio::answering(Err(lost.clone()), Err(lost));
    let error = finish(decide_at_edge(&hub, &unknown, sid, Decision::Accept, None, &Actor::OperatorToken)).unwrap_err();
    let FlowError::TwilioOutcomeUnknown { until, .. } = &error else { panic!("{error:?}") };
    assert_eq!(*until, Timestamp::from_millis(T0 + 120_000), "until the reservation's own timeout");
    assert!(error.to_string().contains("Your accept is kept as yours until"), "{error}");
    let held = finish(claim(&hub, sid, Decision::Reject, "cli", &Actor::OperatorToken)).unwrap_err();
    let FlowError::DecisionInFlight { claim: held, .. } = held else { panic!() };
    assert_eq!(held.owner, "edge");
    hub.advance(120_001);
    let granted = finish(claim(&hub, sid, Decision::Reject, "cli", &Actor::OperatorToken)).unwrap();
    assert!(matches!(finish(release(&hub, sid, "another's")), Err(FlowError::NotClaimHolder { .. })));
    let update = finish(update_status(&hub, sid, Status::Rejected, Some(&granted.token), &ana())).unwrap();
    let row = update.row;
    assert_eq!((row.card.summary.status, update.changed, row.claim), (Status::Rejected, true, None));
    assert_eq!(row.card.decided_by.as_deref(), Some("ana@example.com"));
}

#[test]
fn a_decision_signs_in_for_the_reservations_account_and_reports_what_was_recorded() {
    let (store, hub) = twins();
    let mut params = callback(6, "1");
    let callback_account = format!("AC{}", "c".repeat(32));
    params.params.set("AccountSid", &callback_account);
    call(&store, &hub, &params);
    let sid = &params.reservation_sid;
    let actor = ana();
    let asked = || DecisionAsked { sid, decision: Decision::Accept, activity: None, actor: &actor };
    let twilio = Twilio::answering(Ok(()), Ok(None));
    let config = |vars: &[(&str, &str)]| {
        let vars: std::collections::HashMap<&str, &str> = vars.iter().copied().collect();
        Config::from_lookup(|name| vars.get(name).map(|value| value.to_string())).unwrap()
    };

    // Without TaskRouter's credentials: nothing claimed, nothing sent.
    let error = finish(decide_reservation(&store, &hub, &config(&[]), |_, _| &twilio, asked(), hub.now())).unwrap_err();
    assert_eq!(error, FlowError::NotConfigured(UnsetSecret("TWILIO_AUTH_TOKEN")));
    assert_eq!(twilio.updates.get(), 0);

    // The Auth Token alone: signed in as the account the reservation's callback carried.
    let mut signed_in = None;
    let report = finish(decide_reservation(
        &store,
        &hub,
        &config(&[("TWILIO_AUTH_TOKEN", "tok")]),
        |record, authorization| {
            signed_in = Some((record.reservation_sid.clone(), authorization.expose().to_owned()));
            &twilio
        },
        asked(),
        hub.now(),
    ))
    .unwrap();
    use base64::Engine;
    let basic =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{callback_account}:tok")));
    assert_eq!(signed_in, Some((sid.clone(), basic)));
    assert_eq!(twilio.updates.get(), 1);
    let answer = serde_json::to_value(&report).unwrap();
    assert_eq!(answer["twilio_status"], "accepted");
    assert_eq!(answer["recorded"], true);
    assert_eq!(answer["message"], "accepted by Twilio");
    assert_eq!(answer["reservation"]["status"], "accepted");
    assert_eq!(answer["reservation"]["decided_by"], "ana@example.com");

    // Decided once: a second decision is refused by the hub before TaskRouter is asked.
    let again = finish(decide_reservation(
        &store,
        &hub,
        &config(&[("TWILIO_AUTH_TOKEN", "tok")]),
        |_, _| &twilio,
        asked(),
        hub.now(),
    ))
    .unwrap_err();
    assert!(matches!(again, FlowError::AlreadyDecided { .. }), "{again:?}");
    assert_eq!(twilio.updates.get(), 1);
}
