// Which mechanism a stream engine gets: built per connection from the socket's security options
// (src/core/security.ts) and whether the Context has a ZAP handler, with libzmq's rules for when ZAP
// is asked. CURVE waits for libsodium the first time; NULL and PLAIN are ready at once.

import { routingIdBytes } from '../core/options.js';
import { zapEnabled } from '../core/security.js';
import type { SecuritySettings } from '../core/security.js';
import { utf8 } from '../protocol/bytes.js';
import { CurveMechanism, loadSodium, NullMechanism, PlainMechanism, sodiumNow } from '../protocol/index.js';
import type { LocalSocket, Mechanism, Sodium } from '../protocol/index.js';
import type { PeerHost } from './host.js';

/**
 * A fresh mechanism for one connection of `host`, with the security settings `s` its bind or
 * connect started with. `zapBound`: a ZAP handler is bound in its Context.
 * libzmq asks ZAP for NULL only when the socket has a ZAP domain, and for PLAIN and CURVE servers
 * whenever a handler is bound (PROTOCOL.md §6, §10, §11).
 */
export function createMechanism(
  host: PeerHost,
  s: Readonly<SecuritySettings> | undefined,
  zapBound: boolean,
): Mechanism | Promise<Mechanism> {
  const local: LocalSocket = { socketType: host.type, identity: routingIdBytes(host.options.routingId) };
  if (s === undefined || s.mechanism === 'null') {
    return new NullMechanism({ ...local, zap: zapBound && zapEnabled(s) });
  }
  if (s.mechanism === 'plain') {
    return new PlainMechanism({
      ...local,
      asServer: s.asServer,
      username: utf8(s.plainUsername ?? ''),
      password: utf8(s.plainPassword ?? ''),
      zap: zapBound,
    });
  }
  const build = (sodium: Sodium): Mechanism => {
    // Bind/connect refused a CURVE socket without the keys its role needs (missingCredentials).
    const secretKey = s.curveSecretKey as Uint8Array;
    return new CurveMechanism({
      ...local,
      sodium,
      asServer: s.asServer,
      secretKey,
      publicKey: s.curvePublicKey ?? sodium.crypto_scalarmult_base(secretKey),
      ...(s.curveServerKey !== null ? { serverKey: s.curveServerKey } : {}),
      zap: zapBound,
    });
  };
  const sodium = sodiumNow();
  return sodium !== undefined ? build(sodium) : loadSodium().then(build);
}
