// The CURVE security mechanism (RFC 25 ZMTP-CURVE over RFC 26 CurveZMQ) as a sans-IO `Mechanism`,
// byte-compatible with libzmq 4.3 (`curve_client.cpp`, `curve_server.cpp`, `curve_mechanism_base.cpp`),
// and the `FrameCipher` that seals every frame after it into a MESSAGE command. Every cryptographic
// operation is libsodium's (`sodium.ts`); nothing here reads, writes, waits or invents crypto.
//
//   client                                              server
//   HELLO    C', N=1, Box[64 zeros](C'→S)        ──▶    opens with s (else close without a word)
//            ◀──  WELCOME  Box[S' + cookie](S→C'), cookie = Rk + SecretBox[C' + s'](K)
//   INITIATE cookie, N=2, Box[C + vouch + metadata](C'→S')
//                                                 ──▶    cookie, box, vouch Box[C' + S](C→S'), ZAP?
//            ◀──  READY    N=1, Box[metadata](S'→C')
//   MESSAGE  N=3, 4, …  Box[flags + frame](C'→S')  ◀──▶  MESSAGE N=2, 3, …  Box[flags + frame](S'→C')

import { ZmqError } from '../core/errors.js';
import { allocBytes } from './bytes.js';
import { socketMetadata } from './commands.js';
import { encodeCommand } from './frame-encoder.js';
import type { Greeting } from './greeting.js';
import {
  type FrameCipher,
  type LocalSocket,
  type HandshakeWait,
  type MechanismStep,
  type Mechanism,
  type PeerInfo,
  peerErrorViolation,
  readPeerMetadata,
  type ZapReply,
  zapRefusal,
} from './mechanism.js';
import type { Sodium } from './sodium.js';
import { type Violation, type ViolationCode, violation } from './violation.js';

/** Options of a {@link CurveMechanism}: what we announce, our keys, our role, and whether ZAP judges the client. */
export interface CurveOptions extends LocalSocket {
  /** libsodium, already loaded (`await loadSodium()`): the constructor and every step are synchronous. */
  sodium: Sodium;
  /** `ZMQ_CURVE_SERVER`: we hold the server's key pair and wait for the client's HELLO. */
  asServer: boolean;
  /** `ZMQ_CURVE_SECRETKEY`: our permanent secret key, 32 raw bytes (server: s, client: c). Kept private, copied. */
  secretKey: Uint8Array;
  /**
   * `ZMQ_CURVE_PUBLICKEY`: our permanent public key, 32 raw bytes. The client sends it (C) in INITIATE;
   * the server never needs its own (libzmq does not check the S half of the vouch).
   */
  publicKey: Uint8Array;
  /** `ZMQ_CURVE_SERVERKEY` (client only): the server's permanent public key S, 32 raw bytes. */
  serverKey?: Uint8Array | undefined;
  /**
   * Server: a ZAP handler is bound, so it judges each client by its public key (libzmq consults a
   * bound handler even with an empty domain). Without one libzmq accepts any client key (PROTOCOL.md §11).
   */
  zap: boolean;
}

const KEY_BYTES = 32;
const NONCE_BYTES = 24;

// Sizes of each command's data, i.e. its body minus name-len and name (PROTOCOL.md §11).
const HELLO_DATA = 194; // body 200
const WELCOME_DATA = 160; // body 168
const INITIATE_MIN_DATA = 248; // body 257: cookie 96, short nonce 8, box of 16 + 32 + 16 + 80
const READY_MIN_DATA = 24; // body 30: short nonce 8, box of 16 + metadata
const MESSAGE_MIN_DATA = 25; // body 33: short nonce 8, box of 16 + flags 1
const COOKIE_BYTES = 96; // Rk 16 + secretbox of 16 + C' 32 + s' 32

// HELLO data offsets: version 0, padding 2, C' 74, short nonce 106, signature box 114.
const HELLO_CLIENT_KEY = 74;
const HELLO_NONCE = 106;
const HELLO_BOX = 114;

// Nonce prefixes (RFC 26): 16 octets before an 8-octet short nonce, 8 octets before 16 random ones.
const HELLO_PREFIX = 'CurveZMQHELLO---';
const INITIATE_PREFIX = 'CurveZMQINITIATE';
const READY_PREFIX = 'CurveZMQREADY---';
const MESSAGE_FROM_CLIENT = 'CurveZMQMESSAGEC';
const MESSAGE_FROM_SERVER = 'CurveZMQMESSAGES';
const WELCOME_PREFIX = 'WELCOME-';
const COOKIE_PREFIX = 'COOKIE--';
const VOUCH_PREFIX = 'VOUCH---';

// Phases of one handshake.
const INITIAL = 0;
const EXPECT_HELLO = 1; // server
const EXPECT_WELCOME = 2; // client
const EXPECT_INITIATE = 3; // server
const EXPECT_READY = 4; // client
const AWAIT_ZAP = 5; // server
const DONE = 6;
const FAILED = 7;

/** What each phase waits for, as the connection machine shows it. */
const PHASE_AWAITS: readonly HandshakeWait[] = ['none', 'hello', 'welcome', 'initiate', 'ready', 'zap', 'none', 'none'];

const PHASE_WAITS_FOR = ['the start', 'HELLO', 'WELCOME or ERROR', 'INITIATE', 'READY or ERROR', 'the ZAP verdict', 'nothing (handshake complete)', 'nothing (handshake failed)'];

/** A 24-octet nonce: ASCII `prefix`, then `tail` (copied from `from` at `at`). */
function nonceOf(prefix: string, from: Uint8Array, at: number): Uint8Array {
  const n = new Uint8Array(NONCE_BYTES);
  writePrefix(n, prefix);
  n.set(from.subarray(at, at + NONCE_BYTES - prefix.length), prefix.length);
  return n;
}

function writePrefix(target: Uint8Array, prefix: string): void {
  for (let i = 0; i < prefix.length; i++) target[i] = prefix.charCodeAt(i);
}

/** Writes a uint64 short nonce, big-endian, from its two 32-bit halves. */
function writeShortNonce(target: Uint8Array, at: number, hi: number, lo: number): void {
  target[at] = hi >>> 24;
  target[at + 1] = (hi >>> 16) & 0xff;
  target[at + 2] = (hi >>> 8) & 0xff;
  target[at + 3] = hi & 0xff;
  target[at + 4] = lo >>> 24;
  target[at + 5] = (lo >>> 16) & 0xff;
  target[at + 6] = (lo >>> 8) & 0xff;
  target[at + 7] = lo & 0xff;
}

function readUint32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

/** Equality of two byte ranges without an early exit (the ranges hold key material). */
function sameBytes(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number, n: number): boolean {
  let diff = 0;
  for (let i = 0; i < n; i++) diff |= a[aAt + i] ^ b[bAt + i];
  return diff === 0;
}

function copyOf(b: Uint8Array): Uint8Array {
  return Uint8Array.from(b);
}

function wipe(b: Uint8Array | undefined): void {
  if (b !== undefined) b.fill(0);
}

type BufferFrom = { from(buffer: ArrayBufferLike, byteOffset: number, length: number): Uint8Array };
const NodeBuffer = (globalThis as { Buffer?: BufferFrom }).Buffer;

/**
 * libsodium-wrappers returns plain Uint8Arrays over a fresh ArrayBuffer; under Node the frames users
 * receive are Buffers (as `allocBytes` makes them), so wrap that memory, without copying.
 */
function asBytes(b: Uint8Array): Uint8Array {
  return NodeBuffer !== undefined ? NodeBuffer.from(b.buffer, b.byteOffset, b.length) : b;
}

/**
 * CURVE handshake for one connection, client or server (RFC 25/26, as libzmq 4.3 does it), ending in a
 * {@link FrameCipher} that seals each later frame into a MESSAGE command. The server keeps between
 * WELCOME and INITIATE what libzmq keeps (C', its transient key pair and the cookie key K) and wipes its
 * copies of secrets once they are of no more use. No secret key is ever on a public field, in a
 * violation or in a step, only inside the boxes on the wire.
 *
 * ```ts
 * const sodium = await loadSodium();
 * const mech = new CurveMechanism({ sodium, asServer: false, socketType: 'DEALER', secretKey: c, publicKey: C, serverKey: S, zap: false });
 * apply(mech.start(peerGreeting));         // { status: 'continue', send: [HELLO] }
 * apply(mech.onCommand('WELCOME', data));  // { status: 'continue', send: [INITIATE] }
 * apply(mech.onCommand('READY', data));    // { status: 'ready', peer, cipher }
 * ```
 */
export class CurveMechanism implements Mechanism {
  readonly name = 'CURVE';
  readonly asServer: boolean;
  readonly #sodium: Sodium;
  readonly #socketType: string;
  readonly #identity: Uint8Array | undefined;
  readonly #metadata: LocalSocket['metadata'];
  readonly #zap: boolean;
  #phase = INITIAL;

  /** The command (or the ZAP verdict) the handshake waits for. */
  get awaiting(): HandshakeWait {
    return PHASE_AWAITS[this.#phase];
  }
  /** Our permanent secret key (s or c), wiped once the handshake no longer needs it. */
  #secretKey: Uint8Array;
  /** Client: our permanent public key C. */
  readonly #publicKey: Uint8Array | undefined;
  /** Client: the server's permanent public key S. */
  readonly #serverKey: Uint8Array | undefined;
  /** Our transient key pair (client C'/c', server S'/s'). */
  #transientPublic: Uint8Array | undefined;
  #transientSecret: Uint8Array | undefined;
  /** Server: the client's transient public key C'. */
  #peerTransient: Uint8Array | undefined;
  /** Server: the per-connection cookie key K. */
  #cookieKey: Uint8Array | undefined;
  /** The C'/S' shared key (crypto_box_beforenm), handed to the cipher. */
  #sharedKey: Uint8Array | undefined;
  /** The last short nonce we sent, as two 32-bit halves. */
  #sentHi = 0;
  #sentLo = 0;
  /** Server: the client accepted so far, waiting for the ZAP verdict; and the INITIATE nonce that seeds the cipher. */
  #peer: PeerInfo | undefined;
  #peerNonceHi = 0;
  #peerNonceLo = 0;

  /** Throws EINVAL when a key has the wrong length or a client has no server key (the sizes are named, never the keys). */
  constructor(options: CurveOptions) {
    checkKey('secretKey', options.secretKey);
    this.asServer = options.asServer;
    this.#sodium = options.sodium;
    this.#socketType = options.socketType;
    this.#identity = options.identity;
    this.#metadata = options.metadata;
    this.#zap = options.zap;
    this.#secretKey = copyOf(options.secretKey);
    if (!options.asServer) {
      checkKey('publicKey', options.publicKey);
      if (options.serverKey === undefined) {
        throw new ZmqError('EINVAL', 'a CURVE client needs the server public key (ZMQ_CURVE_SERVERKEY); none was given');
      }
      checkKey('serverKey', options.serverKey);
      this.#publicKey = copyOf(options.publicKey);
      this.#serverKey = copyOf(options.serverKey);
    }
  }

  /** Client: makes the transient key pair and sends HELLO. Server: waits for HELLO. */
  start(_peer: Greeting): MechanismStep {
    if (this.#phase !== INITIAL) return this.#fail('ERR_ZMTP_UNSPECIFIED', 'the CURVE handshake was started twice');
    if (this.asServer) {
      this.#phase = EXPECT_HELLO;
      return { status: 'continue' };
    }
    const sodium = this.#sodium;
    const pair = sodium.crypto_box_keypair();
    this.#transientPublic = pair.publicKey;
    this.#transientSecret = pair.privateKey;
    // HELLO: version 1.0, 72 octets of anti-amplification padding, C', short nonce, Box[64 zeros](C'→S).
    const data = new Uint8Array(HELLO_DATA);
    data[0] = 1;
    data[1] = 0;
    data.set(pair.publicKey, HELLO_CLIENT_KEY);
    this.#nextNonce(data, HELLO_NONCE);
    const signature = sodium.crypto_box_easy(
      new Uint8Array(64),
      nonceOf(HELLO_PREFIX, data, HELLO_NONCE),
      this.#serverKey!,
      pair.privateKey,
    );
    data.set(signature, HELLO_BOX);
    this.#phase = EXPECT_WELCOME;
    return { status: 'continue', send: [encodeCommand('HELLO', data)] };
  }

  /**
   * Judges one handshake command. Wrong sizes are malformed commands, boxes that do not open are
   * cryptographic failures (closed without ERROR, as libzmq does), a command out of turn is unexpected;
   * the client turns a server's ERROR into a violation with its reason.
   */
  onCommand(name: string, data: Uint8Array): MechanismStep {
    switch (this.#phase) {
      case EXPECT_HELLO:
        if (name === 'HELLO') return this.#onHello(data);
        break;
      case EXPECT_INITIATE:
        if (name === 'INITIATE') return this.#onInitiate(data);
        break;
      case EXPECT_WELCOME:
        if (name === 'WELCOME') return this.#onWelcome(data);
        if (name === 'ERROR') return this.#failWith(peerErrorViolation(data));
        break;
      case EXPECT_READY:
        if (name === 'READY') return this.#onReady(data);
        if (name === 'ERROR') return this.#failWith(peerErrorViolation(data));
        break;
    }
    const role = this.asServer ? 'server' : 'client';
    return this.#fail(
      'ERR_ZMTP_UNEXPECTED_COMMAND',
      `peer sent ${JSON.stringify(name)} while the CURVE ${role} waited for ${PHASE_WAITS_FOR[this.#phase]}`,
    );
  }

  /** Server: the ZAP verdict on the client's key. 200 sends READY and completes; the others fail (see `zapRefusal`). */
  zapReplied(reply: ZapReply): MechanismStep {
    if (this.#phase !== AWAIT_ZAP) {
      return this.#fail('ERR_ZAP_UNSPECIFIED', `a ZAP reply (status ${reply.status}) came, but the CURVE handshake asked for none`);
    }
    const refused = zapRefusal(reply);
    if (refused !== undefined) {
      this.#forget();
      this.#phase = FAILED;
      return refused;
    }
    const peer = this.#peer!;
    this.#peer = undefined;
    return this.#sendReady({ ...peer, zap: { userId: reply.userId, metadata: reply.metadata } });
  }

  // ---- server ----

  /** HELLO: exact size, version 1.0, a signature box the client made for our key; answered by WELCOME. */
  #onHello(data: Uint8Array): MechanismStep {
    if (data.length !== HELLO_DATA) {
      return this.#fail(
        'ERR_ZMTP_MALFORMED_COMMAND_HELLO',
        `peer sent a CURVE HELLO with a ${data.length + 6}-octet body; it must have exactly 200`,
      );
    }
    if (data[0] !== 1 || data[1] !== 0) {
      return this.#fail(
        'ERR_ZMTP_MALFORMED_COMMAND_HELLO',
        `peer's CURVE HELLO announces CurveZMQ version ${data[0]}.${data[1]}; only 1.0 is known`,
      );
    }
    const sodium = this.#sodium;
    const clientTransient = data.slice(HELLO_CLIENT_KEY, HELLO_CLIENT_KEY + KEY_BYTES);
    try {
      sodium.crypto_box_open_easy(
        data.subarray(HELLO_BOX),
        nonceOf(HELLO_PREFIX, data, HELLO_NONCE),
        clientTransient,
        this.#secretKey,
      );
    } catch {
      return this.#fail(
        'ERR_ZMTP_CRYPTOGRAPHIC',
        'the signature box of the CURVE HELLO does not open: the client uses another server key, or the box was altered',
      );
    }
    this.#peerTransient = clientTransient;
    const pair = sodium.crypto_box_keypair();
    this.#transientPublic = pair.publicKey;
    this.#transientSecret = pair.privateKey;
    // cookie = Rk + SecretBox[C' + s'](K), nonce 'COOKIE--' + Rk. Only K, C' and s' stay here.
    const cookieKey = sodium.randombytes_buf(KEY_BYTES);
    this.#cookieKey = cookieKey;
    const cookieRandom = sodium.randombytes_buf(16);
    const cookiePlain = new Uint8Array(2 * KEY_BYTES);
    cookiePlain.set(clientTransient, 0);
    cookiePlain.set(pair.privateKey, KEY_BYTES);
    const cookieBox = sodium.crypto_secretbox_easy(cookiePlain, nonceOf(COOKIE_PREFIX, cookieRandom, 0), cookieKey);
    wipe(cookiePlain);
    // WELCOME: 16 random octets R, then Box[S' + cookie](S→C'), nonce 'WELCOME-' + R.
    const welcomePlain = new Uint8Array(KEY_BYTES + COOKIE_BYTES);
    welcomePlain.set(pair.publicKey, 0);
    welcomePlain.set(cookieRandom, KEY_BYTES);
    welcomePlain.set(cookieBox, KEY_BYTES + 16);
    const welcomeRandom = sodium.randombytes_buf(16);
    const welcomeBox = sodium.crypto_box_easy(
      welcomePlain,
      nonceOf(WELCOME_PREFIX, welcomeRandom, 0),
      clientTransient,
      this.#secretKey,
    );
    const out = new Uint8Array(WELCOME_DATA);
    out.set(welcomeRandom, 0);
    out.set(welcomeBox, 16);
    // The permanent secret s is not needed past WELCOME.
    wipe(this.#secretKey);
    this.#phase = EXPECT_INITIATE;
    return { status: 'continue', send: [encodeCommand('WELCOME', out)] };
  }

  /**
   * INITIATE: the cookie we made (K opens it, and it names this connection's C' and s'), the box from
   * C', the vouch from the client's permanent key C naming C'; then the client's metadata. The ZAP
   * handler, if any, then judges C; otherwise READY goes at once.
   */
  #onInitiate(data: Uint8Array): MechanismStep {
    if (data.length < INITIATE_MIN_DATA) {
      return this.#fail(
        'ERR_ZMTP_MALFORMED_COMMAND_INITIATE',
        `peer sent a CURVE INITIATE with a ${data.length + 9}-octet body; it needs at least 257`,
      );
    }
    const sodium = this.#sodium;
    const clientTransient = this.#peerTransient!;
    const transientSecret = this.#transientSecret!;
    let cookie: Uint8Array;
    try {
      cookie = sodium.crypto_secretbox_open_easy(data.subarray(16, COOKIE_BYTES), nonceOf(COOKIE_PREFIX, data, 0), this.#cookieKey!);
    } catch {
      return this.#fail('ERR_ZMTP_CRYPTOGRAPHIC', 'the cookie in the CURVE INITIATE does not open: it is not the one our WELCOME sent');
    }
    const ours = sameBytes(cookie, 0, clientTransient, 0, KEY_BYTES) && sameBytes(cookie, KEY_BYTES, transientSecret, 0, KEY_BYTES);
    wipe(cookie);
    if (!ours) {
      return this.#fail('ERR_ZMTP_CRYPTOGRAPHIC', 'the cookie in the CURVE INITIATE belongs to another connection');
    }
    const shared = sodium.crypto_box_beforenm(clientTransient, transientSecret);
    let plain: Uint8Array;
    try {
      plain = sodium.crypto_box_open_easy_afternm(
        data.subarray(COOKIE_BYTES + 8),
        nonceOf(INITIATE_PREFIX, data, COOKIE_BYTES),
        shared,
      );
    } catch {
      wipe(shared);
      return this.#fail('ERR_ZMTP_CRYPTOGRAPHIC', 'the box of the CURVE INITIATE does not open with the keys of this connection');
    }
    // Box[C (32) + Rv (16) + vouch (80) + metadata]; vouch = Box[C' + S](C→S'), nonce 'VOUCH---' + Rv.
    const clientKey = plain.slice(0, KEY_BYTES);
    let vouch: Uint8Array;
    try {
      vouch = sodium.crypto_box_open_easy(
        plain.subarray(48, 128),
        nonceOf(VOUCH_PREFIX, plain, KEY_BYTES),
        clientKey,
        transientSecret,
      );
    } catch {
      wipe(shared);
      return this.#fail(
        'ERR_ZMTP_CRYPTOGRAPHIC',
        'the vouch in the CURVE INITIATE does not open: the client does not hold the secret key of the public key it presents',
      );
    }
    // libzmq checks the C' half only (`curve_server.cpp`), and calls a mismatch a key-exchange failure.
    if (!sameBytes(vouch, 0, clientTransient, 0, KEY_BYTES)) {
      wipe(shared);
      return this.#fail('ERR_ZMTP_KEY_EXCHANGE', "the vouch in the CURVE INITIATE names another transient key than the client's HELLO");
    }
    const judged = readPeerMetadata(this.#socketType, plain.subarray(128));
    if (judged.status === 'error') {
      wipe(shared);
      return this.#failWith(judged.violation);
    }
    // The INITIATE's short nonce seeds the order check of the client's MESSAGEs (libzmq set_peer_nonce).
    this.#peerNonceHi = readUint32(data, COOKIE_BYTES);
    this.#peerNonceLo = readUint32(data, COOKIE_BYTES + 4);
    this.#sharedKey = shared;
    // The cookie key and s' are of no more use: the shared key is all the cipher needs.
    wipe(this.#cookieKey);
    wipe(this.#transientSecret);
    this.#cookieKey = undefined;
    this.#transientSecret = undefined;
    if (!this.#zap) return this.#sendReady(judged.peer);
    this.#peer = judged.peer;
    this.#phase = AWAIT_ZAP;
    return { status: 'zap', request: { mechanism: 'CURVE', credentials: [clientKey] } };
  }

  /** Server: READY, short nonce 1, Box[our metadata](S'→C'); the handshake is complete. */
  #sendReady(peer: PeerInfo): MechanismStep {
    const shared = this.#sharedKey!;
    const data = this.#boxWithShortNonce(READY_PREFIX, socketMetadata(this.#socketType, this.#identity, this.#metadata), shared);
    const cipher = new CurveCipher(this.#sodium, shared, true, this.#sentHi, this.#sentLo, this.#peerNonceHi, this.#peerNonceLo);
    this.#handOver();
    return { status: 'ready', send: [encodeCommand('READY', data)], peer, cipher };
  }

  // ---- client ----

  /** WELCOME: opens with (S, c') into S' and the cookie; answered by INITIATE with our vouch and metadata. */
  #onWelcome(data: Uint8Array): MechanismStep {
    if (data.length !== WELCOME_DATA) {
      return this.#fail(
        'ERR_ZMTP_MALFORMED_COMMAND_WELCOME',
        `peer sent a CURVE WELCOME with a ${data.length + 8}-octet body; it must have exactly 168`,
      );
    }
    const sodium = this.#sodium;
    const transientSecret = this.#transientSecret!;
    let plain: Uint8Array;
    try {
      plain = sodium.crypto_box_open_easy(data.subarray(16), nonceOf(WELCOME_PREFIX, data, 0), this.#serverKey!, transientSecret);
    } catch {
      return this.#fail(
        'ERR_ZMTP_CRYPTOGRAPHIC',
        'the box of the CURVE WELCOME does not open: the server does not hold the secret key of the server key we were given',
      );
    }
    const serverTransient = plain.subarray(0, KEY_BYTES);
    const cookie = plain.subarray(KEY_BYTES, KEY_BYTES + COOKIE_BYTES);
    const shared = sodium.crypto_box_beforenm(serverTransient, transientSecret);
    // vouch = Box[C' + S](C→S'), nonce 'VOUCH---' + Rv.
    const vouchRandom = sodium.randombytes_buf(16);
    const vouchPlain = new Uint8Array(2 * KEY_BYTES);
    vouchPlain.set(this.#transientPublic!, 0);
    vouchPlain.set(this.#serverKey!, KEY_BYTES);
    const vouch = sodium.crypto_box_easy(vouchPlain, nonceOf(VOUCH_PREFIX, vouchRandom, 0), serverTransient, this.#secretKey);
    // INITIATE: cookie, short nonce, Box[C + Rv + vouch + metadata](C'→S').
    const metadata = socketMetadata(this.#socketType, this.#identity, this.#metadata);
    const initiatePlain = new Uint8Array(KEY_BYTES + 16 + vouch.length + metadata.length);
    initiatePlain.set(this.#publicKey!, 0);
    initiatePlain.set(vouchRandom, KEY_BYTES);
    initiatePlain.set(vouch, KEY_BYTES + 16);
    initiatePlain.set(metadata, KEY_BYTES + 16 + vouch.length);
    const box = this.#boxWithShortNonce(INITIATE_PREFIX, initiatePlain, shared);
    const out = new Uint8Array(COOKIE_BYTES + box.length);
    out.set(cookie, 0);
    out.set(box, COOKIE_BYTES);
    this.#sharedKey = shared;
    // c and c' are of no more use: the shared key is all the cipher needs.
    wipe(this.#secretKey);
    wipe(this.#transientSecret);
    this.#transientSecret = undefined;
    this.#phase = EXPECT_READY;
    return { status: 'continue', send: [encodeCommand('INITIATE', out)] };
  }

  /** READY: opens with the shared key into the server's metadata; the handshake is complete. */
  #onReady(data: Uint8Array): MechanismStep {
    if (data.length < READY_MIN_DATA) {
      return this.#fail(
        'ERR_ZMTP_MALFORMED_COMMAND_READY',
        `peer sent a CURVE READY with a ${data.length + 6}-octet body; it needs at least 30`,
      );
    }
    const shared = this.#sharedKey!;
    let plain: Uint8Array;
    try {
      plain = this.#sodium.crypto_box_open_easy_afternm(data.subarray(8), nonceOf(READY_PREFIX, data, 0), shared);
    } catch {
      return this.#fail('ERR_ZMTP_CRYPTOGRAPHIC', 'the box of the CURVE READY does not open with the keys of this connection');
    }
    const judged = readPeerMetadata(this.#socketType, plain);
    if (judged.status === 'error') return this.#failWith(judged.violation);
    const cipher = new CurveCipher(this.#sodium, shared, false, this.#sentHi, this.#sentLo, readUint32(data, 0), readUint32(data, 4));
    this.#handOver();
    return { status: 'ready', peer: judged.peer, cipher };
  }

  // ---- shared ----

  /** Short nonce(8) + Box[plain] under the shared key with `prefix` + that nonce, the next of ours. */
  #boxWithShortNonce(prefix: string, plain: Uint8Array, shared: Uint8Array): Uint8Array {
    const short = new Uint8Array(8);
    this.#nextNonce(short, 0);
    const box = this.#sodium.crypto_box_easy_afternm(plain, nonceOf(prefix, short, 0), shared);
    const out = new Uint8Array(8 + box.length);
    out.set(short, 0);
    out.set(box, 8);
    return out;
  }

  /** Takes our next short nonce (libzmq counts from 1 per direction) and writes it at `at`. */
  #nextNonce(target: Uint8Array, at: number): void {
    this.#sentLo = (this.#sentLo + 1) >>> 0;
    if (this.#sentLo === 0) this.#sentHi = (this.#sentHi + 1) >>> 0;
    writeShortNonce(target, at, this.#sentHi, this.#sentLo);
  }

  /** The cipher owns the shared key now: keep no key here. */
  #handOver(): void {
    this.#phase = DONE;
    this.#sharedKey = undefined;
    this.#forget();
  }

  /** Drops (and wipes what is secret of) the handshake's keys. */
  #forget(): void {
    wipe(this.#secretKey);
    wipe(this.#transientSecret);
    wipe(this.#cookieKey);
    if (this.#sharedKey !== undefined) wipe(this.#sharedKey);
    this.#transientSecret = undefined;
    this.#cookieKey = undefined;
    this.#sharedKey = undefined;
    this.#peer = undefined;
  }

  #fail(code: ViolationCode, message: string): MechanismStep {
    return this.#failWith(violation(code, message));
  }

  #failWith(v: Violation): MechanismStep {
    this.#forget();
    this.#phase = FAILED;
    return { status: 'error', violation: v };
  }
}

function checkKey(option: string, key: Uint8Array | undefined): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    const got = key instanceof Uint8Array ? `${key.length} bytes` : `a ${typeof key}`;
    throw new ZmqError('EINVAL', `CURVE ${option} must be 32 raw bytes; got ${got}`);
  }
}

/**
 * Seals and opens MESSAGE commands after a CURVE handshake (RFC 26 MESSAGE, libzmq
 * `curve_mechanism_base.cpp`): data = short nonce(8) + Box[flags(1) + body] under the C'/S' shared key,
 * nonce prefix 'CurveZMQMESSAGEC' from the client and 'CurveZMQMESSAGES' from the server. Each nonce
 * received must exceed the last one (gaps allowed). Per frame: one nonce buffer per direction is reused,
 * counters are two 32-bit halves, no BigInt.
 *
 * Framing (the engine's part): libzmq 4.3 built with libsodium writes `07 'MESSAGE'` + this data as a
 * data frame, flags 0x00/0x02, and ORs the outer flags into the message it opens, so a MESSAGE framed
 * with the COMMAND bit is dropped there as a command. Send it as a data frame; accept both on input.
 */
class CurveCipher implements FrameCipher {
  readonly carrier = 'MESSAGE';
  readonly #sodium: Sodium;
  readonly #key: Uint8Array;
  readonly #sealNonce = new Uint8Array(NONCE_BYTES);
  readonly #openNonce = new Uint8Array(NONCE_BYTES);
  #sentHi: number;
  #sentLo: number;
  #peerHi: number;
  #peerLo: number;

  constructor(sodium: Sodium, key: Uint8Array, server: boolean, sentHi: number, sentLo: number, peerHi: number, peerLo: number) {
    this.#sodium = sodium;
    this.#key = key;
    writePrefix(this.#sealNonce, server ? MESSAGE_FROM_SERVER : MESSAGE_FROM_CLIENT);
    writePrefix(this.#openNonce, server ? MESSAGE_FROM_CLIENT : MESSAGE_FROM_SERVER);
    this.#sentHi = sentHi;
    this.#sentLo = sentLo;
    this.#peerHi = peerHi;
    this.#peerLo = peerLo;
  }

  seal(flags: number, body: Uint8Array): Uint8Array {
    // 2^64 frames would wrap the counter: unreachable (at 10^9 frames a second, 584 years).
    this.#sentLo = (this.#sentLo + 1) >>> 0;
    if (this.#sentLo === 0) this.#sentHi = (this.#sentHi + 1) >>> 0;
    const nonce = this.#sealNonce;
    writeShortNonce(nonce, 16, this.#sentHi, this.#sentLo);
    const plain = allocBytes(1 + body.length);
    plain[0] = flags;
    plain.set(body, 1);
    const box = this.#sodium.crypto_box_easy_afternm(plain, nonce, this.#key);
    const out = allocBytes(8 + box.length);
    for (let i = 0; i < 8; i++) out[i] = nonce[16 + i];
    out.set(box, 8);
    return out;
  }

  open(data: Uint8Array): Uint8Array | Violation {
    if (data.length < MESSAGE_MIN_DATA) {
      return violation(
        'ERR_ZMTP_MALFORMED_COMMAND_MESSAGE',
        `peer sent a CURVE MESSAGE with a ${data.length + 8}-octet body; it needs at least 33`,
      );
    }
    const hi = readUint32(data, 0);
    const lo = readUint32(data, 4);
    if (hi < this.#peerHi || (hi === this.#peerHi && lo <= this.#peerLo)) {
      return violation(
        'ERR_ZMTP_INVALID_SEQUENCE',
        `peer sent a CURVE MESSAGE with nonce ${nonceText(hi, lo)}, not above its last one ${nonceText(this.#peerHi, this.#peerLo)} (replayed or reordered)`,
      );
    }
    const nonce = this.#openNonce;
    for (let i = 0; i < 8; i++) nonce[16 + i] = data[i];
    let plain: Uint8Array;
    try {
      plain = this.#sodium.crypto_box_open_easy_afternm(data.subarray(8), nonce, this.#key);
    } catch {
      return violation('ERR_ZMTP_CRYPTOGRAPHIC', `the box of CURVE MESSAGE ${nonceText(hi, lo)} does not open: it was altered or not sealed for this connection`);
    }
    // Only a box that opened moves the window (libzmq moves it before opening; the connection closes either way).
    this.#peerHi = hi;
    this.#peerLo = lo;
    return asBytes(plain);
  }
}

/** A short nonce as a decimal number, for messages. */
function nonceText(hi: number, lo: number): string {
  return hi === 0 ? String(lo) : (BigInt(hi) * 4294967296n + BigInt(lo)).toString();
}
