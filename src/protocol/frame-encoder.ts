// ZMTP 3.x frame encoder (RFC 23/37 "Framing"): messages and commands out as chunks for a gathered
// write. Small frames are copied next to their headers; large bodies go out by reference, never copied.

import { ZmqError } from '../core/errors.js';
import { STREAM_COPY_LIMIT } from '../core/frame.js';
import { allocBytes, isShortAscii, writeAscii } from './bytes.js';

const FLAG_MORE = 0x01;
const FLAG_LONG = 0x02;
const FLAG_COMMAND = 0x04;
const TWO_POW_32 = 4294967296;

/**
 * Bodies larger than this are referenced rather than copied. Measured over loopback TCP with corked
 * writes (Node 20): copying wins up to about 2 KiB, referencing from about 3 KiB (4 KiB: 1.4x faster).
 * A socket copies larger ones at send (STREAM_COPY_LIMIT), so the two must agree.
 */
export const COPY_THRESHOLD = STREAM_COPY_LIMIT;

/** Size of the buffers a {@link FrameEncoder} copies small frames into. */
export const POOL_SIZE = 64 * 1024;
/** The first pool's size (see FrameEncoder): pools then double up to POOL_SIZE. */
const FIRST_POOL = 4096;

/** Header length of a frame with a body of `size` octets: LONG iff size > 255, as libzmq encodes. */
function headerLength(size: number): number {
  return size > 255 ? 9 : 2;
}

// Writes a frame header at `at`; returns the position after it.
function writeHeader(target: Uint8Array, at: number, flags: number, size: number): number {
  if (size > 255) {
    target[at] = flags | FLAG_LONG;
    const high = Math.floor(size / TWO_POW_32);
    const low = size >>> 0;
    target[at + 1] = high >>> 24;
    target[at + 2] = (high >>> 16) & 0xff;
    target[at + 3] = (high >>> 8) & 0xff;
    target[at + 4] = high & 0xff;
    target[at + 5] = low >>> 24;
    target[at + 6] = (low >>> 16) & 0xff;
    target[at + 7] = (low >>> 8) & 0xff;
    target[at + 8] = low & 0xff;
    return at + 9;
  }
  target[at] = flags;
  target[at + 1] = size;
  return at + 2;
}

// Copies a small body; a loop beats `set` for a handful of bytes.
function copyBody(target: Uint8Array, at: number, body: Uint8Array): number {
  const n = body.length;
  if (n < 32) {
    for (let i = 0; i < n; i++) target[at + i] = body[i];
  } else {
    target.set(body, at);
  }
  return at + n;
}

function checkCommandName(name: string): void {
  if (!isShortAscii(name)) {
    throw new ZmqError(
      'EINVAL',
      `command name ${JSON.stringify(name)} is invalid: a name is 1..255 printable ASCII characters`,
    );
  }
}

/**
 * Encodes one message for a gathered write: pushes chunks into `out` and returns the byte count.
 *
 * Headers and bodies up to {@link COPY_THRESHOLD} share one freshly allocated chunk; larger bodies are
 * pushed by reference between its slices. Every frame but the last carries MORE.
 *
 * ```ts
 * const chunks: Uint8Array[] = [];
 * encodeMessage([Buffer.from('topic'), bigPayload], chunks);
 * socket.writev?.(chunks); // or write each, corked
 * ```
 */
export function encodeMessage(frames: Uint8Array[], out: Uint8Array[]): number {
  const count = frames.length;
  let copied = 0;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const size = frames[i].length;
    const header = headerLength(size);
    total += header + size;
    copied += size > COPY_THRESHOLD ? header : header + size;
  }
  const scratch = allocBytes(copied);
  let at = 0;
  let segment = 0;
  for (let i = 0; i < count; i++) {
    const body = frames[i];
    at = writeHeader(scratch, at, i < count - 1 ? FLAG_MORE : 0, body.length);
    if (body.length > COPY_THRESHOLD) {
      out.push(scratch.subarray(segment, at), body);
      segment = at;
    } else {
      at = copyBody(scratch, at, body);
    }
  }
  if (at > segment) out.push(segment === 0 ? scratch : scratch.subarray(segment, at));
  return total;
}

/**
 * Encodes a whole command frame (RFC 37: flags 0x04, or 0x06 when the body exceeds 255 octets; body =
 * name-len, name, data). `name` must be 1..255 printable ASCII characters.
 */
export function encodeCommand(name: string, data?: Uint8Array): Uint8Array {
  checkCommandName(name);
  const dataLength = data === undefined ? 0 : data.length;
  const size = 1 + name.length + dataLength;
  const frame = allocBytes(headerLength(size) + size);
  let at = writeHeader(frame, 0, FLAG_COMMAND, size);
  frame[at++] = name.length;
  writeAscii(name, frame, at);
  at += name.length;
  if (data !== undefined) frame.set(data, at);
  return frame;
}

/** Options of a {@link FrameEncoder}. */
export interface FrameEncoderOptions {
  /** Bytes per pooled buffer for small frames; default {@link POOL_SIZE}. */
  poolSize?: number;
  /** Bodies above this are referenced, not copied; default {@link COPY_THRESHOLD}. */
  copyThreshold?: number;
}

/**
 * Batches messages and commands for one gathered write per tick.
 *
 * Small frames are copied, header and body side by side, into a pooled buffer; bodies above the copy
 * threshold are referenced. A region handed out by `flush()` is never written again: the pool moves on
 * and a fresh one is allocated when it is full, so pending writes stay intact.
 *
 * ```ts
 * const enc = new FrameEncoder();
 * for (const m of queued) enc.writeMessage(m);
 * socket.cork(); for (const c of enc.flush()) socket.write(c); socket.uncork();
 * ```
 */
export class FrameEncoder {
  readonly #poolSize: number;
  readonly #threshold: number;
  #pool: Uint8Array;
  #at = 0;
  #segment = 0;
  #chunks: Uint8Array[] = [];
  #bytes = 0;

  constructor(opts?: FrameEncoderOptions) {
    this.#poolSize = opts?.poolSize ?? POOL_SIZE;
    this.#threshold = opts?.copyThreshold ?? COPY_THRESHOLD;
    // The first pool is small and each next one twice the last, up to the pool size: a connection
    // that only shakes hands, or sends little, holds 4 KiB, not 64 (issue 15: 1,000 idle tcp
    // pairs held 168 KB each, mostly untouched pool).
    this.#pool = allocBytes(Math.min(this.#poolSize, FIRST_POOL));
  }

  /** Bytes written since the last flush. */
  get pendingBytes(): number {
    return this.#bytes;
  }

  /** Appends a message (MORE on every frame but the last). Returns its encoded size. */
  writeMessage(frames: Uint8Array[]): number {
    const last = frames.length - 1;
    let total = 0;
    for (let i = 0; i <= last; i++) total += this.#writeFrame(i < last ? FLAG_MORE : 0, frames[i]);
    return total;
  }

  /** Appends one frame with explicit MORE. Returns its encoded size. */
  writeFrame(body: Uint8Array, more: boolean): number {
    return this.#writeFrame(more ? FLAG_MORE : 0, body);
  }

  /** Appends a command frame (see {@link encodeCommand}). Returns its encoded size. */
  writeCommand(name: string, data?: Uint8Array): number {
    checkCommandName(name);
    const dataLength = data === undefined ? 0 : data.length;
    const size = 1 + name.length + dataLength;
    const header = headerLength(size);
    const inline = dataLength > this.#threshold ? 0 : dataLength;
    this.#reserve(header + 1 + name.length + inline);
    const pool = this.#pool;
    let at = writeHeader(pool, this.#at, FLAG_COMMAND, size);
    pool[at++] = name.length;
    writeAscii(name, pool, at);
    at += name.length;
    if (data === undefined || inline === dataLength) {
      this.#at = data === undefined ? at : copyBody(pool, at, data);
    } else {
      this.#at = at;
      this.#reference(data);
    }
    this.#bytes += header + size;
    return header + size;
  }

  /** The chunks written since the last flush, in order; the encoder starts a new batch. */
  flush(): Uint8Array[] {
    this.#closeSegment();
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#bytes = 0;
    return chunks;
  }

  #writeFrame(flags: number, body: Uint8Array): number {
    const size = body.length;
    const header = headerLength(size);
    if (size > this.#threshold) {
      this.#reserve(header);
      this.#at = writeHeader(this.#pool, this.#at, flags, size);
      this.#reference(body);
    } else {
      this.#reserve(header + size);
      this.#at = copyBody(this.#pool, writeHeader(this.#pool, this.#at, flags, size), body);
    }
    this.#bytes += header + size;
    return header + size;
  }

  // Ends the pooled segment and queues `body` by reference after it.
  #reference(body: Uint8Array): void {
    this.#closeSegment();
    this.#chunks.push(body);
  }

  #closeSegment(): void {
    if (this.#at > this.#segment) {
      this.#chunks.push(this.#pool.subarray(this.#segment, this.#at));
      this.#segment = this.#at;
    }
  }

  // Makes room for `n` contiguous bytes, moving to a fresh pool when the current one is too full.
  #reserve(n: number): void {
    if (this.#pool.length - this.#at >= n) return;
    this.#closeSegment();
    this.#pool = allocBytes(Math.max(Math.min(this.#poolSize, this.#pool.length * 2), n));
    this.#at = 0;
    this.#segment = 0;
  }
}
