// Busy polling for receives that wait on the network (the `busyPoll` option), and the cap on how
// many sockets poll at once: per event loop, that is per thread (a worker has its own; threads share
// no memory unless handed it, so a cap across them would need the application's help), and per copy
// of this module. It never holds anything up: timers and I/O callbacks run between its turns as
// usual.
//
// When a receive() has to wait and the socket has a tcp or ipc endpoint, the process may go to
// sleep in the kernel until the peer's bytes arrive. On machines whose idle CPUs sleep deeply
// (virtual machines above all) that wake-up costs tens of µs, more than the rest of a round trip.
// So for up to `busyPoll` µs the event loop is kept turning instead: a chain of setImmediate
// callbacks, during which libuv polls its sockets without blocking. The price is CPU time while the
// wait lasts.
//
// Who polls. Only a wait for an answer: a receive() with a send() since the socket's last receive().
// A one-way stream (PULL, SUB) never polls: no answer is due, so there is no reason to expect bytes
// soon. (In three alternating runs on our 2-vCPU test machine, a polling PULL also got 1005-1658
// MB/s of 64 KiB PUSH/PULL over tcp against 1746-2206 without; that benchmark spreads widely, so
// read it as a hint.) By default only a REQ polls (50 µs, `defaultBusyPoll`): a client waiting for
// the answer to its own request. A server waits between requests for as long as its clients please,
// so polling there mostly spins: a ROUTER echo server with 8 tcp DEALERs at ~6k msg/s used 17 % of
// a core against 12-13 % without, and its event loop read as ~100 % utilised, which load-shedding
// middleware acts on. So REP, ROUTER and every other type poll only when `busyPoll` is set, as
// libzmq's ZMQ_BUSY_POLL is off unless set.
//
// Back-off. Polling that finds nothing costs CPU for no gain, so each socket backs off: after a wait
// that outlasted its window, the next wait does not poll; after k such waits in a row, the next
// 2^k - 1 do not (k up to MAX_BACKOFF). An answer that arrives while polling resets the count; a
// wait that ends by timeout, abort or failure changes nothing. A socket whose peer answers slowly
// therefore polls about once in 2^MAX_BACKOFF waits.
//
// The cap. At most `cap` sockets of a process poll at once (DEFAULT_CAP: 1); a wait that starts
// while that many poll does not poll at all, not even once a place frees (`capped` counts them),
// and leaves its socket's back-off as it was. One is enough because the chain turns the loop for
// every socket: while one socket polls, any other socket's bytes are read on the next turn too, so
// a second poller adds only the part of its window that outlasts the first's, and a check on every
// turn. With the cap, neither the work per turn nor the number of open windows grows with the
// number of sockets. What the cap does not do is bound the CPU share by itself (sockets whose waits
// follow one another take the place in turn): that share follows the traffic, since a window is
// either answered (the round trip it was for) or, once missed, rarely opened again (the back-off).
// Measured on our 2-vCPU VM (scratch/busy-poll/clients.ts: N REQs of ours in one process, each in
// a loop, over tcp to a REP of ours in another process; 3 s per run, medians of 6 alternating runs
// on a machine shared with other work), the client process's CPU time:
//
//                           polling off        on, no cap         on, cap 1
//   each REQ sends at once, CPU per round trip (and, for one REQ, the median round trip):
//     1 REQ                 40 µs (91 µs)      31 µs (30 µs)      28 µs (27 µs)
//     10 REQs               9.1 µs             9.4 µs             9.2 µs
//     100 REQs              12.6 µs            11.9 µs            12.0 µs
//   each REQ sends every 10 ms, share of a core:
//     1 REQ                 2.5 %              2.8 %              2.6 %
//     10 REQs               9.4 %              9.4 %              8.9 %
//     100 REQs              16.2 %             17.2 %             17.6 %
//
// (One REQ never meets the cap: its two columns differ by the runs' spread. With 10 or 100 REQs
// at once, a run settles with both processes either about 50 % or about 95 % busy, whatever the
// polling, so the share of a core says little there.) So here neither polling nor the cap changes
// what many clients cost, and one client keeps what polling gives it (`npm run bench --
// tcp-req-rep-rtt`). In a simulation on this code (scratch/busy-poll/simulate.ts: 1 to 100 sockets,
// 5k-20k waits/s, answers within 60-200 µs) the chain ran 3-40 % of the time, and the cap moved that
// by a tenth at most, either way: overlapping windows cost one spin, not several.

const MAX_BACKOFF = 6;

/** How many sockets of a process may poll at once (see "The cap" above for why one). */
export const DEFAULT_CAP = 1;

/**
 * The `busyPoll` a socket of `socketType` starts with: only a REQ, a client that waits for the
 * answer to its own request, polls by default (50 µs); every other type, servers (REP, ROUTER)
 * above all, polls only when asked, as libzmq's ZMQ_BUSY_POLL defaults to off.
 */
export function defaultBusyPoll(socketType: string): number {
  return socketType === 'REQ' ? 50 : 0;
}

type Schedule = (f: () => void) => unknown;
// Both taken once, when this module loads, so a test that fakes timers or the clock later cannot
// stall or stretch a poll. (One that faked them before loading us is caught by the stall check.)
const realSchedule: Schedule | undefined = (globalThis as { setImmediate?: Schedule }).setImmediate;
const realNow: () => number = performance.now.bind(performance);
/** A loop turn takes µs; a chain not seen for this long (ms) was lost and is started again. */
const STALLED_MS = 100;

/** What a {@link BusyPollGroup} runs on: its clock (ms) and how it asks for the next loop turn. */
export interface BusyPollClock {
  now(): number;
  /** Runs `f` on a later turn of the loop (setImmediate); undefined where there is none (a browser). */
  schedule: Schedule | undefined;
}

/**
 * @internal The sockets that poll, the cap on how many may poll at once, and the one chain of
 * loop turns that serves them all. Every socket belongs to {@link busyPollers}, this thread's
 * group; tests make their own with a clock and a scheduler they drive.
 */
export class BusyPollGroup {
  /** How many sockets may poll at once; a wait that finds them all taken does not poll. */
  cap: number;
  readonly #now: () => number;
  readonly #schedule: Schedule | undefined;
  /** The sockets polling now, each until its deadline or until the wait it polls for ends. */
  readonly #polling = new Set<BusyPoll>();
  #ticking = false;
  #lastTick = 0;
  #ticks = 0;
  #capped = 0;
  readonly #tick = (): void => {
    const now = this.#now();
    this.#lastTick = now;
    this.#ticks++;
    for (const p of this.#polling) if (p.expired(now)) this.#polling.delete(p);
    if (this.#polling.size > 0) (this.#schedule as Schedule)(this.#tick);
    else this.#ticking = false;
  };

  constructor(options: { cap?: number; clock?: BusyPollClock } = {}) {
    this.cap = options.cap ?? DEFAULT_CAP;
    this.#now = options.clock?.now ?? realNow;
    this.#schedule = options.clock === undefined ? realSchedule : options.clock.schedule;
  }

  /** Sockets polling now (never more than `cap`). */
  get polling(): number {
    return this.#polling.size;
  }

  /** Whether the chain of loop turns is running. */
  get ticking(): boolean {
    return this.#ticking;
  }

  /** Turns of the loop the chain has taken so far. */
  get ticks(): number {
    return this.#ticks;
  }

  /** Waits that would have polled but found `cap` sockets polling already. */
  get capped(): number {
    return this.#capped;
  }

  /** @internal The group's clock, in ms. */
  now(): number {
    return this.#now();
  }

  /** @internal Whether polling is possible at all here (a browser has no setImmediate). */
  get canPoll(): boolean {
    return this.#schedule !== undefined;
  }

  /** @internal Lets `p` poll if there is room (counting a refusal), and keeps the chain running. */
  admit(p: BusyPoll, now: number): boolean {
    if (!this.#polling.has(p)) {
      if (this.#polling.size >= this.cap) {
        this.#capped++;
        return false;
      }
      this.#polling.add(p);
    }
    if (!this.#ticking || now - this.#lastTick > STALLED_MS) {
      this.#ticking = true;
      this.#lastTick = now;
      (this.#schedule as Schedule)(this.#tick);
    }
    return true;
  }

  /** @internal `p` stopped polling: its place is free. */
  release(p: BusyPoll): void {
    this.#polling.delete(p);
  }
}

/** This thread's busy pollers: every socket's {@link BusyPoll} belongs to this group. */
export const busyPollers = new BusyPollGroup();

/** One socket's polling: the wait it polls for, its window, and its back-off. */
export class BusyPoll {
  #group: BusyPollGroup;
  /** The wait being polled for (the socket's waiter object), or undefined. */
  #for: object | undefined = undefined;
  #deadline = 0;
  /** Windows that ran out in a row, and waits still to let pass without polling. */
  #streak = 0;
  #skip = 0;
  #hits = 0;
  #misses = 0;

  constructor(group: BusyPollGroup = busyPollers) {
    this.#group = group;
  }

  /** @internal The group whose cap and chain this socket shares. */
  get group(): BusyPollGroup {
    return this.#group;
  }

  /** @internal Moves this socket into another group (tests); it stops polling first. */
  set group(g: BusyPollGroup) {
    this.stop();
    this.#group = g;
  }

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

  /** The wait `token` has started: poll for up to `micros` µs, unless backing off or capped. */
  start(token: object, micros: number): void {
    if (micros <= 0 || !this.#group.canPoll) return;
    if (this.#for === undefined && this.#skip > 0) {
      this.#skip--;
      return;
    }
    const now = this.#group.now();
    if (!this.#group.admit(this, now)) return;
    this.#for = token;
    this.#deadline = now + micros / 1000;
  }

  /**
   * The wait `token` has ended, `answered` (a message) or not (timeout, abort, failure). Only an
   * answer while polling counts, as a hit; a wait that ended otherwise says nothing either way.
   */
  ended(token: object, answered: boolean): void {
    if (this.#for !== token) return;
    this.#for = undefined;
    this.#group.release(this);
    if (answered) {
      this.#hits++;
      this.#streak = 0;
    }
  }

  /** Stops polling at once (the socket closed, or busyPoll was set to 0), counting nothing. */
  stop(): void {
    this.#for = undefined;
    this.#group.release(this);
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
