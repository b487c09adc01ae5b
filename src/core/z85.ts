// Z85 (ZeroMQ RFC 32): 4 bytes as 5 printable characters, the way ZeroMQ writes CURVE keys as text.
// Imports only the error class, so every layer (and a browser) can use it.

import { ZmqError } from './errors.js';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

/** Character code → digit value, or -1 for a character outside the alphabet. */
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DIGIT[ALPHABET.charCodeAt(i)] = i;

/**
 * Encodes bytes as Z85. The length must be a multiple of 4 (RFC 32 has no padding).
 *
 * ```ts
 * z85Encode(new Uint8Array([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b])) // 'HelloWorld'
 * ```
 */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) {
    throw new ZmqError('EINVAL', `Z85 encodes whole groups of 4 bytes; ${bytes.length} bytes is not a multiple of 4`);
  }
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let value = ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0;
    const group = new Array<string>(5);
    for (let j = 4; j >= 0; j--) {
      group[j] = ALPHABET[value % 85];
      value = Math.floor(value / 85);
    }
    out += group.join('');
  }
  return out;
}

/**
 * Decodes Z85 text. Throws EINVAL naming the problem for a length that is not a multiple of 5, a
 * character outside the alphabet, or a group worth more than 32 bits.
 */
export function z85Decode(text: string): Uint8Array {
  if (text.length % 5 !== 0) {
    throw new ZmqError('EINVAL', `Z85 text comes in groups of 5 characters; ${text.length} characters is not a multiple of 5`);
  }
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0;
    for (let j = 0; j < 5; j++) {
      const c = text.charCodeAt(i + j);
      const d = c < 128 ? DIGIT[c] : -1;
      if (d < 0) throw new ZmqError('EINVAL', `Z85 text has ${JSON.stringify(text[i + j])} at offset ${i + j}, which is not a Z85 character`);
      value = value * 85 + d;
    }
    if (value > 0xffffffff) {
      throw new ZmqError('EINVAL', `Z85 group ${JSON.stringify(text.slice(i, i + 5))} at offset ${i} is worth more than 32 bits`);
    }
    out[o] = value >>> 24;
    out[o + 1] = (value >>> 16) & 0xff;
    out[o + 2] = (value >>> 8) & 0xff;
    out[o + 3] = value & 0xff;
  }
  return out;
}

/**
 * A CURVE key as libzmq's key options take it: 32 bytes, or 40 Z85 characters (41 with a trailing
 * NUL, as C strings carry it). Returns the 32 bytes, a copy; throws EINVAL naming the option otherwise.
 */
export function curveKeyBytes(option: string, key: unknown): Uint8Array {
  if (typeof key === 'string') {
    const text = key.length === 41 && key.charCodeAt(40) === 0 ? key.slice(0, 40) : key;
    if (text.length !== 40) {
      throw new ZmqError('EINVAL', `option ${option}: a Z85 key has 40 characters; this one has ${key.length}`);
    }
    try {
      return z85Decode(text);
    } catch (e) {
      throw new ZmqError('EINVAL', `option ${option}: ${(e as Error).message}`);
    }
  }
  if (key instanceof Uint8Array) {
    if (key.length !== 32) throw new ZmqError('EINVAL', `option ${option}: a key in bytes has 32 of them; this one has ${key.length}`);
    return new Uint8Array(key);
  }
  throw new ZmqError('EINVAL', `option ${option}: a key is a 40-character Z85 string or 32 bytes, not ${key === null ? 'null' : typeof key}`);
}
