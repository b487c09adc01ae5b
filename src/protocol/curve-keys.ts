// CURVE key pairs for users (zeromq.js `curveKeyPair()`): synchronous, as zeromq.js's is. libsodium
// makes them once loaded; before that, a runtime may offer its own X25519 generator (Node's
// node:crypto, registered by the Node entry), so a program can make keys before any socket loads CURVE.

import { z85Encode } from '../core/z85.js';
import { ZmqError } from '../core/errors.js';
import { loadSodium, sodiumNow } from './sodium.js';

/** A key pair as raw bytes: 32-byte X25519 public and secret keys. */
export interface RawKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

let runtimeSource: (() => RawKeyPair) | undefined;

/** Lets a runtime supply X25519 key pairs before libsodium is loaded (the Node entry does). */
export function setKeyPairSource(source: () => RawKeyPair): void {
  runtimeSource = source;
}

/**
 * A new CURVE key pair as 40-character Z85 strings, as zeromq.js returns it. Works at once on Node;
 * elsewhere (a browser) after `await curveReady()`, else throws ENOTSUP saying so.
 *
 * ```ts
 * const server = curveKeyPair();
 * const pull = new Pull({ curveServer: true, curveSecretKey: server.secretKey });
 * ```
 */
export function curveKeyPair(): { publicKey: string; secretKey: string } {
  const sodium = sodiumNow();
  let pair: RawKeyPair;
  if (sodium !== undefined) {
    const kp = sodium.crypto_box_keypair();
    pair = { publicKey: kp.publicKey, secretKey: kp.privateKey };
  } else if (runtimeSource !== undefined) {
    pair = runtimeSource();
  } else {
    throw new ZmqError('ENOTSUP', 'curveKeyPair(): libsodium is not loaded yet in this runtime; call `await curveReady()` once first');
  }
  return { publicKey: z85Encode(pair.publicKey), secretKey: z85Encode(pair.secretKey) };
}

/** Loads CURVE's crypto (libsodium) now, instead of when the first CURVE connection needs it. */
export async function curveReady(): Promise<void> {
  await loadSodium();
}
