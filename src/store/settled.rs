//! Awaiting a JavaScript operation that reports how it settled (`kv.js`), instead of awaiting its
//! promise with js-sys's `JsFuture`. A `JsFuture` makes two closures per await, each registered
//! with a FinalizationRegistry and destroyed with two more crossings; on the stored path these
//! were among the Rust worker's largest costs per KV operation (README, *CPU per request*). Here
//! one function, made once, receives every result: the operation is given a slot number, and
//! its future finds the result in that slot.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use worker::wasm_bindgen::JsValue;
use worker::wasm_bindgen::closure::Closure;

enum Slot {
    Free,
    Waiting(Option<Waker>),
    Settled(Result<JsValue, JsValue>),
    /// Its future was dropped before the operation settled: freed when it does.
    Abandoned,
}

#[derive(Default)]
struct Slots {
    entries: Vec<Slot>,
    free: Vec<usize>,
}

impl Slots {
    fn take(&mut self) -> usize {
        if let Some(slot) = self.free.pop() {
            self.entries[slot] = Slot::Waiting(None);
            return slot;
        }
        self.entries.push(Slot::Waiting(None));
        self.entries.len() - 1
    }

    fn release(&mut self, slot: usize) {
        self.entries[slot] = Slot::Free;
        self.free.push(slot);
    }
}

thread_local! {
    static SLOTS: RefCell<Slots> = RefCell::default();
    static SETTLED: Closure<dyn FnMut(u32, bool, JsValue)> = Closure::new(settled);
}

/// What `kv.js` calls once an operation settles (always later, never within the call that
/// started it, so the slots are never borrowed twice).
fn settled(slot: u32, ok: bool, value: JsValue) {
    let slot = slot as usize;
    let waker = SLOTS.with_borrow_mut(|slots| match slots.entries.get_mut(slot) {
        Some(Slot::Waiting(waker)) => {
            let waker = waker.take();
            slots.entries[slot] = Slot::Settled(if ok { Ok(value) } else { Err(value) });
            waker
        }
        Some(Slot::Abandoned) => {
            slots.release(slot);
            None
        }
        _ => None,
    });
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// An operation started by `start(slot, settled)`, where `settled` is the function to report to.
pub fn settling(start: impl FnOnce(u32, &JsValue)) -> Settling {
    let slot = SLOTS.with_borrow_mut(Slots::take);
    SETTLED.with(|settled| start(slot as u32, settled.as_ref()));
    Settling { slot: Some(slot) }
}

/// Resolves to what the operation gave: `Ok` if it fulfilled, `Err` with what it threw.
pub struct Settling {
    /// `None` once the result was taken.
    slot: Option<usize>,
}

impl Future for Settling {
    type Output = Result<JsValue, JsValue>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(slot) = self.slot else { return Poll::Pending };
        let result = SLOTS.with_borrow_mut(|slots| match std::mem::replace(&mut slots.entries[slot], Slot::Free) {
            Slot::Settled(result) => {
                slots.free.push(slot);
                Some(result)
            }
            Slot::Waiting(_) => {
                slots.entries[slot] = Slot::Waiting(Some(cx.waker().clone()));
                None
            }
            other => {
                slots.entries[slot] = other;
                None
            }
        });
        match result {
            Some(result) => {
                self.slot = None;
                Poll::Ready(result)
            }
            None => Poll::Pending,
        }
    }
}

impl Drop for Settling {
    fn drop(&mut self) {
        let Some(slot) = self.slot else { return };
        SLOTS.with_borrow_mut(|slots| match slots.entries[slot] {
            Slot::Waiting(_) => slots.entries[slot] = Slot::Abandoned,
            Slot::Settled(_) => slots.release(slot),
            Slot::Free | Slot::Abandoned => {}
        });
    }
}
