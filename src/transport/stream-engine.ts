// One ZMTP 3.x connection over a byte stream: greeting, the mechanism's handshake, then frames between
// the stream and the socket's pipes. It is given its ByteStream (node:net today, a WebSocket later) and
// its Mechanism (NULL today, PLAIN and CURVE later) and names neither. It moves bytes and reports facts
// to its host; it decides nothing about reconnecting or timing out (machines/connection.ts does) and
// knows no socket rules.
//
//   socket ──out pipe──▶ engine ──FrameEncoder (cipher?)──▶ one gathered write per flush ──▶ ByteStream
//   socket ◀──in pipe─── engine ◀──FrameDecoder (cipher?)── chunks (views, no copy) ◀────── ByteStream

import { leftByReference } from '../core/frame.js';
import type { Message } from '../core/frame.js';
import type { Pipe, PipeReader, PipeWriter } from '../core/pipe.js';
import { onNextTurn } from '../core/turn.js';
import {
  checkMechanism,
  commandBody,
  encodeGreeting,
  FrameDecoder,
  FrameEncoder,
  GreetingDecoder,
  isViolation,
  isZmtp31,
  parsePing,
  readSubscriptionCommand,
  SEALED_COMMAND,
  SEALED_MORE,
  splitCommandBody,
  subscriptionMessage,
  violation,
} from '../protocol/index.js';
import type {
  FrameCipher,
  HandshakeWait,
  FrameSink,
  Greeting,
  Mechanism,
  MechanismStep,
  PeerInfo,
  Violation,
  ZapReply,
  ZapRequest,
} from '../protocol/index.js';
import type { ByteStream, ByteStreamListener } from './byte-stream.js';

/** What an engine tells the one who owns it. Each call names the engine, so stale ones can be ignored. */
export interface EngineHost {
  /** The peer's greeting was accepted (same mechanism); the mechanism's handshake starts. */
  engineGreeted(engine: StreamEngine, greeting: Greeting): void;
  /**
   * The mechanism asks the ZAP handler (RFC 27). Answer with `engine.zapReplied`, now or later; the
   * handshake waits for it (bounded by the handshake deadline the host keeps).
   */
  engineZapRequest(engine: StreamEngine, request: ZapRequest): void;
  /** The handshake completed: call `attach()` to start traffic. */
  engineReady(engine: StreamEngine, peer: PeerInfo): void;
  /** The peer broke the protocol, or the handshake failed; the engine stopped decoding and waits to be destroyed. */
  engineFailed(engine: StreamEngine, v: Violation, handshaking: boolean): void;
  /** The stream ended by itself: the peer closed or half-closed it, or it failed. */
  engineClosed(engine: StreamEngine): void;
  /** The first frame after `watchTraffic()`. */
  engineTraffic(engine: StreamEngine): void;
  /**
   * The PING asked for by `ping()` left: the PING timeout counts from here. Reported when the
   * engine hands it to the stream, which is later in the turn or a turn later: a loop blocked in
   * between must not eat the peer's time to answer. While the stream is blocked (the peer does not
   * read what we write) it is reported at once, the PING encoded behind what waits, as libzmq arms
   * the timeout when it encodes the PING: a peer that stopped reading is still timed out.
   */
  enginePingSent(engine: StreamEngine): void;
  /** The peer sent a PING asking for traffic within `ttl` ms (only reported when ttl > 0). */
  enginePinged(engine: StreamEngine, ttl: number): void;
  /** The handshake now waits for `what` (a peer command, or ZAP): reported on each change, for the connection machine. */
  engineAwaiting?(engine: StreamEngine, what: HandshakeWait): void;
}

/** Our side of one connection. */
export interface EngineConfig {
  /** Our socket type as spelled on the wire (`PUSH`, `SUB`, …): subscriptions travel as commands to and from some. */
  socketType: string;
  /** ZMQ_MAXMSGSIZE: per-frame limit; -1 = none. */
  maxMessageSize: number;
  /** The security mechanism of this connection (a fresh one per connection: it keeps handshake state). */
  mechanism: Mechanism;
}

// Phases of a stream.
const GREETING = 0;
const HANDSHAKE = 1;
/** The greeting's signature (0xFF, 8 octets of padding, 0x7F; RFC 23) and the major version octet. */
const SIGNATURE_SIZE = 11;
const ACTIVE = 2;
const DONE = 3;

/** Bytes gathered into one flush before the rest waits for the next turn of the loop. */
const FLUSH_LIMIT = 256 * 1024;
/**
 * While the stream is blocked, messages are still taken into the encoder (copied as they come, and
 * counted toward the HWM until written: Pipe.take), up to this many bytes; past it they wait in
 * the pipe, which then keeps copies (Pipe.keepCopies). A bound for an unlimited HWM.
 */
const HOLD_LIMIT = 8 * 1024 * 1024;

/**
 * How long a failed handshake's last words (an ERROR command) may take to leave before the stream is
 * cut: a few bytes, which a peer that reads at all takes at once.
 */
const LAST_WORDS_GRACE_MS = 1000;

const noop = (): void => {};
/** Pipe ends nobody holds: an engine hands these back when it lets go of a pipe. */
export const idleReader: PipeReader = { pipeReadable: noop, pipeEnded: noop };
export const idleWriter: PipeWriter = { pipeWritable: noop, pipeDropped: noop, pipeDrained: noop };


/**
 * A ZMTP 3.x engine over one byte stream. Sends its greeting at once (libzmq waits for ours; waiting
 * for its 64 octets would deadlock, PROTOCOL.md §2), then runs the mechanism's handshake. After
 * `attach(out, in)` it is the reader of `out` and the writer of `in`.
 */
export class StreamEngine implements PipeReader, PipeWriter, FrameSink, ByteStreamListener {
  readonly #stream: ByteStream;
  readonly #host: EngineHost;
  readonly #greeting = new GreetingDecoder();
  /** What the handshake waited for at the last step (see #reportAwaiting). */
  #awaiting: HandshakeWait = 'none';
  /** Our greeting after its signature, until the peer's signature has come. */
  #greetingRest: Uint8Array | undefined;
  readonly #decoder: FrameDecoder;
  readonly #encoder = new FrameEncoder();
  readonly #mechanism: Mechanism;
  #phase = GREETING;
  #ready = false;
  #zmtp31 = false;
  /** Set by a mechanism that protects every frame after the handshake (CURVE). */
  #cipher: FrameCipher | undefined;
  /** Opened frames of a sealed message still waiting for its last frame. */
  #sealed: Uint8Array[] | undefined;
  #zapPending = false;
  // Conversions between subscription messages and ZMTP 3.1 commands (PROTOCOL.md §8).
  readonly #subscriber: boolean;
  readonly #publisher: boolean;
  #out: Pipe | undefined;
  #in: Pipe | undefined;
  /** Messages decoded while `in` was full: at most the rest of one chunk. Reading is paused meanwhile. */
  #backlog: Message[] | undefined;
  #paused = false;
  /** The socket refused the peer: messages are dropped, then bytes are read and not decoded (see `stall`). */
  #stalled = false;
  /** Messages a stalled engine still decodes (and drops) before it stops decoding. */
  #dropBudget = 0;
  /** The stream ended or failed and the host has been told (once). */
  #gone = false;
  /** The stream refused more (write returned false): `out` is not read until it drains. */
  #blocked = false;
  /** The context of the newest PING not yet answered because the stream took no more (one PONG answers all). */
  #pongOwed: Uint8Array | undefined;
  #flushScheduled = false;
  /** Messages taken from `out` into the encoder since its last write (released then: Pipe.take). */
  #taken = 0;
  /** No flush pending since the loop last went round: the next message is written on a microtask. */
  #idle = true;
  #watching = false;
  /** A PING is in the encoder, not yet handed to the stream. */
  #pingQueued = false;
  #closedByUs = false;

  readonly #flushBound = (): void => this.#flush();
  readonly #idleBound = (): void => {
    // A batch still waiting means the sender is mid-burst: stay batching, look again next turn.
    if (this.#flushScheduled) onNextTurn(this.#idleBound);
    else this.#idle = true;
  };

  constructor(stream: ByteStream, host: EngineHost, config: EngineConfig) {
    this.#stream = stream;
    this.#host = host;
    this.#decoder = new FrameDecoder({ maxMessageSize: config.maxMessageSize });
    this.#mechanism = config.mechanism;
    this.#subscriber = config.socketType === 'SUB' || config.socketType === 'XSUB';
    this.#publisher = config.socketType === 'PUB' || config.socketType === 'XPUB';
  }

  /**
   * Starts: writes the first 11 octets of our greeting (signature and major version) and listens.
   * The other 53 (minor version, mechanism, …) follow once the peer's first 11 have come, as libzmq
   * sends them: a libzmq peer that finds the wrong mechanism closes at once, and if all 64 octets of
   * ours reached it before it had written its own mechanism, we would see a reset, not the mismatch.
   */
  start(): void {
    this.#stream.open(this);
    const greeting = encodeGreeting(this.#mechanism.name, this.#mechanism.asServer);
    this.#greetingRest = greeting.subarray(SIGNATURE_SIZE);
    this.#stream.write([greeting.subarray(0, SIGNATURE_SIZE)]);
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
    // An empty pipe tells its reader of the next write only once a read found it empty: the engine
    // before us may have stopped just after taking the last message (at FLUSH_LIMIT), and then the
    // socket's next send would wait for ever (issue 14: a PUSH over ipc stopped after a reconnect).
    // #take reads it, and the pipe stops keeping copies: from now on we take each message as sent.
    else this.#take();
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
    this.#writeCommand('PING', data);
    if (this.#blocked) {
      // No write until the peer reads (onStreamDrain): the PING waits behind what is queued.
      this.#host.enginePingSent(this);
      return;
    }
    this.#pingQueued = true;
    this.#scheduleFlush();
  }

  /** Reports the next frame received as traffic (one call of `engineTraffic`). */
  watchTraffic(): void {
    this.#watching = true;
  }

  /**
   * The host's answer to `engineZapRequest`: the handler's reply, or a violation when the exchange
   * itself failed (no handler, a malformed reply: PROTOCOL.md §12), which fails the handshake.
   */
  zapReplied(reply: ZapReply | Violation): void {
    if (!this.#zapPending || this.#phase !== HANDSHAKE) return;
    this.#zapPending = false;
    if (isViolation(reply)) return this.#fail(reply, false);
    this.#apply(this.#mechanism.zapReplied(reply));
  }

  /**
   * The socket refused this peer (a second PAIR peer, a taken routing id) or handed its routing id to
   * another, and dropped its pipes. The stream stays open: closed, a live peer would reconnect and be
   * refused again every reconnect interval. The engine reads on, decoding and dropping up to `budget`
   * messages (the receive HWM; <= 0: no limit) and answering PINGs; past that it still reads, and
   * drops the bytes undecoded. So a peer that closes or half-closes its stream is always seen and the
   * host told (`engineClosed`), and its descriptor goes (issue 11: every refused peer's stream is
   * closed, on every path). libzmq 4.3.5, measured, stops reading instead once RCVHWM messages wait in
   * a pipe nobody reads (a holder evicted by handover: after its first message), which holds a busy
   * refused peer back but keeps its stream in CLOSE-WAIT, once it goes, until the socket closes.
   * What a refused peer sends is lost either way; here its sends do not block.
   */
  stall(budget: number): void {
    if (this.#stalled) return;
    this.#stalled = true;
    this.#dropBudget = budget > 0 ? budget : Infinity;
    this.#release();
    this.#in = undefined;
    this.#out = undefined;
    // Paused because `in` was full: nothing is held for the socket any more, read on.
    if (this.#paused && this.#phase === ACTIVE) {
      this.#paused = false;
      this.#stream.resume();
    }
  }

  /** Closes the stream at once: unsent bytes are lost. */
  destroy(): void {
    if (this.#closedByUs) return;
    this.#closedByUs = true;
    this.#stop();
    this.#stream.destroy();
  }

  /**
   * Closes after what was handed to the stream has been written (a lingering socket's last messages),
   * or after `graceMs` (< 0: no limit) if the peer does not read.
   */
  end(graceMs: number): void {
    if (this.#closedByUs) return;
    this.#flush();
    this.#closedByUs = true;
    this.#stop();
    this.#stream.end(graceMs);
  }

  // ---- ByteStreamListener ----

  /** @internal Bytes from the peer. */
  onStreamData(chunk: Uint8Array): void {
    if (this.#phase === GREETING) {
      const r = this.#greeting.push(chunk);
      const rest = this.#greetingRest;
      if (rest !== undefined && this.#greeting.received >= SIGNATURE_SIZE && !(r.done && r.error !== undefined)) {
        this.#greetingRest = undefined;
        this.#stream.write([rest]);
      }
      if (!r.done) return;
      if (r.error !== undefined) return this.#fail(r.error, false);
      const mismatch = checkMechanism(this.#mechanism.name, r.greeting);
      if (mismatch !== undefined) return this.#fail(mismatch, false);
      this.#zmtp31 = isZmtp31(r.greeting);
      this.#phase = HANDSHAKE;
      this.#host.engineGreeted(this, r.greeting);
      if (this.#phase !== HANDSHAKE) return;
      this.#apply(this.#mechanism.start(r.greeting));
      if (r.rest.length === 0) return;
      chunk = r.rest;
    }
    if (this.#phase === DONE) return;
    // Any bytes from the peer count as traffic for the heartbeat timeout and a PING's TTL, not only
    // whole messages: a peer whose multipart message arrives more slowly than the timeout is alive.
    // (libzmq counts each decoded frame, so a slow frame can still drop it there.)
    if (this.#watching && this.#phase === ACTIVE) this.#seen();
    const v = this.#decoder.push(chunk, this);
    if (v !== undefined && this.#phase !== DONE) this.#fail(v, false);
  }

  /** @internal The stream takes writes again: answer a PING that waited, flush what waits. */
  onStreamDrain(): void {
    this.#blocked = false;
    const owed = this.#pongOwed;
    if (owed !== undefined) {
      this.#pongOwed = undefined;
      if (this.#phase === ACTIVE) this.#writeCommand('PONG', owed);
    }
    this.#flush();
  }

  /**
   * @internal The peer sent its FIN. A ZMTP peer half-closes only when it is going away, and libzmq
   * closes on it at once (`stream_engine_base.cpp`, a read of 0 is an error): so do we, through the
   * host, rather than wait for a close that a peer which never reads our last bytes would delay.
   */
  onStreamEnd(): void {
    if (this.#closedByUs) return;
    this.#streamGone();
  }

  /** @internal The stream is gone. */
  onStreamClose(): void {
    if (this.#closedByUs) {
      this.#phase = DONE;
      this.#release();
      return;
    }
    this.#streamGone();
  }

  #streamGone(): void {
    this.#handOverBacklog();
    this.#phase = DONE;
    this.#decoder.stop();
    this.#release();
    if (this.#gone) return;
    this.#gone = true;
    this.#host.engineClosed(this);
  }

  // ---- handshake ----

  /** Carries out a mechanism's step: its commands first, then what it asks for. */
  /** Tells the host when the handshake starts waiting for something else. */
  #reportAwaiting(): void {
    const what = this.#mechanism.awaiting;
    if (what === this.#awaiting) return;
    this.#awaiting = what;
    this.#host.engineAwaiting?.(this, what);
  }

  #apply(step: MechanismStep): void {
    if (this.#phase === DONE) return;
    const send = step.send;
    const speaks = send !== undefined && send.length > 0;
    if (speaks) this.#stream.write(send);
    switch (step.status) {
      case 'continue':
        this.#reportAwaiting();
        return;
      case 'zap':
        this.#zapPending = true;
        this.#reportAwaiting();
        this.#host.engineZapRequest(this, step.request);
        return;
      case 'ready':
        // A message begun before the handshake (its first frames with MORE) must not be completed
        // by frames after it: libzmq refuses any message before the handshake is done.
        if (this.#decoder.holdsFrames) {
          this.#fail(
            violation('ERR_ZMTP_UNEXPECTED_COMMAND', `peer began a message before completing the ${this.#mechanism.name} handshake`),
            false,
          );
          return;
        }
        this.#phase = ACTIVE;
        this.#ready = true;
        this.#cipher = step.cipher;
        this.#host.engineReady(this, step.peer);
        return;
      case 'error':
        this.#fail(step.violation, speaks);
        return;
    }
  }

  // ---- receiving ----

  /** @internal FrameSink: a whole message from the peer. */
  onMessage(frames: Uint8Array[]): void {
    if (this.#phase !== ACTIVE) {
      if (this.#phase === HANDSHAKE) {
        this.#fail(
          violation('ERR_ZMTP_UNEXPECTED_COMMAND', `peer sent a message before completing the ${this.#mechanism.name} handshake`),
          false,
        );
      }
      return;
    }
    const cipher = this.#cipher;
    if (cipher !== undefined) {
      // libzmq sends each sealed frame as a data frame whose body is a MESSAGE command body.
      for (const frame of frames) {
        const c = splitCommandBody(frame);
        if (isViolation(c) || c.name !== cipher.carrier) return this.#unsealed(`a data frame that is no ${cipher.carrier}`);
        this.#open(cipher, c.name, c.data);
        if (this.#phase !== ACTIVE) return;
      }
      return;
    }
    if (this.#watching) this.#seen();
    this.#deliver(frames);
  }

  /** @internal FrameSink: a command from the peer. */
  onCommand(name: string, data: Uint8Array): void {
    if (this.#phase === HANDSHAKE) return this.#apply(this.#mechanism.onCommand(name, data));
    if (this.#phase !== ACTIVE) return;
    if (this.#cipher !== undefined) return this.#open(this.#cipher, name, data);
    this.#command(name, data);
  }

  /** A command after the handshake, plain or opened. */
  #command(name: string, data: Uint8Array): void {
    if (this.#watching) this.#seen();
    if (name === 'PING') {
      const ping = parsePing(data);
      if (isViolation(ping)) return this.#fail(ping, false);
      // Always answered, whatever our own heartbeat settings (libzmq `zmtp_engine.cpp`). While the
      // stream takes no more, only the newest PING is answered, once it drains: a peer that sends
      // PINGs and never reads cannot make us buffer PONGs without end (libzmq keeps one too).
      if (this.#blocked) {
        this.#pongOwed = ping.context;
      } else {
        this.#writeCommand('PONG', ping.context);
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

  /** A frame under a cipher: one carrier command, opened into a message frame or a command. */
  #open(cipher: FrameCipher, name: string, data: Uint8Array): void {
    if (name !== cipher.carrier) return this.#unsealed(`a ${name} command`);
    const opened = cipher.open(data);
    if (isViolation(opened)) return this.#fail(opened, false);
    if (opened.length === 0) {
      return this.#fail(violation('ERR_ZMTP_MALFORMED_COMMAND_MESSAGE', `peer sent a ${name} that opened to no flags octet`), false);
    }
    const flags = opened[0];
    const body = opened.subarray(1);
    if ((flags & SEALED_COMMAND) !== 0) {
      const c = splitCommandBody(body);
      if (isViolation(c)) return this.#fail(c, false);
      return this.#command(c.name, c.data);
    }
    if (this.#watching) this.#seen();
    if ((flags & SEALED_MORE) !== 0) {
      if (this.#sealed === undefined) this.#sealed = [body];
      else this.#sealed.push(body);
      return;
    }
    const frames = this.#sealed;
    if (frames === undefined) {
      this.#deliver([body]);
    } else {
      this.#sealed = undefined;
      frames.push(body);
      this.#deliver(frames);
    }
  }

  #unsealed(what: string): void {
    this.#fail(
      violation(
        'ERR_ZMTP_UNEXPECTED_COMMAND',
        `peer sent ${what} after the ${this.#mechanism.name} handshake; every frame must travel in ${this.#cipher!.carrier}`,
      ),
      false,
    );
  }

  #deliver(frames: Message): void {
    const inn = this.#in;
    if (inn === undefined) {
      // Refused peer: drop, and past the budget stop decoding; reading goes on (see `stall`).
      if (this.#stalled && --this.#dropBudget === 0) this.#decoder.stop();
      return;
    }
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

  /**
   * The stream is ending: the messages decoded while `in` was full came before the end, so the
   * socket gets them now, past the HWM (nothing more will come to make room). libzmq reads no
   * further while its pipe is full and so reaches a peer's end only after them; dropping them
   * here lost the last few thousand messages of a peer that sent and then closed.
   */
  #handOverBacklog(): void {
    const backlog = this.#backlog;
    if (backlog === undefined || this.#phase !== ACTIVE) return;
    this.#backlog = undefined;
    this.#in?.writeAllPastHwm(backlog);
  }

  #seen(): void {
    this.#watching = false;
    this.#host.engineTraffic(this);
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#stream.pause();
  }

  /**
   * Stops decoding and tells the host. `lastWords`: the mechanism's final commands (an ERROR) were just
   * written; the stream then closes once they are out, not at once when the host destroys the engine.
   */
  #fail(v: Violation, lastWords: boolean): void {
    const handshaking = this.#phase !== ACTIVE;
    this.#handOverBacklog();
    this.#phase = DONE;
    this.#decoder.stop();
    if (lastWords) {
      this.#closedByUs = true;
      this.#release();
      this.#stream.end(LAST_WORDS_GRACE_MS);
    }
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
    if (this.#paused && pipe.writable && this.#phase === ACTIVE) {
      this.#paused = false;
      this.#stream.resume();
    }
  }

  /** @internal The socket stopped reading us (it is closing): drop what arrives from now on. */
  pipeDropped(pipe: Pipe): void {
    if (pipe !== this.#in) return;
    this.#backlog = undefined;
    if (this.#paused && this.#phase === ACTIVE) {
      this.#paused = false;
      this.#stream.resume();
    }
  }

  /** @internal */
  pipeDrained(_pipe: Pipe): void {}

  // ---- PipeReader (of `out`) ----

  /**
   * @internal The socket queued a message into an empty pipe: write it soon (see #scheduleFlush for
   * when). A message with a frame send() left by reference (see STREAM_COPY_LIMIT) is encoded now,
   * before send() returns, which copies the frame; the pipe is then empty again, and tells us of
   * the next. Otherwise the pipe keeps copies of such frames in whatever it queues until the flush.
   */
  pipeReadable(pipe: Pipe): void {
    if (pipe !== this.#out) return;
    if (leftByReference(pipe.peek())) this.#take(true);
    else pipe.keepCopies(true);
    this.#scheduleFlush();
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
      onNextTurn(this.#idleBound);
    } else {
      onNextTurn(this.#flushBound);
    }
  }

  /** Takes what `out` holds into the encoder and hands the stream one gathered write. */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.#phase !== ACTIVE) return;
    this.#take();
    if (this.#encoder.pendingBytes === 0 || this.#blocked) return;
    this.#write();
    if (!this.#blocked && this.#out !== undefined && this.#out.size > 0) this.#scheduleFlush();
  }

  /** Hands the stream what the encoder holds; the messages in it stop counting toward the HWM. */
  #write(): void {
    if (!this.#stream.write(this.#encoder.flush())) this.#blocked = true;
    const taken = this.#taken;
    if (taken > 0) {
      this.#taken = 0;
      this.#out?.release(taken);
    }
    if (this.#pingQueued) {
      this.#pingQueued = false;
      this.#host.enginePingSent(this);
    }
  }

  /**
   * Moves what `out` holds into the encoder, which copies each frame of up to COPY_THRESHOLD bytes
   * (the socket copied larger ones at send), so a sender may change its buffers once send()
   * returns. In a flush, a batch that reaches FLUSH_LIMIT is written at once. As a message is
   * queued (`asQueued`), and while the stream is blocked, the encoder takes only messages with a
   * frame send() left by reference, up to HOLD_LIMIT, without writing; those count toward the HWM
   * until written. What stays in `out` (before the handshake, while blocked) makes the pipe keep
   * copies; once it is empty again, it stops copying.
   */
  #take(asQueued = false): void {
    const out = this.#out;
    if (out === undefined) return;
    const enc = this.#encoder;
    while (this.#phase === ACTIVE) {
      if (this.#blocked || asQueued) {
        // Taken, not written: the turn's flush writes the batch (one write, however many came).
        this.#encodeFrom(out, HOLD_LIMIT, true);
        break;
      }
      this.#encodeFrom(out, FLUSH_LIMIT, false);
      if (enc.pendingBytes < FLUSH_LIMIT) break; // `out` read to empty: its next write tells us (see attach)
      this.#write();
    }
    out.keepCopies(this.#phase !== ACTIVE || out.size > 0);
  }

  /**
   * Encodes messages from `out` until it is empty or `limit` bytes wait; with `byReferenceOnly`
   * (as a message is queued, or while the stream is blocked), only while the next has a frame
   * send() left by reference: the others wait in the pipe as they are, for the turn's flush.
   */
  #encodeFrom(out: Pipe, limit: number, byReferenceOnly: boolean): void {
    const enc = this.#encoder;
    const convert = this.#subscriber && this.#zmtp31;
    const cipher = this.#cipher;
    while (enc.pendingBytes < limit) {
      if (byReferenceOnly && out.size > 0 && !leftByReference(out.peek())) break; // (an empty pipe is read: see attach)
      const msg = out.take();
      if (msg === undefined) break;
      this.#taken++;
      if (convert && msg.length === 1 && msg[0].length > 0 && msg[0][0] <= 1) {
        // ZMTP 3.1: subscriptions travel as SUBSCRIBE / CANCEL commands (RFC 37, PROTOCOL.md §8).
        this.#writeCommand(msg[0][0] === 1 ? 'SUBSCRIBE' : 'CANCEL', msg[0].subarray(1));
      } else if (cipher === undefined) {
        enc.writeMessage(msg);
      } else {
        this.#sealMessage(msg, cipher);
      }
    }
  }

  /**
   * A message under a cipher: each frame sealed into its own carrier (CURVE MESSAGE). libzmq 4.3
   * sends the MESSAGE command body in a data frame (flags 0, never MORE), not in a command frame as
   * PROTOCOL.md §11 says, and drops a MESSAGE that comes in a command frame; so do we send it.
   */
  #sealMessage(msg: Message, cipher: FrameCipher): void {
    const carrier = cipher.carrier;
    const last = msg.length - 1;
    for (let i = 0; i <= last; i++) this.#encoder.writeFrame(commandBody(carrier, cipher.seal(i < last ? SEALED_MORE : 0, msg[i])), false);
  }

  /** Queues a command after the handshake, sealed when there is a cipher. */
  #writeCommand(name: string, data: Uint8Array | undefined): void {
    const cipher = this.#cipher;
    if (cipher === undefined) this.#encoder.writeCommand(name, data);
    else this.#encoder.writeFrame(commandBody(cipher.carrier, cipher.seal(SEALED_COMMAND, commandBody(name, data))), false);
  }

  #stop(): void {
    this.#phase = DONE;
    this.#decoder.stop();
    this.#release();
  }

  #release(): void {
    this.#backlog = undefined;
    const out = this.#out;
    if (out !== undefined && out.reader === this) {
      out.reader = idleReader;
      out.keepCopies(true); // what is queued now waits for the next connection
      // What the encoder took is not written now: it stops counting toward the HWM.
      out.release(this.#taken);
      this.#taken = 0;
    }
    if (this.#in !== undefined && this.#in.writer === this) this.#in.writer = idleWriter;
  }
}
