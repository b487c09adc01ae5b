// Scale rows (`npm run bench -- scale`): the cost per item of many peers, pairs, subscriptions and
// connections at 100 .. 100,000, ours and zeromq.js each in fresh processes (scale-child.ts), with
// the targets of issue 11 beside ours; lib/scale.ts walks the sizes and holds them to a time cap.

import { totalmem } from 'node:os';
import type { ChildEvent } from './lib/child.js';
import { Child, ChildError } from './lib/child.js';
import { missingTypes, probeTransport } from './lib/impl.js';
import type { Impl, ImplName, SocketTypeName } from './lib/impl.js';
import type { Figures, ScaleRow } from './lib/scale.js';
import { bytes, count, micros, millis, seconds, Shortfall, Stopped } from './lib/scale.js';

const SCRIPT = new URL('./scale-child.ts', import.meta.url);
/** Each size starts with this many items come and gone (JIT, first allocations), untimed. */
const WARM = 200;
/** The children's heap limit: half the machine's memory, so 100,000 pairs at today's size per pair can run. */
const HEAP_MB = Math.floor(totalmem() / 2 / 1024 / 1024);
const SOCKET_LIMIT = 'zeromq.js stops near 1,023 sockets: that EMFILE is libzmq\'s per-context limit (ZMQ_MAX_SOCKETS, default 1023; ' +
  'zeromq.js\'s Context takes maxSockets), whatever the process\'s open-file limit; the default Context is used here, as a user would.';

type Transport = 'inproc' | 'tcp';

async function unavailable(impl: Impl, transport: Transport, types: SocketTypeName[]): Promise<string | undefined> {
  return missingTypes(impl, types) ?? (transport === 'tcp' ? await probeTransport(impl, 'tcp') : undefined);
}

/**
 * One measurement's processes and clock: every step waits at most until the hard limit, after
 * which the measurement is Stopped; the processes are killed when it ends, however it ends.
 */
class Run {
  readonly #children: Child[] = [];
  #started = 0;
  #deadline = Number.POSITIVE_INFINITY;
  readonly #limitMs: number;

  constructor(limitMs: number) {
    this.#limitMs = limitMs;
  }

  async launch(impl: ImplName, role: string, args: Record<string, string | number>): Promise<{ child: Child; ready: ChildEvent }> {
    const argv = ['--impl', impl, '--role', role];
    for (const [k, v] of Object.entries(args)) argv.push(`--${k}`, String(v));
    const started = await Child.launch({ label: `${impl}:${role}`, script: SCRIPT, args: argv, nodeArgs: ['--expose-gc', `--max-old-space-size=${HEAP_MB}`] });
    this.#children.push(started.child);
    return started;
  }

  /** Starts the clock (after the processes are up: their start-up is not the runtime's cost). */
  start(): void {
    this.#started = performance.now();
    this.#deadline = this.#started + this.#limitMs;
  }

  /** Seconds since start(). */
  get seconds(): number {
    return (performance.now() - this.#started) / 1000;
  }

  /** Sends `cmd` (unless null) to `child`, then waits for its event `name`. */
  async step(child: Child, cmd: Record<string, unknown> | null, name: string): Promise<ChildEvent> {
    if (cmd !== null) child.send(cmd as { cmd: string });
    const where = `${child.label} had not said "${name}"${cmd === null ? '' : ` after ${JSON.stringify(cmd)}`}`;
    const left = this.#deadline - performance.now();
    if (left <= 0) throw this.#stopped(where);
    try {
      return await child.waitFor(name, left);
    } catch (e) {
      if (e instanceof ChildError && e.event.event === 'failed') {
        throw new Shortfall(e.event.at as number, `${String(e.event.message)}${e.event.code == null ? '' : ` (${String(e.event.code)})`}`);
      }
      if (performance.now() >= this.#deadline - 1) throw this.#stopped(where);
      throw e;
    }
  }

  heap(child: Child): Promise<ChildEvent> {
    return this.step(child, { cmd: 'heap' }, 'heap');
  }

  kill(): void {
    for (const c of this.#children) c.kill();
  }

  #stopped(where: string): Stopped {
    return new Stopped(`stopped: still running at ${(this.#limitMs / 1000).toFixed(0)} s, twice the cap (${where})`);
  }

  static async with(limitMs: number, body: (run: Run) => Promise<Figures>): Promise<Figures> {
    const run = new Run(limitMs);
    try {
      return await body(run);
    } finally {
      run.kill();
    }
  }
}

/**
 * The row's processes: one over inproc, a binder and a connecter over tcp. `backlog`: the tcp
 * binder's ZMQ_BACKLOG, for rows where N peers connect at once. libzmq's default of 100 overflows
 * the kernel's accept queue then, and the kernel retries each overflowed handshake for seconds
 * (10,000 subscribers: 8,580 accepted in 20 s with 100, all 10,000 at once with 4,096), as a user
 * expecting that many clients at once would raise it. Both implementations get the same value; the
 * kernel caps it at its somaxconn.
 */
async function processes(run: Run, impl: ImplName, transport: Transport, roles: { inproc: string; server: string; client: string },
  args: Record<string, string | number> = {}, backlog?: number): Promise<{ server: Child; client: Child }> {
  if (transport === 'inproc') {
    const { child } = await run.launch(impl, roles.inproc, { bind: `inproc://scale-${roles.inproc}`, ...args });
    return { server: child, client: child };
  }
  const { child: server, ready } = await run.launch(impl, roles.server, { bind: 'tcp://127.0.0.1:*', ...args, ...(backlog === undefined ? {} : { backlog }) });
  const { child: client } = await run.launch(impl, roles.client, { connect: ready.endpoint as string, ...args });
  return { server, client };
}

/** A pause for a tcp binder to hear that the warm-up's peers have gone, so it does not overlap the timing. */
function pause(transport: Transport): Promise<void> {
  return transport === 'tcp' ? new Promise((resolve) => setTimeout(resolve, 200)) : Promise.resolve();
}

/**
 * N DEALERs connect to one ROUTER and each sends one message: the time from creating the first
 * DEALER until the ROUTER has received all N (what a zeromq.js user can observe of an attach).
 */
function attach(transport: Transport, sizes: number[]): ScaleRow {
  const where = transport === 'inproc' ? 'one process' : 'the ROUTER in one process, the DEALERs in another';
  return {
    name: `scale-attach-${transport}`,
    description: `N ${transport} DEALERs connect to one ROUTER, each sends one message; time until the ROUTER has all N (${where})`,
    sizes,
    columns: [
      { key: 'perPeerMicros', label: 'per peer', format: micros, ratio: true },
      { key: 'attachSeconds', label: 'all N', format: seconds },
      { key: 'heapPerItem', label: transport === 'inproc' ? 'heap/peer' : 'ROUTER heap/peer', format: bytes },
    ],
    slopeOf: 'perPeerMicros',
    note: SOCKET_LIMIT,
    ...(transport === 'inproc'
      ? {
        target: {
          text: '10,000 inproc peers attached in under 1 s',
          size: 10_000,
          judge: (f: Figures) => ({ met: (f.attachSeconds as number) < 1, said: `${seconds(f.attachSeconds as number)}` }),
        },
      }
      : {}),
    unavailable: (impl) => unavailable(impl, transport, ['Router', 'Dealer']),
    measure: (impl, size, limitMs) => Run.with(limitMs, async (run) => {
      const { server, client } = await processes(run, impl, transport, { inproc: 'attach-inproc', server: 'router', client: 'dealers' }, {}, size);
      run.start();
      await run.step(server, { cmd: 'expect', count: WARM }, 'armed');
      await run.step(client, { cmd: 'attach', count: WARM }, 'attached');
      await run.step(server, null, 'done');
      await run.step(client, { cmd: 'release' }, 'released');
      await pause(transport);
      const h0 = await run.heap(server);
      await run.step(server, { cmd: 'expect', count: size }, 'armed');
      const sent = await run.step(client, { cmd: 'attach', count: size }, 'attached');
      const done = await run.step(server, null, 'done');
      const h1 = await run.heap(server);
      const attachSeconds = ((done.t as number) - (sent.t0 as number)) / 1000;
      return {
        seconds: run.seconds,
        attachSeconds,
        perPeerMicros: (attachSeconds * 1e6) / size,
        heapPerItem: ((h1.heapUsed as number) - (h0.heapUsed as number)) / size,
        heapLimit: h1.heapLimit as number,
      };
    }),
  };
}

/** What stays of the heap after close counts as returned under this much, or this share of what the pairs held. */
const RETURNED_BYTES = 1024 * 1024;
const RETURNED_SHARE = 0.02;

/** N connected inproc PAIR pairs created (one message through each), then all closed. */
const pairs: ScaleRow = {
  name: 'scale-pairs-inproc',
  description: 'N connected inproc PAIR pairs (bind, connect, one message through each), then all closed; heap after a forced GC',
  sizes: [100, 1_000, 10_000, 100_000],
  columns: [
    { key: 'createMicros', label: 'create/pair', format: micros, ratio: true },
    { key: 'closeMicros', label: 'close/pair', format: micros, ratio: true },
    { key: 'heapPerItem', label: 'heap/pair', format: bytes },
    { key: 'rssPerItem', label: 'rss/pair', format: bytes },
    { key: 'retainedBytes', label: 'heap left after close', format: bytes },
    { key: 'createSeconds', label: 'create all', format: seconds },
    { key: 'closeSeconds', label: 'close all', format: seconds },
  ],
  slopeOf: 'createMicros',
  note: SOCKET_LIMIT,
  target: {
    text: '100,000 pairs created in under 10 s and closed in under 10 s, at most 16 KB of heap per pair, the heap returning after close ' +
      `(returned: under ${bytes(RETURNED_BYTES)} or ${RETURNED_SHARE * 100} % of what the pairs held)`,
    size: 100_000,
    judge: (f) => {
      const returned = (f.retainedBytes as number) <= Math.max(RETURNED_BYTES, RETURNED_SHARE * (f.heapPerItem as number) * 100_000);
      return {
        met: (f.createSeconds as number) < 10 && (f.closeSeconds as number) < 10 && (f.heapPerItem as number) <= 16 * 1024 && returned,
        said: `created in ${seconds(f.createSeconds as number)}, closed in ${seconds(f.closeSeconds as number)}, ` +
          `${bytes(f.heapPerItem as number)} per pair, ${bytes(f.retainedBytes as number)} left after close`,
      };
    },
  },
  unavailable: async (impl) => missingTypes(impl, ['Pair']),
  measure: (impl, size, limitMs) => Run.with(limitMs, async (run) => {
    const { child } = await run.launch(impl, 'pairs', {});
    run.start();
    await run.step(child, { cmd: 'create', count: WARM }, 'created');
    await run.step(child, { cmd: 'close' }, 'closed');
    const h0 = await run.heap(child);
    const created = await run.step(child, { cmd: 'create', count: size }, 'created');
    const h1 = await run.heap(child);
    const closed = await run.step(child, { cmd: 'close' }, 'closed');
    const h2 = await run.heap(child);
    const heap0 = h0.heapUsed as number;
    return {
      seconds: run.seconds,
      createSeconds: created.seconds as number,
      closeSeconds: closed.seconds as number,
      createMicros: ((created.seconds as number) * 1e6) / size,
      closeMicros: ((closed.seconds as number) * 1e6) / size,
      heapPerItem: ((h1.heapUsed as number) - heap0) / size,
      rssPerItem: ((h1.rss as number) - (h0.rss as number)) / size,
      retainedBytes: (h2.heapUsed as number) - heap0,
      heapLimit: h1.heapLimit as number,
    };
  }),
};

/**
 * Subscriptions applied at a publisher: one Subscriber subscribing N distinct topics, or N
 * Subscribers one topic each. The publisher is an XPublisher, whose receive() sees each
 * subscription once applied (libzmq's PUB is an XPUB that hides them, `pub.cpp`; ours shares one
 * base): timed from the first subscribe() call to the Nth subscription received, while the
 * publisher's event loop is watched for its longest gap. Then, untimed, it publishes once on each
 * topic and the subscribers must receive all N. One subscriber's high-water marks are set above N,
 * since both implementations drop subscriptions (and messages) past them.
 */
function subscriptions(mode: 'one' | 'many', transport: Transport, sizes: number[]): ScaleRow {
  const who = mode === 'one' ? 'one Subscriber subscribes N distinct topics' : 'N Subscribers subscribe one topic each';
  const where = transport === 'inproc' ? 'one process: the loop watched is also the subscribers\'' : 'publisher and subscribers in two processes';
  return {
    name: `scale-subs-${mode}-${transport}`,
    description: `${who} over ${transport}; time until the publisher has applied all N, and its longest event-loop block (${where})`,
    sizes,
    columns: [
      { key: 'perSubMicros', label: 'per sub', format: micros, ratio: true },
      { key: 'subsPerSecond', label: 'subs/s', format: (v) => `${count(Math.round(v))}/s` },
      { key: 'maxGapMs', label: 'longest block', format: millis, ratio: true },
      { key: 'callsMs', label: 'subscribe() calls', format: millis },
      // One process: the calls' own loop is the caller's; after it returns, the publisher's alone.
      ...(transport === 'inproc' ? [{ key: 'maxGapAfterCallsMs', label: 'block after the calls', format: millis }] : []),
      ...(mode === 'many' ? [{ key: 'connectSeconds', label: 'connect N first', format: seconds }] : []),
      { key: 'missing', label: 'check msgs missing', format: (v: number) => count(v) },
    ],
    slopeOf: 'perSubMicros',
    ...(mode === 'many' ? { note: SOCKET_LIMIT } : transport === 'tcp'
      ? { note: 'a Subscriber drops subscriptions past its sendHighWaterMark (libzmq dist.cpp; ours too): ours is given N + 1,000; zeromq.js has ' +
        'no sendHighWaterMark on a Subscriber, so libzmq keeps its default 1,000 and drops the rest of N sent in one loop' }
      : {}),
    ...(mode === 'one'
      ? {
        target: {
          text: '10,000 subscriptions from one peer applied without blocking the event loop for more than 50 ms at a time' +
            (transport === 'inproc' ? ' (the tcp row watches the publisher alone)' : ''),
          size: 10_000,
          judge: (f: Figures) => ({
            met: (f.maxGapMs as number) <= 50 && f.missing === 0,
            said: `longest block ${millis(f.maxGapMs as number)}, applied in ${seconds(f.appliedSeconds as number)}` +
              (f.maxGapAfterCallsMs === undefined ? ''
                : ` (the subscribe() loop itself ${millis(f.callsMs as number)}; once it returned, the longest block ${millis(f.maxGapAfterCallsMs as number)})`) +
              (f.missing === 0 ? '' : `, ${count(f.missing as number)} check messages missing`),
          }),
        },
      }
      : {}),
    unavailable: (impl) => unavailable(impl, transport, ['XPublisher', 'Subscriber']),
    measure: (impl, size, limitMs) => Run.with(limitMs, async (run) => {
      const spread = mode === 'many';
      const { server, client } = await processes(run, impl, transport, { inproc: 'subs-inproc', server: 'xpub', client: 'subscribers' },
        spread ? {} : { hwm: size + 1000 }, spread ? size : undefined);
      run.start();
      const t0 = performance.now();
      if (spread) {
        // The warm-up is also how N subscribers are known to be connected: each one's first subscription is seen.
        await run.step(server, { cmd: 'expect', count: size }, 'armed');
        await run.step(client, { cmd: 'open', count: size }, 'opened');
        await run.step(client, { cmd: 'subscribe', count: size, prefix: 'w', spread }, 'subscribed');
        await run.step(server, null, 'done');
      } else {
        await run.step(server, { cmd: 'expect', count: WARM }, 'armed');
        await run.step(client, { cmd: 'warm', count: WARM, prefix: 'w' }, 'warmed');
        await run.step(server, null, 'done');
        await run.step(client, { cmd: 'unwarm' }, 'unwarmed');
        await pause(transport);
        await run.step(client, { cmd: 'open', count: 1, handshake: transport === 'tcp' }, 'opened');
      }
      const connectSeconds = (performance.now() - t0) / 1000;
      await run.step(server, { cmd: 'expect', count: size }, 'armed');
      const subscribed = await run.step(client, { cmd: 'subscribe', count: size, prefix: 't', spread }, 'subscribed');
      const done = await run.step(server, null, 'done');
      const applied = ((done.t as number) - (subscribed.t0 as number)) / 1000;
      await run.step(client, { cmd: 'check', count: size, prefix: 't', spread, timeoutMs: 10_000 }, 'check-armed');
      await run.step(server, { cmd: 'publish', count: size, prefix: 't' }, 'published');
      const checked = await run.step(client, null, 'checked');
      return {
        seconds: run.seconds,
        appliedSeconds: applied,
        perSubMicros: (applied * 1e6) / size,
        subsPerSecond: size / applied,
        maxGapMs: done.maxGapMs as number,
        callsMs: subscribed.callsMs as number,
        ...(done.maxGapAfterCallsMs === undefined ? {} : { maxGapAfterCallsMs: done.maxGapAfterCallsMs as number }),
        ...(spread ? { connectSeconds } : {}),
        missing: size - (checked.received as number),
      };
    }),
  };
}

/**
 * A REQ connects to a bound REP, makes one round trip and closes, N times over; heap after a forced
 * GC. Then N cycles more, untimed: growth that goes on shows in both windows, while what the first
 * window alone shows was made once (V8's number-to-string cache and hash tables growing to their
 * working size, optimised code), not per cycle.
 */
const churn: ScaleRow = {
  name: 'scale-churn-inproc',
  description: 'N times: a REQ connects to a REP over inproc, one round trip, closes; heap growth per cycle after a forced GC, over N cycles and over the N after them',
  sizes: [100, 1_000, 10_000, 20_000],
  columns: [
    { key: 'cycleMicros', label: 'per cycle', format: micros, ratio: true },
    { key: 'heapPerCycle', label: 'heap growth/cycle', format: bytes },
    { key: 'heapPerCycleNext', label: 'over the next N', format: bytes },
    { key: 'cycleSeconds', label: 'all N', format: seconds },
  ],
  slopeOf: 'cycleMicros',
  note: 'zeromq.js closes a socket in libzmq\'s reaper thread: closed sockets not yet reaped still count toward its limit of ' +
    '1,023 sockets per context (ZMQ_MAX_SOCKETS), hence an EMFILE partway through a long churn.',
  target: {
    text: 'heap growth under 50 B per cycle over 20,000 cycles',
    size: 20_000,
    judge: (f) => ({ met: (f.heapPerCycle as number) < 50, said: `${bytes(f.heapPerCycle as number)} per cycle` }),
  },
  unavailable: async (impl) => missingTypes(impl, ['Request', 'Reply']),
  measure: (impl, size, limitMs) => Run.with(limitMs, async (run) => {
    const { child } = await run.launch(impl, 'churn', {});
    run.start();
    await run.step(child, { cmd: 'cycles', count: WARM }, 'cycled');
    const h0 = await run.heap(child);
    const cycled = await run.step(child, { cmd: 'cycles', count: size }, 'cycled');
    const h1 = await run.heap(child);
    await run.step(child, { cmd: 'cycles', count: size }, 'cycled');
    const h2 = await run.heap(child);
    return {
      seconds: run.seconds,
      cycleMicros: ((cycled.seconds as number) * 1e6) / size,
      heapPerCycle: ((h1.heapUsed as number) - (h0.heapUsed as number)) / size,
      heapPerCycleNext: ((h2.heapUsed as number) - (h1.heapUsed as number)) / size,
      cycleSeconds: cycled.seconds as number,
    };
  }),
};

/** A row whose child times one command (`cmd {count}`, answered `reply {seconds}`), after a warm-up of WARM. */
function timedRow(o: { name: string; description: string; role: string; cmd: string; reply: string; per: string; types: SocketTypeName[] }): ScaleRow {
  return {
    name: o.name,
    description: o.description,
    sizes: [100, 1_000, 10_000, 100_000],
    columns: [
      { key: 'perMicros', label: `per ${o.per}`, format: micros, ratio: true },
      { key: 'allSeconds', label: 'all N', format: seconds },
    ],
    slopeOf: 'perMicros',
    note: SOCKET_LIMIT,
    unavailable: async (impl) => missingTypes(impl, o.types),
    measure: (impl, size, limitMs) => Run.with(limitMs, async (run) => {
      const { child } = await run.launch(impl, o.role, {});
      run.start();
      await run.step(child, { cmd: o.cmd, count: WARM }, o.reply);
      const timed = await run.step(child, { cmd: o.cmd, count: size }, o.reply);
      const allSeconds = timed.seconds as number;
      return { seconds: run.seconds, allSeconds, perMicros: (allSeconds * 1e6) / size };
    }),
  };
}

/**
 * A ROUTER closed with a message still queued for each of N inproc DEALERs, which then read them:
 * the socket asks, as each peer's pipe drains, whether any still has output (scanning every peer
 * each time made this quadratic: 9.8 s at 32,000 before 4ba1383).
 */
const linger = timedRow({
  name: 'scale-linger-inproc',
  description: 'a ROUTER with one message queued for each of N inproc DEALERs is closed (linger -1); time until every DEALER has read its message',
  role: 'linger',
  cmd: 'drain',
  reply: 'drained',
  per: 'peer',
  types: ['Router', 'Dealer'],
});

/**
 * One ROUTER bound to N inproc names, a DEALER connected to each, then every name unbound: each
 * unbind looks up the connections through that name (copying and filtering all of the socket's
 * made it quadratic: 17.4 s for 16,000 before 4d5d9a4).
 */
const unbinds = timedRow({
  name: 'scale-unbind-inproc',
  description: 'one ROUTER binds N inproc names and a DEALER connects to each; time to unbind them all',
  role: 'unbind',
  cmd: 'unbind',
  reply: 'unbound',
  per: 'name',
  types: ['Router', 'Dealer'],
});

const SIZES = [100, 1_000, 10_000, 100_000];
// 100,000 tcp connections in one process pass the usual open-file limits: tcp rows stop earlier.
export const scaleRows: ScaleRow[] = [
  attach('inproc', SIZES),
  attach('tcp', [100, 1_000]),
  pairs,
  subscriptions('one', 'inproc', SIZES),
  subscriptions('one', 'tcp', SIZES),
  subscriptions('many', 'inproc', SIZES),
  subscriptions('many', 'tcp', [100, 1_000, 10_000]),
  churn,
  linger,
  unbinds,
];
