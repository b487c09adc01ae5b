// The base of every socket class: the zeromq.js-shaped API (bind, connect, send, receive, close,
// options, events), the queue of waiting calls, and the bridge between the socket's XState actor
// and its pipes. The machine decides (who is attached, who is ready, whose turn it is); this class
// carries messages, and provides the effects the machine names.

import { createActor } from 'xstate';
import type { Actor, AnyStateMachine, SnapshotFrom } from 'xstate';
import { parseEndpoint } from '../core/endpoint.js';
import type { Endpoint } from '../core/endpoint.js';
import { describeValue, ZmqError } from '../core/errors.js';
import type { Frame, Message, MessageInput } from '../core/frame.js';
import { toHex, toMessage } from '../core/frame.js';
import { defaultOptions, validateOption } from '../core/options.js';
import type { OptionName, SocketOptions } from '../core/options.js';
import type { Pipe, PipeReader, PipeWriter } from '../core/pipe.js';
import { Context, defaultContext } from './context.js';
import type { BoundHandle, ConnectHandle } from './context.js';
import { BusyPoll } from './busy-poll.js';
import { FairQueue } from './fair-queue.js';
import { SocketEvents } from './events.js';
import type { SocketEvent } from './events.js';

/** @internal What a transport hands a socket for one connection. */
export interface PeerLink {
  /** Messages we send to the peer. */
  out: Pipe;
  /** Messages the peer sends us. */
  in: Pipe;
  /** The endpoint this connection belongs to (what bind/connect was called with, resolved). */
  endpoint: string;
  /** The peer's socket type as ZeroMQ spells it on the wire. */
  peerType: string;
  /** The peer's routing id, if it announced one. */
  routingId?: Frame | undefined;
  transport: 'inproc' | 'tcp' | 'ipc';
  /** The remote address of a tcp/ipc stream. */
  remoteAddress?: string | undefined;
  /** Asks the transport to end this connection (the socket refused the peer, or is closing). */
  close(): void;
  /**
   * The socket refused this peer (a second PAIR peer, a taken routing id) or handed its routing id
   * to a newcomer, and has dropped its pipes. A stream transport keeps the connection open and out
   * of use, as libzmq does, so the peer does not reconnect and get refused again and again; without
   * this method the connection is closed.
   */
  ignore?(): void;
}

/** Boolean options a socket's machine also keeps (it hears of them as `option.changed`). */
type MachineOption = 'relaxed' | 'correlate' | 'mandatory' | 'handover';

/** @internal A connection as the socket keeps it. */
export interface Peer extends PeerLink {
  readonly id: number;
  /** False once the peer has left the machine (its incoming pipe may still be drained). */
  attached: boolean;
}

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
  backlog?: number;
  ipv6?: boolean;
  /** µs a receive waiting for an answer over tcp/ipc polls before sleeping (see `busyPoll`). */
  busyPoll?: number;
  /** The Context the socket belongs to (inproc names are per Context); the global one by default. */
  context?: Context;
}

interface Waiter {
  msg: Message | undefined;
  resolve: (value: never) => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** Options for one send or receive call. */
export interface CallOptions {
  /** Aborting rejects the call (ECANCELED, with the signal's reason as `cause`) if it is still waiting. */
  signal?: AbortSignal;
}

const RESOLVED: Promise<void> = Promise.resolve();
/** After this many calls that completed at once, one waits a macrotask so IO is not starved (zeromq.js uses 512). */
const SYNC_RUN_LIMIT = 512;
const COMMON_OPTIONS: readonly OptionName[] = [
  'sendHighWaterMark', 'receiveHighWaterMark', 'sendTimeout', 'receiveTimeout', 'linger', 'immediate', 'routingId',
  'reconnectInterval', 'reconnectMaxInterval', 'connectTimeout', 'handshakeInterval', 'heartbeatInterval',
  'heartbeatTimeout', 'heartbeatTimeToLive', 'maxMessageSize', 'backlog', 'ipv6', 'busyPoll',
];
const setImmediateish: (f: () => void) => void =
  (globalThis as { setImmediate?: (f: () => void) => void }).setImmediate ?? ((f) => setTimeout(f, 0));

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediateish(resolve));
}

/**
 * What all socket classes share. Not constructed directly: use `Push`, `Pull`, `Pair`, ….
 */
export abstract class Socket<TMachine extends AnyStateMachine = AnyStateMachine> implements PipeReader, PipeWriter, AsyncIterable<Buffer[]> {
  /** The socket type as ZeroMQ spells it on the wire (`PUSH`, `ROUTER`, …). */
  readonly type: string;
  readonly context: Context;
  /** Monitor events: bind, accept, connect, disconnect, close, end, handshake…, each naming the peer. */
  readonly events = new SocketEvents();
  /** @internal Unique within the process. */
  readonly id: number;
  /** The endpoint of the last bind or connect, resolved (the real port of `tcp://…:*`). */
  lastEndpoint: string | null = null;

  /** @internal */
  protected readonly opt: SocketOptions;
  /** @internal */
  protected readonly peers = new Map<number, Peer>();
  /** @internal The peers' incoming pipes that have messages, read in turn (PUB and XPUB read theirs at once, in pipeReadable). */
  protected readonly inbound = new FairQueue();
  #machine: TMachine;
  #actor: Actor<TMachine> | undefined;
  #closed = false;
  #released = false;
  #nextPeerId = 1;
  #sends: Waiter[] = [];
  #recvs: Waiter[] = [];
  #syncSends = 0;
  #syncRecvs = 0;
  #sentSinceReceive = false;
  readonly #busyPoll = new BusyPoll();
  /** Whether some bind or connect is tcp or ipc (the only waits busy polling can shorten). */
  #streamEndpoints = false;
  #binds = new Map<string, BoundHandle>();
  #connects = new Map<string, ConnectHandle>();
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  /** When a positive linger ends (performance.now() ms), once close() started it. */
  #lingerDeadline = 0;
  #drainQueued = false;
  #closedWaiters: (() => void)[] = [];

  protected constructor(type: string, machine: TMachine, options: object | undefined, extraOptions: readonly OptionName[] = []) {
    this.type = type;
    this.#machine = machine;
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
    const allowed = new Set<string>([...COMMON_OPTIONS, ...extraOptions]);
    for (const [name, value] of Object.entries(input)) {
      if (name === 'context' || value === undefined) continue;
      if (!allowed.has(name)) {
        throw new ZmqError('EINVAL', `option "${name}" is not an option of a ${type} socket; accepted: ${[...allowed].join(', ')}`);
      }
      (this.opt as unknown as Record<string, unknown>)[name] = validateOption(name as OptionName, value);
    }
    this.id = this.context.register(this);
  }

  /** The socket's XState actor (started on first use): subscribe to it, inspect it, send it nothing. */
  get actor(): Actor<TMachine> {
    return this.#actor ?? this.#start();
  }

  /** The machine's current snapshot: its state value and context (peers, ready flags, …). */
  getSnapshot(): SnapshotFrom<TMachine> {
    return this.actor.getSnapshot() as SnapshotFrom<TMachine>;
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
    return !this.#closed && this.#sends.length === 0 && this.canSendNow();
  }

  // ---- options (the zeromq.js names; each doc opens with the libzmq constant) ----

  /** ZMQ_SNDHWM: messages queued per peer before the socket waits or drops. 0 = unlimited. */
  get sendHighWaterMark(): number { return this.opt.sendHighWaterMark; }
  set sendHighWaterMark(v: number) { this.setOption('sendHighWaterMark', v); }
  /** ZMQ_RCVHWM: messages queued per peer on the receiving side. 0 = unlimited. */
  get receiveHighWaterMark(): number { return this.opt.receiveHighWaterMark; }
  set receiveHighWaterMark(v: number) { this.setOption('receiveHighWaterMark', v); }
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
  /** ZMQ_ROUTING_ID: the identity this socket announces to ROUTER peers (1..255 bytes, not starting with 0). */
  get routingId(): string | Uint8Array | undefined { return this.opt.routingId; }
  set routingId(v: string | Uint8Array | undefined) { this.setOption('routingId', v); }
  /** ZMQ_RECONNECT_IVL: ms before reconnecting a dropped tcp/ipc connection; -1 never reconnects. */
  get reconnectInterval(): number { return this.opt.reconnectInterval; }
  set reconnectInterval(v: number) { this.setOption('reconnectInterval', v); }
  /** ZMQ_RECONNECT_IVL_MAX: upper bound of the doubling reconnect delay; 0 keeps it constant. */
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
  /** ZMQ_HEARTBEAT_TIMEOUT: ms without traffic after a PING before the connection is closed; -1 = the interval. */
  get heartbeatTimeout(): number { return this.opt.heartbeatTimeout; }
  set heartbeatTimeout(v: number) { this.setOption('heartbeatTimeout', v); }
  /** ZMQ_HEARTBEAT_TTL: ms the peer should wait for traffic from us before closing (sent in PINGs). */
  get heartbeatTimeToLive(): number { return this.opt.heartbeatTimeToLive; }
  set heartbeatTimeToLive(v: number) { this.setOption('heartbeatTimeToLive', v); }
  /** ZMQ_MAXMSGSIZE: largest frame accepted from the network, in bytes; -1 = no limit. */
  get maxMessageSize(): number { return this.opt.maxMessageSize; }
  set maxMessageSize(v: number) { this.setOption('maxMessageSize', v); }
  /** ZMQ_BACKLOG: the listen backlog of tcp/ipc binds. */
  get backlog(): number { return this.opt.backlog; }
  set backlog(v: number) { this.setOption('backlog', v); }
  /** ZMQ_IPV6: let tcp sockets use IPv6. */
  get ipv6(): boolean { return this.opt.ipv6; }
  set ipv6(v: boolean) { this.setOption('ipv6', v); }
  /**
   * µs a receive() that waits for an answer (a send() came since the last receive()) from a tcp/ipc
   * peer keeps the event loop polling instead of sleeping: that saves the OS wake-up (tens of µs on
   * a VM) at the price of CPU time, and backs off when polls find nothing. 0 = never; default 50.
   * Named after libzmq's draft ZMQ_BUSY_POLL (which asks the kernel instead); see busy-poll.ts.
   */
  get busyPoll(): number { return this.opt.busyPoll; }
  set busyPoll(v: number) {
    this.setOption('busyPoll', v);
    if (v === 0) this.#busyPoll.stop();
  }

  /** @internal Checks and stores one option (EINVAL on a bad value; the old value is kept). */
  protected setOption<K extends OptionName>(name: K, value: unknown): void {
    this.#assertOpen();
    this.opt[name] = validateOption(name, value);
  }

  /**
   * @internal How long a connection closing now may still spend sending what it holds, in ms:
   * the linger option, or once close() started a positive linger, what is left of it (-1: no limit).
   */
  get lingerLeft(): number {
    if (this.#lingerDeadline === 0) return this.opt.linger;
    return Math.max(0, Math.ceil(this.#lingerDeadline - performance.now()));
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

  /** @internal Read-only view of the option values, for transports. */
  get options(): Readonly<SocketOptions> {
    return this.opt;
  }

  // ---- endpoints ----

  /**
   * Binds to an endpoint: `inproc://name`, `ipc:///path` or `ipc://@name`, `tcp://host:port`
   * (`tcp://*:*` for every interface and an ephemeral port; `lastEndpoint` tells which).
   */
  async bind(address: string): Promise<void> {
    this.#assertOpen();
    let ep: Endpoint;
    try {
      ep = parseEndpoint(address, 'bind');
      const handle = await this.context.transport(ep).bind(this, ep);
      if (this.#closed) {
        handle.close();
        throw closedError();
      }
      this.#binds.set(handle.address, handle);
      if (handle.address !== address) this.#binds.set(address, handle);
      this.#endpointsChanged();
      this.lastEndpoint = handle.address;
      this.emitEvent({ type: 'bind', address: handle.address });
    } catch (e) {
      if (e instanceof Error && (e as ZmqError).address === undefined) (e as ZmqError).address = address;
      this.emitEvent({ type: 'bind:error', address, error: e as ZmqError });
      throw e;
    }
  }

  /** Undoes a bind: the endpoint is released and the peers that came through it are detached. */
  async unbind(address: string): Promise<void> {
    this.#assertOpen();
    const handle = this.#binds.get(address) ?? this.#binds.get(parseEndpoint(address, 'bind').address);
    if (handle === undefined) throw new ZmqError('ENOENT', `unbind("${address}"): this socket is not bound to that endpoint`, { address });
    for (const [k, h] of this.#binds) if (h === handle) this.#binds.delete(k);
    this.#endpointsChanged();
    handle.close();
  }

  /**
   * Connects to an endpoint. Returns at once; the connection completes in the background (for
   * inproc, when the name is bound, which may be later: libzmq 4 allows connect before bind).
   */
  connect(address: string): void {
    this.#assertOpen();
    const ep = parseEndpoint(address, 'connect');
    if (this.#connects.has(ep.address)) return;
    const handle = this.context.transport(ep).connect(this, ep);
    this.#connects.set(ep.address, handle);
    if (ep.address !== address) this.#connects.set(address, handle);
    this.#endpointsChanged();
    this.lastEndpoint = ep.address;
  }

  /** Undoes a connect: the connection is closed and will not be retried. */
  disconnect(address: string): void {
    this.#assertOpen();
    // A malformed endpoint is EINVAL (an unknown transport EPROTONOSUPPORT), as libzmq says, not
    // ENOENT. Parsed as for bind: a wildcard is well-formed, just never connected (ENOENT).
    const handle = this.#connects.get(address) ?? this.#connects.get(parseEndpoint(address, 'bind').address);
    if (handle === undefined) throw new ZmqError('ENOENT', `disconnect("${address}"): this socket is not connected to that endpoint`, { address });
    for (const [k, h] of this.#connects) if (h === handle) this.#connects.delete(k);
    this.#endpointsChanged();
    handle.close();
  }

  // ---- sending and receiving ----

  /**
   * Sends one message: a frame or an array of frames (Buffer, Uint8Array, ArrayBuffer, string,
   * null). Resolves when the message is queued to a peer. Calls made while one is waiting queue
   * behind it in call order (zeromq.js fails them with EBUSY). Over inproc the receiver gets the
   * very Buffer object sent: do not reuse a Buffer you have sent unless you mean it to be seen.
   */
  send(message: MessageInput, options?: CallOptions): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    let msg: Message;
    try {
      msg = toMessage(message);
      if (options !== undefined) checkCallOptions(options, 'send');
      this.checkSend(msg);
    } catch (e) {
      return Promise.reject(e);
    }
    this.#sentSinceReceive = true;
    if (this.#sends.length === 0 && this.xsend(msg)) {
      if (++this.#syncSends < SYNC_RUN_LIMIT) return RESOLVED;
      this.#syncSends = 0;
      return yieldToLoop();
    }
    this.#syncSends = 0;
    return this.#wait(this.#sends, msg, this.opt.sendTimeout, options?.signal, 'send') as Promise<void>;
  }

  /**
   * Receives one message as an array of Buffers (plain Uint8Arrays in a browser). Calls made while
   * one is waiting queue behind it in call order.
   */
  receive(options?: CallOptions): Promise<Buffer[]> {
    if (this.#closed) return Promise.reject(closedError());
    try {
      if (options !== undefined) checkCallOptions(options, 'receive');
      this.checkReceive();
    } catch (e) {
      return Promise.reject(e);
    }
    const answer = this.#sentSinceReceive;
    this.#sentSinceReceive = false;
    if (this.#recvs.length === 0) {
      const msg = this.xrecv();
      if (msg !== undefined) {
        if (++this.#syncRecvs < SYNC_RUN_LIMIT) return Promise.resolve(msg as Buffer[]);
        this.#syncRecvs = 0;
        return yieldToLoop().then(() => msg as Buffer[]);
      }
    }
    this.#syncRecvs = 0;
    const waiting = this.#wait(this.#recvs, undefined, this.opt.receiveTimeout, options?.signal, 'receive') as Promise<Buffer[]>;
    // Only a wait for an answer polls (see busy-poll.ts): one with a send() since the last receive().
    if (answer && this.#streamEndpoints && this.opt.busyPoll > 0 && this.#recvs.length === 1) this.#busyPoll.start(this.#recvs[0] as Waiter, this.opt.busyPoll);
    return waiting;
  }

  /** Receives messages until the socket is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer[]> {
    while (!this.#closed) {
      try {
        yield await this.receive();
      } catch (e) {
        if (this.#closed) return;
        throw e;
      }
    }
  }

  /**
   * Closes the socket. Waiting calls fail; queued messages keep leaving for up to `linger` ms
   * (0 discards them, -1 waits until they are gone) while the machine is in `lingering`.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#busyPoll.stop();
    for (const w of this.#sends.splice(0)) this.#settle(w, closedError());
    for (const w of this.#recvs.splice(0)) this.#settle(w, closedError());
    let queued = 0;
    for (const p of this.peers.values()) if (p.attached) queued += p.out.size;
    for (const h of new Set(this.#connects.values())) h.stopReconnecting?.();
    for (const h of new Set(this.#binds.values())) h.stopListening?.();
    this.actor.send({ type: 'close', linger: this.opt.linger, queued } as never);
  }

  /** @internal Resolves when the socket is fully closed (after lingering). */
  whenReleased(): Promise<void> {
    if (this.#released) return RESOLVED;
    return new Promise((resolve) => this.#closedWaiters.push(resolve));
  }

  // ---- what each socket type provides ----

  /** Tries to queue `msg` now. True: taken (or dropped by the type's rules). False: wait. */
  protected abstract xsend(msg: Message): boolean;
  /** Takes the next message for the user, or undefined if none is ready. */
  protected abstract xrecv(): Message | undefined;
  /** Whether a send would complete now (for `writable`). */
  protected abstract canSendNow(): boolean;
  /** Throws if this message may not be sent now (ENOTSUP for a type that never sends, EFSM…). */
  protected checkSend(_msg: Message): void {}
  /** Throws if receive may not be called now. */
  protected checkReceive(): void {}
  /** A waiting send left the queue unsent (timeout, abort, or refused when its turn came). */
  protected sendGaveUp(): void {}
  /** Called after every transition of the machine: refresh what the hot path reads. */
  protected onTransition(_snapshot: SnapshotFrom<TMachine>): void {}
  /** Effects the machine names beyond the common ones (`startLinger`, `release`, `refusePeer`). */
  protected effects(): Record<string, (args: { event: never; context: never }) => void> {
    return {};
  }
  /** A peer was attached (after the machine heard of it). */
  protected peerAttached(_peer: Peer): void {}
  /** A peer left (after the machine heard of it). */
  protected peerDetached(_peer: Peer): void {}

  // ---- helpers for the socket types ----

  /** @internal Round-robins over `pipes` from `cursor`; returns the new cursor, or -1 if none took it. */
  protected static writeRoundRobin(owner: Socket, pipes: readonly Pipe[], cursor: number, msg: Message): number {
    const n = pipes.length;
    for (let k = 0; k < n; k++) {
      if (cursor >= n) cursor = 0;
      const pipe = pipes[cursor++] as Pipe;
      if (pipe.write(msg)) {
        if (!pipe.writable) owner.pipeFilled(pipe);
        return cursor;
      }
    }
    return -1;
  }

  /** @internal Fair-queues over the pipes that have messages. */
  protected readFairly(): Message | undefined {
    return this.inbound.read();
  }

  /** @internal A pipe we write just reached its HWM: tell the machine. */
  protected pipeFilled(pipe: Pipe): void {
    const peer = pipe.writerTag as Peer | undefined;
    if (peer?.attached) this.actor.send({ type: 'pipe.muted', peerId: peer.id } as never);
  }

  /** @internal Emits a monitor event (only built when someone listens). */
  protected emitEvent(event: SocketEvent): void {
    if (this.events.observed) this.events.emit(event);
  }

  /** @internal Sends an event to this socket's machine. */
  protected tell(event: { type: string; [key: string]: unknown }): void {
    this.actor.send(event as never);
  }

  /** @internal Wakes waiting sends and receives (after a transition, or a pipe event). */
  protected flush(): void {
    this.#flushSends();
    this.#flushRecvs();
  }

  /** @internal Whether a send() is waiting to be queued. */
  protected get sendsWaiting(): boolean {
    return this.#sends.length > 0;
  }

  /** @internal Rejects every waiting receive with `error`. */
  protected failReceives(error: ZmqError): void {
    for (const w of this.#recvs.splice(0)) {
      this.#settle(w, error);
      this.#busyPoll.ended(w, false);
    }
  }

  /** @internal Wakes waiting receives only (new input that is not a machine event). */
  protected flushReceives(): void {
    this.#flushRecvs();
  }

  // ---- transports call these ----

  /**
   * @internal A transport attaches a connection. Returns the peer record. `event` is the monitor
   * event to emit (`connect:delay` for pipes made before a tcp/ipc stream exists; null for none).
   */
  attachPeer(link: PeerLink, event: 'connect' | 'accept' | 'connect:delay' | null): Peer {
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
    this.peerAttached(peer);
    if (link.in.size > 0) this.pipeReadable(link.in);
    if (event !== null) this.emitEvent({ type: event, address: link.endpoint, peer: eventPeer(link) });
    this.flush();
    return peer;
  }

  /** @internal A transport (or the socket) ends a connection. Idempotent. */
  detachPeer(peer: Peer, quiet = false): void {
    if (!peer.attached) return;
    peer.attached = false;
    // What we queued stays readable by the peer; what the peer queued for us is still ours to read
    // until its pipe ends (a lingering peer's last messages arrive).
    peer.out.end();
    // The machine hears of it while the peer record can still be looked up by its effects.
    if (!this.#closed) this.tell({ type: 'peer.detached', peerId: peer.id });
    this.peers.delete(peer.id);
    this.peerDetached(peer);
    if (!quiet) this.emitEvent({ type: 'disconnect', address: peer.endpoint, peer: eventPeer(peer) });
    if (this.#closed) this.#checkDrained();
  }

  /** @internal Refuses a peer the machine does not accept (e.g. a second PAIR peer). */
  protected refuse(peer: Peer, why: string): void {
    peer.attached = false;
    this.peers.delete(peer.id);
    peer.out.drop();
    peer.in.drop();
    this.emitEvent({ type: 'peer:refused', address: peer.endpoint, peer: eventPeer(peer), error: new ZmqError('EINVAL', why) });
    if (peer.ignore !== undefined) peer.ignore();
    else peer.close();
  }

  /** @internal The inproc transport refuses a pairing ZeroMQ does not allow. */
  refuseInproc(peer: Peer | undefined, endpoint: string, peerType: string, why: string): void {
    if (peer !== undefined && peer.attached) {
      peer.attached = false;
      this.peers.delete(peer.id);
      this.tell({ type: 'peer.detached', peerId: peer.id });
      this.peerDetached(peer);
      peer.out.drop();
      peer.in.drop();
    }
    this.emitEvent({ type: 'peer:refused', address: endpoint, peer: { socketType: peerType }, error: new ZmqError('ENOCOMPATPROTO', why) });
  }

  // PipeReader
  /** @internal */
  pipeReadable(pipe: Pipe): void {
    this.inbound.add(pipe);
    if (this.#recvs.length > 0) this.#flushRecvs();
  }
  /** @internal */
  pipeEnded(pipe: Pipe): void {
    this.inbound.remove(pipe);
  }
  // PipeWriter
  /** @internal */
  pipeWritable(pipe: Pipe): void {
    const peer = pipe.writerTag as Peer | undefined;
    if (peer?.attached && !this.#closed) this.tell({ type: 'pipe.ready', peerId: peer.id });
  }
  /** @internal The peer stopped reading: it is gone as far as sending goes. */
  pipeDropped(pipe: Pipe): void {
    const peer = pipe.writerTag as Peer | undefined;
    if (peer !== undefined) this.detachPeer(peer);
  }
  /** @internal */
  pipeDrained(_pipe: Pipe): void {
    if (this.#closed) this.#checkDrained();
  }

  // ---- internals ----

  #start(): Actor<TMachine> {
    const common = {
      startLinger: () => this.#startLinger(),
      release: () => this.#release(),
      refusePeer: ({ event }: { event: { peerId: number } }) => {
        const peer = this.peers.get(event.peerId);
        if (peer !== undefined) this.refuse(peer, `a ${this.type} socket takes one peer; a second (${peer.peerType} via ${peer.endpoint}) was refused`);
      },
    };
    const machine = this.#machine.provide({ actions: { ...common, ...this.effects() } } as never) as TMachine;
    const actor = createActor(machine, { systemId: `socket-${this.id}`, inspect: this.context.inspector } as never) as Actor<TMachine>;
    this.#actor = actor;
    actor.subscribe((snapshot) => {
      this.onTransition(snapshot as SnapshotFrom<TMachine>);
      this.flush();
    });
    actor.start();
    return actor;
  }

  /** Called after every change to the binds and connects. */
  #endpointsChanged(): void {
    let stream = false;
    for (const k of this.#connects.keys()) if (!k.startsWith('inproc:')) stream = true;
    for (const k of this.#binds.keys()) if (!k.startsWith('inproc:')) stream = true;
    this.#streamEndpoints = stream;
  }

  /** @internal This socket's busy polling (its counts are read by tests). */
  get busyPolling(): BusyPoll {
    return this.#busyPoll;
  }

  #assertOpen(): void {
    if (this.#closed) throw closedError();
  }

  #wait(queue: Waiter[], msg: Message | undefined, timeout: number, signal: AbortSignal | undefined, what: string): Promise<unknown> {
    if (timeout === 0) return Promise.reject(new ZmqError('EAGAIN', `${what} on ${this.type}: would wait, and ${what === 'send' ? 'sendTimeout' : 'receiveTimeout'} is 0`));
    if (signal?.aborted) return Promise.reject(aborted(what, signal));
    return new Promise((resolve, reject) => {
      const w: Waiter = { msg, resolve: resolve as (v: never) => void, reject, timer: undefined, signal, onAbort: undefined };
      if (timeout > 0) {
        w.timer = setTimeout(() => {
          this.#remove(queue, w);
          reject(new ZmqError('EAGAIN', `${what} on ${this.type} timed out after ${timeout} ms`));
          if (queue === this.#sends) this.sendGaveUp();
        }, timeout);
      }
      if (signal !== undefined) {
        w.onAbort = () => {
          this.#remove(queue, w);
          if (w.timer !== undefined) clearTimeout(w.timer);
          reject(aborted(what, signal));
          if (queue === this.#sends) this.sendGaveUp();
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      queue.push(w);
    });
  }

  #remove(queue: Waiter[], w: Waiter): void {
    const i = queue.indexOf(w);
    if (i >= 0) queue.splice(i, 1);
    if (w.signal !== undefined && w.onAbort !== undefined) w.signal.removeEventListener('abort', w.onAbort);
    this.#busyPoll.ended(w, false);
  }

  #settle(w: Waiter, error: unknown, value?: unknown): void {
    if (w.timer !== undefined) clearTimeout(w.timer);
    if (w.signal !== undefined && w.onAbort !== undefined) w.signal.removeEventListener('abort', w.onAbort);
    if (error !== undefined) w.reject(error);
    else w.resolve(value as never);
  }

  #flushSends(): void {
    const q = this.#sends;
    while (q.length > 0) {
      const w = q[0] as Waiter;
      try {
        this.checkSend(w.msg as Message);
      } catch (e) {
        q.shift();
        this.#settle(w, e);
        this.sendGaveUp();
        continue;
      }
      if (!this.xsend(w.msg as Message)) return;
      q.shift();
      this.#settle(w, undefined);
    }
  }

  #flushRecvs(): void {
    const q = this.#recvs;
    while (q.length > 0) {
      const msg = this.xrecv();
      if (msg === undefined) return;
      const w = q.shift() as Waiter;
      this.#settle(w, undefined, msg);
      this.#busyPoll.ended(w, true);
    }
  }

  #startLinger(): void {
    for (const p of this.peers.values()) {
      p.out.end();
      p.in.drop();
    }
    if (this.opt.linger > 0) {
      this.#lingerDeadline = performance.now() + this.opt.linger;
      this.#lingerTimer = setTimeout(() => this.tell({ type: 'linger.expired' }), this.opt.linger);
    }
    this.#checkDrained();
  }

  #checkDrained(): void {
    if (this.#released || this.#actor === undefined) return;
    for (const p of this.peers.values()) if (p.out.size > 0 && !p.out.dropped) return;
    if (this.#drainQueued || (this.#actor.getSnapshot() as { value: unknown }).value !== 'lingering') return;
    // Several peers may drain in one turn: one event is enough, and only while still lingering.
    this.#drainQueued = true;
    queueMicrotask(() => {
      this.#drainQueued = false;
      if (!this.#released && (this.actor.getSnapshot() as { value: unknown }).value === 'lingering') this.tell({ type: 'pipes.drained' });
    });
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#lingerTimer !== undefined) clearTimeout(this.#lingerTimer);
    // Whatever is still queued now is discarded (linger is over), then the links are closed.
    const peers = [...this.peers.values()];
    this.peers.clear();
    for (const peer of peers) {
      peer.attached = false;
      peer.out.drop();
      peer.in.drop();
    }
    for (const peer of peers) peer.close();
    for (const h of new Set(this.#connects.values())) h.close();
    this.#connects.clear();
    for (const h of new Set(this.#binds.values())) h.close();
    this.#binds.clear();
    this.inbound.clear();
    this.context.unregister(this);
    this.emitEvent({ type: 'end' });
    this.events.close();
    for (const f of this.#closedWaiters.splice(0)) f();
  }
}

function closedError(): ZmqError {
  return new ZmqError('EBADF', 'Socket is closed');
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
