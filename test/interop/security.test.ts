// PLAIN, CURVE and ZAP against real libzmq (the zeromq package): ours as client and as server, over
// tcp and ipc, success and each failure the security issue names. A ZAP handler serves only the
// servers of its own Context, so ZAP runs with our server (handler: our sockets) and with libzmq's
// server (handler: a libzmq socket in zeromq.js's context).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import '../../src/transport/register-node.js';
import type { ZmqError } from '../../src/core/errors.js';
import { curveKeyPair } from '../../src/protocol/curve-keys.js';
import { z85Decode } from '../../src/core/z85.js';
import { loadSodium } from '../../src/protocol/sodium.js';
import { Context } from '../../src/socket/context.js';
import { Authenticator } from '../../src/socket/authenticator.js';
import { Dealer, Router } from '../../src/socket/dealer-router.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import type { Socket } from '../../src/socket/socket.js';
import type { SocketEvent } from '../../src/socket/events.js';
import { countEvents, reconnectIntervals } from '../transport/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'monocoque-security-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => loadSodium());

const open: { close(): void }[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});
const keep = <T extends { close(): void }>(s: T): T => (open.push(s), s);

let ipcCount = 0;
const transports = {
  tcp: () => 'tcp://127.0.0.1:*',
  ipc: () => `ipc://${join(dir, `s${ipcCount++}.ipc`)}`,
};

type AnySocket = Socket | zmq.Socket;

/** The first event of `type` the socket reports. */
function nextEvent(s: AnySocket, type: string): Promise<SocketEvent & { error?: ZmqError & { status?: number } }> {
  return new Promise((resolve) => {
    const events = s.events as unknown as { on(t: string, f: (e: SocketEvent) => void): void; off?(t: string, f: (e: SocketEvent) => void): void };
    const f = (e: SocketEvent): void => {
      events.off?.(type, f);
      resolve(e as never);
    };
    events.on(type, f);
  });
}

type Verdict = (request: string[]) => string[];

/** A ROUTER of either library: bind, read requests, send replies. */
interface ZapRouter {
  bind(address: string): Promise<void>;
  send(message: (Buffer | string)[]): Promise<void>;
  close(): void;
  [Symbol.asyncIterator](): AsyncIterator<Buffer[]>;
}

/** Serves ZAP on `router`: `verdict` gets the request frames as text (after the delimiter). */
async function serveZap(router: ZapRouter, verdict: Verdict): Promise<{ requests: string[][] }> {
  keep(router);
  // libzmq frees a closed socket's inproc name later, on its reaper thread: the handler the last
  // test closed may still hold it (zeromq.js's global context is one for the whole file).
  for (let tries = 0; ; tries++) {
    try {
      await router.bind('inproc://zeromq.zap.01');
      break;
    } catch (e) {
      if ((e as { code?: string }).code !== 'EADDRINUSE' || tries >= 400) throw e;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  const requests: string[][] = [];
  void (async () => {
    for await (const [id, , ...rest] of router as AsyncIterable<Buffer[]>) {
      const request = rest.map((f) => f.toString());
      requests.push(request);
      await router.send([id, '', ...verdict(request)]);
    }
  })().catch(() => {});
  return { requests };
}

/** A ZAP handler on our Router in `context` (for our servers). */
const ourZapHandler = (context: Context, verdict: Verdict) => serveZap(new Router({ context, linger: 0 }), verdict);
/** The same on a libzmq Router, for libzmq servers (zeromq.js's global context). */
const libzmqZapHandler = (verdict: Verdict) => serveZap(new zmq.Router({ linger: 0 }) as unknown as ZapRouter, verdict);

/** Accepts `user`/`pass` (PLAIN), anyone else gets 400; userId is the username. */
const plainVerdict: Verdict = ([version, id, , , , mechanism, user, pass]) =>
  mechanism === 'PLAIN' && user === 'admin' && pass === 'secret'
    ? [version, id, '200', 'OK', user, '']
    : [version, id, '400', 'Bad credentials', '', ''];

for (const [kind, address] of Object.entries(transports)) {
  describe(`PLAIN over ${kind}, against libzmq`, () => {
    it('ours as server (our ZAP handler) takes a libzmq client: the message arrives, the handler saw the credentials', async () => {
      const context = new Context();
      const zap = await ourZapHandler(context, plainVerdict);
      const pull = keep(new Pull({ context, plainServer: true, zapDomain: 'global' }));
      await pull.bind(address());
      const handshake = nextEvent(pull, 'handshake');
      const push = keep(new zmq.Push({ plainUsername: 'admin', plainPassword: 'secret', linger: 0 }));
      push.connect(pull.lastEndpoint!);
      await push.send('hello');
      expect((await pull.receive()).map(String)).toEqual(['hello']);
      expect((await handshake).peer?.userId).toBe('admin');
      const [version, , domain, peerAddress, identity, mechanism, ...credentials] = zap.requests[0];
      expect([version, domain, identity, mechanism, credentials]).toEqual(['1.0', 'global', '', 'PLAIN', ['admin', 'secret']]);
      expect(peerAddress).toBe(kind === 'tcp' ? '127.0.0.1' : '');
    });

    it('ours as server refuses a wrong password: both sides report an auth failure with status 400', async () => {
      const context = new Context();
      await ourZapHandler(context, plainVerdict);
      const pull = keep(new Pull({ context, plainServer: true }));
      await pull.bind(address());
      const ours = nextEvent(pull, 'handshake:error:auth');
      const push = keep(new zmq.Push({ plainUsername: 'admin', plainPassword: 'wrong', linger: 0 }));
      const theirs = nextEvent(push, 'handshake:error:auth');
      push.connect(pull.lastEndpoint!);
      expect((await ours).error?.status).toBe(400);
      expect((await theirs).error?.status).toBe(400);
      expect(pull.readable).toBe(false);
    });

    it('ours as server without a ZAP handler refuses PLAIN, as libzmq does', async () => {
      const pull = keep(new Pull({ context: new Context(), plainServer: true }));
      await pull.bind(address());
      const failed = nextEvent(pull, 'handshake:error:other');
      const push = keep(new zmq.Push({ plainUsername: 'admin', plainPassword: 'secret', linger: 0 }));
      push.connect(pull.lastEndpoint!);
      expect((await failed).error?.code).toBe('ERR_ZAP_NO_HANDLER');
    });

    it('ours as client reaches a libzmq PLAIN server judged by a libzmq ZAP handler', async () => {
      const zap = await libzmqZapHandler(plainVerdict);
      const pull = keep(new zmq.Pull({ plainServer: true, linger: 0 }));
      await pull.bind(address());
      const push = keep(new Push({ context: new Context(), plainUsername: 'admin', plainPassword: 'secret', linger: 0 }));
      expect(push.securityMechanism).toBe('plain');
      push.connect(pull.lastEndpoint!);
      await push.send(['a', 'b']);
      expect((await pull.receive()).map(String)).toEqual(['a', 'b']);
      expect(zap.requests[0].slice(5)).toEqual(['PLAIN', 'admin', 'secret']);
    });

    it('a ZAP handler\'s 300 (try later): our server reports it and holds the connection silent, so a libzmq client does not ask again at once', async () => {
      // libzmq's server does the same (zap_client.cpp: a 300 goes to error_sent, no ERROR, no
      // close), though not always: under load it was seen to close after the 300 about once in
      // twenty runs, and its client then asked again. So ours is checked alone here.
      const later: Verdict = ([version, id]) => [version, id, '300', 'Try later', '', ''];
      const context = new Context();
      const zap = await ourZapHandler(context, later);
      // No handshake deadline: the refused connection stays until the client goes.
      const pull = keep(new Pull({ context, plainServer: true, handshakeInterval: 0, linger: 0 }));
      await pull.bind(address());
      const refused = nextEvent(pull, 'handshake:error:auth');
      const push = keep(new zmq.Push({ plainUsername: 'admin', plainPassword: 'secret', reconnectInterval: 10, linger: 0 }));
      push.connect(pull.lastEndpoint!);
      expect((await refused).error?.status).toBe(300);
      // Had the server closed, the client would be back within 10 to 20 ms and ask again: a
      // sentinel retrying at that interval counts ten.
      await reconnectIntervals(10, 10);
      expect(zap.requests.length).toBe(1);
    });

    it('ours as client, refused by libzmq (400): auth failure with status 400, and no reconnect', async () => {
      const zap = await libzmqZapHandler(plainVerdict);
      const pull = keep(new zmq.Pull({ plainServer: true, linger: 0 }));
      await pull.bind(address());
      const push = keep(new Push({ context: new Context(), plainUsername: 'admin', plainPassword: 'nope', reconnectInterval: 10, linger: 0 }));
      const failed = nextEvent(push, 'handshake:error:auth');
      const retries = countEvents(push, 'connect:retry');
      push.connect(pull.lastEndpoint!);
      const e = await failed;
      expect(e.error?.status).toBe(400);
      expect(e.error?.message).not.toContain('nope');
      // A refused client stops: while a sentinel with the same interval retries ten times, ours
      // schedules no attempt, and no second request reaches the handler.
      await reconnectIntervals(10, 10);
      expect(retries.n).toBe(0);
      expect(zap.requests.length).toBe(1);
    });

    it('a ZAP reply with a bad version or the wrong shape is a ZAP protocol error at our server', async () => {
      for (const [verdict, code] of [
        [([, id]: string[]) => ['9.9', id, '200', 'OK', '', ''], 'ERR_ZAP_BAD_VERSION'],
        [() => ['1.0'], 'ERR_ZAP_MALFORMED_REPLY'],
        [([version, id]: string[]) => [version, id, '201', 'OK', '', ''], 'ERR_ZAP_INVALID_STATUS_CODE'],
      ] as const) {
        const context = new Context();
        await ourZapHandler(context, verdict as Verdict);
        const pull = keep(new Pull({ context, plainServer: true }));
        await pull.bind(address());
        const failed = nextEvent(pull, 'handshake:error:protocol');
        const push = keep(new zmq.Push({ plainUsername: 'admin', plainPassword: 'secret', linger: 0 }));
        push.connect(pull.lastEndpoint!);
        expect((await failed).error?.code).toBe(code);
      }
    });

    it('a mechanism mismatch (our PLAIN server, a libzmq CURVE client) fails on both sides', async () => {
      const pull = keep(new Pull({ context: new Context(), plainServer: true }));
      await pull.bind(address());
      const ours = nextEvent(pull, 'handshake:error:protocol');
      const server = curveKeyPair();
      const client = curveKeyPair();
      const push = keep(new zmq.Push({ curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey, linger: 0 }));
      const theirs = nextEvent(push, 'handshake:error:protocol');
      push.connect(pull.lastEndpoint!);
      expect((await ours).error?.code).toBe('ERR_ZMTP_MECHANISM_MISMATCH');
      expect((await theirs).error?.code).toBe('ERR_ZMTP_MECHANISM_MISMATCH');
    });
  });

  describe(`NULL with a ZAP domain over ${kind}`, () => {
    it('our server asks the handler (mechanism NULL, no credentials) and follows its verdict', async () => {
      const context = new Context();
      const zap = await ourZapHandler(context, ([version, id, domain]) =>
        domain === 'open' ? [version, id, '200', 'OK', 'anon', ''] : [version, id, '400', 'closed', '', '']);
      const open = keep(new Pull({ context, zapDomain: 'open' }));
      await open.bind(address());
      const push = keep(new zmq.Push({ linger: 0 }));
      push.connect(open.lastEndpoint!);
      await push.send('in');
      expect((await open.receive()).map(String)).toEqual(['in']);
      expect(zap.requests[0].slice(5)).toEqual(['NULL']);

      const closed = keep(new Pull({ context, zapDomain: 'closed' }));
      await closed.bind(address());
      const refused = nextEvent(closed, 'handshake:error:auth');
      const other = keep(new zmq.Push({ linger: 0 }));
      other.connect(closed.lastEndpoint!);
      expect((await refused).error?.status).toBe(400);
    });
  });
}

for (const [kind, address] of Object.entries(transports)) {
  describe(`CURVE over ${kind}, against libzmq`, () => {
    const server = curveKeyPair();
    const client = curveKeyPair();
    const clientKeys = { curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey };

    it('ours as server (no ZAP handler: any key) with a libzmq client: requests and replies, multipart, both ways', async () => {
      const router = keep(new Router({ context: new Context(), curveServer: true, curveSecretKey: server.secretKey, linger: 0 }));
      expect(router.securityMechanism).toBe('curve');
      await router.bind(address());
      const dealer = keep(new zmq.Dealer({ ...clientKeys, linger: 0 }));
      dealer.connect(router.lastEndpoint!);
      await dealer.send(['ask', Buffer.alloc(1024, 7)]);
      const [id, ask, big] = await router.receive();
      expect([ask.toString(), big.equals(Buffer.alloc(1024, 7))]).toEqual(['ask', true]);
      await router.send([id, 'answer', 'two']);
      expect((await dealer.receive()).map(String)).toEqual(['answer', 'two']);
    });

    it('ours as client with a libzmq server: requests and replies both ways, the secret never on the wire', async () => {
      const router = keep(new zmq.Router({ curveServer: true, curveSecretKey: server.secretKey, linger: 0 }));
      await router.bind(address());
      const dealer = keep(new Dealer({ context: new Context(), ...clientKeys, linger: 0 }));
      dealer.connect(router.lastEndpoint!);
      await dealer.send(['ask', 'more']);
      const [id, ...rest] = await router.receive();
      expect(rest.map(String)).toEqual(['ask', 'more']);
      await router.send([id, 'answer']);
      expect((await dealer.receive()).map(String)).toEqual(['answer']);
    });

    it('ours as client with a wrong server key: libzmq finds the HELLO box does not open; nothing is delivered', async () => {
      const pull = keep(new zmq.Pull({ curveServer: true, curveSecretKey: server.secretKey, linger: 0 }));
      await pull.bind(address());
      const theirs = nextEvent(pull, 'handshake:error:protocol');
      const other = curveKeyPair();
      const push = keep(new Push({ context: new Context(), ...clientKeys, curveServerKey: other.publicKey, linger: 0 }));
      push.connect(pull.lastEndpoint!);
      expect((await theirs).error?.code).toBe('ERR_ZMTP_CRYPTOGRAPHIC');
      await push.send('must not arrive');
      pull.receiveTimeout = 50;
      await expect(pull.receive()).rejects.toMatchObject({ code: 'EAGAIN' });
    });

    it('a libzmq client with a wrong server key fails at our server (box does not open) before any message', async () => {
      const pull = keep(new Pull({ context: new Context(), curveServer: true, curveSecretKey: server.secretKey }));
      await pull.bind(address());
      const ours = nextEvent(pull, 'handshake:error:protocol');
      const push = keep(new zmq.Push({ ...clientKeys, curveServerKey: curveKeyPair().publicKey, linger: 0 }));
      push.connect(pull.lastEndpoint!);
      expect((await ours).error?.code).toBe('ERR_ZMTP_CRYPTOGRAPHIC');
      expect(pull.readable).toBe(false);
    });

    it('libzmq\'s ZAP refusing our client (400) is an auth failure at our client, which stops reconnecting', async () => {
      const zap = await libzmqZapHandler(([version, id]) => [version, id, '400', 'Unknown key', '', '']);
      const pull = keep(new zmq.Pull({ curveServer: true, curveSecretKey: server.secretKey, linger: 0 }));
      await pull.bind(address());
      const push = keep(new Push({ context: new Context(), ...clientKeys, reconnectInterval: 10, linger: 0 }));
      const failed = nextEvent(push, 'handshake:error:auth');
      const retries = countEvents(push, 'connect:retry');
      push.connect(pull.lastEndpoint!);
      expect((await failed).error?.status).toBe(400);
      expect(zap.requests[0].slice(5, 6)).toEqual(['CURVE']);
      await reconnectIntervals(10, 10); // a sentinel's ten retries at the same interval: ours makes none
      expect(retries.n).toBe(0);
      expect(zap.requests.length).toBe(1);
    });
  });

  describe(`the Authenticator serving our servers over ${kind}, libzmq clients`, () => {
    it('CURVE: a known client key gets in with its key as User-Id; an unknown one is refused (400) and others go on working', async () => {
      const context = new Context();
      const server = curveKeyPair();
      const known = curveKeyPair();
      const stranger = curveKeyPair();
      const auth = new Authenticator({ context });
      auth.configureCurve([known.publicKey]);
      await auth.start();
      try {
        const pull = keep(new Pull({ context, curveServer: true, curveSecretKey: server.secretKey }));
        await pull.bind(address());
        const refused = nextEvent(pull, 'handshake:error:auth');
        const bad = keep(new zmq.Push({ curveServerKey: server.publicKey, curvePublicKey: stranger.publicKey, curveSecretKey: stranger.secretKey, linger: 0 }));
        bad.connect(pull.lastEndpoint!);
        expect((await refused).error?.status).toBe(400);

        const handshake = nextEvent(pull, 'handshake');
        const good = keep(new zmq.Push({ curveServerKey: server.publicKey, curvePublicKey: known.publicKey, curveSecretKey: known.secretKey, linger: 0 }));
        good.connect(pull.lastEndpoint!);
        await good.send('let in');
        expect((await pull.receive()).map(String)).toEqual(['let in']);
        expect((await handshake).peer?.userId).toBe(known.publicKey);
        expect(z85Decode((await handshake).peer!.userId!)).toHaveLength(32);
      } finally {
        await auth.stop();
      }
    });

    it('PLAIN: the user table decides, and an address deny list refuses before any password is looked at', async () => {
      const context = new Context();
      const auth = new Authenticator({ context });
      auth.configurePlain({ admin: 'secret' });
      await auth.start();
      try {
        const pull = keep(new Pull({ context, plainServer: true }));
        await pull.bind(address());
        const wrong = nextEvent(pull, 'handshake:error:auth');
        keep(new zmq.Push({ plainUsername: 'admin', plainPassword: 'guess', linger: 0 })).connect(pull.lastEndpoint!);
        expect((await wrong).error?.status).toBe(400);
        const right = keep(new zmq.Push({ plainUsername: 'admin', plainPassword: 'secret', linger: 0 }));
        right.connect(pull.lastEndpoint!);
        await right.send('welcome');
        expect((await pull.receive()).map(String)).toEqual(['welcome']);
        if (kind === 'tcp') {
          auth.deny('127.0.0.1');
          const denied = nextEvent(pull, 'handshake:error:auth');
          keep(new zmq.Push({ plainUsername: 'admin', plainPassword: 'secret', linger: 0 })).connect(pull.lastEndpoint!);
          expect((await denied).error?.status).toBe(400);
        }
      } finally {
        await auth.stop();
      }
    });
  });
}

describe('handshakes you can see: the connection actor walks the mechanism steps (libzmq peers)', () => {
  /** The states of connection actors, in order, from inspection snapshots, repeats dropped. */
  function watchConnections(): { context: Context; states: string[] } {
    const states: string[] = [];
    const context = new Context({
      inspect: (e) => {
        if (e.type !== '@xstate.snapshot') return;
        const snap = e.snapshot as { machine?: { id?: string }; value?: unknown };
        if (snap.machine?.id !== 'connection') return;
        const v = snap.value;
        const name = typeof v === 'string' ? v : typeof v === 'object' && v !== null && 'handshaking' in v ? `handshaking.${(v as { handshaking: string }).handshaking}` : Object.keys(v as object)[0];
        if (states[states.length - 1] !== name) states.push(name);
      },
    });
    return { context, states };
  }

  it('our CURVE server with an Authenticator: hello → initiate → zap → active', async () => {
    const { context, states } = watchConnections();
    const server = curveKeyPair();
    const client = curveKeyPair();
    const auth = new Authenticator({ context });
    auth.configureCurve('any');
    await auth.start();
    try {
      const pull = keep(new Pull({ context, curveServer: true, curveSecretKey: server.secretKey }));
      await pull.bind('tcp://127.0.0.1:*');
      const push = keep(new zmq.Push({ curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey, linger: 0 }));
      push.connect(pull.lastEndpoint!);
      await push.send('seen');
      await pull.receive();
      expect(states).toEqual(['handshaking.greeting', 'handshaking.starting', 'handshaking.hello', 'handshaking.initiate', 'handshaking.zap', 'active']);
    } finally {
      await auth.stop();
    }
  });

  it('our PLAIN client refused by libzmq: starting → welcome → closed', async () => {
    await libzmqZapHandler(([version, id]) => [version, id, '400', 'no', '', '']);
    const pull = keep(new zmq.Pull({ plainServer: true, linger: 0 }));
    await pull.bind('tcp://127.0.0.1:*');
    const { context, states } = watchConnections();
    const push = keep(new Push({ context, plainUsername: 'u', plainPassword: 'p', linger: 0 }));
    const failed = nextEvent(push, 'handshake:error:auth');
    push.connect(pull.lastEndpoint!);
    await failed;
    expect(states).toEqual(['connecting', 'handshaking.greeting', 'handshaking.starting', 'handshaking.welcome', 'closed']);
  });
});
