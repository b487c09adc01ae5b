// Inproc benchmarks: sender and receiver in this process (inproc cannot cross processes), written
// the way a zeromq.js user would write them, once, for either implementation. Their ceiling is a
// bare JS queue with one await per message (lib/ceiling.ts), run in the same rounds.

import type { Benchmark, Session, Target } from './lib/benchmark.js';
import { medianOf, scaled, stretchFactor } from './lib/benchmark.js';
import { inprocBatchCeiling, inprocEchoCeiling, inprocStreamCeiling } from './lib/ceiling.js';
import { make, missingTypes } from './lib/impl.js';
import type { BenchSocket, Impl, SocketTypeName } from './lib/impl.js';
import { awaitSync, batchApi, publish, publishSync, receiveAll, receiveBatched, sendAll, sendBatched, subscribe, topicPayloads } from './lib/workloads.js';

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
function throughput(name: string, description: string, receiverType: SocketTypeName, senderType: SocketTypeName, size: number, count: number,
  target: Target): Benchmark {
  return {
    name,
    description,
    unit: 'msg/s',
    better: 'higher',
    target,
    unavailable: async (impl) => missingTypes(impl, [receiverType, senderType]),
    ceiling: { label: 'JS queue', open: async (scale) => inprocStreamCeiling({ size, receivers: 1, senders: 1, topics: 1 }, scaled(count, scale, 1_000)) },
    async open(impl, scale): Promise<Session> {
      let n = scaled(count, scale, 1_000);
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
          const rate = n / ((performance.now() - t0) / 1000);
          n *= stretchFactor(n, rate, scale);
          return rate;
        },
        close: () => closeAll(sender, receiver),
      };
    },
  };
}

/**
 * The batch row (issue 15 item 3): PUSH -> PULL of 16 bytes, ours through sendMany/receiveMany in
 * batches of 256, zeromq.js (which has no batch API) through send/receive, as in the row above.
 * Skipped if our sockets lack the methods.
 */
function batchThroughput(name: string, count: number, target: Target): Benchmark {
  const batch = 256;
  return {
    ...throughput(name, `PUSH -> PULL, 16-byte messages, one process; ours with sendMany/receiveMany in batches of ${batch}`, 'Pull', 'Push', 16, count, target),
    // The matching ceiling: the bare queue moving the same batches, one await per batch.
    ceiling: { label: `JS queue, batches of ${batch}`, open: async (scale) => inprocBatchCeiling(16, scaled(count, scale, 1_000), batch) },
    async unavailable(impl) {
      if (impl.name === 'ours' && typeof (impl.Push.prototype as { sendMany?: unknown }).sendMany !== 'function') return 'ours has no sendMany yet (issue 15 item 3)';
      return missingTypes(impl, ['Pull', 'Push']);
    },
    async open(impl, scale): Promise<Session> {
      let n = scaled(count, scale, 1_000);
      const payload = Buffer.alloc(16, 0x61);
      const { receiver, sender } = await link(impl, name, 'Pull', 'Push');
      const [r, s] = [batchApi(receiver), batchApi(sender)];
      return {
        async round() {
          const t0 = performance.now();
          const received = r !== undefined ? receiveBatched(r, n, batch) : receiveAll([receiver], n);
          if (s !== undefined) await sendBatched(s, n, payload, batch);
          else await sendAll([sender], n, payload);
          await received;
          const rate = n / ((performance.now() - t0) / 1000);
          n *= stretchFactor(n, rate, scale);
          return rate;
        },
        close: () => closeAll(sender, receiver),
      };
    },
  };
}

/**
 * Many sockets on one side: `peers` DEALERs -> one ROUTER (each DEALER sends its share, all at
 * once), or one PUB -> `peers` SUBs (deliveries: each message counts once per SUB it reaches; with
 * `topics`, SUB i takes topic i % topics and the PUB cycles through them; HWMs unlimited so that
 * nothing is dropped). Figure: messages received in all / seconds from the first send to the last receive.
 */
function many(kind: 'dealer-router' | 'pub-sub', peers: number, topics: number, count: number): Benchmark {
  const fan = kind === 'pub-sub';
  const t = Math.max(1, topics);
  // Per round: what the one sender publishes, or what each DEALER sends; and the deliveries in all.
  const counts = (scale: number) => {
    const total = scaled(count, scale, 2_000);
    const send = fan ? Math.max(t, Math.round(total / peers) * t) : Math.max(1, Math.round(total / peers));
    return { send, deliveries: fan ? (send * peers) / t : send * peers };
  };
  const name = `inproc-${kind}-${peers}${topics > 0 ? '-topics' : ''}`;
  return {
    name,
    description: fan
      ? `PUB -> ${peers} SUBs, 16 bytes, one process; ${topics > 0 ? `each SUB takes one of ${topics} topics, so a message reaches ${peers / topics}` : 'every SUB takes everything'}; deliveries/s, HWM unlimited`
      : `${peers} DEALERs -> ROUTER, 16 bytes, one process`,
    unit: 'msg/s',
    better: 'higher',
    target: { op: '>=', ratio: 3 },
    unavailable: async (impl) => missingTypes(impl, fan ? ['Publisher', 'Subscriber'] : ['Dealer', 'Router']),
    ceiling: {
      label: fan ? `JS queues, ${peers} out` : `JS queue, ${peers} in`,
      open: async (scale) => {
        const c = counts(scale);
        return inprocStreamCeiling(fan ? { size: 16, receivers: peers, senders: 1, topics: t } : { size: 16, receivers: 1, senders: peers, topics: 1 }, c.send);
      },
    },
    async open(impl, scale): Promise<Session> {
      let c = counts(scale);
      const addr = address(name, impl);
      const one = make(impl, fan ? 'Publisher' : 'Router', fan ? { sendHighWaterMark: 0 } : {});
      await one.bind(addr);
      const others = Array.from({ length: peers }, () => {
        const s = make(impl, fan ? 'Subscriber' : 'Dealer', fan ? { receiveHighWaterMark: 0 } : {});
        s.connect(addr);
        return s;
      });
      const payload = Buffer.alloc(16, 0x61);
      const payloads = topicPayloads(16, t);
      if (fan) {
        subscribe(others, topics);
        const sync = publishSync(one, t);
        await awaitSync(others);
        await sync.stop();
      }
      return {
        async round() {
          const t0 = performance.now();
          const received = fan ? receiveAll(others, c.deliveries, true) : receiveAll([one], c.deliveries);
          if (fan) await publish(one, c.send, payloads);
          else await sendAll(others, c.send, payload);
          await received;
          const rate = c.deliveries / ((performance.now() - t0) / 1000);
          const k = stretchFactor(c.deliveries, rate, scale);
          c = { send: c.send * k, deliveries: c.deliveries * k };
          return rate;
        },
        close: () => closeAll(one, ...others),
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
    ...(target === undefined ? { extra: true } : {}),
    unavailable: async (impl) => missingTypes(impl, [serverType, clientType]),
    ceiling: { label: 'JS queue echo', open: async (scale) => inprocEchoCeiling(scaled(count, scale, 1_000)) },
    async open(impl, scale): Promise<Session> {
      const n = scaled(count, scale, 1_000);
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
  throughput('inproc-push-pull-16b', 'PUSH -> PULL, 16-byte messages, one process', 'Pull', 'Push', 16, 200_000, { op: '>=', ratio: 10 }),
  throughput('inproc-push-pull-1k', 'PUSH -> PULL, 1024-byte messages, one process', 'Pull', 'Push', 1024, 200_000, { op: '>=', ratio: 3 }),
  throughput('inproc-dealer-router', 'DEALER -> ROUTER, 16-byte messages (ROUTER receives [id, body])', 'Router', 'Dealer', 16, 200_000, { op: '>=', ratio: 3 }),
  many('dealer-router', 10, 0, 200_000),
  many('dealer-router', 1_000, 0, 200_000),
  many('pub-sub', 10, 0, 200_000),
  many('pub-sub', 10, 10, 200_000),
  many('pub-sub', 100, 0, 200_000),
  many('pub-sub', 100, 10, 200_000),
  roundTrip('inproc-req-rep-rtt', 'REQ <-> REP echo of 16 bytes, median round trip', 'Reply', 'Request', 20_000, { op: '<=', ratio: 0.3 }),
  roundTrip('inproc-pair-rtt', 'PAIR <-> PAIR echo of 16 bytes, median round trip', 'Pair', 'Pair', 20_000),
  // Issue 15 item 3: at least 30x zeromq.js's 16 B PUSH->PULL (and 10 M msg/s here).
  batchThroughput('inproc-push-pull-16b-batch', 200_000, { op: '>=', ratio: 30 }),
];
