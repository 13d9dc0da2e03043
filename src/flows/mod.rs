//! What each request decides, as plain Rust over the [`ReservationStore`] interface: the worker
//! runs these flows over Workers KV, `cargo test` over the in-memory twin
//! ([`MemoryStore`](crate::store::memory::MemoryStore)), without Miniflare and without sleeping.
//! `src/api/` only reads requests and writes answers.
//!
//! [`ReservationStore`]: crate::store::ReservationStore

pub mod callback;
pub mod decide;
pub mod events;
pub mod operator;
pub mod record;

/// Runs a flow to its end on the host. Every await in a flow over the in-memory store completes
/// at once, so one poll is enough; anything else is a bug in the test.
#[cfg(test)]
pub(crate) fn finish<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("a flow over the in-memory store waited on something"),
    }
}
