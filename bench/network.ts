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

/** Starts the binder, then the connector at the endpoint the binder reports. */
async function pair(impl: Impl, transport: Transport, binder: 'pull' | 'rep' | 'pair-echo', connector: 'push' | 'req' | 'pair', size: number, busyPoll?: number) {
  const poll = busyPoll !== undefined && impl.name === 'ours' ? { busyPoll } : {};
  const b = await Child.start({ impl: impl.name, role: binder, bind: bindAddress(transport), ...poll });
  const endpoint = b.ready.endpoint;
  if (typeof endpoint !== 'string') {
    await b.child.close();
    throw new Error(`${impl.name} ${binder} child reported no endpoint`);
  }
  try {
    const c = await Child.start({ impl: impl.name, role: connector, connect: endpoint, size, ...poll });
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
    },
  };
}

/**
 * REQ (one process) <-> REP (another), or PAIR <-> PAIR (the same echo without REQ/REP's lockstep):
 * median round trip in µs, measured by the connecting side. Each round also reports the CPU time
 * both processes used per round trip (`cpuMicros`), since busy polling trades CPU for latency.
 * `busyPoll` sets our option on both sides (zeromq.js has no such option and runs as it is).
 */
function roundTrip(name: string, transport: Transport, count: number, target: Target | undefined, kind: 'reqrep' | 'pair' = 'reqrep', busyPoll?: number): Benchmark {
  const types: SocketTypeName[] = kind === 'reqrep' ? ['Request', 'Reply'] : ['Pair'];
  return {
    name,
    description: `${kind === 'reqrep' ? 'REQ <-> REP' : 'PAIR <-> PAIR'} over ${transport}, 16-byte echo, two processes, median round trip` +
      (busyPoll === undefined ? '' : `; ours with busyPoll ${busyPoll}`),
    unit: 'µs/rtt',
    better: 'lower',
    ...(target === undefined ? {} : { target }),
    unavailable: (impl) => unavailable(impl, transport, types),
    ...(transport === 'tcp' && busyPoll === undefined
      ? { floor: { label: 'node:net echo', open: async (scale: number) => echoSession(await loadImpl('node'), transport, 'pair', count, scale) } }
      : {}),
    open: (impl, scale) => echoSession(impl, transport, kind, count, scale, busyPoll),
  };
}

/** Two child processes echoing 16 bytes; each round is the connector's median of `count` round trips. */
async function echoSession(impl: Impl, transport: Transport, kind: 'reqrep' | 'pair', count: number, scale: number, busyPoll?: number): Promise<Session> {
  const n = scaled(count, scale);
  const { binder: server, connector: client } =
    kind === 'reqrep' ? await pair(impl, transport, 'rep', 'req', 16, busyPoll) : await pair(impl, transport, 'pair-echo', 'pair', 16, busyPoll);
  const cpu = async () => {
    client.send({ cmd: 'usage' });
    const c = (await client.expect('usage')).cpuMicros as number;
    server.send({ cmd: 'usage' });
    return c + ((await server.expect('usage')).cpuMicros as number);
  };
  return {
    async round() {
      const before = await cpu();
      client.send({ cmd: 'rtt', count: n });
      const done = await client.expect('done');
      const used = (await cpu()) - before;
      return { value: done.medianMicros as number, extra: { meanMicros: done.meanMicros as number, cpuMicros: used / (n + 1) } };
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
];
