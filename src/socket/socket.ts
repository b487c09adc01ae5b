// The base of every socket class: the zeromq.js-shaped API (bind, connect, send, receive, close,
// options, events), the queue of waiting calls, and the bridge between the socket's XState actor
// and its pipes. The machine decides (who is attached, who is ready, whose turn it is, where a
// message goes); this class carries messages through pipes, asks the machine's rules, and provides
// the effects the machine names. Transports see it only as a PeerHost (src/transport/host.ts).

import { createActor } from 'xstate';
import type { Actor, ActorOptions, AnyActorRef, AnyStateMachine, SnapshotFrom } from 'xstate';
import { parseEndpoint } from '../core/endpoint.js';
import type { Endpoint } from '../core/endpoint.js';
import { describeValue, ZmqError } from '../core/errors.js';
import type { SocketEvent } from '../core/events.js';
import { LinkedQueue } from '../core/linked-queue.js';
import type { Frame, Message, MessageInput, ReceivedFrame } from '../core/frame.js';
import { STREAM_COPY_LIMIT, copyLargeFrames, emptyFrame, toHex, toMessage } from '../core/frame.js';
import { ALL_SOCKETS_OPTIONS, assignOption, defaultOptions, LIBZMQ_OPTIONS, LIBZMQ_SOCKET_TYPES } from '../core/options.js';
import type { GssapiNameType, LibzmqOption, LibzmqOptionType, OptionName, SocketOptions as OptionValues } from '../core/options.js';
import type { Pipe, PipeReader, PipeWriter } from '../core/pipe.js';
import {
  defaultSecurity,
  getSecurityOption,
  isSecurityOption,
  missingCredentials,
  SECURITY_OPTIONS,
  setSecurityOption,
} from '../core/security.js';
import type { SecurityOptionName, SecuritySettings } from '../core/security.js';
import { onNextTurn } from '../core/turn.js';
import type { PeerEntry, PeerTable } from '../../machines/peers.js';
import { nextPeer } from '../../machines/round-robin.js';
import type { AttachEvent, BoundHandle, ConnectHandle, EventSink, Peer, PeerHost, PeerLink } from '../transport/host.js';
import { inprocPipeCapacity } from '../transport/inproc.js';
import { holdLoop, releaseLoop, unrefTimer } from '../transport/keep-alive.js';
import { Context, defaultContext } from './context.js';
import { BusyPoll, defaultBusyPoll } from './busy-poll.js';
import { FairQueue } from './fair-queue.js';
import { SocketEvents } from './events.js';

export type { Peer, PeerLink } from '../transport/host.js';

/** Boolean options a socket's machine also keeps (it hears of them as `option.changed`). */
type MachineOption = 'relaxed' | 'correlate' | 'mandatory' | 'handover' | 'probeRouter';

/** Options every socket takes: the zeromq.js names. */
export interface SocketOptionsInput {
  sendHighWaterMark?: number;
  receiveHighWaterMark?: number;
  sendTimeout?: number;
  receiveTimeout?: number;
  linger?: number;
  immediate?: boolean;
  /** A string (sent as UTF-8) or exact bytes: 1..255 bytes, not starting with a 0 byte. */
  routingId?: string | Uint8Array;
  reconnectInterval?: number;
  reconnectMaxInterval?: number;
  connectTimeout?: number;
  handshakeInterval?: number;
  heartbeatInterval?: number;
  heartbeatTimeout?: number;
  heartbeatTimeToLive?: number;
  maxMessageSize?: number;
  /** Accepted and read back, without effect (libzmq's I/O thread mask; IO runs on the event loop). */
  affinity?: number;
  backlog?: number;
  ipv6?: boolean;
  /** µs a receive waiting for an answer over tcp/ipc polls before sleeping (see `busyPoll`). */
  busyPoll?: number;
  /** ZMQ_TCP_KEEPALIVE: -1 leaves the OS default, 0 turns keep-alive off, 1 on (tcp). */
  tcpKeepalive?: number;
  /** ZMQ_TCP_KEEPALIVE_CNT: probes before the connection is dropped; -1 leaves the OS default. */
  tcpKeepaliveCount?: number;
  /** ZMQ_TCP_KEEPALIVE_IDLE: seconds idle before the first probe; -1 leaves the OS default. */
  tcpKeepaliveIdle?: number;
  /** ZMQ_TCP_KEEPALIVE_INTVL: seconds between probes; -1 leaves the OS default. */
  tcpKeepaliveInterval?: number;
  // Accepted, checked and read back, without effect (see the accessors).
  rate?: number;
  recoveryInterval?: number;
  multicastMaxTransportDataUnit?: number;
  typeOfService?: number;
  tcpMaxRetransmitTimeout?: number;
  tcpAcceptFilter?: string | null;
  socksProxy?: string | null;
  interface?: string | null;
  zapEnforceDomain?: boolean;
  loopbackFastPath?: boolean;
  vmciBufferSize?: number;
  vmciBufferMinSize?: number;
  vmciBufferMaxSize?: number;
  vmciConnectTimeout?: number;
  gssapiServer?: boolean;
  gssapiPrincipal?: string | null;
  gssapiServicePrincipal?: string | null;
  gssapiPlainText?: boolean;
  gssapiPrincipalNameType?: GssapiNameType;
  gssapiServicePrincipalNameType?: GssapiNameType;
  /** The Context the socket belongs to (inproc names are per Context); the global one by default. */
  context?: Context;
  /** Accept PLAIN clients over tcp/ipc; a ZAP handler checks their credentials. */
  plainServer?: boolean;
  /** Connect as a PLAIN client with this username (at most 255 bytes). */
  plainUsername?: string | null;
  /** The PLAIN client's password (at most 255 bytes). */
  plainPassword?: string | null;
  /** Accept CURVE clients over tcp/ipc (needs `curveSecretKey`). */
  curveServer?: boolean;
  /** Our CURVE public key: 40 Z85 characters or 32 bytes. */
  curvePublicKey?: string | Uint8Array | null;
  /** Our CURVE secret key: 40 Z85 characters or 32 bytes. */
  curveSecretKey?: string | Uint8Array | null;
  /** The CURVE server's public key; setting it makes this socket a CURVE client. */
  curveServerKey?: string | Uint8Array | null;
  /** The ZAP domain (RFC 27) this socket's handshakes are judged in. */
  zapDomain?: string;
}

/** True when X and Y are the same type, readonly-ness included. */
type IfEquals<X, Y, A, B> = (<T>() => T extends X ? 1 : 2) extends (<T>() => T extends Y ? 1 : 2) ? A : B;
/** The names of the properties of S that can be assigned (options), leaving out methods. */
type WritableKeys<S> = {
  [P in keyof S]-?: S[P] extends (...args: never[]) => unknown ? never : IfEquals<{ [Q in P]: S[P] }, { -readonly [Q in P]: S[P] }, P, never>;
}[keyof S];

/**
 * The options a socket class takes in its constructor: its assignable properties, plus `context`
 * (zeromq.js's `SocketOptions<S>`), e.g. `SocketOptions<Dealer>`.
 */
export type SocketOptions<S extends Socket = Socket> = { [K in WritableKeys<S>]?: S[K] } & { context?: Context };

/** A bind or connect with the addresses it is known by and whether it is a stream (tcp, ipc). */
interface Endpointed<H> {
  handle: H;
  keys: string[];
  stream: boolean;
}

interface Waiter {
  msg: Message | undefined;
  /** A sendMany: its messages, and how many are queued so far (`msg` is unused). */
  batch?: Message[];
  index?: number;
  /** A receiveMany: the most messages it takes. */
  max?: number;
  /** A sendMany with a timeout: starts the timer again (a message of it was queued). */
  rearm?: () => void;
  /** A sendMany: `index` when its timer last started. */
  taken?: number;
  resolve: (value: never) => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Aborted while its own xsend or xrecv ran (see #inFlight): the abort applies after, if the call did not complete then. */
  late?: boolean;
  /** Its neighbours in its queue (LinkedQueue), so that it leaves from anywhere at once on a timeout or an abort. */
  prev: Waiter | undefined;
  next: Waiter | undefined;
}

/** Options for one send or receive call. */
export interface CallOptions {
  /** Aborting rejects the call (ECANCELED, with the signal's reason as `cause`) if it is still waiting. */
  signal?: AbortSignal;
}

/** Options for one receiveMany call. */
export interface ReceiveManyOptions extends CallOptions {
  /** The most messages one call returns (default 1024). */
  max?: number;
}

/** How many messages a receiveMany returns at most when not told. */
const RECEIVE_MANY_MAX = 1024;

/** @internal What an effect implementation receives: the socket, xstate's action arguments, the params. */
export type Effect<S> = (socket: S, args: { context: never; event: never }, params: never) => void;

/**
 * Options that take effect at once on a bound or connected socket. The others are read when a bind
 * or connect starts, so setting them later warns. The HWMs act at once, as in libzmq >= 4.2: the
 * pipes of existing connections are resized (`socket_base.cpp update_pipe_options`).
 */
const IMMEDIATE_OPTIONS: ReadonlySet<OptionName> = new Set<OptionName>([
  'sendHighWaterMark', 'receiveHighWaterMark',
  'sendTimeout', 'receiveTimeout', 'linger', 'busyPoll', 'relaxed', 'correlate', 'mandatory', 'handover', 'noDrop', 'verbosity',
  // Read when a peer attaches or a message is sent, so a change counts from then on.
  'probeRouter', 'invertMatching', 'manual', 'welcomeMessage',
]);
const LATE_OPTION_WARNING = 'Socket option will not take effect until next connect/bind.';
const UINT64_WARNING = 'Value is larger than Number.MAX_SAFE_INTEGER and may have been rounded inaccurately.';
const RESOLVED: Promise<void> = Promise.resolve();
/** After this many calls that completed at once, one waits a macrotask so IO is not starved (zeromq.js uses 512). */
const SYNC_RUN_LIMIT = 512;
const COMMON_OPTIONS: readonly OptionName[] = [
  'sendHighWaterMark', 'receiveHighWaterMark', 'sendTimeout', 'receiveTimeout', 'linger', 'immediate', 'routingId',
  'reconnectInterval', 'reconnectMaxInterval', 'connectTimeout', 'handshakeInterval', 'heartbeatInterval',
  'heartbeatTimeout', 'heartbeatTimeToLive', 'maxMessageSize', 'affinity', 'backlog', 'ipv6', 'busyPoll',
  ...ALL_SOCKETS_OPTIONS,
];
/** What a subclass passes when it has no options of its own: one array shared by all (none made per socket). */
const NO_EXTRA_OPTIONS: readonly OptionName[] = [];

/** A waiter's settle functions until its promise's executor sets them. */
function settledNothing(): void {}

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => onNextTurn(resolve));
}

/**
 * Each running socket actor's socket, for the effects provided once per socket type. A Map, not a
 * WeakMap: an entry lives exactly as long as the socket is open (it goes at release, and an open
 * socket is held by its Context anyway), and a WeakMap's entries are ephemerons that every garbage
 * collection walks again: with 200,000 sockets that was a few per cent of creating them.
 */
const socketOfActor = new Map<AnyActorRef, Socket>();
/** The actor every socket of a type shares the id of: its Context's supervisor hears one event type for all. */
const SOCKET_ACTOR_ID = 'socket';

/**
 * What all socket classes share. Not constructed directly: use `Push`, `Pull`, `Pair`, ….
 *
 * As in zeromq.js, each socket class seals its instances (a subclass of yours is left open): an
 * assignment to a misspelt option (`sock.lingr = 0`) throws TypeError instead of doing nothing,
 * and so does an option name the constructor does not know.
 */
export abstract class Socket<TMachine extends AnyStateMachine = AnyStateMachine> implements AsyncIterable<ReceivedFrame[]> {
  // (Fields marked `!` are assigned by the constructor, unless it returns another socket: zeromq.js's form.)
  /** The socket type as ZeroMQ spells it on the wire (`PUSH`, `ROUTER`, …). */
  readonly type!: string;
  readonly context!: Context;
  /** The monitor event stream (transports report through it, see `events`), made on first use. */
  #events: SocketEvents | undefined;
  /** @internal Unique within the process. */
  readonly id!: number;
  #lastEndpoint: string | null = null;

  /** @internal */
  protected readonly opt!: OptionValues;
  /** @internal The connections (pipes) of the peers the machine knows, by peer id. */
  protected readonly peers = new Map<number, Peer>();
  /** @internal The peers' incoming pipes that have messages, read in turn. */
  protected readonly inbound = new FairQueue();
  #machine!: TMachine;
  #actor: Actor<TMachine> | undefined;
  #closed = false;
  #released = false;
  #nextPeerId = 1;
  /** Waiting calls, oldest first (linked through the calls: a user may leave 100,000 send()s waiting without awaiting them, and abort any of them). */
  #sends = new LinkedQueue<Waiter>();
  #recvs = new LinkedQueue<Waiter>();
  /**
   * The waiting send or receive whose xsend or xrecv is running (in #flushSends or #flushRecvs, one
   * at a time: neither nests). User code can run inside it (an `actor.subscribe` observer or a
   * Context's inspector hears the transitions it causes, a monitor listener its events): an abort
   * of this call then waits until the call's outcome is known; a close() settles it, and the flush
   * finds it gone from its queue.
   */
  #inFlight: Waiter | undefined;
  #syncSends = 0;
  #syncRecvs = 0;
  /**
   * The table entry writeRoundRobin last wrote to and its link: a cache of `link(entry.id)`, so a
   * sender with one peer (most of them) looks nothing up. Right while that entry is the machine's:
   * an attach makes a new entry, and a detach of the peer clears it.
   */
  #lastEntry: PeerEntry | undefined;
  #lastPeer: Peer | undefined;
  #sentSinceReceive = false;
  #busyPoll: BusyPoll | undefined;
  /** How many binds and connects are tcp or ipc (the only waits busy polling can shorten). */
  #streamEndpoints = 0;
  /** Frames over this size are copied at send (as are those of up to COPY_AT_SEND): see STREAM_COPY_LIMIT. */
  #copyAbove = Infinity;
  /** Binds and connects, each under the address given and the address resolved. */
  /** (Both start as the one shared empty table, replaced by a socket's own on its first bind or connect.) */
  #binds: Map<string, Endpointed<BoundHandle>> = NO_HANDLES;
  #connects: Map<string, Endpointed<ConnectHandle>> = NO_HANDLES;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  /** When a positive linger ends (performance.now() ms), once close() started it. */
  #lingerDeadline = 0;
  #drainQueued = false;
  /** From the start of lingering: the peers that may still have what we queued (see #checkDrained). */
  #undrained: Set<Peer> | undefined;
  #flushQueued = false;
  /** Inside xsend/xrecv: a transition they cause is followed by the caller's own flush, not a queued one. */
  #busy = false;
  /** A transition happened while busy (it may have unblocked another waiting call). */
  #missed = false;
  #closedWaiters: (() => void)[] | undefined;
  /** Binds and unbinds under way, and whether a close() waits for them. */
  #endpointCalls = 0;
  #closeAfterCalls = false;
  /** Security options; undefined (NULL, no ZAP domain) until one is set, so plain sockets carry nothing. */
  #security: SecuritySettings | undefined;

  /**
   * zeromq.js's form, for JavaScript and for a subclass of yours: `new Socket(type, options)` with
   * libzmq's socket type number (ZMQ_PAIR 0, ZMQ_PUB 1, … ZMQ_XSUB 10, ZMQ_STREAM 11) returns a
   * socket of that type, e.g. a `Publisher` for 1 (a `Stream` for 11 from `monocoque`, not from
   * `monocoque/browser`, which has no Stream). A number that is no type, or one monocoque lacks (the
   * DRAFT types), is EINVAL. A subclass of yours calling `super(type)`, as zeromq.js's draft sockets
   * do, gets that socket as `this` with its own methods on top (its class then extends the class of
   * that type); the socket is sealed, so such a subclass declares methods, not fields.
   */
  protected constructor(type: number, options?: object);
  /** @internal How each socket class starts: its type name, its machine (see socketMachine), its options. */
  protected constructor(type: string, machine: TMachine, options: object | undefined, extraOptions?: readonly OptionName[]);
  protected constructor(type: string | number, machine?: TMachine | object, options?: object, extraOptions: readonly OptionName[] = NO_EXTRA_OPTIONS) {
    // A socket class passes its type name and its machine; anything else is zeromq.js's form. One
    // test on the way of every socket class, nothing allocated.
    if (typeof type !== 'string' || !isMachine(machine)) {
      return socketOfType(type, machine, options !== undefined || extraOptions !== NO_EXTRA_OPTIONS, options, new.target) as this;
    }
    this.type = type;
    this.#machine = machine as TMachine;
    if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
      throw new ZmqError('EINVAL', `options of a ${type} socket must be an object like { linger: 0 }, not ${describeValue(options)}`);
    }
    const input = (options ?? {}) as Record<string, unknown>;
    // Duck-typed, like error codes: a Context from another copy of the library is still one.
    const ctx = input.context as Partial<Context> | undefined;
    if (ctx !== undefined && (typeof ctx !== 'object' || ctx === null || typeof ctx.register !== 'function' || typeof ctx.transport !== 'function')) {
      throw new ZmqError('EINVAL', `option context of a ${type} socket: ${describeValue(input.context)} is not a Context (new Context())`);
    }
    this.context = (input.context as Context | undefined) ?? defaultContext();
    this.opt = defaultOptions();
    this.opt.busyPoll = defaultBusyPoll(type);
    // The Context's defaults for new sockets (libzmq `ctx.cpp`): ZMQ_BLOCKY off makes linger 0.
    if (this.context.blocky === false) this.opt.linger = 0;
    // libzmq's XSUB (and so SUB) sets linger 0 in its constructor, after the Context's default: a
    // subscriber does not wait on close to send subscriptions nobody may read (`xsub.cpp`).
    if (type === 'SUB' || type === 'XSUB') this.opt.linger = 0;
    if (this.context.ipv6 === true) this.opt.ipv6 = true;
    for (const name of Object.keys(input)) {
      const value = input[name];
      if (name === 'context' || value === undefined) continue;
      if (isSecurityOption(name)) {
        setSecurityOption((this.#security ??= defaultSecurity()), name, value);
        continue;
      }
      if (!COMMON_OPTIONS.includes(name as OptionName) && !extraOptions.includes(name as OptionName)) {
        throw new TypeError(`option "${name}" is not an option of a ${type} socket; accepted: ${[...COMMON_OPTIONS, ...extraOptions, ...SECURITY_OPTIONS].join(', ')}`);
      }
      assignOption(this.opt, name as OptionName, value);
    }
    this.id = this.context.register(asHost(this), this);
    // Started now, not on first use: a machine whose context is made by a function (tables per
    // actor) runs xstate's assign() as it starts, which xstate warns about when that happens inside
    // another actor's action (an inproc attach would start it there).
    this.#start();
  }

  /** The socket's XState actor: subscribe to it, inspect it, send it nothing. */
  get actor(): Actor<TMachine> {
    return this.#actor as Actor<TMachine>;
  }

  /** The machine's current snapshot: its state value and context (peers, ready flags, …). */
  getSnapshot(): SnapshotFrom<TMachine> {
    return this.actor.getSnapshot() as SnapshotFrom<TMachine>;
  }

  /** ZMQ_LAST_ENDPOINT: the endpoint of the last bind or connect, resolved (the real port of `tcp://…:*`). */
  get lastEndpoint(): string | null {
    return this.#lastEndpoint;
  }

  /**
   * Monitor events: bind, accept, connect, disconnect, close, end, handshake…, each naming the peer.
   * Events are buffered from the first access of this property (as zeromq.js starts its monitor
   * then), so an `end` that comes before the first `receive()` is kept.
   */
  get events(): SocketEvents {
    return this.#eventStream().watch();
  }

  /** @internal Where transports report monitor events: the same stream, reached without starting its buffer. */
  get monitor(): EventSink {
    return this.#eventStream();
  }

  #eventStream(): SocketEvents {
    let events = this.#events;
    if (events === undefined) {
      events = this.#events = new SocketEvents();
      // Made after the socket ended: a stream that has ended too.
      if (this.#released) events.close();
    }
    return events;
  }

  /** Whether the socket may be used from several threads at once: never (ZMQ_THREAD_SAFE, as zeromq.js reads it). */
  get threadSafe(): boolean {
    return false;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether a message is waiting to be received (ZMQ_EVENTS POLLIN). */
  get readable(): boolean {
    return !this.#closed && this.inbound.hasMessages;
  }

  /** Whether a send would complete at once (ZMQ_EVENTS POLLOUT). */
  get writable(): boolean {
    return !this.#closed && this.#sends.size === 0 && this.canSendNow();
  }

  // ---- options (the zeromq.js names; each doc opens with the libzmq constant) ----

  /**
   * ZMQ_SNDHWM: messages queued per peer before the socket waits or drops. 0 = unlimited. A change
   * reaches existing connections too, as in libzmq >= 4.2 (over inproc a pipe holds the sender's
   * SNDHWM plus the receiver's RCVHWM).
   */
  get sendHighWaterMark(): number { return this.opt.sendHighWaterMark; }
  set sendHighWaterMark(v: number) {
    this.setOption('sendHighWaterMark', v);
    this.#resizePipes();
  }
  /** ZMQ_RCVHWM: messages queued per peer on the receiving side. 0 = unlimited. A change reaches existing connections too. */
  get receiveHighWaterMark(): number { return this.opt.receiveHighWaterMark; }
  set receiveHighWaterMark(v: number) {
    this.setOption('receiveHighWaterMark', v);
    this.#resizePipes();
  }
  /** ZMQ_SNDTIMEO: ms a send may wait before failing with EAGAIN; -1 waits for ever, 0 never waits. */
  get sendTimeout(): number { return this.opt.sendTimeout; }
  set sendTimeout(v: number) { this.setOption('sendTimeout', v); }
  /** ZMQ_RCVTIMEO: ms a receive may wait before failing with EAGAIN; -1 waits for ever, 0 never waits. */
  get receiveTimeout(): number { return this.opt.receiveTimeout; }
  set receiveTimeout(v: number) { this.setOption('receiveTimeout', v); }
  /** ZMQ_LINGER: ms that close() lets queued messages leave; 0 discards them, -1 waits for ever. */
  get linger(): number { return this.opt.linger; }
  set linger(v: number) { this.setOption('linger', v); }
  /** ZMQ_IMMEDIATE: queue messages only to completed connections. */
  get immediate(): boolean { return this.opt.immediate; }
  set immediate(v: boolean) { this.setOption('immediate', v); }
  /** ZMQ_ROUTING_ID: the identity this socket announces to ROUTER peers (1..255 bytes, not starting with 0); null when none is set, as in zeromq.js. */
  get routingId(): string | Uint8Array | null { return this.opt.routingId ?? null; }
  set routingId(v: string | Uint8Array | undefined) { this.setOption('routingId', v); }
  /** ZMQ_RECONNECT_IVL: ms before reconnecting a dropped tcp/ipc connection; 0 or -1 never reconnects (as libzmq). */
  get reconnectInterval(): number { return this.opt.reconnectInterval; }
  set reconnectInterval(v: number) { this.setOption('reconnectInterval', v); }
  /** ZMQ_RECONNECT_IVL_MAX: over 0, the reconnect delay doubles from reconnectInterval up to this, without jitter (a maximum below the interval is the delay from the first retry); 0 waits reconnectInterval plus a random jitter below it each time (as libzmq 4.3.5). */
  get reconnectMaxInterval(): number { return this.opt.reconnectMaxInterval; }
  set reconnectMaxInterval(v: number) { this.setOption('reconnectMaxInterval', v); }
  /** ZMQ_CONNECT_TIMEOUT: ms a tcp connect may take; 0 leaves it to the OS. */
  get connectTimeout(): number { return this.opt.connectTimeout; }
  set connectTimeout(v: number) { this.setOption('connectTimeout', v); }
  /** ZMQ_HANDSHAKE_IVL: ms the ZMTP handshake may take; 0 = no limit. */
  get handshakeInterval(): number { return this.opt.handshakeInterval; }
  set handshakeInterval(v: number) { this.setOption('handshakeInterval', v); }
  /** ZMQ_HEARTBEAT_IVL: ms between PINGs on an idle tcp/ipc connection; 0 = none. */
  get heartbeatInterval(): number { return this.opt.heartbeatInterval; }
  set heartbeatInterval(v: number) { this.setOption('heartbeatInterval', v); }
  /** ZMQ_HEARTBEAT_TIMEOUT: ms without traffic after a PING before the connection is closed; 0 = never. Reads -1 (the interval) until set; -1 cannot be set (EINVAL, as libzmq). */
  get heartbeatTimeout(): number { return this.opt.heartbeatTimeout; }
  set heartbeatTimeout(v: number) { this.setOption('heartbeatTimeout', v); }
  /** ZMQ_HEARTBEAT_TTL: ms the peer should wait for traffic from us before closing (sent in PINGs); kept in tenths of a second, as libzmq keeps it (250 reads back 200). */
  get heartbeatTimeToLive(): number { return this.opt.heartbeatTimeToLive; }
  set heartbeatTimeToLive(v: number) { this.setOption('heartbeatTimeToLive', v); }
  /** ZMQ_MAXMSGSIZE: largest frame accepted from the network, in bytes; -1 = no limit. */
  get maxMessageSize(): number { return this.opt.maxMessageSize; }
  set maxMessageSize(v: number) { this.setOption('maxMessageSize', v); }
  /** ZMQ_AFFINITY: libzmq's mask of I/O threads for new connections; accepted and read back, without effect (IO runs on the event loop). */
  get affinity(): number { return this.opt.affinity; }
  set affinity(v: number) { this.setOption('affinity', v); }
  /** ZMQ_BACKLOG: the listen backlog of tcp/ipc binds. */
  get backlog(): number { return this.opt.backlog; }
  set backlog(v: number) { this.setOption('backlog', v); }
  /** ZMQ_IPV6: let tcp sockets use IPv6. */
  get ipv6(): boolean { return this.opt.ipv6; }
  set ipv6(v: boolean) { this.setOption('ipv6', v); }
  /**
   * µs a receive() that waits for an answer (a send() came since the last receive()) from a tcp/ipc
   * peer keeps the event loop polling instead of sleeping: that saves the OS wake-up (tens of µs on
   * a VM) at the price of CPU time. Default 50 for a REQ (a client waiting for its own answer), 0
   * for every other type (servers never spin unless asked). Named after libzmq's draft
   * ZMQ_BUSY_POLL (which asks the kernel instead); see busy-poll.ts.
   */
  get busyPoll(): number { return this.opt.busyPoll; }
  set busyPoll(v: number) {
    this.setOption('busyPoll', v);
    if (v === 0) this.#busyPoll?.stop();
  }

  /** ZMQ_TCP_KEEPALIVE: SO_KEEPALIVE on tcp connections: -1 leaves the OS default, 0 off, 1 on. */
  declare tcpKeepalive: number;
  /** ZMQ_TCP_KEEPALIVE_CNT: keep-alive probes unanswered before the connection is dropped; -1 leaves the OS default. */
  declare tcpKeepaliveCount: number;
  /** ZMQ_TCP_KEEPALIVE_IDLE: seconds a tcp connection is idle before the first probe; -1 leaves the OS default. */
  declare tcpKeepaliveIdle: number;
  /** ZMQ_TCP_KEEPALIVE_INTVL: seconds between keep-alive probes; -1 leaves the OS default. */
  declare tcpKeepaliveInterval: number;

  // ---- accepted, checked and read back, without effect: what they tune is not here ----

  /** ZMQ_RATE: kbit/s of pgm/epgm multicast (default 100). Without effect: no multicast transport. */
  declare rate: number;
  /** ZMQ_RECOVERY_IVL: ms of pgm/epgm recovery (default 10000). Without effect: no multicast transport. */
  declare recoveryInterval: number;
  /** ZMQ_MULTICAST_MAXTPDU: bytes of a multicast packet (default 1500). Without effect: no multicast transport. */
  declare multicastMaxTransportDataUnit: number;
  /** ZMQ_TOS: the IP type-of-service byte of tcp packets (default 0). Without effect: node:net cannot set IP_TOS. */
  declare typeOfService: number;
  /** ZMQ_TCP_MAXRT: ms before an unacknowledged tcp send fails (default 0, the OS's). Without effect: node:net cannot set TCP_USER_TIMEOUT. */
  declare tcpMaxRetransmitTimeout: number;
  /**
   * ZMQ_TCP_ACCEPT_FILTER: an address (with an optional /mask, like "10.0.0.0/8" or "::1") a tcp
   * bind accepts connections from. As in libzmq, each set adds a filter and null clears them all;
   * with any set, a bind takes only streams from an address one matches and closes the others
   * (`accept:error`, EACCES). A bind uses the filters set before it. Reads back the last one set.
   */
  declare tcpAcceptFilter: string | null;
  /** ZMQ_SOCKS_PROXY: the SOCKS5 proxy (`host:port`) tcp connects go through. Read back, **without effect**: connects go direct. */
  declare socksProxy: string | null;
  /** ZMQ_BINDTODEVICE: the network interface tcp connections are bound to. Read back, without effect: node:net cannot bind to a device. */
  declare interface: string | null;
  /** ZMQ_ZAP_ENFORCE_DOMAIN: refuse NULL connections when a ZAP domain is set but no handler answers (RFC 27 strict). Read back, without effect. */
  declare zapEnforceDomain: boolean;
  /** ZMQ_LOOPBACK_FASTPATH: Windows' SIO_LOOPBACK_FAST_PATH for loopback tcp. Read back, without effect. */
  declare loopbackFastPath: boolean;
  /** ZMQ_VMCI_BUFFER_SIZE: bytes of a VMCI buffer. Without effect: no vmci transport. */
  declare vmciBufferSize: number;
  /** ZMQ_VMCI_BUFFER_MIN_SIZE. Without effect: no vmci transport. */
  declare vmciBufferMinSize: number;
  /** ZMQ_VMCI_BUFFER_MAX_SIZE. Without effect: no vmci transport. */
  declare vmciBufferMaxSize: number;
  /** ZMQ_VMCI_CONNECT_TIMEOUT: ms (default -1). Without effect: no vmci transport. */
  declare vmciConnectTimeout: number;
  /** ZMQ_GSSAPI_SERVER: only `false` is accepted (true is ENOTSUP): monocoque has no GSSAPI (Kerberos). */
  declare gssapiServer: boolean;
  /** ZMQ_GSSAPI_PRINCIPAL: only `null` is accepted (a name is ENOTSUP): monocoque has no GSSAPI. */
  declare gssapiPrincipal: string | null;
  /** ZMQ_GSSAPI_SERVICE_PRINCIPAL: only `null` is accepted (a name is ENOTSUP): monocoque has no GSSAPI. */
  declare gssapiServicePrincipal: string | null;
  /** ZMQ_GSSAPI_PLAINTEXT: read back, without effect (no GSSAPI). */
  declare gssapiPlainText: boolean;
  /** ZMQ_GSSAPI_PRINCIPAL_NAMETYPE: read back, without effect (no GSSAPI). */
  declare gssapiPrincipalNameType: GssapiNameType;
  /** ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE: read back, without effect (no GSSAPI). */
  declare gssapiServicePrincipalNameType: GssapiNameType;

  // ---- security (tcp and ipc; inproc ignores them, as in libzmq) ----

  /** @internal What transports read to choose a mechanism; undefined means NULL with no ZAP domain. */
  get security(): Readonly<SecuritySettings> | undefined { return this.#security; }
  /** ZMQ_MECHANISM: what tcp/ipc connections of this socket speak: `null` (the NULL mechanism, as zeromq.js reads it), `plain` or `curve` (read-only). */
  get securityMechanism(): 'plain' | 'curve' | null {
    const mechanism = this.#security?.mechanism;
    return mechanism === undefined || mechanism === 'null' ? null : mechanism;
  }
  /** ZMQ_PLAIN_SERVER: accept PLAIN clients (credentials are checked by the ZAP handler). */
  get plainServer(): boolean { return this.#getSecurity('plainServer') as boolean; }
  set plainServer(v: boolean) { this.#setSecurity('plainServer', v); }
  /** ZMQ_PLAIN_USERNAME: connect as a PLAIN client with this username; null goes back to NULL. */
  get plainUsername(): string | null { return this.#getSecurity('plainUsername') as string | null; }
  set plainUsername(v: string | null) { this.#setSecurity('plainUsername', v); }
  /** ZMQ_PLAIN_PASSWORD: the PLAIN client's password. */
  get plainPassword(): string | null { return this.#getSecurity('plainPassword') as string | null; }
  set plainPassword(v: string | null) { this.#setSecurity('plainPassword', v); }
  /** ZMQ_CURVE_SERVER: accept CURVE clients (needs curveSecretKey). */
  get curveServer(): boolean { return this.#getSecurity('curveServer') as boolean; }
  set curveServer(v: boolean) { this.#setSecurity('curveServer', v); }
  /** ZMQ_CURVE_PUBLICKEY: our permanent public key (Z85 text or 32 bytes; read back as Z85). */
  get curvePublicKey(): string | null { return this.#getSecurity('curvePublicKey') as string | null; }
  set curvePublicKey(v: string | Uint8Array | null) { this.#setSecurity('curvePublicKey', v); }
  /** ZMQ_CURVE_SECRETKEY: our permanent secret key (Z85 text or 32 bytes; read back as Z85). */
  get curveSecretKey(): string | null { return this.#getSecurity('curveSecretKey') as string | null; }
  set curveSecretKey(v: string | Uint8Array | null) { this.#setSecurity('curveSecretKey', v); }
  /** ZMQ_CURVE_SERVERKEY: the server's public key; setting it makes this socket a CURVE client. */
  get curveServerKey(): string | null { return this.#getSecurity('curveServerKey') as string | null; }
  set curveServerKey(v: string | Uint8Array | null) { this.#setSecurity('curveServerKey', v); }
  /** ZMQ_ZAP_DOMAIN: the domain named in ZAP requests; a NULL socket asks ZAP only when it is set. Reads null when none is set, as in zeromq.js. */
  get zapDomain(): string | null { return (this.#getSecurity('zapDomain') as string) || null; }
  set zapDomain(v: string) { this.#setSecurity('zapDomain', v); }

  // ---- zeromq.js's low-level accessors: options by libzmq's id (`zmq.h`), for code that uses them ----
  // (Each named option above is one of these: `immediate` is ZMQ_IMMEDIATE, 39. An id monocoque does
  // not have, or an accessor of another width than libzmq's, is EINVAL, as libzmq's getsockopt says.)

  /** An option by libzmq's id, read as zeromq.js's `getBoolOption` reads it (a 4-byte int, not 0). */
  protected getBoolOption(option: number): boolean { return readOption(this, option, 'Bool') as boolean; }
  /** Sets an option by libzmq's id (a 4-byte int, 0 or 1), through its property: the same checks. */
  protected setBoolOption(option: number, value: boolean): void { writeOption(this, option, 'Bool', value); }
  /** An option by libzmq's id, as a 4-byte signed int (ZMQ_SNDHWM is 23). */
  protected getInt32Option(option: number): number { return readOption(this, option, 'Int32') as number; }
  protected setInt32Option(option: number, value: number): void { writeOption(this, option, 'Int32', value); }
  /** An option by libzmq's id, as a 4-byte unsigned int. */
  protected getUint32Option(option: number): number { return readOption(this, option, 'Uint32') as number; }
  protected setUint32Option(option: number, value: number): void { writeOption(this, option, 'Uint32', value); }
  /** An option by libzmq's id, as an 8-byte signed int (ZMQ_MAXMSGSIZE is 22). */
  protected getInt64Option(option: number): number { return readOption(this, option, 'Int64') as number; }
  protected setInt64Option(option: number, value: number): void { writeOption(this, option, 'Int64', value); }
  /** An option by libzmq's id, as an 8-byte unsigned int (ZMQ_AFFINITY is 4); a value past 2^53 warns, as in zeromq.js. */
  protected getUint64Option(option: number): number { return readOption(this, option, 'Uint64') as number; }
  protected setUint64Option(option: number, value: number): void { writeOption(this, option, 'Uint64', value); }
  /** An option by libzmq's id, as text (bytes read as UTF-8); null when unset or empty. */
  protected getStringOption(option: number): string | null { return readOption(this, option, 'String') as string | null; }
  /** Sets an option by libzmq's id from text, bytes or null (ZMQ_ROUTING_ID is 5). */
  protected setStringOption(option: number, value: string | Uint8Array | null): void { writeOption(this, option, 'String', value); }

  #getSecurity(name: SecurityOptionName): string | boolean | null {
    return getSecurityOption(this.#security ?? defaultSecurity(), name);
  }

  #setSecurity(name: SecurityOptionName, value: unknown): void {
    this.#assertOpen();
    // A new object, never a change in place: each bind and connect keeps the settings it started
    // with (as libzmq fixes them per endpoint), so a later change cannot reach a live endpoint.
    const next = { ...(this.#security ?? defaultSecurity()) };
    setSecurityOption(next, name, value);
    this.#security = next;
    this.#warnIfLate();
  }

  /** A tcp/ipc bind or connect cannot start with CURVE keys missing (EINVAL, naming them). */
  #checkCredentials(address: string, what: 'bind' | 'connect'): void {
    const s = this.#security;
    const missing = s === undefined ? undefined : missingCredentials(s);
    if (missing !== undefined) throw new ZmqError('EINVAL', `${what}("${address}"): ${missing}`, { address });
  }

  /** @internal Checks and stores one option (EINVAL on a bad value; the old value is kept). */
  protected setOption<K extends OptionName>(name: K, value: unknown): void {
    this.#assertOpen();
    assignOption(this.opt, name, value);
    if (!IMMEDIATE_OPTIONS.has(name)) this.#warnIfLate();
  }

  /**
   * An option that binds and connects read when they start, set while one exists or is under way:
   * warn that it reaches only later ones, with zeromq.js's words (`socket.cc
   * WarnUnlessImmediateOption`), as a process warning where the runtime has them.
   */
  #warnIfLate(): void {
    if (this.#binds.size === 0 && this.#connects.size === 0 && this.#endpointCalls === 0) return;
    (globalThis as { process?: { emitWarning?: (message: string) => void } }).process?.emitWarning?.(LATE_OPTION_WARNING);
  }

  /**
   * A changed HWM reaches the pipes of existing connections, as in libzmq >= 4.2
   * (`socket_base.cpp update_pipe_options`), each sized as its transport sizes it.
   */
  #resizePipes(): void {
    for (const peer of this.peers.values()) {
      if (peer.transport === 'inproc') {
        this.#resizePipe(peer.out, inprocPipeCapacity(peer.out));
        this.#resizePipe(peer.in, inprocPipeCapacity(peer.in));
      } else {
        // tcp and ipc: each side's own HWM, as net-transport.ts makes their pipes.
        this.#resizePipe(peer.out, this.opt.sendHighWaterMark);
        this.#resizePipe(peer.in, this.opt.receiveHighWaterMark);
      }
    }
  }

  #resizePipe(pipe: Pipe, capacity: number): void {
    if (pipe.capacity === capacity) return;
    const open = pipe.writable;
    // Room made wakes the writer (pipe.ready); a pipe now at its HWM is a mute edge, which the
    // writing socket's machine hears as after a write that filled it (a stream engine writing our
    // incoming pipe finds out at its next write).
    pipe.resize(capacity);
    const writer = pipe.writer as unknown as { pipeFilled?(pipe: Pipe): void };
    if (open && !pipe.writable && typeof writer.pipeFilled === 'function') writer.pipeFilled(pipe);
  }

  /** @internal Sets an option the machine keeps too (a flag like `relaxed`): stored, then told. */
  protected setMachineOption(name: MachineOption, value: unknown): void {
    this.setOption(name, value);
    this.tell({ type: 'option.changed', name, value: this.opt[name] });
  }

  /** @internal Tells the machine which of these flags the constructor's options turned on. */
  protected tellMachineOptions(names: readonly MachineOption[]): void {
    for (const name of names) if (this.opt[name]) this.tell({ type: 'option.changed', name, value: true });
  }

  // ---- endpoints ----

  /**
   * Binds to an endpoint: `inproc://name`, `ipc:///path` or `ipc://@name`, `tcp://host:port`
   * (`tcp://*:*` for every interface and an ephemeral port; `lastEndpoint` tells which).
   */
  bind(address: string): Promise<void> {
    return this.#endpointCall(this.#bind(address));
  }

  async #bind(address: string): Promise<void> {
    this.#assertOpen();
    let ep: Endpoint;
    let stream = false;
    try {
      ep = parseEndpoint(address, 'bind');
      if (ep.transport !== 'inproc') {
        this.#checkCredentials(address, 'bind');
        this.#streamStarting();
        stream = true;
      }
      const handle = await this.context.transport(ep).bind(asHost(this), ep);
      if (this.#closed) {
        handle.close();
        throw closedError();
      }
      if (this.#binds === NO_HANDLES) this.#binds = new Map();
      this.#remember(this.#binds, { handle, keys: [handle.address, address], stream });
      stream = false; // held now: unbind or close ends it
      this.#lastEndpoint = handle.address;
      this.emitEvent({ type: 'bind', address: handle.address });
    } catch (e) {
      if (e instanceof Error && (e as ZmqError).address === undefined) (e as ZmqError).address = address;
      if (stream) this.#streamEnded();
      this.emitEvent({ type: 'bind:error', address, error: e as ZmqError });
      throw e;
    }
  }

  /** Undoes a bind: the endpoint is released and the peers that came through it are detached. */
  unbind(address: string): Promise<void> {
    return this.#endpointCall(this.#unbind(address));
  }

  async #unbind(address: string): Promise<void> {
    this.#assertOpen();
    const bound = this.#binds.get(address) ?? this.#binds.get(parseEndpoint(address, 'bind').address);
    if (bound === undefined) throw new ZmqError('ENOENT', `unbind("${address}"): this socket is not bound to that endpoint`, { address });
    this.#forget(this.#binds, bound);
    bound.handle.close();
  }

  /**
   * Connects to an endpoint. Returns at once; the connection completes in the background (for
   * inproc, when the name is bound, which may be later: libzmq 4 allows connect before bind).
   */
  connect(address: string): void {
    this.#assertOpen();
    const ep = parseEndpoint(address, 'connect');
    if (this.#connects.has(ep.address)) return;
    const stream = ep.transport !== 'inproc';
    if (stream) {
      this.#checkCredentials(address, 'connect');
      this.#streamStarting();
    }
    let handle: ConnectHandle;
    try {
      handle = this.context.transport(ep).connect(asHost(this), ep);
    } catch (e) {
      if (stream) this.#streamEnded();
      throw e;
    }
    if (this.#connects === NO_HANDLES) this.#connects = new Map();
    this.#remember(this.#connects, { handle, keys: [ep.address, address], stream });
    this.#lastEndpoint = ep.address;
  }

  /** @internal Whether this socket has a connect to `endpoint` (resolved, as connect() keys it). */
  protected hasConnect(endpoint: string): boolean {
    return this.#connects.has(endpoint);
  }

  /** Undoes a connect: the connection is closed and will not be retried. */
  disconnect(address: string): void {
    this.#assertOpen();
    // A malformed endpoint is EINVAL (an unknown transport EPROTONOSUPPORT), as libzmq says, not
    // ENOENT. Parsed as for bind: a wildcard is well-formed, just never connected (ENOENT).
    const connected = this.#connects.get(address) ?? this.#connects.get(parseEndpoint(address, 'bind').address);
    if (connected === undefined) throw new ZmqError('ENOENT', `disconnect("${address}"): this socket is not connected to that endpoint`, { address });
    this.#forget(this.#connects, connected);
    connected.handle.close();
  }

  /**
   * A bind or unbind under way: a close() called meanwhile waits until it has settled (`closed`
   * stays false until then), as in zeromq.js, so the call completes or fails on its own terms.
   */
  #endpointCall(call: Promise<void>): Promise<void> {
    this.#endpointCalls++;
    holdLoop(); // a bind under way keeps the process alive, as in zeromq.js
    // Beside the caller's promise, not chained into it (that would delay every bind by a tick);
    // registered first, it runs before the caller's own continuation.
    const settled = (): void => this.#endpointCallSettled();
    call.then(settled, settled);
    return call;
  }

  #endpointCallSettled(): void {
    releaseLoop();
    if (--this.#endpointCalls > 0 || !this.#closeAfterCalls) return;
    this.#closeAfterCalls = false;
    this.close();
  }

  #remember<H>(map: Map<string, Endpointed<H>>, entry: Endpointed<H>): void {
    for (const k of entry.keys) map.set(k, entry);
  }

  /**
   * A tcp or ipc endpoint is about to be made, counted before the transport runs (a connect
   * attaches its pipe at once, and waiting sends move into it). With the first, send() copies
   * frames over STREAM_COPY_LIMIT too, and so do the messages still waiting to be queued: any of
   * them may now go to a stream, which writes such a frame by reference, after the send resolved.
   * (Smaller ones are copied by the stream's engine or pipe: see STREAM_COPY_LIMIT.)
   */
  #streamStarting(): void {
    if (this.#streamEndpoints++ > 0) return;
    this.#copyAbove = STREAM_COPY_LIMIT;
    for (const w of this.#sends.toArray()) {
      if (w.msg !== undefined) copyLargeFrames(w.msg, STREAM_COPY_LIMIT, Infinity);
      const batch = w.batch;
      if (batch !== undefined) for (let i = w.index ?? 0; i < batch.length; i++) copyLargeFrames(batch[i] as Message, STREAM_COPY_LIMIT, Infinity);
    }
  }

  #forget<H>(map: Map<string, Endpointed<H>>, entry: Endpointed<H>): void {
    for (const k of entry.keys) if (map.get(k) === entry) map.delete(k);
    if (entry.stream) this.#streamEnded();
  }

  /** A tcp or ipc endpoint was released, or not made after all: with the last, send() copies small frames only again. */
  #streamEnded(): void {
    if (--this.#streamEndpoints === 0) this.#copyAbove = Infinity;
  }

  // ---- sending and receiving ----

  /**
   * Sends one message: a frame or an array of frames (Buffer, Uint8Array, ArrayBuffer, string,
   * null). Resolves when the message is queued to a peer. Calls made while one is waiting queue
   * behind it in call order (zeromq.js fails them with EBUSY).
   *
   * Who owns the bytes: a frame of up to 128 bytes is copied here, as in zeromq.js. Over tcp and
   * ipc every frame is copied before this returns (here, or into the stream's write buffer, or
   * into the pipe it waits in: see STREAM_COPY_LIMIT), so the caller may reuse any buffer at once.
   * Over inproc a larger frame is sent by reference, zero copy (the receiver gets that very
   * Buffer), so do not change it after sending. Receivers must not change the frames they get:
   * they may be shared.
   */
  send(message: MessageInput, options?: CallOptions): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    let msg: Message;
    try {
      msg = toMessage(message, this.#copyAbove);
      if (options !== undefined) checkCallOptions(options, 'send');
      this.checkSend(msg);
      this.#sentSinceReceive = true;
      // A fault inside the socket (xsend throwing) is heard as every error is, from the promise.
      if (this.#sends.size === 0 && this.#xsend(msg)) {
        if (++this.#syncSends < SYNC_RUN_LIMIT) return RESOLVED;
        this.#syncSends = 0;
        return yieldToLoop();
      }
    } catch (e) {
      return Promise.reject(e);
    }
    this.#syncSends = 0;
    return this.#wait(this.#sends, msg, this.opt.sendTimeout, options?.signal, 'send') as Promise<void>;
  }

  /**
   * Receives one message as an array of Buffers (plain Uint8Arrays in a browser). Calls made while
   * one is waiting queue behind it in call order. The array is the caller's own; the frames in it
   * are shared read-only (see `send`).
   */
  receive(options?: CallOptions): Promise<ReceivedFrame[]> {
    if (this.#closed) return Promise.reject(closedError());
    try {
      if (options !== undefined) checkCallOptions(options, 'receive');
      this.checkReceive();
    } catch (e) {
      return Promise.reject(e);
    }
    const answer = this.#sentSinceReceive;
    this.#sentSinceReceive = false;
    if (this.#recvs.size === 0) {
      let msg: Message | undefined;
      try {
        msg = this.#xrecv();
      } catch (e) {
        return Promise.reject(e); // as in send()
      }
      if (msg !== undefined) {
        if (++this.#syncRecvs < SYNC_RUN_LIMIT) return Promise.resolve(msg as Buffer[]);
        this.#syncRecvs = 0;
        return yieldToLoop().then(() => msg as Buffer[]);
      }
    }
    this.#syncRecvs = 0;
    const waiting = this.#wait(this.#recvs, undefined, this.opt.receiveTimeout, options?.signal, 'receive') as Promise<Buffer[]>;
    // Only a wait for an answer polls (see busy-poll.ts): one with a send() since the last receive().
    if (answer && this.#streamEndpoints > 0 && this.opt.busyPoll > 0 && this.#recvs.size === 1) {
      this.busyPolling.start(this.#recvs.peek() as Waiter, this.opt.busyPoll);
    }
    return waiting;
  }

  /**
   * Sends many messages for one promise: each is sent as `send()` sends one (the same copy of small
   * frames, the same rules: HWM, routing, filtering, its frames together), in order, and no other
   * call's message comes between them. Resolves when the last is queued. Every message is checked
   * before any is sent (a frame that is not bytes rejects the call with nothing sent). If one fails
   * later (EFSM, EHOSTUNREACH, a timeout: `sendTimeout` applies to each wait), the promise rejects
   * with that error, whose `sent` is how many were queued before it; those stay queued and the
   * rest are not sent.
   *
   * One promise per batch instead of one per message: for streams of small messages, where the
   * promise is most of the cost. `send()` remains the call for a message at a time.
   */
  sendMany(messages: readonly MessageInput[], options?: CallOptions): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    let batch: Message[];
    try {
      if (!Array.isArray(messages)) throw new ZmqError('EINVAL', `sendMany(): messages must be an array of messages, not ${describeValue(messages)}`);
      if (options !== undefined) checkCallOptions(options, 'sendMany');
      batch = new Array(messages.length);
      for (let i = 0; i < messages.length; i++) {
        try {
          batch[i] = toMessage(messages[i] as MessageInput, this.#copyAbove);
        } catch (e) {
          if (e instanceof ZmqError) e.message = `sendMany(): message ${i} of ${messages.length}: ${e.message}`;
          throw e;
        }
      }
    } catch (e) {
      return Promise.reject(e);
    }
    const n = batch.length;
    if (n === 0) return RESOLVED;
    this.#sentSinceReceive = true;
    let i = 0;
    // Made from user code inside one of our calls, it waits its turn (as in #xsend).
    if (this.#sends.size === 0 && !this.#busy) {
      this.#busy = true;
      try {
        for (; i < n; i++) {
          const msg = batch[i] as Message;
          this.checkSend(msg);
          if (!this.xsend(msg)) break;
        }
      } catch (e) {
        (e as ZmqError).sent = i;
        return Promise.reject(e);
      } finally {
        this.#leave();
      }
      if (i === n) {
        // Counted per message, as send() counts: a loop of batches yields as often as one of sends.
        if ((this.#syncSends += n) < SYNC_RUN_LIMIT) return RESOLVED;
        this.#syncSends = 0;
        return yieldToLoop();
      }
    }
    this.#syncSends = 0;
    if (this.#busy) this.#missed = true; // the outer call sends it
    return this.#wait(this.#sends, undefined, this.opt.sendTimeout, options?.signal, 'send', batch, i) as Promise<void>;
  }

  /**
   * Receives the messages that are ready, up to `max` (default 1024), as an array of messages: at
   * once if any is ready, else it waits for the first (as `receive()` does, `receiveTimeout`
   * included) and returns it with whatever else is ready by then. Each message is what `receive()`
   * would have returned, in the same order, under the same rules.
   */
  receiveMany(options?: ReceiveManyOptions): Promise<ReceivedFrame[][]> {
    if (this.#closed) return Promise.reject(closedError());
    let max = RECEIVE_MANY_MAX;
    try {
      if (options !== undefined) {
        checkCallOptions(options, 'receiveMany');
        if (options.max !== undefined) {
          if (!Number.isInteger(options.max) || options.max < 1) {
            throw new ZmqError('EINVAL', `receiveMany(): option max is ${describeValue(options.max)}, not an integer of at least 1`);
          }
          max = options.max;
        }
      }
      this.checkReceive();
    } catch (e) {
      return Promise.reject(e);
    }
    this.#sentSinceReceive = false;
    if (this.#recvs.size === 0 && !this.#busy) { // as in sendMany
      this.#busy = true;
      let batch: Message[] | undefined;
      try {
        batch = this.#takeMany(max);
      } catch (e) {
        return Promise.reject(e); // as in receive()
      } finally {
        this.#leave();
      }
      if (batch !== undefined) {
        if ((this.#syncRecvs += batch.length) < SYNC_RUN_LIMIT) return Promise.resolve(batch as Buffer[][]);
        this.#syncRecvs = 0;
        return yieldToLoop().then(() => batch as Buffer[][]);
      }
    }
    this.#syncRecvs = 0;
    if (this.#busy) this.#missed = true; // as in sendMany
    return this.#wait(this.#recvs, undefined, this.opt.receiveTimeout, options?.signal, 'receive', undefined, 0, max) as Promise<Buffer[][]>;
  }

  /** Up to `max` ready messages (undefined when none is), each taken as receive() takes one. */
  #takeMany(max: number): Message[] | undefined {
    const first = this.xrecv();
    if (first === undefined) return undefined;
    const batch = [first];
    while (batch.length < max) {
      // The type's rules again before each (a REQ has its one reply, then no turn to receive).
      try {
        this.checkReceive();
      } catch {
        break;
      }
      const msg = this.xrecv();
      if (msg === undefined) break;
      batch.push(msg);
    }
    return batch;
  }

  /**
   * Receives messages until the socket is closed: a receive that `close()` cancels (EAGAIN) ends
   * the loop; any other error is thrown, as in zeromq.js.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<ReceivedFrame[]> {
    while (!this.#closed) {
      try {
        yield await this.receive();
      } catch (e) {
        if (this.#closed && (e as ZmqError).code === 'EAGAIN') return;
        throw e;
      }
    }
  }

  /**
   * Closes the socket (once a bind or unbind under way has settled, as in zeromq.js). Waiting
   * sends and receives fail with EAGAIN, as in zeromq.js; later calls fail with EBADF. Queued
   * messages keep leaving for up to `linger` ms (0 discards them, -1 waits until they are gone)
   * while the machine is in `lingering`.
   */
  close(): void {
    if (this.#closed) return;
    if (this.#endpointCalls > 0) {
      this.#closeAfterCalls = true;
      return;
    }
    this.#closed = true;
    this.#busyPoll?.stop();
    for (const w of this.#sends.drain()) {
      const e = cancelledError('send', this.type);
      if (w.batch !== undefined) e.sent = w.index;
      this.#settle(w, e);
    }
    for (const w of this.#recvs.drain()) this.#settle(w, cancelledError('receive', this.type));
    let queued = 0;
    for (const p of this.peers.values()) if (p.attached) queued += p.out.size;
    for (const e of handlesOf(this.#connects)) e.handle.stopReconnecting?.();
    for (const e of handlesOf(this.#binds)) e.handle.stopListening?.();
    this.actor.send({ type: 'close', linger: this.opt.linger, queued } as never);
  }

  /** @internal Resolves when the socket is fully closed (after lingering). */
  whenReleased(): Promise<void> {
    if (this.#released) return RESOLVED;
    return new Promise((resolve) => (this.#closedWaiters ??= []).push(resolve));
  }

  // ---- what each socket type provides ----

  /** @internal Tries to queue `msg` now. True: taken (or dropped by the type's rules). False: wait. */
  protected abstract xsend(msg: Message): boolean;
  /** @internal Takes the next message for the user, or undefined if none is ready. */
  protected abstract xrecv(): Message | undefined;
  /** @internal Whether a send would complete now (for `writable`). */
  protected abstract canSendNow(): boolean;
  /** @internal Throws if this message may not be sent now (ENOTSUP for a type that never sends, EFSM…). */
  protected checkSend(_msg: Message): void {}
  /** @internal Throws if receive may not be called now. */
  protected checkReceive(): void {}
  /** @internal A waiting send left the queue unsent (timeout, abort, or refused when its turn came). */
  protected sendGaveUp(): void {}
  /** @internal A peer is about to leave the machine (its pipes are still there, the machine still knows it). */
  protected peerLeaving(_peer: Peer): void {}

  // ---- helpers for the socket types ----

  /** @internal The machine's context now: its tables are the ones the fast path reads. */
  protected get machineContext(): SnapshotFrom<TMachine>['context'] {
    return (this.actor.getSnapshot() as { context: SnapshotFrom<TMachine>['context'] }).context;
  }

  /** @internal The machine's state value now. */
  protected get machineState(): unknown {
    return (this.actor.getSnapshot() as { value: unknown }).value;
  }

  /** @internal The link of an attached peer the machine names. */
  protected link(peerId: number): Peer | undefined {
    return this.peers.get(peerId);
  }

  /**
   * @internal Writes `msg` to `peer`'s pipe; tells the machine if that filled the pipe (the mute
   * edge). False when the pipe took nothing: full (the machine heard so when it filled), or ended
   * or dropped (the peer is leaving: the machine hears `peer.detached`).
   */
  protected writeTo(peer: Peer, msg: Message): boolean {
    const out = peer.out;
    if (!out.write(msg)) return false;
    if (!out.writable) this.pipeFilled(out);
    return true;
  }

  /**
   * @internal Writes `msg` to the peer the machine's round-robin rule (`nextPeer`) names among the
   * ready ones: the peer written to, or undefined when none had room. Each try either delivers or
   * tells the machine that peer is mute, so this ends.
   */
  protected writeRoundRobin(peers: PeerTable, msg: Message): Peer | undefined {
    for (let tries = peers.readyCount; tries > 0; tries--) {
      const entry = nextPeer(peers);
      if (entry === undefined) return undefined;
      let peer: Peer | undefined;
      if (entry === this.#lastEntry) {
        peer = this.#lastPeer;
      } else {
        peer = this.link(entry.id);
        if (peer !== undefined) {
          this.#lastEntry = entry;
          this.#lastPeer = peer;
        }
      }
      if (peer !== undefined && this.writeTo(peer, msg)) return peer;
    }
    return undefined;
  }

  /** @internal A pipe we write just reached its HWM: tell the machine. */
  protected pipeFilled(pipe: Pipe): void {
    const peer = pipe.writerTag as Peer | undefined;
    if (peer?.attached) this.tell({ type: 'pipe.muted', peerId: peer.id });
  }

  /** @internal Emits a monitor event (only built when someone listens). */
  protected emitEvent(event: SocketEvent): void {
    const events = this.#events;
    if (events?.observed) events.emit(event);
  }

  /** @internal Sends an event to this socket's machine. */
  protected tell(event: { type: string; [key: string]: unknown }): void {
    this.actor.send(event as never);
  }

  /**
   * @internal Wakes waiting sends and receives (after a transition, or a pipe event). Transitions
   * that their own xsend/xrecv cause are noted, and the loops run again rather than queue a flush.
   */
  protected flush(): void {
    if (this.#busy) {
      this.#missed = true;
      return;
    }
    this.#busy = true;
    try {
      do {
        this.#missed = false;
        this.#flushSends();
        try {
          this.#flushRecvs();
        } catch (e) {
          this.#receiveFaulted(e);
          this.#missed = true; // the rest go on
        }
      } while (this.#missed && (this.#sends.size > 0 || this.#recvs.size > 0));
    } finally {
      this.#busy = false;
      this.#missed = false;
    }
  }

  /** @internal Whether a send() is waiting to be queued. */
  protected get sendsWaiting(): boolean {
    return this.#sends.size > 0;
  }

  /** @internal Rejects every waiting receive with `error`. */
  protected failReceives(error: ZmqError): void {
    for (const w of this.#recvs.drain()) {
      // Not the receive in flight (user code inside its xrecv led here): it has its reply, and keeps it.
      if (w === this.#inFlight) this.#recvs.push(w);
      else {
        this.#settle(w, error);
        this.#busyPoll?.ended(w, false);
      }
    }
  }

  /** @internal Wakes waiting receives only (new input that is not a machine event). */
  protected flushReceives(): void {
    this.#wakeReceives();
  }

  /** @internal Refuses a peer the machine does not accept (a second PAIR peer, a taken routing id). */
  protected refuse(peer: Peer, why: string): void {
    this.#letGo(peer);
    this.peers.delete(peer.id);
    peer.out.drop();
    peer.in.drop();
    this.emitEvent({ type: 'peer:refused', address: peer.endpoint, peer: eventPeer(peer), error: new ZmqError('EINVAL', why) });
    if (peer.ignore !== undefined) {
      peer.refused = true; // its stream stays open, out of use; its end is reported (detachPeer)
      peer.ignore();
    } else peer.close();
  }

  /**
   * @internal Detaches a peer the machine evicted (ROUTER handover): its unread messages go too, and
   * its connection is kept out of use like a refused one.
   */
  protected evict(peer: Peer): void {
    peer.in.drop();
    this.detachPeer(peer);
    if (peer.ignore !== undefined) peer.ignore();
    else peer.close();
  }

  /** @internal The socket as transports and pipes see it (tests look peers up by it). */
  get host(): PeerHost {
    return asHost(this);
  }

  /** @internal This socket's busy polling (its counts are read by tests), made on first use. */
  get busyPolling(): BusyPoll {
    return (this.#busyPoll ??= new BusyPoll());
  }

  /** @internal The effects every socket machine names, for {@link socketMachine}. */
  static readonly commonEffects: Record<string, Effect<Socket>> = {
    startLinger: (s) => s.#startLinger(),
    release: (s) => s.#release(),
    refusePeer: (s, { event }) => {
      const peer = s.peers.get((event as { peerId: number }).peerId);
      if (peer !== undefined) s.refuse(peer, `a ${s.type} socket takes one peer; a second (${peer.peerType} via ${peer.endpoint}) was refused`);
    },
    // ZMQ_PROBE_ROUTER (DEALER, REQ, ROUTER decide it as a peer attaches): an empty message, the
    // peer's first (libzmq `dealer_t` / `router_t::xattach_pipe`).
    sendProbe: (s, _args, params) => {
      const peer = s.peers.get((params as { peerId: number }).peerId);
      if (peer !== undefined) s.writeTo(peer, [emptyFrame()]);
    },
  };

  // ---- internals ----

  #start(): Actor<TMachine> {
    // One machine per socket type (effects provided once, see socketMachine); the actor finds this
    // socket through the WeakMap. It joins its Context's actor system under the shared id `socket`,
    // so inspectors see it there and the supervisor hears one event type however many sockets end.
    // Typed as xstate publishes ActorOptions (`parent` is one of them), then widened for the generic.
    const options: ActorOptions<TMachine> = { systemId: `socket-${this.id}`, id: SOCKET_ACTOR_ID, parent: this.context.supervisor };
    const actor = createActor(this.#machine, options as never) as Actor<TMachine>;
    this.#actor = actor;
    socketOfActor.set(actor, this);
    actor.subscribe(() => this.#afterTransition());
    actor.start();
    return actor;
  }

  /**
   * After each transition, waiting calls may proceed. Not at once: the machine is still handling
   * the event (a send from here would queue behind it and act on the old state), so on a microtask.
   */
  #afterTransition(): void {
    if (this.#busy) {
      this.#missed = true;
      return;
    }
    this.#queueFlush();
  }

  #queueFlush(): void {
    if (this.#flushQueued || (this.#sends.size === 0 && this.#recvs.size === 0)) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.flush();
    });
  }

  /** The outermost call of ours ends: down goes the flag, and a transition it missed lets waiting calls go. */
  #leave(): void {
    this.#busy = false;
    if (this.#missed) this.#followUp();
  }

  /** A transition happened while busy: let waiting calls proceed (if any wait). */
  #followUp(): void {
    this.#missed = false;
    if (this.#sends.size > 0 || this.#recvs.size > 0) this.flush();
  }

  /**
   * xsend for a user's call: a transition it causes may let another waiting call go. The flag is
   * put back by a catch, not a `finally`, here and in #xrecv and #wakeReceives. V8
   * compiles a `finally` with a record of how the block was left and a dispatch on it, which the
   * normal path pays too: with `finally` the three cost about 90 instructions more per inproc
   * PUSH->PULL message (bench/instructions.ts).
   */
  #xsend(msg: Message): boolean {
    // A call made from user code that runs inside one of ours (see #inFlight) waits its turn: the
    // outer one follows up and sends it then, in call order (a REQ's machine has heard its request).
    if (this.#busy) {
      this.#missed = true;
      return false;
    }
    this.#busy = true;
    let taken: boolean;
    try {
      taken = this.xsend(msg);
    } catch (e) {
      this.#leave(); // calls that waited on this one still get their turn
      throw e;
    }
    this.#leave();
    return taken;
  }

  /** xrecv for a user's call (see #xsend). */
  #xrecv(): Message | undefined {
    if (this.#busy) {
      this.#missed = true; // as in #xsend
      return undefined;
    }
    this.#busy = true;
    let msg: Message | undefined;
    try {
      msg = this.xrecv();
    } catch (e) {
      this.#leave(); // calls that waited on this one still get their turn
      throw e;
    }
    this.#leave();
    return msg;
  }

  // ---- the PeerHost and the pipes' reader and writer: what transports and pipes call ----
  // (members marked @internal are left out of the published types; transports see PeerHost only)

  /** @internal The options, as transports read them. */
  get options(): Readonly<OptionValues> {
    return this.opt;
  }

  /** @internal */
  pipeDrained(_pipe: Pipe): void {
    if (this.#closed) this.#checkDrained();
  }

  /** @internal A peer's incoming pipe has messages (PipeReader); PUB/XPUB read subscriptions here. */
  pipeReadable(pipe: Pipe): void {
    this.inbound.add(pipe);
    if (this.#recvs.size > 0) this.#wakeReceives();
  }

  /** @internal A peer's incoming pipe ended and is empty (PipeReader). */
  pipeEnded(pipe: Pipe): void {
    this.inbound.remove(pipe);
  }

  /** @internal A pipe we write drained to its low-water mark (PipeWriter). */
  pipeWritable(pipe: Pipe): void {
    const peer = pipe.writerTag as Peer | undefined;
    if (peer?.attached && !this.#closed) this.tell({ type: 'pipe.ready', peerId: peer.id });
  }

  /** @internal The peer stopped reading: it is gone as far as sending goes (PipeWriter). */
  pipeDropped(pipe: Pipe): void {
    const peer = pipe.writerTag as Peer | undefined;
    if (peer !== undefined) this.detachPeer(peer);
  }

  /** @internal */
  get lingerLeft(): number {
    if (this.#lingerDeadline === 0) return this.opt.linger;
    return Math.max(0, Math.ceil(this.#lingerDeadline - performance.now()));
  }

  /** @internal */
  attachPeer(link: PeerLink, event: AttachEvent): Peer {
    const peer = link as Peer;
    (peer as { id: number }).id = this.#nextPeerId++;
    peer.attached = true;
    link.out.writer = this;
    link.out.writerTag = peer;
    link.in.reader = this;
    link.in.readerTag = peer;
    this.peers.set(peer.id, peer);
    if (this.#closed) {
      this.detachPeer(peer);
      return peer;
    }
    const attached: Record<string, unknown> = { type: 'peer.attached', peerId: peer.id, endpoint: link.endpoint, peerType: link.peerType };
    if (link.routingId !== undefined) attached.routingId = toHex(link.routingId);
    this.tell(attached as { type: string });
    if (!this.peers.has(peer.id) || !peer.attached) return peer; // refused by the machine
    if (link.in.size > 0) this.pipeReadable(link.in);
    if (event !== null) this.emitEvent({ type: event, address: link.endpoint, peer: eventPeer(link) });
    this.flush();
    return peer;
  }

  /** @internal */
  detachPeer(peer: Peer, quiet = false, reason?: ZmqError): void {
    if (!peer.attached) {
      // A refused peer's connection, kept open and out of use, ends now: libzmq reports it.
      if (peer.refused === true) {
        peer.refused = false;
        if (!quiet) this.#emitDisconnect(peer, reason);
      }
      return;
    }
    this.#letGo(peer);
    // What we queued stays readable by the peer; what the peer queued for us is still ours to read
    // until its pipe ends (a lingering peer's last messages arrive).
    peer.out.end();
    if (!this.#closed) this.tell({ type: 'peer.detached', peerId: peer.id });
    this.peers.delete(peer.id);
    if (!quiet) this.#emitDisconnect(peer, reason);
    if (this.#closed) this.#checkDrained();
  }

  #emitDisconnect(peer: Peer, reason: ZmqError | undefined): void {
    const event: SocketEvent = { type: 'disconnect', address: peer.endpoint, peer: eventPeer(peer) };
    if (reason !== undefined) event.error = reason;
    this.emitEvent(event);
  }

  /** @internal */
  identifyPeer(peer: Peer, peerType: string, routingId: Frame | undefined): void {
    peer.peerType = peerType;
    peer.routingId = routingId;
    if (!peer.attached || this.#closed) return;
    const e: Record<string, unknown> = { type: 'peer.identified', peerId: peer.id, peerType };
    if (routingId !== undefined && routingId.byteLength > 0) e.routingId = toHex(routingId);
    this.tell(e as { type: string });
  }

  /** @internal */
  refusePairing(peer: Peer | undefined, endpoint: string, peerType: string, why: string): void {
    if (peer !== undefined && peer.attached) {
      this.#letGo(peer);
      this.peers.delete(peer.id);
      this.tell({ type: 'peer.detached', peerId: peer.id });
      peer.out.drop();
      peer.in.drop();
    }
    this.emitEvent({ type: 'peer:refused', address: endpoint, peer: { socketType: peerType }, error: new ZmqError('ENOCOMPATPROTO', why) });
  }

  #assertOpen(): void {
    if (this.#closed) throw closedError();
  }

  #wait(queue: LinkedQueue<Waiter>, msg: Message | undefined, timeout: number, signal: AbortSignal | undefined, what: string, batch?: Message[], index = 0, max?: number): Promise<unknown> {
    if (timeout === 0) return Promise.reject(sentSoFar(new ZmqError('EAGAIN', `${what} on ${this.type}: would wait, and ${what === 'send' ? 'sendTimeout' : 'receiveTimeout'} is 0`), batch, index));
    if (signal?.aborted) return Promise.reject(sentSoFar(aborted(what, signal), batch, index));
    // The promise's executor only takes its settle functions, the rest is built out here: about 120
    // fewer instructions per wait than building the waiter inside it (bench/instructions.ts).
    const w: Waiter = { msg, resolve: settledNothing, reject: settledNothing, timer: undefined, signal, onAbort: undefined, prev: undefined, next: undefined };
    const waiting = new Promise((resolve, reject) => {
      w.resolve = resolve as (v: never) => void;
      w.reject = reject;
    });
    if (batch !== undefined) {
      w.batch = batch;
      w.index = index;
      w.taken = index;
    }
    if (max !== undefined) w.max = max;
    if (timeout > 0) {
      const arm = (): void => {
        w.timer = setTimeout(() => {
          this.#remove(queue, w);
          w.reject(sentSoFar(new ZmqError('EAGAIN', `${what} on ${this.type} timed out after ${timeout} ms`), batch, w.index));
          if (queue === this.#sends) this.sendGaveUp();
        }, timeout);
      };
      arm();
      // A batch gets the timeout for each of its waits: the timer starts again as its messages go.
      if (batch !== undefined) w.rearm = arm;
    }
    if (signal !== undefined) {
      w.onAbort = () => {
        if (w === this.#inFlight) {
          w.late = true; // applied once its xsend or xrecv has returned, if the call did not complete
          return;
        }
        this.#remove(queue, w);
        if (w.timer !== undefined) clearTimeout(w.timer);
        w.reject(sentSoFar(aborted(what, signal), batch, w.index));
        if (queue === this.#sends) this.sendGaveUp();
      };
      signal.addEventListener('abort', w.onAbort, { once: true });
    }
    // A waiting call keeps the process alive until it settles (#settle, #remove), as in zeromq.js;
    // the socket's streams and timers do not.
    holdLoop();
    queue.push(w);
    return waiting;
  }

  #remove(queue: LinkedQueue<Waiter>, w: Waiter): void {
    if (queue.remove(w)) releaseLoop();
    if (w.signal !== undefined && w.onAbort !== undefined) w.signal.removeEventListener('abort', w.onAbort);
    this.#busyPoll?.ended(w, false);
  }

  /** Ends a waiting call that has left its queue. */
  #settle(w: Waiter, error: unknown, value?: unknown): void {
    releaseLoop();
    if (w.timer !== undefined) clearTimeout(w.timer);
    if (w.signal !== undefined && w.onAbort !== undefined) w.signal.removeEventListener('abort', w.onAbort);
    if (error !== undefined) w.reject(error);
    else w.resolve(value as never);
  }

  #flushSends(): void {
    const q = this.#sends;
    while (q.size > 0) {
      const w = q.peek() as Waiter;
      const batch = w.batch;
      const msg = batch === undefined ? (w.msg as Message) : (batch[w.index as number] as Message);
      let taken: boolean;
      this.#inFlight = w;
      try {
        this.checkSend(msg);
        taken = this.xsend(msg);
      } catch (e) {
        this.#inFlight = undefined;
        // Refused by the type's rules, or a fault below: this call fails, the others go on. (Thrown
        // on, a fault would reach whoever flushed: another call, a pipe's or the machine's callback.)
        if (q.peek() !== w) continue; // close() settled it meanwhile
        q.shift();
        if (batch !== undefined) (e as ZmqError).sent = w.index;
        this.#settle(w, e);
        this.sendGaveUp();
        continue;
      }
      this.#inFlight = undefined;
      // close() from user code inside the xsend settled this call (and every other): its message,
      // if taken, leaves as those queued before a close do.
      if (q.peek() !== w) continue;
      if (!taken) {
        if (w.late) {
          (w.onAbort as () => void)();
          continue;
        }
        if (batch !== undefined && w.rearm !== undefined && w.timer !== undefined && w.index !== w.taken) {
          // Progress since the last wait: this wait gets the whole timeout again.
          clearTimeout(w.timer);
          w.taken = w.index;
          w.rearm();
        }
        return;
      }
      if (batch !== undefined && (w.index = (w.index as number) + 1) < batch.length) {
        // Aborted while this message went: the batch stops here, `sent` counting it.
        if (w.late) (w.onAbort as () => void)();
        continue;
      }
      // Taken: the call completed, whether or not it was aborted meanwhile (too late).
      q.shift();
      this.#settle(w, undefined);
    }
  }

  /** Wakes waiting receives only (new input); a transition that lets a send go is followed up. */
  #wakeReceives(): void {
    if (this.#busy) {
      // Inside a call or flush of ours (user code that runs inside it sent to this socket): that
      // one follows up. Flushing here would hand out a message under a receive in flight.
      this.#missed = true;
      return;
    }
    this.#busy = true;
    try {
      this.#flushRecvs();
    } catch (e) {
      this.#receiveFaulted(e);
      this.#missed = true;
    }
    this.#leave();
  }

  /**
   * Gives ready messages to waiting receives, in call order. A fault below (xrecv throws) is the
   * receive in flight's: its callers catch it and call #receiveFaulted. A try in this loop
   * cost about 40 instructions per inproc PUSH->PULL message (bench/instructions.ts's method);
   * their tries were there already. Never nested: #wakeReceives and flush() defer while busy.
   */
  #flushRecvs(): void {
    const q = this.#recvs;
    while (q.size > 0) {
      const w = q.peek() as Waiter;
      const max = w.max;
      this.#inFlight = w;
      const got = max === undefined ? this.xrecv() : this.#takeMany(max);
      this.#inFlight = undefined;
      if (got === undefined || q.peek() !== w) {
        // Nothing was ready, or user code inside the xrecv closed the socket, which settled this
        // call: a message taken then is dropped with the rest of its input. (A REQ's failed
        // request spares the call in flight: see failReceives.)
        if (w.late && q.peek() === w) (w.onAbort as () => void)();
        return;
      }
      q.shift(); // the call completed: an abort meanwhile came too late
      this.#settle(w, undefined, got);
      this.#busyPoll?.ended(w, true);
    }
  }

  /** A fault below the receive in flight: it fails with it, as in #flushSends; the others go on (by the caller's flush). */
  #receiveFaulted(e: unknown): void {
    // (A fault met elsewhere in the loop is the first one's, so that each fault ends a call.)
    const w = this.#inFlight ?? this.#recvs.peek();
    this.#inFlight = undefined;
    if (w === undefined || !this.#recvs.remove(w)) return; // none, or settled meanwhile (close)
    this.#settle(w, e);
    this.#busyPoll?.ended(w, false);
  }

  #startLinger(): void {
    const undrained = new Set<Peer>();
    for (const p of this.peers.values()) {
      p.out.end();
      p.in.drop();
      if (p.out.size > 0) undrained.add(p);
    }
    this.#undrained = undrained;
    if (this.opt.linger > 0) {
      this.#lingerDeadline = performance.now() + this.opt.linger;
      this.#lingerTimer = setTimeout(() => this.tell({ type: 'linger.expired' }), this.opt.linger);
      // Lingering keeps no process alive by itself: at exit, the tcp/ipc transport waits for what
      // is still queued (net-transport.ts, waitAtExit), as zeromq.js's context does.
      unrefTimer(this.#lingerTimer);
    }
    this.#checkDrained();
  }

  /**
   * Whether every peer has taken what we queued for it, asked as each pipe drains or each peer
   * goes: a peer found done leaves `#undrained` for good (nothing is queued after close), so all
   * the asks of a close together cost one pass over the peers, not one pass each (32,000 DEALERs
   * draining a closed ROUTER took 9.8 s when each ask scanned every peer).
   */
  #checkDrained(): void {
    const undrained = this.#undrained;
    // Before lingering starts there is nothing to ask: #startLinger asks first.
    if (this.#released || undrained === undefined) return;
    for (const p of undrained) {
      if (p.out.size > 0 && !p.out.dropped && this.peers.get(p.id) === p) return;
      undrained.delete(p);
    }
    if (this.#drainQueued) return;
    // Several peers may drain in one turn: one event is enough, and only while still lingering.
    this.#drainQueued = true;
    queueMicrotask(() => {
      this.#drainQueued = false;
      if (!this.#released && this.machineState === 'lingering') this.tell({ type: 'pipes.drained' });
    });
  }

  /**
   * A peer stops being attached (detached, refused): the type's own leaving step, then
   * writeRoundRobin's cache lets go of it (its entry leaves the table).
   */
  #letGo(peer: Peer): void {
    this.peerLeaving(peer);
    peer.attached = false;
    if (this.#lastPeer === peer) this.#lastEntry = this.#lastPeer = undefined;
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#lingerTimer !== undefined) clearTimeout(this.#lingerTimer);
    // Whatever is still queued now is discarded (linger is over), then the links are closed.
    const peers = [...this.peers.values()];
    this.peers.clear();
    this.#undrained = undefined;
    this.#lastEntry = this.#lastPeer = undefined;
    for (const peer of peers) {
      peer.attached = false;
      peer.out.drop();
      peer.in.drop();
    }
    for (const peer of peers) peer.close();
    for (const e of handlesOf(this.#connects)) e.handle.close();
    this.#connects = NO_HANDLES;
    for (const e of handlesOf(this.#binds)) e.handle.close();
    this.#binds = NO_HANDLES;
    this.inbound.clear();
    this.context.unregister(asHost(this));
    this.emitEvent({ type: 'end' });
    this.#events?.close();
    if (this.#actor !== undefined) socketOfActor.delete(this.#actor);
    const waiters = this.#closedWaiters;
    this.#closedWaiters = undefined;
    if (waiters !== undefined) for (const f of waiters) f();
  }
}

/**
 * @internal Accessors for options a class declares (`declare rate: number`): a plain read of the
 * option and a set through setOption (which checks the value and warns when it comes late). Made
 * here once rather than written out in each class that has the option.
 */
export function optionAccessors(proto: object, names: readonly OptionName[]): void {
  for (const name of names) {
    Object.defineProperty(proto, name, {
      configurable: true,
      get(this: Socket): unknown {
        return (this as unknown as { opt: Record<string, unknown> }).opt[name];
      },
      set(this: Socket, value: unknown): void {
        (this as unknown as { setOption(n: OptionName, v: unknown): void }).setOption(name, value);
      },
    });
  }
}

// The options every socket takes and no socket type acts on in its class (declared on Socket above).
optionAccessors(Socket.prototype, ALL_SOCKETS_OPTIONS);

/** The empty bind and connect table of a socket that has none (never written: a socket makes its own). */
const NO_HANDLES: Map<string, never> = new Map<string, never>();

/** Each handle of a bind or connect table once (it is there under the address given and the one resolved). */
function handlesOf<H>(map: Map<string, Endpointed<H>>): Iterable<Endpointed<H>> {
  if (map.size === 0) return [];
  return map.size === 1 ? map.values() : new Set(map.values());
}

/**
 * @internal A socket type's machine with the runtime's effects provided, built once per type: each
 * action finds its socket from the actor it runs in. `effects` come on top of the common ones
 * (`startLinger`, `release`, `refusePeer`, `sendProbe`).
 */
export function socketMachine<M extends AnyStateMachine, S extends Socket>(machine: M, effects: Record<string, Effect<S>> = {}): M {
  const actions: Record<string, (args: { self: AnyActorRef; context: never; event: never }, params: never) => void> = {};
  const all = { ...(Socket.commonEffects as Record<string, Effect<S>>), ...effects };
  for (const [name, effect] of Object.entries(all)) {
    actions[name] = (args, params) => {
      const socket = socketOfActor.get(args.self) as S | undefined;
      if (socket !== undefined) effect(socket, args, params);
    };
  }
  return machine.provide({ actions } as never) as M;
}

/** The bytes of libzmq's value of each option type: an accessor must match (libzmq `options.cpp` checks the size). */
const OPTION_WIDTH: Record<LibzmqOptionType, number> = { Bool: 4, Int32: 4, Uint32: 4, Int64: 8, Uint64: 8, String: 0 };
/** The properties that keep bytes as given (the others take text: bytes are read as UTF-8). */
const BYTE_PROPERTIES: ReadonlySet<string> = new Set(['routingId', 'curvePublicKey', 'curveSecretKey', 'curveServerKey', 'welcomeMessage']);

/** The option with libzmq's id `option`, if `socket` has it and `accessor` may read or write it; else EINVAL (TypeError for an id that is not a number). */
function libzmqOption(socket: Socket, option: unknown, type: LibzmqOptionType, access: 'read' | 'write'): LibzmqOption {
  const accessor = `${access === 'read' ? 'get' : 'set'}${type}Option`;
  if (typeof option !== 'number') throw new TypeError(`Identifier must be a number: ${accessor}() takes libzmq's option id (ZMQ_SNDHWM is 23), not ${describeValue(option)}`);
  const o = LIBZMQ_OPTIONS.get(option);
  if (o === undefined) {
    throw new ZmqError('EINVAL', `${accessor}(${option}): ${option} is not the id of a libzmq option monocoque has; it has ${[...LIBZMQ_OPTIONS.keys()].join(', ')}`);
  }
  const named = `${accessor}(${option}): ${o.libzmq}`;
  if (o.only !== undefined && o.only !== access) throw new ZmqError('EINVAL', `${named} can only be ${o.only === 'read' ? 'read' : 'set'}`);
  if (!(o.property in socket)) throw new ZmqError('EINVAL', `${named} is not an option of a ${socket.type} socket`);
  if (OPTION_WIDTH[o.type] !== OPTION_WIDTH[type]) {
    throw new ZmqError('EINVAL', `${named} is ${o.type === 'String' ? 'text' : `${OPTION_WIDTH[o.type] === 8 ? 'an' : 'a'} ${OPTION_WIDTH[o.type]}-byte number`}; ${access === 'read' ? 'get' : 'set'}${o.type}Option takes it`);
  }
  return o;
}

/** What `get<type>Option(option)` returns: the property's value in libzmq's terms, read as that C type. */
function readOption(socket: Socket, option: unknown, type: LibzmqOptionType): boolean | number | string | null {
  const o = libzmqOption(socket, option, type, 'read');
  const value = (socket as unknown as Record<string, unknown>)[o.property];
  if (type === 'String') {
    if (value instanceof Uint8Array) return value.byteLength === 0 ? null : new TextDecoder().decode(value);
    return typeof value === 'string' && value !== '' ? value : null;
  }
  const n = o.values !== undefined ? o.values.indexOf(value as string | null) : typeof value === 'boolean' ? Number(value) : (value as number);
  switch (type) {
    case 'Bool':
      return n !== 0;
    case 'Uint32':
      return n >>> 0; // the int libzmq keeps, read as unsigned (as C would)
    case 'Uint64':
      return n < 0 ? n + 2 ** 64 : n;
    case 'Int64':
      return n >= 2 ** 63 ? n - 2 ** 64 : n;
    default:
      return n;
  }
}

/** What `set<type>Option(option, value)` does: the value in the property's terms, set through the property (its checks, its warning). */
function writeOption(socket: Socket, option: unknown, type: LibzmqOptionType, value: unknown): void {
  const accessor = `set${type}Option`;
  if (typeof option !== 'number') libzmqOption(socket, option, type, 'write'); // the TypeError
  const kind = type === 'Bool' ? 'a boolean' : type === 'String' ? 'a string or buffer' : 'a number';
  const ok = type === 'Bool' ? typeof value === 'boolean' : type === 'String' ? typeof value === 'string' || value instanceof Uint8Array || value === null : typeof value === 'number';
  if (!ok) throw new TypeError(`Option value must be ${kind}: ${accessor}(${option as number}, ${describeValue(value)})`);
  const o = libzmqOption(socket, option, type, 'write');
  let v = value;
  if (type === 'String') {
    if (value instanceof Uint8Array && !BYTE_PROPERTIES.has(o.property)) v = new TextDecoder().decode(value);
  } else {
    let n = type === 'Bool' ? Number(value) : (value as number);
    if (type === 'Uint64') {
      // zeromq.js `socket.cc NumberCast<uint64_t>`: negative is 0; past 2^53 a double is inexact, so it warns.
      if (n > Number.MAX_SAFE_INTEGER) (globalThis as { process?: { emitWarning?: (message: string) => void } }).process?.emitWarning?.(UINT64_WARNING);
      n = Math.max(0, n);
      if (o.type === 'Int64' && n >= 2 ** 63) n -= 2 ** 64;
    } else if (type === 'Int64' && o.type === 'Uint64' && n < 0) n += 2 ** 64;
    else if (type === 'Uint32' && o.type !== 'Uint32' && n >= 2 ** 31 && n < 2 ** 32) n -= 2 ** 32;
    if (o.values !== undefined) {
      if (!Number.isInteger(n) || o.values[n] === undefined) {
        throw new ZmqError('EINVAL', `${accessor}(${option as number}, ${describeValue(value)}): ${o.libzmq} takes 0..${o.values.length - 1}`);
      }
      v = o.values[n];
    } else v = o.type === 'Bool' ? n !== 0 : n;
  }
  (socket as unknown as Record<string, unknown>)[o.property] = v;
}

/** A socket class, as `new Socket(type)` makes one. */
type SocketConstructor = new (options?: object) => Socket;
type LibzmqTypeName = (typeof LIBZMQ_SOCKET_TYPES)[number];
/** The class of each socket type monocoque has, by libzmq's type number (library.ts registers them). */
const classOfType: (SocketConstructor | undefined)[] = [];

/**
 * @internal Tells `new Socket(type)` the class of each socket type, by its name on the wire.
 * library.ts does, as it imports every socket class (this module cannot: they import it).
 */
export function registerSocketClasses(classes: Partial<Record<LibzmqTypeName, SocketConstructor>>): void {
  for (const [name, cls] of Object.entries(classes)) classOfType[LIBZMQ_SOCKET_TYPES.indexOf(name as LibzmqTypeName)] = cls;
}

/** Whether the second argument of Socket's constructor is a socket class's machine (else: zeromq.js's form). */
function isMachine(m: unknown): m is AnyStateMachine {
  return typeof m === 'object' && m !== null && typeof (m as { transition?: unknown }).transition === 'function';
}

/**
 * zeromq.js's `new Socket(type, options)`: a socket of libzmq's type number `type`, or what
 * zeromq.js throws: TypeError for arguments of the wrong kind (with its words first), EINVAL for a
 * number that is no type monocoque has.
 */
function socketOfType(type: unknown, options: unknown, more: boolean, third: unknown, newTarget: Function): Socket {
  if (typeof type !== 'number') {
    throw new TypeError(`Socket type must be a number: libzmq's socket type (ZMQ_PAIR 0 … ZMQ_STREAM 11), not ${describeValue(type)}`);
  }
  if (more) throw new TypeError(`Expected 2 arguments (socket type, options), got a third: ${describeValue(third)}`);
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new TypeError(`Options must be an object like { linger: 0 }, not ${describeValue(options)}`);
  }
  const cls = Number.isInteger(type) ? classOfType[type] : undefined;
  if (cls !== undefined) {
    if (newTarget === Socket) return new cls(options as object | undefined);
    // A subclass of yours: its prototype extends the type's class (once), and the socket is made as
    // an instance of it, left open as every subclass of yours is (the type's class seals only its own).
    tieSubclass(newTarget, cls);
    return Reflect.construct(cls, [options], newTarget) as Socket;
  }
  const accepted = classOfType.flatMap((c, n) => (c === undefined ? [] : [`${n} (${LIBZMQ_SOCKET_TYPES[n]})`])).join(', ');
  const name: string | undefined = Number.isInteger(type) ? LIBZMQ_SOCKET_TYPES[type] : undefined;
  // STREAM is registered by its own module (stream.ts), which only the Node entry loads.
  const where = name === 'STREAM' ? 'monocoque/browser (it needs tcp or ipc: the Node entry, monocoque, has it)' : 'monocoque';
  const what = name === undefined ? 'is not a libzmq socket type' : `(ZMQ_${name}${type >= 12 ? ', a DRAFT type' : ''}) is not offered by ${where}`;
  throw new ZmqError('EINVAL', `new Socket(${type}): socket type ${type} ${what}; accepted: ${accepted}`);
}

/**
 * A socket as transports see it (a PeerHost) and as its pipes do (their reader and writer). Its
 * members for them are marked @internal, so the published class does not claim these interfaces;
 * this function is where the compiler checks that it has them.
 */
function asHost(socket: Socket): PeerHost & PipeReader & PipeWriter {
  return socket;
}

/** `e`, with `sent` set when it ends a sendMany (`batch`) of which `index` messages were queued. */
function sentSoFar<E extends ZmqError>(e: E, batch: Message[] | undefined, index: number | undefined): E {
  if (batch !== undefined) e.sent = index ?? 0;
  return e;
}

/**
 * Makes `subclass`, a user's class extending Socket directly, extend `cls` (the class of the type its
 * `super(type)` names), so its own methods, the type's and `instanceof` all hold. Once per subclass:
 * one tied to another type already is a TypeError.
 */
function tieSubclass(subclass: Function, cls: Function): void {
  const proto = subclass.prototype as object;
  const parent = Object.getPrototypeOf(proto) as object;
  if (parent === cls.prototype) return;
  if (parent !== Socket.prototype) {
    throw new TypeError(`class ${subclass.name} already makes ${(parent as { constructor: { name: string } }).constructor.name} sockets; super() got the type of a ${(cls as unknown as { name: string }).name}`);
  }
  Object.setPrototypeOf(proto, cls.prototype);
}

function closedError(): ZmqError {
  return new ZmqError('EBADF', 'Socket is closed');
}

function cancelledError(what: 'send' | 'receive', type: string): ZmqError {
  return new ZmqError('EAGAIN', `${what} on ${type} was waiting when the socket was closed`);
}

/** The options of one send() or receive(): an object whose `signal`, if any, is an AbortSignal. */
function checkCallOptions(options: unknown, what: string): void {
  if (typeof options !== 'object' || options === null) {
    throw new ZmqError('EINVAL', `${what}(): options must be an object like { signal }, not ${describeValue(options)}`);
  }
  const signal = (options as CallOptions).signal;
  // Duck-typed, so a signal from another realm (a test DOM, an iframe) is accepted.
  const isSignal = typeof signal === 'object' && signal !== null && typeof signal.aborted === 'boolean' &&
    typeof signal.addEventListener === 'function' && typeof signal.removeEventListener === 'function';
  if (signal !== undefined && !isSignal) {
    throw new ZmqError('EINVAL', `${what}(): option signal is ${describeValue(signal)}, not an AbortSignal`);
  }
}

function aborted(what: string, signal: AbortSignal): ZmqError {
  return new ZmqError('ECANCELED', `${what} was aborted`, { cause: signal.reason });
}

function eventPeer(link: PeerLink): SocketEvent['peer'] {
  const peer: NonNullable<SocketEvent['peer']> = {};
  if (link.peerType !== '') peer.socketType = link.peerType; // '' until a handshake tells
  if (link.routingId !== undefined) peer.routingId = link.routingId;
  if (link.remoteAddress !== undefined) peer.remoteAddress = link.remoteAddress;
  return peer;
}
