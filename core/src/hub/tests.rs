//! The hub's rules against a real SQLite on the host: every order of the same changes ends at
//! the furthest status, claims belong to their owner, listings cost the same however much is
//! held, and a row that does not read is an error, never a default.

use super::card::Card;
use super::claims::Decision;
use super::ledger::{Ledger, LedgerFault};
use super::protocol::{EventEffectOutcome, HubReply, HubRequest, ListCursor, ListRequest, Refusal};
use super::schema::Schema;
use super::sql::host::HostSql;
use super::sql::{Sql, SqlValue};
use crate::models::reservation::tests::pending;
use crate::models::{
    ReportedStatus, Reservation, ReservationSid, ReservationTimeouts, Status, TaskEnding, TaskSid, Timestamp,
};

const T0: u64 = 1_800_000_000_000;

fn ledger() -> Ledger<HostSql> {
    let mut sql = HostSql::default();
    assert!(Schema::create(&mut sql).unwrap(), "a new hub imports once");
    Ledger::new(sql)
}

fn sid(n: u32) -> ReservationSid {
    format!("WR{n:032x}").parse().unwrap()
}

fn task(n: u32) -> TaskSid {
    format!("WT{n:032x}").parse().unwrap()
}

/// The card a callback for reservation `n` of task `n / 2` describes.
fn card(n: u32) -> Card {
    let record = Reservation { reservation_sid: sid(n), task_sid: task(n / 2), ..pending(r#"{"type":"support"}"#, 0) };
    Card::of(&record, &ReservationTimeouts::uniform(120))
}

fn at(ms: u64) -> Timestamp {
    Timestamp::from_millis(T0 + ms)
}

/// Asks at `ms`; a callback's card carries its arrival then, as the worker stamps it.
fn ask(ledger: &mut Ledger<HostSql>, mut request: HubRequest, ms: u64) -> HubReply {
    if let HubRequest::Callback { card, .. } = &mut request {
        card.summary.received_at = at(ms);
    }
    ledger.answer(request, at(ms), || format!("token-{ms}")).unwrap().reply
}

fn callback(n: u32, digest: &str) -> HubRequest {
    HubRequest::Callback { card: Box::new(card(n)), digest: digest.into(), settles: None }
}

fn event(n: u32, status: Status) -> HubRequest {
    HubRequest::ReservationEvent { card: Box::new(card(n)), status }
}

fn status(ledger: &mut Ledger<HostSql>, n: u32) -> Status {
    ledger.row(&sid(n), at(0)).unwrap().unwrap().card.summary.status
}

#[test]
fn a_callback_is_recorded_once_and_a_changed_one_rewrites_the_record() {
    let mut ledger = ledger();
    let HubReply::Recorded { card: first, write_record: true } = ask(&mut ledger, callback(1, "a"), 5) else {
        panic!("a new reservation is written to KV")
    };
    assert_eq!((first.summary.status, first.summary.received_at), (Status::Pending, at(5)));
    let HubReply::Recorded { card: again, write_record } = ask(&mut ledger, callback(1, "a"), 900) else { panic!() };
    assert!(!write_record, "the same parameters: KV keeps its record");
    assert_eq!(again.summary.received_at, at(5), "the first arrival");
    let HubReply::Recorded { write_record, .. } = ask(&mut ledger, callback(1, "b"), 1_000) else { panic!() };
    assert!(write_record, "changed parameters are written again");
}

#[test]
fn every_order_of_a_reservations_changes_ends_at_the_furthest_status() {
    use Status::*;
    let changes: [(&str, Option<Status>); 4] =
        [("callback", None), ("accepted", Some(Accepted)), ("wrapup", Some(Wrapping)), ("completed", Some(Completed))];
    let mut orders = 0;
    for a in 0..4 {
        for b in 0..4 {
            for c in 0..4 {
                for d in 0..4 {
                    let order = [a, b, c, d];
                    if (0..4).any(|i| !order.contains(&i)) {
                        continue;
                    }
                    let mut ledger = ledger();
                    for (step, index) in order.into_iter().enumerate() {
                        let request = match changes[index].1 {
                            None => callback(1, "x"),
                            Some(status) => event(1, status),
                        };
                        ask(&mut ledger, request, step as u64 * 10);
                    }
                    assert_eq!(status(&mut ledger, 1), Completed, "order {:?}", order.map(|i| changes[i].0));
                    orders += 1;
                }
            }
        }
    }
    assert_eq!(orders, 24);
}

#[test]
fn a_task_that_ended_first_ends_the_reservations_that_arrive_later() {
    let mut ledger = ledger();
    ask(&mut ledger, callback(2, "x"), 0);
    let HubReply::Applied { outcome, changed } =
        ask(&mut ledger, HubRequest::TaskEvent { task_sid: task(1), ending: TaskEnding::Canceled }, 10)
    else {
        panic!()
    };
    assert_eq!((outcome, changed.len()), (EventEffectOutcome::EndedTaskReservations, 1));
    // Reservation 3 of the same task arrives after the task was canceled.
    let HubReply::Recorded { card, .. } = ask(&mut ledger, callback(3, "x"), 20) else { panic!() };
    assert_eq!(card.summary.status, Status::Canceled);
    assert_eq!(status(&mut ledger, 2), Status::Canceled);
    let again = ask(&mut ledger, HubRequest::TaskEvent { task_sid: task(1), ending: TaskEnding::Canceled }, 30);
    assert_eq!(again, HubReply::Applied { outcome: EventEffectOutcome::NoOpenReservations, changed: vec![] });
}

#[test]
fn an_event_about_an_unseen_reservation_creates_it_and_a_late_one_is_stale() {
    let mut ledger = ledger();
    let HubReply::Applied { outcome: EventEffectOutcome::Created, .. } =
        ask(&mut ledger, event(4, Status::Accepted), 0)
    else {
        panic!()
    };
    let stale = ask(&mut ledger, event(4, Status::Pending), 5);
    assert_eq!(stale, HubReply::Applied { outcome: EventEffectOutcome::Stale, changed: vec![] });
    let HubReply::Recorded { card, .. } = ask(&mut ledger, callback(4, "x"), 10) else { panic!() };
    assert_eq!(card.summary.status, Status::Accepted, "a late callback never moves it back");
}

#[test]
fn a_claim_belongs_to_its_owner_and_ends_with_the_reservation() {
    let mut ledger = ledger();
    let claim = |n, owner: &str| HubRequest::Claim {
        sid: sid(n),
        decision: Decision::Accept,
        owner: owner.into(),
        actor: "ana@example.com".into(),
    };
    assert_eq!(ask(&mut ledger, claim(5, "edge"), 0), HubReply::Refused(Refusal::NotFound), "unknown: refused");
    ask(&mut ledger, callback(5, "x"), 0);
    let HubReply::Granted { token, until } = ask(&mut ledger, claim(5, "edge"), 1_000) else { panic!() };
    assert_eq!(until, at(120_000), "until the reservation's own timeout");
    let HubReply::Refused(Refusal::InFlight { claim: held }) = ask(&mut ledger, claim(5, "cli"), 2_000) else {
        panic!()
    };
    assert_eq!((held.owner.as_str(), held.actor.as_str()), ("edge", "ana@example.com"));
    let release = |token: &str| HubRequest::Release { sid: sid(5), token: token.into() };
    assert_eq!(ask(&mut ledger, release("not-mine"), 3_000), HubReply::Refused(Refusal::NotHolder));
    assert_eq!(ask(&mut ledger, release(&token), 3_000), HubReply::Released);
    let HubReply::Granted { token, .. } = ask(&mut ledger, claim(5, "cli"), 4_000) else { panic!() };
    let update = |token: &str| HubRequest::Update {
        sid: sid(5),
        status: Status::Accepted,
        claim_token: Some(token.into()),
        actor: "ana@example.com".into(),
    };
    assert_eq!(ask(&mut ledger, update("not-mine"), 5_000), HubReply::Refused(Refusal::NotHolder));
    let HubReply::Updated { changed: true, row } = ask(&mut ledger, update(&token), 5_000) else { panic!() };
    assert_eq!((row.card.summary.status, row.claim), (Status::Accepted, None), "settled");
    assert_eq!(row.card.decided_by.as_deref(), Some("ana@example.com"), "and who decided");
    let HubReply::Refused(Refusal::Settled { status: Status::Accepted, .. }) = ask(&mut ledger, claim(5, "x"), 6_000)
    else {
        panic!()
    };
}

#[test]
fn a_claim_nobody_settles_lapses_at_the_reservations_timeout() {
    let mut ledger = ledger();
    ask(&mut ledger, callback(6, "x"), 0);
    let claim = HubRequest::Claim {
        sid: sid(6),
        decision: Decision::Reject,
        owner: "edge".into(),
        actor: "operator token".into(),
    };
    let HubReply::Granted { until, .. } = ask(&mut ledger, claim.clone(), 0) else { panic!() };
    assert!(matches!(
        ask(&mut ledger, claim.clone(), until.as_millis() - T0 - 1),
        HubReply::Refused(Refusal::InFlight { .. })
    ));
    assert!(matches!(ask(&mut ledger, claim, until.as_millis() - T0 + 1), HubReply::Granted { .. }));
}

#[test]
fn an_update_follows_the_status_model() {
    let mut ledger = ledger();
    let update = |status| HubRequest::Update { sid: sid(7), status, claim_token: None, actor: "operator token".into() };
    assert_eq!(ask(&mut ledger, update(Status::Accepted), 0), HubReply::Refused(Refusal::NotFound));
    ask(&mut ledger, callback(7, "x"), 0);
    assert!(matches!(ask(&mut ledger, update(Status::Accepted), 10), HubReply::Updated { changed: true, .. }));
    assert!(matches!(ask(&mut ledger, update(Status::Accepted), 20), HubReply::Updated { changed: false, .. }));
    assert_eq!(
        ask(&mut ledger, update(Status::Pending), 30),
        HubReply::Refused(Refusal::Transition { from: Status::Accepted, to: Status::Pending })
    );
}

fn fill(ledger: &mut Ledger<HostSql>, count: u32) {
    for n in 0..count {
        ask(ledger, callback(n, "x"), u64::from(n) * 1_000);
    }
}

fn list(
    ledger: &mut Ledger<HostSql>,
    status: Option<ReportedStatus>,
    limit: usize,
    cursor: Option<ListCursor>,
    ms: u64,
) -> (Vec<u64>, Option<ListCursor>) {
    let HubReply::Listed { reservations, cursor } =
        ask(ledger, HubRequest::List(ListRequest { status, limit, cursor }), ms)
    else {
        panic!()
    };
    (reservations.iter().map(|r| (r.received_at.as_millis() - T0) / 1_000).collect(), cursor)
}

#[test]
fn pages_are_newest_first_and_new_arrivals_do_not_shift_the_next_page() {
    let mut ledger = ledger();
    fill(&mut ledger, 10);
    let (first, cursor) = list(&mut ledger, None, 4, None, 10_000);
    assert_eq!(first, [9, 8, 7, 6]);
    ask(&mut ledger, callback(100, "x"), 50_000);
    let (second, cursor) = list(&mut ledger, None, 4, cursor, 60_000);
    assert_eq!(second, [5, 4, 3, 2]);
    let (last, cursor) = list(&mut ledger, None, 4, cursor, 60_000);
    assert_eq!((last, cursor), (vec![1, 0], None));
}

#[test]
fn a_listing_reports_expired_and_filters_by_status() {
    let mut ledger = ledger();
    fill(&mut ledger, 5);
    ask(&mut ledger, event(1, Status::Accepted), 5_000);
    // At 123.5 s, reservations 0 to 3 arrived more than 120 s ago.
    let now = 123_500;
    let pending = list(&mut ledger, Some(ReportedStatus::Stored(Status::Pending)), 100, None, now).0;
    assert_eq!(pending, [4]);
    let expired = list(&mut ledger, Some(ReportedStatus::EXPIRED), 100, None, now).0;
    assert_eq!(expired, [3, 2, 0]);
    assert_eq!(list(&mut ledger, Some(ReportedStatus::Stored(Status::Accepted)), 100, None, now).0, [1]);
}

#[test]
fn a_listings_cost_is_flat_from_one_thousand_to_twenty_thousand_held() {
    let mut costs = Vec::new();
    for count in [1_000, 20_000] {
        let mut ledger = ledger();
        fill(&mut ledger, count);
        let now = u64::from(count) * 1_000;
        let before = ledger.sql().cost().rows_read;
        let (pending, _) = list(&mut ledger, Some(ReportedStatus::Stored(Status::Pending)), 100, None, now);
        let (all, cursor) = list(&mut ledger, None, 100, None, now);
        let (next, _) = list(&mut ledger, None, 100, cursor, now);
        assert_eq!((pending.len(), all.len(), next.len()), (100, 100, 100));
        costs.push(ledger.sql().cost().rows_read - before);
    }
    assert!(costs[1] <= costs[0] + costs[0] / 10, "1,000 held: {} steps, 20,000 held: {}", costs[0], costs[1]);
}

#[test]
fn a_row_that_does_not_read_is_an_error_naming_it_and_nothing_else_is_lost() {
    let mut ledger = ledger();
    fill(&mut ledger, 3);
    ledger
        .sql()
        .exec("UPDATE reservations SET card = '{broken' WHERE sid = ?", vec![SqlValue::text(sid(1).as_str())])
        .unwrap();
    let fault = ledger.answer(event(1, Status::Accepted), at(10), String::new).unwrap_err();
    assert!(matches!(&fault, LedgerFault::Unreadable { key, .. } if key.contains(sid(1).as_str())), "{fault:?}");
    // The task event over the broken row's task fails whole rather than drop it.
    let ending = HubRequest::TaskEvent { task_sid: task(0), ending: TaskEnding::Canceled };
    assert!(ledger.answer(ending, at(20), String::new).is_err());
    assert_eq!(status(&mut ledger, 2), Status::Pending, "the others are untouched");
    ask(&mut ledger, event(2, Status::Accepted), 30);
    assert_eq!(status(&mut ledger, 2), Status::Accepted);
}

#[test]
fn a_claim_or_a_task_that_does_not_read_is_an_error_and_the_other_reservations_go_on() {
    let mut ledger = ledger();
    fill(&mut ledger, 4);
    let claim = |n| HubRequest::Claim {
        sid: sid(n),
        decision: Decision::Accept,
        owner: "edge".into(),
        actor: "operator token".into(),
    };
    assert!(matches!(ask(&mut ledger, claim(1), 10), HubReply::Granted { .. }));
    ledger
        .sql()
        .exec("UPDATE claims SET decision = 'maybe' WHERE sid = ?", vec![SqlValue::text(sid(1).as_str())])
        .unwrap();
    let fault = ledger.answer(claim(1), at(20), String::new).unwrap_err();
    assert!(matches!(&fault, LedgerFault::Unreadable { key, .. } if key.contains("claims")), "{fault:?}");
    assert!(ledger.answer(HubRequest::Show { sid: sid(1) }, at(20), String::new).is_err(), "not shown unclaimed");
    ask(&mut ledger, HubRequest::TaskEvent { task_sid: task(1), ending: TaskEnding::Completed }, 30);
    ledger
        .sql()
        .exec("UPDATE tasks SET ending = 'gone' WHERE task_sid = ?", vec![SqlValue::text(task(1).as_str())])
        .unwrap();
    // A callback of the task whose ending does not read fails, rather than miss that it ended.
    assert!(ledger.answer(callback(3, "y"), at(40), String::new).is_err());
    assert!(matches!(ask(&mut ledger, claim(0), 50), HubReply::Granted { .. }), "another reservation goes on");
}

#[test]
fn a_hub_of_the_earlier_layout_drops_its_copy_and_imports_once() {
    let mut sql = HostSql::default();
    sql.exec("CREATE TABLE reservations (sid TEXT PRIMARY KEY, status TEXT NOT NULL, card TEXT NOT NULL, received_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL)", vec![]).unwrap();
    sql.exec(
        "CREATE TABLE decisions (sid TEXT PRIMARY KEY, decision TEXT NOT NULL, since_ms INTEGER NOT NULL)",
        vec![],
    )
    .unwrap();
    assert!(Schema::create(&mut sql).unwrap(), "an import is due");
    let mut ledger = Ledger::new(sql);
    let added = ledger.import(vec![card(1), card(2)], at(0)).unwrap();
    ask(&mut ledger, event(1, Status::Accepted), 0);
    assert_eq!(ledger.import(vec![card(1)], at(0)).unwrap(), 0, "what the hub holds wins over KV");
    assert_eq!((added, status(&mut ledger, 1)), (2, Status::Accepted));
    Schema::mark_imported(ledger.sql()).unwrap();
    assert!(!Schema::create(ledger.sql()).unwrap(), "made once: a restart imports nothing");
}

/// A small deterministic generator for the day's tests.
fn generator(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |below| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % below
    }
}

#[test]
fn the_days_running_counts_equal_every_outcome_counted_again() {
    use super::outcomes::{Day, Outcome, OutcomeRow};
    let mut ledger = ledger();
    let mut random = generator(7);
    let mut rows = Vec::new();
    let choices = [
        (Status::Accepted, Outcome::Accepted),
        (Status::Rejected, Outcome::Rejected),
        (Status::Timeout, Outcome::Timeout),
    ];
    // 600 reservations, one every three minutes: 30 hours, so bars leave the window too.
    for n in 0..600u32 {
        let arrived = u64::from(n) * 180_000;
        ask(&mut ledger, callback(n, "x"), arrived);
        let (status, outcome) = choices[random(3) as usize];
        let after = (random(50) + 1) * 1_000;
        ask(&mut ledger, event(n, status), arrived + after);
        ask(&mut ledger, event(n, status), arrived + after + 1);
        let accept_ms = (outcome == Outcome::Accepted).then_some(after);
        rows.push(OutcomeRow { outcome, at: at(arrived + after), accept_ms });
        if n % 25 == 24 {
            let now = at(arrived + after);
            assert_eq!(ledger.day(now).unwrap(), Day::of(&rows, now), "after {} reservations", n + 1);
        }
    }
}

#[test]
fn rows_read_per_change_are_flat_over_a_day_of_three_thousand_outcomes() {
    let mut ledger = ledger();
    let mut costs = Vec::new();
    // 3,000 reservations over 24 hours, each accepted 5 s after it arrived; a console is open,
    // so each change also reads what it moved in the day.
    for n in 0..3_000u32 {
        let arrived = u64::from(n) * 28_800;
        ask(&mut ledger, callback(n, "x"), arrived);
        let before = ledger.sql().cost().rows_read;
        ask(&mut ledger, event(n, Status::Accepted), arrived + 5_000);
        assert!(ledger.day_moves(at(arrived + 5_000), &[Some(at(arrived + 5_000))])[0].is_some());
        costs.push(ledger.sql().cost().rows_read - before);
    }
    let mean = |slice: &[u64]| slice.iter().sum::<u64>() as f64 / slice.len() as f64;
    let (first, last) = (mean(&costs[..100]), mean(&costs[2_900..]));
    assert!(last <= first * 1.25, "first 100: {first} steps a change, last 100: {last}");
}

#[test]
fn an_event_brings_the_agents_and_the_queues_names_that_the_callback_lacked() {
    let mut ledger = ledger();
    let mut callback_card = card(8);
    callback_card.summary.agent = Some("client:alice".into());
    callback_card.summary.queue = Some(format!("WQ{}", "1".repeat(32)));
    ask(&mut ledger, HubRequest::Callback { card: Box::new(callback_card), digest: "x".into(), settles: None }, 0);
    let mut named = card(8);
    named.summary.agent = Some("Alice Smith".into());
    named.summary.queue = Some("Support".into());
    let unchanged = ledger
        .answer(
            HubRequest::ReservationEvent { card: Box::new(named.clone()), status: Status::Pending },
            at(5),
            String::new,
        )
        .unwrap();
    assert_eq!(unchanged.changed.len(), 1, "the names are pushed though the status stayed");
    let row = ledger.row(&sid(8), at(6)).unwrap().unwrap();
    assert_eq!(
        (row.card.summary.agent.as_deref(), row.card.summary.queue.as_deref()),
        (Some("Alice Smith"), Some("Support"))
    );
    // A later event with only the queue's SID keeps the name.
    let mut sid_only = card(8);
    sid_only.summary.queue = Some(format!("WQ{}", "1".repeat(32)));
    sid_only.summary.agent = None;
    ask(&mut ledger, HubRequest::ReservationEvent { card: Box::new(sid_only), status: Status::Accepted }, 10);
    let row = ledger.row(&sid(8), at(11)).unwrap().unwrap();
    assert_eq!(
        (row.card.summary.agent.as_deref(), row.card.summary.queue.as_deref(), row.card.summary.status),
        (Some("Alice Smith"), Some("Support"), Status::Accepted)
    );
    // A repeated callback, its parameters changed, keeps what events brought.
    let mut again = card(8);
    again.summary.agent = Some("client:alice".into());
    again.summary.queue = Some(format!("WQ{}", "1".repeat(32)));
    ask(&mut ledger, HubRequest::Callback { card: Box::new(again), digest: "y".into(), settles: None }, 20);
    let row = ledger.row(&sid(8), at(21)).unwrap().unwrap();
    assert_eq!(
        (row.card.summary.agent.as_deref(), row.card.summary.queue.as_deref()),
        (Some("Alice Smith"), Some("Support"))
    );
}

#[test]
fn the_hub_notes_when_each_channel_was_last_heard_from() {
    use super::protocol::{Channel, HeardFrom};
    let mut ledger = ledger();
    assert_eq!(
        ask(&mut ledger, HubRequest::Heard, 0),
        HubReply::Heard(HeardFrom { event_callback: None, event_streams: None, catch_up: None })
    );
    ask(
        &mut ledger,
        HubRequest::Batch { channel: Channel::EventCallback, events: vec![event(1, Status::Accepted)] },
        10,
    );
    ask(&mut ledger, HubRequest::Batch { channel: Channel::EventStreams, events: vec![] }, 20);
    ask(&mut ledger, HubRequest::Batch { channel: Channel::EventCallback, events: vec![] }, 30);
    assert_eq!(
        ask(&mut ledger, HubRequest::Heard, 40),
        HubReply::Heard(HeardFrom { event_callback: Some(at(30)), event_streams: Some(at(20)), catch_up: None })
    );
}

#[test]
fn the_day_counts_reservations_left_pending_past_their_timeout_as_expired() {
    let mut ledger = ledger();
    ask(&mut ledger, callback(1, "x"), 0);
    ask(&mut ledger, callback(2, "x"), 0);
    assert_eq!(ledger.day(at(119_000)).unwrap().totals.expired, 0, "within the 120 s timeout");
    assert_eq!(ledger.day(at(121_000)).unwrap().totals.expired, 2);
    // An event that comes late still settles it: no longer counted as expired.
    ask(&mut ledger, event(1, Status::Timeout), 122_000);
    assert_eq!(ledger.day(at(123_000)).unwrap().totals.expired, 1);
    // A day later it has left the window.
    assert_eq!(ledger.day(at(25 * 3_600_000)).unwrap().totals.expired, 0);
}

#[test]
fn every_enums_text_is_the_name_serde_writes() {
    use crate::models::{StatusSource, TaskEnding, assert_names_agree};
    assert_names_agree::<Status>();
    assert_names_agree::<StatusSource>();
    assert_names_agree::<TaskEnding>();
    assert_names_agree::<super::outcomes::Outcome>();
    assert_names_agree::<super::claims::Decision>();
    assert_names_agree::<super::protocol::Channel>();
    assert_names_agree::<super::protocol::EventEffectOutcome>();
}
