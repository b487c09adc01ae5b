// Inproc benchmarks: sender and receiver in this process (inproc cannot cross processes), written
// the way a zeromq.js user would write them, once, for either implementation.

import type { Benchmark, Session } from './lib/benchmark.js';
import { medianOf, scaled } from './lib/benchmark.js';
import { make, missingTypes } from './lib/impl.js';
import type { BenchSocket, Impl, SocketTypeName } from './lib/impl.js';

let seq = 0;
function address(name: string, impl: Impl): string {
  return `inproc://bench-${name}-${impl.name}-${seq++}`;
}

/** Binds `receiverType`, connects `senderType`, and sends one message through so the link is up. */
async function link(impl: Impl, name: string, receiverType: SocketTypeName, senderType: SocketTypeName) {
  const addr = address(name, impl);
  const receiver = make(impl, receiverType);
  await receiver.bind(addr);
  const sender = make(impl, senderType);
  sender.connect(addr);
  return { receiver, sender };
}

function closeAll(...sockets: BenchSocket[]): Promise<void> {
  for (const s of sockets) s.close();
  return Promise.resolve();
}

/**
 * One-way throughput: the sender loops `await send(payload)`, the receiver loops `await receive()`
 * concurrently; the round's figure is messages / seconds from the first send to the last receive.
 */
function throughput(name: string, description: string, receiverType: SocketTypeName, senderType: SocketTypeName, size: number, count: number): Benchmark {
  return {
    name,
    description,
    unit: 'msg/s',
    better: 'higher',
    target: { op: '>=', ratio: 3 },
    unavailable: async (impl) => missingTypes(impl, [receiverType, senderType]),
    async open(impl, scale): Promise<Session> {
      const n = scaled(count, scale);
      const payload = Buffer.alloc(size, 0x61);
      const { receiver, sender } = await link(impl, name, receiverType, senderType);
      await sender.send(payload);
      await receiver.receive();
      return {
        async round() {
          const t0 = performance.now();
          const received = (async () => {
            for (let i = 0; i < n; i++) await receiver.receive();
          })();
          for (let i = 0; i < n; i++) await sender.send(payload);
          await received;
          return n / ((performance.now() - t0) / 1000);
        },
        close: () => closeAll(sender, receiver),
      };
    },
  };
}

/**
 * Round-trip latency: the client sends and waits for the echo, `count` times; the round's figure
 * is the median round trip in µs (a GC pause or a yield to the event loop moves the mean, not it).
 */
function roundTrip(name: string, description: string, serverType: SocketTypeName, clientType: SocketTypeName, count: number, target?: Benchmark['target']): Benchmark {
  const bench: Benchmark = {
    name,
    description,
    unit: 'µs/rtt',
    better: 'lower',
    unavailable: async (impl) => missingTypes(impl, [serverType, clientType]),
    async open(impl, scale): Promise<Session> {
      const n = scaled(count, scale);
      const payload = Buffer.alloc(16, 0x61);
      const samples = new Float64Array(n);
      const { receiver: server, sender: client } = await link(impl, name, serverType, clientType);
      const echo = async (times: number) => {
        for (let i = 0; i < times; i++) await server.send(await server.receive());
      };
      const warm = echo(1);
      await client.send(payload);
      await client.receive();
      await warm;
      return {
        async round() {
          const served = echo(n);
          const t0 = performance.now();
          for (let i = 0; i < n; i++) {
            const t = performance.now();
            await client.send(payload);
            await client.receive();
            samples[i] = performance.now() - t;
          }
          const meanMicros = ((performance.now() - t0) / n) * 1000;
          await served;
          return { value: medianOf(samples, n) * 1000, extra: { meanMicros } };
        },
        close: () => closeAll(client, server),
      };
    },
  };
  if (target !== undefined) bench.target = target;
  return bench;
}

export const inprocBenchmarks: Benchmark[] = [
  throughput('inproc-push-pull-16b', 'PUSH -> PULL, 16-byte messages, one process', 'Pull', 'Push', 16, 200_000),
  roundTrip('inproc-pair-rtt', 'PAIR <-> PAIR echo of 16 bytes, median round trip', 'Pair', 'Pair', 20_000),
  roundTrip('inproc-req-rep-rtt', 'REQ <-> REP echo of 16 bytes, median round trip', 'Reply', 'Request', 20_000, { op: '<=', ratio: 0.3 }),
  throughput('inproc-dealer-router', 'DEALER -> ROUTER, 16-byte messages (ROUTER receives [id, body])', 'Router', 'Dealer', 16, 200_000),
];
