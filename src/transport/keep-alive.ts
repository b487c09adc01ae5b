// The runtime's one hold on the event loop, and the clock of its background timers. Open sockets,
// listening servers, reconnect, heartbeat, handshake and linger timers keep no process or worker
// alive; a call that waits does, until it settles. Browser-safe: where timers cannot be unref'd (a
// page), nothing is held and nothing needs to be.
//
// This is zeromq.js's rule: libzmq's own threads do the IO, and a socket's libuv poll handle runs
// only while an operation of it (send, receive, a monitor read) waits (zeromq.js `src/poller.h`).

import { isNextPoll } from '../core/turn.js';

/** A timer that the runtime lets us ref and unref: Node's and Bun's Timeout. */
interface RefHandle {
  ref(): unknown;
  unref(): unknown;
}

/** Deno's timers are numbers, held and let go through these. */
interface DenoTimers {
  refTimer(id: number): void;
  unrefTimer(id: number): void;
}

const deno = (globalThis as { Deno?: Partial<DenoTimers> }).Deno;
const denoTimers: DenoTimers | undefined =
  typeof deno?.refTimer === 'function' && typeof deno.unrefTimer === 'function' ? (deno as DenoTimers) : undefined;

/** Lets a timer go: it runs if the loop turns for other reasons, but does not keep the loop alive. */
export function unrefTimer(timer: unknown): void {
  if (typeof timer === 'object' && timer !== null) (timer as Partial<RefHandle>).unref?.();
  else if (typeof timer === 'number' && denoTimers !== undefined) denoTimers.unrefTimer(timer);
}

function refTimer(timer: unknown): void {
  if (typeof timer === 'object' && timer !== null) (timer as Partial<RefHandle>).ref?.();
  else if (typeof timer === 'number' && denoTimers !== undefined) denoTimers.refTimer(timer);
}

const setImmediateOf = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
const clearImmediateOf = (globalThis as { clearImmediate?: (immediate: unknown) => void }).clearImmediate;

/** A `nextPoll` delay set on {@link backgroundClock} where setImmediate exists: cleared with clearImmediate. */
class AfterPoll {
  constructor(readonly immediate: unknown) {}
}

/**
 * @internal The clock of the actors that run timers (connection actors: handshake deadline,
 * heartbeat, reconnect backoff): xstate's default clock, with every timer unref'd, but for the
 * connection machine's `nextPoll`.
 *
 * `nextPoll` (`NEXT_POLL_DELAY`, src/core/turn.ts) means "once the loop has polled for input"
 * (the last look before a heartbeat or TTL verdict), so where setImmediate exists it is one: it
 * runs in the check phase, which always follows a poll phase. A 1 ms timer set in the timers phase also runs after a
 * poll under Node 20 (its libuv runs timers at the end of a turn), but that is one runtime's order,
 * not a rule. The immediate is left ref'd: an unref'd one does not make the poll return, so the
 * verdict waited for some unrelated wake-up (in an otherwise idle process, for ever); a ref'd one
 * makes that poll return at once and holds the loop for that turn only. Only `nextPoll` gets one:
 * any other delay, 0 included, is an unref'd timer, so that no delay a socket repeats (a reconnect
 * backoff) can hold the loop turn after turn and keep its process alive.
 */
export const backgroundClock = {
  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown {
    if (isNextPoll(ms) && setImmediateOf !== undefined && clearImmediateOf !== undefined) {
      return new AfterPoll(setImmediateOf(fn));
    }
    const timer = setTimeout(fn, ms);
    unrefTimer(timer);
    return timer;
  },
  clearTimeout(id: unknown): void {
    if (id instanceof AfterPoll) clearImmediateOf?.(id.immediate);
    else clearTimeout(id as ReturnType<typeof setTimeout>);
  },
};

/** The longest delay timers take without clamping it to 1 ms (Node's TIMEOUT_MAX). */
const LONGEST = 2 ** 31 - 1;
function nothing(): void {}

/** How many calls wait now. */
let waiting = 0;
/** One interval that never does anything, ref'd while a call waits; made on first use. */
let hold: unknown;
/** Whether `hold` is ref'd now. */
let holding = false;
/** Whether a sweep (see releaseLoop) is queued. */
let sweepQueued = false;

/**
 * @internal A call started waiting (a send at the HWM, a receive with nothing queued, a bind, a
 * monitor read): the loop stays alive until the matching {@link releaseLoop}. Called only for calls
 * that wait, never for those that complete at once: one counter and, on the first, one ref.
 */
export function holdLoop(): void {
  if (waiting++ > 0 || holding) return;
  if (hold === undefined) hold = setInterval(nothing, LONGEST);
  holding = true;
  refTimer(hold);
}

/**
 * @internal A waiting call settled (resolved, rejected, timed out, aborted, cancelled by close).
 * The last one lets the loop go at the end of this turn, not at once: a program that receives in a
 * loop waits again before then, and each ref and unref of a timer is a call into the runtime (4 %
 * of an inproc PUSH->PULL run when made per message). The loop can end one turn later than the
 * last wait, never earlier.
 */
export function releaseLoop(): void {
  if (--waiting > 0) return;
  waiting = 0;
  if (setImmediateOf === undefined) return sweep();
  if (sweepQueued) return;
  sweepQueued = true;
  setImmediateOf(sweep);
}

function sweep(): void {
  sweepQueued = false;
  if (waiting > 0 || !holding) return;
  holding = false;
  unrefTimer(hold);
}

/** @internal How many calls hold the loop now (tests read it). */
export function loopHolds(): number {
  return waiting;
}
