// One ZMTP 3.1 stream (a node:net socket, tcp or ipc): greeting, NULL handshake, then frames between
// the wire and the socket's pipes. It moves bytes and reports facts to its host; it decides nothing
// about reconnecting or timing out (machines/connection.ts does) and knows no socket rules.
//
//   socket ──out pipe──▶ engine ──FrameEncoder──▶ corked writes (see #scheduleFlush) ──▶ net.Socket
//   socket ◀──in pipe─── engine ◀──FrameDecoder── 'data' chunks (views, no copy) ◀── net.Socket

import type { Socket as NetSocket } from 'node:net';
import type { Message } from '../core/frame.js';
import type { Pipe, PipeReader, PipeWriter } from '../core/pipe.js';
import {
  checkMechanism,
  encodeGreeting,
  FrameDecoder,
  FrameEncoder,
  GreetingDecoder,
  isZmtp31,
  NullMechanism,
  parsePing,
  readSubscriptionCommand,
  subscriptionMessage,
  violation,
} from '../protocol/index.js';
import type { FrameSink, Greeting, PeerInfo, Violation } from '../protocol/index.js';
import { isViolation } from '../protocol/index.js';

/** What an engine tells the one who owns it. Each call names the engine, so stale ones can be ignored. */
export interface EngineHost {
  /** The peer's greeting was accepted (our READY is on its way). */
  engineGreeted(engine: StreamEngine, greeting: Greeting): void;
  /** The handshake completed: call `attach()` to start traffic. */
  engineReady(engine: StreamEngine, peer: PeerInfo): void;
  /** The peer broke the protocol; the engine stopped decoding and waits to be destroyed. */
  engineFailed(engine: StreamEngine, v: Violation, handshaking: boolean): void;
  /** The stream ended by itself (the peer closed it, or it failed). */
  engineClosed(engine: StreamEngine): void;
  /** The first frame after `watchTraffic()`. */
  engineTraffic(engine: StreamEngine): void;
  /** The peer sent a PING asking for traffic within `ttl` ms (only reported when ttl > 0). */
  enginePinged(engine: StreamEngine, ttl: number): void;
}

/** Our side, as the handshake announces it. */
export interface EngineConfig {
  /** Our socket type as spelled on the wire (`PUSH`, `DEALER`, …). */
  socketType: string;
  /** ZMQ_ROUTING_ID, announced by REQ, DEALER and ROUTER. */
  identity?: Uint8Array | undefined;
  /** ZMQ_MAXMSGSIZE: per-frame limit; -1 = none. */
  maxMessageSize: number;
}

// Phases of a stream.
const GREETING = 0;
const HANDSHAKE = 1;
const ACTIVE = 2;
const DONE = 3;

/** Bytes gathered into one flush before the rest waits for the next turn of the loop. */
const FLUSH_LIMIT = 256 * 1024;

const noop = (): void => {};
/** Pipe ends nobody holds: an engine hands these back when it lets go of a pipe. */
export const idleReader: PipeReader = { pipeReadable: noop, pipeEnded: noop };
export const idleWriter: PipeWriter = { pipeWritable: noop, pipeDropped: noop, pipeDrained: noop };

const setImmediateish: (f: () => void) => void =
  (globalThis as { setImmediate?: (f: () => void) => void }).setImmediate ?? ((f) => setTimeout(f, 0));

/**
 * A ZMTP 3.1 engine over one node:net stream. Sends its greeting at once (libzmq waits for ours;
 * waiting for its 64 octets would deadlock, PROTOCOL.md §2), then READY once the peer's greeting
 * passed. After `attach(out, in)` it is the reader of `out` and the writer of `in`.
 */
export class StreamEngine implements PipeReader, PipeWriter, FrameSink {
  readonly stream: NetSocket;
  readonly #host: EngineHost;
  readonly #greeting = new GreetingDecoder();
  readonly #decoder: FrameDecoder;
  readonly #encoder = new FrameEncoder();
  readonly #mechanism: NullMechanism;
  #phase = GREETING;
  #ready = false;
  #zmtp31 = false;
  // Conversions between subscription messages and ZMTP 3.1 commands (PROTOCOL.md §8).
  readonly #subscriber: boolean;
  readonly #publisher: boolean;
  #out: Pipe | undefined;
  #in: Pipe | undefined;
  /** Messages decoded while `in` was full: at most the rest of one chunk. Reading is paused meanwhile. */
  #backlog: Message[] | undefined;
  #paused = false;
  /** The socket refused the peer: reading stays paused for good (see `stall`). */
  #stalled = false;
  /** node:net refused more (write returned false): `out` is not read until 'drain'. */
  #blocked = false;
  /** The context of the newest PING not yet answered because node:net refused more (one PONG answers all). */
  #pongOwed: Uint8Array | undefined;
  #flushScheduled = false;
  /** No flush pending since the loop last went round: the next message is written on a microtask. */
  #idle = true;
  #watching = false;
  #closedByUs = false;

  readonly #onData = (chunk: Buffer): void => this.#receive(chunk);
  readonly #onDrain = (): void => {
    this.#blocked = false;
    const owed = this.#pongOwed;
    if (owed !== undefined) {
      this.#pongOwed = undefined;
      if (this.#phase === ACTIVE) this.#encoder.writeCommand('PONG', owed);
    }
    this.#flush();
  };
  readonly #onClose = (): void => {
    const wasOurs = this.#closedByUs;
    this.#phase = DONE;
    this.#release();
    if (!wasOurs) this.#host.engineClosed(this);
  };
  readonly #flushBound = (): void => this.#flush();
  readonly #idleBound = (): void => {
    // A batch still waiting means the sender is mid-burst: stay batching, look again next turn.
    if (this.#flushScheduled) setImmediateish(this.#idleBound);
    else this.#idle = true;
  };

  constructor(stream: NetSocket, host: EngineHost, config: EngineConfig) {
    this.stream = stream;
    this.#host = host;
    this.#decoder = new FrameDecoder({ maxMessageSize: config.maxMessageSize });
    this.#mechanism = new NullMechanism({ socketType: config.socketType, identity: config.identity });
    this.#subscriber = config.socketType === 'SUB' || config.socketType === 'XSUB';
    this.#publisher = config.socketType === 'PUB' || config.socketType === 'XPUB';
  }

  /** Starts: writes our greeting and listens. */
  start(): void {
    const s = this.stream;
    s.setNoDelay?.(true);
    s.on('data', this.#onData);
    s.on('drain', this.#onDrain);
    s.on('close', this.#onClose);
    s.on('error', noop); // 'close' follows; the host hears of it there
    s.write(encodeGreeting('NULL', false));
  }

  /** True once the handshake completed. */
  get handshaken(): boolean {
    return this.#ready;
  }

  /** True when the peer speaks ZMTP 3.1 or later (known after its greeting). */
  get zmtp31(): boolean {
    return this.#zmtp31;
  }

  /** Starts traffic: reads `out` (what the socket sends), writes `in` (what the peer sent). */
  attach(out: Pipe, inn: Pipe): void {
    if (this.#phase !== ACTIVE) return;
    this.#out = out;
    this.#in = inn;
    out.reader = this;
    inn.writer = this;
    if (out.size > 0 || out.ended) this.#scheduleFlush();
  }

  /** Lets go of the pipes (they stay with the socket, e.g. for the next connection). */
  detach(): void {
    this.#release();
  }

  /** Sends a PING (RFC 37) with `ttl` in deciseconds and no context. Only to ZMTP 3.1 peers. */
  ping(ttl: number): void {
    if (this.#phase !== ACTIVE || !this.#zmtp31) return;
    const data = new Uint8Array(2);
    data[0] = ttl >>> 8;
    data[1] = ttl & 0xff;
    this.#encoder.writeCommand('PING', data);
    this.#scheduleFlush();
  }

  /** Reports the next frame received as traffic (one call of `engineTraffic`). */
  watchTraffic(): void {
    this.#watching = true;
  }

  /**
   * The socket refused this peer (or handed its routing id to another) and dropped its pipes; the
   * connection stays open. Reading stops for good, as libzmq's engine stops when its session has
   * no pipe, so what the peer sends backs up to its HWM instead of vanishing here.
   */
  stall(): void {
    this.#stalled = true;
    this.#pause();
  }

  /** Closes the stream at once: unsent bytes are lost. */
  destroy(): void {
    if (this.#closedByUs) return;
    this.#closedByUs = true;
    this.#stop();
    this.stream.destroy();
  }

  /**
   * Closes after what was handed to node:net has been written (a lingering socket's last messages),
   * or after `graceMs` (< 0: no limit) if the peer does not read.
   */
  end(graceMs: number): void {
    if (this.#closedByUs) return;
    this.#flush();
    this.#closedByUs = true;
    this.#stop();
    const s = this.stream;
    if (s.destroyed) return;
    if (s.writableLength === 0 || graceMs === 0) {
      s.destroy();
      return;
    }
    s.once('finish', () => s.destroy());
    s.end();
    if (graceMs > 0) setTimeout(() => s.destroy(), graceMs).unref?.();
  }

  // ---- receiving ----

  #receive(chunk: Buffer): void {
    if (this.#phase === GREETING) {
      const r = this.#greeting.push(chunk);
      if (!r.done) return;
      if (r.error !== undefined) return this.#fail(r.error);
      const mismatch = checkMechanism('NULL', r.greeting);
      if (mismatch !== undefined) return this.#fail(mismatch);
      this.#zmtp31 = isZmtp31(r.greeting);
      this.#phase = HANDSHAKE;
      this.stream.write(this.#mechanism.start());
      this.#host.engineGreeted(this, r.greeting);
      if (r.rest.length === 0 || this.#phase !== HANDSHAKE) return;
      chunk = r.rest as Buffer;
    }
    if (this.#phase === DONE) return;
    const v = this.#decoder.push(chunk, this);
    if (v !== undefined && this.#phase !== DONE) this.#fail(v);
  }

  /** @internal FrameSink: a whole message from the peer. */
  onMessage(frames: Uint8Array[]): void {
    if (this.#phase !== ACTIVE) {
      if (this.#phase === HANDSHAKE) {
        this.#fail(violation('ERR_ZMTP_UNEXPECTED_COMMAND', 'peer sent a message before completing the NULL handshake; expected READY'));
      }
      return;
    }
    if (this.#watching) this.#seen();
    this.#deliver(frames);
  }

  /** @internal FrameSink: a command from the peer. */
  onCommand(name: string, data: Uint8Array): void {
    if (this.#phase === HANDSHAKE) {
      const step = this.#mechanism.onCommand(name, data);
      if (step.status === 'error') return this.#fail(step.violation);
      this.#phase = ACTIVE;
      this.#ready = true;
      this.#host.engineReady(this, step.peer);
      return;
    }
    if (this.#phase !== ACTIVE) return;
    if (this.#watching) this.#seen();
    if (name === 'PING') {
      const ping = parsePing(data);
      if (isViolation(ping)) return this.#fail(ping);
      // Always answered, whatever our own heartbeat settings (libzmq `zmtp_engine.cpp`). While
      // node:net takes no more, only the newest PING is answered, once 'drain' comes: a peer that
      // sends PINGs and never reads cannot make us buffer PONGs without end (libzmq keeps one too).
      if (this.#blocked) {
        this.#pongOwed = ping.context;
      } else {
        this.#encoder.writeCommand('PONG', ping.context);
        this.#scheduleFlush();
      }
      if (ping.ttl > 0) this.#host.enginePinged(this, ping.ttl * 100);
      return;
    }
    if (this.#publisher) {
      const sub = readSubscriptionCommand(name, data);
      if (sub !== undefined) this.#deliver([subscriptionMessage(sub.subscribe, sub.topic)]);
    }
    // PONG only counts as traffic; other commands after the handshake are dropped, as libzmq does.
  }

  #deliver(frames: Message): void {
    const inn = this.#in;
    if (inn === undefined) return;
    if (this.#backlog !== undefined) {
      this.#backlog.push(frames);
      return;
    }
    if (inn.write(frames)) {
      if (!inn.writable) this.#pause();
      return;
    }
    // Dropped (the socket is closing and reads no more): discard. Full: hold and stop reading.
    if (inn.dropped || inn.ended) return;
    this.#backlog = [frames];
    this.#pause();
  }

  #seen(): void {
    this.#watching = false;
    this.#host.engineTraffic(this);
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.stream.pause();
  }

  #fail(v: Violation): void {
    const handshaking = this.#phase !== ACTIVE;
    this.#phase = DONE;
    this.#decoder.stop();
    this.#host.engineFailed(this, v, handshaking);
  }

  // ---- PipeWriter (of `in`) ----

  /** @internal The socket read `in` down to its low-water mark: hand over the backlog, read again. */
  pipeWritable(pipe: Pipe): void {
    if (pipe !== this.#in) return;
    const backlog = this.#backlog;
    if (backlog !== undefined) {
      let i = 0;
      while (i < backlog.length && pipe.write(backlog[i])) i++;
      if (i < backlog.length) {
        backlog.splice(0, i);
        return;
      }
      this.#backlog = undefined;
    }
    if (this.#paused && !this.#stalled && pipe.writable && this.#phase === ACTIVE) {
      this.#paused = false;
      this.stream.resume();
    }
  }

  /** @internal The socket stopped reading us (it is closing): drop what arrives from now on. */
  pipeDropped(pipe: Pipe): void {
    if (pipe !== this.#in) return;
    this.#backlog = undefined;
    if (this.#paused && !this.#stalled && this.#phase === ACTIVE) {
      this.#paused = false;
      this.stream.resume();
    }
  }

  /** @internal */
  pipeDrained(_pipe: Pipe): void {}

  // ---- PipeReader (of `out`) ----

  /** @internal The socket queued a message: flush it (see #scheduleFlush for when). */
  pipeReadable(pipe: Pipe): void {
    if (pipe === this.#out) this.#scheduleFlush();
  }

  /** @internal The socket is done sending (detached or lingering) and `out` is empty. */
  pipeEnded(_pipe: Pipe): void {}

  // ---- sending ----

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#phase === DONE) return;
    this.#flushScheduled = true;
    // The first message after a quiet spell (a request, a reply, a heartbeat) goes out on a
    // microtask, before the sender's code resumes: a round trip waits for nothing. Whatever follows
    // is a burst, batched into one write per turn of the loop (setImmediate) until a turn passes
    // with no batch waiting.
    if (this.#idle) {
      this.#idle = false;
      queueMicrotask(this.#flushBound);
      setImmediateish(this.#idleBound);
    } else {
      setImmediateish(this.#flushBound);
    }
  }

  /** Drains `out` into the encoder and hands node:net one corked batch. */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.#phase !== ACTIVE) return;
    const enc = this.#encoder;
    const out = this.#out;
    if (out !== undefined && !this.#blocked) {
      const convert = this.#subscriber && this.#zmtp31;
      while (enc.pendingBytes < FLUSH_LIMIT) {
        const msg = out.read();
        if (msg === undefined) break;
        if (convert && msg.length === 1 && msg[0].length > 0 && msg[0][0] <= 1) {
          // ZMTP 3.1: subscriptions travel as SUBSCRIBE / CANCEL commands (RFC 37, PROTOCOL.md §8).
          enc.writeCommand(msg[0][0] === 1 ? 'SUBSCRIBE' : 'CANCEL', msg[0].subarray(1));
        } else {
          enc.writeMessage(msg);
        }
      }
    }
    if (enc.pendingBytes === 0) return;
    const chunks = enc.flush();
    const s = this.stream;
    let ok = true;
    s.cork();
    for (let i = 0; i < chunks.length; i++) ok = s.write(chunks[i]);
    s.uncork();
    if (!ok) this.#blocked = true;
    else if (out !== undefined && out.size > 0) this.#scheduleFlush();
  }

  #stop(): void {
    this.#phase = DONE;
    this.#decoder.stop();
    this.#release();
  }

  #release(): void {
    this.#backlog = undefined;
    if (this.#out !== undefined && this.#out.reader === this) this.#out.reader = idleReader;
    if (this.#in !== undefined && this.#in.writer === this) this.#in.writer = idleWriter;
  }
}
