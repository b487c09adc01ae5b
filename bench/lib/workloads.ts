// The loops a benchmark runs on sockets of either implementation, written once as a zeromq.js user
// would write them: used in this process by inproc.ts and in the child processes by child.ts.

import { medianOf } from './benchmark.js';
import type { BenchSocket } from './impl.js';

/** Publisher payloads start with a 3-byte topic (`t00` .. `t99`), then a marker: data or sync. */
const DATA = 0x44; // 'D'
const SYNC = 0x53; // 'S'

function topicName(i: number): string {
  return `t${String(i % 100).padStart(2, '0')}`;
}

/** One payload per topic (`topics` 1: every message on `t00`), `size` bytes each, at least 4. */
export function topicPayloads(size: number, topics: number, sync = false): Buffer[] {
  return Array.from({ length: topics }, (_, t) => {
    const b = Buffer.alloc(Math.max(4, size), 0x61);
    b.write(topicName(t), 0, 'latin1');
    b[3] = sync ? SYNC : DATA;
    return b;
  });
}

interface Subscribable {
  subscribe(...topics: string[]): void;
}

/**
 * Subscriber `i` takes topic `i % topics` when `topics` > 0 (the publisher cycles through them, so
 * each message reaches one subscriber in `topics`), or everything when `topics` is 0.
 */
export function subscribe(subs: BenchSocket[], topics: number): void {
  subs.forEach((s, i) => (s as BenchSocket & Subscribable).subscribe(topics > 0 ? topicName(i % topics) : ''));
}

/** Publishes `count` messages cycling through `payloads` (one per topic). */
export async function publish(pub: BenchSocket, count: number, payloads: Buffer[]): Promise<void> {
  for (let j = 0; j < count; j++) await pub.send(payloads[j % payloads.length] as Buffer);
}

/**
 * Publishes sync messages on every topic each millisecond until `stop()`: a subscriber's filter
 * reaches the publisher some time after `subscribe()` (ZeroMQ's "slow joiner"), and nothing says when.
 */
export function publishSync(pub: BenchSocket, topics: number): { stop(): Promise<void> } {
  const payloads = topicPayloads(4, Math.max(1, topics), true);
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const p of payloads) await pub.send(p);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  })();
  return {
    stop() {
      running = false;
      return loop;
    },
  };
}

/** Resolves once every subscriber has received a sync message (the publisher knows all filters). */
export async function awaitSync(subs: BenchSocket[]): Promise<void> {
  await Promise.all(subs.map(async (s) => {
    for (;;) {
      const [f] = await s.receive();
      if (f !== undefined && f[3] === SYNC) return;
    }
  }));
}

export interface Received {
  count: number;
  seconds: number;
  /** Messages after the first (on any socket) per second from then to the last. */
  rate: number;
  bytesPerSecond: number;
}

/**
 * Receives `total` messages spread evenly over `sockets` (each runs its own loop for its share),
 * timed from the first message on any of them to the last. `skipSync` leaves publishers' sync
 * messages uncounted, for subscribers. Bytes are counted by `length` (the same as `byteLength` for
 * the Buffers both implementations return, and about 14 ns a frame cheaper on Node 20: the
 * harness's own cost weighs on whichever implementation moves messages faster).
 */
export async function receiveAll(sockets: BenchSocket[], total: number, skipSync = false): Promise<Received> {
  const quota = Math.round(total / sockets.length);
  let first = -1;
  let bytes = 0;
  await Promise.all(sockets.map(async (s) => {
    for (let i = 0; i < quota;) {
      const msg = await s.receive();
      if (skipSync && (msg[0] as Buffer)[3] === SYNC) continue;
      if (first < 0) first = performance.now();
      else for (const f of msg) bytes += f.length;
      i++;
    }
  }));
  const seconds = (performance.now() - first) / 1000;
  const count = quota * sockets.length;
  return { count, seconds, rate: (count - 1) / seconds, bytesPerSecond: bytes / seconds };
}

/** Each socket sends `count` messages, all sockets at once. */
export async function sendAll(sockets: BenchSocket[], count: number, payload: Uint8Array): Promise<void> {
  if (sockets.length === 1) {
    const s = sockets[0] as BenchSocket;
    for (let i = 0; i < count; i++) await s.send(payload);
    return;
  }
  await Promise.all(sockets.map(async (s) => {
    for (let i = 0; i < count; i++) await s.send(payload);
  }));
}

export interface RoundTrips {
  count: number;
  medianMicros: number;
  meanMicros: number;
  rate: number;
}

/**
 * Each socket makes `count / sockets` round trips at the same time (send, await the echo,
 * repeat), after one untimed trip each so every connection is up: the median of all of them.
 */
export async function roundTrips(sockets: BenchSocket[], count: number, payload: Uint8Array): Promise<RoundTrips> {
  await Promise.all(sockets.map(async (s) => {
    await s.send(payload);
    await s.receive();
  }));
  const each = Math.max(1, Math.round(count / sockets.length));
  const samples = new Float64Array(each * sockets.length);
  const t0 = performance.now();
  await Promise.all(sockets.map(async (s, k) => {
    for (let i = k * each, end = i + each; i < end; i++) {
      const t = performance.now();
      await s.send(payload);
      await s.receive();
      samples[i] = performance.now() - t;
    }
  }));
  const total = performance.now() - t0;
  return {
    count: samples.length,
    medianMicros: medianOf(samples) * 1000,
    meanMicros: (total / samples.length) * 1000 * sockets.length,
    rate: samples.length / (total / 1000),
  };
}

/**
 * The batch API of issue 15 item 3 (ours only; zeromq.js has none): `sendMany` takes messages and
 * resolves when all are queued, `receiveMany` resolves with the messages that are ready, at least
 * one and at most `max`.
 */
export interface BatchSocket {
  sendMany(messages: Uint8Array[]): Promise<void>;
  receiveMany(options?: { max?: number }): Promise<Buffer[][]>;
}

export function batchApi(s: BenchSocket): BatchSocket | undefined {
  const b = s as Partial<BatchSocket>;
  return typeof b.sendMany === 'function' && typeof b.receiveMany === 'function' ? (s as unknown as BatchSocket) : undefined;
}

/** `count` messages in batches of `batch` through `sendMany`. */
export async function sendBatched(s: BatchSocket, count: number, payload: Uint8Array, batch: number): Promise<void> {
  const full = new Array<Uint8Array>(batch).fill(payload);
  for (let left = count; left > 0; left -= batch) await s.sendMany(left >= batch ? full : full.slice(0, left));
}

/** Receives `total` messages through `receiveMany(batch)`, timed as receiveAll times them. */
export async function receiveBatched(s: BatchSocket, total: number, batch: number): Promise<Received> {
  let first = -1;
  let after = 0;
  let bytes = 0;
  for (let got = 0; got < total;) {
    const msgs = await s.receiveMany({ max: Math.min(batch, total - got) });
    if (first < 0) {
      // As receiveAll: timed from the first arrival, counting what came after it.
      first = performance.now();
      after = -msgs.length;
    } else {
      for (const m of msgs) for (const f of m) bytes += f.length;
    }
    got += msgs.length;
  }
  const seconds = (performance.now() - first) / 1000;
  return { count: total, seconds, rate: (total + after) / seconds, bytesPerSecond: bytes / seconds };
}
