// The ZMTP 3.x greeting (RFC 23/37, 64 octets): encoding ours and incrementally decoding the peer's.
// Sans-IO: bytes in, a verdict out; never reads a stream, never throws on wire input.

import { ZmqError } from '../core/errors.js';
import { allocZeroed, latin1, writeAscii } from './bytes.js';
import { type Violation, violation } from './violation.js';

/** Length of a ZMTP 3.x greeting. */
export const GREETING_SIZE = 64;

/**
 * A security mechanism's name as the greeting carries it: the three ZMTP defines, or any other name a
 * plugged-in mechanism announces (RFC 23: 1..20 of `A-Z 0-9 - _ . +`).
 */
export type MechanismName = 'NULL' | 'PLAIN' | 'CURVE' | (string & {});

const MECHANISM_PATTERN = /^[A-Z0-9\-_.+]{1,20}$/;

/** The peer's greeting, decoded. */
export interface Greeting {
  /** Protocol major version (3 for ZMTP 3.x; RFC 37 accepts higher). */
  major: number;
  /** Protocol minor version: 0 for ZMTP 3.0, 1 for ZMTP 3.1. */
  minor: number;
  /** The 20-octet mechanism field up to its trailing NUL padding, one char per octet. */
  mechanism: string;
  /** The as-server octet. libzmq always sends 0 and never reads it (libzmq#3863): do not rely on it. */
  asServer: boolean;
}

/** Result of feeding bytes to a {@link GreetingDecoder}. */
export type GreetingResult =
  | { done: false }
  | { done: true; greeting: Greeting; rest: Uint8Array; error?: undefined }
  | { done: true; error: Violation; greeting?: undefined; rest?: undefined };

const MECHANISM_OFFSET = 12;
const MECHANISM_SIZE = 20;
const AS_SERVER_OFFSET = 32;
const NOT_DONE: GreetingResult = Object.freeze({ done: false }) as GreetingResult;

/**
 * Our 64-octet greeting, announcing ZMTP 3.1.
 *
 * Padding (octets 1..8) and filler are zero; octet 9 is 0x7F. `asServer` is written only for PLAIN and
 * CURVE: NULL requires 0 (RFC 23), so it is ignored there.
 */
export function encodeGreeting(mechanism: MechanismName, asServer: boolean): Uint8Array {
  if (!MECHANISM_PATTERN.test(mechanism)) {
    throw new ZmqError(
      'EINVAL',
      `mechanism name ${JSON.stringify(mechanism)} cannot go in a greeting: it takes 1..20 of A-Z 0-9 - _ . +`,
    );
  }
  const g = allocZeroed(GREETING_SIZE);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = 3;
  g[11] = 1;
  writeAscii(mechanism, g, MECHANISM_OFFSET);
  g[AS_SERVER_OFFSET] = asServer && mechanism !== 'NULL' ? 1 : 0;
  return g;
}

/**
 * Decodes the peer's greeting from chunks split anywhere.
 *
 * Legacy peers are refused as soon as the telling octet arrives (octet 0, 9 or 10), without waiting for
 * 64 octets: a ZMTP 1.0/2.0 peer may never send that many before hearing from us.
 *
 * ```ts
 * const d = new GreetingDecoder();
 * const r = d.push(chunk);
 * if (r.done && r.error) close(r.error);
 * else if (r.done) { checkMechanism('NULL', r.greeting); frames.push(r.rest, sink); }
 * ```
 */
export class GreetingDecoder {
  readonly #bytes = new Uint8Array(GREETING_SIZE);
  #have = 0;
  #result: Exclude<GreetingResult, { done: false }> | undefined;

  /** How many octets of the greeting have arrived (at most 64). */
  get received(): number {
    return this.#have;
  }

  /** Feeds the next chunk. Once done, the same verdict is returned (with the whole chunk as `rest`). */
  push(chunk: Uint8Array): GreetingResult {
    const settled = this.#result;
    if (settled !== undefined) {
      return settled.error !== undefined ? settled : { done: true, greeting: settled.greeting, rest: chunk };
    }
    const bytes = this.#bytes;
    let i = 0;
    while (i < chunk.length && this.#have < GREETING_SIZE) {
      const at = this.#have;
      const b = chunk[i++];
      bytes[at] = b;
      this.#have = at + 1;
      const legacy = legacyPeer(at, b);
      if (legacy !== undefined) return (this.#result = { done: true, error: legacy });
    }
    if (this.#have < GREETING_SIZE) return NOT_DONE;
    let end = MECHANISM_OFFSET + MECHANISM_SIZE;
    while (end > MECHANISM_OFFSET && bytes[end - 1] === 0) end--;
    const greeting: Greeting = {
      major: bytes[10],
      minor: bytes[11],
      mechanism: latin1(bytes, MECHANISM_OFFSET, end),
      asServer: bytes[AS_SERVER_OFFSET] !== 0,
    };
    const result = { done: true as const, greeting, rest: chunk.subarray(i) };
    this.#result = result;
    return result;
  }
}

// RFC 23/37 "Backwards Interoperability": the octet that reveals a ZMTP 1.0 or 2.0 peer.
function legacyPeer(offset: number, b: number): Violation | undefined {
  if (offset === 0 && b !== 0xff) {
    return violation(
      'ERR_ZMTP_UNSUPPORTED_VERSION',
      `greeting octet 0 is 0x${hex(b)}, not 0xFF: the peer speaks ZMTP 1.0 or another protocol; only ZMTP 3.x is supported`,
    );
  }
  if (offset === 9 && (b & 1) === 0) {
    return violation(
      'ERR_ZMTP_UNSUPPORTED_VERSION',
      `greeting octet 9 is 0x${hex(b)} with bit 0 clear: the peer speaks ZMTP 1.0; only ZMTP 3.x is supported`,
    );
  }
  if (offset === 10 && b < 3) {
    return violation(
      'ERR_ZMTP_UNSUPPORTED_VERSION',
      `greeting announces major version ${b}: the peer speaks ZMTP ${b === 0 ? '1.0' : '2.0'}; ` +
        'only ZMTP 3.x is supported',
    );
  }
  return undefined;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0').toUpperCase();
}

/**
 * Checks the peer's mechanism equals ours over all 20 octets (RFC 23; libzmq reports
 * `ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH`). Returns undefined when they match.
 */
export function checkMechanism(local: MechanismName, greeting: Greeting): Violation | undefined {
  if (greeting.mechanism === local) return undefined;
  return violation(
    'ERR_ZMTP_MECHANISM_MISMATCH',
    `peer announced mechanism ${JSON.stringify(greeting.mechanism)}, but this socket uses ${local}`,
  );
}

/**
 * True when the peer speaks ZMTP 3.1 or later (SUBSCRIBE/CANCEL and PING/PONG commands); false for 3.0,
 * whose subscriptions travel as 0x01/0x00-prefixed messages (libzmq `v2_encoder.cpp` vs `v3_1_encoder.cpp`).
 */
export function isZmtp31(greeting: Greeting): boolean {
  return greeting.major > 3 || greeting.minor >= 1;
}
