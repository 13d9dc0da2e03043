// Waiting on a condition with a deadline, instead of sleeping for a fixed time.

/**
 * Calls `check` until it returns a truthy value, which is returned; fails after `timeoutMs`
 * naming `what` and the last value seen.
 */
export async function until(check, { timeoutMs = 10_000, intervalMs = 50, what = 'the condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
