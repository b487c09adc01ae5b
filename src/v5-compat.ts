// `monocoque/v5-compat`: zeromq.js's v5 API (`zmq.socket('req')`, callbacks, `on('message')`,
// `setsockopt` with ZMQ_* numbers) for programs that never moved to v6. A thin layer over the public
// socket classes of './index.js': it keeps callbacks, pauses and the REQ/REP turn-taking, no socket rules.

import { EventEmitter } from 'node:events';
import {
  Dealer,
  Pair,
  Publisher,
  Pull,
  Push,
  Reply,
  Request,
  Router,
  Subscriber,
  XPublisher,
  XSubscriber,
  ZmqError,
  context as defaultContext,
  curveKeyPair,
  isZmqError,
  parseEndpoint,
  version as libzmqVersion,
} from './index.js';
import type { Event, MessageLike, Socket as SocketV6 } from './index.js';
import { Fifo } from './core/fifo.js';

// ---- constants, with libzmq's numbers (zmq.h), as zeromq.js v5 exported them ----

/** The libzmq version whose behaviour monocoque matches, as `zmq.version` reported it. */
export const version: string = libzmqVersion;

// Socket types.
export const ZMQ_PAIR = 0;
export const ZMQ_PUB = 1;
export const ZMQ_SUB = 2;
export const ZMQ_REQ = 3;
export const ZMQ_REP = 4;
export const ZMQ_DEALER = 5;
export const ZMQ_XREQ = 5;
export const ZMQ_ROUTER = 6;
export const ZMQ_XREP = 6;
export const ZMQ_PULL = 7;
export const ZMQ_PUSH = 8;
export const ZMQ_XPUB = 9;
export const ZMQ_XSUB = 10;
export const ZMQ_STREAM = 11;

// Socket options, for setsockopt()/getsockopt().
export const ZMQ_AFFINITY = 4;
export const ZMQ_IDENTITY = 5;
export const ZMQ_SUBSCRIBE = 6;
export const ZMQ_UNSUBSCRIBE = 7;
export const ZMQ_RATE = 8;
export const ZMQ_RECOVERY_IVL = 9;
export const ZMQ_RECOVERY_IVL_MSEC = 9;
export const ZMQ_SNDBUF = 11;
export const ZMQ_RCVBUF = 12;
export const ZMQ_RCVMORE = 13;
export const ZMQ_FD = 14;
export const ZMQ_EVENTS = 15;
export const ZMQ_TYPE = 16;
export const ZMQ_LINGER = 17;
export const ZMQ_RECONNECT_IVL = 18;
export const ZMQ_BACKLOG = 19;
export const ZMQ_RECONNECT_IVL_MAX = 21;
export const ZMQ_MAXMSGSIZE = 22;
export const ZMQ_SNDHWM = 23;
export const ZMQ_RCVHWM = 24;
export const ZMQ_MULTICAST_HOPS = 25;
export const ZMQ_RCVTIMEO = 27;
export const ZMQ_SNDTIMEO = 28;
export const ZMQ_IPV4ONLY = 31;
export const ZMQ_LAST_ENDPOINT = 32;
export const ZMQ_ROUTER_MANDATORY = 33;
export const ZMQ_TCP_KEEPALIVE = 34;
export const ZMQ_TCP_KEEPALIVE_CNT = 35;
export const ZMQ_TCP_KEEPALIVE_IDLE = 36;
export const ZMQ_TCP_KEEPALIVE_INTVL = 37;
export const ZMQ_TCP_ACCEPT_FILTER = 38;
export const ZMQ_DELAY_ATTACH_ON_CONNECT = 39;
export const ZMQ_XPUB_VERBOSE = 40;
export const ZMQ_ROUTER_RAW = 41;
export const ZMQ_IPV6 = 42;
export const ZMQ_MECHANISM = 43;
export const ZMQ_PLAIN_SERVER = 44;
export const ZMQ_PLAIN_USERNAME = 45;
export const ZMQ_PLAIN_PASSWORD = 46;
export const ZMQ_CURVE_SERVER = 47;
export const ZMQ_CURVE_PUBLICKEY = 48;
export const ZMQ_CURVE_SECRETKEY = 49;
export const ZMQ_CURVE_SERVERKEY = 50;
export const ZMQ_ZAP_DOMAIN = 55;
export const ZMQ_ROUTER_HANDOVER = 56;
export const ZMQ_HEARTBEAT_IVL = 75;
export const ZMQ_HEARTBEAT_TTL = 76;
export const ZMQ_HEARTBEAT_TIMEOUT = 77;
export const ZMQ_CONNECT_TIMEOUT = 79;

// Context options (zmq_ctx_set), for the record: `Context.setMaxThreads()` and `setMaxSockets()` set them.
export const ZMQ_IO_THREADS = 1;
export const ZMQ_MAX_SOCKETS = 2;

// Poll states, as getsockopt(ZMQ_EVENTS) reports them.
export const ZMQ_POLLIN = 1;
export const ZMQ_POLLOUT = 2;
export const ZMQ_POLLERR = 4;

/** send() flag: more frames of this message follow in later send() calls. */
export const ZMQ_SNDMORE = 2;

// What this build can do (each 1: monitor events, disconnect(), unbind(), options through Context).
export const ZMQ_CAN_MONITOR = 1;
export const ZMQ_CAN_DISCONNECT = 1;
export const ZMQ_CAN_UNBIND = 1;
export const ZMQ_CAN_SET_CTX = 1;

// Socket states of zeromq.js v5's native binding, kept for programs that compare against them.
export const STATE_READY = 0;
export const STATE_BUSY = 1;
export const STATE_CLOSED = 2;

/**
 * The option properties of a v5 socket and the libzmq option each stands for: `sock.linger = 0`
 * is `sock.setsockopt(ZMQ_LINGER, 0)`, and `setsockopt('linger', 0)` takes these names too.
 */
export const options = {
  _fd: ZMQ_FD,
  _ioevents: ZMQ_EVENTS,
  _receiveMore: ZMQ_RCVMORE,
  _subscribe: ZMQ_SUBSCRIBE,
  _unsubscribe: ZMQ_UNSUBSCRIBE,
  affinity: ZMQ_AFFINITY,
  backlog: ZMQ_BACKLOG,
  identity: ZMQ_IDENTITY,
  linger: ZMQ_LINGER,
  rate: ZMQ_RATE,
  rcvbuf: ZMQ_RCVBUF,
  last_endpoint: ZMQ_LAST_ENDPOINT,
  reconnect_ivl: ZMQ_RECONNECT_IVL,
  recovery_ivl: ZMQ_RECOVERY_IVL,
  sndbuf: ZMQ_SNDBUF,
  mechanism: ZMQ_MECHANISM,
  plain_server: ZMQ_PLAIN_SERVER,
  plain_username: ZMQ_PLAIN_USERNAME,
  plain_password: ZMQ_PLAIN_PASSWORD,
  curve_server: ZMQ_CURVE_SERVER,
  curve_publickey: ZMQ_CURVE_PUBLICKEY,
  curve_secretkey: ZMQ_CURVE_SECRETKEY,
  curve_serverkey: ZMQ_CURVE_SERVERKEY,
  zap_domain: ZMQ_ZAP_DOMAIN,
  heartbeat_ivl: ZMQ_HEARTBEAT_IVL,
  heartbeat_ttl: ZMQ_HEARTBEAT_TTL,
  heartbeat_timeout: ZMQ_HEARTBEAT_TIMEOUT,
  connect_timeout: ZMQ_CONNECT_TIMEOUT,
} as const;

/** A name of {@link options}: a socket property, and a name `setsockopt()`/`getsockopt()` take. */
export type OptionName = keyof typeof options;

/** The socket types by the names `zmq.socket(type)` takes (`xreq` and `xrep` are DEALER and ROUTER). */
export type SocketType = 'pair' | 'req' | 'rep' | 'pub' | 'sub' | 'dealer' | 'xreq' | 'router' | 'xrep' | 'pull' | 'push' | 'xpub' | 'xsub';

/** What a callback of `bind`, `unbind` and `send` gets: nothing on success, the error on failure. */
export type Callback = (error?: Error) => void;

const CLASSES: Record<SocketType, new () => SocketV6> = {
  pair: Pair,
  req: Request,
  rep: Reply,
  pub: Publisher,
  sub: Subscriber,
  dealer: Dealer,
  xreq: Dealer,
  router: Router,
  xrep: Router,
  pull: Pull,
  push: Push,
  xpub: XPublisher,
  xsub: XSubscriber,
};

/** libzmq's type number of each v6 socket type (what getsockopt(ZMQ_TYPE) returns). */
const TYPE_NUMBERS: Record<string, number> = {
  PAIR: ZMQ_PAIR, PUB: ZMQ_PUB, SUB: ZMQ_SUB, REQ: ZMQ_REQ, REP: ZMQ_REP, DEALER: ZMQ_DEALER,
  ROUTER: ZMQ_ROUTER, PULL: ZMQ_PULL, PUSH: ZMQ_PUSH, XPUB: ZMQ_XPUB, XSUB: ZMQ_XSUB,
};

/**
 * How a plain option maps onto the v6 socket: the property, and the kind of value libzmq gives it
 * (`bool` reads back as 0 or 1, as libzmq's int does; `text` takes a Buffer as UTF-8; a CURVE `key`
 * is 32 bytes, or 40 characters of Z85 in a string or a Buffer, as libzmq tells them by size).
 */
interface PlainOption {
  readonly property: string;
  readonly kind: 'number' | 'bool' | 'text' | 'bytes' | 'key';
  readonly writeOnly?: true;
}

const PLAIN_OPTIONS: ReadonlyMap<number, PlainOption> = new Map<number, PlainOption>([
  [ZMQ_AFFINITY, { property: 'affinity', kind: 'number' }],
  [ZMQ_IDENTITY, { property: 'routingId', kind: 'bytes' }],
  [ZMQ_RATE, { property: 'rate', kind: 'number' }],
  [ZMQ_RECOVERY_IVL, { property: 'recoveryInterval', kind: 'number' }],
  [ZMQ_SNDBUF, { property: 'sendBufferSize', kind: 'number' }],
  [ZMQ_RCVBUF, { property: 'receiveBufferSize', kind: 'number' }],
  [ZMQ_LINGER, { property: 'linger', kind: 'number' }],
  [ZMQ_RECONNECT_IVL, { property: 'reconnectInterval', kind: 'number' }],
  [ZMQ_BACKLOG, { property: 'backlog', kind: 'number' }],
  [ZMQ_RECONNECT_IVL_MAX, { property: 'reconnectMaxInterval', kind: 'number' }],
  [ZMQ_MAXMSGSIZE, { property: 'maxMessageSize', kind: 'number' }],
  [ZMQ_SNDHWM, { property: 'sendHighWaterMark', kind: 'number' }],
  [ZMQ_RCVHWM, { property: 'receiveHighWaterMark', kind: 'number' }],
  [ZMQ_MULTICAST_HOPS, { property: 'multicastHops', kind: 'number' }],
  [ZMQ_SNDTIMEO, { property: 'sendTimeout', kind: 'number' }],
  [ZMQ_ROUTER_MANDATORY, { property: 'mandatory', kind: 'bool' }],
  [ZMQ_TCP_KEEPALIVE, { property: 'tcpKeepalive', kind: 'number' }],
  [ZMQ_TCP_KEEPALIVE_CNT, { property: 'tcpKeepaliveCount', kind: 'number' }],
  [ZMQ_TCP_KEEPALIVE_IDLE, { property: 'tcpKeepaliveIdle', kind: 'number' }],
  [ZMQ_TCP_KEEPALIVE_INTVL, { property: 'tcpKeepaliveInterval', kind: 'number' }],
  [ZMQ_TCP_ACCEPT_FILTER, { property: 'tcpAcceptFilter', kind: 'text', writeOnly: true }],
  [ZMQ_DELAY_ATTACH_ON_CONNECT, { property: 'immediate', kind: 'bool' }],
  [ZMQ_IPV6, { property: 'ipv6', kind: 'bool' }],
  [ZMQ_PLAIN_SERVER, { property: 'plainServer', kind: 'bool' }],
  [ZMQ_PLAIN_USERNAME, { property: 'plainUsername', kind: 'text' }],
  [ZMQ_PLAIN_PASSWORD, { property: 'plainPassword', kind: 'text' }],
  [ZMQ_CURVE_SERVER, { property: 'curveServer', kind: 'bool' }],
  [ZMQ_CURVE_PUBLICKEY, { property: 'curvePublicKey', kind: 'key' }],
  [ZMQ_CURVE_SECRETKEY, { property: 'curveSecretKey', kind: 'key' }],
  [ZMQ_CURVE_SERVERKEY, { property: 'curveServerKey', kind: 'key' }],
  [ZMQ_ZAP_DOMAIN, { property: 'zapDomain', kind: 'text' }],
  [ZMQ_ROUTER_HANDOVER, { property: 'handover', kind: 'bool' }],
  [ZMQ_HEARTBEAT_IVL, { property: 'heartbeatInterval', kind: 'number' }],
  [ZMQ_HEARTBEAT_TTL, { property: 'heartbeatTimeToLive', kind: 'number' }],
  [ZMQ_HEARTBEAT_TIMEOUT, { property: 'heartbeatTimeout', kind: 'number' }],
  [ZMQ_CONNECT_TIMEOUT, { property: 'connectTimeout', kind: 'number' }],
]);

/** Monitor events by their v6 name, under the name the v5 API emits them. */
const MONITOR_EVENTS: Partial<Record<Event['type'], string>> = {
  connect: 'connect',
  'connect:delay': 'connect_delay',
  'connect:retry': 'connect_retry',
  bind: 'listen',
  'bind:error': 'bind_error',
  accept: 'accept',
  'accept:error': 'accept_error',
  close: 'close',
  'close:error': 'close_error',
  disconnect: 'disconnect',
};

/**
 * How a type takes turns. `free`: sends and receives go on independently. `request` (REQ): a
 * message is sent only once the reply to the one before has come. `reply` (REP): a reply is sent
 * only for a request received, and the next request is read only once it is sent. The v6 classes
 * refuse (EFSM) what is out of turn; v5 queued it until its turn, and so does this layer.
 */
type Turns = 'free' | 'request' | 'reply';

/** A whole message from send(), waiting for its turn, with the callbacks of its parts. */
interface Outgoing {
  readonly frames: MessageLike[];
  readonly callbacks: Callback[] | undefined;
}

/**
 * A socket with zeromq.js's v5 API: an EventEmitter that emits each message received as
 * `'message'` with its frames as arguments, and takes callbacks where v6 returns promises. Made by
 * {@link socket} (`zmq.socket('dealer')`); underneath is the v6 socket of that type.
 *
 * ```js
 * const zmq = require('monocoque/v5-compat');
 * const rep = zmq.socket('rep');
 * rep.on('message', (request) => rep.send(`echo ${request}`));
 * rep.bind('tcp://127.0.0.1:5555', (err) => { if (err) throw err; });
 * ```
 *
 * Events: `'message'` (frames…), `'bind'` and `'unbind'` (address, after `bind()`/`unbind()`),
 * `'error'` (an error no callback took), and after `monitor()` the monitor events.
 */
export class Socket extends EventEmitter {
  /** The type as given to `socket()`: `'req'`, `'xrep'`, …. */
  readonly type: SocketType;
  readonly #socket: SocketV6;
  readonly #turns: Turns;
  /** Whether the type receives at all (PUSH and PUB only send). */
  readonly #receives: boolean;
  /** Frames of a message sent with ZMQ_SNDMORE so far, and their callbacks. */
  #parts: MessageLike[] = [];
  #partCallbacks: Callback[] | undefined;
  /** Whole messages waiting: for resume(), or for their turn (REQ, REP). */
  readonly #outbox = new Fifo<Outgoing>();
  /** Messages received while paused (emitted by resume()), or behind a listener's throw. */
  readonly #held = new Fifo<Buffer[]>();
  #paused = false;
  /** A 'message' listener threw: later messages wait until the throw has been reported. */
  #stalled = false;
  #drainQueued = false;
  /** The receive loop is running (`free` turns). */
  #pumping = false;
  /** REQ: a request is out and its reply not yet received. REP: a receive for the next request is under way. */
  #inTurn = false;
  /** REP: a request has been received and is not answered yet. */
  #replyDue = false;
  /** ZMQ_RCVTIMEO as set: kept here, as receiving is driven by events and no call waits to time out. */
  #receiveTimeout = -1;
  #monitoring = false;

  /**
   * A socket of `type` (see {@link SocketType}). Prefer {@link socket}, which sets options as well.
   * Receiving starts at once: a message that arrives before a `'message'` listener is added is
   * emitted to nobody, as in v5.
   */
  constructor(type: SocketType) {
    super();
    const cls = Object.hasOwn(CLASSES, type) ? CLASSES[type] : undefined;
    if (cls === undefined) {
      const why = (type as string) === 'stream' ? 'ZMQ_STREAM is not offered by monocoque yet' : 'not a socket type';
      throw new ZmqError('EINVAL', `socket(${JSON.stringify(type)}): ${why}; accepted: ${Object.keys(CLASSES).join(', ')}`);
    }
    this.type = type;
    this.#socket = new cls();
    const name = this.#socket.type;
    this.#turns = name === 'REQ' ? 'request' : name === 'REP' ? 'reply' : 'free';
    this.#receives = name !== 'PUSH' && name !== 'PUB';
    if (this.#turns === 'free' && this.#receives) void this.#pump();
    else if (this.#turns === 'reply') this.#serve();
  }

  // ---- endpoints ----

  /**
   * Binds to `address`; then emits `'bind'` (address) and calls `cb()`. A failure goes to
   * `cb(err)`, or is emitted as `'error'` when there is no callback.
   */
  bind(address: string, cb?: Callback): this {
    this.#socket.bind(address).then(
      () => process.nextTick(endpointDone, this, 'bind', address, cb),
      (e: unknown) => process.nextTick(endpointFailed, this, e, cb),
    );
    return this;
  }

  /**
   * Starts binding to `address` and returns. A malformed address, or a closed socket, throws here;
   * what only the bind itself can tell (EADDRINUSE) is emitted as `'error'` a moment later, since
   * Node has no synchronous listen. An inproc name is taken before this returns; a tcp or ipc
   * socket listens a moment later (peers that connect first retry). `last_endpoint` is set when
   * the bind completes, so read a `*` port in `bind(address, cb)`'s callback instead.
   */
  bindSync(address: string): this {
    this.#checkAddress(address, 'bindSync');
    this.#socket.bind(address).then(undefined, (e: unknown) => process.nextTick(endpointFailed, this, e, undefined));
    return this;
  }

  /** Undoes a bind; then emits `'unbind'` (address) and calls `cb()`. Failures as for {@link bind}. */
  unbind(address: string, cb?: Callback): this {
    this.#socket.unbind(address).then(
      () => process.nextTick(endpointDone, this, 'unbind', address, cb),
      (e: unknown) => process.nextTick(endpointFailed, this, e, cb),
    );
    return this;
  }

  /**
   * Undoes a bind before returning (the endpoint is released at once). A malformed address or a
   * closed socket throws; an address this socket is not bound to (ENOENT) is emitted as `'error'`.
   */
  unbindSync(address: string): this {
    this.#checkAddress(address, 'unbindSync');
    this.#socket.unbind(address).then(undefined, (e: unknown) => process.nextTick(endpointFailed, this, e, undefined));
    return this;
  }

  /** Connects to `address` (the connection completes, and is retried, in the background). */
  connect(address: string): this {
    this.#socket.connect(address);
    return this;
  }

  /** Undoes a connect. */
  disconnect(address: string): this {
    this.#socket.disconnect(address);
    return this;
  }

  #checkAddress(address: string, what: string): void {
    if (this.#socket.closed) throw new ZmqError('EBADF', `${what}("${address}"): the socket is closed`);
    parseEndpoint(address, 'bind');
  }

  // ---- messages ----

  /**
   * Sends a message: a frame (Buffer, string, number…) or an array of frames. With `flags`
   * ZMQ_SNDMORE, the frames wait for the rest of the message, which later calls add; the call
   * without it sends them all. `cb` is called once the message is queued to a peer (`cb()`) or has
   * failed (`cb(err)`; without a callback the error is emitted as `'error'`). Messages leave in
   * call order; REQ sends each once the reply to the one before has come, REP answers the request
   * received last.
   *
   * ```js
   * router.send([identity, '', 'reply'])
   * push.send('part 1', zmq.ZMQ_SNDMORE)
   * push.send('part 2', 0, (err) => { if (err) console.error(err) })
   * ```
   */
  send(message: MessageLike | readonly MessageLike[], flags?: number | null, cb?: Callback): this {
    if (Array.isArray(message)) for (const frame of message as readonly MessageLike[]) this.#parts.push(frame);
    else this.#parts.push(message as MessageLike);
    if (((flags ?? 0) & ZMQ_SNDMORE) !== 0) {
      if (cb !== undefined) (this.#partCallbacks ??= []).push(cb);
      return this;
    }
    const frames = this.#parts;
    let callbacks = this.#partCallbacks;
    this.#parts = [];
    this.#partCallbacks = undefined;
    if (cb !== undefined) (callbacks ??= []).push(cb);
    // After close() the v6 socket refuses it (EBADF), whatever the turn.
    if (this.#socket.closed || (this.#turns === 'free' && !this.#paused && this.#outbox.size === 0)) this.#dispatch(frames, callbacks);
    else {
      this.#outbox.push({ frames, callbacks });
      this.#flush();
    }
    return this;
  }

  /** Removed in v5 compatibility mode, as in zeromq.js: listen for `'message'` instead. */
  read(): never {
    throw new Error("read() has been removed from compatibility mode; use on('message', ...) instead.");
  }

  /**
   * Stops emitting `'message'` and sending: messages received meanwhile are kept, and so are
   * messages sent, until {@link resume}.
   */
  pause(): this {
    this.#paused = true;
    return this;
  }

  /** Emits the messages kept since {@link pause} (on the next tick, in order) and sends those queued. */
  resume(): this {
    if (!this.#paused) return this;
    this.#paused = false;
    if (this.#held.size > 0) this.#queueDrain();
    this.#flush();
    if (this.#turns === 'free' && this.#receives && !this.#pumping && this.#canReceive()) void this.#pump();
    else if (this.#turns === 'reply') this.#serve();
    return this;
  }

  /**
   * Closes the socket. Messages already queued to peers keep leaving for up to `linger` ms; sends
   * still waiting (for a peer, for their turn, or paused) fail, through their callbacks only.
   */
  close(): this {
    this.#socket.close();
    if (this.#outbox.size === 0) return this;
    const error = new ZmqError('EAGAIN', `send on ${this.type}: the socket was closed before the message left`);
    for (let out = this.#outbox.shift(); out !== undefined; out = this.#outbox.shift()) settle(out.callbacks, error);
    return this;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#socket.closed;
  }

  // ---- subscriptions ----

  /** ZMQ_SUBSCRIBE on a sub socket: receive messages whose first frame starts with `filter`. */
  subscribe(filter: string | Buffer): this {
    this.#subscriber('subscribe', filter).subscribe(filter);
    return this;
  }

  /** ZMQ_UNSUBSCRIBE on a sub socket: undoes one `subscribe(filter)`. */
  unsubscribe(filter: string | Buffer): this {
    this.#subscriber('unsubscribe', filter).unsubscribe(filter);
    return this;
  }

  #subscriber(what: string, filter: unknown): Subscriber {
    if (!(this.#socket instanceof Subscriber)) {
      throw new ZmqError('EINVAL', `${what}(${typeof filter === 'string' ? JSON.stringify(filter) : 'bytes'}) on a ${this.type} socket: only a sub socket subscribes (an xsub sends subscription messages)`);
    }
    return this.#socket;
  }

  // ---- options ----

  /**
   * Sets a socket option by libzmq's id (`zmq.ZMQ_LINGER`) or by its property name (`'linger'`).
   * Booleans may be given as 0 and 1. An option this socket does not have is EINVAL.
   */
  setsockopt(option: number | OptionName, value: unknown): this {
    const id = optionId(option, 'setsockopt');
    switch (id) {
      case ZMQ_SUBSCRIBE:
        this.#subscriber('setsockopt(ZMQ_SUBSCRIBE)', value).subscribe(value as string | Buffer);
        return this;
      case ZMQ_UNSUBSCRIBE:
        this.#subscriber('setsockopt(ZMQ_UNSUBSCRIBE)', value).unsubscribe(value as string | Buffer);
        return this;
      case ZMQ_RCVTIMEO:
        // Kept here, not given to the v6 socket: messages come as events and no receive call
        // waits, so there is nothing to time out (v5 read without blocking, too).
        if (typeof value !== 'number' || !Number.isInteger(value) || value < -1) {
          throw new ZmqError('EINVAL', `setsockopt(ZMQ_RCVTIMEO, ${String(value)}): takes an integer of -1 (no timeout) or more`);
        }
        this.#receiveTimeout = value;
        return this;
      case ZMQ_IPV4ONLY:
        this.#set(id, 'ipv6', !value);
        return this;
      case ZMQ_XPUB_VERBOSE:
        this.#set(id, 'verbosity', value ? 'allSubs' : null);
        return this;
    }
    const plain = PLAIN_OPTIONS.get(id);
    if (plain === undefined) throw notSettable(id);
    let v = value;
    if (plain.kind === 'bool') v = Boolean(value);
    else if (value instanceof Uint8Array && (plain.kind === 'text' || (plain.kind === 'key' && value.byteLength === 40))) {
      v = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
    }
    this.#set(id, plain.property, v);
    return this;
  }

  /**
   * Reads a socket option by libzmq's id or property name. Booleans read as 0 or 1, ZMQ_TYPE as
   * libzmq's type number, ZMQ_EVENTS as ZMQ_POLLIN | ZMQ_POLLOUT, ZMQ_MECHANISM as 0 (NULL), 1
   * (PLAIN) or 2 (CURVE). ZMQ_RCVMORE is always 0: messages are emitted whole.
   */
  // The value's type depends on the option, as in zeromq.js: `any` keeps v5 code compiling unchanged.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  getsockopt(option: number | OptionName): any {
    const id = optionId(option, 'getsockopt');
    switch (id) {
      case ZMQ_TYPE:
        return TYPE_NUMBERS[this.#socket.type];
      case ZMQ_EVENTS:
        return (this.#socket.readable ? ZMQ_POLLIN : 0) | (this.#socket.writable ? ZMQ_POLLOUT : 0);
      case ZMQ_RCVMORE:
        return 0;
      case ZMQ_RCVTIMEO:
        return this.#receiveTimeout;
      case ZMQ_LAST_ENDPOINT:
        return this.#socket.lastEndpoint;
      case ZMQ_IPV4ONLY:
        return this.#socket.ipv6 ? 0 : 1;
      case ZMQ_MECHANISM: {
        const m = this.#socket.securityMechanism;
        return m === 'plain' ? 1 : m === 'curve' ? 2 : 0;
      }
      case ZMQ_FD:
        throw new ZmqError('EINVAL', 'getsockopt(ZMQ_FD): a monocoque socket has no file descriptor (it is not libzmq underneath)');
    }
    const plain = PLAIN_OPTIONS.get(id);
    if (plain === undefined || plain.writeOnly === true) throw notReadable(id);
    const value = this.#get(id, plain.property);
    if (plain.kind === 'bool') return value ? 1 : 0;
    // Bytes come back as a Buffer, as v5's binding returned them.
    if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return value;
  }

  #set(id: number, property: string, value: unknown): void {
    if (!(property in this.#socket)) throw notOffered(id, this.type);
    (this.#socket as unknown as Record<string, unknown>)[property] = value;
  }

  #get(id: number, property: string): unknown {
    if (!(property in this.#socket)) throw notOffered(id, this.type);
    return (this.#socket as unknown as Record<string, unknown>)[property];
  }

  // ---- monitor ----

  /**
   * Emits the socket's monitor events, each as `(value, address, error)`: `'connect'`,
   * `'connect_delay'`, `'connect_retry'` (value: the interval in ms), `'listen'`, `'bind_error'`,
   * `'accept'`, `'accept_error'`, `'close'`, `'close_error'` (value: the errno), `'disconnect'`.
   * Events come as they happen: `interval` and `numOfEvents`, v5's polling settings, are ignored.
   */
  monitor(_interval?: number, _numOfEvents?: number): this {
    if (this.#monitoring) return this;
    this.#monitoring = true;
    this.#socket.events.on('*', this.#onEvent);
    return this;
  }

  /** Stops emitting monitor events (a later `monitor()` starts again). */
  unmonitor(): this {
    if (!this.#monitoring) return this;
    this.#monitoring = false;
    this.#socket.events.off('*', this.#onEvent);
    return this;
  }

  readonly #onEvent = (event: Event): void => {
    const name = MONITOR_EVENTS[event.type];
    if (name === undefined) return;
    const error = event.error;
    const value = event.type === 'connect:retry' ? event.interval : error !== undefined ? (error.errno ?? 0) : undefined;
    // Monitor events come from inside the transports: a listener's throw is the program's, not theirs.
    try {
      this.emit(name, value, event.address, error);
    } catch (e) {
      process.nextTick(rethrow, e);
    }
  };

  // ---- the turns underneath ----

  #canReceive(): boolean {
    return !this.#paused && !this.#socket.closed;
  }

  /** Hands one message to the v6 socket, which queues it in call order; its outcome goes to the callbacks. */
  #dispatch(frames: MessageLike[], callbacks: Callback[] | undefined): void {
    const sent = this.#socket.send(frames.length === 1 ? (frames[0] as MessageLike) : frames);
    if (callbacks === undefined) sent.then(undefined, this.#onSendError);
    else sent.then(() => settle(callbacks, undefined), (e: unknown) => settle(callbacks, e as Error));
  }

  readonly #onSendError = (e: unknown): void => {
    // A send still waiting when close() came was discarded by the close, as linger says: no error.
    if (this.#socket.closed && isZmqError(e, 'EAGAIN')) return;
    process.nextTick(emitError, this, e);
  };

  /** Sends what waits in the outbox, as far as the turns and pause() allow. */
  #flush(): void {
    if (this.#paused) return;
    if (this.#turns === 'free') {
      for (let out = this.#outbox.shift(); out !== undefined; out = this.#outbox.shift()) this.#dispatch(out.frames, out.callbacks);
    } else if (this.#turns === 'request') {
      if (!this.#inTurn && this.#outbox.size > 0) void this.#request(this.#outbox.shift() as Outgoing);
    } else if (this.#replyDue && this.#outbox.size > 0) void this.#reply(this.#outbox.shift() as Outgoing);
  }

  /** Receives for a `free` socket: batches of what is ready, until paused or closed. */
  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#canReceive()) {
        let batch: Buffer[][];
        try {
          batch = (await this.#socket.receiveMany()) as Buffer[][];
        } catch (e) {
          if (!this.#socket.closed) process.nextTick(emitError, this, e);
          return;
        }
        for (const frames of batch) this.#deliver(frames);
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** REQ: sends one request, then receives its reply; the next request waits for that. */
  async #request(out: Outgoing): Promise<void> {
    this.#inTurn = true;
    try {
      await this.#socket.send(out.frames);
    } catch (e) {
      this.#inTurn = false;
      if (out.callbacks === undefined) this.#onSendError(e);
      else settle(out.callbacks, e as Error);
      if (!this.#socket.closed) this.#flush();
      return;
    }
    settle(out.callbacks, undefined);
    let reply: Buffer[];
    try {
      reply = (await this.#socket.receive()) as Buffer[];
    } catch (e) {
      if (this.#socket.closed) return;
      this.#inTurn = false;
      process.nextTick(emitError, this, e);
      this.#flush();
      return;
    }
    this.#inTurn = false;
    this.#deliver(reply);
    this.#flush();
  }

  /** REP: receives the next request, unless paused or one is still to be answered. */
  #serve(): void {
    if (this.#inTurn || this.#replyDue || !this.#canReceive()) return;
    this.#inTurn = true;
    this.#socket.receive().then(this.#onRequest, this.#onRequestError);
  }

  readonly #onRequest = (request: Buffer[]): void => {
    this.#inTurn = false;
    this.#replyDue = true;
    this.#deliver(request);
    this.#flush();
  };

  readonly #onRequestError = (e: unknown): void => {
    this.#inTurn = false;
    if (!this.#socket.closed) process.nextTick(emitError, this, e);
  };

  /** REP: sends the reply to the request received, then reads the next request. */
  async #reply(out: Outgoing): Promise<void> {
    this.#replyDue = false;
    try {
      await this.#socket.send(out.frames);
    } catch (e) {
      // The request still waits for an answer (a frame the v6 socket refused, say), unless closed.
      if (!this.#socket.closed) this.#replyDue = true;
      if (out.callbacks === undefined) this.#onSendError(e);
      else settle(out.callbacks, e as Error);
      this.#flush();
      return;
    }
    settle(out.callbacks, undefined);
    this.#serve();
  }

  /**
   * A message received: emitted now, or kept while paused (and behind those kept, to stay in
   * order). Once the socket is closed (a listener may close it), the rest of a batch is dropped.
   */
  #deliver(frames: Buffer[]): void {
    if (this.#socket.closed) return;
    if (this.#paused || this.#stalled || this.#held.size > 0) this.#held.push(frames);
    else this.#emitMessage(frames);
  }

  #emitMessage(frames: Buffer[]): void {
    try {
      if (frames.length === 1) this.emit('message', frames[0]);
      else this.emit('message', ...frames);
    } catch (e) {
      // A listener's throw is reported as uncaught, as v5 did, and delivery goes on after it: the
      // next message is emitted once the throw has been reported (ticks run in order), so an
      // 'uncaughtException' handler has seen it by then, as it would have in v5.
      process.nextTick(rethrow, e);
      this.#stalled = true;
      this.#queueDrain();
    }
  }

  #queueDrain(): void {
    if (this.#drainQueued) return;
    this.#drainQueued = true;
    process.nextTick(this.#drain);
  }

  readonly #drain = (): void => {
    this.#drainQueued = false;
    this.#stalled = false;
    while (!this.#paused && !this.#stalled) {
      const frames = this.#held.shift();
      if (frames === undefined) break;
      this.#emitMessage(frames);
    }
    // REP: the request kept while paused has been emitted; a reply queued for it can go now.
    if (!this.#paused && !this.#stalled) this.#flush();
  };
}

/**
 * The option properties of a v5 socket: each reads and writes the option of the same name in
 * {@link options} through `getsockopt`/`setsockopt` (`sock.identity = 'worker-1'`, `sock.linger`).
 */
export interface Socket {
  affinity: number;
  backlog: number;
  get identity(): string | Buffer | undefined;
  set identity(v: string | Buffer);
  linger: number;
  rate: number;
  rcvbuf: number;
  sndbuf: number;
  get last_endpoint(): string | null;
  reconnect_ivl: number;
  recovery_ivl: number;
  get mechanism(): number;
  get plain_server(): number;
  set plain_server(v: number | boolean);
  get plain_username(): string | null;
  set plain_username(v: string | Buffer | null);
  get plain_password(): string | null;
  set plain_password(v: string | Buffer | null);
  get curve_server(): number;
  set curve_server(v: number | boolean);
  get curve_publickey(): string | null;
  set curve_publickey(v: string | Buffer | null);
  get curve_secretkey(): string | null;
  set curve_secretkey(v: string | Buffer | null);
  get curve_serverkey(): string | null;
  set curve_serverkey(v: string | Buffer | null);
  zap_domain: string;
  heartbeat_ivl: number;
  heartbeat_ttl: number;
  heartbeat_timeout: number;
  connect_timeout: number;
  get _ioevents(): number;
  get _receiveMore(): number;
  set _subscribe(v: string | Buffer);
  set _unsubscribe(v: string | Buffer);
}

for (const [name, id] of Object.entries(options)) {
  Object.defineProperty(Socket.prototype, name, {
    get(this: Socket) {
      return this.getsockopt(id);
    },
    set(this: Socket, value: unknown) {
      this.setsockopt(id, value);
    },
    enumerable: false,
    configurable: true,
  });
}

/**
 * A new socket of `type`, with `opts` set as its properties (`{ identity: 'a', linger: 0 }`,
 * names from {@link options}). Also exported as {@link createSocket}.
 *
 * ```js
 * const zmq = require('monocoque/v5-compat');
 * const sub = zmq.socket('sub');
 * sub.subscribe('weather');
 * sub.on('message', (topic, body) => console.log(topic.toString(), body.toString()));
 * sub.connect('tcp://127.0.0.1:5556');
 * ```
 */
export function socket(type: SocketType, opts: Record<string, unknown> = {}): Socket {
  const sock = new Socket(type);
  try {
    // As v5 did: every key becomes a property, so an option name sets its option.
    for (const key of Object.keys(opts)) (sock as unknown as Record<string, unknown>)[key] = opts[key];
  } catch (e) {
    sock.close();
    throw e;
  }
  return sock;
}

export { socket as createSocket };

/**
 * The default Context's settings, as v5's `zmq.Context` offered them (there is no other Context in
 * the v5 API; constructing one throws).
 */
export class Context {
  /** ZMQ_IO_THREADS of the default Context (kept for libzmq's sake; monocoque has no I/O threads). */
  static setMaxThreads(value: number): void {
    defaultContext.ioThreads = value;
  }

  static getMaxThreads(): number {
    return defaultContext.ioThreads;
  }

  /** ZMQ_MAX_SOCKETS of the default Context. */
  static setMaxSockets(value: number): void {
    defaultContext.maxSockets = value;
  }

  static getMaxSockets(): number {
    return defaultContext.maxSockets;
  }

  constructor() {
    throw new Error('Context cannot be instantiated in compatibility mode');
  }
}

/** A new CURVE key pair, as v5 named its fields: 40-character Z85 `public` and `secret` keys. */
export function curveKeypair(): { public: string; secret: string } {
  const { publicKey, secretKey } = curveKeyPair();
  return { public: publicKey, secret: secretKey };
}

/**
 * Forwards messages between two sockets in both directions, as v5's `zmq.proxy` did, for the
 * pairs it took: push/pull, pull/push, xpub/xsub (frontend first), router/dealer and xrep/xreq.
 * `capture`, if given, gets a copy of what comes back from the backend (for router/dealer, without
 * the routing id and the empty delimiter). v6's own Proxy class is not part of this API.
 */
export function proxy(frontend: Socket, backend: Socket, capture?: Socket): void {
  const pair = `${frontend.type}/${backend.type}`;
  let captured: (frames: Buffer[]) => MessageLike[];
  switch (pair) {
    case 'push/pull':
    case 'pull/push':
    case 'xpub/xsub':
      captured = (frames) => frames;
      break;
    case 'router/dealer':
    case 'xrep/xreq':
      captured = (frames) => frames.slice(2);
      break;
    default:
      throw new ZmqError('EINVAL', `proxy(${frontend.type}, ${backend.type}): compatibility mode proxies push/pull, pull/push, xpub/xsub, router/dealer and xrep/xreq`);
  }
  frontend.on('message', (...frames: Buffer[]) => backend.send(frames));
  backend.on('message', (...frames: Buffer[]) => {
    frontend.send(frames);
    capture?.send(captured(frames));
  });
}

// ---- module functions (taking the socket, so nothing is made per call) ----

function endpointDone(sock: Socket, event: 'bind' | 'unbind', address: string, cb: Callback | undefined): void {
  sock.emit(event, address);
  cb?.();
}

function endpointFailed(sock: Socket, error: unknown, cb: Callback | undefined): void {
  if (cb !== undefined) cb(error as Error);
  else sock.emit('error', error);
}

function emitError(sock: Socket, error: unknown): void {
  sock.emit('error', error);
}

function rethrow(error: unknown): never {
  throw error;
}

/** Calls each callback; a callback's throw is reported as uncaught and the others still run. */
function settle(callbacks: Callback[] | undefined, error: Error | undefined): void {
  if (callbacks === undefined) return;
  for (const cb of callbacks) {
    try {
      if (error === undefined) cb();
      else cb(error);
    } catch (e) {
      process.nextTick(rethrow, e);
    }
  }
}

function optionId(option: number | OptionName, what: string): number {
  if (typeof option === 'number') return option;
  if (typeof option === 'string' && Object.hasOwn(options, option)) return options[option];
  throw new ZmqError('EINVAL', `${what}(${typeof option === 'string' ? JSON.stringify(option) : String(option)}): not a libzmq option id (zmq.ZMQ_LINGER is 17) nor one of the names ${Object.keys(options).join(', ')}`);
}

function optionLabel(id: number): string {
  for (const [name, value] of Object.entries(OPTION_NAMES)) if (value === id) return name;
  return String(id);
}

const OPTION_NAMES: Record<string, number> = {
  ZMQ_AFFINITY, ZMQ_IDENTITY, ZMQ_SUBSCRIBE, ZMQ_UNSUBSCRIBE, ZMQ_RATE, ZMQ_RECOVERY_IVL, ZMQ_SNDBUF, ZMQ_RCVBUF,
  ZMQ_RCVMORE, ZMQ_FD, ZMQ_EVENTS, ZMQ_TYPE, ZMQ_LINGER, ZMQ_RECONNECT_IVL, ZMQ_BACKLOG, ZMQ_RECONNECT_IVL_MAX,
  ZMQ_MAXMSGSIZE, ZMQ_SNDHWM, ZMQ_RCVHWM, ZMQ_MULTICAST_HOPS, ZMQ_RCVTIMEO, ZMQ_SNDTIMEO, ZMQ_IPV4ONLY,
  ZMQ_LAST_ENDPOINT, ZMQ_ROUTER_MANDATORY, ZMQ_TCP_KEEPALIVE, ZMQ_TCP_KEEPALIVE_CNT, ZMQ_TCP_KEEPALIVE_IDLE,
  ZMQ_TCP_KEEPALIVE_INTVL, ZMQ_TCP_ACCEPT_FILTER, ZMQ_DELAY_ATTACH_ON_CONNECT, ZMQ_XPUB_VERBOSE, ZMQ_ROUTER_RAW,
  ZMQ_IPV6, ZMQ_MECHANISM, ZMQ_PLAIN_SERVER, ZMQ_PLAIN_USERNAME, ZMQ_PLAIN_PASSWORD, ZMQ_CURVE_SERVER,
  ZMQ_CURVE_PUBLICKEY, ZMQ_CURVE_SECRETKEY, ZMQ_CURVE_SERVERKEY, ZMQ_ZAP_DOMAIN, ZMQ_ROUTER_HANDOVER,
  ZMQ_HEARTBEAT_IVL, ZMQ_HEARTBEAT_TTL, ZMQ_HEARTBEAT_TIMEOUT, ZMQ_CONNECT_TIMEOUT,
};

function notSettable(id: number): ZmqError {
  const label = optionLabel(id);
  if (id === ZMQ_ROUTER_RAW) return new ZmqError('ENOTSUP', 'setsockopt(ZMQ_ROUTER_RAW): raw ROUTER sockets are not supported in compatibility mode');
  if (label !== String(id)) return new ZmqError('EINVAL', `setsockopt(${label}): ${label} can only be read`);
  return new ZmqError('EINVAL', `setsockopt(${id}): ${id} is not the id of an option the v5 API sets; see zmq.options and the ZMQ_* constants`);
}

function notReadable(id: number): ZmqError {
  const label = optionLabel(id);
  if (id === ZMQ_ROUTER_RAW) return new ZmqError('ENOTSUP', 'getsockopt(ZMQ_ROUTER_RAW): raw ROUTER sockets are not supported in compatibility mode');
  if (label !== String(id)) return new ZmqError('EINVAL', `getsockopt(${label}): ${label} can only be set`);
  return new ZmqError('EINVAL', `getsockopt(${id}): ${id} is not the id of an option the v5 API reads; see zmq.options and the ZMQ_* constants`);
}

function notOffered(id: number, type: SocketType): ZmqError {
  return new ZmqError('EINVAL', `${optionLabel(id)}: not an option of a ${type} socket in monocoque`);
}
