// Network benchmarks over tcp and ipc, in two placements: sender and receiver in two worker
// processes (for both implementations), so neither shares an event loop with the other, or both in
// one worker process (as a user's tests and many services run them; rows named `…-1proc`).
// See child.ts for what the workers do, lib/ceiling.ts for the platform ceilings beside them.

import type { Benchmark, RoundResult, Session, Target } from './lib/benchmark.js';
import { scaled, stretchFactor } from './lib/benchmark.js';
import { openEnd, worker } from './lib/child.js';
import type { End, EndSpec } from './lib/child.js';
import { ipcPath, missingTypes, probeTransport } from './lib/impl.js';
import type { Impl, ImplName, SocketTypeName } from './lib/impl.js';

type Transport = 'tcp' | 'ipc';
/** Two processes (sender and receiver apart), or one process holding both. */
type Placement = 'two' | 'one';

function bindAddress(transport: Transport): string {
  return transport === 'tcp' ? 'tcp://127.0.0.1:*' : `ipc://${ipcPath('bench')}`;
}

function suffix(placement: Placement): string {
  return placement === 'one' ? '-1proc' : '';
}

function said(placement: Placement): string {
  return placement === 'one' ? 'one process' : 'two processes';
}

async function unavailable(impl: Impl, transport: Transport, types: SocketTypeName[]): Promise<string | undefined> {
  return missingTypes(impl, types) ?? (await probeTransport(impl, transport));
}

/** Our `busyPoll` for each side (unset: the socket type's default); zeromq.js has no such option. */
interface Polling {
  server?: number;
  client?: number;
}

/**
 * Opens the binding end in worker `a` of `impl`, then the connecting end at the endpoint it
 * reports, in worker `b` (two processes) or in `a` as well (one process).
 */
async function openEnds(impl: ImplName, transport: Transport, placement: Placement, binder: EndSpec, connector: EndSpec): Promise<{ binder: End; connector: End }> {
  const [a, b] = await Promise.all([worker(impl, 'a'), placement === 'two' ? worker(impl, 'b') : undefined]);
  const bound = await openEnd(a, { ...binder, bind: bindAddress(transport) });
  if (bound.endpoint === undefined) {
    await bound.close();
    throw new Error(`${impl} ${binder.role} reported no endpoint`);
  }
  try {
    return { binder: bound, connector: await openEnd(b ?? a, { ...connector, connect: bound.endpoint }) };
  } catch (e) {
    await bound.close();
    throw e;
  }
}

/** The counts of one stream round: what the receiving end expects in all, what each sending socket sends. */
interface Counts {
  expect: number;
  send: number;
}

/**
 * The rounds of a one-way stream: `sender` sends, `receiver` times from its first message to its
 * last. Each round gives msg/s, or MB/s when `perByte`. The two ends may share a process.
 */
export function streamSession(receiver: End, sender: End, counts: Counts, perByte = false, scale = 1): Session {
  let { expect, send } = counts;
  return {
    async round() {
      receiver.send({ cmd: 'expect', count: expect });
      await receiver.waitFor('armed');
      sender.send({ cmd: 'send', count: send });
      const done = await receiver.waitFor('done');
      await sender.waitFor('sent');
      // Rounds of at least MIN_ROUND_SECONDS (lib/benchmark.ts).
      const k = stretchFactor(expect, done.rate as number, scale);
      [expect, send] = [expect * k, send * k];
      return perByte ? (done.bytesPerSecond as number) / 1e6 : (done.rate as number);
    },
    close: () => closeEnds(receiver, sender),
  };
}

/** Closes two ends: side by side in two processes, one after the other in one (its events come in one stream). */
async function closeEnds(a: End, b: End): Promise<void> {
  if (a.child === b.child) {
    await b.close();
    await a.close();
  } else {
    await Promise.all([a.close(), b.close()]);
  }
}

const MIB = 1024 * 1024;

function sizeName(size: number): string {
  return size >= MIB ? `${size / MIB}m` : size >= 1024 ? `${size / 1024}k` : `${size}b`;
}

/** PUSH -> PULL: the receiver times from its first message to its last. Sizes of 64 KiB and up report MB/s. */
function pushPull(transport: Transport, placement: Placement, size: number, count: number, target: Target): Benchmark {
  const perByte = size >= 65_536;
  const counts = (scale: number) => {
    const n = scaled(count, scale, perByte ? 100 : 1_000);
    return { expect: n, send: n };
  };
  return {
    name: `${transport}-push-pull-${sizeName(size)}${suffix(placement)}`,
    description: `PUSH -> PULL over ${transport}, ${size}-byte messages, ${said(placement)}`,
    unit: perByte ? 'MB/s' : 'msg/s',
    better: 'higher',
    target,
    unavailable: (impl) => unavailable(impl, transport, ['Push', 'Pull']),
    ceiling: {
      label: 'node:net pre-framed stream',
      async open(scale) {
        const { binder, connector } = await openEnds('node', transport, placement, { role: 'sink', size }, { role: 'source', size });
        return streamSession(binder, connector, counts(scale), perByte, scale);
      },
    },
    async open(impl, scale) {
      const { binder, connector } = await openEnds(impl.name, transport, placement, { role: 'pull' }, { role: 'push', size });
      return streamSession(binder, connector, counts(scale), perByte, scale);
    },
  };
}

/**
 * The batch row (issue 15 item 3): PUSH -> PULL of 16 bytes, ours through sendMany/receiveMany in
 * batches of 256, zeromq.js (which has no batch API) as in `tcp-push-pull-16b`. Skipped if our
 * sockets lack the methods.
 */
function pushPullBatch(transport: Transport, count: number, target: Target): Benchmark {
  const batch = 256;
  return {
    ...pushPull(transport, 'two', 16, count, target),
    name: `${transport}-push-pull-16b-batch`,
    description: `PUSH -> PULL over ${transport}, 16-byte messages, two processes; ours with sendMany/receiveMany in batches of ${batch}`,
    async unavailable(impl) {
      if (impl.name === 'ours' && typeof (impl.Push.prototype as { sendMany?: unknown }).sendMany !== 'function') return 'ours has no sendMany yet (issue 15 item 3)';
      return unavailable(impl, transport, ['Push', 'Pull']);
    },
    async open(impl, scale) {
      const b = impl.name === 'ours' ? batch : undefined;
      const { binder, connector } = await openEnds(impl.name, transport, 'two', { role: 'pull', batch: b }, { role: 'push', size: 16, batch: b });
      const n = scaled(count, scale, 1_000);
      return streamSession(binder, connector, { expect: n, send: n }, false, scale);
    },
  };
}

/**
 * PUB -> `subscribers` SUBs: the publisher sends, every subscriber counts what reaches it; the
 * figure is deliveries per second (each message counts once per subscriber it reaches). With
 * `topics` the subscribers split into that many topics and the publisher cycles through them.
 */
function fanOut(transport: Transport, placement: Placement, subscribers: number, topics: number, deliveries: number): Benchmark {
  const t = Math.max(1, topics);
  const counts = (scale: number) => {
    const published = Math.max(t, Math.round(scaled(deliveries, scale, 2_000) * t / subscribers / t) * t);
    return { expect: (published * subscribers) / t, send: published };
  };
  return {
    name: `${transport}-pub-sub-${subscribers}${topics > 0 ? '-topics' : ''}${suffix(placement)}`,
    description: `PUB -> ${subscribers} SUBs over ${transport}, 16 bytes, ${said(placement)} (the SUBs share one); ` +
      (topics > 0 ? `each SUB takes one of ${topics} topics, so a message reaches ${subscribers / topics}` : 'every SUB takes everything') +
      '; deliveries/s, HWM unlimited',
    unit: 'msg/s',
    better: 'higher',
    target: { op: '>=', ratio: 3 },
    unavailable: (impl) => unavailable(impl, transport, ['Publisher', 'Subscriber']),
    ceiling: {
      label: `node:net pre-framed, ${subscribers} streams out`,
      async open(scale) {
        const c = counts(scale);
        const { binder, connector } = await openEnds('node', transport, placement, { role: 'source', size: 16, peers: subscribers },
          { role: 'sink', peers: subscribers });
        return streamSession(connector, binder, { expect: c.expect, send: c.expect / subscribers }, false, scale);
      },
    },
    async open(impl, scale) {
      const { binder: pub, connector: subs } = await openEnds(impl.name, transport, placement, { role: 'pub', size: 16, topics }, { role: 'subs', peers: subscribers, topics });
      try {
        // Sync messages until every subscriber has one, so every filter has reached the publisher.
        pub.send({ cmd: 'sync-start' });
        await pub.waitFor('syncing');
        subs.send({ cmd: 'synced' });
        await subs.waitFor('synced');
        pub.send({ cmd: 'sync-stop' });
        await pub.waitFor('sync-stopped');
      } catch (e) {
        await subs.close();
        await pub.close();
        throw e;
      }
      return streamSession(subs, pub, counts(scale), false, scale);
    },
  };
}

/** `peers` DEALERs -> one ROUTER, 16 bytes: each DEALER sends its share at once; the ROUTER times all. */
function dealerRouter(transport: Transport, placement: Placement, peers: number, count: number): Benchmark {
  const counts = (scale: number) => {
    const each = Math.max(1, Math.round(scaled(count, scale, 1_000) / peers));
    return { expect: each * peers, send: each };
  };
  return {
    name: `${transport}-dealer-router-${peers}${suffix(placement)}`,
    description: `${peers} DEALERs -> ROUTER over ${transport}, 16 bytes, ${said(placement)} (the DEALERs share one)`,
    unit: 'msg/s',
    better: 'higher',
    target: { op: '>=', ratio: 3 },
    unavailable: (impl) => unavailable(impl, transport, ['Dealer', 'Router']),
    ceiling: {
      label: `node:net pre-framed, ${peers} streams in`,
      async open(scale) {
        const { binder, connector } = await openEnds('node', transport, placement, { role: 'sink', size: 16 }, { role: 'source', size: 16, peers });
        return streamSession(binder, connector, counts(scale), false, scale);
      },
    },
    async open(impl, scale) {
      const { binder, connector } = await openEnds(impl.name, transport, placement, { role: 'router' }, { role: 'dealers', size: 16, peers });
      return streamSession(binder, connector, counts(scale), false, scale);
    },
  };
}

/**
 * REQ <-> REP, or PAIR <-> PAIR (the same echo without REQ/REP's lockstep): median round trip in
 * µs, measured by the connecting side. Each round also reports the CPU time the processes used
 * per round trip, since busy polling trades CPU for latency. `busyPoll` sets our option on both
 * sides (zeromq.js has none and runs as it is); unset, each side keeps its default.
 */
function roundTrip(name: string, transport: Transport, placement: Placement, count: number, target: Target | undefined,
  kind: 'reqrep' | 'pair' = 'reqrep', busyPoll?: number): Benchmark {
  const types: SocketTypeName[] = kind === 'reqrep' ? ['Request', 'Reply'] : ['Pair'];
  const roles = kind === 'reqrep' ? { server: 'rep', client: 'req' } : { server: 'pair-echo', client: 'pair' };
  return {
    name,
    description: `${kind === 'reqrep' ? 'REQ <-> REP' : 'PAIR <-> PAIR'} over ${transport}, 16-byte echo, ${said(placement)}, median round trip; ` +
      (busyPoll === undefined ? 'ours with its defaults' : `ours with busyPoll ${busyPoll}`),
    unit: 'µs/rtt',
    better: 'lower',
    ...(target === undefined ? {} : { target }),
    ...(kind === 'pair' || busyPoll !== undefined ? { extra: true } : {}),
    unavailable: (impl) => unavailable(impl, transport, types),
    ...(busyPoll === undefined
      ? { ceiling: { label: 'node:net echo', open: (scale: number) => echoSession('node', transport, placement, { server: 'pair-echo', client: 'pair' }, count, scale) } }
      : {}),
    open: (impl, scale) => echoSession(impl.name, transport, placement, roles, count, scale, { server: busyPoll, client: busyPoll }),
  };
}

/**
 * A ROUTER echo server (one process) and `clients` DEALERs (another), each client sending 16 bytes
 * and awaiting its echo, all at once: the median round trip over every client, with the CPU time of
 * both processes per message (and the server's event-loop utilisation, which load-shedding
 * middleware reads). `polling` sets our busyPoll per side; unset, the defaults (neither polls).
 */
function routerEcho(name: string, transport: Transport, clients: number, count: number, polling: Polling): Benchmark {
  const given = (us: number | undefined) => (us === undefined ? 'default' : String(us));
  return {
    name,
    description: `ROUTER echo server <-> ${clients} DEALER clients over ${transport}, 16 bytes, two processes, median round trip; ` +
      `ours with busyPoll ${given(polling.server)} on the ROUTER and ${given(polling.client)} on the DEALERs`,
    unit: 'µs/rtt',
    better: 'lower',
    extra: true,
    unavailable: (impl) => unavailable(impl, transport, ['Router', 'Dealer']),
    open: (impl, scale) => echoSession(impl.name, transport, 'two', { server: 'router-echo', client: 'dealers' }, count, scale, polling, clients),
  };
}

/** The CPU time a worker's process has used (µs) and its event loop's busy and idle time (ms). */
async function usage(end: End): Promise<{ cpu: number; active: number; idle: number }> {
  end.send({ cmd: 'usage' });
  const u = await end.waitFor('usage');
  return { cpu: u.cpuMicros as number, active: (u.loopActiveMs as number | undefined) ?? 0, idle: (u.loopIdleMs as number | undefined) ?? 0 };
}

/** An echo server and its client(s); each round is the client's median of `count` round trips. */
async function echoSession(impl: ImplName, transport: Transport, placement: Placement, roles: { server: string; client: string }, count: number,
  scale: number, polling: Polling = {}, clients?: number): Promise<Session> {
  const n = scaled(count, scale, 200);
  const poll = (us: number | undefined) => (us !== undefined && impl === 'ours' ? { busyPoll: us } : {});
  const { binder: server, connector: client } = await openEnds(impl, transport, placement,
    { role: roles.server, ...poll(polling.server) },
    { role: roles.client, size: 16, ...poll(polling.client), ...(clients === undefined ? {} : { peers: clients }) });
  const shared = placement === 'one';
  return {
    async round(): Promise<RoundResult> {
      const c0 = await usage(client);
      const s0 = shared ? c0 : await usage(server);
      client.send({ cmd: 'rtt', count: n });
      const done = await client.waitFor('done');
      const c1 = await usage(client);
      const s1 = shared ? c1 : await usage(server);
      // The untimed first trip of each client counts in the CPU time too.
      const trips = (done.count as number) + (clients ?? 1);
      const busy = s1.active - s0.active;
      return {
        value: done.medianMicros as number,
        extra: {
          meanMicros: done.meanMicros as number,
          ...(shared
            ? { cpuMicros: (c1.cpu - c0.cpu) / trips }
            : {
                cpuMicros: (c1.cpu - c0.cpu + s1.cpu - s0.cpu) / trips,
                cpuClientMicros: (c1.cpu - c0.cpu) / trips,
                cpuServerMicros: (s1.cpu - s0.cpu) / trips,
                serverLoopUtilisation: busy / (busy + s1.idle - s0.idle),
              }),
          ...(clients !== undefined ? { rate: done.rate as number } : {}),
        },
      };
    },
    close: () => closeEnds(server, client),
  };
}

const PLACEMENTS: Placement[] = ['two', 'one'];
const TRANSPORTS: Transport[] = ['tcp', 'ipc'];

function both<T>(make: (transport: Transport, placement: Placement) => T, transports: Transport[] = TRANSPORTS): T[] {
  return transports.flatMap((t) => PLACEMENTS.map((p) => make(t, p)));
}

export const networkBenchmarks: Benchmark[] = [
  ...both((t, p) => pushPull(t, p, 16, 200_000, { op: '>=', ratio: p === 'two' ? 5 : 3 })),
  pushPullBatch('tcp', 200_000, { op: '>=', ratio: 10 }), // issue 15 item 3: at least 10x
  ...both((t, p) => pushPull(t, p, 1024, 100_000, { op: '>=', ratio: 3 })),
  ...both((t, p) => pushPull(t, p, 65_536, 5_000, { op: '>=', ratio: 1 })),
  ...both((t, p) => pushPull(t, p, MIB, 300, { op: '>=', ratio: 1 })),
  ...both((t, p) => fanOut(t, p, 10, 0, 200_000), ['tcp']),
  ...both((t, p) => fanOut(t, p, 10, 10, 200_000), ['tcp']),
  ...both((t, p) => fanOut(t, p, 100, 0, 200_000), ['tcp']),
  ...both((t, p) => fanOut(t, p, 100, 10, 200_000), ['tcp']),
  ...both((t, p) => dealerRouter(t, p, 10, 200_000), ['tcp']),
  ...both((t, p) => dealerRouter(t, p, 1_000, 200_000), ['tcp']),
  ...both((t, p) => roundTrip(`${t}-req-rep-rtt${suffix(p)}`, t, p, 5_000, { op: '<=', ratio: 0.5 })),
  roundTrip('tcp-req-rep-rtt-nopoll', 'tcp', 'two', 5_000, undefined, 'reqrep', 0),
  roundTrip('tcp-pair-rtt', 'tcp', 'two', 5_000, undefined, 'pair'),
  routerEcho('tcp-router-echo-8', 'tcp', 8, 8_000, {}),
  routerEcho('tcp-router-echo-8-nopoll', 'tcp', 8, 8_000, { server: 0, client: 0 }),
  routerEcho('tcp-router-echo-8-poll-clients', 'tcp', 8, 8_000, { client: 50 }),
  routerEcho('tcp-router-echo-8-poll', 'tcp', 8, 8_000, { server: 50, client: 50 }),
];
