// The next turn of the event loop: setImmediate where the runtime has it (Node, Bun, Deno), a zero
// timeout elsewhere (a browser). No imports: this runs in a browser too.

/** Runs `f` on a later turn of the event loop, after the I/O already waiting. */
export const onNextTurn: (f: () => void) => void =
  (globalThis as { setImmediate?: (f: () => void) => void }).setImmediate ?? ((f) => setTimeout(f, 0));

/**
 * The delay of the connection machine's `nextPoll`: "once the I/O loop has next polled for input",
 * not a span of time. Negative zero: any clock, a simulated one included, takes it as 0 (it is
 * due at once), and the runtime's clock (src/transport/keep-alive.ts) tells it from any other 0 with
 * `Object.is`.
 */
export const NEXT_POLL_DELAY = -0;

/** Whether a clock was given {@link NEXT_POLL_DELAY}. */
export function isNextPoll(ms: number): boolean {
  return Object.is(ms, NEXT_POLL_DELAY);
}
