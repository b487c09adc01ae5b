// Frames and multipart messages: turning what users pass into the bytes we carry. Small frames are
// copied (as zeromq.js does), larger ones are carried by reference. Imports nothing from node:, so
// the same code runs in a browser (where Buffer does not exist).
// A Uint8Array's size is read as `length`, not `byteLength` (the same for bytes): on Node 20 a
// Buffer's `byteLength` costs about 14 ns more a read (bench/README, "byteLength").

import { describeValue, ZmqError } from './errors.js';

/**
 * What `send()` accepts for one frame: bytes, a string (sent as UTF-8), a number (sent as its
 * text), or null for an empty frame; zeromq.js's `MessageLike`. Booleans and objects that are not
 * bytes are sent as `String(value)` too, as zeromq.js does; undefined and nested arrays are refused.
 */
export type FrameInput = Uint8Array | ArrayBuffer | SharedArrayBuffer | ArrayBufferView | string | number | null;
/** One frame as zeromq.js names it (the same as {@link FrameInput}). */
export type MessageLike = FrameInput;
/** What `send()` accepts: one frame or the frames of one multipart message. */
export type MessageInput = FrameInput | readonly FrameInput[];
/** A frame as it travels: a Node Buffer where Buffer exists, else a plain Uint8Array. */
export type Frame = Uint8Array;
/** A message as it travels: its frames in order (never empty). */
export type Message = Frame[];

interface BufferStatics {
  from(data: ArrayBufferLike, offset: number, length: number): Uint8Array;
  from(data: string, encoding: 'utf8'): Uint8Array;
  alloc(size: number): Uint8Array;
  allocUnsafe(size: number): Uint8Array;
  isBuffer(x: unknown): boolean;
}

/**
 * Frames of up to this many bytes are always copied when sent, as zeromq.js does (it copies up to
 * 128 bytes into the message, libzmq's "very small message" size). A larger one is carried by
 * reference over inproc (zero copy: the receiver gets that very Buffer, so it must not be changed
 * after sending). Over tcp and ipc every frame is copied before `send()` returns, so the sender may
 * reuse any buffer at once (see {@link STREAM_COPY_LIMIT}).
 */
export const COPY_AT_SEND = 128;
/**
 * Who copies a frame that goes to a tcp or ipc stream. Over this size: the socket, at send (once,
 * however many streams it goes to). Up to this size: the stream engine, which encodes a message
 * with such a frame into its write buffer as soon as it is queued into an empty pipe, also while
 * the stream is blocked (the frame encoder copies bodies up to this size anyway); or, for a message
 * that waits in the pipe (before the connection is up, or behind others), the pipe (see
 * `Pipe.keepCopies`).
 */
export const STREAM_COPY_LIMIT = 2048;
const NodeBuffer: BufferStatics | undefined = (globalThis as { Buffer?: BufferStatics }).Buffer;
const encoder = new TextEncoder();
const EMPTY: Frame = NodeBuffer ? NodeBuffer.alloc(0) : new Uint8Array(0);
/** Absent in a browser page that is not cross-origin isolated. */
const SharedBuffer: (new (n: number) => SharedArrayBuffer) | undefined = (globalThis as { SharedArrayBuffer?: new (n: number) => SharedArrayBuffer }).SharedArrayBuffer;

function isArrayBuffer(x: unknown): x is ArrayBufferLike {
  return x instanceof ArrayBuffer || (SharedBuffer !== undefined && x instanceof SharedBuffer);
}

/**
 * One frame from user input, owned by the message: a Buffer, Uint8Array, other view, ArrayBuffer
 * or SharedArrayBuffer of up to {@link COPY_AT_SEND} bytes, or of more than `copyAbove` (a socket
 * with a tcp or ipc endpoint passes {@link STREAM_COPY_LIMIT}), is copied; one between is carried
 * by reference (a Buffer as the same object, zero copy over inproc; anything else as a Buffer over
 * the same memory); strings are UTF-8 (a new buffer anyway). Numbers, booleans and objects that
 * are not bytes are sent as their `String()`, as zeromq.js does (`16.19` sends "16.19").
 */
export function toFrame(input: FrameInput, copyAbove: number = Infinity): Frame {
  if (NodeBuffer !== undefined) {
    if (NodeBuffer.isBuffer(input)) return copies((input as Uint8Array).length, copyAbove) ? copyOf(input as Uint8Array) : (input as Uint8Array);
    if (typeof input === 'string') return NodeBuffer.from(input, 'utf8');
    if (input instanceof Uint8Array) return copies(input.length, copyAbove) ? copyOf(input) : NodeBuffer.from(input.buffer, input.byteOffset, input.byteLength);
    if (input === null) return EMPTY;
    if (isArrayBuffer(input)) return copies(input.byteLength, copyAbove) ? copyOf(new Uint8Array(input)) : NodeBuffer.from(input, 0, input.byteLength);
    if (ArrayBuffer.isView(input)) {
      const view = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
      return copies(view.length, copyAbove) ? copyOf(view) : NodeBuffer.from(input.buffer, input.byteOffset, input.byteLength);
    }
  } else {
    if (input instanceof Uint8Array) return copies(input.length, copyAbove) ? copyOf(input) : input;
    if (typeof input === 'string') return encoder.encode(input);
    if (input === null) return EMPTY;
    if (isArrayBuffer(input)) return copies(input.byteLength, copyAbove) ? copyOf(new Uint8Array(input)) : new Uint8Array(input);
    if (ArrayBuffer.isView(input)) {
      const view = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
      return copies(view.length, copyAbove) ? copyOf(view) : view;
    }
  }
  if (coercible(input)) return frameFromString(String(input));
  throw notSendable(input, undefined);
}

/** Whether send() copies a frame of `n` bytes (see toFrame). */
function copies(n: number, copyAbove: number): boolean {
  return n <= COPY_AT_SEND || n > copyAbove;
}

/**
 * What zeromq.js sends as its text (libzmq's `outgoing_msg.cc` coerces any other value to a
 * string). Not undefined (a missing frame, most likely a bug), a symbol (String() would name it,
 * zeromq.js throws) or an array (a frame nested in a message).
 */
function coercible(x: unknown): boolean {
  return x !== undefined && typeof x !== 'symbol' && !Array.isArray(x);
}

/** A copy of the bytes, as a Buffer where Buffer exists (from its pool when small: no allocation of its own). */
function copyOf(bytes: Uint8Array): Frame {
  const n = bytes.length;
  if (n === 0) return EMPTY;
  const out = NodeBuffer !== undefined ? NodeBuffer.allocUnsafe(n) : new Uint8Array(n);
  if (n < 32) for (let i = 0; i < n; i++) out[i] = bytes[i] as number;
  else out.set(bytes);
  return out;
}

/** A message from user input: one frame or an array of frames (an empty array is refused). */
export function toMessage(input: MessageInput, copyAbove: number = Infinity): Message {
  if (Array.isArray(input)) {
    const n = input.length;
    if (n === 0) throw new ZmqError('EINVAL', 'message has no frames: send at least one frame (an empty string or null makes an empty frame)');
    const out: Message = new Array(n);
    let i = 0;
    try {
      for (; i < n; i++) out[i] = toFrame(input[i] as FrameInput, copyAbove);
    } catch {
      throw notSendable(input[i], i, n); // the same error, naming the frame's place
    }
    return out;
  }
  return [toFrame(input as FrameInput, copyAbove)];
}

/**
 * Replaces each frame of `msg` of more than `above` and at most `upTo` bytes with a copy (the
 * frames send() left by reference that a stream may now write after the send resolved).
 */
export function copyLargeFrames(msg: Message, above: number, upTo: number): void {
  for (let i = 0; i < msg.length; i++) {
    const f = msg[i] as Frame;
    const n = f.length;
    if (n > above && n <= upTo) msg[i] = copyOf(f);
  }
}

/**
 * Whether `msg` has a frame that a socket with a tcp or ipc endpoint sent by reference (of more than
 * COPY_AT_SEND and at most STREAM_COPY_LIMIT bytes): the stream's engine or pipe must copy it.
 */
export function leftByReference(msg: Message | undefined): boolean {
  if (msg === undefined) return false;
  for (let i = 0; i < msg.length; i++) {
    const n = (msg[i] as Frame).length;
    if (n > COPY_AT_SEND && n <= STREAM_COPY_LIMIT) return true;
  }
  return false;
}

/** Replaces the frames of `msg` that {@link leftByReference} finds with copies. */
export function copyLeftByReference(msg: Message): void {
  copyLargeFrames(msg, COPY_AT_SEND, STREAM_COPY_LIMIT);
}

function notSendable(x: unknown, index: number | undefined, count?: number): ZmqError {
  const where = index === undefined ? 'message' : `frame ${index} of ${count}`;
  const nested = Array.isArray(x) ? ' (frames may not be nested)' : '';
  return new ZmqError('EINVAL', `${where} is ${describeValue(x)}${nested}, which is not sendable: a frame is bytes (Buffer, Uint8Array, ArrayBuffer, …), a string, a number, or null for an empty frame`);
}

/** An empty frame, shared (frames are never written to by the runtime). */
export function emptyFrame(): Frame {
  return EMPTY;
}

/** A frame from a string, as a Buffer in Node. */
export function frameFromString(s: string): Frame {
  return NodeBuffer ? NodeBuffer.from(s, 'utf8') : encoder.encode(s);
}

/** A Buffer (or Uint8Array in a browser) view over the given bytes, without copying. */
export function asFrame(bytes: Uint8Array): Frame {
  if (NodeBuffer === undefined || NodeBuffer.isBuffer(bytes)) return bytes;
  return NodeBuffer.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
}

/** Byte-wise equality of two frames. */
export function framesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Hex text of a frame, for routing-id keys and diagnostics. */
export function toHex(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n > 64) return longHex(bytes);
  let s = '';
  for (let i = 0; i < n; i++) s += HEX_PAIRS[bytes[i] as number] as string;
  return s;
}

/** Hex of many bytes: the digits written as bytes and decoded once (joining strings is quadratic-ish in V8 at MiB sizes). */
function longHex(bytes: Uint8Array): string {
  const n = bytes.length;
  const digits = new Uint8Array(2 * n);
  for (let i = 0; i < n; i++) {
    const b = bytes[i] as number;
    digits[2 * i] = HEX_DIGITS[b >> 4] as number;
    digits[2 * i + 1] = HEX_DIGITS[b & 15] as number;
  }
  return latin1.decode(digits);
}

/** `0`-`9`, `a`-`f` as character codes. */
const HEX_DIGITS = new Uint8Array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);
const latin1 = new TextDecoder('latin1');

/** `00` … `ff`, by byte. */
const HEX_PAIRS: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

function nibble(c: number): number {
  return c <= 57 ? c - 48 : (c | 0x20) - 87;
}

/** The bytes of hex text (as {@link toHex} writes it). */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1));
  return out;
}

/** The most bytes one `String.fromCharCode.apply` takes (well under any engine's argument limit). */
const KEY_SLICE = 8192;

/**
 * A string with one UTF-16 unit per byte (latin1): sorts as the bytes do, and keys a Map cheaply
 * (a routing id per message, a trie node).
 */
export function byteKey(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n > 32) {
    // In slices: one apply() over a peer's 200 KB topic would overflow the stack (issue 14).
    let s = '';
    for (let i = 0; i < n; i += KEY_SLICE) s += String.fromCharCode.apply(null, bytes.subarray(i, i + KEY_SLICE) as unknown as number[]);
    return s;
  }
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(bytes[i] as number);
  return s;
}

/**
 * The type of a received frame: Node's Buffer wherever Node's types are loaded (what zeromq.js users
 * get), a Uint8Array for a program compiled without them (a browser build without @types/node, where
 * frames are Uint8Arrays at run time too). Written without naming Buffer, so it compiles either way.
 */
export type ReceivedFrame = typeof globalThis extends { Buffer: { prototype: infer B } } ? B : Uint8Array;
