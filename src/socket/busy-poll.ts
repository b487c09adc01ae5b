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
// polls: its receiver gains little from waking sooner, and on our 2-vCPU test machine a polling
// receiver slowed 64 KiB PUSH/PULL over tcp from ~2000 to ~1200 MB/s (the sender's throughput is
// what suffers; why, we have not pinned down).
//
// Polling that finds nothing costs CPU for no gain, so each socket backs off: after a wait that
// outlasted its window, the next wait does not poll; after k such waits in a row, the next 2^k - 1
// do not (k up to MAX_BACKOFF). A wait that ends while polling resets the count. A socket whose
// peer answers slowly therefore polls about once in 2^MAX_BACKOFF waits.

const MAX_BACKOFF = 6;

type Schedule = (f: () => void) => unknown;
// Both taken once, so a test that fakes timers or the clock cannot stall or stretch a poll.
const schedule: Schedule | undefined = (globalThis as { setImmediate?: Schedule }).setImmediate;
const clock: () => number = performance.now.bind(performance);

/** The sockets polling now, each until its own deadline or until its wait ends. */
const polling = new Set<BusyPoll>();
let ticking = false;

function tick(): void {
  const now = clock();
  for (const p of polling) if (!p.stillPolling(now)) polling.delete(p);
  if (polling.size > 0) (schedule as Schedule)(tick);
  else ticking = false;
}

/** One socket's polling: its window and its back-off. */
export class BusyPoll {
  readonly #waiting: () => boolean;
  #deadline = 0;
  #active = false;
  /** Windows that ran out in a row, and waits still to let pass without polling. */
  #streak = 0;
  #skip = 0;
  #hits = 0;
  #misses = 0;

  /** `waiting` tells whether the socket still has a receive waiting. */
  constructor(waiting: () => boolean) {
    this.#waiting = waiting;
  }

  /** Waits that ended while polling, and windows that ran out (for tests and tuning). */
  get hits(): number {
    return this.#hits;
  }
  get misses(): number {
    return this.#misses;
  }

  /** Whether the event loop is being kept turning for this socket now. */
  get active(): boolean {
    return this.#active;
  }

  /** A receive has started to wait: poll for up to `micros` µs, unless backing off. */
  start(micros: number): void {
    if (micros <= 0 || schedule === undefined) return;
    const now = clock();
    if (this.#active) {
      // The previous wait ended while we polled (a new one could not start otherwise): a hit.
      this.#hit();
      this.#deadline = now + micros / 1000;
      return;
    }
    if (this.#skip > 0) {
      this.#skip--;
      return;
    }
    this.#deadline = now + micros / 1000;
    this.#active = true;
    polling.add(this);
    if (!ticking) {
      ticking = true;
      schedule(tick);
    }
  }

  /** Stops polling at once (the socket closed), without counting a hit or a miss. */
  stop(): void {
    this.#active = false;
    polling.delete(this);
  }

  /** @internal Called on every turn of the loop while polling; false once this socket is done. */
  stillPolling(now: number): boolean {
    if (!this.#active) return false;
    if (!this.#waiting()) {
      this.#hit();
      this.#active = false;
      return false;
    }
    if (now < this.#deadline) return true;
    this.#misses++;
    this.#streak = Math.min(this.#streak + 1, MAX_BACKOFF);
    this.#skip = (1 << this.#streak) - 1;
    this.#active = false;
    return false;
  }

  #hit(): void {
    this.#hits++;
    this.#streak = 0;
  }
}
