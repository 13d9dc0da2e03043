//! The slots of the operations the worker awaits through `kv.js` (see `settled`, wasm only): an
//! operation holds one from its start until its future takes the result, or, if its future was
//! dropped first, until the operation settles. Plain Rust over any result type, so its rules are
//! tested on the host.

use std::task::Waker;

enum Slot<T> {
    Free,
    /// Running; the waker of the future that last polled it.
    Waiting(Option<Waker>),
    Settled(T),
    /// Its future was dropped while it ran: freed when it settles.
    Abandoned,
}

pub struct Slots<T> {
    entries: Vec<Slot<T>>,
    free: Vec<usize>,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Slots { entries: Vec::new(), free: Vec::new() }
    }
}

impl<T> Slots<T> {
    /// A slot for an operation that starts now: a freed one if there is one.
    pub fn take(&mut self) -> usize {
        if let Some(slot) = self.free.pop() {
            self.entries[slot] = Slot::Waiting(None);
            return slot;
        }
        self.entries.push(Slot::Waiting(None));
        self.entries.len() - 1
    }

    /// Keeps what `slot`'s operation gave, and returns the waker of the future waiting for it. A
    /// slot that is not running (the runtime reporting twice, or a number never given) is left
    /// as it is.
    pub fn settle(&mut self, slot: usize, result: T) -> Option<Waker> {
        match self.entries.get_mut(slot) {
            Some(Slot::Waiting(waker)) => {
                let waker = waker.take();
                self.entries[slot] = Slot::Settled(result);
                waker
            }
            Some(Slot::Abandoned) => {
                self.release(slot);
                None
            }
            _ => None,
        }
    }

    /// The result, if it came (the slot is then free); otherwise keeps `waker` to be woken.
    pub fn poll(&mut self, slot: usize, waker: &Waker) -> Option<T> {
        match self.entries.get_mut(slot) {
            Some(Slot::Settled(_)) => match std::mem::replace(&mut self.entries[slot], Slot::Free) {
                Slot::Settled(result) => {
                    self.free.push(slot);
                    Some(result)
                }
                _ => None,
            },
            Some(Slot::Waiting(kept)) => {
                *kept = Some(waker.clone());
                None
            }
            _ => None,
        }
    }

    /// The future of `slot` was dropped before taking its result: the slot is freed now if the
    /// operation settled, or when it does.
    pub fn abandon(&mut self, slot: usize) {
        match self.entries.get(slot) {
            Some(Slot::Waiting(_)) => self.entries[slot] = Slot::Abandoned,
            Some(Slot::Settled(_)) => self.release(slot),
            _ => {}
        }
    }

    fn release(&mut self, slot: usize) {
        self.entries[slot] = Slot::Free;
        self.free.push(slot);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use super::*;

    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Counter>, Waker) {
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        (counter.clone(), Waker::from(counter))
    }

    #[test]
    fn a_result_reaches_the_future_that_waits_and_its_slot_is_used_again() {
        let mut slots = Slots::default();
        let (woken, waker) = counter();
        let slot = slots.take();
        assert_eq!(slots.poll(slot, &waker), None, "nothing yet");
        slots.settle(slot, "value").expect("the waiting future's waker").wake();
        assert_eq!(woken.0.load(Ordering::SeqCst), 1);
        assert_eq!(slots.poll(slot, &waker), Some("value"));
        assert_eq!(slots.take(), slot, "a freed slot is used again");
        assert_ne!(slots.take(), slot, "a slot in use is not");
    }

    #[test]
    fn a_result_that_comes_before_any_poll_is_kept() {
        let mut slots = Slots::default();
        let (_, waker) = counter();
        let slot = slots.take();
        assert!(slots.settle(slot, 7).is_none(), "no future has waited yet");
        assert_eq!(slots.poll(slot, &waker), Some(7));
        assert_eq!(slots.poll(slot, &waker), None, "taken once");
    }

    #[test]
    fn a_dropped_future_frees_its_slot_when_the_operation_settles_not_before() {
        let mut slots = Slots::default();
        let running = slots.take();
        slots.abandon(running);
        let other = slots.take();
        assert_ne!(other, running, "still running: its report must not reach another operation");
        assert!(slots.settle(running, 1).is_none());
        assert_eq!(slots.take(), running, "free once it settled");

        let settled = slots.take();
        slots.settle(settled, 2);
        slots.abandon(settled);
        assert_eq!(slots.take(), settled, "a settled, abandoned slot is free at once");
    }

    #[test]
    fn a_report_for_a_slot_that_is_not_running_changes_nothing() {
        let mut slots = Slots::default();
        let (_, waker) = counter();
        assert!(slots.settle(3, 'x').is_none(), "a number never given");
        let slot = slots.take();
        slots.settle(slot, 'a');
        assert!(slots.settle(slot, 'b').is_none(), "reported twice");
        assert_eq!(slots.poll(slot, &waker), Some('a'), "the first report stands");
        assert!(slots.settle(slot, 'c').is_none(), "reported after it was taken");
        assert_eq!(slots.poll(slot, &waker), None);
    }
}
