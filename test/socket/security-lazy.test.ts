// CURVE's crypto is loaded only when a socket uses CURVE: NULL traffic and key pairs on Node leave
// libsodium unloaded. (Each test file runs in its own module registry, so nothing loaded it before.)

import { describe, expect, it } from 'vitest';
import '../../src/transport/register-node.js';
import { curveKeyPair } from '../../src/protocol/curve-keys.js';
import { sodiumNow } from '../../src/protocol/sodium.js';
import { z85Decode } from '../../src/core/z85.js';
import { Context } from '../../src/socket/context.js';
import { Pull, Push } from '../../src/socket/push-pull.js';

describe('libsodium loads on first use of CURVE', () => {
  it('NULL over tcp and curveKeyPair() leave it unloaded; the first CURVE connection loads it', async () => {
    const context = new Context();
    const pull = new Pull({ context });
    const push = new Push({ context });
    await pull.bind('tcp://127.0.0.1:*');
    push.connect(pull.lastEndpoint!);
    await push.send('plain old NULL');
    await pull.receive();
    const pair = curveKeyPair(); // Node's X25519 until libsodium is there
    expect(z85Decode(pair.publicKey)).toHaveLength(32);
    expect(sodiumNow()).toBeUndefined();
    push.close();
    pull.close();

    const server = new Pull({ context, curveServer: true, curveSecretKey: pair.secretKey });
    const client = curveKeyPair();
    const sender = new Push({ context, curveServerKey: pair.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey });
    await server.bind('tcp://127.0.0.1:*');
    sender.connect(server.lastEndpoint!);
    await sender.send('sealed');
    expect((await server.receive()).toString()).toBe('sealed');
    expect(sodiumNow()).toBeDefined();
    // Keys from node:crypto and from libsodium are the same kind: this server's key pair came from the former.
    server.close();
    sender.close();
  });
});
