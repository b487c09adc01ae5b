// A test bench for one rule-breaking peer at a time (issue 14): our socket, a well-behaved peer of
// the same mechanism already attached, and raw node:net streams for the bad peer. Every connection
// failure in the bench's Context is recorded from the connection actors' snapshots (an inspector),
// so a case can name the violation even when the only monitor event is `disconnect`.
//
//   server bench:  raw client ──bad bytes──▶ ┐
//                                            ├─ our PULL (bound)  ◀── good PUSH ("still ok n")
//   client bench:  our PUSH ──connect──▶ raw server (bad)  +  ──connect──▶ good PULL

import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket as NetSocket } from 'node:net';
import { afterEach } from 'vitest';
import type { InspectionEvent } from 'xstate';
import '../../../src/transport/register-node.js';
import { z85Decode } from '../../../src/core/z85.js';
import { curveKeyPair, loadSodium } from '../../../src/protocol/index.js';
import type { Sodium } from '../../../src/protocol/sodium.js';
import { Authenticator } from '../../../src/socket/authenticator.js';
import { Context } from '../../../src/socket/context.js';
import type { EventType, SocketEvent } from '../../../src/socket/events.js';
import { Pull, Push } from '../../../src/socket/push-pull.js';
import type { PushOptions } from '../../../src/socket/push-pull.js';
import type { Socket } from '../../../src/socket/socket.js';
import { canSeeDescriptors, socketInode } from './descriptors.js';
import { RawPeer } from './raw-peer.js';

export type Security = 'NULL' | 'PLAIN' | 'CURVE';

/** A connection failure, as the connection actor recorded it. */
export interface Failure {
  role: 'accept' | 'connect';
  endpoint: string;
  kind: string;
  code: string;
  message: string;
}

export const PLAIN_USER = 'admin';
export const PLAIN_PASSWORD = 'secret';

/** Raw key pairs for CURVE, with their Z85 forms. */
export interface CurveKeys {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
  z85: { publicKey: string; secretKey: string };
}

function curveKeys(): CurveKeys {
  const z85 = curveKeyPair();
  return { publicKey: z85Decode(z85.publicKey), secretKey: z85Decode(z85.secretKey), z85 };
}

const sockets: Socket[] = [];
const authenticators: Authenticator[] = [];
const streams: NetSocket[] = [];
const servers: Server[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) if (!s.closed) s.close();
  for (const s of streams.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
  for (const a of authenticators.splice(0)) await a.stop();
});

/** A Context whose connection failures are recorded in `failures`. */
function recordingContext(failures: Failure[]): Context {
  const seen = new WeakSet<object>();
  return new Context({
    inspect: (ev: InspectionEvent) => {
      if (ev.type !== '@xstate.snapshot') return;
      const ctx = (ev.snapshot as { context?: { failure?: Failure; role?: string; endpoint?: string } }).context;
      const f = ctx?.failure;
      if (f === undefined || ctx?.role === undefined || seen.has(f)) return;
      seen.add(f);
      failures.push({ role: ctx.role as Failure['role'], endpoint: ctx.endpoint ?? '', kind: f.kind, code: f.code, message: f.message });
    },
  });
}

/** The next event of `type` on `socket` for which `pred` holds; listening starts now. */
export function nextEvent(socket: Socket, type: EventType, pred: (e: SocketEvent) => boolean = () => true): Promise<SocketEvent> {
  return new Promise((resolve) => {
    const on = (e: SocketEvent): void => {
      if (!pred(e)) return;
      socket.events.off(type, on);
      resolve(e);
    };
    socket.events.on(type, on);
  });
}

export const text = (m: Buffer[]): string[] => m.map((f) => f.toString('latin1'));

/**
 * Receives until the good peer's `marker` has come and nothing else waits; returns what came
 * besides it, in order.
 */
async function drainTo(sock: Pull, marker: string): Promise<string[][]> {
  const others: string[][] = [];
  let seen = false;
  while (!seen || sock.readable) {
    const m = text(await sock.receive());
    if (m.length === 1 && m[0] === marker) seen = true;
    else others.push(m);
  }
  return others;
}

/** A raw client to a port on 127.0.0.1, closed after the test (no bench bookkeeping: no descriptor). */
export async function rawClient(port: number): Promise<RawPeer> {
  const s = connect({ host: '127.0.0.1', port, noDelay: true });
  streams.push(s);
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  return new RawPeer(s, undefined);
}

export interface ServerBench {
  context: Context;
  /** The socket under test, bound on tcp://127.0.0.1:*. */
  sock: Pull;
  good: Push;
  port: number;
  failures: Failure[];
  sodium: Sodium | undefined;
  /** CURVE: the server's keys, and the good client's. */
  serverKeys: CurveKeys | undefined;
  clientKeys: CurveKeys | undefined;
  /** A raw client, accepted by our socket (so our descriptor for it is known). */
  raw(): Promise<RawPeer>;
  /** The next event of `type` concerning `raw` (by its address). Listening starts now. */
  eventFor(raw: RawPeer, type: EventType): Promise<SocketEvent>;
  /** The good peer still gets a message through; returns what else was delivered meanwhile. */
  stillWorks(): Promise<string[][]>;
}

export interface ServerBenchOptions {
  security?: Security;
  /** Options of the socket under test. */
  options?: PushOptions;
  /**
   * CURVE: a ZAP handler lets in only these client keys (Z85) besides the good client's; 'any' lets
   * in every key. Without it no handler is bound (libzmq then accepts any key).
   */
  curveClients?: 'any' | string[];
  /** NULL: a ZAP handler judges each peer (our socket gets a ZAP domain), so READY waits for it. */
  nullZap?: boolean;
}

/** A bound PULL of the given security with a good PUSH attached. */
export async function serverBench(opts: ServerBenchOptions = {}): Promise<ServerBench> {
  const security = opts.security ?? 'NULL';
  const failures: Failure[] = [];
  const context = recordingContext(failures);
  let sodium: Sodium | undefined;
  let serverKeys: CurveKeys | undefined;
  let clientKeys: CurveKeys | undefined;
  let serverOptions: PushOptions = {};
  let clientOptions: PushOptions = {};
  if (security === 'NULL' && opts.nullZap === true) {
    const auth = new Authenticator({ context });
    authenticators.push(auth);
    await auth.start();
    serverOptions = { zapDomain: 'hardening' };
  } else if (security === 'PLAIN') {
    const auth = new Authenticator({ context });
    authenticators.push(auth);
    auth.configurePlain({ [PLAIN_USER]: PLAIN_PASSWORD });
    await auth.start();
    serverOptions = { plainServer: true };
    clientOptions = { plainUsername: PLAIN_USER, plainPassword: PLAIN_PASSWORD };
  } else if (security === 'CURVE') {
    sodium = await loadSodium();
    serverKeys = curveKeys();
    clientKeys = curveKeys();
    if (opts.curveClients !== undefined) {
      const auth = new Authenticator({ context });
      authenticators.push(auth);
      auth.configureCurve(opts.curveClients === 'any' ? 'any' : [clientKeys.z85.publicKey, ...opts.curveClients]);
      await auth.start();
    }
    serverOptions = { curveServer: true, curveSecretKey: serverKeys.z85.secretKey };
    clientOptions = { curveServerKey: serverKeys.z85.publicKey, curvePublicKey: clientKeys.z85.publicKey, curveSecretKey: clientKeys.z85.secretKey };
  }
  const sock = new Pull({ context, ...serverOptions, ...opts.options });
  sockets.push(sock);
  await sock.bind('tcp://127.0.0.1:*');
  const port = Number(sock.lastEndpoint!.split(':').pop());
  // Remote ports of the streams our socket accepted, and who waits for one.
  const accepted = new Set<number>();
  const waiting = new Map<number, () => void>();
  sock.events.on('accept', (e) => {
    const p = Number(e.peer?.remoteAddress?.split(':').pop());
    accepted.add(p);
    waiting.get(p)?.();
  });
  const good = new Push({ context, ...clientOptions });
  sockets.push(good);
  const up = nextEvent(sock, 'handshake');
  good.connect(sock.lastEndpoint!);
  await up;
  // A first attempt of the good peer that a loaded machine made too slow is not the case's business.
  failures.length = 0;
  let n = 0;
  const addressOf = (raw: RawPeer): string => `127.0.0.1:${raw.stream.localPort}`;
  return {
    context,
    sock,
    good,
    port,
    failures,
    sodium,
    serverKeys,
    clientKeys,
    async raw() {
      const s = connect({ host: '127.0.0.1', port, noDelay: true });
      streams.push(s);
      s.on('error', () => {});
      await new Promise((r) => s.once('connect', r));
      const local = s.localPort!;
      if (!accepted.has(local)) await new Promise<void>((r) => waiting.set(local, r));
      waiting.delete(local);
      return new RawPeer(s, canSeeDescriptors ? socketInode(port, local) : undefined);
    },
    eventFor(raw, type) {
      const address = addressOf(raw);
      return nextEvent(sock, type, (e) => e.peer?.remoteAddress === address);
    },
    async stillWorks() {
      const marker = `still ok ${n++}`;
      await good.send(marker);
      return drainTo(sock, marker);
    },
  };
}

export interface ClientBench {
  context: Context;
  /** The socket under test: a PULL that connects to the raw server and to the good PUSH. */
  sock: Pull;
  goodPush: Push;
  failures: Failure[];
  sodium: Sodium | undefined;
  /** CURVE: the keys our client expects the (raw) server to hold, and our client's own. */
  serverKeys: CurveKeys | undefined;
  clientKeys: CurveKeys | undefined;
  /** The endpoint of the raw server, once connected. */
  rawEndpoint: string | undefined;
  /**
   * Starts a raw server, connects our socket to it and resolves with the stream it accepted;
   * `onConnection` runs first, in the turn the stream arrives (to write a greeting at once).
   */
  connectRaw(onConnection?: (raw: RawPeer) => void): Promise<RawPeer>;
  /** The next event of `type` concerning the raw server's endpoint. Listening starts now. */
  eventForRaw(type: EventType): Promise<SocketEvent>;
  /** The good PUSH still gets a message to our socket; returns what else was delivered meanwhile. */
  stillWorks(): Promise<string[][]>;
}

/**
 * Our PULL (PLAIN or CURVE client, or NULL) connected to a good bound PUSH; `connectRaw` adds a raw
 * server playing a PUSH. Its reconnect interval is short, so a connection that should not be
 * retried would be, quickly.
 */
export async function clientBench(security: Security = 'NULL', options: PushOptions = {}): Promise<ClientBench> {
  const failures: Failure[] = [];
  const context = recordingContext(failures);
  let sodium: Sodium | undefined;
  let serverKeys: CurveKeys | undefined;
  let clientKeys: CurveKeys | undefined;
  let serverOptions: PushOptions = {};
  let clientOptions: PushOptions = {};
  if (security === 'PLAIN') {
    const auth = new Authenticator({ context });
    authenticators.push(auth);
    auth.configurePlain({ [PLAIN_USER]: PLAIN_PASSWORD });
    await auth.start();
    serverOptions = { plainServer: true };
    clientOptions = { plainUsername: PLAIN_USER, plainPassword: PLAIN_PASSWORD };
  } else if (security === 'CURVE') {
    sodium = await loadSodium();
    serverKeys = curveKeys();
    clientKeys = curveKeys();
    serverOptions = { curveServer: true, curveSecretKey: serverKeys.z85.secretKey };
    clientOptions = { curveServerKey: serverKeys.z85.publicKey, curvePublicKey: clientKeys.z85.publicKey, curveSecretKey: clientKeys.z85.secretKey };
  }
  const goodPush = new Push({ context, ...serverOptions });
  sockets.push(goodPush);
  await goodPush.bind('tcp://127.0.0.1:*');
  // `immediate`: a pipe per completed connection, so nothing is queued for the raw server.
  const sock = new Pull({ context, immediate: true, reconnectInterval: 5, ...clientOptions, ...options });
  sockets.push(sock);
  const up = nextEvent(goodPush, 'handshake');
  sock.connect(goodPush.lastEndpoint!);
  await up;
  failures.length = 0;
  let n = 0;
  let rawEndpoint: string | undefined;
  return {
    context,
    sock,
    goodPush,
    failures,
    sodium,
    serverKeys,
    clientKeys,
    get rawEndpoint() {
      return rawEndpoint;
    },
    async connectRaw(onConnection) {
      const server = createServer({ noDelay: true });
      servers.push(server);
      const first = new Promise<RawPeer>((resolve) =>
        server.once('connection', (s: NetSocket) => {
          const raw = new RawPeer(s, canSeeDescriptors ? socketInode(s.remotePort!, s.localPort!) : undefined);
          onConnection?.(raw);
          resolve(raw);
        }),
      );
      server.on('connection', (s: NetSocket) => streams.push(s));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      rawEndpoint = `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`;
      sock.connect(rawEndpoint);
      return first;
    },
    eventForRaw(type) {
      return nextEvent(sock, type, (e) => e.address === rawEndpoint);
    },
    async stillWorks() {
      const marker = `still ok ${n++}`;
      await goodPush.send(marker);
      return drainTo(sock, marker);
    },
  };
}
