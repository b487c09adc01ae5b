// One raw connection (a STREAM socket's, libzmq `raw_engine.cpp`): no greeting, no handshake, no
// framing. Each chunk the byte stream reads is one message for the socket, and the bytes of each
// message the socket queues are written as they are. It reports to its host and decides nothing
// about reconnecting; the ZMTP engine (stream-engine.ts) is untouched by it.
//
//   socket ──out pipe──▶ engine ──data frames, as they are──▶ one gathered write per flush ──▶ ByteStream
//   socket ◀──in pipe─── engine ◀──[chunk] per read (a view, no copy); [] notifications ◀──── ByteStream

import type { Message } from '../core/frame.js';
import { emptyFrame } from '../core/frame.js';
import type { Pipe, PipeReader, PipeWriter } from '../core/pipe.js';
import { onNextTurn } from '../core/turn.js';
import type { ByteStream, ByteStreamListener } from './byte-stream.js';
import { idleReader, idleWriter } from './stream-engine.js';

/** What a raw engine tells the one who owns it. Each call names the engine, so stale ones can be ignored. */
export interface RawEngineHost {
  /**
   * The stream is open, and a raw stream has nothing to agree on: call `attach()` to start traffic.
   * Reported on a microtask after `start()`, once the host has taken note of the open stream.
   */
  rawStreamOpened(engine: RawEngine): void;
  /** The stream ended by itself: the peer closed or half-closed it, or it failed. */
  engineClosed(engine: RawEngine): void;
}

/** Our side of one raw connection. */
export interface RawEngineConfig {
  /**
   * ZMQ_STREAM_NOTIFY: put an empty message in the socket's incoming pipe when traffic starts and
   * when the peer goes (libzmq `raw_engine.cpp plug_internal` and `error`).
   */
  notify: boolean;
}

// Phases of a raw stream.
const OPENING = 0;
const ACTIVE = 1;
const DONE = 2;

/** Bytes gathered into one flush before the rest waits for the next turn of the loop. */
const FLUSH_LIMIT = 256 * 1024;

/**
 * A raw engine over one byte stream. After `attach(out, in)` it is the reader of `out` and the writer
 * of `in`; bytes that arrive before then are kept for `in`.
 */
export class RawEngine implements PipeReader, PipeWriter, ByteStreamListener {
  readonly #stream: ByteStream;
  readonly #host: RawEngineHost;
  readonly #notify: boolean;
  #phase = OPENING;
  #out: Pipe | undefined;
  #in: Pipe | undefined;
  /** Chunks read before `attach` (the host attaches on the microtask after the stream opened). */
  #early: Uint8Array[] | undefined;
  /** Messages that found `in` full (its HWM changed under us): reading is paused meanwhile. */
  #backlog: Message[] | undefined;
  #paused = false;
  /** The stream refused more (write returned false): `out` is not read until it drains. */
  #blocked = false;
  #flushScheduled = false;
  /** No flush pending since the loop last went round: the next message is written on a microtask. */
  #idle = true;
  #closedByUs = false;
  /** The stream ended by itself and the host has been told (once). */
  #gone = false;

  readonly #flushBound = (): void => this.#flush();
  readonly #idleBound = (): void => {
    if (this.#flushScheduled) onNextTurn(this.#idleBound);
    else this.#idle = true;
  };
  readonly #openedBound = (): void => {
    if (this.#phase === OPENING && !this.#closedByUs) this.#host.rawStreamOpened(this);
  };

  constructor(stream: ByteStream, host: RawEngineHost, config: RawEngineConfig) {
    this.#stream = stream;
    this.#host = host;
    this.#notify = config.notify;
  }

  /** Starts listening; the host hears `rawStreamOpened` on the next microtask. */
  start(): void {
    this.#stream.open(this);
    queueMicrotask(this.#openedBound);
  }

  /** Starts traffic: reads `out` (bytes the socket sends), writes `in` (what the peer sent). */
  attach(out: Pipe, inn: Pipe): void {
    if (this.#phase !== OPENING) return;
    this.#phase = ACTIVE;
    this.#out = out;
    this.#in = inn;
    out.reader = this;
    inn.writer = this;
    // The connect notification comes before any byte of this connection, past the HWM: it is one
    // message per connection, and the application must not miss it.
    if (this.#notify) inn.writePastHwm([emptyFrame()]);
    const early = this.#early;
    this.#early = undefined;
    if (early !== undefined) for (const chunk of early) this.#deliver([chunk]);
    if (out.size > 0) this.#scheduleFlush();
    // Read the empty pipe, so that the socket's next write tells us (as the ZMTP engine does).
    else out.read();
  }

  /** A raw stream has no heartbeats (libzmq starts them only after a ZMTP handshake). */
  ping(_ttl: number): void {}

  /** A raw stream has no heartbeats, so nothing waits for its traffic. */
  watchTraffic(): void {}

  /**
   * The socket let go of this connection without closing it. The ZMTP engine keeps such a stream
   * open, so that a refused peer does not reconnect again and again; a STREAM socket refuses no
   * connection, and a raw one it let go of is simply closed: the host hears of it as of any end
   * (`engineClosed`), without a notification to the socket, which holds the pipes no more.
   */
  stall(_budget: number): void {
    this.#release();
    this.#in = undefined;
    this.#out = undefined;
    this.#early = undefined;
    this.#stream.destroy();
  }

  /** Closes the stream at once: unsent bytes are lost. */
  destroy(): void {
    if (this.#closedByUs) return;
    this.#closedByUs = true;
    this.#stop();
    this.#stream.destroy();
  }

  /**
   * Closes once every message the socket queued for this connection has been handed to the stream
   * and written (a closed connection's last bytes: an HTTP response sent before the empty frame that
   * closes it), or after `graceMs` (< 0: no limit) if the peer does not read. Unlike a flush, this
   * hands over everything left, however much the stream already holds: nothing comes after it.
   */
  end(graceMs: number): void {
    if (this.#closedByUs) return;
    const out = this.#out;
    if (this.#phase === ACTIVE && out !== undefined) {
      const chunks: Uint8Array[] = [];
      for (let msg = out.read(); msg !== undefined; msg = out.read()) gather(msg, chunks);
      if (chunks.length > 0) this.#stream.write(chunks);
    }
    this.#closedByUs = true;
    this.#stop();
    this.#stream.end(graceMs);
  }

  // ---- ByteStreamListener ----

  /** @internal Bytes from the peer: one message each, as libzmq's raw decoder makes them. */
  onStreamData(chunk: Uint8Array): void {
    if (this.#phase === DONE) return;
    if (this.#phase === OPENING) {
      (this.#early ??= []).push(chunk);
      return;
    }
    this.#deliver([chunk]);
  }

  /** @internal The stream takes writes again: flush what waits. */
  onStreamDrain(): void {
    this.#blocked = false;
    this.#flush();
  }

  /**
   * @internal The peer sent its FIN. libzmq's raw engine reads it as the end of the connection (a
   * read of 0 is an error in `stream_engine_base.cpp`) and closes: so do we, through the host.
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

  /** The peer went: what it sent is the socket's, then the disconnect notification; the host is told. */
  #streamGone(): void {
    const inn = this.#in;
    if (this.#phase === ACTIVE && inn !== undefined) {
      // Nothing more will come to make room: the held messages and the notification go past the HWM,
      // in order (libzmq `raw_engine.cpp error` pushes its notification after the data).
      const backlog = this.#backlog;
      this.#backlog = undefined;
      if (backlog !== undefined) inn.writeAllPastHwm(backlog);
      if (this.#notify) inn.writePastHwm([emptyFrame()]);
    }
    this.#phase = DONE;
    this.#release();
    if (this.#gone) return;
    this.#gone = true;
    this.#host.engineClosed(this);
  }

  // ---- receiving ----

  #deliver(msg: Message): void {
    const inn = this.#in;
    if (inn === undefined) return;
    if (this.#backlog !== undefined) {
      this.#backlog.push(msg);
      return;
    }
    if (inn.write(msg)) {
      if (!inn.writable) this.#pause();
      return;
    }
    // Dropped (the socket is closing and reads no more): discard. Full: hold and stop reading.
    if (inn.dropped || inn.ended) return;
    this.#backlog = [msg];
    this.#pause();
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#stream.pause();
  }

  #resume(): void {
    if (!this.#paused || this.#phase === DONE) return;
    this.#paused = false;
    this.#stream.resume();
  }

  // ---- PipeWriter (of `in`) ----

  /** @internal The socket read `in` down to its low-water mark: hand over the backlog, read again. */
  pipeWritable(pipe: Pipe): void {
    if (pipe !== this.#in) return;
    const backlog = this.#backlog;
    if (backlog !== undefined) {
      let i = 0;
      while (i < backlog.length && pipe.write(backlog[i] as Message)) i++;
      if (i < backlog.length) {
        backlog.splice(0, i);
        return;
      }
      this.#backlog = undefined;
    }
    if (pipe.writable) this.#resume();
  }

  /** @internal The socket stopped reading us (it is closing): drop what arrives from now on. */
  pipeDropped(pipe: Pipe): void {
    if (pipe !== this.#in) return;
    this.#backlog = undefined;
    this.#resume();
  }

  /** @internal */
  pipeDrained(_pipe: Pipe): void {}

  // ---- PipeReader (of `out`) ----

  /** @internal The socket queued bytes: flush them (see #scheduleFlush for when). */
  pipeReadable(pipe: Pipe): void {
    if (pipe === this.#out) this.#scheduleFlush();
  }

  /** @internal The socket is done sending and `out` is empty (the host ends the stream). */
  pipeEnded(_pipe: Pipe): void {}

  // ---- sending ----

  // As the ZMTP engine does: the first message after a quiet spell goes out on a microtask, a burst
  // after it in one gathered write per turn of the loop.
  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#phase !== ACTIVE) return;
    this.#flushScheduled = true;
    if (this.#idle) {
      this.#idle = false;
      queueMicrotask(this.#flushBound);
      onNextTurn(this.#idleBound);
    } else {
      onNextTurn(this.#flushBound);
    }
  }

  /** Drains `out` into one gathered write, up to FLUSH_LIMIT bytes. */
  #flush(): void {
    this.#flushScheduled = false;
    const out = this.#out;
    if (this.#phase !== ACTIVE || out === undefined || this.#blocked) return;
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    while (bytes < FLUSH_LIMIT) {
      const msg = out.read();
      if (msg === undefined) break;
      bytes += gather(msg, chunks);
    }
    // Stopped at FLUSH_LIMIT just after the last message: read the empty pipe, so the next write
    // tells us.
    if (out.size === 0) out.read();
    if (chunks.length > 0 && !this.#stream.write(chunks)) this.#blocked = true;
    else if (out.size > 0) this.#scheduleFlush();
  }

  #stop(): void {
    this.#phase = DONE;
    this.#early = undefined;
    this.#release();
  }

  #release(): void {
    this.#backlog = undefined;
    if (this.#out !== undefined && this.#out.reader === this) this.#out.reader = idleReader;
    if (this.#in !== undefined && this.#in.writer === this) this.#in.writer = idleWriter;
  }
}

/** Adds a message's bytes to `chunks` as they are (every frame, empty ones skipped); returns how many. */
function gather(msg: Message, chunks: Uint8Array[]): number {
  let bytes = 0;
  for (const frame of msg) {
    const n = frame.length;
    if (n === 0) continue;
    chunks.push(frame);
    bytes += n;
  }
  return bytes;
}
