// ZMTP 3.x frame decoder (RFC 23/37 "Framing"): chunks in, whole messages and commands out to a sink.
// Sans-IO and hot: frames that arrive whole are views of the chunk (see viewBytes); only a frame
// spanning chunks is copied. Wire errors come back as values, never as exceptions.

import { allocBytes, viewBytes } from './bytes.js';
import { type Violation, violation } from './violation.js';

/** Receives what the decoder finds, in wire order. */
export interface FrameSink {
  /** A whole message: every frame up to and including the first without MORE. */
  onMessage(frames: Uint8Array[]): void;
  /** A command frame: its name and the bytes after the name (a view). */
  onCommand(name: string, data: Uint8Array): void;
}

/** Options of a {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * `ZMQ_MAXMSGSIZE`: the largest frame body accepted, in bytes; -1 or undefined = unlimited. Like libzmq
   * (`v2_decoder.cpp`) it applies to each frame, commands included, and is checked on the header.
   */
  maxMessageSize?: number;
}

const FLAG_MORE = 0x01;
const FLAG_LONG = 0x02;
const FLAG_COMMAND = 0x04;

// Decoder states.
const HEADER = 0;
const BODY = 1;

// A spanning frame gets its buffer up front (its size has passed the checks) when it is small, or when at
// least half of it is already here and it is at most EAGER_LIMIT; any other is collected as chunk views and
// copied once when complete. Either way each octet is copied once, and what a connection holds is bounded
// by what its peer sent: a header alone, declaring a frame it never sends, costs at most EAGER_FLOOR
// (issue 14: 1,000 peers each sending a greeting and a 1 MiB header held 1 GiB).
const EAGER_LIMIT = 1 << 20;
const EAGER_FLOOR = 8 * 1024;

const TWO_POW_32 = 4294967296;
// 2^53 - 1 = 0x1F_FFFF_FFFF_FFFF: the high 32-bit word of a safe 64-bit size is at most 0x1FFFFF.
const MAX_SAFE_HIGH_WORD = 0x1fffff;

// Names of the commands ZMTP defines, matched by bytes so that steady-state commands (CURVE MESSAGE,
// PING, SUBSCRIBE) do not build a string each time.
const KNOWN_NAMES = [
  'READY', 'ERROR', 'HELLO', 'WELCOME', 'INITIATE', 'MESSAGE',
  'PING', 'PONG', 'SUBSCRIBE', 'CANCEL', 'JOIN', 'LEAVE',
];

/**
 * Incremental ZMTP 3.x frame decoder.
 *
 * Accepts LONG sizes for small bodies and ignores reserved flag bits and MORE on commands, as libzmq
 * does. A command arriving between the frames of a message is delivered at once and does not break the
 * message. The decoder keeps references to the chunks it was given (views it hands out, pieces of a large
 * frame in progress): do not reuse a chunk's memory after pushing it.
 *
 * ```ts
 * const decoder = new FrameDecoder({ maxMessageSize: 1 << 20 });
 * socket.on('data', (chunk) => {
 *   const v = decoder.push(chunk, sink);
 *   if (v !== undefined) fail(v);
 * });
 * ```
 */
export class FrameDecoder {
  readonly #max: number;
  #state = HEADER;
  // Header collected across chunks: flags octet then 1 or 8 size octets.
  readonly #header = new Uint8Array(9);
  #headerHave = 0;
  #flags = 0;
  // Body of a frame spanning chunks: its size, bytes collected so far, and either a buffer or views.
  #size = 0;
  #have = 0;
  #buffer: Uint8Array | undefined;
  #pieces: Uint8Array[] | undefined;
  // Frames of the message in progress (all had MORE); undefined between messages.
  #frames: Uint8Array[] | undefined;
  #failure: Violation | undefined;
  #stopped = false;

  constructor(opts?: FrameDecoderOptions) {
    const max = opts?.maxMessageSize;
    this.#max = max === undefined || max < 0 ? -1 : max;
  }

  /** True while frames of a multipart message have been read and its last frame has not. */
  get holdsFrames(): boolean {
    return this.#frames !== undefined;
  }

  /** True while part of a message (or of a frame) has been read but not yet delivered. */
  get inMessage(): boolean {
    return this.#frames !== undefined || this.#state !== HEADER || this.#headerHave > 0;
  }

  /**
   * Decodes `chunk`, calling `sink` for each whole message and command. Returns a violation when the
   * stream is malformed; the decoder then stays failed and returns the same violation for later chunks.
   */
  push(chunk: Uint8Array, sink: FrameSink): Violation | undefined {
    if (this.#failure !== undefined) return this.#failure;
    const len = chunk.length;
    let pos = 0;
    // Read once, on the first whole frame: views are cut from these (see viewBytes).
    let memory: ArrayBufferLike | undefined;
    let base = 0;
    while (pos < len && !this.#stopped) {
      if (this.#state === BODY) {
        pos = this.#continueBody(chunk, pos, sink);
        if (this.#failure !== undefined) return this.#failure;
        continue;
      }
      let flags: number;
      let size: number;
      if (this.#headerHave === 0 && len - pos >= 2 && ((flags = chunk[pos]) & FLAG_LONG) === 0) {
        // Fast path: short header wholly in this chunk.
        size = chunk[pos + 1];
        pos += 2;
      } else if (this.#headerHave === 0 && len - pos >= 9) {
        // Fast path: long header wholly in this chunk.
        flags = chunk[pos];
        const high = readUint32(chunk, pos + 1);
        const low = readUint32(chunk, pos + 5);
        pos += 9;
        if (high > MAX_SAFE_HIGH_WORD) return this.#fail(tooLong(high, low));
        size = high * TWO_POW_32 + low;
      } else {
        // Slow path: the header spans chunks; gather it octet by octet.
        const header = this.#header;
        header[this.#headerHave++] = chunk[pos++];
        const need = (header[0] & FLAG_LONG) === 0 ? 2 : 9;
        while (this.#headerHave < need && pos < len) header[this.#headerHave++] = chunk[pos++];
        if (this.#headerHave < need) break;
        this.#headerHave = 0;
        flags = header[0];
        if (need === 2) {
          size = header[1];
        } else {
          const high = readUint32(header, 1);
          const low = readUint32(header, 5);
          if (high > MAX_SAFE_HIGH_WORD) return this.#fail(tooLong(high, low));
          size = high * TWO_POW_32 + low;
        }
      }
      if (this.#max >= 0 && size > this.#max) {
        return this.#fail(
          violation('EMSGSIZE', `peer announced a frame of ${size} bytes; maxMessageSize is ${this.#max}`),
        );
      }
      if (len - pos >= size) {
        // The body is here: hand out a view.
        if (memory === undefined) {
          memory = chunk.buffer;
          base = chunk.byteOffset;
        }
        const body = viewBytes(memory, base + pos, size);
        pos += size;
        if (this.#deliver(flags, body, sink) !== undefined) return this.#failure;
      } else {
        this.#flags = flags;
        this.#size = size;
        this.#have = 0;
        this.#state = BODY;
        if (size <= EAGER_FLOOR || (size <= EAGER_LIMIT && size <= 2 * (len - pos))) this.#buffer = allocBytes(size);
        else this.#pieces = [];
      }
    }
    return undefined;
  }

  /**
   * Discards the partial message and any partial frame, and clears a failure or a stop: the decoder is
   * as new. Use when the stream behind it is gone (libzmq rolls back a half-received message); from
   * inside a sink callback use `stop()` instead.
   */
  reset(): void {
    this.#state = HEADER;
    this.#headerHave = 0;
    this.#buffer = undefined;
    this.#pieces = undefined;
    this.#frames = undefined;
    this.#failure = undefined;
    this.#stopped = false;
  }

  /**
   * Stops decoding: the current `push` returns after the frame being delivered, and later pushes are
   * ignored until `reset()`. Call it from the sink when the connection is being closed.
   */
  stop(): void {
    this.#stopped = true;
  }

  // Copies body bytes of a frame spanning chunks; delivers it once complete. Returns the new position.
  #continueBody(chunk: Uint8Array, pos: number, sink: FrameSink): number {
    const take = Math.min(this.#size - this.#have, chunk.length - pos);
    const buffer = this.#buffer;
    if (buffer !== undefined) buffer.set(chunk.subarray(pos, pos + take), this.#have);
    else this.#pieces!.push(chunk.subarray(pos, pos + take));
    this.#have += take;
    pos += take;
    if (this.#have < this.#size) return pos;
    let body: Uint8Array;
    if (buffer !== undefined) {
      body = buffer;
      this.#buffer = undefined;
    } else {
      const pieces = this.#pieces!;
      this.#pieces = undefined;
      try {
        body = allocBytes(this.#size);
      } catch {
        // A size the platform cannot allocate (typed arrays are capped below 2^53).
        this.#fail(violation('EMSGSIZE', `peer sent a frame of ${this.#size} bytes, more than can be allocated`));
        return pos;
      }
      let at = 0;
      for (let i = 0; i < pieces.length; i++) {
        body.set(pieces[i], at);
        at += pieces[i].length;
      }
    }
    this.#state = HEADER;
    this.#deliver(this.#flags, body, sink);
    return pos;
  }

  // Hands one complete frame to the sink. State is settled before the sink runs, so the sink may call
  // reset() or stop(). Returns the failure, if any.
  #deliver(flags: number, body: Uint8Array, sink: FrameSink): Violation | undefined {
    if ((flags & FLAG_COMMAND) !== 0) {
      // RFC 37: command body = name-len (1..255) name data.
      const nameLength = body.length > 0 ? body[0] : 0;
      if (nameLength === 0x5e && isLibzmqError(body)) {
        sink.onCommand('ERROR', body.subarray(5));
        return undefined;
      }
      if (nameLength === 0 || nameLength > body.length - 1) {
        return this.#fail(
          violation(
            'ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED',
            body.length === 0
              ? 'peer sent an empty command frame; a command starts with a name of 1..255 octets'
              : `peer sent a command whose name length is ${nameLength} in a body of ${body.length} octets; ` +
                  'the name must have 1..255 octets and fit in the body',
          ),
        );
      }
      sink.onCommand(commandName(body, nameLength), body.subarray(1 + nameLength));
      return undefined;
    }
    if ((flags & FLAG_MORE) !== 0) {
      const frames = this.#frames;
      if (frames === undefined) this.#frames = [body];
      else frames.push(body);
      return undefined;
    }
    const frames = this.#frames;
    if (frames === undefined) {
      sink.onMessage([body]);
    } else {
      this.#frames = undefined;
      frames.push(body);
      sink.onMessage(frames);
    }
    return undefined;
  }

  #fail(v: Violation): Violation {
    this.#failure = v;
    this.#buffer = undefined;
    this.#pieces = undefined;
    this.#frames = undefined;
    return v;
  }
}

function readUint32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

function tooLong(high: number, low: number): Violation {
  const size = (BigInt(high) << 32n) | BigInt(low);
  return violation(
    'EMSGSIZE',
    `peer announced a frame of ${size} bytes; sizes above 2^53-1 (${Number.MAX_SAFE_INTEGER}) are refused`,
  );
}

// Command name: a known ZMTP name without allocating, else the octets as latin1.
/**
 * libzmq 4.3's PLAIN ERROR: `5e 'RROR'` in place of `05 'ERROR'` (see `libzmqPlainErrorCommand`).
 * A real name of 94 octets starting "RROR" would be no ZMTP command either, so reading it as ERROR
 * takes nothing from a correct peer.
 */
function isLibzmqError(body: Uint8Array): boolean {
  return body.length >= 5 && body[1] === 0x52 && body[2] === 0x52 && body[3] === 0x4f && body[4] === 0x52;
}

function commandName(body: Uint8Array, nameLength: number): string {
  outer: for (let k = 0; k < KNOWN_NAMES.length; k++) {
    const known = KNOWN_NAMES[k];
    if (known.length !== nameLength) continue;
    for (let i = 0; i < nameLength; i++) {
      if (body[1 + i] !== known.charCodeAt(i)) continue outer;
    }
    return known;
  }
  let s = '';
  for (let i = 1; i <= nameLength; i++) s += String.fromCharCode(body[i]);
  return s;
}
