// For the interop matrix: one constructor table for our sockets and libzmq's, socket tracking and
// cleanup, payloads, frame comparison that prints sizes and digests instead of 1 MiB of bytes, and
// the bounded waits (subscription in effect, routing id learnt).

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect } from 'vitest';
import * as zmq from 'zeromq';
import * as ours from '../../src/index.js';

export type SocketType = 'REQ' | 'REP' | 'DEALER' | 'ROUTER' | 'PUB' | 'SUB' | 'XPUB' | 'XSUB' | 'PUSH' | 'PULL' | 'PAIR';
export type Transport = 'tcp' | 'ipc';
export type Impl = 'ours' | 'libzmq';

/** What both implementations share (zeromq.js v6 shape), as far as the matrix uses it. */
export interface Sock {
  bind(address: string): Promise<void>;
  connect(address: string): void;
  readonly lastEndpoint: string | null;
  send(message: Buffer | Buffer[]): Promise<void>;
  receive(): Promise<Buffer[]>;
  subscribe?(...prefixes: string[]): void;
  unsubscribe?(...prefixes: string[]): void;
  close(): void;
}

type Ctor = new (options: Record<string, unknown>) => Sock;

const OURS: Record<SocketType, Ctor> = {
  REQ: ours.Request,
  REP: ours.Reply,
  DEALER: ours.Dealer,
  ROUTER: ours.Router,
  PUB: ours.Publisher,
  SUB: ours.Subscriber,
  XPUB: ours.XPublisher,
  XSUB: ours.XSubscriber,
  PUSH: ours.Push,
  PULL: ours.Pull,
  PAIR: ours.Pair,
} as unknown as Record<SocketType, Ctor>;

const LIBZMQ: Record<SocketType, Ctor> = {
  REQ: zmq.Request,
  REP: zmq.Reply,
  DEALER: zmq.Dealer,
  ROUTER: zmq.Router,
  PUB: zmq.Publisher,
  SUB: zmq.Subscriber,
  XPUB: zmq.XPublisher,
  XSUB: zmq.XSubscriber,
  PUSH: zmq.Push,
  PULL: zmq.Pull,
  PAIR: zmq.Pair,
} as unknown as Record<SocketType, Ctor>;

const SEND_ONLY = new Set<SocketType>(['PUB', 'PUSH']);
const RECEIVE_ONLY = new Set<SocketType>(['SUB', 'PULL']);
/** A lost message fails the case with EAGAIN after this long instead of hanging it. */
const TIMEOUT_MS = 10_000;

const opened: Sock[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

/** A socket of `type`, ours (in `context`) or libzmq's (linger 0), closed after the test. */
export function open(impl: Impl, type: SocketType, options: Record<string, unknown>, context: ours.Context): Sock {
  const o: Record<string, unknown> = { ...options };
  if (!SEND_ONLY.has(type)) o.receiveTimeout = TIMEOUT_MS;
  if (!RECEIVE_ONLY.has(type)) o.sendTimeout = TIMEOUT_MS;
  if (impl === 'ours') o.context = context;
  else o.linger = 0;
  const s = new (impl === 'ours' ? OURS : LIBZMQ)[type](o);
  opened.push(s);
  return s;
}

const dir = mkdtempSync(join(tmpdir(), 'monocoque-matrix-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A fresh bind address: an ephemeral tcp port (read `lastEndpoint`) or a new ipc path. */
export const endpointFor = (t: Transport): string => (t === 'tcp' ? 'tcp://127.0.0.1:*' : `ipc://${join(dir, `m${n++}.sock`)}`);

export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const frames = (...parts: string[]): Buffer[] => parts.map((p) => Buffer.from(p));

export const MEDIUM = Buffer.alloc(300);
for (let i = 0; i < MEDIUM.length; i++) MEDIUM[i] = (i * 7) & 0xff;
export const BIG = Buffer.alloc(1 << 20);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i ^ (i >> 8)) & 0xff;

/** What each case sends: multipart with empty frames (first, inside, last), 300 bytes, 1 MiB. */
export const SAMPLES: Buffer[][] = [
  frames('', 'a', '', 'b', ''),
  [Buffer.from('medium'), MEDIUM, Buffer.alloc(0)],
  [BIG],
];

/** A frame as text when short, else its length and a digest: readable diffs for 1 MiB frames. */
function frameSummary(f: Buffer): string {
  if (f.length <= 40) return JSON.stringify(f.toString('latin1'));
  return `<${f.length} bytes sha1 ${createHash('sha1').update(f).digest('hex').slice(0, 12)}>`;
}
export const summary = (m: Buffer[]): string[] => m.map(frameSummary);

export function expectFrames(got: Buffer[], want: Buffer[]): void {
  expect(summary(got)).toEqual(summary(want));
}

const codeOf = (e: unknown) => (e as { code?: string }).code;

/**
 * Sends on a mandatory ROUTER to a peer it may not know yet: libzmq routers (and ours) learn a
 * routing id at the handshake, and until then the send fails with EHOSTUNREACH. Bounded.
 */
export async function sendRoutable(router: Sock, msg: Buffer[]): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      await router.send(msg);
      return;
    } catch (e) {
      if (codeOf(e) !== 'EHOSTUNREACH' || tries >= 1000) throw e;
      await delay(5);
    }
  }
}

/** Messages received in the background until one whose first frame is `end` (not kept). */
export interface Inbox {
  readonly messages: Buffer[][];
  /** Resolves after `end` arrived; rejects with what failed a receive (EAGAIN on a lost message). */
  readonly done: Promise<void>;
  readonly failure: unknown;
}

/**
 * Keeps a receive waiting on `s` until `end` arrives. Besides collecting, this matters for libzmq:
 * a libzmq socket attaches a new connection (and so sends its subscriptions to it) only when its
 * command mailbox is processed, which zeromq.js does while a call on the socket is in progress.
 * An idle libzmq SUB that binds never tells a connecting XPUB it subscribed.
 */
export function inbox(s: Sock, end: Buffer): Inbox {
  const box = { messages: [] as Buffer[][], failure: undefined as unknown, done: Promise.resolve() };
  box.done = (async () => {
    for (;;) {
      const m = await s.receive();
      if (m[0].equals(end)) return;
      box.messages.push(m);
    }
  })();
  box.done.catch((e: unknown) => (box.failure = e));
  return box;
}

export const PROBE = Buffer.from('keep.probe');
const isProbe = (m: Buffer[]) => m[0].equals(PROBE);

/**
 * Publishes PROBE until the subscriber's inbox holds one (the slow joiner: a PUB drops what nobody
 * has subscribed to yet). Bounded; the probes are left in the inbox for the caller to skip.
 */
export async function untilSubscribed(pub: Sock, box: Inbox): Promise<void> {
  for (let tries = 0; !box.messages.some(isProbe); tries++) {
    if (box.failure !== undefined) throw box.failure;
    if (tries >= 1000) throw new Error('the subscription never took effect: no probe arrived');
    await pub.send([PROBE]);
    await delay(5);
  }
}
