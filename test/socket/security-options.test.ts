// Security options between our own sockets: each setter with libzmq's side effects (options.cpp),
// the same through the constructor, EINVAL for bad values, CURVE keys checked at bind/connect, and
// PLAIN and CURVE handshakes over tcp and ipc, refused ones included.
//
//   client (Dealer / Push)                    server (Router / Pull)          Authenticator
//   greeting(mechanism) ───────────────────▶  greeting(mechanism)
//   HELLO / INITIATE (credentials) ────────▶  ZAP request ──────────────────▶ inproc://zeromq.zap.01
//   READY or ERROR ◀───────────────────────── ◀──────────────────────────── 200 / 400

import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import type { Socket as NetSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import '../../src/transport/register-node.js';
import type { ZmqError } from '../../src/core/errors.js';
import { z85Decode, z85Encode } from '../../src/core/z85.js';
import { curveKeyPair } from '../../src/protocol/curve-keys.js';
import { loadSodium } from '../../src/protocol/sodium.js';
import { Authenticator } from '../../src/socket/authenticator.js';
import { Context } from '../../src/socket/context.js';
import { Dealer, Router } from '../../src/socket/dealer-router.js';
import type { EventType, SocketEvent } from '../../src/socket/events.js';
import { Pair } from '../../src/socket/pair.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import type { Socket } from '../../src/socket/socket.js';
import { closeAfterEach, text } from '../helpers/sockets.js';

const track = closeAfterEach();
const dir = mkdtempSync(join(tmpdir(), 'monocoque-security-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// Loaded before the tests: the first CURVE connection would otherwise wait for it inside its handshake.
beforeAll(() => loadSodium());

const running: Authenticator[] = [];
const streams: NetSocket[] = [];
afterEach(async () => {
  for (const s of streams.splice(0)) s.destroy();
  for (const auth of running.splice(0)) await auth.stop();
});

let ipcCount = 0;
const transports = {
  tcp: () => 'tcp://127.0.0.1:*',
  ipc: () => `ipc://${join(dir, `s${ipcCount++}.ipc`)}`,
};

type Failure = SocketEvent & { error: ZmqError & { status?: number } };

/** The next event of `type` on the socket; listening starts now. */
function nextEvent(socket: Socket, type: EventType): Promise<Failure> {
  return new Promise((resolve) => {
    const on = (e: SocketEvent): void => {
      socket.events.off(type, on);
      resolve(e as Failure);
    };
    socket.events.on(type, on);
  });
}

/** Counts the socket's events of `type` from now on. */
function count(socket: Socket, type: EventType): { readonly n: number } {
  const c = { n: 0 };
  socket.events.on(type, () => c.n++);
  return c;
}

/** The EINVAL a call throws, or fails the test. */
function einval(call: () => unknown): ZmqError {
  try {
    call();
  } catch (e) {
    expect((e as ZmqError).code).toBe('EINVAL');
    return e as ZmqError;
  }
  throw new Error('expected EINVAL, nothing was thrown');
}

/**
 * A Context whose inspector can be waited on: `connectorDone(endpoint)` resolves once the connection
 * actor dialling `endpoint` reached its final state (`closed`: no timer is left, so no retry can come).
 */
function watchedContext() {
  const waiting: { pred: (e: InspectionEvent) => boolean; resolve: () => void }[] = [];
  const context = new Context({
    inspect: (e) => {
      for (let i = waiting.length - 1; i >= 0; i--) {
        if (waiting[i].pred(e)) waiting.splice(i, 1)[0].resolve();
      }
    },
  });
  const connectorDone = (endpoint: string): Promise<void> =>
    new Promise((resolve) =>
      waiting.push({
        pred: (e) => {
          if (e.type !== '@xstate.snapshot') return false;
          const snapshot = e.snapshot as { status?: string; context?: { role?: string; endpoint?: string } };
          return snapshot.status === 'done' && snapshot.context?.role === 'connect' && snapshot.context.endpoint === endpoint;
        },
        resolve,
      }),
    );
  return { context, connectorDone };
}

async function authenticator(context: Context, configure: (a: Authenticator) => void): Promise<Authenticator> {
  const auth = new Authenticator({ context });
  running.push(auth);
  configure(auth);
  await auth.start();
  return auth;
}

/** One message from the client to the server and an answer back, Dealer ↔ Router. */
async function roundTrip(server: Router, client: Dealer): Promise<void> {
  await client.send(['ask', 'more']);
  const [id, ...rest] = await server.receive();
  expect(text(rest)).toEqual(['ask', 'more']);
  await server.send([id, 'answer']);
  expect(text(await client.receive())).toEqual(['answer']);
}

/** Deterministic key bytes (a valid Z85 encoding exists for any 32 bytes). */
const bytes32 = (seed: number): Uint8Array => new Uint8Array(32).map((_, i) => (i * 29 + seed) & 0xff);

describe('security options: defaults and setters', () => {
  it('a new socket speaks NULL: every getter reads null or false', () => {
    const s = track(new Dealer({ context: new Context() }));
    expect(s.securityMechanism).toBe(null);
    expect([s.plainServer, s.curveServer]).toEqual([false, false]);
    expect([s.plainUsername, s.plainPassword, s.curvePublicKey, s.curveSecretKey, s.curveServerKey]).toEqual([null, null, null, null, null]);
    expect(s.zapDomain).toBe(null);
  });

  it('plainServer true makes a PLAIN server, false goes back to NULL', () => {
    const s = track(new Pull({ context: new Context() }));
    s.plainServer = true;
    expect([s.securityMechanism, s.plainServer, s.curveServer]).toEqual(['plain', true, false]);
    s.plainServer = false;
    expect([s.securityMechanism, s.plainServer]).toEqual([null, false]);
  });

  it('plainUsername makes a PLAIN client and clears an earlier plainServer; null or "" goes back to NULL', () => {
    const s = track(new Push({ context: new Context() }));
    s.plainServer = true;
    s.plainUsername = 'admin';
    expect([s.securityMechanism, s.plainServer, s.plainUsername]).toEqual(['plain', false, 'admin']);
    s.plainPassword = 'pw';
    expect([s.securityMechanism, s.plainPassword]).toEqual(['plain', 'pw']);
    // What the username reads after this is left open: libzmq keeps the old one, we forget it.
    s.plainUsername = null;
    expect(s.securityMechanism).toBe(null);
    s.plainUsername = 'admin';
    expect(s.securityMechanism).toBe('plain');
    s.plainUsername = '';
    expect(s.securityMechanism).toBe(null);
  });

  it('curveServerKey makes a CURVE client (clearing an earlier server role); curveServer true/false a CURVE server/NULL', () => {
    const s = track(new Dealer({ context: new Context() }));
    const key = z85Encode(bytes32(1));
    s.curveServer = true;
    expect([s.securityMechanism, s.curveServer, s.plainServer]).toEqual(['curve', true, false]);
    s.curveServerKey = key;
    expect([s.securityMechanism, s.curveServer, s.curveServerKey]).toEqual(['curve', false, key]);
    s.curveServer = true;
    expect([s.securityMechanism, s.curveServer]).toEqual(['curve', true]);
    s.curveServer = false;
    expect([s.securityMechanism, s.curveServer]).toEqual([null, false]);
  });

  it('a key is taken as 40 Z85 characters, 41 with a trailing NUL, or 32 bytes, and read back as Z85', () => {
    const s = track(new Dealer({ context: new Context() }));
    const [a, b, c] = [bytes32(3), bytes32(5), bytes32(7)];
    s.curvePublicKey = z85Encode(a);
    s.curveSecretKey = `${z85Encode(b)}\0`;
    s.curveServerKey = Buffer.from(c);
    expect(s.securityMechanism).toBe('curve');
    expect([s.curvePublicKey, s.curveSecretKey, s.curveServerKey]).toEqual([z85Encode(a), z85Encode(b), z85Encode(c)]);
    // The bytes are copied: changing the caller's array later changes nothing.
    const d = bytes32(9);
    s.curveServerKey = d;
    d.fill(0);
    expect(s.curveServerKey).toBe(z85Encode(bytes32(9)));
  });

  it('a CURVE public or secret key alone selects CURVE without choosing a role', () => {
    const s = track(new Push({ context: new Context() }));
    s.curvePublicKey = bytes32(1);
    expect([s.securityMechanism, s.curveServer]).toEqual(['curve', false]);
    const t = track(new Push({ context: new Context() }));
    t.curveSecretKey = bytes32(2);
    expect(t.securityMechanism).toBe('curve');
  });

  it('the constructor takes the same options, with the same effects', () => {
    const context = new Context();
    const keys = { curvePublicKey: z85Encode(bytes32(1)), curveSecretKey: bytes32(2), curveServerKey: `${z85Encode(bytes32(3))}\0` };
    const client = track(new Dealer({ context, ...keys, zapDomain: 'global' }));
    expect([client.securityMechanism, client.curveServer]).toEqual(['curve', false]);
    expect([client.curvePublicKey, client.curveSecretKey, client.curveServerKey]).toEqual([z85Encode(bytes32(1)), z85Encode(bytes32(2)), z85Encode(bytes32(3))]);
    expect(client.zapDomain).toBe('global');

    const plainServer = track(new Router({ context, plainServer: true }));
    expect([plainServer.securityMechanism, plainServer.plainServer]).toEqual(['plain', true]);
    const plainClient = track(new Push({ context, plainUsername: 'admin', plainPassword: 'pw' }));
    expect([plainClient.securityMechanism, plainClient.plainServer, plainClient.plainUsername, plainClient.plainPassword]).toEqual(['plain', false, 'admin', 'pw']);
    const curveServer = track(new Pull({ context, curveServer: true, curveSecretKey: bytes32(4) }));
    expect([curveServer.securityMechanism, curveServer.curveServer]).toEqual(['curve', true]);
    // Options apply in the order given, as a series of setsockopt calls would.
    const last = track(new Pull({ context, plainServer: true, plainUsername: 'u' }));
    expect([last.securityMechanism, last.plainServer]).toEqual(['plain', false]);
    expect(() => new Pull({ context, plainServer: 'yes' as never })).toThrow(/plainServer/);
  });
});

describe('security options: refused values', () => {
  it('EINVAL names the option and what is wrong with the value', () => {
    const s = track(new Dealer({ context: new Context() }));
    const notBool = einval(() => (s.plainServer = 'yes' as never));
    expect(notBool.message).toMatch(/plainServer.*"yes" is not a boolean/);
    expect(einval(() => (s.curveServer = 1 as never)).message).toMatch(/curveServer.*1 is not a boolean/);

    const long = einval(() => (s.plainUsername = 'u'.repeat(256)));
    expect(long.message).toMatch(/plainUsername.*256 bytes; the limit is 255/);

    const short = einval(() => (s.curveServerKey = z85Encode(bytes32(1)).slice(0, 39)));
    expect(short.message).toMatch(/curveServerKey.*40 characters.*39/);

    const badChar = einval(() => (s.curvePublicKey = `${z85Encode(bytes32(1)).slice(0, 39)}~`));
    expect(badChar.message).toMatch(/curvePublicKey.*not a Z85 character/);

    const fewBytes = einval(() => (s.curveServerKey = new Uint8Array(31)));
    expect(fewBytes.message).toMatch(/curveServerKey.*32.*31/);

    const numberPassword = einval(() => (s.plainPassword = 987654321 as never));
    expect(numberPassword.message).toMatch(/plainPassword.*not a string/);
    expect(numberPassword.message).not.toContain('987654321');

    const secret = 'p4ssw0rd-'.repeat(30); // 270 bytes
    const longPassword = einval(() => (s.plainPassword = secret));
    expect(longPassword.message).toMatch(/plainPassword.*270 bytes; the limit is 255/);
    expect(longPassword.message).not.toContain('p4ssw0rd');
  });

  it('the constructor refuses the same values with the same EINVAL', () => {
    const context = new Context();
    expect(einval(() => new Pull({ context, curveServerKey: new Uint8Array(31) })).message).toMatch(/curveServerKey.*31/);
    const e = einval(() => new Push({ context, plainUsername: 'u', plainPassword: 31337 as never }));
    expect(e.message).toMatch(/plainPassword/);
    expect(e.message).not.toContain('31337');
  });

  it('a refused value leaves the settings as they were', () => {
    const s = track(new Dealer({ context: new Context() }));
    s.plainUsername = 'admin';
    s.plainPassword = 'pw';
    einval(() => (s.plainServer = 'yes' as never));
    einval(() => (s.plainPassword = 42 as never));
    einval(() => (s.plainUsername = 'x'.repeat(256)));
    expect([s.securityMechanism, s.plainServer, s.plainUsername, s.plainPassword]).toEqual(['plain', false, 'admin', 'pw']);

    const key = z85Encode(bytes32(1));
    s.curveServerKey = key;
    s.curveServer = true; // a CURVE server now; a bad server key must not turn it into a client
    einval(() => (s.curveServerKey = 'short'));
    einval(() => (s.curveServerKey = new Uint8Array(31)));
    expect([s.securityMechanism, s.curveServer, s.curveServerKey]).toEqual(['curve', true, key]);
    s.curveServer = false;
    einval(() => (s.curveSecretKey = `${key.slice(0, 39)}~`));
    expect([s.securityMechanism, s.curveSecretKey]).toEqual([null, null]);
  });
});

describe('security options: bind and connect check the CURVE keys', () => {
  it('a CURVE server without curveSecretKey cannot bind over tcp: EINVAL naming it', async () => {
    const pull = track(new Pull({ context: new Context(), curveServer: true }));
    const refused = nextEvent(pull, 'bind:error');
    await expect(pull.bind('tcp://127.0.0.1:*')).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringMatching(/curveSecretKey/) });
    expect((await refused).error.code).toBe('EINVAL');
  });

  it('a CURVE client missing keys cannot connect over tcp: EINVAL names the missing ones', () => {
    const push = track(new Push({ context: new Context(), curveServerKey: bytes32(1) }));
    const e = einval(() => push.connect('tcp://127.0.0.1:5555'));
    expect(e.message).toMatch(/curvePublicKey and curveSecretKey are not set/);
    expect(e.message).not.toMatch(/curveServerKey .*not set/);
    push.curvePublicKey = bytes32(2);
    expect(einval(() => push.connect('tcp://127.0.0.1:5555')).message).toMatch(/curveSecretKey is not set/);
    const onlySecret = track(new Push({ context: new Context(), curveSecretKey: bytes32(3), curvePublicKey: bytes32(4) }));
    expect(einval(() => onlySecret.connect('tcp://127.0.0.1:5555')).message).toMatch(/curveServerKey is not set/);
  });

  it('a bind or connect keeps the settings it started with: a later change reaches only later endpoints', async () => {
    const context = new Context();
    const pair = curveKeyPair();
    const pull = track(new Pull({ context }));
    await pull.bind('tcp://127.0.0.1:*');
    const nullEndpoint = pull.lastEndpoint!;
    // Once crashed the accepting side: the new settings (a CURVE server without its key) were read per accept.
    pull.curveServer = true;
    const push = track(new Push({ context }));
    push.connect(nullEndpoint);
    await push.send('still NULL');
    expect(text(await pull.receive())).toEqual(['still NULL']);
    await expect(pull.bind('tcp://127.0.0.1:*')).rejects.toMatchObject({ code: 'EINVAL' });
    pull.curveSecretKey = pair.secretKey;
    await pull.bind('tcp://127.0.0.1:*');
    expect(pull.securityMechanism).toBe('curve');
    const client = curveKeyPair();
    const secure = track(new Push({ context, curveServerKey: pair.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey }));
    secure.connect(pull.lastEndpoint!);
    // The connected NULL client is not affected by its socket's later change either.
    push.curvePublicKey = client.publicKey;
    await secure.send('sealed');
    await push.send('NULL again');
    expect(new Set([text(await pull.receive())[0], text(await pull.receive())[0]])).toEqual(new Set(['sealed', 'NULL again']));
  });

  it('inproc ignores security, as libzmq does: mismatching sockets without keys still talk', async () => {
    const context = new Context();
    const server = track(new Pair({ context, curveServer: true }));
    await server.bind('inproc://insecure');
    const client = track(new Pair({ context, plainUsername: 'nobody' }));
    client.connect('inproc://insecure');
    await client.send('over inproc');
    expect(text(await server.receive())).toEqual(['over inproc']);
    await server.send('back');
    expect(text(await client.receive())).toEqual(['back']);
  });
});

for (const [kind, address] of Object.entries(transports)) {
  describe(`security handshakes between our sockets over ${kind}`, () => {
    it('PLAIN with an Authenticator: the user gets in, a message each way, its username as User-Id', async () => {
      const context = new Context();
      await authenticator(context, (a) => a.configurePlain({ admin: 'secret' }));
      const server = track(new Router({ context, plainServer: true }));
      await server.bind(address());
      const handshake = nextEvent(server, 'handshake');
      const client = track(new Dealer({ context, plainUsername: 'admin', plainPassword: 'secret' }));
      client.connect(server.lastEndpoint!);
      await roundTrip(server, client);
      expect((await handshake).peer?.userId).toBe('admin');
    });

    it('CURVE without an Authenticator: any client key, a message each way', async () => {
      const context = new Context();
      const serverKeys = curveKeyPair();
      const clientKeys = curveKeyPair();
      const server = track(new Router({ context, curveServer: true, curveSecretKey: serverKeys.secretKey }));
      await server.bind(address());
      const client = track(new Dealer({ context, curveServerKey: serverKeys.publicKey, curvePublicKey: clientKeys.publicKey, curveSecretKey: clientKeys.secretKey }));
      client.connect(server.lastEndpoint!);
      await roundTrip(server, client);
    });

    it('CURVE with an Authenticator: a known client key gets in, with its key as User-Id', async () => {
      const context = new Context();
      const serverKeys = curveKeyPair();
      const clientKeys = curveKeyPair();
      await authenticator(context, (a) => a.configureCurve([clientKeys.publicKey]));
      const server = track(new Router({ context, curveServer: true, curveSecretKey: serverKeys.secretKey }));
      await server.bind(address());
      const handshake = nextEvent(server, 'handshake');
      // Keys given as bytes on this side, as text on the other.
      const client = track(new Dealer({ context, curveServerKey: z85Decode(serverKeys.publicKey), curvePublicKey: z85Decode(clientKeys.publicKey), curveSecretKey: z85Decode(clientKeys.secretKey) }));
      client.connect(server.lastEndpoint!);
      await roundTrip(server, client);
      expect((await handshake).peer?.userId).toBe(clientKeys.publicKey);
    });

    it('a mechanism mismatch (NULL client, CURVE server): protocol error on both sides, the client stops', async () => {
      const { context, connectorDone } = watchedContext();
      const server = track(new Pull({ context, curveServer: true, curveSecretKey: curveKeyPair().secretKey }));
      await server.bind(address());
      const accepts = count(server, 'accept');
      const ours = nextEvent(server, 'handshake:error:protocol');
      const client = track(new Push({ context, reconnectInterval: 10 }));
      const retries = count(client, 'connect:retry');
      const theirs = nextEvent(client, 'handshake:error:protocol');
      const done = connectorDone(server.lastEndpoint!);
      client.connect(server.lastEndpoint!);
      expect((await ours).error.code).toBe('ERR_ZMTP_MECHANISM_MISMATCH');
      expect((await theirs).error.code).toBe('ERR_ZMTP_MECHANISM_MISMATCH');
      // The client's connection actor reached its final state: no timer is left that could retry.
      await done;
      expect([accepts.n, retries.n]).toEqual([1, 0]);
    });

    it('a wrong PLAIN password: both sides report an auth failure with status 400, and the client does not retry', async () => {
      const { context, connectorDone } = watchedContext();
      await authenticator(context, (a) => a.configurePlain({ admin: 'secret' }));
      const server = track(new Pull({ context, plainServer: true }));
      await server.bind(address());
      const accepts = count(server, 'accept');
      const ours = nextEvent(server, 'handshake:error:auth');
      const client = track(new Push({ context, plainUsername: 'admin', plainPassword: 'guessed', reconnectInterval: 10 }));
      const retries = count(client, 'connect:retry');
      const theirs = nextEvent(client, 'handshake:error:auth');
      const done = connectorDone(server.lastEndpoint!);
      client.connect(server.lastEndpoint!);
      const [o, t] = [await ours, await theirs];
      expect([o.error.status, t.error.status]).toEqual([400, 400]);
      expect(o.error.message + t.error.message).not.toContain('guessed');
      await done;
      expect([accepts.n, retries.n]).toEqual([1, 0]);
      expect(server.readable).toBe(false);
    });
  });
}

describe('security: a CURVE client that never says HELLO', () => {
  /** A CURVE greeting (ZMTP 3.1, RFC 37): signature, version 3.1, mechanism, as-server 0, filler. */
  const curveGreeting = (): Buffer => {
    const g = Buffer.alloc(64);
    g[0] = 0xff;
    g[9] = 0x7f;
    g[10] = 3;
    g[11] = 1;
    g.write('CURVE', 12, 'latin1');
    return g;
  };

  it('is dropped after handshakeInterval (ETIMEDOUT) while a well-behaved client goes on', async () => {
    const context = new Context();
    const serverKeys = curveKeyPair();
    const clientKeys = curveKeyPair();
    const server = track(new Pull({ context, curveServer: true, curveSecretKey: serverKeys.secretKey, handshakeInterval: 100 }));
    await server.bind('tcp://127.0.0.1:*');
    const port = Number(server.lastEndpoint!.split(':').pop());

    // The good client completes its handshake first, so the 100 ms limit cannot catch it on a slow machine.
    const handshake = nextEvent(server, 'handshake');
    const good = track(new Push({ context, curveServerKey: serverKeys.publicKey, curvePublicKey: clientKeys.publicKey, curveSecretKey: clientKeys.secretKey }));
    good.connect(server.lastEndpoint!);
    await handshake;

    const timedOut = nextEvent(server, 'handshake:error:other');
    const raw = netConnect(port, '127.0.0.1');
    streams.push(raw);
    raw.on('error', () => {});
    raw.resume(); // read (and drop) the server's greeting, so its close is seen
    const closed = new Promise<void>((r) => raw.once('close', () => r()));
    raw.write(curveGreeting());

    await good.send('while it hangs');
    expect(text(await server.receive())).toEqual(['while it hangs']);
    const e = await timedOut;
    expect(e.error.code).toBe('ETIMEDOUT');
    expect(e.error.message).toMatch(/handshakeInterval/);
    await closed;
    await good.send('after it was dropped');
    expect(text(await server.receive())).toEqual(['after it was dropped']);
  });
});
