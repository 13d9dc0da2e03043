//! A task's record (`task:{WT}`): its reservations, and how it ended. A reservation joins its
//! task when it is first stored; a task event ends them all, now and for callbacks still to come.

use crate::models::{EventOutcome, Reservation, ReservationSid, TaskEnding, TaskSid, Timestamp};
use crate::store::layout::{Reservations, TaskRecord};
use crate::store::{Kv, StoreError};

/// Adds the reservation to its task's record if it is not there yet (one write); returns what
/// to check again, since a task event writing the same key at the same moment may drop it
/// (see [`super::recheck::Recheck::member`]).
pub async fn join_task<K: Kv>(
    store: &Reservations<K>,
    mut task: TaskRecord,
    record: &Reservation,
    now: Timestamp,
) -> Result<Option<(TaskSid, ReservationSid)>, StoreError> {
    if task.reservations.contains(&record.reservation_sid) {
        return Ok(None);
    }
    task.reservations.push(record.reservation_sid.clone());
    store.put_task(&record.task_sid, &task, now).await?;
    Ok(Some((record.task_sid.clone(), record.reservation_sid.clone())))
}

/// Ends the task: remembers how (so that a callback arriving later still learns of it), then
/// ends its reservations as `ending` says. One read and one write for the task, then two reads
/// and at most one write per reservation of the task. Returns the reservations it ended, as
/// written.
pub async fn end_task<K: Kv>(
    store: &Reservations<K>,
    task_sid: &TaskSid,
    ending: TaskEnding,
    now: Timestamp,
) -> Result<Vec<Reservation>, StoreError> {
    let mut task = store.task(task_sid).await?;
    if task.ended != Some(ending) {
        task.ended = Some(ending);
        store.put_task(task_sid, &task, now).await?;
    }
    let mut ended = Vec::new();
    for sid in &task.reservations {
        let Some(mut stored) = store.get(sid).await? else {
            continue;
        };
        let Some(next) = ending.status_for(stored.record.status) else {
            continue;
        };
        if stored.record.record_event(next, now) == EventOutcome::Moved {
            store.put(&stored.record, stored.indexed, now).await?;
            ended.push(stored.record);
        }
    }
    Ok(ended)
}

/// Puts a reservation back into its task's record if a racing write dropped it, ending it too if
/// the task has ended since. Returns how many writes it had to make.
pub async fn rejoin_task<K: Kv>(
    store: &Reservations<K>,
    task_sid: &TaskSid,
    sid: &ReservationSid,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let mut task = store.task(task_sid).await?;
    if task.reservations.contains(sid) {
        return Ok(0);
    }
    task.reservations.push(sid.clone());
    store.put_task(task_sid, &task, now).await?;
    match task.ended {
        Some(ending) => Ok(1 + end_task(store, task_sid, ending, now).await?.len()),
        None => Ok(1),
    }
}
