// Shared by the tcp/ipc/bad-input tests: socket tracking, waiting for monitor events, endpoints that
// refuse until bound, a count of reconnect intervals to show that something did not happen, and raw
// node:net peers that speak (or break) ZMTP by hand.

import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket as NetSocket } from 'node:net';
import { afterEach } from 'vitest';
import type { InspectionEvent } from 'xstate';
import '../../src/transport/register-node.js';
import { encodeGreeting, readyCommand } from '../../src/protocol/index.js';
import { Context } from '../../src/socket/context.js';
import type { EventType, SocketEvent } from '../../src/socket/events.js';
import { Push } from '../../src/socket/push-pull.js';
import type { Socket } from '../../src/socket/socket.js';

const open: Socket[] = [];
const servers: Server[] = [];
const streams: NetSocket[] = [];

/** Closes the socket after the test. */
export function track<T extends Socket>(s: T): T {
  open.push(s);
  return s;
}

afterEach(() => {
  for (const s of open.splice(0)) if (!s.closed) s.close();
  for (const s of streams.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
});

export const text = (m: Buffer[]): string[] => m.map((f) => f.toString());

/** The next event of `type` (matching `pred`) on the socket; listening starts now. */
export function nextEvent(socket: Socket, type: EventType, pred: (e: SocketEvent) => boolean = () => true): Promise<SocketEvent> {
  return new Promise((resolve) => {
    const on = (e: SocketEvent) => {
      if (!pred(e)) return;
      socket.events.off(type, on);
      resolve(e);
    };
    socket.events.on(type, on);
  });
}

/** Counts the socket's events of `type` from now on; `reached(n)` resolves once there were `n`. */
export function countEvents(socket: Socket, type: EventType): { readonly n: number; reached(n: number): Promise<void> } {
  let n = 0;
  const waiting: { n: number; resolve: () => void }[] = [];
  socket.events.on(type, () => {
    n++;
    for (let i = waiting.length - 1; i >= 0; i--) {
      const w = waiting[i]!;
      if (n >= w.n) {
        waiting.splice(i, 1);
        w.resolve();
      }
    }
  });
  return {
    get n() {
      return n;
    },
    reached: (k) => (n >= k ? Promise.resolve() : new Promise((resolve) => waiting.push({ n: k, resolve }))),
  };
}

/** Records every event type the socket emits from now on. */
export function recordEvents(socket: Socket): SocketEvent[] {
  const seen: SocketEvent[] = [];
  socket.events.on('*', (e) => seen.push(e));
  return seen;
}

/**
 * Resolves to 'done' or 'waiting' after a few turns of the loop. 'waiting' proves only that `p`
 * needs more than those turns: use it where the alternative settles without waiting for the
 * network (a send queued at once), never as "nothing happened".
 */
export async function settled(p: Promise<unknown>): Promise<'done' | 'waiting'> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done ? 'done' : 'waiting';
}

export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One turn of the event loop (a setImmediate queued now runs after those queued before). */
export const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * A tcp endpoint that refuses connections until the test binds it, and that nobody else can take
 * meanwhile: 127.0.0.2 (Linux routes all of 127/8 to loopback) on a port this process keeps
 * listening on 127.0.0.1 until the test ends. Nothing listens on 127.0.0.2 at that port, so a connect
 * is refused; the listener on 127.0.0.1 keeps the port out of the kernel's ephemeral choices and off
 * limits to a wildcard bind. (A port found by listening on 0 and closing is free for anyone, another
 * process's outgoing connection included, until the test binds it again: that races.)
 */
export async function refusingEndpoint(): Promise<string> {
  const holder = createServer();
  servers.push(holder);
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  return `tcp://127.0.0.2:${(holder.address() as AddressInfo).port}`;
}

/**
 * Resolves after `n` reconnect intervals of `reconnectInterval` ms, counted by events: a sentinel
 * PUSH of ours dials a refusing endpoint and reports each refused attempt with connect:retry. Each
 * of its attempts is a timer (`reconnectInterval` to twice that) set only once the attempt before
 * was refused, so the n-th connect:retry comes at least n - 1 whole intervals after the call, each
 * in turns of the loop of its own. This is how a test shows that something driven by a timer of this
 * process did *not* happen: whatever a timer due sooner than that would have done, and the I/O it
 * would have started on loopback, has been handled by the time this resolves.
 */
export async function reconnectIntervals(n: number, reconnectInterval: number): Promise<void> {
  const sentinel = new Push({ context: new Context(), reconnectInterval, linger: 0 });
  const retries = countEvents(sentinel, 'connect:retry');
  sentinel.connect(await refusingEndpoint());
  try {
    await retries.reached(n);
  } finally {
    sentinel.close();
  }
}

/** Our greeting and a READY, as a well-behaved peer of `socketType` sends them. */
export function handshakeBytes(socketType: string): Buffer {
  return Buffer.concat([encodeGreeting('NULL', false), readyCommand(socketType)]);
}

/** A raw greeting with chosen fields (a bad peer). */
export function greeting(opts: { first?: number; major?: number; minor?: number; mechanism?: string } = {}): Buffer {
  const g = Buffer.from(encodeGreeting('NULL', false));
  if (opts.first !== undefined) g[0] = opts.first;
  if (opts.major !== undefined) g[10] = opts.major;
  if (opts.minor !== undefined) g[11] = opts.minor;
  if (opts.mechanism !== undefined) {
    g.fill(0, 12, 32);
    g.write(opts.mechanism, 12, 'latin1');
  }
  return g;
}

/** A raw server on 127.0.0.1 that records what it receives and lets the test script the replies. */
export interface RawServer {
  endpoint: string;
  connections: NetSocket[];
  /** Received bytes per connection. */
  received: Buffer[][];
  nextConnection(): Promise<NetSocket>;
}

export async function rawServer(onConnection?: (s: NetSocket) => void): Promise<RawServer> {
  const connections: NetSocket[] = [];
  const received: Buffer[][] = [];
  const waiting: ((s: NetSocket) => void)[] = [];
  const server = createServer((s) => {
    streams.push(s);
    s.on('error', () => {});
    const mine: Buffer[] = [];
    received.push(mine);
    s.on('data', (c: Buffer) => mine.push(c));
    connections.push(s);
    onConnection?.(s);
    waiting.shift()?.(s);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `tcp://127.0.0.1:${port}`,
    connections,
    received,
    nextConnection: () => new Promise((r) => waiting.push(r)),
  };
}

/**
 * A Context whose inspector blocks the event loop for `ms`, once, at the first inspection event
 * `when` picks: a process busy with other work at that moment. `blocked` resolves after the block.
 */
export function blockingContext(when: (e: InspectionEvent) => boolean, ms: number): { context: Context; blocked: Promise<void> } {
  let done: () => void = () => {};
  const blocked = new Promise<void>((resolve) => (done = resolve));
  let once = false;
  const context = new Context({
    inspect: (e) => {
      if (once || !when(e)) return;
      once = true;
      const until = performance.now() + ms;
      while (performance.now() < until) {
        // busy: no timer, no input, until `ms` have passed
      }
      done();
    },
  });
  return { context, blocked };
}

/** Registers a raw client stream for cleanup, reading it (a paused stream never sees the peer's close). */
export function own(s: NetSocket): NetSocket {
  streams.push(s);
  s.on('error', () => {});
  s.resume();
  return s;
}

/** Resolves once the stream has been closed (by either side). */
export function closedStream(s: NetSocket): Promise<void> {
  return new Promise((r) => (s.destroyed && s.closed ? r() : s.once('close', () => r())));
}

/** Resolves once `n` bytes have arrived on a stream. */
export function bytesArrived(s: NetSocket, n: number): Promise<Buffer> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const on = (c: Buffer) => {
      got = Buffer.concat([got, c]);
      if (got.length >= n) {
        s.off('data', on);
        resolve(got);
      }
    };
    s.on('data', on);
  });
}
