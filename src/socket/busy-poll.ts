// Busy polling for receives that wait on the network (the `busyPoll` option).
//
// When a receive() has to wait and the socket has a tcp or ipc endpoint, the process may go to
// sleep in the kernel until the peer's bytes arrive. On machines whose idle CPUs sleep deeply
// (virtual machines above all) that wake-up costs tens of µs, more than the rest of a round trip.
// So for up to `busyPoll` µs the event loop is kept turning instead: a chain of setImmediate
// callbacks, during which libuv polls its sockets without blocking. Nothing else is held up (timers
// and I/O callbacks run as usual); the price is CPU time while the wait lasts.
//
// Only waits for an answer poll: a receive() with a send() since the socket's last receive() (REQ,
// REP between requests, a DEALER or PAIR in conversation). A one-way stream (PULL, SUB) never
// polls: no answer is due, so there is no reason to expect bytes soon. (In three alternating runs on
// our 2-vCPU test machine, a polling PULL also got 1005-1658 MB/s of 64 KiB PUSH/PULL over tcp
// against 1746-2206 without; that benchmark spreads widely, so read it as a hint.)
//
// Polling that finds nothing costs CPU for no gain, so each socket backs off: after a wait that
// outlasted its window, the next wait does not poll; after k such waits in a row, the next 2^k - 1
// do not (k up to MAX_BACKOFF). An answer that arrives while polling resets the count; a wait that
// ends by timeout, abort or failure changes nothing. A socket whose peer answers slowly therefore
// polls about once in 2^MAX_BACKOFF waits.

const MAX_BACKOFF = 6;

type Schedule = (f: () => void) => unknown;
// Both taken once, when this module loads, so a test that fakes timers or the clock later cannot
// stall or stretch a poll. (One that faked them before loading us is caught by the stall check.)
const schedule: Schedule | undefined = (globalThis as { setImmediate?: Schedule }).setImmediate;
const clock: () => number = performance.now.bind(performance);
/** A loop turn takes µs; a chain not seen for this long (ms) was lost and is started again. */
const STALLED_MS = 100;

/** The sockets polling now, each until its deadline or until the wait it polls for ends. */
const polling = new Set<BusyPoll>();
let ticking = false;
let lastTick = 0;

function tick(): void {
  const now = clock();
  lastTick = now;
  for (const p of polling) if (p.expired(now)) polling.delete(p);
  if (polling.size > 0) (schedule as Schedule)(tick);
  else ticking = false;
}

/** One socket's polling: the wait it polls for, its window, and its back-off. */
export class BusyPoll {
  /** The wait being polled for (the socket's waiter object), or undefined. */
  #for: object | undefined = undefined;
  #deadline = 0;
  /** Windows that ran out in a row, and waits still to let pass without polling. */
  #streak = 0;
  #skip = 0;
  #hits = 0;
  #misses = 0;

  /** Waits answered while polling, and windows that ran out (for tests and tuning). */
  get hits(): number {
    return this.#hits;
  }
  get misses(): number {
    return this.#misses;
  }

  /** Whether the event loop is being kept turning for this socket now. */
  get active(): boolean {
    return this.#for !== undefined;
  }

  /** The wait `token` has started: poll for up to `micros` µs, unless backing off. */
  start(token: object, micros: number): void {
    if (micros <= 0 || schedule === undefined) return;
    if (this.#for === undefined && this.#skip > 0) {
      this.#skip--;
      return;
    }
    const now = clock();
    this.#for = token;
    this.#deadline = now + micros / 1000;
    polling.add(this);
    if (!ticking || now - lastTick > STALLED_MS) {
      ticking = true;
      lastTick = now;
      schedule(tick);
    }
  }

  /**
   * The wait `token` has ended, `answered` (a message) or not (timeout, abort, failure). Only an
   * answer while polling counts, as a hit; a wait that ended otherwise says nothing either way.
   */
  ended(token: object, answered: boolean): void {
    if (this.#for !== token) return;
    this.#for = undefined;
    polling.delete(this);
    if (answered) {
      this.#hits++;
      this.#streak = 0;
    }
  }

  /** Stops polling at once (the socket closed, or busyPoll was set to 0), counting nothing. */
  stop(): void {
    this.#for = undefined;
    polling.delete(this);
  }

  /** @internal On each turn of the loop: true once the window has run out (a miss). */
  expired(now: number): boolean {
    if (this.#for === undefined) return true;
    if (now < this.#deadline) return false;
    this.#for = undefined;
    this.#misses++;
    this.#streak = Math.min(this.#streak + 1, MAX_BACKOFF);
    this.#skip = (1 << this.#streak) - 1;
    return true;
  }
}
