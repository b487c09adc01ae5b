// What tcp and ipc share: a listener that accepts streams, a dialer that (re)connects, and one
// connection actor (machines/connection.ts) per accepted stream or per connect, whose effects are
// provided here. The actor decides when to connect, time out and retry; this file does the IO, gives
// each stream's engine its byte stream (node:net) and mechanism (NULL), and attaches pipes to the
// socket (a STREAM socket's streams get a raw engine instead, raw-engine.ts: no ZMTP at all).
// PeerHost rules stay in the socket; wire rules in src/protocol/.
//
// Lifetime, as zeromq.js's: servers, streams and the actors' timers are unref'd, so open sockets
// keep no process or worker alive (a waiting call does, keep-alive.ts); when the process is about
// to exit with messages still queued for tcp/ipc peers, it waits for them up to the linger
// (waitAtExit), as zeromq.js's context does when it terminates at exit.

import type { Server, Socket as NetSocket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { createActor } from 'xstate';
import type { Actor } from 'xstate';
import type { Endpoint } from '../core/endpoint.js';
import { ZmqError } from '../core/errors.js';
import type { ZmqErrorCode } from '../core/errors.js';
import { toHex } from '../core/frame.js';
import { routingIdBytes } from '../core/options.js';
import { Pipe } from '../core/pipe.js';
import type { Greeting, HandshakeWait, Mechanism, PeerInfo, Violation, ZapRequest } from '../protocol/index.js';
import { connectionMachine } from '../../machines/connection.js';
import type { ConnectionContext, ConnectionFailure, ConnectionRole } from '../../machines/connection.js';
import { zapEnabled } from '../core/security.js';
import type { SecuritySettings } from '../core/security.js';
import type { EventPeer, SocketEvent } from '../core/events.js';
import type { BoundHandle, ConnectHandle, Peer, PeerHost, Transport } from './host.js';
import type { TransportContext } from './registry.js';
import { ignoreError, NodeStream } from './node-stream.js';
import { backgroundClock } from './keep-alive.js';
import { createMechanism } from './security.js';
import { idleReader, idleWriter, StreamEngine } from './stream-engine.js';
import type { EngineHost } from './stream-engine.js';
import { RawEngine } from './raw-engine.js';
import type { RawEngineHost } from './raw-engine.js';

/** A listening server, as a transport's `listen` returns it. */
export interface Listening {
  server: Server;
  /** The endpoint resolved: the real port, the generated ipc path. */
  address: string;
  /** Runs after the server closed (ipc: unlink the socket file). */
  cleanup?(): void;
}

/** How tcp and ipc differ. */
export interface StreamSpec {
  kind: 'tcp' | 'ipc';
  /** libzmq reports `connect:delay` when a connect does not complete at once, as tcp connects do. */
  delayedConnect: boolean;
  listen(socket: PeerHost, ep: Endpoint): Promise<Listening>;
  /** Starts one connect attempt. */
  dial(socket: PeerHost, ep: Endpoint): NetSocket;
  /** The remote end of a stream, for monitor events. */
  remoteAddress(stream: NetSocket, endpoint: string): string | undefined;
  /** Applies the socket's options to a stream it dials or accepts (tcp: keep-alive). */
  configure?(socket: PeerHost, stream: NetSocket): void;
  /**
   * Called once per bind, with the socket's options as they are then (tcp: ZMQ_TCP_ACCEPT_FILTER):
   * a check that says why an accepted stream is turned away, or undefined to take it. No check
   * (undefined) takes every stream.
   */
  gate?(socket: PeerHost): ((stream: NetSocket) => string | undefined) | undefined;
}

/**
 * PeerHost types whose connecting side keeps one pair of pipes across reconnects when `immediate` is off,
 * attached at connect() time so sends queue before the first connection (libzmq `socket_base.cpp
 * connect` makes the pipe at once; `session_base.cpp reconnect` keeps it). ROUTER needs the peer's
 * identity before it can route (libzmq holds such a pipe anonymous until then); publishers and
 * subscribers keep per-connection subscription state that a new connection must rebuild (libzmq
 * "hiccups" the pipe to replay subscriptions): those get fresh pipes per connection.
 */
const FRESH_PIPES_PER_CONNECTION = new Set(['ROUTER', 'PUB', 'XPUB', 'SUB', 'XSUB']);

/**
 * Whether a connect's pipes are made at connect time and kept across reconnects (PROTOCOL.md §13).
 * A ROUTER waits for its peer's identity, except through a connect that named it (`connectRoutingId`).
 */
function keepsPipes(socket: PeerHost, endpoint: string): boolean {
  if (socket.options.immediate) return false;
  return !FRESH_PIPES_PER_CONNECTION.has(socket.type) || socket.connectRoutingId?.(endpoint) !== undefined;
}

/**
 * Socket types whose tcp/ipc streams carry raw bytes, not ZMTP (libzmq `options.raw_socket`: the
 * listener and the connecter give such a socket a `raw_engine_t`).
 */
const RAW_SOCKET_TYPES: ReadonlySet<string> = new Set(['STREAM']);

/** What a raw connection's peer is known as: nothing was announced (no greeting, no metadata). */
const RAW_PEER: PeerInfo = { socketType: '', identity: undefined, properties: {} };

/** The engine of one stream: ZMTP, or raw bytes for a STREAM socket. */
type Engine = StreamEngine | RawEngine;

function emit(socket: PeerHost, event: SocketEvent): void {
  const monitor = socket.monitor;
  if (monitor.observed) monitor.emit(event);
}

const connectionOfActor = new WeakMap<object, NetConnection>();

/** An effect of the shared connection machine, run on the NetConnection its actor belongs to. */
function on(effect: (n: NetConnection, context: ConnectionContext) => void) {
  return ({ self, context }: { self: object; context: ConnectionContext }): void => {
    const n = connectionOfActor.get(self);
    if (n !== undefined) effect(n, context);
  };
}

/**
 * One connection actor and what it drives: the stream of the moment (with its engine), the socket
 * peer it attached, and, for a connecting socket, the pipes kept across reconnects.
 */
class NetConnection implements EngineHost, RawEngineHost {
  readonly actor: Actor<typeof connectionMachine>;
  readonly #spec: StreamSpec;
  readonly #context: TransportContext;
  readonly #socket: PeerHost;
  /** The security settings of the bind or connect this connection belongs to (libzmq fixes them there). */
  readonly #security: Readonly<SecuritySettings> | undefined;
  readonly #role: ConnectionRole;
  readonly #endpoint: string;
  readonly #ep: Endpoint | undefined;
  readonly #onDone: ((c: NetConnection) => void) | undefined;
  #engine: Engine | undefined;
  /** The socket speaks raw bytes on this connection (a STREAM socket): no greeting, no handshake. */
  readonly #raw: boolean;
  #attempt: NetSocket | undefined;
  /** Takes our listeners off the attempt under way (they hold this connection, so its socket). */
  #forgetAttempt: (() => void) | undefined;
  /** An open stream whose mechanism is still loading (CURVE's libsodium, the first time). */
  #loading: NetSocket | undefined;
  /** Stops the wait for the ZAP handler's answer when the stream ends first. */
  #zapWait: AbortController | undefined;
  #peer: Peer | undefined;
  #kept: { out: Pipe; in: Pipe } | undefined;
  #info: PeerInfo | undefined;
  #remote: string | undefined;
  #done = false;
  /** At exit (waitAtExit): when the wait for this connection's queued messages ends (performance.now() ms). */
  #exitBy: number | undefined;
  readonly #closeLink = (): void => this.close();
  /**
   * The socket refused or evicted our peer: the stream stays open, read and dropped up to the receive
   * HWM, then unread (see StreamEngine.stall); closed when the peer goes.
   */
  readonly #ignoreLink = (): void => this.#engine?.stall(this.#socket.options.receiveHighWaterMark);

  /**
   * The connection machine with this file's effects, built once (not per connection: a machine
   * costs tens of state-node objects); each effect finds its NetConnection through the actor.
   */
  static readonly #machine = connectionMachine.provide({
    actions: {
      openStream: on((n, c) => n.#open(c.attempts)),
      endStream: on((n, c) => n.#endStream(c.failure)),
      attachPeer: on((n) => n.#attach()),
      reportHandshakeFailure: on((n, c) => n.#reportHandshakeFailure(c)),
      reportRetry: on((n, c) => emit(n.#socket, { type: 'connect:retry', address: n.#endpoint, interval: c.nextDelay })),
      sendPing: on((n) => n.#engine?.ping(Math.min(0xffff, Math.floor(n.#socket.options.heartbeatTimeToLive / 100)))),
      watchTraffic: on((n) => n.#engine?.watchTraffic()),
      release: on((n, c) => n.#release(c.failure)),
    },
  });

  constructor(
    context: TransportContext,
    spec: StreamSpec,
    socket: PeerHost,
    role: ConnectionRole,
    endpoint: string,
    ep: Endpoint | undefined,
    security: Readonly<SecuritySettings> | undefined,
    onDone?: (c: NetConnection) => void,
  ) {
    this.#spec = spec;
    this.#context = context;
    this.#socket = socket;
    this.#security = security;
    this.#role = role;
    this.#endpoint = endpoint;
    this.#ep = ep;
    this.#onDone = onDone;
    this.#raw = RAW_SOCKET_TYPES.has(socket.type);
    const o = socket.options;
    this.actor = createActor(NetConnection.#machine, {
      input: {
        role,
        endpoint,
        handshakeInterval: o.handshakeInterval,
        heartbeatInterval: o.heartbeatInterval,
        heartbeatTimeout: o.heartbeatTimeout,
        reconnectInterval: o.reconnectInterval,
        reconnectMaxInterval: o.reconnectMaxInterval,
        connectTimeout: o.connectTimeout,
        zap: zapEnabled(security),
        seed: (Math.random() * 0x100000000) >>> 0,
      },
      inspect: context.inspector,
      // Handshake deadline, heartbeat and reconnect timers keep no process alive.
      clock: backgroundClock,
    }) as Actor<typeof connectionMachine>;
    connectionOfActor.set(this.actor, this);
    live.add(this);
  }

  /** Starts the actor: a connecting one dials at once; an accepting one takes `stream`. */
  start(stream?: NetSocket): void {
    if (stream !== undefined) {
      this.#remote = this.#spec.remoteAddress(stream, this.#endpoint);
      this.#startEngine(stream);
    }
    this.actor.start();
    if (this.#role === 'connect' && keepsPipes(this.#socket, this.#endpoint) && !this.#done) this.#attachEarly();
  }

  /** Ends the connection for good (disconnect, unbind, socket closed, peer refused). */
  close(): void {
    if (!this.#done) this.actor.send({ type: 'close' });
  }

  /**
   * No more reconnecting; a live connection stays (a lingering close). While messages still wait
   * for this peer and the socket lingers, it keeps dialling, as libzmq does: they leave when a
   * connection comes, or are dropped when linger ends (the socket then closes us).
   */
  stopReconnecting(): void {
    if (this.#done) return;
    if (this.#kept !== undefined && this.#kept.out.size > 0 && this.#socket.options.linger !== 0) return;
    this.actor.send({ type: 'reconnect.stop' });
  }

  /**
   * At exit: whether the process should still wait for this connection, because messages are queued
   * for its peer and the socket's linger has not run out: since the wait began for an open socket;
   * for a closed one, until the socket releases the connection when its own linger timer fires.
   * -1 waits for ever in the main thread, as libzmq's `zmq_ctx_term` does; a worker waits only a
   * finite linger (zeromq.js's worker never waits: its context outlives the thread).
   */
  holdsExit(now: number): boolean {
    const out = this.#peer?.out;
    if (this.#done || out === undefined || out.size === 0 || out.dropped) {
      this.#exitBy = undefined;
      return false;
    }
    if (this.#exitBy === undefined) {
      const socket = this.#socket;
      const linger = socket.options.linger;
      // A closed socket keeps the deadline itself: its linger timer (or its queues draining)
      // releases this connection, which ends the wait. A deadline of our own, on another clock,
      // could end the wait a moment before that timer fired, and the process exit unreleased.
      if (socket.closed) this.#exitBy = linger < 0 && !isMainThread ? now : Infinity;
      else this.#exitBy = linger >= 0 ? now + linger : isMainThread ? Infinity : now;
    }
    return now < this.#exitBy;
  }

  /** Whether this connection's Context is blocky (the exit warning says how to stop the wait). */
  get blocky(): boolean {
    return (this.#context as { blocky?: unknown }).blocky === true;
  }

  /** Whether a socket peer is attached through this connection. */
  get attached(): boolean {
    return this.#peer !== undefined && this.#peer.attached && this.#engine !== undefined;
  }

  // ---- EngineHost: facts from the engine become machine events ----

  engineGreeted(engine: StreamEngine, g: Greeting): void {
    if (engine === this.#engine) this.actor.send({ type: 'greeting.received', major: g.major, minor: g.minor });
  }

  engineAwaiting(engine: StreamEngine, what: HandshakeWait): void {
    if (engine === this.#engine && what !== 'none') this.actor.send({ type: `awaiting.${what}` });
  }

  engineZapRequest(engine: StreamEngine, request: ZapRequest): void {
    const wait = new AbortController();
    this.#zapWait = wait;
    const host = this.#socket;
    const remote = this.#spec.kind === 'tcp' ? this.#remote : undefined;
    this.#context
      .askZap(
        {
          domain: this.#security?.zapDomain ?? '',
          // The peer's IP without the port, as libzmq sends it; ipc has none.
          address: remote === undefined ? '' : remote.slice(0, remote.lastIndexOf(':')).replace(/^\[|\]$/g, ''),
          identity: routingIdBytes(host.options.routingId) ?? new Uint8Array(0),
          mechanism: request.mechanism,
          credentials: request.credentials,
        },
        wait.signal,
      )
      .then((reply) => {
        if (this.#zapWait === wait) this.#zapWait = undefined;
        if (engine === this.#engine && !wait.signal.aborted) engine.zapReplied(reply);
      });
  }

  engineReady(engine: StreamEngine, peer: PeerInfo): void {
    if (engine !== this.#engine) return;
    this.#info = peer;
    const id = peer.identity;
    this.actor.send({
      type: 'handshake.succeeded',
      peerType: peer.socketType,
      ...(id !== undefined && id.length > 0 ? { routingId: toHex(id) } : {}),
    });
  }

  engineFailed(engine: StreamEngine, v: Violation, handshaking: boolean): void {
    if (engine !== this.#engine) return;
    if (handshaking) {
      // A ZAP status is an authentication failure; a PLAIN server without a handler is neither
      // the peer's fault nor a verdict (libzmq reports it as "other").
      const kind = v.status !== undefined ? 'auth' : v.code === 'ERR_ZAP_NO_HANDLER' ? 'other' : 'protocol';
      this.actor.send({
        type: 'handshake.failed',
        kind,
        code: v.code,
        message: v.message,
        ...(v.status !== undefined ? { status: v.status } : {}),
      });
    } else {
      this.actor.send({ type: 'protocol.failed', code: v.code, message: v.message });
    }
  }

  /** A raw stream opened: there is nothing to agree on; the connection machine goes active and attaches the peer. */
  rawStreamOpened(engine: RawEngine): void {
    if (engine !== this.#engine) return;
    this.#info = RAW_PEER;
    this.actor.send({ type: 'raw.opened' });
  }

  engineClosed(engine: Engine): void {
    if (engine === this.#engine) this.actor.send({ type: 'stream.closed' });
  }

  engineTraffic(engine: StreamEngine): void {
    if (engine === this.#engine) this.actor.send({ type: 'traffic.seen' });
  }

  enginePingSent(engine: StreamEngine): void {
    if (engine === this.#engine) this.actor.send({ type: 'ping.sent' });
  }

  enginePinged(engine: StreamEngine, ttl: number): void {
    if (engine === this.#engine) this.actor.send({ type: 'peer.pinged', ttl });
  }

  // ---- effects ----

  #startEngine(stream: NetSocket): void {
    if (this.#raw) {
      // ZMQ_STREAM_NOTIFY, read when the stream opens (the Stream class keeps it with its options).
      const notify = (this.#socket.options as Readonly<{ notify?: boolean }>).notify !== false;
      const engine = new RawEngine(new NodeStream(stream), this, { notify });
      this.#engine = engine;
      engine.start();
      return;
    }
    const made = createMechanism(this.#socket, this.#security, this.#context.zapHandlerBound());
    if (!(made instanceof Promise)) {
      this.#runEngine(stream, made);
      return;
    }
    this.#loading = stream;
    // No engine reads the stream yet: its end is seen here. Without these a peer that reset it meanwhile
    // crashed the process ('error' with no listener), and one that closed it left this connection
    // handshaking with nobody until handshakeInterval.
    const onClose = (): void => {
      if (this.#loading !== stream) return;
      this.#loading = undefined;
      this.actor.send({ type: 'stream.closed' });
    };
    stream.on('error', ignoreError);
    stream.once('close', onClose);
    made.then(
      (mechanism) => {
        if (this.#loading !== stream) return; // the connection ended meanwhile
        this.#loading = undefined;
        stream.off('close', onClose);
        stream.off('error', ignoreError);
        this.#runEngine(stream, mechanism);
      },
      (e: unknown) => {
        if (this.#loading !== stream) return;
        this.#loading = undefined;
        stream.off('close', onClose);
        stream.destroy();
        this.actor.send({
          type: 'handshake.failed',
          kind: 'other',
          code: 'ENOTSUP',
          message: `the CURVE mechanism could not start (it needs the libsodium-wrappers package): ${(e as Error).message}`,
        });
      },
    );
  }

  #runEngine(stream: NetSocket, mechanism: Mechanism): void {
    const engine = new StreamEngine(new NodeStream(stream), this, {
      socketType: this.#socket.type,
      maxMessageSize: this.#socket.options.maxMessageSize,
      mechanism,
    });
    this.#engine = engine;
    engine.start();
  }

  /** Forgets a stream still waiting for its mechanism, and a pending ZAP question. */
  #dropPending(): void {
    this.#zapWait?.abort();
    this.#zapWait = undefined;
    const loading = this.#loading;
    if (loading !== undefined) {
      this.#loading = undefined;
      loading.destroy();
    }
  }

  /** Dials; `attempt` counts from 1 (the entry action that counted it ran just before). */
  #open(attempt: number): void {
    const socket = this.#socket;
    const stream = this.#spec.dial(socket, this.#ep as Endpoint);
    stream.unref();
    this.#attempt = stream;
    // With kept pipes the first connect:delay went out when they were attached.
    if (this.#spec.delayedConnect && !(attempt === 1 && keepsPipes(socket, this.#endpoint))) {
      emit(socket, { type: 'connect:delay', address: this.#endpoint });
    }
    let failure: NodeJS.ErrnoException | undefined;
    const onError = (e: NodeJS.ErrnoException): void => {
      failure ??= e;
    };
    const onClose = (): void => {
      if (this.#attempt !== stream) return;
      this.#attempt = undefined;
      emit(socket, { type: 'close', address: this.#endpoint });
      this.actor.send({
        type: 'stream.failed',
        code: failure?.code ?? 'ECONNREFUSED',
        message: `connect to ${this.#endpoint} failed: ${failure?.message ?? 'the connection was closed'}`,
      });
    };
    const onConnect = (): void => {
      stream.off('close', onClose);
      stream.off('error', onError);
      if (this.#attempt !== stream) return;
      this.#attempt = undefined;
      // Once open, as for an accepted stream (before, libuv would put in its own keep-alive idle time).
      this.#spec.configure?.(socket, stream);
      this.#remote = this.#spec.remoteAddress(stream, this.#endpoint);
      this.#startEngine(stream);
      // libzmq's ZMQ_EVENT_CONNECTED: the stream is open; `handshake` follows when ZMTP is done.
      emit(socket, { type: 'connect', address: this.#endpoint, peer: this.#eventPeer() });
      this.actor.send({ type: 'stream.opened', ...(this.#remote !== undefined ? { remoteAddress: this.#remote } : {}) });
    };
    stream.on('error', onError);
    stream.once('close', onClose);
    stream.once('connect', onConnect);
    this.#forgetAttempt = () => {
      stream.off('error', onError);
      stream.off('close', onClose);
      stream.off('connect', onConnect);
      stream.on('error', ignoreError);
    };
  }

  /**
   * Abandons the connect under way: a destroyed stream's handle lives until libuv closes it, a turn
   * later, and with our listeners on it that would keep this socket (and its Context) reachable.
   */
  #dropAttempt(attempt: NetSocket): void {
    this.#attempt = undefined;
    this.#forgetAttempt?.();
    this.#forgetAttempt = undefined;
    attempt.destroy();
  }

  /** Pipes at connect() time (PROTOCOL.md §13): the socket may queue to this endpoint before it is up. */
  #attachEarly(): void {
    const socket = this.#socket;
    const o = socket.options;
    const kept = { out: streamOutPipe(o.sendHighWaterMark, o.conflate), in: new Pipe(o.receiveHighWaterMark, o.conflate) };
    this.#kept = kept;
    // The link is announced as `connect:delay` (a connect in progress, as libzmq reports it): the
    // connection itself is reported by `connect` when a stream opens.
    this.#peer = socket.attachPeer(
      { out: kept.out, in: kept.in, endpoint: this.#endpoint, peerType: '', transport: this.#spec.kind, close: this.#closeLink, ignore: this.#ignoreLink },
      this.#spec.delayedConnect ? 'connect:delay' : null, // libzmq reports no delay for ipc: its connect is immediate
    );
  }

  #attach(): void {
    const engine = this.#engine;
    const info = this.#info;
    if (engine === undefined || info === undefined) return;
    const socket = this.#socket;
    const routingId = info.identity !== undefined && info.identity.length > 0 ? info.identity : undefined;
    const kept = this.#kept;
    if (kept !== undefined) {
      const peer = this.#peer;
      if (peer === undefined || !peer.attached) {
        engine.stall(socket.options.receiveHighWaterMark); // a new stream for a peer the socket refused earlier
        return;
      }
      peer.remoteAddress = this.#remote;
      if (this.#raw) {
        // A raw peer announces nothing: it keeps the routing id its STREAM socket gave it.
      } else if (socket.connectRoutingId?.(this.#endpoint) !== undefined) {
        socket.identifyPeer(peer, info.socketType, routingId); // the id the connect gave stays (Router.identifyPeer)
      } else {
        peer.peerType = info.socketType;
        peer.routingId = routingId;
      }
      engine.attach(kept.out, kept.in);
    } else {
      const o = socket.options;
      const out = streamOutPipe(o.sendHighWaterMark, o.conflate);
      const inn = new Pipe(o.receiveHighWaterMark, o.conflate);
      // The engine reads `out` before the socket can write to it (a SUB replays subscriptions on attach).
      engine.attach(out, inn);
      this.#peer = socket.attachPeer(
        {
          out,
          in: inn,
          endpoint: this.#endpoint,
          peerType: info.socketType,
          routingId,
          transport: this.#spec.kind,
          remoteAddress: this.#remote,
          close: this.#closeLink,
          ignore: this.#ignoreLink,
        },
        null, // `accept` and `connect` were reported when the stream opened
      );
    }
    // No handshake on a raw stream, and none reported (libzmq reports it from `mechanism_ready` only).
    if (this.#peer?.attached && !this.#raw) emit(socket, { type: 'handshake', address: this.#endpoint, peer: this.#eventPeer() });
  }

  /** The stream is over (now, at once): the socket loses the peer unless its pipes are kept. */
  #endStream(failure: ConnectionFailure | undefined): void {
    this.#dropPending();
    const attempt = this.#attempt;
    if (attempt !== undefined) {
      this.#dropAttempt(attempt);
      emit(this.#socket, { type: 'close', address: this.#endpoint });
    }
    const engine = this.#engine;
    if (engine === undefined) return;
    this.#engine = undefined;
    engine.destroy();
    this.#streamGone(engine, failure);
  }

  /**
   * After the engine has gone: detach a per-connection peer (the socket emits `disconnect`), or say
   * so. The event names the failure when our side ended the connection for one; a peer that closed
   * its stream (ECONNRESET, recorded as a drop) is no error of ours.
   */
  #streamGone(_engine: Engine, failure: ConnectionFailure | undefined): void {
    const peer = this.#peer;
    const reason =
      failure !== undefined && !failure.handshaking && failure.code !== 'ECONNRESET' && this.#socket.monitor.observed
        ? new ZmqError(failure.code as ZmqErrorCode, failure.message, { address: this.#endpoint })
        : undefined;
    if (this.#kept === undefined && peer !== undefined) {
      this.#peer = undefined;
      peer.in.end();
      this.#socket.detachPeer(peer, false, reason);
    } else {
      const event: SocketEvent = { type: 'disconnect', address: this.#endpoint, peer: this.#eventPeer() };
      if (reason !== undefined) event.error = reason;
      emit(this.#socket, event);
    }
    this.#info = undefined;
  }

  #reportHandshakeFailure(c: ConnectionContext): void {
    const f = c.failure;
    // No error (and its stack trace) built for nobody: a churn of failed peers paid 3 % of CPU for it.
    if (f === undefined || !this.#socket.monitor.observed) return;
    const type = f.kind === 'protocol' ? 'handshake:error:protocol' : f.kind === 'auth' ? 'handshake:error:auth' : 'handshake:error:other';
    const error = new ZmqError(f.code as ZmqErrorCode, f.message, { address: this.#endpoint });
    if (f.status !== undefined) error.status = f.status;
    emit(this.#socket, { type, address: this.#endpoint, error, peer: this.#eventPeer() });
  }

  /** Final: the stream closes (letting written bytes out when the socket lingers), the peer goes. */
  #release(failure: ConnectionFailure | undefined): void {
    if (this.#done) return;
    this.#done = true;
    live.delete(this);
    if (exitWait !== undefined) checkExitWait(); // the wait at exit ends with its last connection
    this.#dropPending();
    const attempt = this.#attempt;
    if (attempt !== undefined) this.#dropAttempt(attempt);
    const engine = this.#engine;
    if (engine !== undefined) {
      this.#engine = undefined;
      if (failure !== undefined) engine.destroy();
      else engine.end(this.#socket.lingerLeft); // not a second full linger after the socket's own
      this.#streamGone(engine, failure);
    }
    const peer = this.#peer;
    this.#peer = undefined;
    if (peer !== undefined && peer.attached) {
      // The kept pipes' peer: `disconnect` was reported when its last stream ended.
      this.#kept!.out.reader = idleReader;
      this.#kept!.in.writer = idleWriter;
      this.#kept!.in.end();
      this.#socket.detachPeer(peer, true);
    }
    this.#onDone?.(this);
  }

  #eventPeer(): EventPeer {
    const p: EventPeer = {};
    const info = this.#info;
    if (info !== undefined && info !== RAW_PEER) {
      p.socketType = info.socketType;
      if (info.identity !== undefined && info.identity.length > 0) p.routingId = info.identity;
      if (info.zap !== undefined) p.userId = info.zap.userId;
    } else if (this.#raw && this.#peer?.routingId !== undefined) {
      p.routingId = this.#peer.routingId; // the id its STREAM socket gave it (a raw peer announces none)
    }
    if (this.#remote !== undefined) p.remoteAddress = this.#remote;
    return p;
  }
}

/** @internal A tcp or ipc transport for one Context. */
export function netTransport(context: TransportContext, spec: StreamSpec): Transport {
  watchExit();
  return {
    async bind(socket: PeerHost, ep: Endpoint): Promise<BoundHandle> {
      const security = socket.security; // as it is now: later changes do not reach this endpoint
      const gate = spec.gate?.(socket); // the same (libzmq's listener copies the options at bind)
      const listening = await spec.listen(socket, ep);
      const { server, address } = listening;
      server.unref(); // a listening socket keeps no process alive; a waiting call does
      const accepted = new Set<NetConnection>();
      const forget = (c: NetConnection): void => {
        accepted.delete(c);
      };
      server.on('error', () => {}); // after listen, errors concern one accept; the server goes on
      server.on('connection', (stream: NetSocket) => {
        if (socket.closed) {
          stream.destroy();
          return;
        }
        const refused = gate?.(stream);
        if (refused !== undefined) {
          // libzmq `tcp_listener.cpp accept`: closed at once, reported as ZMQ_EVENT_ACCEPT_FAILED.
          const remoteAddress = spec.remoteAddress(stream, address);
          stream.destroy();
          const error = new ZmqError('EACCES', refused, { address });
          emit(socket, { type: 'accept:error', address, error, peer: remoteAddress === undefined ? {} : { remoteAddress } });
          return;
        }
        stream.unref();
        spec.configure?.(socket, stream);
        const c = new NetConnection(context, spec, socket, 'accept', address, undefined, security, forget);
        accepted.add(c);
        // libzmq's ZMQ_EVENT_ACCEPTED: a stream came in; `handshake` follows when ZMTP is done.
        const remoteAddress = spec.remoteAddress(stream, address);
        emit(socket, { type: 'accept', address, peer: remoteAddress === undefined ? {} : { remoteAddress } });
        c.start(stream);
      });
      let closed = false;
      return {
        address,
        close: () => {
          if (closed) return;
          closed = true;
          server.close();
          listening.cleanup?.();
          emit(socket, { type: 'close', address });
          // unbind() ends the connections of this endpoint; a closing socket keeps its attached peers
          // until its linger is over (it closes them itself) so their queued messages can still leave.
          for (const c of [...accepted]) if (!socket.closed || !c.attached) c.close();
        },
      };
    },

    connect(socket: PeerHost, ep: Endpoint): ConnectHandle {
      const c = new NetConnection(context, spec, socket, 'connect', ep.address, ep, socket.security);
      c.start();
      return { close: () => c.close(), stopReconnecting: () => c.stopReconnecting() };
    },
  };
}

// ---- the wait at exit ----
//
// libzmq's `zmq_ctx_term` blocks while a socket still has messages queued for a peer, until they
// are delivered or its linger runs out (-1: for ever), closed or not; zeromq.js terminates its
// contexts when the process exits and, if that takes over 500 ms, prints a warning (its
// `src/module.h`, Terminator). Here the same wait happens when the loop runs dry ('beforeExit'):
// the loop is kept turning (so reconnects and writes go on) until no connection holds the exit.

/** The connections of this thread that are not released yet. */
const live = new Set<NetConnection>();
/** zeromq.js warns when termination at exit blocks for longer than this. */
const WARN_AFTER_MS = 500;
/** How often the wait at exit looks again at what is queued. */
const EXIT_CHECK_MS = 10;
let exitWatched = false;
let exitWait: ReturnType<typeof setInterval> | undefined;
/** When the wait at exit began (performance.now() ms), and whether a blocky Context takes part. */
let exitStarted = 0;
let exitBlocky = false;
let warned = false;

/**
 * @internal How many tcp/ipc connections of this thread are not released yet. Tests read it: the
 * streams are unref'd, so `process.getActiveResourcesInfo()` no longer lists them.
 */
export function openConnections(): number {
  return live.size;
}

function watchExit(): void {
  if (exitWatched) return;
  exitWatched = true;
  process.on('beforeExit', waitAtExit);
}

/** Which connections still hold the exit now; also whether any of them is in a blocky Context. */
function holdingExit(now: number): { holding: boolean; blocky: boolean } {
  let holding = false;
  let blocky = false;
  for (const c of live) {
    if (!c.holdsExit(now)) continue;
    holding = true;
    if (c.blocky) blocky = true;
  }
  return { holding, blocky };
}

function waitAtExit(): void {
  if (exitWait !== undefined || live.size === 0) return;
  const now = performance.now();
  const held = holdingExit(now);
  if (!held.holding) return;
  // A ref'd interval: the loop turns until nothing is held; then 'beforeExit' comes again, finds
  // every wait ended (each connection's deadline was fixed the first time), and the process exits.
  exitWait = setInterval(checkExitWait, EXIT_CHECK_MS);
  exitStarted = now;
  exitBlocky = held.blocky;
}

/** Ends the wait at exit once nothing holds it (a turn of the wait, or a connection released). */
function checkExitWait(): void {
  const now = performance.now();
  const held = holdingExit(now);
  if (held.holding) exitBlocky = held.blocky;
  // Also once the wait is over, if it lasted that long (a turn of the loop may come late).
  if (now - exitStarted >= WARN_AFTER_MS) warnOfWait(exitBlocky);
  if (held.holding) return;
  clearInterval(exitWait);
  exitWait = undefined;
}

/** zeromq.js's warning, in its words, once per process (not in a worker, whose exit it never holds up). */
function warnOfWait(blocky: boolean): void {
  if (warned || !isMainThread) return;
  warned = true;
  // As zeromq.js prints it: on stderr, shaped like a process warning (it cannot emit one that late).
  process.stderr.write(
    `(node:${process.pid}) WARNING: Waiting for queued ZeroMQ messages to be delivered.${blocky ? " Set 'context.blocky = false' to change this behaviour." : ''}\n`,
  );
}

/** Maps a node:net listen error to the ZeroMQ error bind() rejects with. */
export function listenError(e: NodeJS.ErrnoException, address: string, what: string): ZmqError {
  const code = e.code ?? 'EINVAL';
  if (code === 'EADDRINUSE') {
    return new ZmqError('EADDRINUSE', `bind("${address}"): ${what} is already in use`, { address, cause: e });
  }
  if (code === 'EADDRNOTAVAIL') {
    return new ZmqError('EADDRNOTAVAIL', `bind("${address}"): ${what} is not an address of this machine`, { address, cause: e });
  }
  return new ZmqError(code as ZmqErrorCode, `bind("${address}"): cannot listen on ${what}: ${e.message}`, { address, cause: e });
}

/**
 * The pipe a socket sends a stream through. It keeps copies of the frames queued in it until an
 * engine takes each message as it comes (StreamEngine turns this off; a raw engine never does),
 * because a stream writes later than send() resolves (see STREAM_COPY_LIMIT).
 */
function streamOutPipe(capacity: number, conflate: boolean): Pipe {
  const pipe = new Pipe(capacity, conflate);
  pipe.keepCopies(true);
  return pipe;
}
