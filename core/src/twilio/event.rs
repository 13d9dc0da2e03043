//! TaskRouter's event callbacks (the Workspace's `EventCallbackUrl`): which ones change a
//! stored reservation, and how.

use super::form::FormParams;
use super::reservation_params::{ParamsError, ReservationParams, required_sid};
use crate::models::{Status, TaskEnding, TaskSid};

/// Reservation events and the status each reports.
pub const RESERVATION_EVENTS: [(&str, Status); 8] = [
    ("reservation.accepted", Status::Accepted),
    ("reservation.rejected", Status::Rejected),
    ("reservation.timeout", Status::Timeout),
    ("reservation.canceled", Status::Canceled),
    ("reservation.rescinded", Status::Rescinded),
    ("reservation.wrapup", Status::Wrapping),
    ("reservation.completed", Status::Completed),
    ("reservation.failed", Status::Failed),
];

/// Task events that end the task's reservations. `task.system-deleted` is TaskRouter deleting a
/// task past its 24-hour limit (or its TTL): for the task's reservations it is a deletion.
pub const TASK_EVENTS: [(&str, TaskEnding); 4] = [
    ("task.canceled", TaskEnding::Canceled),
    ("task.completed", TaskEnding::Completed),
    ("task.deleted", TaskEnding::Deleted),
    ("task.system-deleted", TaskEnding::Deleted),
];

/// Every event type the worker acts on: what a Workspace's `EventsFilter` should hold.
pub fn handled_event_types() -> Vec<&'static str> {
    RESERVATION_EVENTS.iter().map(|(name, _)| *name).chain(TASK_EVENTS.iter().map(|(name, _)| *name)).collect()
}

/// What an event asks of the store.
#[derive(Debug, Clone, PartialEq)]
pub enum EventEffect {
    /// The reservation now has `status`; its parameters make a record if none is stored.
    Reservation { reservation: Box<ReservationParams>, status: Status },
    /// The task ended; its stored reservations follow.
    Task { task_sid: TaskSid, ending: TaskEnding },
    /// Any other event: answered, changes nothing.
    Ignored,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskRouterEvent {
    pub event_type: String,
    pub effect: EventEffect,
}

/// `ResourceSid` names the resource an event is about; use it when the specific SID is absent
/// or empty.
fn with_resource_sid(mut params: FormParams, resource_type: &str, name: &str) -> FormParams {
    if params.non_empty(name).is_none()
        && params.get("ResourceType").is_some_and(|given| given.eq_ignore_ascii_case(resource_type))
        && let Some(resource_sid) = params.non_empty("ResourceSid").map(str::to_owned)
    {
        params.set(name, resource_sid);
    }
    params
}

impl TaskRouterEvent {
    pub fn from_params(params: FormParams) -> Result<TaskRouterEvent, ParamsError> {
        let event_type = params.non_empty("EventType").ok_or(ParamsError::Missing("EventType"))?.to_owned();
        let reservation_status = RESERVATION_EVENTS.iter().find(|(name, _)| *name == event_type).map(|(_, s)| *s);
        let task_ending = TASK_EVENTS.iter().find(|(name, _)| *name == event_type).map(|(_, e)| *e);
        let effect = match (reservation_status, task_ending) {
            (Some(status), _) => {
                let params = with_resource_sid(params, "reservation", "ReservationSid");
                EventEffect::Reservation { reservation: Box::new(ReservationParams::from_params(params)?), status }
            }
            (None, Some(ending)) => {
                let params = with_resource_sid(params, "task", "TaskSid");
                EventEffect::Task { task_sid: required_sid(&params, "TaskSid")?, ending }
            }
            (None, None) => EventEffect::Ignored,
        };
        Ok(TaskRouterEvent { event_type, effect })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WR: &str = "WRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const WT: &str = "WTbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const WS: &str = "WScccccccccccccccccccccccccccccccc";

    fn event(event_type: &str, extra: &[(&str, &str)]) -> Result<TaskRouterEvent, ParamsError> {
        let mut pairs = vec![("EventType", event_type), ("WorkspaceSid", WS), ("TaskSid", WT)];
        pairs.extend_from_slice(extra);
        TaskRouterEvent::from_params(FormParams::from_pairs(pairs))
    }

    #[test]
    fn each_reservation_event_reports_its_status() {
        for (name, status) in RESERVATION_EVENTS {
            let parsed = event(name, &[("ReservationSid", WR)]).unwrap();
            match parsed.effect {
                EventEffect::Reservation { reservation, status: reported } => {
                    assert_eq!(reservation.reservation_sid.as_str(), WR);
                    assert_eq!(reported, status);
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn resource_sid_stands_in_for_a_missing_reservation_sid() {
        let parsed = event("reservation.accepted", &[("ResourceType", "reservation"), ("ResourceSid", WR)]).unwrap();
        assert!(
            matches!(parsed.effect, EventEffect::Reservation { reservation, .. } if reservation.reservation_sid.as_str() == WR)
        );
    }

    #[test]
    fn resource_sid_stands_in_for_an_empty_reservation_sid() {
        let parsed = event(
            "reservation.timeout",
            &[("ReservationSid", ""), ("ResourceType", "reservation"), ("ResourceSid", WR)],
        )
        .unwrap();
        let EventEffect::Reservation { reservation, status } = parsed.effect else { panic!("{parsed:?}") };
        assert_eq!((reservation.reservation_sid.as_str(), status), (WR, Status::Timeout));
        assert_eq!(reservation.params.get("ReservationSid"), Some(WR), "one value, the ResourceSid");
        let task = event("task.canceled", &[("ResourceType", "task"), ("ResourceSid", WT)]);
        assert!(matches!(task.unwrap().effect, EventEffect::Task { .. }));
    }

    #[test]
    fn a_reservation_event_needs_its_sids() {
        assert_eq!(event("reservation.accepted", &[]).unwrap_err(), ParamsError::Missing("ReservationSid"));
        assert!(matches!(event("reservation.timeout", &[("ReservationSid", "WR1")]), Err(ParamsError::InvalidSid(_))));
    }

    #[test]
    fn task_events_end_the_tasks_reservations() {
        for (name, ending) in TASK_EVENTS {
            assert_eq!(event(name, &[]).unwrap().effect, EventEffect::Task { task_sid: WT.parse().unwrap(), ending });
        }
        assert_eq!(TaskEnding::Canceled.status_for(Status::Pending), Some(Status::Canceled));
        assert_eq!(TaskEnding::Deleted.status_for(Status::Accepted), None);
        assert_eq!(TaskEnding::Completed.status_for(Status::Accepted), Some(Status::Completed));
        assert_eq!(TaskEnding::Completed.status_for(Status::Wrapping), Some(Status::Completed));
        assert_eq!(TaskEnding::Completed.status_for(Status::Rejected), None);
    }

    #[test]
    fn other_events_change_nothing() {
        for name in ["reservation.created", "task.created", "worker.activity.update", "workflow.timeout"] {
            assert_eq!(event(name, &[]).unwrap().effect, EventEffect::Ignored, "{name}");
        }
    }

    #[test]
    fn an_event_needs_a_type() {
        let err = TaskRouterEvent::from_params(FormParams::from_pairs([("TaskSid", WT)])).unwrap_err();
        assert_eq!(err, ParamsError::Missing("EventType"));
    }

    #[test]
    fn the_filter_lists_every_handled_event() {
        let types = handled_event_types();
        assert_eq!(types.len(), 12);
        for name in ["reservation.wrapup", "reservation.failed", "task.deleted", "task.system-deleted"] {
            assert!(types.contains(&name), "{name}");
        }
    }
}
