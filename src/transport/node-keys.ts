// X25519 key pairs from node:crypto, for curveKeyPair() before libsodium has loaded (register-node.ts
// hands this to it). Node-only.
//
// The keys come out encoded by the generation itself. Exporting them afterwards from the private
// KeyObject (`generateKeyPairSync('x25519').privateKey.export({ format: 'jwk' })`, as this did
// before) can deadlock Node 20 for good: the export holds the key's mutex while it allocates; a GC
// in that allocation frees the finished generation job, whose destructor waits for the same mutex
// (gdb: ExportJWKEdKey -> Heap::PerformGarbageCollection -> ~KeyGenJob -> pthread_mutex_lock). A
// loop of key pairs froze within 15,000; the README's Security block froze in about one full test
// run in twenty. Encoded during the generation, the key is exported while the job is still in use,
// so no GC can free it then.

import { generateKeyPairSync } from 'node:crypto';

/** `generateKeyPairSync` asked for JWK, which Node's types do not list for X25519 (DER took 3.5x as long). */
type JwkPairOf = (
  type: 'x25519',
  options: { publicKeyEncoding: { format: 'jwk' }; privateKeyEncoding: { format: 'jwk' } },
) => { publicKey: { x: string }; privateKey: { d: string } };

/** A fresh X25519 key pair, 32 raw bytes each. */
export function nodeKeyPair(): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const { publicKey, privateKey } = (generateKeyPairSync as unknown as JwkPairOf)('x25519', {
    publicKeyEncoding: { format: 'jwk' },
    privateKeyEncoding: { format: 'jwk' },
  });
  return { publicKey: Buffer.from(publicKey.x, 'base64url'), secretKey: Buffer.from(privateKey.d, 'base64url') };
}
