// Issue 14, item 2: a named negative corpus. Every rule of PROTOCOL.md that a peer can break, one
// test each, one raw connection per test beside a well-behaved peer of the same mechanism. A broken
// rule must (a) close that connection with the right monitor event, naming the violation (for a
// failure after the handshake, whose event is `disconnect`, the code is read from the connection
// actor through an inspector), (b) deliver nothing the rule forbids, (c) release our descriptor for
// the stream (/proc/self/fd), and (d) leave the well-behaved peer working. Where PROTOCOL.md says to
// be lenient, a "tolerated" case shows the connection goes on (a PING answered after the odd bytes)
// and delivers what it should.
//
//   raw peer ──bytes that break one rule──▶ ┐
//                                           ├─ our PULL (server bench; or connecting: client bench)
//   good peer ──"still ok n"───────────────▶ ┘   → event, stream closed, fd gone, "still ok n" arrives
//
// Rules and their tests (§ = PROTOCOL.md section):
//   §1 handshake bounded by handshakeInterval  "§1 silence: before the greeting | after 11 octets of it | after the
//                                              greeting | in the middle of READY" (handshake:error:other ETIMEDOUT)
//   §1/§2 greeting arrives in any chunks;      "§1 close after k octets of the greeting" k = 0..64, "§1 close inside
//      a close before it ends is a drop       READY at octet j", "§1 reset in the middle of the greeting"
//                                              (handshake:error:other ECONNRESET)
//   §2 octet 0 = 0xFF, else ZMTP 1.0           "§2 a ZMTP 1.0 peer's identity frame", "§2 octet 0 is 0xFE"
//   §2 octet 9 bit 0 = 1, else ZMTP 1.0        "§2 octet 9 with bit 0 clear"
//   §2 major >= 3, else ZMTP 1.0/2.0           "§2 major version 0 | 1 | 2"
//   §2 mechanism equal over all 20 octets      "§2 mechanism PLAIN | CURVE | null | FOO | empty | NULL with a stray
//                                              octet after its padding, to NULL", "§2 NULL to a PLAIN server", "§2 NULL
//                                              to a CURVE server", "§2 PLAIN to a CURVE server"
//   §2 padding, filler, minor, major>3,        tolerated: "§2 tolerated: padding octets not zero | filler not zero |
//      as-server are not validated            minor 0 | major 4 | as-server 1 under NULL"
//   §3 size checked on the header, before      "§3 a frame declaring 2^63-1 | 2^64-1 | 2^53 octets after the handshake",
//      allocating; > 2^53-1 refused;          "§3 a READY declaring 2^63-1 octets", "§3 a frame one octet over
//      > maxMessageSize refused (commands     maxMessageSize", "§3 a command over maxMessageSize", "§3 a READY over
//      too, per frame)                        maxMessageSize", "§3 an oversized LONG header one octet at a time"
//   §3 a partial message at a drop is          "§3 the stream ends in the middle of a multipart message | of a frame body"
//      discarded
//   §3 reserved bits, MORE on commands, LONG   tolerated: "§3 tolerated: reserved flag bits | MORE on a command | a
//      for small sizes: lenient               LONG header for a short body"
//   §4 command = name-len (1..255) name data   "§4 an empty command frame | a name length of 0 | a name length past
//                                              the body", each during and after the handshake
//   §4 unexpected command in the handshake     "§4 NAME during the NULL handshake" for PING PONG SUBSCRIBE CANCEL HELLO
//                                              WELCOME INITIATE MESSAGE FOO, "§4 a message before READY", "§4 a
//                                              multipart message begun before READY"
//   §4 unknown commands after it are dropped   tolerated: "§4 tolerated: an unknown command | a second READY |
//                                              SUBSCRIBE and CANCEL to a PULL, after the handshake"
//   §5 metadata: whole properties only         "§5 a property name past the end | a value length past the end | a value
//                                              length of 2^32-1 | one trailing octet | a value length cut short"
//   §5/§7 Socket-Type must pair                "§7 Socket-Type T to a PULL" for PULL PUB SUB XPUB XSUB REQ REP DEALER
//                                              ROUTER PAIR, FOO, "", push (case-sensitive)
//   §5 names case-insensitive, missing         tolerated: "§5 tolerated: no Socket-Type | socket-type in lower case |
//      Socket-Type accepted, first wins       a duplicate Socket-Type (the first counts)"
//   §6 ERROR is fatal; ERROR "400" is auth     "§6 ERROR 400 in place of READY" (auth 400), "§6 ERROR with another
//                                              reason", "§6 ERROR whose reason runs past its end", "§6 a second READY
//                                              while ZAP judges the first"
//   §9 PING = ttl(2) context(0..16)            "§9 a PING of fewer than 2 octets"; tolerated: "§9 tolerated: a PING
//                                              with a 17 | 248-octet context gets a PONG of its first 16"
//   §9 a PING's TTL bounds the silence         "§9 a PING asking for a TTL, then silence" (disconnect ETIMEDOUT)
//   §10 PLAIN HELLO layout, nothing after      "§10 HELLO with no data | a username past the end | no password length |
//      the password                           a password past the end | octets after the password"
//   §10 PLAIN command order                    "§10 WELCOME in place of HELLO (libzmq#3500)", "§10 INITIATE before
//                                              HELLO", "§10 INITIATE while ZAP judges HELLO", "§10 READY in place of
//                                              INITIATE", "§10 a message before INITIATE"
//   §10/§12 credentials judged by ZAP          "§10 a wrong password" (auth 400, ERROR reaches the peer)
//   §10 INITIATE metadata                      "§10 INITIATE with metadata past its end | from a PUB"
//   §10 client side: WELCOME carries nothing,  "§10 client: WELCOME with data | READY before WELCOME | ERROR 400 for our
//      order, ERROR, metadata                 HELLO | a server that sends HELLO | READY from a PULL"
//   §11 HELLO exact size 200, version 1.0,     "§11 HELLO of 199 | 201 octets", "§11 HELLO announcing CurveZMQ 2.0",
//      box opens                              "§11 HELLO boxed for another server key", "§11 HELLO with an altered box"
//   §11 CURVE command order                    "§11 INITIATE in place of HELLO", "§11 a second HELLO in place of INITIATE"
//   §11 INITIATE >= 257, cookie ours, box,     "§11 INITIATE of 256 octets", "§11 a cookie from another server (same key
//      vouch opens with C and names C'        pair)", "§11 a cookie from an earlier connection", "§11 INITIATE boxed for
//                                              another key than S'", "§11 a vouch signed by another key than the one
//                                              presented", "§11 a vouch naming another transient key"
//   §11/§5 INITIATE metadata                   "§11 INITIATE metadata past the end of its box", "§11 an INITIATE over
//                                              maxMessageSize (refused at its header)", "§11 INITIATE from a PUB"
//   §11/§12 client key judged by ZAP           "§11 a client key the ZAP handler does not know" (auth 400, ERROR sent)
//   §11 MESSAGE nonces strictly increase       "§11 a MESSAGE replayed", "§11 MESSAGE nonces decreasing", "§11 a first
//                                              MESSAGE reusing the INITIATE nonce"
//   §11 MESSAGE >= 33, box opens, direction    "§11 a MESSAGE of 32 octets", "§11 a MESSAGE with an altered box", "§11 a
//                                              MESSAGE sealed in the server's direction (reflected)"
//   §11 every frame a MESSAGE after READY      "§11 a cleartext message after the handshake", "§11 a cleartext PING after
//                                              the handshake", "§11 a sealed command whose name runs past its end";
//                                              tolerated: "§11 tolerated: a MESSAGE in a command frame"
//   §11 client side: WELCOME exactly 168 and   "§11 client: WELCOME of 167 | 169 octets", "§11 client: WELCOME boxed by
//      opens, READY >= 30 and opens, ERROR,   another server key", "§11 client: READY of 29 octets", "§11 client: READY
//      server nonces increase                 with an altered box", "§11 client: ERROR 400 in place of WELCOME", "§11
//                                              client: READY from a PULL", "§11 client: a server MESSAGE replayed", "§11
//                                              client: a server MESSAGE reusing the READY nonce"
//   §13 PAIR takes one peer; ROUTER ids are    "§13 a second PAIR peer", "§13 a ROUTER peer announcing a routing id
//      unique                                 another peer holds" (peer:refused; kept open by design, see
//                                              StreamEngine.stall; their descriptors: test/regressions/refused-peer-streams)
// Not peer-breakable here: §8 (subscriptions are never refused, only dropped or counted), §12 reply
// format (the handler is ours), §14 (endpoints and transports are local choices).

import { describe, expect, it } from 'vitest';
import type { EventType } from '../../src/socket/events.js';
import { Context } from '../../src/socket/context.js';
import { Pair } from '../../src/socket/pair.js';
import { Pull } from '../../src/socket/push-pull.js';
import { Dealer, Router } from '../../src/socket/dealer-router.js';
import { clientBench, nextEvent, PLAIN_PASSWORD, PLAIN_USER, rawClient, serverBench, text } from './lib/bench.js';
import type { ClientBench, ServerBench } from './lib/bench.js';
import { HandCurveClient, HandCurveServer } from './lib/curve-peers.js';
import { released } from './lib/descriptors.js';
import type { RawPeer } from './lib/raw-peer.js';
import { COMMAND, command, frame, greetingWith, longHeader, message, MORE, ping, property, ready } from './lib/wire.js';

// ---- the verdicts ----

interface Verdict {
  /** The monitor event that must come for this connection. */
  event: EventType;
  /** The violation (or failure) code the connection records; the event's error code for handshake:error:*. */
  code: string;
  /** The ZAP status of an authentication failure. */
  status?: number;
  /** What the bad peer sent validly before breaking the rule, delivered in order. */
  delivered?: readonly (readonly string[])[];
}

/** Plays a bad peer against a server bench and checks the verdict: event, close, descriptor, nothing else delivered, others working. */
async function refused(b: ServerBench, play: (raw: RawPeer) => unknown, v: Verdict): Promise<RawPeer> {
  const raw = await b.raw();
  const seen = b.eventFor(raw, v.event);
  await play(raw);
  const e = await seen;
  if (v.event.startsWith('handshake:error')) expect(e.error?.code).toBe(v.code);
  if (v.status !== undefined) expect(e.error?.status).toBe(v.status);
  await raw.closed;
  if (raw.inode !== undefined) await released(raw.inode);
  expect(b.failures.map((f) => `${f.role} ${f.code}`)).toEqual([`accept ${v.code}`]);
  expect(await b.stillWorks()).toEqual(v.delivered ?? []);
  return raw;
}

/** The same, our socket being the connecting side and the bad peer a raw server. */
async function refusedByServer(b: ClientBench, play: (raw: RawPeer) => unknown, v: Verdict, greeting?: Buffer): Promise<RawPeer> {
  const seen = b.eventForRaw(v.event);
  const raw = await b.connectRaw((r) => greeting !== undefined && r.write(greeting));
  await play(raw);
  const e = await seen;
  if (v.event.startsWith('handshake:error')) expect(e.error?.code).toBe(v.code);
  if (v.status !== undefined) expect(e.error?.status).toBe(v.status);
  await raw.closed;
  if (raw.inode !== undefined) await released(raw.inode);
  expect(b.failures.map((f) => `${f.role} ${f.code}`)).toEqual([`connect ${v.code}`]);
  expect(await b.stillWorks()).toEqual(v.delivered ?? []);
  return raw;
}

/** Waits for a command of that name from our socket, skipping others (READY, PONGs of earlier PINGs). */
async function heard(raw: RawPeer, name: string, pred: (data: Buffer) => boolean = () => true): Promise<Buffer> {
  for (;;) {
    const h = await raw.next();
    if (h === undefined) throw new Error(`the stream closed while ${name} was awaited`);
    if (h.kind === 'command' && h.name === name && pred(h.data)) return h.data;
  }
}

/**
 * A lenient rule: the connection completes its handshake, goes on (a PING sent after the odd bytes
 * is answered, so they were read), delivers `delivered`, and nothing fails.
 */
async function tolerated(b: ServerBench, play: (raw: RawPeer) => unknown, delivered: string[][] = []): Promise<void> {
  const raw = await b.raw();
  const up = b.eventFor(raw, 'handshake');
  await play(raw);
  await up;
  raw.write(ping(0, 'alive'));
  await heard(raw, 'PONG', (d) => d.toString('latin1') === 'alive');
  expect(await b.stillWorks()).toEqual(delivered);
  expect(b.failures).toEqual([]);
  expect(raw.stream.readyState).toBe('open');
}

// ---- what peers say ----

const PUSH_META = property('Socket-Type', 'PUSH');
const PUSH_READY = ready(PUSH_META);
/** A NULL PUSH's greeting and READY. */
const NULL_HELLO = Buffer.concat([greetingWith(), PUSH_READY]);
const PLAIN_GREETING = greetingWith({ mechanism: 'PLAIN' });
const CURVE_GREETING = greetingWith({ mechanism: 'CURVE' });
const ZMTP_NULL_HANDSHAKE = 'handshake:error:protocol';

/** PLAIN HELLO data: user-len user pass-len pass. */
function plainHello(user: string, pass: string): Buffer {
  return Buffer.concat([Buffer.from([user.length]), Buffer.from(user), Buffer.from([pass.length]), Buffer.from(pass)]);
}

/** A raw PLAIN client through HELLO and WELCOME; INITIATE is the case's. */
async function plainWelcomed(raw: RawPeer): Promise<void> {
  raw.write(PLAIN_GREETING, command('HELLO', plainHello(PLAIN_USER, PLAIN_PASSWORD)));
  await heard(raw, 'WELCOME');
}

/** A hand CURVE client for the bench's server, greeted and through HELLO/WELCOME. */
async function curveWelcomed(b: ServerBench, raw: RawPeer, client = new HandCurveClient(b.sodium!, curveClientKeys(b))): Promise<HandCurveClient> {
  raw.write(CURVE_GREETING, client.hello());
  client.welcome(await heard(raw, 'WELCOME'));
  return client;
}

/** A hand CURVE client through the whole handshake. */
async function curveSession(b: ServerBench, raw: RawPeer): Promise<HandCurveClient> {
  const client = await curveWelcomed(b, raw);
  raw.write(client.initiate());
  client.ready(await heard(raw, 'READY'));
  return client;
}

/** A fresh client key pair (not the good peer's) that knows the bench's server key. */
function curveClientKeys(b: ServerBench): { publicKey: Uint8Array; secretKey: Uint8Array; serverKey: Uint8Array } {
  const pair = b.sodium!.crypto_box_keypair();
  return { publicKey: pair.publicKey, secretKey: pair.privateKey, serverKey: b.serverKeys!.publicKey };
}

const SILENCE = 250; // handshakeInterval of the silence cases, ms

// ---- §1 connection lifecycle ----

describe('§1 lifecycle: a handshake that never ends, or ends half-way', () => {
  const timedOut = (play: (raw: RawPeer) => unknown) => async () => {
    const b = await serverBench({ options: { handshakeInterval: SILENCE } });
    await refused(b, play, { event: 'handshake:error:other', code: 'ETIMEDOUT' });
  };
  it('§1 silence before the greeting: closed when handshakeInterval runs out', timedOut(() => {}));
  it('§1 silence after 11 octets of the greeting', timedOut((raw) => raw.write(greetingWith().subarray(0, 11))));
  it('§1 silence after the greeting', timedOut((raw) => raw.write(greetingWith())));
  it('§1 silence in the middle of READY', timedOut((raw) => raw.write(NULL_HELLO.subarray(0, 64 + 10))));

  const dropped = { event: 'handshake:error:other', code: 'ECONNRESET' } as const;
  for (let k = 0; k <= 64; k++) {
    it(`§1 close after ${k} octets of the greeting`, async () => {
      const b = await serverBench();
      await refused(b, (raw) => {
        if (k > 0) raw.write(greetingWith().subarray(0, k));
        raw.end();
      }, dropped);
    });
  }
  for (const j of [1, 2, 10, PUSH_READY.length - 1]) {
    it(`§1 close inside READY at octet ${j}`, async () => {
      const b = await serverBench();
      await refused(b, (raw) => {
        raw.write(NULL_HELLO.subarray(0, 64 + j));
        raw.end();
      }, dropped);
    });
  }
  it('§1 reset in the middle of the greeting', async () => {
    const b = await serverBench();
    await refused(b, async (raw) => {
      raw.write(greetingWith().subarray(0, 30));
      // Our greeting's rest answers the peer's 11th octet: once it came, the 30 have been read.
      await new Promise<void>((r) => {
        const look = (): void => (raw.received.length >= 64 ? r() : void raw.stream.once('data', look));
        look();
      });
      raw.stream.resetAndDestroy();
    }, dropped);
  });
});

// ---- §2 greeting ----

describe('§2 greeting: legacy versions and mechanisms', () => {
  const unsupported = { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_UNSUPPORTED_VERSION' } as const;
  it("§2 a ZMTP 1.0 peer's identity frame (01 00)", async () => {
    await refused(await serverBench(), (raw) => raw.write(Buffer.from([0x01, 0x00])), unsupported);
  });
  it('§2 octet 0 is 0xFE', async () => {
    await refused(await serverBench(), (raw) => raw.write(greetingWith({ first: 0xfe })), unsupported);
  });
  it('§2 octet 9 with bit 0 clear (0x7E)', async () => {
    await refused(await serverBench(), (raw) => raw.write(greetingWith({ signatureEnd: 0x7e })), unsupported);
  });
  for (const major of [0, 1, 2]) {
    // Only 11 octets: a legacy peer may wait for ours before it sends more.
    it(`§2 major version ${major}`, async () => {
      await refused(await serverBench(), (raw) => raw.write(greetingWith({ major }).subarray(0, 11)), unsupported);
    });
  }

  const mismatch = { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_MECHANISM_MISMATCH' } as const;
  const mechanisms: [string, string | Uint8Array][] = [
    ['PLAIN', 'PLAIN'],
    ['CURVE', 'CURVE'],
    ['null (lower case)', 'null'],
    ['FOO', 'FOO'],
    ['empty (20 NULs)', new Uint8Array(20)],
    ['NULL with a stray octet after its padding', Buffer.from('NULL\0\0\0X', 'latin1')],
  ];
  for (const [name, mechanism] of mechanisms) {
    it(`§2 mechanism ${name}, to NULL`, async () => {
      await refused(await serverBench(), (raw) => raw.write(greetingWith({ mechanism })), mismatch);
    });
  }
  it('§2 NULL to a PLAIN server (a downgrade)', async () => {
    await refused(await serverBench({ security: 'PLAIN' }), (raw) => raw.write(NULL_HELLO), mismatch);
  });
  it('§2 NULL to a CURVE server (a downgrade)', async () => {
    await refused(await serverBench({ security: 'CURVE' }), (raw) => raw.write(NULL_HELLO), mismatch);
  });
  it('§2 PLAIN to a CURVE server', async () => {
    await refused(await serverBench({ security: 'CURVE' }), (raw) => raw.write(PLAIN_GREETING), mismatch);
  });

  const lenient: [string, Buffer][] = [
    ['padding octets not zero', greetingWith({ padding: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]) })],
    ['filler not zero', greetingWith({ filler: 0xee })],
    ['minor 0 (ZMTP 3.0)', greetingWith({ minor: 0 })],
    ['major 4', greetingWith({ major: 4 })],
    ['as-server 1 under NULL', greetingWith({ asServer: 1 })],
  ];
  for (const [name, g] of lenient) {
    it(`§2 tolerated: ${name}`, async () => {
      await tolerated(await serverBench(), (raw) => raw.write(g, PUSH_READY, message('hi')), [['hi']]);
    });
  }
});

// ---- §3 frames ----

describe('§3 frames: sizes and truncation', () => {
  const tooBig = { event: 'disconnect', code: 'EMSGSIZE', delivered: [['ok']] } as const;
  const sizes: [string, bigint][] = [
    ['2^63-1', (1n << 63n) - 1n],
    ['2^64-1', (1n << 64n) - 1n],
    ['2^53 (the first a JS number cannot hold)', 1n << 53n],
  ];
  for (const [name, size] of sizes) {
    it(`§3 a frame declaring ${name} octets after the handshake`, async () => {
      await refused(await serverBench(), (raw) => raw.write(NULL_HELLO, message('ok'), longHeader(0, size), Buffer.from('body')), tooBig);
    });
  }
  it('§3 a READY declaring 2^63-1 octets', async () => {
    await refused(await serverBench(), (raw) => raw.write(greetingWith(), longHeader(COMMAND, (1n << 63n) - 1n)), {
      event: ZMTP_NULL_HANDSHAKE,
      code: 'EMSGSIZE',
    });
  });
  it('§3 a frame one octet over maxMessageSize (the frame at the limit is delivered)', async () => {
    const b = await serverBench({ options: { maxMessageSize: 1000 } });
    await refused(b, (raw) => raw.write(NULL_HELLO, message('a'.repeat(1000)), frame(0, 'b'.repeat(1001))), {
      event: 'disconnect',
      code: 'EMSGSIZE',
      delivered: [['a'.repeat(1000)]],
    });
  });
  it('§3 a command over maxMessageSize (a PING with a long context)', async () => {
    const b = await serverBench({ options: { maxMessageSize: 1000 } });
    await refused(b, (raw) => raw.write(NULL_HELLO, message('ok'), ping(0, 'c'.repeat(1000))), tooBig);
  });
  it('§3 a READY over maxMessageSize', async () => {
    const b = await serverBench({ options: { maxMessageSize: 100 } });
    await refused(b, (raw) => raw.write(greetingWith(), ready(PUSH_META, property('X-Pad', 'p'.repeat(200)))), {
      event: ZMTP_NULL_HANDSHAKE,
      code: 'EMSGSIZE',
    });
  });
  it('§3 an oversized LONG header one octet at a time', async () => {
    const b = await serverBench({ options: { maxMessageSize: 1000 } });
    await refused(b, async (raw) => {
      raw.write(NULL_HELLO, message('ok'));
      for (const octet of longHeader(0, 1001n)) {
        raw.write(Buffer.from([octet]));
        await new Promise((r) => setImmediate(r));
      }
    }, tooBig);
  });
  const drop = { event: 'disconnect', code: 'ECONNRESET', delivered: [['whole']] } as const;
  it('§3 the stream ends in the middle of a multipart message', async () => {
    await refused(await serverBench(), (raw) => {
      raw.write(NULL_HELLO, message('whole'), frame(MORE, 'part 1'), frame(MORE, 'part 2'));
      raw.end();
    }, drop);
  });
  it('§3 the stream ends in the middle of a frame body', async () => {
    await refused(await serverBench(), (raw) => {
      raw.write(NULL_HELLO, message('whole'), frame(MORE, 'part 1'), Buffer.from([0x00, 100]), Buffer.alloc(50));
      raw.end();
    }, drop);
  });

  it('§3 tolerated: reserved flag bits', async () => {
    await tolerated(await serverBench(), (raw) => raw.write(NULL_HELLO, frame(0xf8, 'odd flags')), [['odd flags']]);
  });
  it('§3 tolerated: MORE on a command', async () => {
    await tolerated(await serverBench(), (raw) => raw.write(NULL_HELLO, frame(COMMAND | MORE, Buffer.from('\x04PONG')), message('after')), [['after']]);
  });
  it('§3 tolerated: a LONG header for a short body', async () => {
    await tolerated(await serverBench(), (raw) => raw.write(NULL_HELLO, frame(0, 'long', true)), [['long']]);
  });
});

// ---- §4 commands ----

describe('§4 commands: structure, and commands out of place', () => {
  const malformed = 'ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED';
  const shapes: [string, Buffer][] = [
    ['an empty command frame (04 00)', frame(COMMAND, '')],
    ['a name length of 0', frame(COMMAND, Buffer.from('\x00READY'))],
    ['a name length past the body', command('READY', '', { nameLength: 9 })],
  ];
  for (const [name, bytes] of shapes) {
    it(`§4 ${name}, during the handshake`, async () => {
      await refused(await serverBench(), (raw) => raw.write(greetingWith(), bytes), { event: ZMTP_NULL_HANDSHAKE, code: malformed });
    });
    it(`§4 ${name}, after the handshake`, async () => {
      await refused(await serverBench(), (raw) => raw.write(NULL_HELLO, message('ok'), bytes), { event: 'disconnect', code: malformed, delivered: [['ok']] });
    });
  }

  const unexpected = { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_UNEXPECTED_COMMAND' } as const;
  const during: [string, Buffer][] = [
    ['PING', ping(0, 'x')],
    ['PONG', command('PONG', 'x')],
    ['SUBSCRIBE', command('SUBSCRIBE', 'topic')],
    ['CANCEL', command('CANCEL', 'topic')],
    ['HELLO', command('HELLO', plainHello('u', 'p'))],
    ['WELCOME', command('WELCOME')],
    ['INITIATE', command('INITIATE', PUSH_META)],
    ['MESSAGE', command('MESSAGE', Buffer.alloc(40))],
    ['FOO', command('FOO', 'bar')],
  ];
  for (const [name, bytes] of during) {
    it(`§4 ${name} during the NULL handshake`, async () => {
      await refused(await serverBench(), (raw) => raw.write(greetingWith(), bytes, PUSH_READY), unexpected);
    });
  }
  it('§4 a message before READY', async () => {
    await refused(await serverBench(), (raw) => raw.write(greetingWith(), message('early'), PUSH_READY), unexpected);
  });
  it('§4 a multipart message begun before READY', async () => {
    await refused(await serverBench(), (raw) => raw.write(greetingWith(), frame(MORE, 'early'), PUSH_READY, frame(0, 'late')), unexpected);
  });

  it('§4 tolerated: an unknown command after the handshake', async () => {
    await tolerated(await serverBench(), (raw) => raw.write(NULL_HELLO, command('FOO', 'bar'), message('after')), [['after']]);
  });
  it('§4 tolerated: a second READY after the handshake', async () => {
    await tolerated(await serverBench(), (raw) => raw.write(NULL_HELLO, ready(property('Socket-Type', 'PUB')), message('after')), [['after']]);
  });
  it('§4 tolerated: SUBSCRIBE and CANCEL to a PULL after the handshake', async () => {
    await tolerated(await serverBench(), (raw) => raw.write(NULL_HELLO, command('SUBSCRIBE', 'a'), command('CANCEL', 'a'), message('after')), [['after']]);
  });
});

// ---- §5 metadata, §7 socket types ----

describe('§5 metadata and §7 socket-type pairs', () => {
  const invalid = { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_INVALID_METADATA' } as const;
  const blocks: [string, Buffer][] = [
    ['a property name past the end', Buffer.from('\x0bSocket-Ty', 'latin1')],
    ['a value length past the end', property('Socket-Type', 'PUSH', 5)],
    ['a value length of 2^32-1', property('Socket-Type', 'PUSH', 0xffffffff)],
    ['one trailing octet', Buffer.concat([PUSH_META, Buffer.from([0x01])])],
    ['a value length cut short', Buffer.concat([PUSH_META, Buffer.from('\x01X\x00\x00', 'latin1')])],
  ];
  for (const [name, block] of blocks) {
    it(`§5 ${name}`, async () => {
      await refused(await serverBench(), (raw) => raw.write(greetingWith(), ready(block)), invalid);
    });
  }

  const incompatible = { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_INCOMPATIBLE_SOCKET_TYPE' } as const;
  for (const type of ['PULL', 'PUB', 'SUB', 'XPUB', 'XSUB', 'REQ', 'REP', 'DEALER', 'ROUTER', 'PAIR', 'FOO', '', 'push']) {
    it(`§7 Socket-Type ${JSON.stringify(type)} to a PULL`, async () => {
      await refused(await serverBench(), (raw) => raw.write(greetingWith(), ready(property('Socket-Type', type))), incompatible);
    });
  }

  it('§5 tolerated: no Socket-Type (libzmq accepts it)', async () => {
    await tolerated(await serverBench(), (raw) => raw.write(greetingWith(), ready(property('X-Other', 'v')), message('hi')), [['hi']]);
  });
  it('§5 tolerated: socket-type in lower case', async () => {
    await tolerated(await serverBench(), (raw) => raw.write(greetingWith(), ready(property('socket-type', 'PUSH')), message('hi')), [['hi']]);
  });
  it('§5 tolerated: a duplicate Socket-Type (the first counts)', async () => {
    await tolerated(await serverBench(), (raw) => raw.write(greetingWith(), ready(PUSH_META, property('Socket-Type', 'PUB')), message('hi')), [['hi']]);
  });
});

// ---- §6 NULL ----

describe('§6 NULL: ERROR and READY', () => {
  const error = (reason: string) => command('ERROR', Buffer.concat([Buffer.from([reason.length]), Buffer.from(reason)]));
  it('§6 ERROR 400 in place of READY', async () => {
    await refused(await serverBench(), (raw) => raw.write(greetingWith(), error('400')), {
      event: 'handshake:error:auth',
      code: 'ERR_ZMTP_PEER_ERROR',
      status: 400,
    });
  });
  it('§6 ERROR with another reason', async () => {
    await refused(await serverBench(), (raw) => raw.write(greetingWith(), error('go away')), { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_PEER_ERROR' });
  });
  it('§6 ERROR whose reason runs past its end', async () => {
    await refused(await serverBench(), (raw) => raw.write(greetingWith(), command('ERROR', '\x09400')), {
      event: ZMTP_NULL_HANDSHAKE,
      code: 'ERR_ZMTP_MALFORMED_COMMAND_ERROR',
    });
  });
  it('§6 a second READY while ZAP judges the first', async () => {
    await refused(await serverBench({ nullZap: true }), (raw) => raw.write(NULL_HELLO, PUSH_READY), {
      event: ZMTP_NULL_HANDSHAKE,
      code: 'ERR_ZMTP_UNEXPECTED_COMMAND',
    });
  });
});

// ---- §9 heartbeats ----

describe('§9 heartbeats', () => {
  it('§9 a PING of fewer than 2 octets', async () => {
    await refused(await serverBench(), (raw) => raw.write(NULL_HELLO, message('ok'), command('PING', '\x00')), {
      event: 'disconnect',
      code: 'ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED',
      delivered: [['ok']],
    });
  });
  it('§9 a PING asking for a TTL, then silence', async () => {
    // ttl 1 = 100 ms: the connection must hear from the peer within that, or close.
    await refused(await serverBench(), (raw) => raw.write(NULL_HELLO, message('ok'), ping(1)), {
      event: 'disconnect',
      code: 'ETIMEDOUT',
      delivered: [['ok']],
    });
  });
  for (const n of [17, 255 - 7]) {
    it(`§9 tolerated: a PING with a ${n}-octet context gets a PONG of its first 16`, async () => {
      const context = Buffer.from(Array.from({ length: n }, (_, i) => 0x41 + (i % 26)));
      const b = await serverBench();
      let pong: Buffer | undefined;
      await tolerated(b, async (raw) => {
        raw.write(NULL_HELLO, ping(0, context));
        pong = await heard(raw, 'PONG');
      });
      expect(pong).toEqual(context.subarray(0, 16));
    });
  }
});

// ---- §10 PLAIN ----

describe('§10 PLAIN server', () => {
  const malformedHello = { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_MALFORMED_COMMAND_HELLO' } as const;
  const hellos: [string, Buffer][] = [
    ['HELLO with no data', Buffer.alloc(0)],
    ['HELLO whose username runs past the end', Buffer.from('\x09adm', 'latin1')],
    ['HELLO that ends after the username', Buffer.from('\x05admin', 'latin1')],
    ['HELLO whose password runs past the end', Buffer.from('\x05admin\x09sec', 'latin1')],
    ['HELLO with octets after the password', Buffer.concat([plainHello(PLAIN_USER, PLAIN_PASSWORD), Buffer.from('!')])],
  ];
  for (const [name, data] of hellos) {
    it(`§10 ${name}`, async () => {
      await refused(await serverBench({ security: 'PLAIN' }), (raw) => raw.write(PLAIN_GREETING, command('HELLO', data)), malformedHello);
    });
  }
  const unexpected = { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_UNEXPECTED_COMMAND' } as const;
  it('§10 WELCOME in place of HELLO (libzmq#3500)', async () => {
    await refused(await serverBench({ security: 'PLAIN' }), (raw) => raw.write(PLAIN_GREETING, command('WELCOME')), unexpected);
  });
  it('§10 INITIATE before HELLO', async () => {
    await refused(await serverBench({ security: 'PLAIN' }), (raw) => raw.write(PLAIN_GREETING, command('INITIATE', PUSH_META)), unexpected);
  });
  it('§10 INITIATE while ZAP judges HELLO', async () => {
    await refused(
      await serverBench({ security: 'PLAIN' }),
      (raw) => raw.write(PLAIN_GREETING, command('HELLO', plainHello(PLAIN_USER, PLAIN_PASSWORD)), command('INITIATE', PUSH_META)),
      unexpected,
    );
  });
  it('§10 READY in place of INITIATE', async () => {
    await refused(await serverBench({ security: 'PLAIN' }), async (raw) => {
      await plainWelcomed(raw);
      raw.write(PUSH_READY);
    }, unexpected);
  });
  it('§10 a message before INITIATE', async () => {
    await refused(await serverBench({ security: 'PLAIN' }), async (raw) => {
      await plainWelcomed(raw);
      raw.write(message('early'), command('INITIATE', PUSH_META));
    }, unexpected);
  });
  it('§10 a wrong password (ERROR 400 reaches the peer)', async () => {
    const raw = await refused(
      await serverBench({ security: 'PLAIN' }),
      (raw) => raw.write(PLAIN_GREETING, command('HELLO', plainHello(PLAIN_USER, 'guess'))),
      { event: 'handshake:error:auth', code: 'ERR_ZAP_REFUSED', status: 400 },
    );
    expect((await heard(raw, 'ERROR')).toString('latin1')).toBe('\x03400');
  });
  it('§10 INITIATE with metadata past its end', async () => {
    await refused(await serverBench({ security: 'PLAIN' }), async (raw) => {
      await plainWelcomed(raw);
      raw.write(command('INITIATE', property('Socket-Type', 'PUSH', 40)));
    }, { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_INVALID_METADATA' });
  });
  it('§10 INITIATE from a PUB', async () => {
    await refused(await serverBench({ security: 'PLAIN' }), async (raw) => {
      await plainWelcomed(raw);
      raw.write(command('INITIATE', property('Socket-Type', 'PUB')));
    }, { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_INCOMPATIBLE_SOCKET_TYPE' });
  });
});

describe('§10 PLAIN client (our socket connects to a bad server)', () => {
  const SERVER_GREETING = greetingWith({ mechanism: 'PLAIN', asServer: 1 });
  /** Waits for our HELLO, then writes the server's answer. */
  const answer = (...bytes: Buffer[]) => async (raw: RawPeer) => {
    await heard(raw, 'HELLO');
    raw.write(...bytes);
  };
  it('§10 client: WELCOME with data', async () => {
    await refusedByServer(await clientBench('PLAIN'), answer(command('WELCOME', 'x')), { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_MALFORMED_COMMAND_WELCOME' }, SERVER_GREETING);
  });
  it('§10 client: READY before WELCOME', async () => {
    await refusedByServer(await clientBench('PLAIN'), answer(ready(property('Socket-Type', 'PUSH'))), { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_UNEXPECTED_COMMAND' }, SERVER_GREETING);
  });
  it('§10 client: ERROR 400 for our HELLO', async () => {
    await refusedByServer(await clientBench('PLAIN'), answer(command('ERROR', '\x03400')), { event: 'handshake:error:auth', code: 'ERR_ZMTP_PEER_ERROR', status: 400 }, SERVER_GREETING);
  });
  it('§10 client: a server that sends HELLO (two clients)', async () => {
    await refusedByServer(await clientBench('PLAIN'), answer(command('HELLO', plainHello('u', 'p'))), { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_UNEXPECTED_COMMAND' }, SERVER_GREETING);
  });
  it('§10 client: READY from a PULL', async () => {
    await refusedByServer(await clientBench('PLAIN'), async (raw) => {
      await heard(raw, 'HELLO');
      raw.write(command('WELCOME'));
      await heard(raw, 'INITIATE');
      raw.write(ready(property('Socket-Type', 'PULL')));
    }, { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_INCOMPATIBLE_SOCKET_TYPE' }, SERVER_GREETING);
  });
});

// ---- §11 CURVE ----

describe('§11 CURVE server', () => {
  const curve = (opts: Parameters<typeof serverBench>[0] = {}) => serverBench({ security: 'CURVE', ...opts });
  const malformedHello = { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_MALFORMED_COMMAND_HELLO' } as const;
  const crypto = { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_CRYPTOGRAPHIC' } as const;
  const unexpected = { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_UNEXPECTED_COMMAND' } as const;
  const hello = (b: ServerBench, opts: Parameters<HandCurveClient['hello']>[0]) => new HandCurveClient(b.sodium!, curveClientKeys(b)).hello(opts);

  for (const bodySize of [199, 201]) {
    it(`§11 HELLO of ${bodySize} octets`, async () => {
      const b = await curve();
      await refused(b, (raw) => raw.write(CURVE_GREETING, hello(b, { bodySize })), malformedHello);
    });
  }
  it('§11 HELLO announcing CurveZMQ 2.0', async () => {
    const b = await curve();
    await refused(b, (raw) => raw.write(CURVE_GREETING, hello(b, { version: [2, 0] })), malformedHello);
  });
  it('§11 HELLO boxed for another server key', async () => {
    const b = await curve();
    await refused(b, (raw) => raw.write(CURVE_GREETING, hello(b, { serverKey: b.sodium!.crypto_box_keypair().publicKey })), crypto);
  });
  it('§11 HELLO with an altered box', async () => {
    const b = await curve();
    await refused(b, (raw) => raw.write(CURVE_GREETING, hello(b, { flip: true })), crypto);
  });
  it('§11 INITIATE in place of HELLO', async () => {
    const b = await curve();
    await refused(b, (raw) => raw.write(CURVE_GREETING, command('INITIATE', Buffer.alloc(300))), unexpected);
  });
  it('§11 a second HELLO in place of INITIATE', async () => {
    const b = await curve();
    await refused(b, async (raw) => {
      const client = await curveWelcomed(b, raw);
      raw.write(client.hello());
    }, unexpected);
  });
  it('§11 INITIATE of 256 octets', async () => {
    const b = await curve();
    await refused(b, async (raw) => {
      const client = await curveWelcomed(b, raw);
      raw.write(client.initiate({ bodySize: 256 }));
    }, { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_MALFORMED_COMMAND_INITIATE' });
  });
  it('§11 a cookie from another server (same key pair)', async () => {
    const b = await curve();
    // Another server holding the same permanent keys (a second node of one service): its cookie is
    // a real cookie, under another connection key K.
    const twin = new Pull({ context: b.context, curveServer: true, curveSecretKey: b.serverKeys!.z85.secretKey });
    try {
      await twin.bind('tcp://127.0.0.1:*');
      const twinBench = { ...b, port: Number(twin.lastEndpoint!.split(':').pop()) };
      const keys = curveClientKeys(b);
      const elsewhere = new HandCurveClient(b.sodium!, keys);
      const other = await rawClient(twinBench.port);
      other.write(CURVE_GREETING, elsewhere.hello());
      elsewhere.welcome(await heard(other, 'WELCOME'));
      await refused(b, async (raw) => {
        const client = await curveWelcomed(b, raw, new HandCurveClient(b.sodium!, keys, elsewhere.transient));
        raw.write(client.initiate({ cookie: elsewhere.cookie }));
      }, crypto);
      other.destroy();
    } finally {
      twin.close();
    }
  });
  it('§11 a cookie from an earlier connection to this server', async () => {
    const b = await curve();
    const keys = curveClientKeys(b);
    const earlier = new HandCurveClient(b.sodium!, keys);
    const first = await rawClient(b.port);
    first.write(CURVE_GREETING, earlier.hello());
    earlier.welcome(await heard(first, 'WELCOME'));
    await refused(b, async (raw) => {
      const client = await curveWelcomed(b, raw, new HandCurveClient(b.sodium!, keys, earlier.transient));
      raw.write(client.initiate({ cookie: earlier.cookie }));
    }, crypto);
    first.destroy();
  });
  it("§11 INITIATE boxed for another key than S'", async () => {
    const b = await curve();
    await refused(b, async (raw) => {
      const client = await curveWelcomed(b, raw);
      raw.write(client.initiate({ boxTo: b.sodium!.crypto_box_keypair().publicKey }));
    }, crypto);
  });
  it('§11 a vouch signed by another key than the one presented', async () => {
    const b = await curve();
    await refused(b, async (raw) => {
      const client = await curveWelcomed(b, raw);
      raw.write(client.initiate({ presentedKey: b.sodium!.crypto_box_keypair().publicKey }));
    }, crypto);
  });
  it('§11 a vouch naming another transient key', async () => {
    const b = await curve();
    await refused(b, async (raw) => {
      const client = await curveWelcomed(b, raw);
      raw.write(client.initiate({ vouchTransient: b.sodium!.crypto_box_keypair().publicKey }));
    }, { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_KEY_EXCHANGE' });
  });
  it('§11 INITIATE metadata past the end of its box', async () => {
    const b = await curve();
    await refused(b, async (raw) => {
      const client = await curveWelcomed(b, raw);
      raw.write(client.initiate({ metadata: property('Socket-Type', 'PUSH', 1 << 20) }));
    }, { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_INVALID_METADATA' });
  });
  it('§11 an INITIATE over maxMessageSize (refused at its header)', async () => {
    const b = await curve({ options: { maxMessageSize: 4096 } });
    await refused(b, async (raw) => {
      const client = await curveWelcomed(b, raw);
      const initiate = client.initiate({ metadata: Buffer.concat([PUSH_META, property('X-Pad', Buffer.alloc(1 << 20))]) });
      // The header and a few octets: the rest of the megabyte is never sent, so it cannot be what closed us.
      raw.write(initiate.subarray(0, 16));
    }, { event: ZMTP_NULL_HANDSHAKE, code: 'EMSGSIZE' });
  });
  it('§11 INITIATE from a PUB', async () => {
    const b = await curve();
    await refused(b, async (raw) => {
      const client = await curveWelcomed(b, raw);
      raw.write(client.initiate({ metadata: property('Socket-Type', 'PUB') }));
    }, { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_INCOMPATIBLE_SOCKET_TYPE' });
  });
  it('§11 a client key the ZAP handler does not know (ERROR 400 reaches the peer)', async () => {
    const b = await curve({ curveClients: [] });
    const raw = await refused(b, async (raw) => {
      const client = await curveWelcomed(b, raw);
      raw.write(client.initiate());
    }, { event: 'handshake:error:auth', code: 'ERR_ZAP_REFUSED', status: 400 });
    expect((await heard(raw, 'ERROR')).toString('latin1')).toBe('\x03400');
  });

  const sequence = 'ERR_ZMTP_INVALID_SEQUENCE';
  it('§11 a MESSAGE replayed', async () => {
    const b = await curve();
    await refused(b, async (raw) => {
      const client = await curveSession(b, raw);
      const once = client.message(0, 'one');
      raw.write(once, once);
    }, { event: 'disconnect', code: sequence, delivered: [['one']] });
  });
  it('§11 MESSAGE nonces decreasing', async () => {
    const b = await curve();
    await refused(b, async (raw) => {
      const client = await curveSession(b, raw);
      raw.write(client.message(0, 'ten', 10n), client.message(0, 'nine', 9n));
    }, { event: 'disconnect', code: sequence, delivered: [['ten']] });
  });
  it('§11 a first MESSAGE reusing the INITIATE nonce', async () => {
    const b = await curve();
    await refused(b, async (raw) => {
      const client = await curveSession(b, raw);
      raw.write(client.message(0, 'two', 2n)); // HELLO 1, INITIATE 2
    }, { event: 'disconnect', code: sequence });
  });
  it('§11 a MESSAGE of 32 octets', async () => {
    const b = await curve();
    await refused(b, async (raw) => {
      const client = await curveSession(b, raw);
      raw.write(client.message(0, 'ok'), frame(0, Buffer.concat([Buffer.from('\x07MESSAGE'), Buffer.alloc(24)])));
    }, { event: 'disconnect', code: 'ERR_ZMTP_MALFORMED_COMMAND_MESSAGE', delivered: [['ok']] });
  });
  it('§11 a MESSAGE with an altered box', async () => {
    const b = await curve();
    await refused(b, async (raw) => {
      const client = await curveSession(b, raw);
      const ok = client.message(0, 'ok');
      const bad = client.message(0, 'altered');
      bad[bad.length - 1] ^= 0x01;
      raw.write(ok, bad);
    }, { event: 'disconnect', code: 'ERR_ZMTP_CRYPTOGRAPHIC', delivered: [['ok']] });
  });
  it("§11 a MESSAGE sealed in the server's direction (reflected)", async () => {
    const b = await curve();
    await refused(b, async (raw) => {
      const client = await curveSession(b, raw);
      const ok = client.message(0, 'ok');
      // Sealed under the same shared key, with the prefix and next nonce of the other direction.
      const reflected = frame(0, Buffer.concat([Buffer.from('\x07MESSAGE'), client.messageData(0, 'mirror', undefined, 'CurveZMQMESSAGES')]));
      raw.write(ok, reflected);
    }, { event: 'disconnect', code: 'ERR_ZMTP_CRYPTOGRAPHIC', delivered: [['ok']] });
  });
  it('§11 a cleartext message after the handshake', async () => {
    const b = await curve();
    await refused(b, async (raw) => {
      const client = await curveSession(b, raw);
      raw.write(client.message(0, 'ok'), message('clear'));
    }, { event: 'disconnect', code: 'ERR_ZMTP_UNEXPECTED_COMMAND', delivered: [['ok']] });
  });
  it('§11 a cleartext PING after the handshake', async () => {
    const b = await curve();
    await refused(b, async (raw) => {
      const client = await curveSession(b, raw);
      raw.write(client.message(0, 'ok'), ping(0, 'clear'));
    }, { event: 'disconnect', code: 'ERR_ZMTP_UNEXPECTED_COMMAND', delivered: [['ok']] });
  });
  it('§11 a sealed command whose name runs past its end', async () => {
    const b = await curve();
    await refused(b, async (raw) => {
      const client = await curveSession(b, raw);
      raw.write(client.message(0, 'ok'), client.message(0x02, Buffer.from('\x09PING')));
    }, { event: 'disconnect', code: 'ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED', delivered: [['ok']] });
  });
  it('§11 tolerated: a MESSAGE in a command frame', async () => {
    const b = await curve();
    const raw = await b.raw();
    const up = b.eventFor(raw, 'handshake');
    const client = await curveSession(b, raw);
    await up;
    raw.write(frame(COMMAND, Buffer.concat([Buffer.from('\x07MESSAGE'), client.messageData(0, 'in a command')])));
    // A sealed PING: its sealed PONG shows the frame before it was read.
    raw.write(client.message(0x02, Buffer.from('\x04PING\x00\x00')));
    // Our server seals its PONG into a MESSAGE carried in a data frame, as libzmq does.
    const h = await raw.next();
    expect(h?.kind === 'message' && h.frames[0].subarray(0, 8).toString('latin1')).toBe('\x07MESSAGE');
    expect(await b.stillWorks()).toEqual([['in a command']]);
    expect(b.failures).toEqual([]);
  });
});

describe('§11 CURVE client (our socket connects to a bad server)', () => {
  const SERVER_GREETING = greetingWith({ mechanism: 'CURVE', asServer: 1 });
  /** A hand server holding the keys our client expects, through HELLO; the case answers. */
  async function helloed(b: ClientBench, raw: RawPeer): Promise<HandCurveServer> {
    const server = new HandCurveServer(b.sodium!, b.serverKeys!);
    server.hello(await heard(raw, 'HELLO'));
    return server;
  }
  /** … and through INITIATE and READY. */
  async function session(b: ClientBench, raw: RawPeer): Promise<HandCurveServer> {
    const server = await helloed(b, raw);
    raw.write(server.welcome());
    await heard(raw, 'INITIATE');
    raw.write(server.ready());
    return server;
  }
  for (const bodySize of [167, 169]) {
    it(`§11 client: WELCOME of ${bodySize} octets`, async () => {
      const b = await clientBench('CURVE');
      await refusedByServer(b, async (raw) => raw.write((await helloed(b, raw)).welcome({ bodySize })), {
        event: ZMTP_NULL_HANDSHAKE,
        code: 'ERR_ZMTP_MALFORMED_COMMAND_WELCOME',
      }, SERVER_GREETING);
    });
  }
  it('§11 client: WELCOME boxed by another server key', async () => {
    const b = await clientBench('CURVE');
    await refusedByServer(b, async (raw) => raw.write((await helloed(b, raw)).welcome({ signer: b.sodium!.crypto_box_keypair().privateKey })), {
      event: ZMTP_NULL_HANDSHAKE,
      code: 'ERR_ZMTP_CRYPTOGRAPHIC',
    }, SERVER_GREETING);
  });
  it('§11 client: READY of 29 octets', async () => {
    const b = await clientBench('CURVE');
    await refusedByServer(b, async (raw) => {
      const server = await helloed(b, raw);
      raw.write(server.welcome());
      await heard(raw, 'INITIATE');
      raw.write(server.ready({ bodySize: 29 }));
    }, { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_MALFORMED_COMMAND_READY' }, SERVER_GREETING);
  });
  it('§11 client: READY with an altered box', async () => {
    const b = await clientBench('CURVE');
    await refusedByServer(b, async (raw) => {
      const server = await helloed(b, raw);
      raw.write(server.welcome());
      await heard(raw, 'INITIATE');
      raw.write(server.ready({ flip: true }));
    }, { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_CRYPTOGRAPHIC' }, SERVER_GREETING);
  });
  it('§11 client: READY from a PULL', async () => {
    const b = await clientBench('CURVE');
    await refusedByServer(b, async (raw) => {
      const server = await helloed(b, raw);
      raw.write(server.welcome());
      await heard(raw, 'INITIATE');
      raw.write(server.ready({ metadata: property('Socket-Type', 'PULL') }));
    }, { event: ZMTP_NULL_HANDSHAKE, code: 'ERR_ZMTP_INCOMPATIBLE_SOCKET_TYPE' }, SERVER_GREETING);
  });
  it('§11 client: ERROR 400 in place of WELCOME', async () => {
    const b = await clientBench('CURVE');
    await refusedByServer(b, async (raw) => {
      await heard(raw, 'HELLO');
      raw.write(command('ERROR', '\x03400'));
    }, { event: 'handshake:error:auth', code: 'ERR_ZMTP_PEER_ERROR', status: 400 }, SERVER_GREETING);
  });
  it('§11 client: a server MESSAGE replayed', async () => {
    const b = await clientBench('CURVE');
    await refusedByServer(b, async (raw) => {
      const server = await session(b, raw);
      const once = server.message(0, 'one');
      raw.write(once, once);
    }, { event: 'disconnect', code: 'ERR_ZMTP_INVALID_SEQUENCE', delivered: [['one']] }, SERVER_GREETING);
  });
  it('§11 client: a server MESSAGE reusing the READY nonce', async () => {
    const b = await clientBench('CURVE');
    await refusedByServer(b, async (raw) => {
      const server = await session(b, raw);
      raw.write(server.message(0, 'one', 1n)); // READY was 1
    }, { event: 'disconnect', code: 'ERR_ZMTP_INVALID_SEQUENCE' }, SERVER_GREETING);
  });
});

// ---- §13 socket rules: refused, not closed ----

describe('§13 peers a socket refuses (kept open by design, read and dropped)', () => {
  /**
   * The refused peer sends a message, then a PING: its PONG shows the message was read (and, the
   * peer being refused, dropped). The peer attached first still gets through, alone.
   */
  async function dropsAndGoesOn(refusedRaw: RawPeer, receive: () => Promise<Buffer[]>, readable: () => boolean, sendGood: () => Promise<void>, expected: string[]) {
    refusedRaw.write(message('dropped'), ping(0, 'read'));
    await heard(refusedRaw, 'PONG', (d) => d.toString() === 'read');
    await sendGood();
    expect(text(await receive())).toEqual(expected);
    expect(readable()).toBe(false);
  }
  it('§13 a second PAIR peer', async () => {
    const context = new Context();
    const pair = new Pair({ context });
    const good = new Pair({ context });
    try {
      await pair.bind('tcp://127.0.0.1:*');
      const up = nextEvent(pair, 'handshake');
      good.connect(pair.lastEndpoint!);
      await up;
      const refusal = nextEvent(pair, 'peer:refused');
      const raw = await rawClient(Number(pair.lastEndpoint!.split(':').pop()));
      raw.write(greetingWith(), ready(property('Socket-Type', 'PAIR')));
      expect((await refusal).peer?.socketType).toBe('PAIR');
      await dropsAndGoesOn(raw, () => pair.receive(), () => pair.readable, () => good.send('first peer'), ['first peer']);
      raw.destroy();
    } finally {
      pair.close();
      good.close();
    }
  });
  it('§13 a ROUTER peer announcing a routing id another peer holds', async () => {
    const context = new Context();
    const router = new Router({ context });
    const good = new Dealer({ context, routingId: 'taken' });
    try {
      await router.bind('tcp://127.0.0.1:*');
      const up = nextEvent(router, 'handshake');
      good.connect(router.lastEndpoint!);
      await up;
      const refusal = nextEvent(router, 'peer:refused');
      const raw = await rawClient(Number(router.lastEndpoint!.split(':').pop()));
      raw.write(greetingWith(), ready(property('Socket-Type', 'DEALER'), property('Identity', 'taken')));
      await refusal;
      await dropsAndGoesOn(raw, () => router.receive(), () => router.readable, () => good.send('first peer'), ['taken', 'first peer']);
      raw.destroy();
    } finally {
      router.close();
      good.close();
    }
  });
});
