// Network benchmarks: sender and receiver in two child processes (for both implementations), so
// neither shares an event loop with the other; see child.ts for what each process does.

import type { Benchmark, Session, Target } from './lib/benchmark.js';
import { scaled } from './lib/benchmark.js';
import { Child } from './lib/child.js';
import { ipcPath, loadImpl, missingTypes, probeTransport } from './lib/impl.js';
import type { Impl, SocketTypeName } from './lib/impl.js';

type Transport = 'tcp' | 'ipc';

function bindAddress(transport: Transport): string {
  return transport === 'tcp' ? 'tcp://127.0.0.1:*' : `ipc://${ipcPath('bench')}`;
}

async function unavailable(impl: Impl, transport: Transport, types: SocketTypeName[]): Promise<string | undefined> {
  return missingTypes(impl, types) ?? (await probeTransport(impl, transport));
}

/** Our `busyPoll` for each side (unset: the socket type's default); zeromq.js has no such option. */
interface Polling {
  server?: number;
  client?: number;
}

/** Starts the binder, then the connector at the endpoint the binder reports. */
async function pair(impl: Impl, transport: Transport, binder: 'pull' | 'rep' | 'pair-echo' | 'router-echo', connector: 'push' | 'req' | 'pair' | 'dealers',
  size: number, polling: Polling = {}, peers?: number) {
  const poll = (us: number | undefined) => (us !== undefined && impl.name === 'ours' ? { busyPoll: us } : {});
  const b = await Child.start({ impl: impl.name, role: binder, bind: bindAddress(transport), ...poll(polling.server) });
  const endpoint = b.ready.endpoint;
  if (typeof endpoint !== 'string') {
    await b.child.close();
    throw new Error(`${impl.name} ${binder} child reported no endpoint`);
  }
  try {
    const c = await Child.start({ impl: impl.name, role: connector, connect: endpoint, size, ...poll(polling.client), ...(peers === undefined ? {} : { peers }) });
    return { binder: b.child, connector: c.child };
  } catch (e) {
    await b.child.close();
    throw e;
  }
}

/**
 * PUSH (one process) -> PULL (another): the receiver times from its first message to its last.
 * `perByte` reports MB/s instead of msg/s.
 */
function pushPull(name: string, transport: Transport, size: number, count: number, target: Target, perByte = false): Benchmark {
  return {
    name,
    description: `PUSH -> PULL over ${transport}, ${size}-byte messages, two processes`,
    unit: perByte ? 'MB/s' : 'msg/s',
    better: 'higher',
    target,
    unavailable: (impl) => unavailable(impl, transport, ['Push', 'Pull']),
    async open(impl, scale): Promise<Session> {
      const n = scaled(count, scale);
      const { binder: receiver, connector: sender } = await pair(impl, transport, 'pull', 'push', size);
      return streamSession(receiver, sender, n, perByte);
    },
  };
}

/**
 * The rounds of a one-way stream between two children: `sender` sends `n` messages, `receiver`
 * times them from the first to the last. Each round gives msg/s, or MB/s when `perByte`.
 */
export function streamSession(receiver: Child, sender: Child, n: number, perByte = false): Session {
  return {
    async round() {
      receiver.send({ cmd: 'expect', count: n });
      await receiver.expect('armed');
      sender.send({ cmd: 'send', count: n });
      const [done] = await Promise.all([receiver.expect('done'), sender.expect('sent')]);
      return perByte ? (done.bytesPerSecond as number) / 1e6 : (done.rate as number);
    },
    async close() {
      await Promise.all([sender.close(), receiver.close()]);
    },
  };
}

/**
 * REQ (one process) <-> REP (another), or PAIR <-> PAIR (the same echo without REQ/REP's lockstep):
 * median round trip in µs, measured by the connecting side. Each round also reports the CPU time
 * both processes used per round trip (`cpuMicros`, split into `cpuClientMicros` and
 * `cpuServerMicros`), since busy polling trades CPU for latency. `busyPoll` sets our option on
 * both sides (zeromq.js has no such option and runs as it is); unset, each side keeps its default.
 */
function roundTrip(name: string, transport: Transport, count: number, target: Target | undefined, kind: 'reqrep' | 'pair' = 'reqrep', busyPoll?: number): Benchmark {
  const types: SocketTypeName[] = kind === 'reqrep' ? ['Request', 'Reply'] : ['Pair'];
  return {
    name,
    description: `${kind === 'reqrep' ? 'REQ <-> REP' : 'PAIR <-> PAIR'} over ${transport}, 16-byte echo, two processes, median round trip; ` +
      (busyPoll === undefined ? 'ours with its defaults' : `ours with busyPoll ${busyPoll}`),
    unit: 'µs/rtt',
    better: 'lower',
    ...(target === undefined ? {} : { target }),
    unavailable: (impl) => unavailable(impl, transport, types),
    ...(transport === 'tcp' && busyPoll === undefined
      ? { floor: { label: 'node:net echo', open: async (scale: number) => echoSession(await loadImpl('node'), transport, 'pair', count, scale) } }
      : {}),
    open: (impl, scale) => echoSession(impl, transport, kind, count, scale, { server: busyPoll, client: busyPoll }),
  };
}

/**
 * A ROUTER echo server (one process) and `clients` DEALERs (another), each client sending 16 bytes
 * and awaiting its echo, all at once: the median round trip over every client, with the CPU time of
 * both processes per message (and the server's event-loop utilisation, which load-shedding
 * middleware reads). `polling` sets our busyPoll per side; unset, the defaults (neither polls).
 */
function routerEcho(name: string, transport: Transport, clients: number, count: number, polling: Polling): Benchmark {
  const said = (us: number | undefined) => (us === undefined ? 'default' : String(us));
  return {
    name,
    description: `ROUTER echo server <-> ${clients} DEALER clients over ${transport}, 16 bytes, two processes, median round trip; ` +
      `ours with busyPoll ${said(polling.server)} on the ROUTER and ${said(polling.client)} on the DEALERs`,
    unit: 'µs/rtt',
    better: 'lower',
    unavailable: (impl) => unavailable(impl, transport, ['Router', 'Dealer']),
    open: (impl, scale) => echoSession(impl, transport, 'router', count, scale, polling, clients),
  };
}

/** The CPU time a child's process has used (µs) and its event loop's busy and idle time (ms). */
async function usage(child: Child): Promise<{ cpu: number; active: number; idle: number }> {
  child.send({ cmd: 'usage' });
  const u = await child.expect('usage');
  return { cpu: u.cpuMicros as number, active: (u.loopActiveMs as number | undefined) ?? 0, idle: (u.loopIdleMs as number | undefined) ?? 0 };
}

/** Two child processes echoing 16 bytes; each round is the connector's median of `count` round trips. */
async function echoSession(impl: Impl, transport: Transport, kind: 'reqrep' | 'pair' | 'router', count: number, scale: number,
  polling: Polling = {}, clients?: number): Promise<Session> {
  const n = scaled(count, scale);
  const { binder: server, connector: client } =
    kind === 'reqrep' ? await pair(impl, transport, 'rep', 'req', 16, polling)
    : kind === 'pair' ? await pair(impl, transport, 'pair-echo', 'pair', 16, polling)
    : await pair(impl, transport, 'router-echo', 'dealers', 16, polling, clients);
  return {
    async round() {
      const c0 = await usage(client);
      const s0 = await usage(server);
      client.send({ cmd: 'rtt', count: n });
      const done = await client.expect('done');
      const c1 = await usage(client);
      const s1 = await usage(server);
      // The untimed first trip of each client counts in the CPU time too.
      const trips = (done.count as number) + (clients ?? 1);
      const busy = s1.active - s0.active;
      return {
        value: done.medianMicros as number,
        extra: {
          meanMicros: done.meanMicros as number,
          cpuMicros: (c1.cpu - c0.cpu + s1.cpu - s0.cpu) / trips,
          cpuClientMicros: (c1.cpu - c0.cpu) / trips,
          cpuServerMicros: (s1.cpu - s0.cpu) / trips,
          serverLoopUtilisation: busy / (busy + s1.idle - s0.idle),
          ...(kind === 'router' ? { rate: done.rate as number } : {}),
        },
      };
    },
    async close() {
      await Promise.all([client.close(), server.close()]);
    },
  };
}

export const networkBenchmarks: Benchmark[] = [
  pushPull('tcp-push-pull-16b', 'tcp', 16, 200_000, { op: '>=', ratio: 3 }),
  pushPull('ipc-push-pull-16b', 'ipc', 16, 200_000, { op: '>=', ratio: 3 }),
  pushPull('tcp-push-pull-64k', 'tcp', 65_536, 5_000, { op: '>=', ratio: 1 }, true),
  roundTrip('tcp-req-rep-rtt', 'tcp', 5_000, { op: '<=', ratio: 0.5 }),
  roundTrip('tcp-req-rep-rtt-nopoll', 'tcp', 5_000, undefined, 'reqrep', 0),
  roundTrip('tcp-pair-rtt', 'tcp', 5_000, undefined, 'pair'),
  routerEcho('tcp-router-echo-8', 'tcp', 8, 8_000, {}),
  routerEcho('tcp-router-echo-8-nopoll', 'tcp', 8, 8_000, { server: 0, client: 0 }),
  routerEcho('tcp-router-echo-8-poll-clients', 'tcp', 8, 8_000, { client: 50 }),
  routerEcho('tcp-router-echo-8-poll', 'tcp', 8, 8_000, { server: 50, client: 50 }),
];
