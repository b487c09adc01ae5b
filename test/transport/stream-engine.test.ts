// The stream engine through its two plug-in points and nothing else: a ByteStream (here in memory,
// no node:net) and a Mechanism (NULL, and X-XOR, a test-only mechanism defined below with a
// four-command handshake, an asynchronous ZAP step and a per-frame transform). Then when the engine
// writes (one gathered write per flush), against a stream that records each write.
//
//   host A ─pipes─ engine A ══ MemoryStream ══ MemoryStream ══ engine B ─pipes─ host B
//                    │ mechanism A                      mechanism B │

import { describe, expect, it } from 'vitest';
import { Pipe } from '../../src/core/pipe.js';
import {
  encodeCommand,
  encodeGreeting,
  errorCommand,
  FrameDecoder,
  type FrameCipher,
  type Greeting,
  type HandshakeWait,
  type Mechanism,
  type MechanismStep,
  NullMechanism,
  type PeerInfo,
  peerErrorViolation,
  readPeerMetadata,
  readyCommand,
  socketMetadata,
  type Violation,
  violation,
  type ZapReply,
  zapRefusal,
  type ZapRequest,
} from '../../src/protocol/index.js';
import type { ByteStream, ByteStreamListener } from '../../src/transport/byte-stream.js';
import { StreamEngine } from '../../src/transport/stream-engine.js';
import type { EngineHost } from '../../src/transport/stream-engine.js';
import { type MemoryStream, memoryStreams } from './memory-stream.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Waits, turn by turn, for a condition that must become true (the test's timeout bounds it). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await nextTurn();
}

const text = (frames: Uint8Array[]): string[] => frames.map((f) => Buffer.from(f).toString());

// ---- X-XOR: a mechanism for these tests only ----

const XOR_KEY = 0x5a;

function xor(flags: number, body: Uint8Array, key: number): Uint8Array {
  const out = new Uint8Array(1 + body.length);
  out[0] = flags ^ key;
  for (let i = 0; i < body.length; i++) out[1 + i] = body[i] ^ key;
  return out;
}

/** Every frame XORed with the key agreed in HELLO: reversible, and never the plaintext on the wire. */
class XorCipher implements FrameCipher {
  readonly carrier = 'MESSAGE';
  readonly #key: number;
  constructor(key: number) {
    this.#key = key;
  }
  seal(flags: number, body: Uint8Array): Uint8Array {
    return xor(flags, body, this.#key);
  }
  open(data: Uint8Array): Uint8Array | Violation {
    if (data.length === 0) return violation('ERR_ZMTP_MALFORMED_COMMAND_MESSAGE', 'an empty MESSAGE');
    const opened = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) opened[i] = data[i] ^ this.#key;
    // Flags other than MORE and COMMAND mean the key was wrong (what a MAC failure is for CURVE).
    if (opened[0] > 3) return violation('ERR_ZMTP_CRYPTOGRAPHIC', `MESSAGE opened to flags 0x${opened[0].toString(16)}`);
    return opened;
  }
}

/**
 * X-XOR handshake, shaped like PLAIN (RFC 24) with a ZAP step on the server:
 *
 *   client                             server
 *   HELLO key ───────────────────────▶ asks ZAP (credentials: [key]) … answered later
 *             ◀─────────────────────── WELCOME            (ZAP 200; 400/500: ERROR, close)
 *   INITIATE metadata ───────────────▶
 *             ◀─────────────────────── READY metadata     (both ready: every frame XORed)
 */
class XorMechanism implements Mechanism {
  readonly name = 'X-XOR';
  readonly asServer: boolean;
  readonly #socketType: string;
  #key = XOR_KEY;
  #expect: 'HELLO' | 'ZAP' | 'WELCOME' | 'INITIATE' | 'READY' | 'done';

  constructor(server: boolean, socketType: string) {
    this.asServer = server;
    this.#socketType = socketType;
    this.#expect = server ? 'HELLO' : 'WELCOME';
  }

  get awaiting(): HandshakeWait {
    return this.#expect === 'done' ? 'none' : (this.#expect.toLowerCase() as HandshakeWait);
  }

  start(_peer: Greeting): MechanismStep {
    if (this.asServer) return { status: 'continue' };
    return { status: 'continue', send: [encodeCommand('HELLO', new Uint8Array([this.#key]))] };
  }

  onCommand(name: string, data: Uint8Array): MechanismStep {
    if (name === 'ERROR') return { status: 'error', violation: peerErrorViolation(data) };
    if (name !== this.#expect) {
      return {
        status: 'error',
        send: [errorCommand('unexpected command')],
        violation: violation('ERR_ZMTP_UNEXPECTED_COMMAND', `X-XOR expected ${this.#expect}, got ${name}`),
      };
    }
    switch (name) {
      case 'HELLO':
        this.#key = data[0];
        this.#expect = 'ZAP';
        return { status: 'zap', request: { mechanism: this.name, credentials: [data.slice()] } };
      case 'WELCOME':
        this.#expect = 'READY';
        return { status: 'continue', send: [encodeCommand('INITIATE', socketMetadata(this.#socketType))] };
      default: {
        // INITIATE (server) or READY (client): the peer's metadata; the handshake is done.
        const judged = readPeerMetadata(this.#socketType, data);
        if (judged.status === 'error') return judged;
        this.#expect = 'done';
        const send = this.asServer ? [encodeCommand('READY', socketMetadata(this.#socketType))] : undefined;
        return { status: 'ready', send, peer: judged.peer, cipher: new XorCipher(this.#key) };
      }
    }
  }

  zapReplied(reply: ZapReply): MechanismStep {
    const refused = zapRefusal(reply);
    if (refused !== undefined) return refused;
    this.#expect = 'INITIATE';
    return { status: 'continue', send: [encodeCommand('WELCOME')] };
  }
}

// ---- two engines joined in memory ----

/** A host as net-transport is one, reduced: pipes attached on ready, the engine destroyed on failure. */
class Side implements EngineHost {
  readonly out = new Pipe(1000);
  readonly in = new Pipe(1000);
  readonly zapRequests: ZapRequest[] = [];
  readonly pinged: number[] = [];
  readonly stream: MemoryStream;
  engine!: StreamEngine;
  peer: PeerInfo | undefined;
  failure: { v: Violation; handshaking: boolean } | undefined;
  closed = false;
  traffic = 0;
  /** How a ZAP request is answered; by default it waits for the test to call `engine.zapReplied`. */
  onZap: ((engine: StreamEngine, request: ZapRequest) => void) | undefined;

  constructor(stream: MemoryStream) {
    this.stream = stream;
  }
  engineGreeted(): void {}
  engineZapRequest(engine: StreamEngine, request: ZapRequest): void {
    this.zapRequests.push(request);
    this.onZap?.(engine, request);
  }
  engineReady(engine: StreamEngine, peer: PeerInfo): void {
    this.peer = peer;
    engine.attach(this.out, this.in);
  }
  engineFailed(engine: StreamEngine, v: Violation, handshaking: boolean): void {
    this.failure = { v, handshaking };
    engine.destroy();
  }
  engineClosed(engine: StreamEngine): void {
    this.closed = true;
    engine.destroy();
  }
  engineTraffic(): void {
    this.traffic++;
  }
  enginePinged(_engine: StreamEngine, ttl: number): void {
    this.pinged.push(ttl);
  }
  /** For each PING reported sent: how many packets this side had written by then. */
  readonly pingsSentAt: number[] = [];
  enginePingSent(): void {
    this.pingsSentAt.push(this.stream.wire.length);
  }
  /** The next message the peer sent, once it has arrived. */
  async receive(): Promise<string[]> {
    await until(() => this.in.size > 0);
    return text(this.in.read()!);
  }
}

type MechanismKind = 'NULL' | 'X-XOR';

function mechanism(kind: MechanismKind, server: boolean, socketType: string): Mechanism {
  return kind === 'NULL' ? new NullMechanism({ socketType }) : new XorMechanism(server, socketType);
}

/** Two engines on a memory stream pair: `a` plays the client, `b` the server. ZAP answers 200 on a later turn. */
function join(kinds: [MechanismKind, MechanismKind], types: [string, string]): { a: Side; b: Side } {
  const [sa, sb] = memoryStreams();
  const a = new Side(sa);
  const b = new Side(sb);
  const ok: ZapReply = { status: 200, statusText: 'OK', userId: '', metadata: {} };
  for (const side of [a, b]) side.onZap = (engine) => setImmediate(() => engine.zapReplied(ok));
  a.engine = new StreamEngine(sa, a, { socketType: types[0], maxMessageSize: -1, mechanism: mechanism(kinds[0], false, types[0]) });
  b.engine = new StreamEngine(sb, b, { socketType: types[1], maxMessageSize: -1, mechanism: mechanism(kinds[1], true, types[1]) });
  a.engine.start();
  b.engine.start();
  return { a, b };
}

async function joined(kind: MechanismKind, types: [string, string]): Promise<{ a: Side; b: Side }> {
  const pair = join([kind, kind], types);
  await until(() => pair.a.peer !== undefined && pair.b.peer !== undefined);
  return pair;
}

/** The frames on one side's wire after the 64-octet greeting: commands by name, messages as 'message'. */
function wireFrames(stream: MemoryStream): string[] {
  const bytes = Buffer.concat(stream.wire);
  const out: string[] = [];
  const v = new FrameDecoder().push(bytes.subarray(64), {
    // A sealed frame travels as a data frame holding a MESSAGE command body, as libzmq sends it.
    onMessage: (frames) =>
      out.push(...frames.map((f) => (Buffer.from(f.subarray(0, 8)).toString('latin1') === '\x07MESSAGE' ? 'data:MESSAGE' : 'message'))),
    onCommand: (name) => out.push(name),
  });
  expect(v).toBeUndefined();
  return out;
}

const big = Buffer.alloc(5000, 'b'); // long frame, sent by reference
const mid = Buffer.alloc(300, 'm'); // long frame, copied

for (const kind of ['NULL', 'X-XOR'] as const) {
  describe(`engines joined in memory, mechanism ${kind}`, () => {
    it('complete the handshake, each learning the other socket type', async () => {
      const { a, b } = await joined(kind, ['DEALER', 'ROUTER']);
      expect(a.peer?.socketType).toBe('ROUTER');
      expect(b.peer?.socketType).toBe('DEALER');
      expect(a.engine.handshaken && b.engine.handshaken).toBe(true);
    });

    it('carry single-frame and multipart messages both ways, frames intact and in order', async () => {
      const { a, b } = await joined(kind, ['DEALER', 'DEALER']);
      a.out.write([Buffer.from('one')]);
      a.out.write([Buffer.from('k'), Buffer.alloc(0), mid, big]);
      b.out.write([Buffer.from('back'), Buffer.from('two')]);
      expect(await b.receive()).toEqual(['one']);
      await until(() => b.in.size > 0);
      const multi = b.in.read()!;
      expect(multi.map((f) => f.length)).toEqual([1, 0, 300, 5000]);
      expect(Buffer.concat(multi).equals(Buffer.concat([Buffer.from('k'), mid, big]))).toBe(true);
      expect(await a.receive()).toEqual(['back', 'two']);
    });

    it('answer a PING with a PONG (traffic for the pinger) and report its TTL to the other host', async () => {
      const { a, b } = await joined(kind, ['PUSH', 'PULL']);
      a.engine.watchTraffic();
      a.engine.ping(12); // 12 deciseconds
      await until(() => a.traffic === 1);
      expect(b.pinged).toEqual([1200]);
      const frames = wireFrames(b.stream);
      if (kind === 'NULL') expect(frames).toContain('PONG');
      else expect(frames).not.toContain('PONG'); // sealed inside a MESSAGE
    });

    it('report our PING as sent once it is written to the stream, not when it is asked for', async () => {
      const { a } = await joined(kind, ['PUSH', 'PULL']);
      const before = a.stream.wire.length;
      a.engine.ping(0);
      expect(a.pingsSentAt).toEqual([]); // the write comes later in this turn
      await until(() => a.pingsSentAt.length === 1);
      expect(a.pingsSentAt).toEqual([before + 1]); // reported once the packet with the PING was out
      if (kind === 'NULL') expect(wireFrames(a.stream).at(-1)).toBe('PING');
      a.out.write([Buffer.from('no PING in this one')]);
      await until(() => a.stream.wire.length === before + 2);
      expect(a.pingsSentAt).toEqual([before + 1]);
    });

    it('report our PING as sent at once while the stream is blocked (a peer that stopped reading is still timed out)', async () => {
      const { a } = await joined(kind, ['PUSH', 'PULL']);
      a.stream.accepting = false; // the peer stops reading: our next write fills the stream
      const before = a.stream.wire.length;
      a.out.write([Buffer.from('fills it')]);
      await until(() => a.stream.wire.length > before);
      a.engine.ping(0);
      // Encoded behind what waits, written only once the peer reads: the timeout counts from now.
      expect(a.pingsSentAt).toEqual([before + 1]);
      expect(a.stream.wire.length).toBe(before + 1);
    });

    it('turn a subscription message into SUBSCRIBE on the wire and back into a message at the publisher', async () => {
      const { a, b } = await joined(kind, ['SUB', 'PUB']);
      a.out.write([Buffer.from('\x01news')]);
      a.out.write([Buffer.from('\x00news')]);
      expect(await b.receive()).toEqual(['\x01news']);
      expect(await b.receive()).toEqual(['\x00news']);
      const frames = wireFrames(a.stream);
      if (kind === 'NULL') {
        expect(frames.slice(-2)).toEqual(['SUBSCRIBE', 'CANCEL']);
      } else {
        expect(frames.slice(-2)).toEqual(['data:MESSAGE', 'data:MESSAGE']);
      }
    });
  });
}

describe('a plugged-in mechanism (X-XOR)', () => {
  it('the handshake waits for the ZAP answer, however late it comes', async () => {
    const { a, b } = join(['X-XOR', 'X-XOR'], ['PUSH', 'PULL']);
    b.onZap = undefined; // the test answers
    await until(() => b.zapRequests.length === 1);
    expect(b.zapRequests[0].mechanism).toBe('X-XOR');
    expect(Array.from(b.zapRequests[0].credentials[0])).toEqual([XOR_KEY]);
    // Without a verdict the server cannot send WELCOME, so neither side can be ready.
    expect(wireFrames(b.stream)).toEqual([]);
    expect(a.peer ?? b.peer).toBeUndefined();
    b.engine.zapReplied({ status: 200, statusText: 'OK', userId: 'u', metadata: {} });
    await until(() => a.peer !== undefined && b.peer !== undefined);
    expect(wireFrames(a.stream)).toEqual(['HELLO', 'INITIATE']);
    expect(wireFrames(b.stream)).toEqual(['WELCOME', 'READY']);
  });

  it('the bytes on the wire differ from the plaintext, and the frames delivered are the same', async () => {
    const secret = 'the plaintext nobody may read on the wire';
    for (const kind of ['NULL', 'X-XOR'] as const) {
      const { a, b } = await joined(kind, ['PUSH', 'PULL']);
      a.out.write([Buffer.from(secret), Buffer.from(secret.toUpperCase())]);
      expect(await b.receive()).toEqual([secret, secret.toUpperCase()]);
      const onWire = Buffer.concat(a.stream.wire).includes(secret);
      expect(onWire).toBe(kind === 'NULL'); // NULL is the control: the same check finds it there
      if (kind === 'X-XOR') expect(wireFrames(a.stream).slice(-2)).toEqual(['data:MESSAGE', 'data:MESSAGE']);
    }
  });

  it('a ZAP refusal (400) sends ERROR "400" and closes; the client fails as an authentication failure', async () => {
    const { a, b } = join(['X-XOR', 'X-XOR'], ['PUSH', 'PULL']);
    b.onZap = (engine) => setImmediate(() => engine.zapReplied({ status: 400, statusText: 'no', userId: '', metadata: {} }));
    await until(() => a.failure !== undefined && b.failure !== undefined);
    expect(b.failure).toMatchObject({ handshaking: true, v: { code: 'ERR_ZAP_REFUSED', status: 400 } });
    expect(a.failure).toMatchObject({ handshaking: true, v: { code: 'ERR_ZMTP_PEER_ERROR', reason: '400', status: 400 } });
    expect(wireFrames(b.stream)).toEqual(['ERROR']);
    await until(() => b.stream.closed);
  });

  it('a host that cannot ask ZAP fails the handshake with the violation it gives', async () => {
    const { b } = join(['X-XOR', 'X-XOR'], ['PUSH', 'PULL']);
    b.onZap = (engine) => engine.zapReplied(violation('ERR_ZAP_UNSPECIFIED', 'no handler'));
    await until(() => b.failure !== undefined);
    expect(b.failure).toMatchObject({ handshaking: true, v: { code: 'ERR_ZAP_UNSPECIFIED' } });
    expect(wireFrames(b.stream)).toEqual([]); // a failed exchange is not the handler's refusal: no ERROR
  });

  it('a frame not sealed in MESSAGE after the handshake closes with a violation', async () => {
    const { a, b } = await joined('X-XOR', ['PUSH', 'PULL']);
    a.stream.write([Buffer.from([0x00, 0x05]), Buffer.from('plain')]);
    await until(() => b.failure !== undefined);
    expect(b.failure).toMatchObject({ handshaking: false, v: { code: 'ERR_ZMTP_UNEXPECTED_COMMAND' } });
    expect(b.failure?.v.message).toContain('MESSAGE');
    expect(b.in.size).toBe(0);
  });

  it('a MESSAGE that does not open closes with the cipher violation', async () => {
    const { a, b } = await joined('X-XOR', ['PUSH', 'PULL']);
    a.stream.write([encodeCommand('MESSAGE', xor(0x40, Buffer.from('forged'), XOR_KEY))]);
    await until(() => b.failure !== undefined);
    expect(b.failure).toMatchObject({ handshaking: false, v: { code: 'ERR_ZMTP_CRYPTOGRAPHIC' } });
  });
});

describe('handshake failures between engines in memory', () => {
  it('a command the mechanism does not expect closes with a violation (NULL: HELLO instead of READY)', async () => {
    const [raw, sb] = memoryStreams();
    const b = new Side(sb);
    b.engine = new StreamEngine(sb, b, { socketType: 'PULL', maxMessageSize: -1, mechanism: new NullMechanism({ socketType: 'PULL' }) });
    b.engine.start();
    raw.write([encodeGreeting('NULL', false), encodeCommand('HELLO', new Uint8Array([1]))]);
    await until(() => b.failure !== undefined);
    expect(b.failure).toMatchObject({ handshaking: true, v: { code: 'ERR_ZMTP_UNEXPECTED_COMMAND' } });
    expect(b.failure?.v.message).toContain('HELLO');
    await until(() => sb.closed);
  });

  it('a mechanism that answers a bad command with ERROR gets it out before the stream closes', async () => {
    const [raw, sb] = memoryStreams();
    const b = new Side(sb);
    b.engine = new StreamEngine(sb, b, { socketType: 'PULL', maxMessageSize: -1, mechanism: new XorMechanism(true, 'PULL') });
    b.engine.start();
    raw.write([encodeGreeting('X-XOR', false), readyCommand('PUSH')]);
    await until(() => b.failure !== undefined && sb.closed);
    expect(b.failure?.v.code).toBe('ERR_ZMTP_UNEXPECTED_COMMAND');
    expect(wireFrames(sb)).toEqual(['ERROR']);
  });

  it('different mechanisms fail on both sides with a mechanism mismatch naming both', async () => {
    const { a, b } = join(['NULL', 'X-XOR'], ['PUSH', 'PULL']);
    await until(() => a.failure !== undefined && b.failure !== undefined);
    expect(a.failure).toMatchObject({ handshaking: true, v: { code: 'ERR_ZMTP_MECHANISM_MISMATCH' } });
    expect(a.failure?.v.message).toContain('X-XOR');
    expect(b.failure?.v.message).toContain('NULL');
  });

  it('an incompatible socket type closes with a violation', async () => {
    const { a, b } = join(['NULL', 'NULL'], ['PUSH', 'PUB']);
    await until(() => a.failure !== undefined && b.failure !== undefined);
    expect(a.failure?.v.code).toBe('ERR_ZMTP_INCOMPATIBLE_SOCKET_TYPE');
    expect(b.failure?.v.code).toBe('ERR_ZMTP_INCOMPATIBLE_SOCKET_TYPE');
  });

  it('the peer half-closing during the handshake is reported as the stream ending', async () => {
    const [raw, sb] = memoryStreams();
    const b = new Side(sb);
    b.engine = new StreamEngine(sb, b, { socketType: 'PULL', maxMessageSize: -1, mechanism: new NullMechanism({ socketType: 'PULL' }) });
    b.engine.start();
    raw.write([encodeGreeting('NULL', false)]);
    raw.end(0);
    await until(() => b.closed);
    expect(b.failure).toBeUndefined();
  });
});

describe('a stalled engine (its peer refused by the socket)', () => {
  it('decodes and drops up to its budget, then reads on without decoding, to the peer\'s end', async () => {
    const { a, b } = await joined('NULL', ['PUSH', 'PULL']);
    b.engine.stall(3);
    const before = a.stream.wire.length;
    for (let i = 0; i < 5; i++) a.out.write([Buffer.from(`m${i}`)]);
    await until(() => a.stream.wire.length > before); // the messages first (a PING goes before what waits in `out`)
    a.engine.ping(0); // after the budget: not decoded, so not answered
    await until(() => a.pingsSentAt.length === 1);
    a.engine.end(-1);
    await until(() => b.closed); // the FIN was read: a paused stream would not have seen it
    expect(b.stream.paused).toBe(false);
    expect(b.in.size).toBe(0); // nothing reached the socket's pipe
    expect(wireFrames(b.stream)).not.toContain('PONG');
  });

  it('answers PINGs while it reads', async () => {
    const { a, b } = await joined('NULL', ['PUSH', 'PULL']);
    b.engine.stall(1000);
    a.engine.watchTraffic();
    a.engine.ping(0);
    await until(() => a.traffic === 1);
  });

  it('sees the peer go and tells its host, which closes the stream', async () => {
    const { a, b } = await joined('NULL', ['PUSH', 'PULL']);
    b.engine.stall(1000);
    a.out.write([Buffer.from('dropped')]);
    a.engine.end(0);
    await until(() => b.closed && b.stream.closed);
    expect(b.in.size).toBe(0);
  });

  it('with no budget (receive HWM 0) it never stops reading', async () => {
    const { a, b } = await joined('NULL', ['PUSH', 'PULL']);
    b.engine.stall(0);
    for (let i = 0; i < 2000; i++) a.out.write([Buffer.from(`m${i}`)]);
    a.engine.end(-1);
    await until(() => b.closed); // it read through 2000 messages to the FIN
    expect(b.stream.paused).toBe(false);
  });
});

// ---- when the engine writes ----

/** Records each gathered write the engine makes; a test feeds it the peer's bytes. */
class RecordingStream implements ByteStream {
  batches: Uint8Array[][] = [];
  listener!: ByteStreamListener;
  /** Set to false to play a peer that does not read: every write is taken but refuses more. */
  accepting = true;
  open(listener: ByteStreamListener): void {
    this.listener = listener;
  }
  write(chunks: readonly Uint8Array[]): boolean {
    this.batches.push([...chunks]);
    return this.accepting;
  }
  pause(): void {}
  resume(): void {}
  end(): void {}
  destroy(): void {}
}

/** The messages (one frame each, as strings) in a run of written bytes. */
function bodies(batches: Uint8Array[][]): string[] {
  const out: string[] = [];
  const violation = new FrameDecoder({ maxMessageSize: -1 }).push(Buffer.concat(batches.flat()), {
    onMessage: (frames) => out.push(frames.map((f) => Buffer.from(f).toString()).join('|')),
    onCommand: (name) => out.push(`command ${name}`),
  });
  expect(violation).toBeUndefined();
  return out;
}

/** An engine past its handshake with a PULL peer, its pipes attached, its greeting and READY written. */
async function activeEngine(): Promise<{ stream: RecordingStream; out: Pipe; engine: StreamEngine }> {
  const stream = new RecordingStream();
  let ready = false;
  const host = {
    engineGreeted() {},
    engineZapRequest() {},
    engineReady() {
      ready = true;
    },
    engineFailed() {},
    engineClosed() {},
    engineTraffic() {},
    enginePinged() {},
    enginePingSent() {},
  } satisfies EngineHost;
  const engine = new StreamEngine(stream, host, { socketType: 'PUSH', maxMessageSize: -1, mechanism: new NullMechanism({ socketType: 'PUSH' }) });
  engine.start();
  stream.listener.onStreamData(Buffer.from(encodeGreeting('NULL', false)));
  stream.listener.onStreamData(Buffer.from(readyCommand('PULL')));
  expect(ready).toBe(true);
  const out = new Pipe(1000);
  engine.attach(out, new Pipe(1000));
  await nextTurn();
  await nextTurn();
  stream.batches = [];
  return { stream, out, engine };
}

/** A PING command frame (RFC 37): TTL 0 and a context naming it. */
function ping(context: string): Buffer {
  const body = Buffer.concat([Buffer.from([4]), Buffer.from('PING'), Buffer.from([0, 0]), Buffer.from(context)]);
  return Buffer.concat([Buffer.from([0x04, body.length]), body]);
}

/** The PONG contexts in the written bytes. */
function pongs(batches: Uint8Array[][]): string[] {
  const out: string[] = [];
  new FrameDecoder({ maxMessageSize: -1 }).push(Buffer.concat(batches.flat()), {
    onMessage: () => {},
    onCommand: (name, data) => {
      if (name === 'PONG') out.push(Buffer.from(data).toString());
    },
  });
  return out;
}

describe('stream engine writes', () => {
  it('engine: writes its greeting in two parts as libzmq does (11 octets, the rest once the peer\'s 11 came), then its READY', () => {
    const stream = new RecordingStream();
    const host = {
      engineGreeted() {},
      engineZapRequest() {},
      engineReady() {},
      engineFailed() {},
      engineClosed() {},
      engineTraffic() {},
      enginePinged() {},
      enginePingSent() {},
    } satisfies EngineHost;
    new StreamEngine(stream, host, { socketType: 'SUB', maxMessageSize: -1, mechanism: new NullMechanism({ socketType: 'SUB' }) }).start();
    const greeting = Buffer.from(encodeGreeting('NULL', false));
    const writes = () => stream.batches.map((b) => Buffer.concat(b));
    expect(writes()).toEqual([greeting.subarray(0, 11)]);
    stream.listener.onStreamData(greeting.subarray(0, 10));
    expect(writes().length).toBe(1); // not before the peer's major version octet
    stream.listener.onStreamData(greeting.subarray(10, 11));
    expect(writes()).toEqual([greeting.subarray(0, 11), greeting.subarray(11)]);
    stream.listener.onStreamData(greeting.subarray(11));
    expect(writes()[2]).toEqual(Buffer.from(readyCommand('SUB')));
  });

  it('engine: the first message after a quiet spell is written before the sender resumes', async () => {
    const { stream, out } = await activeEngine();
    out.write([Buffer.from('ping')]);
    await Promise.resolve(); // the sender's `await send()` resumes after one microtask
    expect(bodies(stream.batches)).toEqual(['ping']);
    // After the loop has gone round, the next message is again the first of a quiet spell.
    await nextTurn();
    stream.batches = [];
    out.write([Buffer.from('pong')]);
    await Promise.resolve();
    expect(bodies(stream.batches)).toEqual(['pong']);
  });

  it('engine: messages following the first in the same turn go out together in one gathered write', async () => {
    const { stream, out } = await activeEngine();
    out.write([Buffer.from('m0')]);
    await Promise.resolve();
    for (let i = 1; i <= 50; i++) {
      out.write([Buffer.from(`m${i}`)]);
      await Promise.resolve();
    }
    expect(stream.batches.length).toBe(1);
    await nextTurn();
    expect(stream.batches.length).toBe(2);
    expect(bodies(stream.batches)).toEqual(Array.from({ length: 51 }, (_, i) => `m${i}`));
  });

  it('engine: a sender that keeps going turn after turn gets one batch per turn, no lone first message', async () => {
    const { stream, out } = await activeEngine();
    let n = 0;
    for (let turn = 0; turn < 4; turn++) {
      for (let i = 0; i < 10; i++) {
        out.write([Buffer.from(`m${n++}`)]);
        await Promise.resolve(); // as `await send()` does
      }
      await nextTurn();
    }
    // The first message went alone (the quiet spell's), then one batch per turn.
    expect(stream.batches.map((b) => bodies([b]).length)).toEqual([1, 9, 10, 10, 10]);
    // Once a turn passes with nothing to send, the next message is again written at once.
    await nextTurn();
    await nextTurn();
    stream.batches = [];
    out.write([Buffer.from('after')]);
    await Promise.resolve();
    expect(bodies(stream.batches)).toEqual(['after']);
  });

  it('engine: a large body goes into the gathered write by reference, not copied', async () => {
    const { stream, out } = await activeEngine();
    const body = Buffer.alloc(64 * 1024, 7);
    out.write([body]);
    await Promise.resolve();
    expect(stream.batches.length).toBe(1);
    expect(stream.batches[0].some((chunk) => chunk === body)).toBe(true);
  });

  it('engine: a body of up to 2 KiB is encoded as it is queued, so a change after send() does not reach the wire', async () => {
    const { stream, out } = await activeEngine();
    out.write([Buffer.from('first')]); // the quiet spell's message: the rest of the turn is batched
    await Promise.resolve();
    const body = Buffer.alloc(2048, 'a');
    out.write([body]);
    body.fill('b'); // before the batch is written (next turn)
    expect(out.size).toBe(0); // taken at once
    await nextTurn();
    expect(bodies(stream.batches)).toEqual(['first', 'a'.repeat(2048)]);
  });

  it('engine: 1 KiB messages taken as they are queued still go out in one write per turn, past FLUSH_LIMIT too', async () => {
    const { stream, out } = await activeEngine();
    out.write([Buffer.from('first')]); // the quiet spell's message, written on a microtask
    await Promise.resolve();
    expect(stream.batches.length).toBe(1);
    for (let i = 0; i < 300; i++) {
      out.write([Buffer.alloc(1024, i & 0xff)]); // 300 KiB in one turn: more than one FLUSH_LIMIT (256 KiB)
      await Promise.resolve();
    }
    expect(out.size).toBe(0); // each taken (copied) as it came...
    expect(stream.batches.length).toBe(1); // ...and none written mid-turn
    await nextTurn();
    expect(stream.batches.length).toBe(2);
    expect(bodies(stream.batches).length).toBe(301);
  });

  it('engine: while the stream is blocked it still takes messages, which count toward the HWM until written', async () => {
    const { stream, out } = await activeEngine();
    // Bodies of 129 B to 2 KiB (send() did not copy them): taken and encoded as they come.
    const body = (i: number): Buffer => Buffer.alloc(1000, 97 + i);
    stream.accepting = false; // the next write is taken, and refuses more
    out.write([body(0)]);
    await Promise.resolve();
    expect(stream.batches.length).toBe(1);
    out.resize(10);
    for (let i = 1; i <= 10; i++) expect(out.write([body(i)])).toBe(true);
    expect(out.size).toBe(0); // all taken into the encoder (copied there)...
    expect(out.queued).toBe(10); // ...and still counted: the pipe is at its HWM
    expect(out.writable).toBe(false);
    expect(out.write([body(11)])).toBe(false);
    await nextTurn();
    expect(stream.batches.length).toBe(1); // nothing written while blocked
    stream.accepting = true;
    stream.listener.onStreamDrain();
    expect(bodies(stream.batches)).toEqual(Array.from({ length: 11 }, (_, i) => body(i).toString()));
    expect(out.writable).toBe(true);
  });

  it('engine: small messages wait in the pipe for the turn\'s batch; a 1 KiB one queued behind them is copied there', async () => {
    const { stream, out } = await activeEngine();
    out.write([Buffer.from('first')]); // the quiet spell's message
    await Promise.resolve();
    out.write([Buffer.from('small')]);
    const mid = Buffer.alloc(1024, 'x');
    out.write([mid]);
    expect(out.size).toBe(2); // not taken yet: batched
    mid.fill('y');
    await nextTurn();
    expect(bodies(stream.batches)).toEqual(['first', 'small', 'x'.repeat(1024)]);
  });

  it('engine: a peer that floods PINGs and does not read gets one PONG for all of them, after drain', async () => {
    const { stream } = await activeEngine();
    stream.listener.onStreamData(ping('p0'));
    await nextTurn();
    expect(pongs(stream.batches)).toEqual(['p0']);
    stream.accepting = false; // the stream now refuses more: the peer is not reading
    stream.listener.onStreamData(ping('p1'));
    await nextTurn();
    for (let i = 2; i < 10_000; i++) stream.listener.onStreamData(ping(`p${i}`));
    await nextTurn();
    expect(pongs(stream.batches)).toEqual(['p0', 'p1']); // p1's write is the one that was refused
    stream.accepting = true;
    stream.listener.onStreamDrain();
    expect(pongs(stream.batches)).toEqual(['p0', 'p1', 'p9999']); // the newest, once
    stream.listener.onStreamData(ping('after'));
    await nextTurn();
    expect(pongs(stream.batches)).toEqual(['p0', 'p1', 'p9999', 'after']);
  });
});
