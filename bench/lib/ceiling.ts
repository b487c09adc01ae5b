// The platform ceilings the benchmarks print beside the two implementations, with no ZeroMQ in
// them: a bare JavaScript queue with one await per message (inproc), and a bare node:net stream of
// pre-framed bytes (tcp, ipc). Round-trip floors use node-net.ts's framed echo instead.

import net from 'node:net';
import type { Session } from './benchmark.js';

const DONE: Promise<void> = Promise.resolve();

/**
 * The least an in-process async queue can cost: `send` stores a reference and returns one shared
 * resolved promise, `receive` hands out a stored item or a promise its next `send` resolves.
 * Unbounded, no copy, no notification beyond the one promise per message.
 *
 *   items: [ . . a b c . . . ]   head -> a, count 3; the ring doubles when full
 */
export class BareQueue<T> {
  #ring: (T | undefined)[] = new Array(1024);
  #head = 0;
  #count = 0;
  #waiter: ((item: T) => void) | undefined;

  send(item: T): Promise<void> {
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      w(item);
      return DONE;
    }
    if (this.#count === this.#ring.length) this.#grow();
    this.#ring[(this.#head + this.#count) & (this.#ring.length - 1)] = item;
    this.#count++;
    return DONE;
  }

  receive(): Promise<T> {
    if (this.#count === 0) return new Promise((resolve) => (this.#waiter = resolve));
    const item = this.#ring[this.#head] as T;
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#ring.length - 1);
    this.#count--;
    return Promise.resolve(item);
  }

  #grow(): void {
    const old = this.#ring;
    const ring: (T | undefined)[] = new Array(old.length * 2);
    for (let i = 0; i < this.#count; i++) ring[i] = old[(this.#head + i) & (old.length - 1)];
    this.#ring = ring;
    this.#head = 0;
  }
}

/** What an inproc ceiling moves: `peers` senders into one queue (fan-in), or one sender to `peers` queues. */
export interface InprocShape {
  size: number;
  /** Receiving queues, each with its own receive loop (fan-out); 1 for a plain stream. */
  receivers: number;
  /** Sending loops into the one queue (fan-in); 1 for a plain stream. */
  senders: number;
  /** Fan-out with topics: message j goes only to the receivers `i` with `i % topics === j % topics`. */
  topics: number;
}

/**
 * Rounds of `count` messages (per sender) through bare queues, as msg/s of deliveries from the
 * first send to the last receive: the inproc ceiling for PUSH/PULL, DEALER/ROUTER and PUB/SUB.
 */
export function inprocStreamCeiling(shape: InprocShape, count: number): Session {
  const payload = Buffer.alloc(shape.size, 0x61);
  const queues = Array.from({ length: shape.receivers }, () => new BareQueue<Buffer>());
  const byTopic: BareQueue<Buffer>[][] = Array.from({ length: shape.topics }, (_, t) => queues.filter((_, i) => i % shape.topics === t));
  return {
    async round() {
      const deliveries = shape.receivers > 1 ? (count * shape.receivers) / shape.topics : count * shape.senders;
      const quota = deliveries / shape.receivers;
      const t0 = performance.now();
      const received = Promise.all(queues.map(async (q) => {
        for (let i = 0; i < quota; i++) await q.receive();
      }));
      if (shape.receivers > 1) {
        for (let j = 0; j < count; j++) {
          const targets = byTopic[j % shape.topics] as BareQueue<Buffer>[];
          for (let k = 0; k < targets.length - 1; k++) void (targets[k] as BareQueue<Buffer>).send(payload);
          await (targets[targets.length - 1] as BareQueue<Buffer>).send(payload);
        }
      } else {
        const q = queues[0] as BareQueue<Buffer>;
        await Promise.all(Array.from({ length: shape.senders }, async () => {
          for (let i = 0; i < count; i++) await q.send(payload);
        }));
      }
      await received;
      return deliveries / ((performance.now() - t0) / 1000);
    },
    close: () => DONE,
  };
}

/**
 * The batch row's ceiling: the same bare queue carrying arrays of `batch` messages, one await per
 * array on each side, as `sendMany`/`receiveMany` move them (no copy, no per-message promise).
 */
export function inprocBatchCeiling(size: number, count: number, batch: number): Session {
  const payload = Buffer.alloc(size, 0x61);
  const q = new BareQueue<Buffer[]>();
  return {
    async round() {
      const t0 = performance.now();
      const received = (async () => {
        for (let got = 0; got < count; ) got += (await q.receive()).length;
      })();
      for (let sent = 0; sent < count; ) {
        const n = Math.min(batch, count - sent);
        const msgs: Buffer[] = new Array(n);
        for (let i = 0; i < n; i++) msgs[i] = payload;
        await q.send(msgs);
        sent += n;
      }
      await received;
      return count / ((performance.now() - t0) / 1000);
    },
    close: () => DONE,
  };
}

/** Round trips of 16 bytes through two bare queues (a request queue and a reply queue): the inproc floor. */
export function inprocEchoCeiling(count: number): Session {
  const payload = Buffer.alloc(16, 0x61);
  const requests = new BareQueue<Buffer>();
  const replies = new BareQueue<Buffer>();
  const samples = new Float64Array(count);
  return {
    async round() {
      const served = (async () => {
        for (let i = 0; i < count; i++) await replies.send(await requests.receive());
      })();
      for (let i = 0; i < count; i++) {
        const t = performance.now();
        await requests.send(payload);
        await replies.receive();
        samples[i] = performance.now() - t;
      }
      await served;
      samples.sort();
      return (samples[count >> 1] as number) * 1000;
    },
    close: () => DONE,
  };
}

/**
 * One ZMTP data frame (RFC 37: flags, a 1-byte or 8-byte size, the body), repeated to fill a chunk
 * of about 64 KiB (at least one frame): what a sender writes when all framing is done in advance.
 */
function preFramedChunk(size: number): { chunk: Buffer; frames: number } {
  const long = size > 255;
  const frame = Buffer.alloc((long ? 9 : 2) + size, 0x61);
  frame[0] = long ? 0x02 : 0x00;
  if (long) frame.writeBigUInt64BE(BigInt(size), 1);
  else frame[1] = size;
  const frames = Math.max(1, Math.floor(65_536 / frame.length));
  return { chunk: frames === 1 ? frame : Buffer.concat(Array.from({ length: frames }, () => frame)), frames };
}

/** Counts ZMTP data frames in a byte stream cut anywhere, without allocating per frame. */
class FrameCounter {
  frames = 0;
  #body = 0;
  #header = Buffer.alloc(9);
  #headerHave = 0;
  #headerNeed = 0;

  feed(chunk: Buffer): void {
    const n = chunk.length;
    let p = 0;
    while (p < n) {
      if (this.#body > 0) {
        const take = Math.min(this.#body, n - p);
        this.#body -= take;
        p += take;
        if (this.#body === 0) this.frames++;
        continue;
      }
      if (this.#headerHave === 0) {
        const long = ((chunk[p] as number) & 0x02) !== 0;
        // Fast path: a short header whole in this chunk.
        if (!long && p + 2 <= n) {
          const size = chunk[p + 1] as number;
          p += 2;
          if (size === 0) this.frames++;
          else this.#body = size;
          continue;
        }
        this.#headerNeed = long ? 9 : 2;
      }
      const take = Math.min(this.#headerNeed - this.#headerHave, n - p);
      chunk.copy(this.#header, this.#headerHave, p, p + take);
      this.#headerHave += take;
      p += take;
      if (this.#headerHave === this.#headerNeed) {
        const size = this.#headerNeed === 2 ? (this.#header[1] as number) : Number(this.#header.readBigUInt64BE(1));
        this.#headerHave = 0;
        if (size === 0) this.frames++;
        else this.#body = size;
      }
    }
  }
}

/** `tcp://host:port` (port `*` for any) or `ipc://path`, as node:net listen/connect options. */
function netAddress(address: string): { host: string; port: number } | { path: string } {
  if (address.startsWith('ipc://')) return { path: address.slice('ipc://'.length) };
  const m = /^tcp:\/\/([^:]+):(\*|\d+)$/.exec(address);
  if (m === null) throw new Error(`node:net ceiling: only tcp://host:port and ipc://path are supported, not ${address}`);
  return { host: m[1] as string, port: m[2] === '*' ? 0 : Number(m[2]) };
}

/** Listens on `address` and reports the endpoint it got (the real port for `*`). */
export async function listen(server: net.Server, address: string): Promise<string> {
  const at = netAddress(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if ('path' in at) server.listen(at.path, () => resolve());
    else server.listen(at.port, at.host, () => resolve());
  });
  if ('path' in at) return address;
  return `tcp://${at.host}:${(server.address() as net.AddressInfo).port}`;
}

export function dial(address: string): net.Socket {
  const at = netAddress(address);
  return 'path' in at ? net.connect(at.path) : net.connect(at.port, at.host);
}

/**
 * The stream ceiling's two ends over bare node:net, in a benchmark child (child.ts, impl `node`):
 * a `source` writes pre-framed chunks on each of its connections, respecting backpressure; a
 * `sink` counts the frames arriving on all of its connections. Either end binds or connects
 * (`peers` connections when it connects; a binding source waits for `peers` to arrive).
 */
export class NetStreamEnd {
  readonly connections: net.Socket[] = [];
  lastEndpoint: string | null = null;
  #server: net.Server | undefined;
  #arrived: (() => void) | undefined;
  /** Frames arrived on all connections since the last expect(). */
  #frames = 0;
  #expect: { total: number; first: number; firstFrames: number; done: (r: { rate: number; bytesPerSecond: number; seconds: number }) => void } | undefined;
  #size: number;

  constructor(size: number) {
    this.#size = size;
  }

  async bind(address: string): Promise<void> {
    this.#server = net.createServer((s) => this.#attach(s));
    this.lastEndpoint = await listen(this.#server, address);
  }

  /** Opens `peers` connections, 50 at a time (more at once overflow the listen backlog). */
  async connect(address: string, peers: number): Promise<void> {
    for (let left = peers; left > 0; left -= 50) {
      await Promise.all(Array.from({ length: Math.min(50, left) }, () => new Promise<void>((resolve, reject) => {
        const s = dial(address);
        s.once('connect', () => resolve());
        s.once('error', reject);
        this.#attach(s);
      })));
    }
  }

  /** Resolves once `total` frames have arrived in all, with the rate after the first chunk. */
  expect(total: number): Promise<{ rate: number; bytesPerSecond: number; seconds: number }> {
    this.#frames = 0;
    return new Promise((done) => (this.#expect = { total, first: 0, firstFrames: -1, done }));
  }

  /** Writes `count` pre-framed messages on each connection (waiting for `peers` when it bound). */
  async send(count: number, peers: number): Promise<void> {
    while (this.connections.length < peers) await new Promise<void>((resolve) => (this.#arrived = resolve));
    const { chunk, frames } = preFramedChunk(this.#size);
    const frameBytes = chunk.length / frames;
    await Promise.all(this.connections.map(async (s) => {
      for (let left = count; left > 0; left -= frames) {
        const piece = left >= frames ? chunk : chunk.subarray(0, left * frameBytes);
        if (!s.write(piece)) await new Promise((resolve) => s.once('drain', resolve));
      }
    }));
  }

  close(): void {
    for (const s of this.connections) s.destroy();
    this.#server?.close();
  }

  #attach(s: net.Socket): void {
    s.setNoDelay(true);
    s.on('error', () => {});
    this.connections.push(s);
    const arrived = this.#arrived;
    this.#arrived = undefined;
    arrived?.();
    // Frames split across chunks per connection, so each has its own counter.
    const counter = new FrameCounter();
    s.on('data', (chunk: Buffer) => {
      const before = counter.frames;
      counter.feed(chunk);
      this.#frames += counter.frames - before;
      const e = this.#expect;
      if (e === undefined) return;
      // Timed from the first chunk, counting the frames after it (as the sockets' receivers count
      // from their first message).
      if (e.firstFrames < 0) {
        e.first = performance.now();
        e.firstFrames = this.#frames;
      }
      if (this.#frames >= e.total) {
        this.#expect = undefined;
        const seconds = (performance.now() - e.first) / 1000;
        const after = e.total - e.firstFrames;
        e.done({ rate: after / seconds, bytesPerSecond: (after * this.#size) / seconds, seconds });
      }
    });
  }
}
