// A Context: the supervisor actor with its inproc registry, the sockets that belong to it, and the
// transports they may use. Sockets made without one share the default global Context.

import { createActor } from 'xstate';
import type { Actor, InspectionEvent } from 'xstate';
import type { Endpoint } from '../core/endpoint.js';
import { describeValue, ZmqError } from '../core/errors.js';
import { parseZapReply, violation, ZAP_ENDPOINT, zapRequestFrames } from '../protocol/index.js';
import type { Violation, ZapQuery, ZapReply } from '../protocol/index.js';
import { supervisorMachine } from '../../machines/supervisor.js';
import type { PeerHost, Transport } from '../transport/host.js';
import { inprocTransport } from '../transport/inproc.js';
import { backgroundClock } from '../transport/keep-alive.js';
import { transportFactory } from '../transport/registry.js';
import type { Socket } from './socket.js';

export interface ContextOptions {
  /**
   * An XState inspection observer (e.g. `createBrowserInspector().inspect` from
   * @statelyai/inspect): it sees the supervisor, every socket actor and every connection actor.
   */
  inspect?: (event: InspectionEvent) => void;
  /** ZMQ_BLOCKY (see {@link Context.blocky}). */
  blocky?: boolean;
  /** ZMQ_IO_THREADS (see {@link Context.ioThreads}). */
  ioThreads?: number;
  /** ZMQ_MAX_MSGSZ (see {@link Context.maxMessageSize}). */
  maxMessageSize?: number;
  /** ZMQ_MAX_SOCKETS (see {@link Context.maxSockets}). */
  maxSockets?: number;
  /** ZMQ_IPV6 (see {@link Context.ipv6}). */
  ipv6?: boolean;
  /** ZMQ_THREAD_PRIORITY (see {@link Context.threadPriority}). */
  threadPriority?: number;
  /** ZMQ_THREAD_SCHED_POLICY (see {@link Context.threadSchedulingPolicy}). */
  threadSchedulingPolicy?: number;
}

let nextSocketId = 1;
const INT32_MAX = 2 ** 31 - 1;
/** libzmq's ZMQ_SOCKET_LIMIT where the OS does not lower it (`ctx.cpp clipped_maxsocket`). */
const SOCKET_LIMIT = 65535;

/** A context option's value: an integer in range (TypeError when not a number, as zeromq.js throws). */
function int32(name: string, libzmq: string, value: unknown, min: number): number {
  if (typeof value !== 'number') throw new TypeError(`Option value must be a number: Context option ${name} (${libzmq}) is ${describeValue(value)}`);
  if (!Number.isInteger(value) || value < min || value > INT32_MAX) {
    throw new ZmqError('EINVAL', `Context option ${name} (${libzmq}): ${describeValue(value)} is not an integer in ${min}..${INT32_MAX}`);
  }
  return value;
}

function bool(name: string, libzmq: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`Option value must be a boolean: Context option ${name} (${libzmq}) is ${describeValue(value)}`);
  return value;
}

/**
 * Holds the sockets that can reach each other over inproc, and the supervisor actor that owns the
 * inproc registry. Most programs use the default one; make another to keep names apart (tests).
 * Its actor system holds the supervisor, the sockets' actors and the connection actors, so one
 * inspection observer sees them all.
 */
export class Context {
  /** The supervisor actor: its context is the inproc registry and the live connections. */
  readonly supervisor: Actor<typeof supervisorMachine>;
  /** @internal The inspection observer given at construction. */
  readonly inspector: ((event: InspectionEvent) => void) | undefined;
  #sockets = new Map<number, { host: PeerHost; socket: Socket }>();
  #transports = new Map<string, Transport>();
  #replies = new Map<number, (error: ZmqError) => void>();
  #nextRequest = 1;
  #nextConnection = 1;
  #blocky = true;
  #ioThreads = 1;
  #maxMessageSize = INT32_MAX;
  #maxSockets = 1023;
  #ipv6 = false;
  #threadPriority = -1;
  #threadSchedulingPolicy = -1;

  /**
   * Options are the zeromq.js context options (set as the properties of the same names), plus
   * `inspect`. As in zeromq.js, an unknown option or property name, or one that is read-only,
   * throws TypeError (the Context is sealed), as does a value of the wrong type.
   */
  constructor(options: ContextOptions = {}, ...extra: never[]) {
    if (extra.length > 0) throw new TypeError(`Expected 1 argument (the options), got ${1 + extra.length}`);
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new TypeError(`Options must be an object like { ioThreads: 1 }, not ${describeValue(options)}`);
    }
    this.inspector = options.inspect;
    const inproc = inprocTransport(this);
    this.#transports.set('inproc', inproc.transport);
    const machine = supervisorMachine.provide({
      actions: {
        ...inproc.effects,
        refuseBind: ({ event }) => {
          if (event.type !== 'inproc.bind') return;
          this.#replies.get(event.requestId)?.(new ZmqError('EADDRINUSE', `bind("inproc://${event.name}"): the name is already bound in this context`, { address: `inproc://${event.name}` }));
        },
        refuseUnbind: ({ event }) => {
          if (event.type !== 'inproc.unbind') return;
          this.#replies.get(event.requestId)?.(new ZmqError('ENOENT', `unbind("inproc://${event.name}"): this socket is not bound to that name`, { address: `inproc://${event.name}` }));
        },
      },
    });
    // The system's clock unrefs its timers (delayed transitions of the sockets' machines): open
    // sockets keep no process alive, only their waiting calls do (keep-alive.ts).
    this.supervisor = createActor(machine, { systemId: 'supervisor', inspect: this.inspector, clock: backgroundClock });
    this.supervisor.start();
    Object.seal(this);
    // Through the setters, on the sealed object: a read-only or unknown name throws TypeError as an
    // assignment would (ES modules are strict).
    for (const [name, value] of Object.entries(options)) {
      if (name !== 'inspect' && value !== undefined) (this as unknown as Record<string, unknown>)[name] = value;
    }
  }

  // ---- the zeromq.js context options (each doc opens with the libzmq constant) ----

  /**
   * ZMQ_BLOCKY: true by default. When false, sockets made in this Context afterwards start with
   * `linger` 0 instead of -1 (as libzmq does), so closing them drops what they still queue.
   */
  get blocky(): boolean { return this.#blocky; }
  set blocky(v: boolean) { this.#blocky = bool('blocky', 'ZMQ_BLOCKY', v); }
  /** ZMQ_IO_THREADS: accepted and read back; without effect (IO runs on Node's event loop). */
  get ioThreads(): number { return this.#ioThreads; }
  set ioThreads(v: number) { this.#ioThreads = int32('ioThreads', 'ZMQ_IO_THREADS', v, 0); }
  /** ZMQ_MAX_MSGSZ: accepted and read back; without effect (each socket's `maxMessageSize` applies). */
  get maxMessageSize(): number { return this.#maxMessageSize; }
  set maxMessageSize(v: number) { this.#maxMessageSize = int32('maxMessageSize', 'ZMQ_MAX_MSGSZ', v, 0); }
  /** ZMQ_MAX_SOCKETS: accepted and read back (1..{@link maxSocketsLimit}); not enforced. */
  get maxSockets(): number { return this.#maxSockets; }
  set maxSockets(v: number) {
    const n = int32('maxSockets', 'ZMQ_MAX_SOCKETS', v, 1);
    if (n > SOCKET_LIMIT) throw new ZmqError('EINVAL', `Context option maxSockets (ZMQ_MAX_SOCKETS): ${n} is above maxSocketsLimit (${SOCKET_LIMIT})`);
    this.#maxSockets = n;
  }
  /** ZMQ_SOCKET_LIMIT: the largest value `maxSockets` takes (read-only). */
  get maxSocketsLimit(): number { return SOCKET_LIMIT; }
  /** ZMQ_IPV6: the `ipv6` option that sockets made in this Context afterwards start with. */
  get ipv6(): boolean { return this.#ipv6; }
  set ipv6(v: boolean) { this.#ipv6 = bool('ipv6', 'ZMQ_IPV6', v); }
  /** ZMQ_THREAD_PRIORITY: accepted and read back; without effect (no IO threads of our own). */
  get threadPriority(): number { return this.#threadPriority; }
  set threadPriority(v: number) { this.#threadPriority = int32('threadPriority', 'ZMQ_THREAD_PRIORITY', v, -1); }
  /** ZMQ_THREAD_SCHED_POLICY: accepted and read back; without effect (no IO threads of our own). */
  get threadSchedulingPolicy(): number { return this.#threadSchedulingPolicy; }
  set threadSchedulingPolicy(v: number) { this.#threadSchedulingPolicy = int32('threadSchedulingPolicy', 'ZMQ_THREAD_SCHED_POLICY', v, -1); }

  /** The inproc names bound in this Context. */
  listInprocEndpoints(): string[] {
    return this.supervisor.getSnapshot().context.endpoints.names().map((n) => `inproc://${n}`);
  }

  /** The sockets of this Context that are not closed yet. */
  get sockets(): Socket[] {
    return [...this.#sockets.values()].map((s) => s.socket);
  }

  /** @internal A new socket joins: returns its id. */
  register(host: PeerHost, socket: Socket): number {
    const id = nextSocketId++;
    this.#sockets.set(id, { host, socket });
    return id;
  }

  /** @internal A socket was released. */
  unregister(host: PeerHost): void {
    this.#sockets.delete(host.id);
    this.supervisor.send({ type: 'socket.closed', socketId: host.id });
  }

  /** @internal The socket `id` of this Context, as transports see it. */
  host(id: number): PeerHost | undefined {
    return this.#sockets.get(id)?.host;
  }

  /** @internal */
  transport(endpoint: Endpoint): Transport {
    let t = this.#transports.get(endpoint.transport);
    if (t === undefined) {
      const make = transportFactory(endpoint.transport);
      if (make === undefined) {
        throw new ZmqError('EPROTONOSUPPORT', `endpoint "${endpoint.address}": the ${endpoint.transport} transport is not available here (a browser has inproc only)`, { address: endpoint.address });
      }
      t = make(this as never);
      this.#transports.set(endpoint.transport, t);
    }
    return t;
  }

  /** @internal Sends a registry request to the supervisor and throws what it refused with. */
  request(event: { type: 'inproc.bind' | 'inproc.unbind'; name: string; socketId: number; socketType?: string; keepConnections?: boolean }): void {
    const requestId = this.#nextRequest++;
    let refused: ZmqError | undefined;
    this.#replies.set(requestId, (e) => (refused = e));
    try {
      this.supervisor.send({ ...event, requestId } as never);
    } finally {
      this.#replies.delete(requestId);
    }
    if (refused !== undefined) throw refused;
  }

  /** @internal Whether a ZAP handler is bound in this Context. */
  zapHandlerBound(): boolean {
    return this.supervisor.getSnapshot().context.endpoints.has(ZAP_ENDPOINT.slice('inproc://'.length));
  }

  /**
   * @internal Sends one ZAP request to the handler bound in this Context and waits for its reply,
   * through a DEALER of its own (as libzmq gives each handshake its own pipe to the handler), so the
   * request id can be "1" as libzmq sends it, and a reply can only answer the request it was sent for.
   */
  async askZap(query: ZapQuery, signal: AbortSignal): Promise<ZapReply | Violation> {
    // Loaded on first use: dealer-router.js imports socket.js, which imports this file.
    const { Dealer } = await import('./dealer-router.js');
    const dealer = new Dealer({ context: this, linger: 0 });
    try {
      dealer.connect(ZAP_ENDPOINT);
      await dealer.send(zapRequestFrames('1', query), { signal });
      const reply = parseZapReply(await dealer.receive({ signal }), '1');
      return reply;
    } catch (e) {
      return violation('ERR_ZAP_UNSPECIFIED', `the ZAP exchange failed: ${(e as Error).message}`);
    } finally {
      dealer.close();
    }
  }

  /** @internal */
  newConnectionId(): string {
    return `inproc-${this.#nextConnection++}`;
  }
}

let defaultCtx: Context | undefined;

/** The global Context that sockets use when given none. */
export function defaultContext(): Context {
  return (defaultCtx ??= new Context());
}

/** The global Context that sockets use when given none (zeromq.js's `context`). */
export const context: Context = defaultContext();
