// CURVE (RFC 25/26) as libzmq 4.3 speaks it: two CurveMechanisms piped into each other, the frames they
// write checked byte by byte (and opened with raw libsodium calls, independently of the mechanism), the
// MESSAGE cipher, every failure, and a walk over all that was produced looking for secret keys.
//
//   client                         server
//   start ── HELLO (202) ────────▶ onCommand
//   onCommand ◀──── WELCOME (170) ─┘
//   └─ INITIATE ─────────────────▶ onCommand ─▶ zap? ─▶ zapReplied
//   onCommand ◀────────── READY ───┘
//   cipher.seal ── MESSAGE ──────▶ cipher.open (and back)

import { beforeAll, describe, expect, it } from 'vitest';
import { z85Decode, z85Encode } from '../../src/core/z85.js';
import { decodeMetadata, encodeMetadata, errorCommand, getProperty, readyCommand, socketMetadata } from '../../src/protocol/commands.js';
import { type CurveOptions, CurveMechanism } from '../../src/protocol/curve-mechanism.js';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';
import { encodeMessage } from '../../src/protocol/frame-encoder.js';
import { encodeGreeting, type Greeting, GreetingDecoder } from '../../src/protocol/greeting.js';
import {
  commandBody,
  type FrameCipher,
  type MechanismStep,
  SEALED_COMMAND,
  SEALED_MORE,
  splitCommandBody,
  type ZapReply,
  type ZapRequest,
} from '../../src/protocol/mechanism.js';
import { loadSodium, type Sodium } from '../../src/protocol/sodium.js';
import { isViolation, type Violation } from '../../src/protocol/violation.js';
import { ascii, concat, hex, Recorder } from './helpers.js';

let sodium: Sodium;
beforeAll(async () => {
  sodium = await loadSodium();
});

// libzmq's test key pairs (tests/testutil_security.hpp, PROTOCOL.md §11).
const CLIENT_PUBLIC = z85Decode('Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID');
const CLIENT_SECRET = z85Decode('D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs');
const SERVER_PUBLIC = z85Decode('rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7');
const SERVER_SECRET = z85Decode('JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6');

type KeyPair = { publicKey: Uint8Array; privateKey: Uint8Array };
type Side = 'client' | 'server';

const bytes = (b: Uint8Array): number[] => Array.from(b);
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The name and data of a command frame, as the decoder hands them to a mechanism. */
function dataOf(frame: Uint8Array): { name: string; data: Uint8Array } {
  const sink = new Recorder();
  const v = new FrameDecoder().push(frame, sink);
  if (v !== undefined) throw new Error(v.message);
  const [e] = sink.events;
  if (e === undefined || 'message' in e) throw new Error('expected a command');
  return { name: e.command, data: e.data };
}

/** A command frame's body (name-len, name, data), whichever header it has. */
function bodyOf(frame: Uint8Array): Uint8Array {
  return frame.subarray((frame[0] & 0x02) !== 0 ? 9 : 2);
}

function greeting(asServer: boolean): Greeting {
  const r = new GreetingDecoder().push(encodeGreeting('CURVE', asServer));
  if (!r.done || r.greeting === undefined) throw new Error('greeting did not decode');
  return r.greeting;
}

/** A 24-octet nonce: ASCII prefix then the given octets. */
function nonce(prefix: string, tail: Uint8Array): Uint8Array {
  return concat([ascii(prefix), tail]);
}

const shortNonce = (n: number): number[] => [0, 0, 0, 0, 0, 0, 0, n];

const reply = (status: ZapReply['status'], userId = ''): ZapReply => ({
  status,
  statusText: status === 200 ? 'OK' : 'no',
  userId,
  metadata: decodeMetadata(encodeMetadata({ 'X-Role': 'admin' })) as Record<string, Uint8Array>,
});

function violationOf(s: MechanismStep): Violation {
  if (s.status !== 'error') throw new Error(`expected an error step, got ${s.status}`);
  return s.violation;
}

function cipherOf(s: MechanismStep): FrameCipher {
  if (s.status !== 'ready' || s.cipher === undefined) throw new Error(`expected a ready step with a cipher, got ${s.status}`);
  return s.cipher;
}

/**
 * One scenario's world: libsodium wrapped to remember every secret it makes (transient secrets,
 * cookie keys, shared keys, copied before the mechanism wipes them), and everything the mechanisms
 * produced (steps, violations, the mechanisms and ciphers themselves), for the secret-key walk.
 */
class Lab {
  readonly secrets: Uint8Array[] = [CLIENT_SECRET, SERVER_SECRET];
  readonly transients: KeyPair[] = [];
  readonly cookieKeys: Uint8Array[] = [];
  readonly sharedKeys: Uint8Array[] = [];
  readonly produced: unknown[] = [];
  readonly sodium: Sodium;

  constructor() {
    const real = sodium;
    const lab = this;
    this.sodium = {
      crypto_box_keypair() {
        const pair = real.crypto_box_keypair();
        lab.transients.push({ publicKey: Uint8Array.from(pair.publicKey), privateKey: Uint8Array.from(pair.privateKey) });
        lab.secrets.push(Uint8Array.from(pair.privateKey));
        return pair;
      },
      crypto_scalarmult_base: (s) => real.crypto_scalarmult_base(s),
      crypto_box_easy: (m, n, pk, sk) => real.crypto_box_easy(m, n, pk, sk),
      crypto_box_open_easy: (c, n, pk, sk) => real.crypto_box_open_easy(c, n, pk, sk),
      crypto_box_beforenm(pk, sk) {
        const k = real.crypto_box_beforenm(pk, sk);
        lab.sharedKeys.push(Uint8Array.from(k));
        lab.secrets.push(Uint8Array.from(k));
        return k;
      },
      crypto_box_easy_afternm: (m, n, k) => real.crypto_box_easy_afternm(m, n, k),
      crypto_box_open_easy_afternm: (c, n, k) => real.crypto_box_open_easy_afternm(c, n, k),
      crypto_secretbox_easy: (m, n, k) => real.crypto_secretbox_easy(m, n, k),
      crypto_secretbox_open_easy: (c, n, k) => real.crypto_secretbox_open_easy(c, n, k),
      randombytes_buf(n) {
        const b = real.randombytes_buf(n);
        if (n === 32) {
          lab.cookieKeys.push(Uint8Array.from(b));
          lab.secrets.push(Uint8Array.from(b));
        }
        return b;
      },
    };
  }

  client(options: Partial<CurveOptions> = {}): CurveMechanism {
    return this.#keep(
      new CurveMechanism({
        sodium: this.sodium,
        asServer: false,
        socketType: 'DEALER',
        secretKey: CLIENT_SECRET,
        publicKey: CLIENT_PUBLIC,
        serverKey: SERVER_PUBLIC,
        zap: false,
        ...options,
      }),
    );
  }

  server(options: Partial<CurveOptions> = {}): CurveMechanism {
    return this.#keep(
      new CurveMechanism({
        sodium: this.sodium,
        asServer: true,
        socketType: 'ROUTER',
        secretKey: SERVER_SECRET,
        publicKey: SERVER_PUBLIC,
        zap: false,
        ...options,
      }),
    );
  }

  /** A server that has started (it waits for HELLO). */
  startedServer(options: Partial<CurveOptions> = {}): CurveMechanism {
    const server = this.server(options);
    this.start(server);
    return server;
  }

  /** A fresh permanent key pair, its secret remembered. */
  keyPair(): KeyPair {
    const pair = sodium.crypto_box_keypair();
    this.secrets.push(Uint8Array.from(pair.privateKey));
    return pair;
  }

  start(mech: CurveMechanism): MechanismStep {
    return this.#step(mech.start(greeting(!mech.asServer)));
  }

  feed(mech: CurveMechanism, frame: Uint8Array): MechanismStep {
    const { name, data } = dataOf(frame);
    return this.#step(mech.onCommand(name, data));
  }

  command(mech: CurveMechanism, name: string, data: Uint8Array): MechanismStep {
    return this.#step(mech.onCommand(name, data));
  }

  zapReplied(mech: CurveMechanism, r: ZapReply): MechanismStep {
    return this.#step(mech.zapReplied(r));
  }

  open(cipher: FrameCipher, data: Uint8Array): Uint8Array | Violation {
    const opened = cipher.open(data);
    if (isViolation(opened)) this.produced.push(opened);
    return opened;
  }

  #keep(mech: CurveMechanism): CurveMechanism {
    this.produced.push(mech);
    return mech;
  }

  #step(s: MechanismStep): MechanismStep {
    // Everything but the frames on the wire (those carry boxes, nonces and public keys by design).
    const { send: _send, ...rest } = s;
    this.produced.push(rest);
    return s;
  }
}

interface Handshake {
  client: MechanismStep;
  server: MechanismStep;
  /** Every frame written, in order. */
  wire: { from: Side; name: string; frame: Uint8Array }[];
  /** Each ZAP request the server made. */
  zapRequests: ZapRequest[];
}

/** Runs a handshake to its end, each side's frames fed to the other while it is still handshaking. */
function handshake(
  lab: Lab,
  client: CurveMechanism,
  server: CurveMechanism,
  zap?: (request: ZapRequest) => ZapReply,
): Handshake {
  const wire: Handshake['wire'] = [];
  const zapRequests: ZapRequest[] = [];
  const queues: Record<Side, Uint8Array[]> = { client: [], server: [] };
  const post = (from: Side, s: MechanismStep): void => {
    for (const frame of s.send ?? []) {
      wire.push({ from, name: dataOf(frame).name, frame });
      queues[from === 'client' ? 'server' : 'client'].push(frame);
    }
  };
  const last: Record<Side, MechanismStep> = { client: lab.start(client), server: lab.start(server) };
  post('client', last.client);
  post('server', last.server);
  const handshaking = (side: Side): boolean => last[side].status === 'continue' || last[side].status === 'zap';
  for (let turns = 0; turns < 20 && (queues.client.length > 0 || queues.server.length > 0); turns++) {
    for (const side of ['server', 'client'] as const) {
      const frame = queues[side].shift();
      if (frame === undefined || !handshaking(side)) continue;
      let s = lab.feed(side === 'client' ? client : server, frame);
      post(side, s);
      if (s.status === 'zap') {
        zapRequests.push(s.request);
        if (zap !== undefined) {
          last[side] = s;
          s = lab.zapReplied(server, zap(s.request));
          post(side, s);
        }
      }
      last[side] = s;
    }
  }
  return { client: last.client, server: last.server, wire, zapRequests };
}

/** The frame of `name` sent in a handshake. */
function frameOf(h: Handshake, name: string): Uint8Array {
  const f = h.wire.find((w) => w.name === name);
  if (f === undefined) throw new Error(`no ${name} was sent`);
  return f.frame;
}

/** A completed handshake's two ciphers. */
function connected(lab: Lab, options: { client?: Partial<CurveOptions>; server?: Partial<CurveOptions> } = {}) {
  const h = handshake(lab, lab.client(options.client), lab.server(options.server));
  const client = cipherOf(h.client);
  const server = cipherOf(h.server);
  lab.produced.push(client, server);
  return { client, server, h };
}

/** A scenario: its expectations inside, run by its own test and again by the secret-key walk. */
type Scenario = [name: string, run: (lab: Lab) => void];

const handshakes: Scenario[] = [
  [
    'client and server complete without ZAP; each sees the other socket type, identity and metadata',
    (lab) => {
      const client = lab.client({ identity: ascii('c-1'), metadata: { 'X-App': 'demo' } });
      const server = lab.server({ metadata: { 'X-Env': 'test' } });
      const h = handshake(lab, client, server);
      expect(h.wire.map((w) => `${w.from}:${w.name}`)).toEqual(['client:HELLO', 'server:WELCOME', 'client:INITIATE', 'server:READY']);
      expect(h.zapRequests).toEqual([]);
      if (h.server.status !== 'ready' || h.client.status !== 'ready') throw new Error('handshake did not complete');
      expect(h.server.peer.socketType).toBe('DEALER');
      expect(bytes(h.server.peer.identity ?? new Uint8Array(0))).toEqual(bytes(ascii('c-1')));
      expect(bytes(getProperty(h.server.peer.properties, 'X-App') ?? new Uint8Array(0))).toEqual(bytes(ascii('demo')));
      expect(h.server.peer.zap).toBeUndefined();
      expect(h.client.peer.socketType).toBe('ROUTER');
      expect(bytes(getProperty(h.client.peer.properties, 'X-Env') ?? new Uint8Array(0))).toEqual(bytes(ascii('test')));
      expect(h.client.cipher?.carrier).toBe('MESSAGE');
      expect(h.server.cipher?.carrier).toBe('MESSAGE');
      expect(h.client.send).toBeUndefined();
    },
  ],
  [
    'with ZAP the server asks with mechanism CURVE and the raw client key, sends nothing, and a 200 completes with User-Id',
    (lab) => {
      const client = lab.client({ socketType: 'REQ' });
      const server = lab.server({ socketType: 'REP', zap: true });
      const h = handshake(lab, client, server, () => reply(200, 'alice'));
      expect(h.zapRequests).toHaveLength(1);
      const [request] = h.zapRequests;
      expect(request.mechanism).toBe('CURVE');
      expect(request.credentials).toHaveLength(1);
      expect(toHex(request.credentials[0])).toBe('bb88471d65e2659b30c55a5321cebb5aab2b70a398645c26dca2b2fcb43fc518');
      // The zap step itself wrote nothing: READY left only after the 200.
      expect(h.wire.map((w) => w.name)).toEqual(['HELLO', 'WELCOME', 'INITIATE', 'READY']);
      if (h.server.status !== 'ready' || h.client.status !== 'ready') throw new Error('handshake did not complete');
      expect(h.server.peer.zap?.userId).toBe('alice');
      expect(bytes(getProperty(h.server.peer.zap?.metadata ?? {}, 'X-Role') ?? new Uint8Array(0))).toEqual(bytes(ascii('admin')));
      expect(h.server.peer.socketType).toBe('REQ');
      expect(h.client.peer.socketType).toBe('REP');
    },
  ],
  [
    'fresh key pairs work as well as the libzmq test keys',
    (lab) => {
      const c = lab.keyPair();
      const s = lab.keyPair();
      const h = handshake(
        lab,
        lab.client({ secretKey: c.privateKey, publicKey: c.publicKey, serverKey: s.publicKey, socketType: 'PUSH' }),
        lab.server({ secretKey: s.privateKey, publicKey: s.publicKey, socketType: 'PULL', zap: true }),
        () => reply(200),
      );
      expect(h.server.status === 'ready' && h.server.peer.socketType).toBe('PUSH');
      expect(h.client.status === 'ready' && h.client.peer.socketType).toBe('PULL');
    },
  ],
  [
    'the server derives nothing from its public key option (libzmq checks only the C\u2032 half of the vouch)',
    (lab) => {
      const h = handshake(lab, lab.client(), lab.server({ publicKey: new Uint8Array(0) }));
      expect(h.server.status).toBe('ready');
      expect(h.client.status).toBe('ready');
    },
  ],
  [
    'frames have the libzmq sizes and layouts, and open with raw libsodium calls',
    (lab) => {
      const h = handshake(lab, lab.client(), lab.server());
      const [clientPair, serverPair] = lab.transients;
      const [cookieKey] = lab.cookieKeys;

      // HELLO: 04 c8, 05 HELLO, version 01 00, 72 zeros, C', short nonce 1, Box[64 zeros](C'→S).
      const hello = frameOf(h, 'HELLO');
      expect(hello.length).toBe(202);
      expect(bytes(hello.subarray(0, 10))).toEqual(bytes(hex('04 c8 05 48 45 4c 4c 4f 01 00')));
      expect(bytes(hello.subarray(10, 82))).toEqual(new Array(72).fill(0));
      expect(bytes(hello.subarray(82, 114))).toEqual(bytes(clientPair.publicKey));
      expect(bytes(hello.subarray(114, 122))).toEqual(shortNonce(1));
      const signature = sodium.crypto_box_open_easy(
        hello.subarray(122),
        nonce('CurveZMQHELLO---', hello.subarray(114, 122)),
        clientPair.publicKey,
        SERVER_SECRET,
      );
      expect(bytes(signature)).toEqual(new Array(64).fill(0));

      // WELCOME: 04 a8, 07 WELCOME, R (16), Box[S' + Rk + SecretBox[C' + s'](K)](S→C').
      const welcome = frameOf(h, 'WELCOME');
      expect(welcome.length).toBe(170);
      expect(bytes(welcome.subarray(0, 10))).toEqual(bytes(hex('04 a8 07 57 45 4c 43 4f 4d 45')));
      const welcomePlain = sodium.crypto_box_open_easy(
        welcome.subarray(26),
        nonce('WELCOME-', welcome.subarray(10, 26)),
        SERVER_PUBLIC,
        clientPair.privateKey,
      );
      expect(welcomePlain.length).toBe(128);
      expect(bytes(welcomePlain.subarray(0, 32))).toEqual(bytes(serverPair.publicKey));
      const cookie = welcomePlain.subarray(32);
      const cookiePlain = sodium.crypto_secretbox_open_easy(cookie.subarray(16), nonce('COOKIE--', cookie.subarray(0, 16)), cookieKey);
      expect(bytes(cookiePlain)).toEqual(bytes(concat([clientPair.publicKey, serverPair.privateKey])));

      // INITIATE: long header, 08 INITIATE, cookie (96), short nonce 2, Box[C + Rv + vouch + metadata](C'→S').
      const initiate = frameOf(h, 'INITIATE');
      const metadata = socketMetadata('DEALER');
      const initiateBody = bodyOf(initiate);
      expect(initiateBody.length).toBe(257 + metadata.length);
      expect(initiate[0]).toBe(0x06);
      expect(initiate.length).toBe(9 + 257 + metadata.length);
      expect(bytes(initiateBody.subarray(0, 9))).toEqual(bytes(hex('08 49 4e 49 54 49 41 54 45')));
      expect(bytes(initiateBody.subarray(9, 105))).toEqual(bytes(cookie));
      expect(bytes(initiateBody.subarray(105, 113))).toEqual(shortNonce(2));
      const initiatePlain = sodium.crypto_box_open_easy(
        initiateBody.subarray(113),
        nonce('CurveZMQINITIATE', initiateBody.subarray(105, 113)),
        serverPair.publicKey,
        clientPair.privateKey,
      );
      expect(bytes(initiatePlain.subarray(0, 32))).toEqual(bytes(CLIENT_PUBLIC));
      const vouch = sodium.crypto_box_open_easy(
        initiatePlain.subarray(48, 128),
        nonce('VOUCH---', initiatePlain.subarray(32, 48)),
        CLIENT_PUBLIC,
        serverPair.privateKey,
      );
      expect(bytes(vouch)).toEqual(bytes(concat([clientPair.publicKey, SERVER_PUBLIC])));
      expect(bytes(initiatePlain.subarray(128))).toEqual(bytes(metadata));

      // READY: 05 READY, short nonce 1, Box[metadata](S'→C').
      const ready = frameOf(h, 'READY');
      const readyMetadata = socketMetadata('ROUTER');
      const readyBody = bodyOf(ready);
      expect(readyBody.length).toBe(30 + readyMetadata.length);
      expect(bytes(ready.subarray(0, 2))).toEqual([0x04, 30 + readyMetadata.length]);
      expect(bytes(readyBody.subarray(0, 6))).toEqual(bytes(hex('05 52 45 41 44 59')));
      expect(bytes(readyBody.subarray(6, 14))).toEqual(shortNonce(1));
      const readyPlain = sodium.crypto_box_open_easy(
        readyBody.subarray(14),
        nonce('CurveZMQREADY---', readyBody.subarray(6, 14)),
        clientPair.publicKey,
        serverPair.privateKey,
      );
      expect(bytes(readyPlain)).toEqual(bytes(readyMetadata));
    },
  ],
  [
    'a socket type the server cannot pair with fails at INITIATE, before any ZAP request',
    (lab) => {
      const h = handshake(lab, lab.client({ socketType: 'PUSH' }), lab.server({ socketType: 'PUB', zap: true }), () => reply(200));
      expect(h.zapRequests).toEqual([]);
      expect(violationOf(h.server).code).toBe('ERR_ZMTP_INCOMPATIBLE_SOCKET_TYPE');
      expect(h.server.send).toBeUndefined();
      expect(h.client.status).toBe('continue');
    },
  ],
  [
    'the client judges the metadata in READY: an incompatible Socket-Type or malformed properties fail',
    (lab) => {
      for (const [metadata, code] of [
        [socketMetadata('PUB'), 'ERR_ZMTP_INCOMPATIBLE_SOCKET_TYPE'],
        [hex('05 41 42'), 'ERR_ZMTP_INVALID_METADATA'],
      ] as const) {
        const client = lab.client({ socketType: 'PUSH' });
        const server = lab.startedServer();
        const welcome = lab.feed(server, lab.start(client).send![0]).send![0];
        lab.feed(client, welcome);
        // A READY sealed by hand with the client's C'/S' key (what a misconfigured server would send).
        const key = lab.sharedKeys[lab.sharedKeys.length - 1];
        const n = Uint8Array.from(shortNonce(1));
        const box = sodium.crypto_box_easy_afternm(metadata, nonce('CurveZMQREADY---', n), key);
        const v = violationOf(lab.command(client, 'READY', concat([n, box])));
        expect(v.code).toBe(code);
      }
    },
  ],
];

const ciphers: Scenario[] = [
  [
    'messages sealed on one side open on the other, both ways, MORE and COMMAND kept',
    (lab) => {
      const { client, server } = connected(lab);
      const a = client.seal(SEALED_MORE, ascii('part 1'));
      const b = client.seal(0, ascii('part 2'));
      const ping = client.seal(SEALED_COMMAND, commandBody('PING', hex('00 0a')));
      const openedA = lab.open(server, a) as Uint8Array;
      expect(bytes(openedA)).toEqual([SEALED_MORE, ...ascii('part 1')]);
      expect(Buffer.isBuffer(openedA)).toBe(true); // frames reach Node users as Buffers, as without CURVE
      expect(bytes(lab.open(server, b) as Uint8Array)).toEqual([0, ...ascii('part 2')]);
      const opened = lab.open(server, ping) as Uint8Array;
      expect(opened[0]).toBe(SEALED_COMMAND);
      const cmd = splitCommandBody(opened.subarray(1));
      expect(isViolation(cmd) ? cmd : { name: cmd.name, data: bytes(cmd.data) }).toEqual({ name: 'PING', data: [0, 10] });
      const back = server.seal(SEALED_MORE | SEALED_COMMAND, ascii('x'));
      expect(bytes(lab.open(client, back) as Uint8Array)).toEqual([SEALED_MORE | SEALED_COMMAND, ...ascii('x')]);
      const empty = server.seal(0, new Uint8Array(0));
      expect(bytes(lab.open(client, empty) as Uint8Array)).toEqual([0]);
      const big = new Uint8Array(70_000).map((_, i) => i & 0xff);
      expect(bytes((lab.open(client, server.seal(0, big)) as Uint8Array).subarray(1))).toEqual(bytes(big));
    },
  ],
  [
    'MESSAGE layout: short nonce then Box[flags + body]; client counts on from 3, server from 2, with their own prefixes',
    (lab) => {
      const { client, server } = connected(lab);
      const [clientPair, serverPair] = lab.transients;
      const first = client.seal(SEALED_MORE, ascii('hi'));
      expect(first.length).toBe(8 + 16 + 1 + 2);
      expect(bytes(first.subarray(0, 8))).toEqual(shortNonce(3));
      expect(bytes(client.seal(0, ascii('hi')).subarray(0, 8))).toEqual(shortNonce(4));
      const plain = sodium.crypto_box_open_easy(first.subarray(8), nonce('CurveZMQMESSAGEC', first.subarray(0, 8)), clientPair.publicKey, serverPair.privateKey);
      expect(bytes(plain)).toEqual([SEALED_MORE, ...ascii('hi')]);
      const reply1 = server.seal(0, ascii('yo'));
      expect(bytes(reply1.subarray(0, 8))).toEqual(shortNonce(2));
      const plain2 = sodium.crypto_box_open_easy(reply1.subarray(8), nonce('CurveZMQMESSAGES', reply1.subarray(0, 8)), serverPair.publicKey, clientPair.privateKey);
      expect(bytes(plain2)).toEqual([0, ...ascii('yo')]);
      // On the wire libzmq 4.3 (libsodium build) writes MESSAGE as a data frame, flags 00 (02 when
      // long): it ORs the outer flags into the opened message, so an outer COMMAND bit would make it
      // drop the frame as a command. The body is the command body 07 'MESSAGE' + the cipher's data.
      const chunks: Uint8Array[] = [];
      encodeMessage([commandBody('MESSAGE', first)], chunks);
      expect(bytes(concat(chunks).subarray(0, 10))).toEqual(bytes(hex('00 23 07 4d 45 53 53 41 47 45')));
    },
  ],
  [
    'a replayed MESSAGE is an invalid sequence',
    (lab) => {
      const { client, server } = connected(lab);
      const m = client.seal(0, ascii('once'));
      expect(isViolation(lab.open(server, m))).toBe(false);
      const again = lab.open(server, m);
      expect(isViolation(again) && again.code).toBe('ERR_ZMTP_INVALID_SEQUENCE');
    },
  ],
  [
    'a MESSAGE older than the last one is an invalid sequence; gaps are allowed',
    (lab) => {
      const { client, server } = connected(lab);
      const m3 = server.seal(0, ascii('3'));
      const m4 = server.seal(0, ascii('4'));
      const m5 = server.seal(0, ascii('5'));
      const m6 = server.seal(0, ascii('6'));
      expect(isViolation(lab.open(client, m4))).toBe(false);
      const older = lab.open(client, m3);
      expect(isViolation(older) && older.code).toBe('ERR_ZMTP_INVALID_SEQUENCE');
      expect(isViolation(older) && older.message).toMatch(/nonce 2\b.*last one 3\b/);
      expect(isViolation(lab.open(client, m6))).toBe(false);
      const skipped = lab.open(client, m5);
      expect(isViolation(skipped) && skipped.code).toBe('ERR_ZMTP_INVALID_SEQUENCE');
    },
  ],
  [
    'a MESSAGE whose nonce does not exceed the INITIATE (server) or READY (client) nonce is refused',
    (lab) => {
      const { client, server } = connected(lab);
      const fake = new Uint8Array(8 + 16 + 1);
      fake.set(shortNonce(2), 0); // the INITIATE's nonce
      expect((lab.open(server, fake) as Violation).code).toBe('ERR_ZMTP_INVALID_SEQUENCE');
      fake.set(shortNonce(1), 0); // the READY's nonce
      expect((lab.open(client, fake) as Violation).code).toBe('ERR_ZMTP_INVALID_SEQUENCE');
    },
  ],
  [
    'a tampered MESSAGE is a cryptographic failure and does not move the nonce window',
    (lab) => {
      const { client, server } = connected(lab);
      const m = client.seal(0, ascii('payload'));
      for (const at of [8, 20, m.length - 1]) {
        const bad = Uint8Array.from(m);
        bad[at] ^= 0x01;
        const v = lab.open(server, bad);
        expect(isViolation(v) && v.code).toBe('ERR_ZMTP_CRYPTOGRAPHIC');
      }
      const higher = Uint8Array.from(m);
      higher[7] = 0x7f; // a nonce the box was not sealed with
      expect((lab.open(server, higher) as Violation).code).toBe('ERR_ZMTP_CRYPTOGRAPHIC');
      expect(bytes(lab.open(server, m) as Uint8Array)).toEqual([0, ...ascii('payload')]);
    },
  ],
  [
    'a MESSAGE sent back to its sender does not open (the prefixes differ by direction)',
    (lab) => {
      const { client, server } = connected(lab);
      const v = lab.open(client, client.seal(0, ascii('echo')));
      expect(isViolation(v) && v.code).toBe('ERR_ZMTP_CRYPTOGRAPHIC');
      server.seal(0, ascii('skip')); // nonce 2 would be refused as not above the INITIATE's 2
      const w = lab.open(server, server.seal(0, ascii('echo')));
      expect(isViolation(w) && w.code).toBe('ERR_ZMTP_CRYPTOGRAPHIC');
    },
  ],
  [
    'a MESSAGE with a body under 33 octets is malformed',
    (lab) => {
      const { server } = connected(lab);
      const v = lab.open(server, new Uint8Array(24).fill(0xff));
      expect(isViolation(v) && v.code).toBe('ERR_ZMTP_MALFORMED_COMMAND_MESSAGE');
      expect(isViolation(v) && v.message).toContain('32');
    },
  ],
  [
    'a MESSAGE from another connection does not open',
    (lab) => {
      const one = connected(lab);
      const two = connected(lab);
      const v = lab.open(two.server, one.client.seal(0, ascii('x')));
      expect(isViolation(v) && v.code).toBe('ERR_ZMTP_CRYPTOGRAPHIC');
    },
  ],
];

const failures: Scenario[] = [
  [
    'a client with the wrong server key: its HELLO does not open, the server closes without a word',
    (lab) => {
      const other = lab.keyPair();
      const h = handshake(lab, lab.client({ serverKey: other.publicKey }), lab.server());
      const v = violationOf(h.server);
      expect(v.code).toBe('ERR_ZMTP_CRYPTOGRAPHIC');
      expect(v.message).toContain('HELLO');
      expect(h.server.send).toBeUndefined();
      expect(h.wire.map((w) => w.name)).toEqual(['HELLO']);
    },
  ],
  [
    'a HELLO of the wrong size or version is malformed',
    (lab) => {
      const client = lab.client();
      const hello = dataOf(lab.start(client).send![0]).data;
      for (const data of [hello.subarray(1), concat([hello, new Uint8Array(1)]), new Uint8Array(0)]) {
        const v = violationOf(lab.command(lab.startedServer(), 'HELLO', data));
        expect(v.code).toBe('ERR_ZMTP_MALFORMED_COMMAND_HELLO');
        expect(v.message).toContain(String(data.length + 6));
      }
      const v2 = Uint8Array.from(hello);
      v2[0] = 2;
      expect(violationOf(lab.command(lab.startedServer(), 'HELLO', v2)).code).toBe('ERR_ZMTP_MALFORMED_COMMAND_HELLO');
      const altered = Uint8Array.from(hello);
      altered[193] ^= 1;
      const s = lab.command(lab.startedServer(), 'HELLO', altered);
      expect(violationOf(s).code).toBe('ERR_ZMTP_CRYPTOGRAPHIC');
      expect(s.send).toBeUndefined();
    },
  ],
  [
    'a client whose secret key does not match its public key fails at the vouch; the server closes without a word',
    (lab) => {
      const wrong = lab.keyPair();
      const h = handshake(lab, lab.client({ secretKey: wrong.privateKey }), lab.server({ zap: true }), () => reply(200));
      const v = violationOf(h.server);
      expect(v.code).toBe('ERR_ZMTP_CRYPTOGRAPHIC');
      expect(v.message).toContain('vouch');
      expect(h.server.send).toBeUndefined();
      expect(h.zapRequests).toEqual([]);
    },
  ],
  [
    'ZAP 400 and 500 send ERROR with the status; 300 closes without a word; the client reports the ERROR',
    (lab) => {
      for (const status of [300, 400, 500] as const) {
        const h = handshake(lab, lab.client(), lab.server({ zap: true }), () => reply(status));
        const v = violationOf(h.server);
        expect(v.code).toBe('ERR_ZAP_REFUSED');
        expect(v.status).toBe(status);
        if (status === 300) {
          expect(h.server.send).toBeUndefined();
          expect(h.client.status).toBe('continue');
          continue;
        }
        expect(bytes(h.server.send![0])).toEqual(bytes(errorCommand(String(status))));
        const peer = violationOf(h.client);
        expect(peer.code).toBe('ERR_ZMTP_PEER_ERROR');
        expect(peer.status).toBe(status);
        expect(peer.reason).toBe(String(status));
      }
    },
  ],
  [
    'the client accepts ERROR while waiting for WELCOME',
    (lab) => {
      const client = lab.client();
      lab.start(client);
      const v = violationOf(lab.feed(client, errorCommand('400')));
      expect(v.code).toBe('ERR_ZMTP_PEER_ERROR');
      expect(v.status).toBe(400);
    },
  ],
  [
    'commands out of turn are unexpected, on both sides',
    (lab) => {
      const server = lab.server();
      lab.start(server);
      const v1 = violationOf(lab.feed(server, readyCommand('DEALER')));
      expect(v1.code).toBe('ERR_ZMTP_UNEXPECTED_COMMAND');
      expect(v1.message).toMatch(/READY.*HELLO/);

      const s2 = lab.server();
      lab.start(s2);
      const client = lab.client();
      const hello = lab.start(client).send![0];
      expect(lab.feed(s2, hello).status).toBe('continue');
      expect(violationOf(lab.feed(s2, hello)).code).toBe('ERR_ZMTP_UNEXPECTED_COMMAND');

      const s3 = lab.server();
      lab.start(s3);
      expect(violationOf(lab.feed(s3, errorCommand('400'))).code).toBe('ERR_ZMTP_UNEXPECTED_COMMAND');

      const c2 = lab.client();
      lab.start(c2);
      expect(violationOf(lab.command(c2, 'READY', new Uint8Array(40))).code).toBe('ERR_ZMTP_UNEXPECTED_COMMAND');
      const c3 = lab.client();
      lab.start(c3);
      expect(violationOf(lab.command(c3, 'MESSAGE', new Uint8Array(40))).code).toBe('ERR_ZMTP_UNEXPECTED_COMMAND');
      const c4 = lab.client();
      expect(violationOf(lab.command(c4, 'WELCOME', new Uint8Array(160))).code).toBe('ERR_ZMTP_UNEXPECTED_COMMAND');

      // A second WELCOME after INITIATE, and anything while the server waits for ZAP.
      const c5 = lab.client();
      const s5 = lab.server({ zap: true });
      lab.start(s5);
      const welcome = lab.feed(s5, lab.start(c5).send![0]).send![0];
      const initiate = lab.feed(c5, welcome).send![0];
      expect(violationOf(lab.feed(c5, welcome)).code).toBe('ERR_ZMTP_UNEXPECTED_COMMAND');
      expect(lab.feed(s5, initiate).status).toBe('zap');
      expect(violationOf(lab.feed(s5, initiate)).code).toBe('ERR_ZMTP_UNEXPECTED_COMMAND');

      // After a failure, nothing more is accepted.
      expect(violationOf(lab.feed(s5, initiate)).message).toMatch(/failed/);
    },
  ],
  [
    'a ZAP reply nobody asked for is an error',
    (lab) => {
      const server = lab.server();
      lab.start(server);
      const v = violationOf(lab.zapReplied(server, reply(200)));
      expect(v.code).toBe('ERR_ZAP_UNSPECIFIED');
      expect(v.message).toContain('200');
    },
  ],
  [
    'a WELCOME of the wrong size is malformed; an altered one does not open',
    (lab) => {
      const c1 = lab.client();
      lab.start(c1);
      const v = violationOf(lab.command(c1, 'WELCOME', new Uint8Array(161)));
      expect(v.code).toBe('ERR_ZMTP_MALFORMED_COMMAND_WELCOME');
      expect(v.message).toContain('169');

      const client = lab.client();
      const server = lab.server();
      lab.start(server);
      const welcome = dataOf(lab.feed(server, lab.start(client).send![0]).send![0]).data;
      const altered = Uint8Array.from(welcome);
      altered[100] ^= 0x80;
      expect(violationOf(lab.command(client, 'WELCOME', altered)).code).toBe('ERR_ZMTP_CRYPTOGRAPHIC');
    },
  ],
  [
    'a WELCOME from a server with another key does not open at the client',
    (lab) => {
      const impostor = lab.keyPair();
      const h = handshake(lab, lab.client(), lab.server({ secretKey: impostor.privateKey, publicKey: impostor.publicKey }));
      // The impostor cannot open the HELLO either: libzmq's server fails first.
      expect(violationOf(h.server).code).toBe('ERR_ZMTP_CRYPTOGRAPHIC');
    },
  ],
  [
    'an INITIATE that is short, carries an altered or foreign cookie, or an altered box fails',
    (lab) => {
      const setup = () => {
        const client = lab.client();
        const server = lab.server();
        lab.start(server);
        const welcome = lab.feed(server, lab.start(client).send![0]).send![0];
        const initiate = dataOf(lab.feed(client, welcome).send![0]).data;
        return { server, initiate };
      };
      const a = setup();
      const short = violationOf(lab.command(a.server, 'INITIATE', a.initiate.subarray(0, 247)));
      expect(short.code).toBe('ERR_ZMTP_MALFORMED_COMMAND_INITIATE');
      expect(short.message).toContain('256');

      for (const at of [3, 50, 100, 200]) {
        const b = setup();
        const altered = Uint8Array.from(b.initiate);
        altered[at] ^= 0x10;
        const v = violationOf(lab.command(b.server, 'INITIATE', altered));
        expect(v.code).toBe('ERR_ZMTP_CRYPTOGRAPHIC');
      }
      // The nonce is part of the box: another short nonce, another box.
      const c = setup();
      const renumbered = Uint8Array.from(c.initiate);
      renumbered[96 + 7] = 9;
      expect(violationOf(lab.command(c.server, 'INITIATE', renumbered)).message).toMatch(/box/);

      // An INITIATE replayed to another connection: that server's cookie key does not open it.
      const d = setup();
      const e = setup();
      const foreign = violationOf(lab.command(e.server, 'INITIATE', d.initiate));
      expect(foreign.code).toBe('ERR_ZMTP_CRYPTOGRAPHIC');
      expect(foreign.message).toContain('cookie');
    },
  ],
  [
    'a READY that is short is malformed; an altered one does not open',
    (lab) => {
      const run = () => {
        const client = lab.client();
        const server = lab.server();
        lab.start(server);
        const welcome = lab.feed(server, lab.start(client).send![0]).send![0];
        const ready = lab.feed(server, lab.feed(client, welcome).send![0]).send![0];
        return { client, ready: dataOf(ready).data };
      };
      const a = run();
      const short = violationOf(lab.command(a.client, 'READY', a.ready.subarray(0, 23)));
      expect(short.code).toBe('ERR_ZMTP_MALFORMED_COMMAND_READY');
      expect(short.message).toContain('29');
      const b = run();
      const altered = Uint8Array.from(b.ready);
      altered[altered.length - 1] ^= 1;
      expect(violationOf(lab.command(b.client, 'READY', altered)).code).toBe('ERR_ZMTP_CRYPTOGRAPHIC');
    },
  ],
  [
    'keys of the wrong length, or a client without a server key, are refused at construction without showing them',
    (lab) => {
      const secretText = toHex(CLIENT_SECRET);
      const attempts: (() => unknown)[] = [
        () => lab.client({ secretKey: CLIENT_SECRET.subarray(0, 31) }),
        () => lab.client({ publicKey: new Uint8Array(33) }),
        () => lab.client({ serverKey: undefined }),
        () => lab.client({ serverKey: new Uint8Array(0) }),
        () => lab.server({ secretKey: new Uint8Array(0) }),
      ];
      for (const attempt of attempts) {
        let error: unknown;
        try {
          attempt();
        } catch (e) {
          error = e;
        }
        expect((error as { code?: string }).code).toBe('EINVAL');
        expect((error as Error).message).not.toContain(secretText);
        lab.produced.push({ message: (error as Error).message });
      }
    },
  ],
];

describe('CURVE handshake (RFC 25/26, libzmq 4.3 bytes)', () => {
  it('announces CURVE, with as-server from the role', () => {
    const lab = new Lab();
    expect(lab.client().name).toBe('CURVE');
    expect(lab.client().asServer).toBe(false);
    expect(lab.server().asServer).toBe(true);
  });

  it('the server sends nothing on start; the client sends one HELLO', () => {
    const lab = new Lab();
    expect(lab.start(lab.server())).toEqual({ status: 'continue' });
    const s = lab.start(lab.client());
    expect(s.status).toBe('continue');
    expect(s.send).toHaveLength(1);
  });

  it('the libzmq test keys are real pairs', () => {
    expect(bytes(sodium.crypto_scalarmult_base(CLIENT_SECRET))).toEqual(bytes(CLIENT_PUBLIC));
    expect(bytes(sodium.crypto_scalarmult_base(SERVER_SECRET))).toEqual(bytes(SERVER_PUBLIC));
  });

  for (const [name, run] of handshakes) it(name, () => run(new Lab()));
});

describe('CURVE MESSAGE cipher', () => {
  for (const [name, run] of ciphers) it(name, () => run(new Lab()));
});

describe('CURVE handshake failures', () => {
  for (const [name, run] of failures) it(name, () => run(new Lab()));
});

describe('CURVE keeps secrets out of everything but the boxes', () => {
  /** Bytes as JSON shows them here: hex, so that a key in a field is caught whatever its type. */
  const render = (x: unknown): string =>
    JSON.stringify(x, (_key, value: unknown) => {
      if (value instanceof Uint8Array) return toHex(value);
      if (typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer') {
        return toHex(Uint8Array.from((value as { data: number[] }).data));
      }
      return value;
    }) ?? '';

  /** Every spelling of a key a message or a field might carry. */
  const spellings = (key: Uint8Array): string[] => {
    const b = Buffer.from(key);
    return [b.toString('hex'), b.toString('base64'), b.toString('base64url'), z85Encode(key), b.toString('latin1')];
  };

  const leaks = (text: string, secrets: Uint8Array[]): string[] => {
    const lower = text.toLowerCase();
    const found: string[] = [];
    for (const secret of secrets) {
      for (const s of spellings(secret)) {
        if (text.includes(s) || lower.includes(s.toLowerCase())) found.push(s);
      }
    }
    return found;
  };

  it('the walk finds a key wherever it is spelled (checks the checker)', () => {
    const key = sodium.randombytes_buf(32);
    for (const planted of [{ k: key }, { m: `key ${Buffer.from(key).toString('base64')}` }, { m: z85Encode(key) }, [Buffer.from(key)]]) {
      expect(leaks(render(planted), [key]).length).toBeGreaterThan(0);
    }
  });

  it('no secret key (permanent, transient, cookie or shared) appears in any step, violation, mechanism or cipher', () => {
    let steps = 0;
    const codes = new Set<string>();
    for (const [name, run] of [...handshakes, ...ciphers, ...failures]) {
      const lab = new Lab();
      run(lab);
      expect(lab.secrets.length).toBeGreaterThanOrEqual(2);
      for (const item of lab.produced) {
        steps++;
        const text = render(item);
        if (isViolation(item)) codes.add(item.code);
        const v = (item as { violation?: Violation }).violation;
        if (v !== undefined) codes.add(v.code);
        expect({ scenario: name, leaks: leaks(text, lab.secrets) }).toEqual({ scenario: name, leaks: [] });
        // Mechanisms and ciphers show no key on any own field.
        if (item instanceof CurveMechanism) expect(Object.keys(item).sort()).toEqual(['asServer', 'name']);
      }
    }
    expect(steps).toBeGreaterThan(100);
    expect([...codes].sort()).toEqual([
      'ERR_ZAP_REFUSED',
      'ERR_ZAP_UNSPECIFIED',
      'ERR_ZMTP_CRYPTOGRAPHIC',
      'ERR_ZMTP_INCOMPATIBLE_SOCKET_TYPE',
      'ERR_ZMTP_INVALID_METADATA',
      'ERR_ZMTP_INVALID_SEQUENCE',
      'ERR_ZMTP_MALFORMED_COMMAND_HELLO',
      'ERR_ZMTP_MALFORMED_COMMAND_INITIATE',
      'ERR_ZMTP_MALFORMED_COMMAND_MESSAGE',
      'ERR_ZMTP_MALFORMED_COMMAND_READY',
      'ERR_ZMTP_MALFORMED_COMMAND_WELCOME',
      'ERR_ZMTP_PEER_ERROR',
      'ERR_ZMTP_UNEXPECTED_COMMAND',
    ]);
  });
});
