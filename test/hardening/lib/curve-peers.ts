// CURVE (RFC 25/26) played by hand with libsodium, one field at a time, so a case can break exactly
// one rule of PROTOCOL.md §11: a HELLO of the wrong size, a cookie from another server, a vouch for
// another key, a MESSAGE nonce played twice. Each builder returns a whole frame (header included).
//
//   HandCurveClient                                   our CURVE server
//   hello()       HELLO C', N, Box[64×0](C'→S)  ──▶
//   welcome(data) ◀── WELCOME R, Box[S' + cookie](S→C')
//   initiate()    INITIATE cookie, N, Box[C + Rv + vouch + metadata](C'→S')  ──▶
//   ready(data)   ◀── READY N, Box[metadata](S'→C')
//   message()     MESSAGE N, Box[flags + body](C'→S')  ──▶

import type { Sodium } from '../../../src/protocol/sodium.js';
import { COMMAND, commandBody, frame, property } from './wire.js';

const te = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A 24-octet nonce: an ASCII prefix, then `tail`. */
function nonce(prefix: string, tail: Uint8Array): Uint8Array {
  return Buffer.concat([te(prefix), Buffer.from(tail)]);
}

/** A uint64 short nonce, big-endian. */
export function shortNonce(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
}

/** A CURVE command frame, with the LONG header when the body needs it. */
const curveCommand = (name: string, data: Uint8Array): Buffer => frame(COMMAND, commandBody(name, data));

/** A MESSAGE travels as libzmq 4.3 sends it: its command body in a data frame (PROTOCOL.md §11, stream-engine.ts). */
const messageFrame = (data: Uint8Array): Buffer => frame(0, commandBody('MESSAGE', data));

export interface ClientKeys {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
  serverKey: Uint8Array;
}

/** A CURVE client whose every field a case may choose. Short nonces count from 1, as libzmq's do. */
export class HandCurveClient {
  readonly transient: { publicKey: Uint8Array; privateKey: Uint8Array };
  serverTransient: Uint8Array | undefined;
  cookie: Uint8Array | undefined;
  shared: Uint8Array | undefined;
  #nonce = 0n;

  constructor(
    readonly sodium: Sodium,
    readonly keys: ClientKeys,
    transient?: { publicKey: Uint8Array; privateKey: Uint8Array },
  ) {
    this.transient = transient ?? sodium.crypto_box_keypair();
  }

  nextNonce(): bigint {
    return ++this.#nonce;
  }

  /** HELLO (body 200): version, 72 octets of padding, C', short nonce, Box[64 zeros](C'→S). */
  hello(opts: { version?: [number, number]; serverKey?: Uint8Array; bodySize?: number; flip?: boolean } = {}): Buffer {
    const data = Buffer.alloc(194);
    const [major, minor] = opts.version ?? [1, 0];
    data[0] = major;
    data[1] = minor;
    data.set(this.transient.publicKey, 74);
    const short = shortNonce(this.nextNonce());
    data.set(short, 106);
    const box = this.sodium.crypto_box_easy(new Uint8Array(64), nonce('CurveZMQHELLO---', short), opts.serverKey ?? this.keys.serverKey, this.transient.privateKey);
    data.set(box, 114);
    if (opts.flip === true) data[150] ^= 0x01;
    const size = (opts.bodySize ?? 200) - 6;
    const sized = size <= 194 ? data.subarray(0, size) : Buffer.concat([data, Buffer.alloc(size - 194)]);
    return curveCommand('HELLO', sized);
  }

  /** Opens WELCOME's box with (S, c') into S' and the cookie. Throws when it does not open. */
  welcome(data: Uint8Array): void {
    const plain = this.sodium.crypto_box_open_easy(data.subarray(16), nonce('WELCOME-', data.subarray(0, 16)), this.keys.serverKey, this.transient.privateKey);
    this.serverTransient = plain.slice(0, 32);
    this.cookie = plain.slice(32, 128);
    this.shared = this.sodium.crypto_box_beforenm(this.serverTransient, this.transient.privateKey);
  }

  /**
   * INITIATE: cookie, short nonce, Box[C + Rv + vouch + metadata](C'→S'), vouch = Box[C' + S](C→S').
   * Each option replaces one part with a wrong one.
   */
  initiate(opts: {
    cookie?: Uint8Array;
    metadata?: Uint8Array;
    /** The transient key the vouch names (C' by right). */
    vouchTransient?: Uint8Array;
    /** Who signs the vouch (c by right): a key pair whose public half is then presented as C. */
    vouchSigner?: { publicKey: Uint8Array; secretKey: Uint8Array };
    /** Present this as C while the vouch is signed by the real c. */
    presentedKey?: Uint8Array;
    /** Seal the outer box to this public key instead of S'. */
    boxTo?: Uint8Array;
    /** Cut the command body to this many octets. */
    bodySize?: number;
  } = {}): Buffer {
    const sodium = this.sodium;
    const signer = opts.vouchSigner ?? { publicKey: this.keys.publicKey, secretKey: this.keys.secretKey };
    const vouchRandom = sodium.randombytes_buf(16);
    const vouchPlain = Buffer.concat([Buffer.from(opts.vouchTransient ?? this.transient.publicKey), Buffer.from(this.keys.serverKey)]);
    const vouch = sodium.crypto_box_easy(vouchPlain, nonce('VOUCH---', vouchRandom), this.serverTransient!, signer.secretKey);
    const metadata = opts.metadata ?? property('Socket-Type', 'PUSH');
    const plain = Buffer.concat([Buffer.from(opts.presentedKey ?? signer.publicKey), Buffer.from(vouchRandom), Buffer.from(vouch), Buffer.from(metadata)]);
    const short = shortNonce(this.nextNonce());
    const box =
      opts.boxTo === undefined
        ? sodium.crypto_box_easy_afternm(plain, nonce('CurveZMQINITIATE', short), this.shared!)
        : sodium.crypto_box_easy(plain, nonce('CurveZMQINITIATE', short), opts.boxTo, this.transient.privateKey);
    let data = Buffer.concat([Buffer.from(opts.cookie ?? this.cookie!), short, Buffer.from(box)]);
    if (opts.bodySize !== undefined) data = data.subarray(0, opts.bodySize - 9);
    return curveCommand('INITIATE', data);
  }

  /** Opens READY into the server's metadata. Throws when it does not open. */
  ready(data: Uint8Array): Uint8Array {
    return this.sodium.crypto_box_open_easy_afternm(data.subarray(8), nonce('CurveZMQREADY---', data.subarray(0, 8)), this.shared!);
  }

  /** The data of a MESSAGE: short nonce (the next, or `n`), Box[flags + body](C'→S'). */
  messageData(flags: number, body: string | Uint8Array, n?: bigint, prefix = 'CurveZMQMESSAGEC'): Buffer {
    const short = shortNonce(n ?? this.nextNonce());
    const plain = Buffer.concat([Buffer.from([flags]), typeof body === 'string' ? te(body) : Buffer.from(body)]);
    const box = this.sodium.crypto_box_easy_afternm(plain, nonce(prefix, short), this.shared!);
    return Buffer.concat([short, Buffer.from(box)]);
  }

  /** A MESSAGE frame (see {@link messageData}). */
  message(flags: number, body: string | Uint8Array, n?: bigint): Buffer {
    return messageFrame(this.messageData(flags, body, n));
  }
}

/** A CURVE server played by hand, for cases where our socket is the client. */
export class HandCurveServer {
  readonly transient: { publicKey: Uint8Array; privateKey: Uint8Array };
  clientTransient: Uint8Array | undefined;
  shared: Uint8Array | undefined;
  #nonce = 0n;

  constructor(
    readonly sodium: Sodium,
    readonly keys: { publicKey: Uint8Array; secretKey: Uint8Array },
  ) {
    this.transient = sodium.crypto_box_keypair();
  }

  nextNonce(): bigint {
    return ++this.#nonce;
  }

  /** Opens HELLO with (C', s). Throws when it does not open. */
  hello(data: Uint8Array): void {
    const clientTransient = data.slice(74, 106);
    this.sodium.crypto_box_open_easy(data.subarray(114), nonce('CurveZMQHELLO---', data.subarray(106, 114)), clientTransient, this.keys.secretKey);
    this.clientTransient = clientTransient;
    this.shared = this.sodium.crypto_box_beforenm(clientTransient, this.transient.privateKey);
  }

  /** WELCOME (body 168): R, Box[S' + cookie](S→C'); the client cannot look into the cookie, so any 96 octets do. */
  welcome(opts: { bodySize?: number; signer?: Uint8Array } = {}): Buffer {
    const r = this.sodium.randombytes_buf(16);
    const plain = Buffer.concat([Buffer.from(this.transient.publicKey), Buffer.alloc(96, 0x5a)]);
    const box = this.sodium.crypto_box_easy(plain, nonce('WELCOME-', r), this.clientTransient!, opts.signer ?? this.keys.secretKey);
    let data = Buffer.concat([Buffer.from(r), Buffer.from(box)]);
    const size = (opts.bodySize ?? 168) - 8;
    data = size <= data.length ? data.subarray(0, size) : Buffer.concat([data, Buffer.alloc(size - data.length)]);
    return curveCommand('WELCOME', data);
  }

  /** READY: short nonce, Box[metadata](S'→C'); `flip` alters one octet of the box, `bodySize` cuts it. */
  ready(opts: { metadata?: Uint8Array; flip?: boolean; bodySize?: number } = {}): Buffer {
    const short = shortNonce(this.nextNonce());
    const box = Buffer.from(this.sodium.crypto_box_easy_afternm(opts.metadata ?? property('Socket-Type', 'PUSH'), nonce('CurveZMQREADY---', short), this.shared!));
    if (opts.flip === true) box[box.length - 1] ^= 0x01;
    let data = Buffer.concat([short, box]);
    if (opts.bodySize !== undefined) data = data.subarray(0, opts.bodySize - 6);
    return curveCommand('READY', data);
  }

  /** A MESSAGE from the server: short nonce (the next, or `n`), Box[flags + body](S'→C'). */
  message(flags: number, body: string, n?: bigint): Buffer {
    const short = shortNonce(n ?? this.nextNonce());
    const plain = Buffer.concat([Buffer.from([flags]), te(body)]);
    const box = this.sodium.crypto_box_easy_afternm(plain, nonce('CurveZMQMESSAGES', short), this.shared!);
    return messageFrame(Buffer.concat([short, Buffer.from(box)]));
  }
}
