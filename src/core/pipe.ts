// A pipe: one direction of one connection, a bounded FIFO of whole messages with HWM accounting.
// It carries messages and reports edges (went non-empty, went writable again, ended); it decides
// nothing. No IO, no timers, no XState: the hot path of every socket goes through here.
//
//   writer ──write()──▶ [ m0 | m1 | m2 | ... ] ──read()──▶ reader
//            ▲  full at `capacity` messages                  │
//            └── pipeWritable() once the reader drains to `lowWater`
//
// The ring starts small (an idle connection costs little: a process may hold 100,000 of them) and
// grows by doubling while messages queue up to the HWM; it never shrinks, so a steady stream
// allocates nothing once its ring has grown.

import { copyLeftByReference } from './frame.js';
import type { Message } from './frame.js';

/** The side that reads a pipe: told when an empty pipe gets a message, and when the writer ended it. */
export interface PipeReader {
  pipeReadable(pipe: Pipe): void;
  pipeEnded(pipe: Pipe): void;
}

/** The side that writes a pipe: told when a full pipe drained below its low-water mark, or was dropped. */
export interface PipeWriter {
  pipeWritable(pipe: Pipe): void;
  pipeDropped(pipe: Pipe): void;
  /** An ended pipe has been read to the last message (a lingering close waits for this). */
  pipeDrained(pipe: Pipe): void;
}

const MIN_RING = 8;
const noop = (): void => {};
const nullReader: PipeReader = { pipeReadable: noop, pipeEnded: noop };
const nullWriter: PipeWriter = { pipeWritable: noop, pipeDropped: noop, pipeDrained: noop };

/**
 * Low-water mark for a capacity, after libzmq's `pipe.cpp compute_lwm`: half the HWM for small
 * queues, HWM minus 1024 for large ones, so a writer is woken once per batch, not once per message.
 */
export function lowWaterMark(capacity: number): number {
  if (capacity <= 0) return 0;
  return capacity > 2048 ? capacity - 1024 : Math.floor((capacity + 1) / 2);
}

export class Pipe {
  /** Messages the pipe holds before it refuses writes; 0 means unlimited. */
  capacity: number;
  /** Once full, the writer is woken when the pipe drains to this many messages. */
  lowWater: number;
  /** Conflate: the pipe keeps only the newest message and is never full. */
  readonly conflate: boolean;
  reader: PipeReader = nullReader;
  writer: PipeWriter = nullWriter;
  /** Free for the reader's use (e.g. the peer record it keeps for this pipe). */
  readerTag: unknown = undefined;
  /** Free for the writer's use. */
  writerTag: unknown = undefined;
  /** Free for the reader's use: its place in the reader's fair queue, -1 when not queued there. */
  readerSlot = -1;

  #ring: (Message | undefined)[];
  #mask: number;
  #head = 0;
  #count = 0;
  #full = false;
  #readerIdle = true;
  #ended = false;
  #dropped = false;
  #wakeScheduled = false;
  #keepCopies = false;
  /** Messages taken (see take) but not yet released: they still count toward the HWM. */
  #held = 0;

  constructor(capacity: number, conflate = false) {
    this.capacity = conflate ? 1 : capacity > 0 ? capacity : 0;
    this.conflate = conflate;
    this.lowWater = lowWaterMark(this.capacity);
    this.#ring = new Array(MIN_RING);
    this.#mask = MIN_RING - 1;
  }

  /** Messages waiting to be read. */
  get size(): number {
    return this.#count;
  }

  /** Messages counted toward the HWM: those waiting to be read and those taken but not released. */
  get queued(): number {
    return this.#count + this.#held;
  }

  /** True while a write would be accepted. */
  get writable(): boolean {
    return !this.#full && !this.#ended && !this.#dropped;
  }

  /** True once the writer has ended the pipe (the reader may still drain it). */
  get ended(): boolean {
    return this.#ended;
  }

  /** True once the reader has dropped the pipe: nothing written will ever be read. */
  get dropped(): boolean {
    return this.#dropped;
  }

  /**
   * Queues one whole message. Returns false, and keeps nothing, when the pipe is full, ended or
   * dropped. After a true return the writer should look at `writable`: false means the pipe has
   * just reached its HWM (the "mute" edge).
   */
  write(msg: Message): boolean {
    if (this.#full || this.#ended || this.#dropped) return false;
    if (this.conflate && this.#count === 1) {
      if (this.#keepCopies) copyLeftByReference(msg);
      this.#ring[this.#head] = msg; // replace in place: memory stays at one message
      this.#wakeReader();
    } else {
      this.#append(msg);
    }
    return true;
  }

  /**
   * Queues one whole message past the HWM: for subscriptions, which libzmq drops at the HWM
   * (libzmq#2258) and which here always get through (what a subscriber asks for is bounded by its
   * own calls). Never conflated. Returns false, and keeps nothing, only when the pipe is ended or
   * dropped; `writable` then says whether the pipe is at its HWM, as after `write`.
   */
  writePastHwm(msg: Message): boolean {
    if (this.#ended || this.#dropped) return false;
    this.#append(msg);
    return true;
  }

  /**
   * Queues `msgs` past the HWM, in order: what an engine decoded before its stream ended, with
   * nothing more to come to make room. Stops if the pipe is ended or dropped (see writePastHwm).
   */
  writeAllPastHwm(msgs: readonly Message[]): void {
    for (const msg of msgs) if (!this.writePastHwm(msg)) return;
  }

  /**
   * For a reader that writes messages out later than their senders were told they were sent (a
   * stream engine that cannot take them yet): while on, each message queued, and each one written
   * from then on, has its frames of COPY_AT_SEND to STREAM_COPY_LIMIT bytes replaced by copies (the
   * socket copied smaller and larger ones at send), so a sender may change its buffers once `send()`
   * returns. Off again while the reader takes each message as it is written.
   */
  keepCopies(on: boolean): void {
    if (on && !this.#keepCopies) for (let k = 0; k < this.#count; k++) copyLeftByReference(this.#ring[(this.#head + k) & this.#mask] as Message);
    this.#keepCopies = on;
  }

  /** Queues `msg` at the tail (the ring grows as needed), marks the HWM, tells an idle reader. */
  #append(msg: Message): void {
    if (this.#keepCopies) copyLeftByReference(msg);
    if (this.#count === this.#ring.length) this.#grow();
    this.#ring[(this.#head + this.#count) & this.#mask] = msg;
    this.#count++;
    if (this.capacity !== 0 && this.#count + this.#held >= this.capacity && !this.conflate) this.#full = true;
    this.#wakeReader();
  }

  #wakeReader(): void {
    if (this.#readerIdle) {
      this.#readerIdle = false;
      this.reader.pipeReadable(this);
    }
  }

  /**
   * Takes the oldest message, or undefined when empty. Reading an empty pipe arms the
   * `pipeReadable` call for the next write.
   */
  read(): Message | undefined {
    const msg = this.#shift();
    if (msg !== undefined) this.#settle();
    return msg;
  }

  /**
   * Takes the oldest message as read() does, but it goes on counting toward the HWM until
   * release(): for a reader that queues what it takes (a stream engine encodes each message into
   * its write buffer as it comes, and writes the buffer when the stream takes more), so the writer
   * still meets the HWM while the stream is blocked.
   */
  take(): Message | undefined {
    const msg = this.#shift();
    if (msg !== undefined) this.#held++;
    return msg;
  }

  /** Removes the oldest message from the ring; on an empty pipe, arms `pipeReadable` (see read). */
  #shift(): Message | undefined {
    if (this.#count === 0) {
      this.#readerIdle = true;
      return undefined;
    }
    const i = this.#head;
    const msg = this.#ring[i];
    this.#ring[i] = undefined;
    this.#head = (i + 1) & this.#mask;
    this.#count--;
    return msg;
  }

  /** `n` messages taken with take() have gone on (written to the stream): they stop counting. */
  release(n: number): void {
    if (n === 0 || this.#dropped) return;
    this.#held -= n;
    this.#settle();
  }

  /** After a read or release: wakes a writer below the low-water mark; tells both ends an ended pipe is empty. */
  #settle(): void {
    const queued = this.#count + this.#held;
    if (this.#full && queued <= this.lowWater) {
      this.#full = false;
      this.#scheduleWake();
    }
    if (queued === 0 && this.#ended) {
      this.reader.pipeEnded(this);
      this.writer.pipeDrained(this);
    }
  }

  /** Looks at the oldest message without taking it. */
  peek(): Message | undefined {
    return this.#count === 0 ? undefined : this.#ring[this.#head];
  }

  /**
   * The writer is done: no more writes; the reader drains what is queued and is then told
   * `pipeEnded` (at once if the pipe is already empty).
   */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#count + this.#held === 0) this.reader.pipeEnded(this);
  }

  /**
   * Either side gives up the pipe at once: queued messages are discarded, the writer is told
   * `pipeDropped` and the reader `pipeEnded` (unless it was already told). Returns how many
   * messages were discarded.
   */
  drop(): number {
    if (this.#dropped) return 0;
    const n = this.#count;
    const readerKnew = this.#ended && n === 0 && this.#held === 0;
    this.#dropped = true;
    this.#ended = true;
    this.#ring.fill(undefined);
    this.#count = 0;
    this.#held = 0;
    this.#full = false;
    this.writer.pipeDropped(this);
    if (!readerKnew) this.reader.pipeEnded(this);
    return n;
  }

  /** Changes the HWM (an inproc pipe made before its bind learns the binder's RCVHWM then). */
  resize(capacity: number): void {
    if (this.conflate) return;
    this.capacity = capacity > 0 ? capacity : 0;
    this.lowWater = lowWaterMark(this.capacity);
    const wasFull = this.#full;
    this.#full = this.capacity !== 0 && this.#count + this.#held >= this.capacity;
    if (wasFull && !this.#full) this.#scheduleWake();
  }

  /** Discards queued messages, keeping the pipe open (REQ drops stale replies this way). */
  clear(): number {
    const n = this.#count;
    while (this.#count > 0) this.read();
    return n;
  }

  #grow(): void {
    const old = this.#ring;
    const n = old.length;
    const ring: (Message | undefined)[] = new Array(n * 2);
    for (let k = 0; k < n; k++) ring[k] = old[(this.#head + k) & this.#mask];
    this.#ring = ring;
    this.#mask = n * 2 - 1;
    this.#head = 0;
  }

  // The writer is woken on a microtask, not inside read(): the reader may be in the middle of its
  // own receive loop, and the writer's wake-up runs its machine and flushes its waiting sends.
  #scheduleWake(): void {
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    queueMicrotask(() => {
      this.#wakeScheduled = false;
      if (!this.#full && !this.#dropped) this.writer.pipeWritable(this);
    });
  }
}
