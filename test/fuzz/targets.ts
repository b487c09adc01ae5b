// The fuzzed socket of one batch: made from its BatchConfig, bound (raw clients connect to it) or
// connecting (to raw servers, one per slot), with its application side kept busy (a reader that
// checks every delivery against the ledger, a writer) while cases run; then round trips with
// well-behaved peers, ours and libzmq's; then closed.
//
//   raw peers (peers.ts) ──fuzzed streams──▶ ┐
//                                            ├─ fuzzed socket ── reader: each message checked (deliveries.ts)
//   partner (ours, libzmq) ◀─round trip───▶  ┘                 └ writer: a message every few ms

import net from 'node:net';
import type { AddressInfo, Server, Socket as NetSocket } from 'node:net';
import * as zmq from 'zeromq';
import '../../src/transport/register-node.js';
import { z85Encode } from '../../src/core/z85.js';
import type { Sodium } from '../../src/protocol/sodium.js';
import { Authenticator } from '../../src/socket/authenticator.js';
import { Context } from '../../src/socket/context.js';
import { Dealer, Router } from '../../src/socket/dealer-router.js';
import { Pair } from '../../src/socket/pair.js';
import { Publisher, Subscriber, XPublisher, XSubscriber } from '../../src/socket/pub-sub.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import { Reply, Request } from '../../src/socket/request-reply.js';
import type { Socket } from '../../src/socket/socket.js';
import { DeliveryBook } from './deliveries.js';
import { ascii, FUZZ_PREFIX, PLAIN_PASSWORD, PLAIN_USER, ROUND_TRIP_PREFIX, startsWith } from './generators.js';
import type { BatchConfig, FuzzCase, SocketType } from './generators.js';
import { playCase, unplayed } from './peers.js';
import type { CaseOutcome } from './peers.js';
import type { KnownBug } from './oracle.js';

/** Where a target reports what it saw. */
export interface Recorder {
  /** The application received a message no case permitted. */
  wrongDelivery(cfg: BatchConfig, detail: string, caseIndex: number | undefined): void;
  /** A socket call failed in a way no caller should see. */
  apiError(cfg: BatchConfig, where: string, error: unknown): void;
  /** A monitor event with an error (a refused handshake, …), counted by type and code. */
  event(key: string): void;
}

export interface TargetEnv {
  sodium: Sodium;
  /** Our partners' Context: its Authenticator accepts the PLAIN user and any CURVE key. */
  partnerContext: Context;
  recorder: Recorder;
  caseTimeoutMs: number;
  libzmq: boolean;
  /** Every event of the fuzzed sockets and round trips, for replaying one case. */
  trace?: (line: string) => void;
  tolerate?: ReadonlySet<KnownBug>;
}

type Msg = Buffer[];

const OURS: Record<SocketType, new (o: Record<string, unknown>) => Socket> = {
  REQ: Request, REP: Reply, DEALER: Dealer, ROUTER: Router, PUB: Publisher, SUB: Subscriber,
  XPUB: XPublisher, XSUB: XSubscriber, PUSH: Push, PULL: Pull, PAIR: Pair,
} as unknown as Record<SocketType, new (o: Record<string, unknown>) => Socket>;

/** What both libraries' sockets share, as far as round trips use it (zeromq.js v6 shape). */
interface Sock {
  bind(address: string): Promise<void>;
  connect(address: string): void;
  readonly lastEndpoint: string | null;
  send(message: (Buffer | string)[]): Promise<void>;
  receive(): Promise<Msg>;
  subscribe?(...prefixes: string[]): void;
  close(): void;
}

const LIBZMQ: Record<SocketType, new (o: Record<string, unknown>) => Sock> = {
  REQ: zmq.Request, REP: zmq.Reply, DEALER: zmq.Dealer, ROUTER: zmq.Router, PUB: zmq.Publisher, SUB: zmq.Subscriber,
  XPUB: zmq.XPublisher, XSUB: zmq.XSubscriber, PUSH: zmq.Push, PULL: zmq.Pull, PAIR: zmq.Pair,
} as unknown as Record<SocketType, new (o: Record<string, unknown>) => Sock>;

/** The well-behaved peer of each type for a round trip. */
const PARTNER: Record<SocketType, SocketType> = {
  PUSH: 'PULL', PULL: 'PUSH', PAIR: 'PAIR', REQ: 'REP', REP: 'REQ', DEALER: 'ROUTER', ROUTER: 'DEALER',
  PUB: 'SUB', SUB: 'PUB', XPUB: 'SUB', XSUB: 'PUB',
};

const RECEIVES = new Set<SocketType>(['PULL', 'PAIR', 'REQ', 'REP', 'DEALER', 'ROUTER', 'SUB', 'XSUB', 'XPUB']);
const SENDS = new Set<SocketType>(['PUSH', 'PAIR', 'DEALER', 'ROUTER', 'PUB', 'XPUB', 'XSUB']);
/** A round trip, a handshake included, must be done by then. */
const ROUND_TRIP_MS = 10_000;

const codeOf = (e: unknown): string | undefined => (e as { code?: string } | undefined)?.code;
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const z85 = (b: Uint8Array): string => z85Encode(b);

/** A short printable view of a message for reports. */
export function describeMessage(msg: readonly Uint8Array[]): string {
  const frames = msg.slice(0, 6).map((f) => {
    const head = Buffer.from(f.subarray(0, 24)).toString('latin1').replace(/[^\x20-\x7e]/g, '.');
    return f.length > 24 ? `${JSON.stringify(head)}…(${f.length})` : JSON.stringify(head);
  });
  return `[${frames.join(', ')}${msg.length > 6 ? `, …${msg.length} frames` : ''}]`;
}

/** The case a message came from, by the marker the generator put in its payload. */
function markedCase(msg: readonly Uint8Array[]): number | undefined {
  for (const f of msg) {
    const s = Buffer.from(f.subarray(0, 24)).toString('latin1');
    const m = /fz([0-9a-z]+)\./.exec(s);
    if (m !== null) return parseInt(m[1], 36);
  }
  return undefined;
}

/** The security options of the fuzzed socket: it has the role the config names. */
function securityOptions(cfg: BatchConfig): Record<string, unknown> {
  const { keys } = cfg;
  switch (cfg.mechanism) {
    case 'NULL':
      return cfg.zap ? { zapDomain: 'fuzz' } : {};
    case 'PLAIN':
      return cfg.securityServer ? { plainServer: true } : { plainUsername: PLAIN_USER, plainPassword: PLAIN_PASSWORD };
    case 'CURVE':
      return cfg.securityServer
        ? { curveServer: true, curveSecretKey: z85(keys.serverSecret) }
        : { curveServerKey: z85(keys.serverPublic), curvePublicKey: z85(keys.clientPublic), curveSecretKey: z85(keys.clientSecret) };
  }
}

/** The partner's security options: the other role. */
function partnerSecurity(cfg: BatchConfig): Record<string, unknown> {
  const { keys } = cfg;
  switch (cfg.mechanism) {
    case 'NULL':
      return {};
    case 'PLAIN':
      return cfg.securityServer ? { plainUsername: PLAIN_USER, plainPassword: PLAIN_PASSWORD } : { plainServer: true };
    case 'CURVE':
      return cfg.securityServer
        ? { curveServerKey: z85(keys.serverPublic), curvePublicKey: z85(keys.clientPublic), curveSecretKey: z85(keys.clientSecret) }
        : { curveServer: true, curveSecretKey: z85(keys.serverSecret) };
  }
}

/** An Authenticator that knows the fuzz user and takes any CURVE client. */
export async function fuzzAuthenticator(context: Context): Promise<Authenticator> {
  const auth = new Authenticator({ context });
  auth.configurePlain({ [PLAIN_USER]: PLAIN_PASSWORD });
  auth.configureCurve('any');
  await auth.start();
  return auth;
}

/** A raw server handing each connection it accepts to the case waiting for one; strays are cut. */
class RawServer {
  readonly server: Server = net.createServer((s) => this.#accept(s));
  #waiting: ((s: NetSocket) => void) | undefined;

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `tcp://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  next(): Promise<NetSocket> {
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  cancel(): void {
    this.#waiting = undefined;
  }

  #accept(s: NetSocket): void {
    const w = this.#waiting;
    this.#waiting = undefined;
    if (w === undefined) s.destroy();
    else w(s);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export class Target {
  readonly book: DeliveryBook;
  readonly #cfg: BatchConfig;
  readonly #env: TargetEnv;
  readonly #socket: Socket;
  readonly #auth: Authenticator | undefined;
  #port = 0;
  #servers: { server: RawServer; endpoint: string }[] = [];
  readonly #stop = new AbortController();
  #loops: Promise<void>[] = [];
  /** ROUTER: routing ids seen lately, for the writer. */
  #routingIds: Buffer[] = [];
  /** Connection actors (machines/connection.ts) of the socket that have not reached their final state. */
  readonly #live = new Set<string>();
  #quiet: (() => void)[] = [];
  /** Bound socket, by the peer's address: what the monitor events said of each connection. */
  readonly #connections = new Map<string, { accepted: boolean; refused: boolean; released: boolean; waiters: (() => void)[] }>();
  /** Refused peers whose connection ended without a `disconnect` event. */
  refusedWithoutDisconnect = 0;
  /** Resolves once the socket has let go of everything after close(); undefined until closeNow(). */
  #ended: Promise<void> | undefined;
  #markClosing!: () => void;
  /** Resolves when closeNow() is called: nothing more will be delivered. */
  readonly #closing = new Promise<void>((resolve) => (this.#markClosing = resolve));

  private constructor(cfg: BatchConfig, env: TargetEnv, socket: Socket, auth: Authenticator | undefined) {
    this.#cfg = cfg;
    this.#env = env;
    this.#socket = socket;
    this.#auth = auth;
    this.book = new DeliveryBook(cfg.type === 'ROUTER');
  }

  static async open(cfg: BatchConfig, env: TargetEnv): Promise<Target> {
    const trace = env.trace;
    let t: Target | undefined;
    // The inspector follows the connection actors (which are still running), and traced, their facts
    // show why a connection ended (no monitor event says so after a handshake).
    const context = new Context({
      inspect: (e) => {
        if (e.type === '@xstate.snapshot' && t !== undefined) t.#connectionSnapshot(e.actorRef.sessionId, e.snapshot as { status?: string; context?: object });
        else if (trace !== undefined && e.type === '@xstate.event') {
          const event = (e as { event: { type: string } }).event;
          if (/failed|closed|timeout|expired|pinged/.test(event.type)) trace(`connection actor: ${JSON.stringify(event)}`);
        }
      },
    });
    const auth = cfg.zap ? await fuzzAuthenticator(context) : undefined;
    const options: Record<string, unknown> = {
      context,
      linger: 0,
      sendTimeout: 100,
      // Reconnects would race the next case of the slot: each case connects and disconnects itself.
      reconnectInterval: cfg.role === 'connect' ? 60_000 : 100,
      ...securityOptions(cfg),
    };
    if (cfg.maxMessageSize >= 0) options.maxMessageSize = cfg.maxMessageSize;
    if (cfg.heartbeat) Object.assign(options, { heartbeatInterval: 50, heartbeatTimeout: 300 });
    if (cfg.routingId !== undefined) options.routingId = cfg.routingId;
    if (cfg.type === 'REQ') options.relaxed = true;
    const socket = new OURS[cfg.type](options);
    t = new Target(cfg, env, socket, auth);
    const target = t;
    socket.events.on('*', (e) => {
      target.#monitor(e.type, e.peer?.remoteAddress);
      if (e.type === 'disconnect') target.#noteEnd(e.address, e.peer?.remoteAddress, e.error);
      trace?.(`fuzzed socket event ${e.type} ${e.address ?? ''} ${e.peer?.remoteAddress ?? ''} ${e.error?.code ?? ''} ${e.error?.message ?? ''}`);
      if (e.error !== undefined) env.recorder.event(`${e.type} ${e.error.code}`);
    });
    if (cfg.role === 'bind') {
      await socket.bind('tcp://127.0.0.1:*');
      target.#port = Number(socket.lastEndpoint!.split(':').pop());
    } else {
      for (let i = 0; i < cfg.slots; i++) {
        const server = new RawServer();
        target.#servers.push({ server, endpoint: await server.listen() });
      }
    }
    if (cfg.type === 'SUB') (socket as Subscriber).subscribe(FUZZ_PREFIX, ROUND_TRIP_PREFIX);
    if (cfg.type === 'XSUB') {
      await socket.send(Buffer.from(`\x01${FUZZ_PREFIX}`));
      await socket.send(Buffer.from(`\x01${ROUND_TRIP_PREFIX}`));
    }
    const signal = target.#stop.signal;
    if (RECEIVES.has(cfg.type)) target.#loops.push(target.#read(signal));
    if (SENDS.has(cfg.type)) target.#loops.push(target.#write(signal));
    return target;
  }

  /** Why each case's connection ended, as its `disconnect` event said: by our end's address (bound) or the slot's endpoint. */
  readonly #ends = new Map<string, string>();

  #noteEnd(address: string | undefined, remote: string | undefined, error: { code: string; message: string } | undefined): void {
    const key = this.#cfg.role === 'bind' ? remote : address;
    if (key === undefined) return;
    this.#ends.set(key, error === undefined ? 'disconnect without an error (the peer closed it, or we did)' : `disconnect ${error.code}: ${error.message}`);
    if (this.#ends.size > 4096) this.#ends.delete(this.#ends.keys().next().value!);
  }

  /** What the socket said of the end of the connection named `key`, and forgets it (a slot's endpoint serves case after case). */
  #takeEnd(key: string): string {
    const said = this.#ends.get(key);
    this.#ends.delete(key);
    return said ?? 'no disconnect event (the connection was still up)';
  }

  /** A connection actor's snapshot: live until its final state. */
  #connectionSnapshot(id: string, snapshot: { status?: string; context?: object }): void {
    const c = snapshot.context;
    if (c === undefined || !('peerTtl' in c) || !('zmtp31' in c)) return;
    if (snapshot.status === 'active') this.#live.add(id);
    else this.#live.delete(id);
    if (this.#live.size === 0) for (const w of this.#quiet.splice(0)) w();
  }

  #connection(address: string): { accepted: boolean; refused: boolean; released: boolean; waiters: (() => void)[] } {
    let c = this.#connections.get(address);
    if (c === undefined) this.#connections.set(address, (c = { accepted: false, refused: false, released: false, waiters: [] }));
    return c;
  }

  /** Monitor events of a bound socket, by connection. */
  #monitor(type: string, address: string | undefined): void {
    if (this.#cfg.role !== 'bind' || address === undefined) return;
    const c = type === 'accept' || type === 'peer:refused' || type === 'disconnect' ? this.#connection(address) : undefined;
    if (c === undefined) return;
    if (type === 'accept') c.accepted = true;
    else if (type === 'peer:refused') c.refused = true;
    else c.released = true;
    for (const w of c.waiters.splice(0)) w();
  }

  /**
   * After a case's connection closed on our side: undefined once the socket reported it gone (or
   * never accepted it, or was closed: its monitor events stop then), else what is missing. A refused peer (PAIR's second, a taken ROUTER id)
   * gets no `disconnect` today: counted apart (`refusedWithoutDisconnect`), not as a hang.
   */
  async #released(address: string, ms: number): Promise<string | undefined> {
    const c = this.#connection(address);
    const change = (wait: number): Promise<void> => {
      let timer: NodeJS.Timeout | number | undefined;
      return new Promise<void>((resolve) => {
        c.waiters.push(resolve);
        void this.#closing.then(resolve);
        timer = setTimeout(resolve, wait);
      }).finally(() => clearTimeout(timer));
    };
    try {
      if (!c.accepted) return undefined;
      // The socket may refuse the peer only now: it reads what the peer sent before leaving.
      const until = performance.now() + ms;
      while (!c.released && !c.refused && !this.closed && performance.now() < until) await change(until - performance.now());
      if (!c.released && c.refused && !this.closed) await change(200);
      // Closed meanwhile (a batch that closes early): the connection went with the socket, and a
      // closed socket reports no more disconnects, as zeromq.js's ends with `end`.
      if (c.released || this.closed) return undefined;
      if (c.refused) {
        this.refusedWithoutDisconnect++;
        return undefined;
      }
      return 'the connection closed, but the socket never reported it gone (no disconnect event)';
    } finally {
      this.#connections.delete(address);
    }
  }

  /** True once every connection actor of the socket reached its final state; false if that takes longer than `ms`. */
  async quiesce(ms: number): Promise<boolean> {
    if (this.#live.size === 0) return true;
    let timer: NodeJS.Timeout | number | undefined;
    const quiet = await Promise.race([
      new Promise<boolean>((resolve) => this.#quiet.push(() => resolve(true))),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
    clearTimeout(timer);
    return quiet;
  }

  /** Connection actors still running. */
  get unreleased(): number {
    return this.#live.size;
  }

  /** Plays case `c` on slot `slot` (its own raw server when the socket connects). */
  async play(slot: number, c: FuzzCase): Promise<CaseOutcome> {
    const outcome = await this.#play(slot, c);
    if (this.closed) {
      // Closed under way: its connections went with it, valid or not.
      delete outcome.refusedValid;
      delete outcome.lost;
    }
    return outcome;
  }

  async #play(slot: number, c: FuzzCase): Promise<CaseOutcome> {
    const ctx = { cfg: this.#cfg, sodium: this.#env.sodium, book: this.book, caseTimeoutMs: this.#env.caseTimeoutMs, tolerate: this.#env.tolerate, closing: this.#closing };
    if (this.#cfg.role === 'bind') {
      // Rarely (a few in 100,000 at hundreds of connections a second) loopback resets a connect,
      // before the socket could see it: try again, after a growing pause.
      let stream: NetSocket | undefined;
      let failure: Error | undefined;
      for (let attempt = 0; attempt < 6 && stream === undefined && !this.closed; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
        const s = net.connect(this.#port, '127.0.0.1');
        failure = await new Promise<Error | undefined>((resolve) => {
          s.once('connect', () => resolve(undefined));
          s.once('error', resolve);
        });
        if (failure === undefined) stream = s;
        else s.destroy();
      }
      if (stream === undefined) {
        // A batch that closes its socket early may do so while this case connects: nothing to play.
        if (this.closed) return unplayed(c);
        return { ...unplayed(c), error: `connect to the fuzzed socket: ${failure?.message}` };
      }
      // The socket names the connection by our end's address in its events.
      const address = `${stream.localAddress}:${stream.localPort}`;
      this.#env.trace?.(`case #${c.index} connects from ${address}`);
      this.#connection(address);
      const released = (): Promise<string | undefined> => this.#released(address, this.#env.caseTimeoutMs);
      this.#ends.delete(address); // a local port used again: not an earlier connection's end
      const outcome = await playCase(stream, c, { ...ctx, released, endOf: () => this.#takeEnd(address) });
      if (outcome.hang !== undefined) outcome.hang += ` [our end ${address}]`;
      return outcome;
    }
    const { server, endpoint } = this.#servers[slot];
    if (this.closed) return unplayed(c);
    const accepted = server.next();
    this.#socket.connect(endpoint);
    let timer: NodeJS.Timeout | number | undefined;
    // A batch that closes its socket early may do so before the connect reached the server.
    const closed = this.#closing.then(() => undefined);
    const stream = await Promise.race([accepted, closed, new Promise<undefined>((r) => (timer = setTimeout(r, this.#env.caseTimeoutMs)))]);
    clearTimeout(timer);
    try {
      if (stream === undefined) {
        server.cancel();
        if (this.closed) return unplayed(c);
        return { ...unplayed(c), ms: this.#env.caseTimeoutMs, hang: 'connect: the socket never connected to its raw server' };
      }
      this.#ends.delete(endpoint);
      return await playCase(stream, c, { ...ctx, endOf: () => this.#takeEnd(endpoint) });
    } finally {
      if (!this.closed) this.#socket.disconnect(endpoint);
    }
  }

  /** Stops the reader and the writer (round trips read and write themselves). */
  async stopTraffic(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#loops);
  }

  #deliver(msg: Msg): void {
    const verdict = this.book.check(msg);
    if (this.#cfg.type === 'ROUTER') {
      this.#routingIds.push(msg[0]);
      if (this.#routingIds.length > 8) this.#routingIds.shift();
    }
    if (!verdict.ok) {
      this.#env.recorder.wrongDelivery(this.#cfg, `${verdict.reason}: ${describeMessage(msg)}`, verdict.caseIndex ?? markedCase(msg));
    }
  }

  /** The application's reader: every message it gets is checked. REQ asks first; REP answers each. */
  async #read(signal: AbortSignal): Promise<void> {
    const s = this.#socket;
    const type = this.#cfg.type;
    while (!signal.aborted) {
      try {
        if (type === 'REQ') {
          await s.send('rq', { signal });
          this.#deliver(await s.receive({ signal: AbortSignal.any([signal, AbortSignal.timeout(50)]) }));
          continue;
        }
        this.#deliver(await s.receive({ signal }));
        if (type === 'REP') await s.send('re', { signal });
      } catch (e) {
        if (signal.aborted) return;
        // EAGAIN: REQ found no peer within its sendTimeout; ECANCELED: its wait for a reply ended.
        if (codeOf(e) === 'EAGAIN' || codeOf(e) === 'ECANCELED') continue;
        this.#env.recorder.apiError(this.#cfg, `${type} reader`, e);
        await pause(10);
      }
    }
  }

  /** The application's writer: a message every few ms, to whichever peers the socket picks. */
  async #write(signal: AbortSignal): Promise<void> {
    const s = this.#socket;
    const type = this.#cfg.type;
    for (let n = 0; !signal.aborted; n++) {
      await pause(5);
      let msg: (Buffer | string)[];
      if (type === 'ROUTER') {
        if (this.#routingIds.length === 0) continue;
        msg = [this.#routingIds[n % this.#routingIds.length], 'out', String(n)];
      } else if (type === 'PUB' || type === 'XPUB') {
        msg = [`${FUZZ_PREFIX}-out`, String(n)];
      } else if (type === 'XSUB') {
        msg = ['upstream', String(n)];
      } else {
        msg = ['out', String(n)];
      }
      try {
        await s.send(msg, { signal });
      } catch (e) {
        if (signal.aborted) return;
        if (codeOf(e) === 'EAGAIN' || codeOf(e) === 'EHOSTUNREACH') continue;
        this.#env.recorder.apiError(this.#cfg, `${type} writer`, e);
      }
    }
  }

  /**
   * One round trip with a well-behaved partner, ours or libzmq's: it connects to the socket (or the
   * socket to it), a message goes one way and, where the pattern allows, one comes back. Returns
   * why it failed, or undefined.
   */
  async roundTrip(impl: 'ours' | 'libzmq'): Promise<string | undefined> {
    const cfg = this.#cfg;
    const type = PARTNER[cfg.type];
    const mark = `${ROUND_TRIP_PREFIX}${cfg.batch}-${impl}-`;
    const markBytes = ascii(mark);
    const isMine = (m: readonly Uint8Array[]): boolean => m.some((f) => startsWith(f, markBytes) || (f.length > 0 && f[0] <= 1 && startsWith(f, markBytes, 1)));
    this.book.allow(isMine);
    const options: Record<string, unknown> = { linger: 0, ...partnerSecurity(cfg) };
    if (type !== 'PUB' && type !== 'PUSH') options.receiveTimeout = 500;
    if (type !== 'SUB' && type !== 'PULL') options.sendTimeout = 500;
    let partner: Sock;
    if (impl === 'ours') partner = new OURS[type]({ ...options, context: this.#env.partnerContext }) as unknown as Sock;
    else partner = new LIBZMQ[type](options);
    const trace = this.#env.trace;
    trace?.(`round trip with a ${impl} ${type}`);
    if (trace !== undefined && impl === 'libzmq') {
      void (async () => {
        for await (const e of (partner as unknown as zmq.Socket).events) trace(`libzmq partner event ${e.type} ${(e as { error?: Error & { code?: string } }).error?.code ?? ''}`);
      })().catch(() => {});
    }
    const deadline = performance.now() + ROUND_TRIP_MS;
    const left = (): number => deadline - performance.now();
    let endpoint: string | undefined;
    try {
      // The last peer must be gone first: a PAIR would refuse the partner, a PUSH could hand it the message.
      if (!(await this.quiesce(ROUND_TRIP_MS))) throw new Error(`the socket still runs ${this.unreleased} connection actor(s) of earlier peers`);
      if (cfg.role === 'bind') {
        partner.connect(`tcp://127.0.0.1:${this.#port}`);
      } else {
        await partner.bind('tcp://127.0.0.1:*');
        endpoint = partner.lastEndpoint!;
        this.#socket.connect(endpoint);
      }
      await this.#exchange(partner, mark, isMine, left);
      return undefined;
    } catch (e) {
      return `${impl} ${type} partner: ${(e as Error).message}`;
    } finally {
      if (endpoint !== undefined) this.#socket.disconnect(endpoint);
      partner.close();
    }
  }

  /** The messages of a round trip for each socket type (see `roundTrip`). */
  async #exchange(partner: Sock, mark: string, isMine: (m: readonly Uint8Array[]) => boolean, left: () => number): Promise<void> {
    const t = this.#socket;
    const trace = this.#env.trace;
    const out = `${mark}out`;
    const back = `${mark}back`;
    // The partner's receive, until its message (others may be queued: the writer's, a stale reply).
    const partnerGets = async (): Promise<Msg> => {
      for (;;) {
        if (left() <= 0) throw new Error('timed out waiting for the partner to receive');
        try {
          const m = await partner.receive();
          trace?.(`partner got ${describeMessage(m)}`);
          if (isMine(m)) return m;
        } catch (e) {
          if (codeOf(e) !== 'EAGAIN') throw e;
        }
      }
    };
    // The fuzzed socket's receive, until the round trip's message; everything else is checked too.
    const targetGets = async (): Promise<Msg> => {
      for (;;) {
        if (left() <= 0) throw new Error('timed out waiting for the fuzzed socket to receive');
        let m: Msg;
        try {
          m = await t.receive({ signal: AbortSignal.timeout(Math.max(1, Math.ceil(left()))) });
        } catch (e) {
          if (codeOf(e) === 'ECANCELED' || codeOf(e) === 'EAGAIN') continue;
          throw e;
        }
        this.#deliver(m);
        trace?.(`fuzzed socket got ${describeMessage(m)}`);
        if (isMine(m)) return m;
        if (this.#cfg.type === 'REP') await t.send('re');
      }
    };
    const retry = async (send: () => Promise<void>): Promise<void> => {
      for (;;) {
        try {
          return await send();
        } catch (e) {
          if (codeOf(e) !== 'EAGAIN' || left() <= 0) throw e;
        }
      }
    };
    // PUB/SUB: the subscription takes a while to arrive; publish until the subscriber has one.
    const publishUntil = async (publish: () => Promise<void>, got: Promise<Msg>): Promise<void> => {
      let done = false;
      const received = got.then(() => (done = true));
      received.catch(() => {});
      while (!done) {
        if (left() <= 0) throw new Error('timed out publishing to the subscriber');
        await publish().catch(() => {});
        await Promise.race([received, pause(20)]);
      }
      await received;
    };
    switch (this.#cfg.type) {
      case 'PULL':
        await retry(() => partner.send([out]));
        await targetGets();
        return;
      case 'PUSH':
        await retry(() => t.send(out));
        await partnerGets();
        return;
      case 'PAIR':
        await retry(() => partner.send([out]));
        await targetGets();
        await retry(() => t.send(back));
        await partnerGets();
        return;
      case 'REQ':
        await retry(() => t.send(out));
        await partnerGets();
        await partner.send([back]);
        await targetGets();
        return;
      case 'REP':
        await retry(() => partner.send([out]));
        await targetGets();
        await t.send(back);
        await partnerGets();
        return;
      case 'DEALER': {
        await retry(() => t.send(out));
        const [id] = await partnerGets();
        await partner.send([id, back]);
        await targetGets();
        return;
      }
      case 'ROUTER': {
        await retry(() => partner.send([out]));
        const [id] = await targetGets();
        await retry(() => t.send([id, back]));
        await partnerGets();
        return;
      }
      case 'PUB':
      case 'XPUB':
        partner.subscribe!(mark);
        await publishUntil(() => t.send(out), partnerGets());
        return;
      case 'SUB':
      case 'XSUB':
        await publishUntil(() => partner.send([out]), targetGets());
        return;
    }
  }

  /** Closes the socket and waits until it has let go of everything; then its raw servers and its ZAP handler. */
  async close(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#loops);
    await this.closeNow();
    await Promise.all(this.#servers.map((s) => s.server.close()));
    await this.#auth?.stop();
  }

  /** Whether the socket was closed. */
  get closed(): boolean {
    return this.#ended !== undefined;
  }

  /** Closes the socket at once, cases under way or not; resolves once it has let go of everything. */
  closeNow(): Promise<void> {
    if (this.#ended === undefined) {
      this.#markClosing();
      this.#stop.abort();
      this.#ended = new Promise<void>((resolve) => this.#socket.events.on('end', () => resolve()));
      this.#socket.close();
    }
    return this.#ended;
  }
}
