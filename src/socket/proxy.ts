// The Proxy: zeromq.js's `Proxy` (libzmq's zmq_proxy_steerable) over our sockets' public calls, with
// libzmq's capture socket and STATISTICS. Its machine (machines/proxy.ts) decides when messages move;
// this file moves them, one batch per receiveMany/sendMany, and never drops one a socket handed over.

import { createActor } from 'xstate';
import type { Actor, AnyActorRef, SnapshotFrom, Subscription } from 'xstate';
import { describeValue, isZmqError, ZmqError } from '../core/errors.js';
import type { Message, MessageInput } from '../core/frame.js';
import { onNextTurn } from '../core/turn.js';
import { mayCapture, proxyMachine } from '../../machines/proxy.js';
import type { ProxyEvent, ProxyFailure, ProxySide, RefuseCommandParams, RunRefusal, SocketReadiness } from '../../machines/proxy.js';
import type { Socket } from './socket.js';

/** Options of a {@link Proxy}, its third argument (zeromq.js takes two; this one is monocoque's). */
export interface ProxyOptions {
  /**
   * libzmq's capture socket (zmq_proxy(3)): every message the proxy passes, either way, is sent
   * to it as well, whole (a PUB, XPUB, DEALER, PUSH or PAIR socket). Its backpressure holds the
   * proxy back as the other side's does: a PUSH at its HWM makes the proxy wait, a PUB drops.
   * It must be bound or connected when `run()` is called, and is left open when the proxy ends.
   */
  capture?: Socket;
}

/** Traffic one way through one socket of a proxy. */
export interface ProxyTraffic {
  /** Whole messages (a multipart message counts once). */
  messages: number;
  /** Frames (message parts): what libzmq's STATISTICS calls the number of messages. */
  frames: number;
  /** Bytes of all those frames. */
  bytes: number;
}

/** What a proxy's socket received from its peers, and sent to them on the proxy's behalf. */
export interface ProxySideStatistics {
  received: ProxyTraffic;
  sent: ProxyTraffic;
}

/**
 * The counters of libzmq's STATISTICS command (zmq_proxy_steerable(3)), with whole messages
 * beside the frames libzmq counts: libzmq's eight values are, in its order, `frontEnd.received`
 * frames and bytes, `frontEnd.sent` frames and bytes, then the same for `backEnd`.
 */
export interface ProxyStatistics {
  frontEnd: ProxySideStatistics;
  backEnd: ProxySideStatistics;
}

/** The Proxy's machine, with its effects provided by the Proxy. */
export type ProxyMachine = typeof proxyMachine;

/** One direction of traffic: where messages come from, where they go, and their counters. */
interface Way {
  from: Socket;
  to: Socket;
  toSide: ProxySide;
  received: ProxyTraffic;
  sent: ProxyTraffic;
}

interface Call {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** A gate the ways wait at while the proxy is paused: opened by resume and by the end. */
interface Gate {
  promise: Promise<void>;
  open: () => void;
}

const OPTIONS = ['capture'];
const NONE: Message[] = [];
const SIDE_NAMES: Record<ProxySide, string> = { frontEnd: 'Front-end', backEnd: 'Back-end', capture: 'Capture' };

/**
 * Proxies messages between two sockets, as zeromq.js's `Proxy` does (libzmq's zmq_proxy): what the
 * front-end receives, the back-end sends, and what the back-end receives, the front-end sends. The
 * socket types decide which ways carry anything (a PULL front-end and a PUSH back-end: one way).
 * The proxy is fully symmetric: front and back are names only.
 *
 * ```ts
 * // Clients (REQ, DEALER) connect to :5555, workers (REP) to :5556.
 * const proxy = new Proxy(new Router(), new Dealer())
 * await proxy.frontEnd.bind("tcp://*:5555")
 * await proxy.backEnd.bind("tcp://*:5556")
 * await proxy.run()            // resolves once proxy.terminate() is called
 * ```
 *
 * `pause()` holds every message where it is until `resume()`; `terminate()` ends the proxy, and
 * the front-end and back-end are closed (as in zeromq.js). Backpressure carries through: when the
 * receiving side is at its HWM the proxy waits, so the sending side's queue fills in turn. A
 * message the proxy took from a socket is never dropped by the proxy while it runs or is paused
 * (a ROUTER or PUB on the receiving side still drops by its own rules); one it holds when it ends
 * is lost with the sockets.
 *
 * Beyond zeromq.js, what libzmq's zmq_proxy_steerable offers: a capture socket (every message,
 * either way, is also sent to it) and `statistics()`. The proxy's rules live in an XState machine
 * (`actor`, machines/proxy.ts) that an inspector can watch.
 *
 * @typeParam F The front-end socket's type.
 * @typeParam B The back-end socket's type.
 */
export class Proxy<F extends Socket = Socket, B extends Socket = Socket> {
  /** The proxy's XState actor: subscribe to it or inspect it; its commands are this class's methods. */
  readonly actor: Actor<ProxyMachine>;
  readonly #frontEnd: F;
  readonly #backEnd: B;
  readonly #capture: Socket | undefined;
  readonly #ways: Way[] = [];
  readonly #statistics: ProxyStatistics = { frontEnd: sideCounters(), backEnd: sideCounters() };

  /** The call being answered by the machine (run, pause, …), so an effect can settle it. */
  #call: Call | undefined;
  /** The error a refused pause/resume/terminate throws, set by the effect. */
  #refusal: ZmqError | undefined;
  /** The run() call the proxy settles when it ends. */
  #run: Call | undefined;
  /** While running: the signal its waits carry (aborted by pause and by the end). Undefined otherwise. */
  #running: AbortController | undefined;
  #gate: Gate = gate();
  #ended = false;
  #pumping = false;
  #watches: Subscription[] = [];

  static #byActor = new WeakMap<AnyActorRef, Proxy<Socket, Socket>>();
  /** The machine with its effects, provided once: each effect finds its Proxy from the actor. */
  static #logic = proxyMachine.provide({
    actions: {
      acceptRun: Proxy.#effect((p) => p.#acceptRun()),
      refuseRun: Proxy.#effect((p, params: RunRefusal) => p.#refuseRun(params)),
      refuseCommand: Proxy.#effect((p, params: RefuseCommandParams) => p.#refuseCommand(params)),
      forward: Proxy.#effect((p) => p.#forward()),
      hold: Proxy.#effect((p) => p.#hold()),
      finish: Proxy.#effect((p, params: { failure: ProxyFailure | null }) => p.#finish(params.failure)),
    },
  });

  /** An effect that runs on the Proxy of the actor it runs in. */
  static #effect<P>(run: (proxy: Proxy<Socket, Socket>, params: P) => void): (args: { self: AnyActorRef }, params: P) => void {
    return ({ self }, params) => {
      const proxy = Proxy.#byActor.get(self);
      if (proxy !== undefined) run(proxy, params);
    };
  }

  /**
   * Makes a proxy between two sockets of this process (one socket may be both, as libzmq allows:
   * its messages go back out through it). Proxying starts with {@link run}, once both are bound or
   * connected; set their options before.
   *
   * @param frontEnd The front-end socket (a ROUTER for clients, an XSUB towards publishers, …).
   * @param backEnd The back-end socket (a DEALER for workers, an XPUB for subscribers, …).
   * @param options `{ capture }`: a socket that gets a copy of every message (libzmq's capture).
   */
  constructor(frontEnd: F, backEnd: B, options?: ProxyOptions) {
    // zeromq.js's TypeErrors for missing or extra arguments (its `Arg::Validator`), in its words first.
    if (typeof frontEnd !== 'object' || frontEnd === null) throw new TypeError(`Front-end must be a socket object (a Router, XSubscriber, Pull, …), not ${describeValue(frontEnd)}`);
    if (typeof backEnd !== 'object' || backEnd === null) throw new TypeError(`Back-end must be a socket object (a Dealer, XPublisher, Push, …), not ${describeValue(backEnd)}`);
    if (arguments.length > 3 || (options !== undefined && isSocketLike(options))) {
      throw new TypeError(`Expected 2 arguments (front-end, back-end) and at most an options object; for a capture socket, pass { capture: socket } as the third, not ${describeValue(options)}`);
    }
    checkSocket(frontEnd, 'the front-end');
    checkSocket(backEnd, 'the back-end');
    if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
      throw new ZmqError('EINVAL', `options of a Proxy must be an object like { capture: socket }, not ${describeValue(options)}`);
    }
    for (const name of Object.keys(options ?? {})) {
      if (!OPTIONS.includes(name)) throw new TypeError(`option "${name}" is not an option of a Proxy; accepted: ${OPTIONS.join(', ')}`);
    }
    const capture = options?.capture;
    if (capture !== undefined) {
      checkSocket(capture, 'the capture socket');
      if (!mayCapture(capture.type)) {
        throw new ZmqError('EINVAL', `new Proxy(): a ${capture.type} socket cannot be a capture socket; use a PUB, XPUB, DEALER, PUSH or PAIR socket`);
      }
    }
    this.#frontEnd = frontEnd;
    this.#backEnd = backEnd;
    this.#capture = capture;
    const same = (frontEnd as Socket) === (backEnd as Socket);
    this.actor = createActor(Proxy.#logic, {
      id: 'proxy',
      input: { frontEnd: frontEnd.type, backEnd: backEnd.type, capture: capture?.type ?? null, sameSocket: same },
      inspect: frontEnd.context.inspector,
    });
    Proxy.#byActor.set(this.actor, this as Proxy<Socket, Socket>);
    const { toBackEnd, toFrontEnd } = this.actor.getSnapshot().context;
    const stats = this.#statistics;
    if (toBackEnd) this.#ways.push({ from: frontEnd, to: backEnd, toSide: 'backEnd', received: stats.frontEnd.received, sent: stats.backEnd.sent });
    if (toFrontEnd) this.#ways.push({ from: backEnd, to: frontEnd, toSide: 'frontEnd', received: stats.backEnd.received, sent: stats.frontEnd.sent });
    this.actor.start();
  }

  /** The front-end socket, as given. */
  get frontEnd(): F {
    return this.#frontEnd;
  }

  /** The back-end socket, as given. */
  get backEnd(): B {
    return this.#backEnd;
  }

  /** The capture socket, if one was given. */
  get capture(): Socket | undefined {
    return this.#capture;
  }

  /** The machine's current snapshot: `idle`, `running`, `paused` or `terminated`, and its context. */
  getSnapshot(): SnapshotFrom<ProxyMachine> {
    return this.actor.getSnapshot();
  }

  /**
   * Starts proxying and resolves when the proxy has terminated (after {@link terminate}); the
   * front-end and back-end are closed by then. Both must be bound or connected, and open (else
   * EINVAL, "Front-end socket must be bound or connected" or "Back-end …", as zeromq.js says),
   * and so must a capture socket. A proxy runs once: EBUSY while it runs, and once it has ended,
   * its sockets are closed (EINVAL). If a socket is closed under a running proxy, or a send or
   * receive fails (e.g. EHOSTUNREACH from a ROUTER with `mandatory`), the proxy ends and this
   * rejects with that error (EBADF for a close), naming the socket.
   *
   * zeromq.js throws its EINVAL at once; here every refusal is a rejection.
   */
  run(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#call = { resolve, reject };
      try {
        this.actor.send({
          type: 'run',
          frontEnd: readiness(this.#frontEnd),
          backEnd: readiness(this.#backEnd),
          capture: this.#capture === undefined ? null : readiness(this.#capture),
        });
      } finally {
        this.#call = undefined;
      }
    });
  }

  /**
   * Suspends proxying: no message moves until {@link resume} (libzmq's PAUSE). Messages wait in the
   * sockets' queues, so their senders meet the HWM as usual. Pausing a paused proxy does nothing.
   * Throws EBADF when the proxy is not running (before run(), or after it ended), as zeromq.js does.
   */
  pause(): void {
    this.#command({ type: 'pause' });
  }

  /**
   * Resumes proxying after {@link pause} (libzmq's RESUME), in order: a batch half sent when the
   * pause came goes first. Resuming a running proxy does nothing. EBADF when not running.
   */
  resume(): void {
    this.#command({ type: 'resume' });
  }

  /**
   * Ends the proxy (libzmq's TERMINATE): the front-end and back-end are closed (messages they
   * queued leave within their `linger`, as on close()), and run() resolves. A capture socket stays
   * open. EBADF when the proxy is not running (before run(), or after it ended), as zeromq.js does.
   */
  terminate(): void {
    this.#command({ type: 'terminate' });
  }

  /**
   * What passed through the proxy so far (libzmq's STATISTICS): per socket, what it received and
   * what it sent, in messages, frames and bytes. A message counts as sent once the socket queued
   * it, as libzmq counts it. A fresh object each call.
   */
  statistics(): ProxyStatistics {
    const copy = (s: ProxySideStatistics): ProxySideStatistics => ({ received: { ...s.received }, sent: { ...s.sent } });
    return { frontEnd: copy(this.#statistics.frontEnd), backEnd: copy(this.#statistics.backEnd) };
  }

  #command(event: ProxyEvent): void {
    this.#refusal = undefined;
    this.actor.send(event);
    const refusal = this.#refusal;
    this.#refusal = undefined;
    if (refusal !== undefined) throw refusal;
  }

  /** Tells the machine a fact from the sockets (nothing once the proxy has ended). */
  #tell(event: ProxyEvent): void {
    if (!this.#ended) this.actor.send(event);
  }

  #sideOf(socket: Socket): ProxySide {
    if (socket === this.#capture) return 'capture';
    return socket === (this.#frontEnd as Socket) ? 'frontEnd' : 'backEnd';
  }

  // ---- effects ----

  #acceptRun(): void {
    this.#run = this.#call;
    // A close reaches the machine even while nothing waits on the socket (paused, or a quiet way).
    for (const socket of new Set<Socket>([this.#frontEnd, this.#backEnd, ...(this.#capture === undefined ? [] : [this.#capture])])) {
      const side = this.#sideOf(socket);
      const check = (): void => {
        if (socket.closed) this.#tell({ type: 'socket.closed', side });
      };
      this.#watches.push(socket.actor.subscribe({ next: check, complete: check, error: check }));
    }
  }

  #refuseRun(refusal: RunRefusal): void {
    let error: ZmqError;
    if (refusal.reason === 'socket') {
      // zeromq.js's words exactly (they name the socket and what it needs); a closed socket counts
      // as one never bound or connected there too. Whether it is closed is in `cause`.
      const why = refusal.readiness === 'closed' ? 'it is closed' : 'it has no bind or connect';
      error = new ZmqError('EINVAL', `${SIDE_NAMES[refusal.side]} socket must be bound or connected`, { cause: why });
    } else if (refusal.reason === 'running') {
      error = new ZmqError('EBUSY', 'run(): this proxy is running already; the first run() resolves when it terminates');
    } else {
      error = new ZmqError('EBADF', 'run(): this proxy has terminated; make a new one with new sockets');
    }
    this.#call?.reject(error);
  }

  #refuseCommand({ command, reason }: RefuseCommandParams): void {
    this.#refusal = new ZmqError('EBADF', reason === 'idle'
      ? `${command}(): this proxy is not running; call run() first`
      : `${command}(): this proxy has terminated; make a new one with new sockets`);
  }

  #forward(): void {
    this.#running = new AbortController();
    this.#gate.open();
    if (this.#pumping) return;
    this.#pumping = true;
    for (const way of this.#ways) {
      // #pump catches what its calls throw; anything else (a bug) ends the proxy, not the process.
      this.#pump(way).catch((e: unknown) => this.#tell({ type: 'forward.failed', side: way.toSide, code: 'EINVAL', message: String((e as Error)?.message ?? e) }));
    }
  }

  #hold(): void {
    this.#running?.abort();
    this.#running = undefined;
    this.#gate = gate();
  }

  #finish(failure: ProxyFailure | null): void {
    this.#ended = true;
    this.#running?.abort();
    this.#running = undefined;
    this.#gate.open();
    for (const watch of this.#watches.splice(0)) watch.unsubscribe();
    // zeromq.js `proxy.cc` closes both when the proxy returns; the capture socket is the caller's.
    this.#frontEnd.close();
    this.#backEnd.close();
    const call = this.#run;
    this.#run = undefined;
    if (call === undefined) return;
    if (failure === null) {
      call.resolve();
      return;
    }
    const what = `the ${SIDE_NAMES[failure.side].toLowerCase()} socket`;
    const error = failure.code === 'EBADF'
      ? new ZmqError('EBADF', `run(): ${what} was closed while the proxy ran; the proxy ended (call terminate() to end a proxy)`)
      : new ZmqError(failure.code as ZmqError['code'], `run(): ${what} failed, and the proxy ended: ${failure.message}`);
    call.reject(error);
  }

  // ---- moving messages ----

  /**
   * One way's loop: receive a batch, send it on (and to the capture socket, at the same time),
   * wait until both have queued all of it, again. A pause withdraws the waits; what a send had not
   * queued yet is kept and goes first on resume, so the order of messages holds.
   */
  async #pump(way: Way): Promise<void> {
    const capture = this.#capture;
    let rest = NONE;
    let captureRest = NONE;
    while (!this.#ended) {
      // Read at each step: pause() replaces it with undefined at once, so a batch received just
      // before a pause waits for resume instead of going out after pause() returned.
      const running = this.#running;
      if (running === undefined) {
        await this.#gate.promise;
        continue;
      }
      const signal = running.signal;
      if (rest.length === 0 && captureRest.length === 0) {
        try {
          rest = (await way.from.receiveMany({ signal })) as Message[];
        } catch (e) {
          if (!this.#stopsHere(e, way.from, signal)) await nextTurn();
          continue;
        }
        count(way.received, rest, 0, rest.length);
        if (capture !== undefined) captureRest = rest;
        continue;
      }
      if (capture === undefined) {
        const n = await this.#send(way.to, rest, signal);
        count(way.sent, rest, 0, n);
        rest = n === rest.length ? NONE : rest.slice(n);
      } else {
        const [n, c] = await Promise.all([this.#send(way.to, rest, signal), this.#send(capture, captureRest, signal)]);
        count(way.sent, rest, 0, n);
        rest = n === rest.length ? NONE : rest.slice(n);
        captureRest = c === captureRest.length ? NONE : captureRest.slice(c);
      }
    }
  }

  /**
   * Sends `messages` through `socket`: how many it queued. Never rejects: a pause or the end (our
   * signal) or a timeout leaves the rest for later; a close or another error is told to the machine.
   */
  async #send(socket: Socket, messages: Message[], signal: AbortSignal): Promise<number> {
    if (messages.length === 0) return 0;
    try {
      await socket.sendMany(messages as readonly MessageInput[], { signal });
      return messages.length;
    } catch (e) {
      if (!this.#stopsHere(e, socket, signal)) await nextTurn();
      return (e as ZmqError).sent ?? 0;
    }
  }

  /**
   * What a failed wait on `socket` means. True: the proxy stops this way (a pause, the end, a
   * close, an error; the last two are told to the machine). False: a timeout (the socket's own
   * `sendTimeout` or `receiveTimeout`), after which the way tries again, as libzmq's proxy, which
   * polls instead of waiting, never times out.
   */
  #stopsHere(e: unknown, socket: Socket, signal: AbortSignal): boolean {
    if (signal.aborted) return true;
    const side = this.#sideOf(socket);
    if (socket.closed) {
      this.#tell({ type: 'socket.closed', side });
      return true;
    }
    if (isZmqError(e, 'EAGAIN')) return false;
    const error = e as Partial<ZmqError>;
    this.#tell({ type: 'forward.failed', side, code: String(error.code ?? 'EINVAL'), message: String(error.message ?? e) });
    return true;
  }
}

/** How a socket stands for `run`: closed, never bound or connected, or ready. */
function readiness(socket: Socket): SocketReadiness {
  if (socket.closed) return 'closed';
  return socket.lastEndpoint === null ? 'unattached' : 'ready';
}

/** Adds messages `from` to `to` (exclusive) of `batch` to `traffic`. */
function count(traffic: ProxyTraffic, batch: Message[], from: number, to: number): void {
  let frames = 0;
  let bytes = 0;
  for (let i = from; i < to; i++) {
    const msg = batch[i] as Message;
    frames += msg.length;
    for (const frame of msg) bytes += frame.length;
  }
  traffic.messages += to - from;
  traffic.frames += frames;
  traffic.bytes += bytes;
}

function sideCounters(): ProxySideStatistics {
  return { received: { messages: 0, frames: 0, bytes: 0 }, sent: { messages: 0, frames: 0, bytes: 0 } };
}

function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** A later turn of the event loop: after a timeout, so a socket with a timeout of 0 cannot starve IO. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => onNextTurn(resolve));
}

/** Whether `v` looks like a socket of ours (duck-typed, as elsewhere: another copy of the library counts). */
function isSocketLike(v: unknown): v is Socket {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Partial<Record<keyof Socket, unknown>>;
  return typeof s.type === 'string' && typeof s.receiveMany === 'function' && typeof s.sendMany === 'function'
    && typeof s.close === 'function' && typeof s.actor === 'object' && s.actor !== null;
}

/** EINVAL naming `what` unless `v` is a socket of ours. */
function checkSocket(v: unknown, what: string): void {
  if (!isSocketLike(v)) {
    throw new ZmqError('EINVAL', `new Proxy(): ${what} is ${describeValue(v)}, not a monocoque socket (a Router, Dealer, XSubscriber, …)`);
  }
}
