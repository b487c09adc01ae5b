// Seeded generation for the malformed-stream fuzzer (scripts/fuzz.ts, test/fuzz/fuzz.test.ts): a
// PRNG, one fuzzed-socket configuration per batch, and per case a ZMTP byte stream built from tokens
// (greetings, handshake commands, frames), then mutated. Pure: no sockets, no timers, no Math.random;
// the same seed and case index always give the same case.

import type { Sodium } from '../../src/protocol/sodium.js';

// ---- PRNG ----

/** mulberry32: a small, fast, seedable PRNG; every random choice of the fuzzer comes from one. */
export class Rng {
  #s: number;

  constructor(seed: number) {
    this.#s = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** One of `table`'s values, each with its weight. */
  weighted<T>(table: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of table) total += w;
    let r = this.next() * total;
    for (const [w, v] of table) {
      if ((r -= w) < 0) return v;
    }
    return table[table.length - 1][1];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = (this.next() * 4294967296) >>> 0;
      out[i] = v & 0xff;
      if (i + 1 < n) out[i + 1] = (v >>> 8) & 0xff;
      if (i + 2 < n) out[i + 2] = (v >>> 16) & 0xff;
      if (i + 3 < n) out[i + 3] = v >>> 24;
    }
    return out;
  }

  /** A seed for a child PRNG. */
  fork(): number {
    return (this.next() * 4294967296) >>> 0;
  }
}

/** Mixes numbers into one 32-bit seed (murmur3's finaliser after each). */
export function mix(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

// ---- ZMTP vocabulary, written out again here so that the oracle does not trust src/ ----

export type SocketType = 'REQ' | 'REP' | 'DEALER' | 'ROUTER' | 'PUB' | 'SUB' | 'XPUB' | 'XSUB' | 'PUSH' | 'PULL' | 'PAIR';
export const SOCKET_TYPES: readonly SocketType[] = ['REQ', 'REP', 'DEALER', 'ROUTER', 'PUB', 'SUB', 'XPUB', 'XSUB', 'PUSH', 'PULL', 'PAIR'];

/** Valid pairs (PROTOCOL.md §7). */
export const PEERS: Readonly<Record<SocketType, readonly SocketType[]>> = {
  REQ: ['REP', 'ROUTER'],
  REP: ['REQ', 'DEALER'],
  DEALER: ['REP', 'DEALER', 'ROUTER'],
  ROUTER: ['REQ', 'DEALER', 'ROUTER'],
  PUB: ['SUB', 'XSUB'],
  XPUB: ['SUB', 'XSUB'],
  SUB: ['PUB', 'XPUB'],
  XSUB: ['PUB', 'XPUB'],
  PUSH: ['PULL'],
  PULL: ['PUSH'],
  PAIR: ['PAIR'],
};

export type MechanismName = 'NULL' | 'PLAIN' | 'CURVE';
export type Role = 'bind' | 'connect';

/** The one PLAIN user the fuzzed servers' ZAP handler knows. */
export const PLAIN_USER = 'fuzz';
export const PLAIN_PASSWORD = 'secret';
/** First-frame prefixes a fuzzed SUB or XSUB subscribes to: fuzz traffic, and round trips. */
export const FUZZ_PREFIX = 'fz';
export const ROUND_TRIP_PREFIX = 'rt';

export const FLAG_MORE = 0x01;
export const FLAG_LONG = 0x02;
export const FLAG_COMMAND = 0x04;
const EMPTY = new Uint8Array(0);

/** One octet per char (latin1). */
export function ascii(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function startsWith(b: Uint8Array, prefix: Uint8Array, at = 0): boolean {
  if (b.length < at + prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[at + i] !== prefix[i]) return false;
  return true;
}

function writeU64(target: Uint8Array, at: number, v: bigint): void {
  for (let i = 7; i >= 0; i--) {
    target[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function u32(v: number): Uint8Array {
  return new Uint8Array([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}

/** A frame: flags, a short or long size, the body. `long` forces the 8-octet size (RFC 37 allows it for small bodies). */
export function frameBytes(flags: number, body: Uint8Array, long = false): Uint8Array {
  const isLong = long || body.length > 255;
  const header = isLong ? 9 : 2;
  const out = new Uint8Array(header + body.length);
  out[0] = (flags & ~FLAG_LONG) | (isLong ? FLAG_LONG : 0);
  if (isLong) writeU64(out, 1, BigInt(body.length));
  else out[1] = body.length;
  out.set(body, header);
  return out;
}

/** A long header announcing `size` octets, without the body. */
export function hugeHeader(flags: number, size: bigint): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = flags | FLAG_LONG;
  writeU64(out, 1, size);
  return out;
}

/** A command body: name-len, name, data (RFC 37). */
export function commandBody(name: string, data: Uint8Array = EMPTY): Uint8Array {
  return concat([new Uint8Array([name.length & 0xff]), ascii(name), data]);
}

/** Metadata properties (RFC 37), any names and duplicates allowed: name-len(1) name value-len(4) value. */
export function metadataBytes(props: readonly (readonly [string, Uint8Array | string])[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [name, raw] of props) {
    const value = typeof raw === 'string' ? ascii(raw) : raw;
    parts.push(new Uint8Array([name.length & 0xff]), ascii(name), u32(value.length), value);
  }
  return concat(parts);
}

// ---- greetings (PROTOCOL.md §2) ----

interface GreetingSpec {
  sig0?: number;
  padding?: Uint8Array;
  sig9?: number;
  major?: number;
  minor?: number;
  mechanism: Uint8Array;
  asServer?: number;
  filler?: Uint8Array;
}

function greetingBytes(g: GreetingSpec): Uint8Array {
  const out = new Uint8Array(64);
  out[0] = g.sig0 ?? 0xff;
  if (g.padding !== undefined) out.set(g.padding.subarray(0, 8), 1);
  out[9] = g.sig9 ?? 0x7f;
  out[10] = g.major ?? 3;
  out[11] = g.minor ?? 1;
  out.set(g.mechanism.subarray(0, 20), 12);
  out[32] = g.asServer ?? 0;
  if (g.filler !== undefined) out.set(g.filler.subarray(0, 31), 33);
  return out;
}

/** A greeting a conforming peer may send: any padding and filler, 3.0/3.1/later, either as-server octet. */
export function validGreeting(rng: Rng, mechanism: MechanismName): Uint8Array {
  return greetingBytes({
    padding: rng.chance(0.3) ? rng.bytes(8) : undefined,
    sig9: rng.chance(0.85) ? 0x7f : (rng.int(128) << 1) | 1,
    major: rng.weighted([[85, 3], [10, 4], [5, 255]]),
    minor: rng.weighted([[60, 1], [30, 0], [10, rng.int(256)]]),
    mechanism: ascii(mechanism),
    asServer: rng.weighted([[70, 0], [25, 1], [5, rng.int(256)]]),
    filler: rng.chance(0.2) ? rng.bytes(31) : undefined,
  });
}

/** A greeting that must be refused: ZMTP 1.0/2.0, or another mechanism than ours. */
function brokenGreeting(rng: Rng, mechanism: MechanismName): Uint8Array {
  const others = (['NULL', 'PLAIN', 'CURVE'] as const).filter((m) => m !== mechanism);
  return rng.weighted<() => Uint8Array>([
    [2, () => greetingBytes({ sig0: rng.int(255), mechanism: ascii(mechanism) })],
    [2, () => greetingBytes({ sig9: rng.int(128) << 1, mechanism: ascii(mechanism) })],
    [3, () => greetingBytes({ major: rng.int(3), mechanism: ascii(mechanism) })],
    [4, () => greetingBytes({ mechanism: ascii(rng.pick(others)) })],
    [2, () => greetingBytes({ mechanism: ascii(rng.pick(['GSSAPI', 'FOO', mechanism.toLowerCase(), `${mechanism}X`, 'ABCDEFGHIJKLMNOPQRST'])) })],
    [1, () => greetingBytes({ mechanism: concat([ascii(mechanism), new Uint8Array([0, 0x41])]) })],
    [1, () => greetingBytes({ mechanism: new Uint8Array(0) })],
  ])();
}

// ---- configurations ----

export interface Keys {
  serverSecret: Uint8Array;
  serverPublic: Uint8Array;
  clientSecret: Uint8Array;
  clientPublic: Uint8Array;
}

/** The fuzzed socket of one batch of cases. */
export interface BatchConfig {
  batch: number;
  type: SocketType;
  mechanism: MechanismName;
  /** tcp role of the fuzzed socket: it binds and raw clients connect, or it connects to raw servers. */
  role: Role;
  /** PLAIN/CURVE: the fuzzed socket is the mechanism's server (ZMQ_PLAIN_SERVER / ZMQ_CURVE_SERVER). */
  securityServer: boolean;
  /** An Authenticator (ZAP handler) serves the socket's Context; a NULL socket then also gets a ZAP domain. */
  zap: boolean;
  /** ZMQ_MAXMSGSIZE, -1 for none. */
  maxMessageSize: number;
  /** The socket sends heartbeats (ZMQ_HEARTBEAT_IVL) to its peers. */
  heartbeat: boolean;
  /** How many cases run on the socket at once. */
  slots: number;
  /**
   * Close the socket while cases are under way, once this fraction of the batch has started (the
   * rest of the batch and its round trips are skipped); undefined: close after the round trips.
   */
  closeEarly: number | undefined;
  routingId: string | undefined;
  keys: Keys;
}

const COMBOS: [SocketType, MechanismName, Role][] = [];
for (const t of SOCKET_TYPES) for (const m of ['NULL', 'PLAIN', 'CURVE'] as const) for (const r of ['bind', 'connect'] as const) COMBOS.push([t, m, r]);

const orders = new Map<number, [SocketType, MechanismName, Role][]>();

/** The 66 socket type × mechanism × role combinations in a seeded order, so that batches cycle through all. */
function comboOrder(seed: number): [SocketType, MechanismName, Role][] {
  let order = orders.get(seed);
  if (order === undefined) {
    const rng = new Rng(mix(seed, 0xc0b0));
    order = COMBOS.slice();
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    orders.set(seed, order);
  }
  return order;
}

/** Keys are drawn from the PRNG (a secret key is any 32 octets), so CURVE streams replay too. */
function keysFrom(rng: Rng, sodium: Sodium): Keys {
  const serverSecret = rng.bytes(32);
  const clientSecret = rng.bytes(32);
  return {
    serverSecret,
    serverPublic: sodium.crypto_scalarmult_base(serverSecret),
    clientSecret,
    clientPublic: sodium.crypto_scalarmult_base(clientSecret),
  };
}

export function batchConfig(seed: number, batch: number, sodium: Sodium): BatchConfig {
  const [type, mechanism, role] = comboOrder(seed)[batch % COMBOS.length];
  const rng = new Rng(mix(seed, 0xba7c, batch));
  // Mostly the usual arrangement (the binding side checks credentials), sometimes the other way round.
  const securityServer = mechanism === 'NULL' ? false : rng.chance(0.75) === (role === 'bind');
  const zap = mechanism === 'PLAIN' ? securityServer : mechanism === 'CURVE' ? securityServer && rng.chance(0.5) : rng.chance(0.2);
  return {
    batch,
    type,
    mechanism,
    role,
    securityServer,
    zap,
    // Big enough for every handshake command (a CURVE INITIATE with metadata is about 400 octets).
    maxMessageSize: rng.chance(0.2) ? rng.pick([1000, 4096, 65536]) : -1,
    heartbeat: rng.chance(0.15),
    slots: type === 'PAIR' ? rng.pick([1, 1, 2]) : rng.pick([1, 2, 3, 3, 4]),
    routingId: (type === 'DEALER' || type === 'REQ' || type === 'ROUTER') && rng.chance(0.3) ? `fuzzed-${batch}` : undefined,
    keys: keysFrom(rng, sodium),
    closeEarly: rng.chance(0.1) ? 0.2 + 0.6 * rng.next() : undefined,
  };
}

// ---- cases ----

/** A frame to send after the handshake: cleartext as is, or sealed into a CURVE MESSAGE. */
export type TrafficItem =
  | { kind: 'frame'; flags: number; body: Uint8Array; long?: boolean; /** CURVE: the carrier frame's flags (0 = data frame, as libzmq sends it). */ outer?: number }
  | { kind: 'raw'; bytes: Uint8Array; label: string }
  /** CURVE: the carrier of an earlier item again (a replayed nonce). */
  | { kind: 'replay'; of: number };

/** Where a mutation applies: a fraction of the stream, or near the n-th frame header (mod their count). */
export type At = { frac: number } | { header: number; delta: number };

export type Mutation =
  | { op: 'flip'; at: At; bit: number }
  | { op: 'set'; at: At; value: number }
  | { op: 'truncate'; at: At }
  | { op: 'delete'; at: At; length: number }
  | { op: 'duplicate'; at: At; length: number }
  | { op: 'splice'; at: At; bytes: Uint8Array; label: string }
  | { op: 'huge'; at: At; size: bigint };

/** How the peer hands its bytes to TCP. */
export interface ChunkPlan {
  /** Largest chunk; each is 1..max octets. */
  maxChunk: number;
  /** Chance of a pause after a chunk, and its longest length (0 = a turn of the loop). */
  delayChance: number;
  maxDelayMs: number;
  /** How the peer leaves: FIN after its last byte, an RST, or FIN once the socket had time to answer. */
  end: 'fin' | 'rst' | 'wait';
  seed: number;
}

/** A peer that runs a real mechanism (src/protocol) through the handshake, then sends `traffic`. */
export interface InteractivePlan {
  greeting: Uint8Array;
  peerType: SocketType;
  identity: Uint8Array | undefined;
  /** Flip one octet of the n-th handshake command the peer writes (the handshake may still pass). */
  handshakeFlip: { command: number; frac: number; xor: number } | undefined;
  traffic: TrafficItem[];
  mutations: Mutation[];
}

export interface FuzzCase {
  index: number;
  label: string;
  /** A stream written as is, whatever the socket answers. */
  blind?: Uint8Array;
  interactive?: InteractivePlan;
  chunks: ChunkPlan;
}

/** Builds a stream and remembers where its frame headers start (mutations like those spots). */
export class StreamBuilder {
  readonly parts: Uint8Array[] = [];
  readonly headers: number[] = [];
  length = 0;

  raw(b: Uint8Array): this {
    this.parts.push(b);
    this.length += b.length;
    return this;
  }

  frame(flags: number, body: Uint8Array, long = false): this {
    this.headers.push(this.length);
    return this.raw(frameBytes(flags, body, long));
  }

  command(name: string, data?: Uint8Array, flags = FLAG_COMMAND): this {
    return this.frame(flags, commandBody(name, data));
  }

  bytes(): Uint8Array {
    return concat(this.parts);
  }
}

const sendsIdentity = (t: SocketType): boolean => t === 'REQ' || t === 'DEALER' || t === 'ROUTER';

/** A payload size: mostly small, sometimes long-framed, rarely large (1.1 MB crosses the decoder's 1 MiB eager limit). */
function payloadSize(rng: Rng): number {
  return rng.weighted<() => number>([
    [55, () => rng.int(25)],
    [20, () => rng.range(25, 255)],
    [15, () => rng.range(256, 3000)],
    [9, () => rng.range(3001, 70_000)],
    [0.9, () => rng.range(70_001, 300_000)],
    [0.1, () => 1_100_000],
  ])();
}

function payload(rng: Rng, prefix: string): Uint8Array {
  const head = ascii(prefix);
  const n = Math.max(payloadSize(rng), head.length);
  const out = new Uint8Array(n);
  out.set(head);
  // Random octets are costly for large frames; a pattern does as well there.
  if (n - head.length <= 4096) out.set(rng.bytes(n - head.length), head.length);
  else for (let i = head.length, k = rng.int(256); i < n; i++) out[i] = (i * 31 + k) & 0xff;
  return out;
}

/** A marker unique to (case, message), so a delivery names where it came from. */
function marker(index: number, n: number): string {
  return `${FUZZ_PREFIX}${index.toString(36)}.${n}:`;
}

/** The frames of one message from a peer of a type that fits the fuzzed socket, sometimes off the rules. */
function messageFrames(rng: Rng, cfg: BatchConfig, index: number, n: number): Uint8Array[] {
  const mark = marker(index, n);
  const body = (): Uint8Array[] => {
    const frames = [payload(rng, mark)];
    const more = rng.weighted([[60, 0], [25, 1], [10, 2], [5, rng.range(3, 6)]]);
    for (let i = 0; i < more; i++) frames.push(rng.chance(0.15) ? EMPTY : payload(rng, ''));
    return frames;
  };
  switch (cfg.type) {
    case 'REP': {
      // From REQ or DEALER: an envelope ending in an empty delimiter, then the body.
      return rng.weighted<() => Uint8Array[]>([
        [80, () => [EMPTY, ...body()]],
        [8, () => [ascii(`hop${n}`), EMPTY, ...body()]],
        [6, () => body()],
        [6, () => [EMPTY]],
      ])();
    }
    case 'REQ':
      return rng.weighted<() => Uint8Array[]>([
        [80, () => [EMPTY, ...body()]],
        [10, () => body()],
        [5, () => [EMPTY]],
        [5, () => [ascii('x'), EMPTY, ...body()]],
      ])();
    case 'SUB':
    case 'XSUB':
      return rng.weighted<() => Uint8Array[]>([
        [75, () => body()],
        [15, () => [payload(rng, `zz${mark}`), ...body().slice(1)]],
        [5, () => [EMPTY, ...body()]],
        [5, () => [concat([new Uint8Array([1]), ascii(mark)])]],
      ])();
    case 'XPUB':
      return rng.weighted<() => Uint8Array[]>([
        [40, () => body()],
        [40, () => [concat([new Uint8Array([rng.chance(0.7) ? 1 : 0]), ascii(rng.chance(0.5) ? FUZZ_PREFIX : mark)])]],
        [10, () => [new Uint8Array([rng.int(2)])]],
        [10, () => [concat([new Uint8Array([1]), ascii(mark)]), ...body()]],
      ])();
    default:
      return body();
  }
}

function topic(rng: Rng, index: number): Uint8Array {
  return rng.weighted<() => Uint8Array>([
    [40, () => ascii(FUZZ_PREFIX)],
    [20, () => ascii(`${FUZZ_PREFIX}${index.toString(36)}`)],
    [15, () => EMPTY],
    [25, () => rng.bytes(rng.range(1, 12))],
  ])();
}

/** Flags of a frame: its MORE bit, sometimes with the LONG form or reserved bits a lenient reader ignores. */
function frameVariant(rng: Rng, base: number): { flags: number; long: boolean } {
  return {
    flags: rng.chance(0.03) ? base | (rng.range(1, 31) << 3) : base,
    long: rng.chance(0.08),
  };
}

/** A command after the handshake: well-formed mostly (PING, PONG, SUBSCRIBE, CANCEL, unknown), sometimes not. */
function commandItem(rng: Rng, index: number): TrafficItem {
  const cmd = (name: string, data: Uint8Array = EMPTY): TrafficItem => {
    const v = frameVariant(rng, FLAG_COMMAND | (rng.chance(0.03) ? FLAG_MORE : 0));
    return { kind: 'frame', flags: v.flags, body: commandBody(name, data), long: v.long };
  };
  return rng.weighted<() => TrafficItem>([
    [18, () => cmd('PING', concat([new Uint8Array([0, rng.chance(0.9) ? 0 : rng.range(1, 50)]), rng.bytes(rng.int(17))]))],
    [6, () => cmd('PING', concat([new Uint8Array([0, 0]), rng.bytes(rng.range(17, 64))]))],
    [3, () => cmd('PING', rng.bytes(rng.int(2)))],
    [6, () => cmd('PONG', rng.bytes(rng.int(20)))],
    [14, () => cmd('SUBSCRIBE', topic(rng, index))],
    [8, () => cmd('CANCEL', topic(rng, index))],
    [5, () => cmd(rng.pick(['FOO', 'JOIN', 'LEAVE', 'X', 'ABCDEFGHIJKLMNOP']), rng.bytes(rng.int(10)))],
    [4, () => cmd(rng.pick(['READY', 'HELLO', 'WELCOME', 'INITIATE', 'ERROR']), rng.bytes(rng.int(20)))],
    [2, () => ({ kind: 'frame', flags: FLAG_COMMAND, body: concat([new Uint8Array([0]), rng.bytes(rng.int(5))]) })],
    [2, () => ({ kind: 'frame', flags: FLAG_COMMAND, body: EMPTY })],
    [2, () => ({ kind: 'frame', flags: FLAG_COMMAND, body: concat([new Uint8Array([rng.range(5, 255)]), ascii('SUB')]) })],
    [2, () => ({ kind: 'frame', flags: FLAG_COMMAND, body: concat([ascii('\x5eRROR'), new Uint8Array([3]), ascii('400')]) })],
  ])();
}

/** Garbage after or among the frames: random octets, a header announcing up to 2^64-1 octets, half a header. */
function garbageItem(rng: Rng): TrafficItem {
  return rng.weighted<() => TrafficItem>([
    [4, () => ({ kind: 'raw', bytes: rng.bytes(rng.range(1, 64)), label: 'random octets' })],
    [4, () => {
      const size = rng.pick([2n ** 53n - 1n, 2n ** 53n, 2n ** 63n - 1n, 2n ** 64n - 1n, 2n ** 40n, 1n << 21n, 1n << 31n]);
      return { kind: 'raw', bytes: concat([hugeHeader(rng.pick([0, FLAG_MORE, FLAG_COMMAND]), size), rng.bytes(rng.int(16))]), label: `header of ${size} octets` };
    }],
    [2, () => ({ kind: 'raw', bytes: new Uint8Array([rng.pick([0, 1, 2, 4, 6])]), label: 'half a header' })],
    [2, () => ({ kind: 'raw', bytes: concat([new Uint8Array([rng.pick([0x02, 0x03, 0x06])]), rng.bytes(rng.int(8))]), label: 'part of a long header' })],
  ])();
}

/**
 * Sockets that must go on reading a peer that sends more than their receive HWM (1000 messages) while
 * the application reads (or, PUB, while they discard what comes in). A PUSH never reads its peers, a
 * REQ reads only the peer it asked, a refused PAIR or ROUTER peer is cut off after 1000 messages.
 */
function floodable(cfg: BatchConfig): boolean {
  return ['PULL', 'DEALER', 'SUB', 'XSUB', 'XPUB', 'PUB', 'REP'].includes(cfg.type) || (cfg.type === 'PAIR' && cfg.slots === 1);
}

/** 1,200 to 2,500 small messages: more than a receive HWM, so the socket must pause and resume reading. */
function flood(rng: Rng, cfg: BatchConfig, index: number): TrafficItem[] {
  const items: TrafficItem[] = [];
  for (let k = rng.range(1200, 2500); k > 0; k--) {
    const body = ascii(`${FUZZ_PREFIX}${index.toString(36)}.f${k}`);
    if (cfg.type === 'REP') items.push({ kind: 'frame', flags: FLAG_MORE, body: EMPTY });
    items.push({ kind: 'frame', flags: 0, body });
  }
  return items;
}

/** What a peer sends once its handshake is done: messages, commands between and inside them, garbage. */
export function trafficItems(rng: Rng, cfg: BatchConfig, index: number, opts: { curve: boolean; clean: boolean }): TrafficItem[] {
  const items: TrafficItem[] = [];
  if (floodable(cfg) && rng.chance(0.015)) items.push(...flood(rng, cfg, index));
  const count = rng.weighted([[10, 0], [40, rng.range(1, 3)], [40, rng.range(4, 8)], [10, rng.range(9, 20)]]);
  let messages = 0;
  for (let i = 0; i < count; i++) {
    const what = opts.clean
      ? rng.weighted([[75, 'message'], [25, 'command']] as const)
      : rng.weighted([[62, 'message'], [22, 'command'], [6, 'garbage'], [opts.curve ? 6 : 0, 'replay'], [4, 'stop']] as const);
    if (what === 'message') {
      const frames = messageFrames(rng, cfg, index, messages++);
      for (let f = 0; f < frames.length; f++) {
        const v = frameVariant(rng, f < frames.length - 1 ? FLAG_MORE : 0);
        if (opts.clean) v.flags &= 0x07;
        items.push({ kind: 'frame', flags: v.flags, body: frames[f], long: v.long, outer: opts.curve ? rng.weighted([[85, 0], [12, FLAG_COMMAND], [3, FLAG_MORE]]) : undefined });
        // RFC 37 lets commands come between the frames of a message.
        if (f < frames.length - 1 && rng.chance(0.05)) {
          const c = commandItem(rng, index);
          if (!opts.clean || (c.kind === 'frame' && isHarmlessCommand(c.body))) items.push(c);
        }
      }
    } else if (what === 'command') {
      const c = commandItem(rng, index);
      if (!opts.clean || (c.kind === 'frame' && isHarmlessCommand(c.body))) items.push(c);
    } else if (what === 'garbage') {
      items.push(garbageItem(rng));
    } else if (what === 'replay') {
      const earlier = items.findIndex((it) => it.kind === 'frame');
      if (earlier >= 0) items.push({ kind: 'replay', of: rng.range(earlier, items.length - 1) });
    } else {
      items.push(garbageItem(rng));
      break;
    }
  }
  return items;
}

/** Commands every reader must take in its stride (no violation, no timer armed). */
function isHarmlessCommand(body: Uint8Array): boolean {
  const n = body[0];
  if (n === 0 || n > body.length - 1) return false;
  const name = String.fromCharCode(...body.subarray(1, 1 + n));
  if (name === 'PING') return body.length >= 1 + n + 2 && body[1 + n] === 0 && body[2 + n] === 0;
  return name !== '\x5eRROR';
}

/** Encodes cleartext traffic into a builder (CURVE traffic is sealed at run time, see peers.ts). */
export function writeTraffic(sb: StreamBuilder, items: readonly TrafficItem[]): void {
  for (const it of items) {
    if (it.kind === 'frame') sb.frame(it.flags, it.body, it.long ?? false);
    else if (it.kind === 'raw') sb.raw(it.bytes);
  }
}

/** Handshake metadata of a peer: mostly a fitting Socket-Type, sometimes none, another, or a broken block. */
function peerMetadata(rng: Rng, cfg: BatchConfig, index: number, peerType: SocketType): Uint8Array {
  const props: [string, Uint8Array | string][] = [];
  const typeName = rng.weighted([[90, 'Socket-Type'], [5, 'socket-type'], [5, 'SOCKET-TYPE']]);
  const declared = rng.weighted<() => string | undefined>([
    [88, () => peerType],
    [4, () => undefined],
    [4, () => rng.pick(SOCKET_TYPES.filter((t) => !PEERS[cfg.type].includes(t)))],
    [2, () => peerType.toLowerCase()],
    [2, () => rng.pick(['', 'STREAM', 'RADIO', 'X'])],
  ])();
  if (declared !== undefined) props.push([typeName, declared]);
  if (sendsIdentity(peerType) || rng.chance(0.05)) {
    props.push(['Identity', rng.weighted<() => Uint8Array>([
      [50, () => EMPTY],
      [40, () => ascii(`id${index.toString(36)}-${rng.int(1000)}`)],
      [6, () => ascii(rng.pick(['A', 'dup', 'B']))],
      [4, () => concat([new Uint8Array([0]), rng.bytes(4)])],
    ])()]);
  }
  if (rng.chance(0.15)) props.push([rng.pick(['X-Fuzz', 'User-Id', 'Resource', 'x']), rng.bytes(rng.int(40))]);
  if (rng.chance(0.03)) props.push([typeName, rng.pick(PEERS[cfg.type])]);
  let meta = metadataBytes(props);
  // Broken blocks: lengths past the end (PROTOCOL.md §5: the whole command is refused).
  rng.weighted<() => void>([
    [90, () => {}],
    [3, () => (meta = concat([meta, new Uint8Array([rng.range(1, 20)])]))],
    [3, () => (meta = concat([meta, new Uint8Array([2]), ascii('ab'), u32(rng.pick([1, 100, 0x7fffffff, 0xffffffff]))]))],
    [2, () => (meta = meta.subarray(0, Math.max(0, meta.length - rng.range(1, 4))))],
    [2, () => (meta = concat([new Uint8Array([0]), u32(0), meta]))],
  ])();
  return meta;
}

/** A blind peer's handshake for NULL: READY, sometimes with trouble before or after it. */
function nullHandshake(sb: StreamBuilder, rng: Rng, cfg: BatchConfig, index: number, peerType: SocketType): void {
  const ready = (): void => void sb.command('READY', peerMetadata(rng, cfg, index, peerType));
  rng.weighted<() => void>([
    [78, ready],
    [4, () => (ready(), ready())],
    [3, () => sb.command('ERROR', concat([new Uint8Array([3]), ascii('400')]))],
    [3, () => (sb.command(rng.pick(['HELLO', 'WELCOME', 'PING', 'SUBSCRIBE']), rng.bytes(rng.int(8))), ready())],
    [4, () => (sb.frame(0, payload(rng, marker(index, 99))), ready())],
    [5, () => (sb.frame(FLAG_MORE, ascii(marker(index, 98))), ready(), sb.frame(0, ascii(marker(index, 97))))],
    [3, () => {}],
  ])();
}

function plainHello(rng: Rng): Uint8Array {
  const field = (s: string | Uint8Array): Uint8Array => {
    const b = typeof s === 'string' ? ascii(s) : s;
    return concat([new Uint8Array([b.length]), b]);
  };
  return rng.weighted<() => Uint8Array>([
    [78, () => concat([field(PLAIN_USER), field(PLAIN_PASSWORD)])],
    [6, () => concat([field(PLAIN_USER), field('wrong')])],
    [3, () => concat([field('nobody'), field(PLAIN_PASSWORD)])],
    [3, () => concat([field(''), field('')])],
    [3, () => concat([field(PLAIN_USER), field(PLAIN_PASSWORD), new Uint8Array([0])])],
    [3, () => concat([new Uint8Array([rng.range(5, 255)]), ascii(PLAIN_USER)])],
    [2, () => field(PLAIN_USER)],
    [2, () => EMPTY],
  ])();
}

/** A blind PLAIN client (HELLO then INITIATE, without waiting for WELCOME) or server (WELCOME then READY). */
function plainHandshake(sb: StreamBuilder, rng: Rng, cfg: BatchConfig, index: number, peerType: SocketType): void {
  if (cfg.securityServer) {
    if (rng.chance(0.04)) sb.command(rng.pick(['WELCOME', 'READY', 'INITIATE']), rng.bytes(rng.int(10)));
    sb.command('HELLO', plainHello(rng));
    rng.weighted<() => void>([
      [85, () => sb.command('INITIATE', peerMetadata(rng, cfg, index, peerType))],
      [5, () => sb.command('READY', peerMetadata(rng, cfg, index, peerType))],
      [5, () => sb.command('ERROR', concat([new Uint8Array([5]), ascii('fuzz!')]))],
      [5, () => {}],
    ])();
  } else {
    rng.weighted<() => void>([
      [85, () => sb.command('WELCOME')],
      [4, () => sb.command('WELCOME', rng.bytes(rng.range(1, 8)))],
      [4, () => sb.command('ERROR', concat([new Uint8Array([3]), ascii(rng.pick(['400', '500', '300']))]))],
      [3, () => sb.frame(FLAG_COMMAND, concat([ascii('\x5eRROR'), new Uint8Array([3]), ascii('400')]))],
      [4, () => {}],
    ])();
    if (rng.chance(0.95)) sb.command('READY', peerMetadata(rng, cfg, index, peerType));
  }
}

/** The short-nonce box of a HELLO the server's key opens: made with a transient key drawn from the PRNG. */
function curveHello(rng: Rng, cfg: BatchConfig, sodium: Sodium): Uint8Array {
  const transientSecret = rng.bytes(32);
  const data = new Uint8Array(194);
  data[0] = 1;
  data.set(sodium.crypto_scalarmult_base(transientSecret), 74);
  data[113] = 1; // short nonce 1
  const nonce = concat([ascii('CurveZMQHELLO---'), data.subarray(106, 114)]);
  data.set(sodium.crypto_box_easy(new Uint8Array(64), nonce, cfg.keys.serverPublic, transientSecret), 114);
  return data;
}

/** A blind CURVE peer: a real or broken HELLO (client), or boxes of random octets of the right and wrong sizes. */
function curveHandshake(sb: StreamBuilder, rng: Rng, cfg: BatchConfig, sodium: Sodium): void {
  const randomMessage = (): void => void sb.frame(rng.pick([0, FLAG_COMMAND]), commandBody('MESSAGE', rng.bytes(rng.range(0, 80))));
  if (cfg.securityServer) {
    const hello = curveHello(rng, cfg, sodium);
    rng.weighted<() => void>([
      [55, () => sb.command('HELLO', hello)],
      [8, () => sb.command('HELLO', hello.subarray(0, rng.pick([0, 1, 100, 193])))],
      [5, () => sb.command('HELLO', concat([hello, rng.bytes(rng.range(1, 9))]))],
      [6, () => (hello[rng.range(0, 1)] ^= 1, sb.command('HELLO', hello))],
      [8, () => (hello[rng.range(114, 193)] ^= 1 << rng.int(8), sb.command('HELLO', hello))],
      [8, () => sb.command('HELLO', rng.bytes(194))],
      [5, () => sb.command(rng.pick(['INITIATE', 'READY', 'WELCOME', 'ERROR']), rng.bytes(rng.int(300)))],
      [5, () => {}],
    ])();
    if (rng.chance(0.8)) sb.command('INITIATE', rng.bytes(rng.weighted([[60, 248 + rng.int(200)], [20, 247], [20, rng.int(600)]])));
  } else {
    rng.weighted<() => void>([
      [70, () => sb.command('WELCOME', rng.bytes(rng.weighted([[70, 160], [30, rng.int(300)]])))],
      [10, () => sb.command('ERROR', concat([new Uint8Array([3]), ascii(rng.pick(['400', '500']))]))],
      [10, () => sb.command('READY', rng.bytes(rng.range(0, 100)))],
      [10, () => {}],
    ])();
    if (rng.chance(0.6)) sb.command('READY', rng.bytes(rng.weighted([[70, 24 + rng.int(80)], [30, rng.int(24)]])));
  }
  for (let i = rng.int(4); i > 0; i--) randomMessage();
}

function mutationList(rng: Rng, cfg: BatchConfig, index: number, sodium: Sodium): Mutation[] {
  const n = rng.weighted([[55, 0], [30, 1], [10, 2], [5, rng.range(3, 5)]]);
  const out: Mutation[] = [];
  for (let i = 0; i < n; i++) {
    const at: At = rng.chance(0.5) ? { header: rng.int(1 << 20), delta: rng.int(10) } : { frac: rng.next() };
    out.push(
      rng.weighted<() => Mutation>([
        [35, () => ({ op: 'flip', at, bit: rng.int(8) })],
        [12, () => ({ op: 'set', at, value: rng.pick([0x00, 0xff, 0x7f, 0x80, 0x01, 0x02, 0x04, 0x06, rng.int(256)]) })],
        [14, () => ({ op: 'truncate', at })],
        [8, () => ({ op: 'delete', at, length: rng.range(1, 40) })],
        [8, () => ({ op: 'duplicate', at, length: rng.range(1, 300) })],
        [15, () => {
          const material = spliceMaterial(rng, cfg, index, sodium);
          return { op: 'splice', at, bytes: material.bytes, label: material.label };
        }],
        [8, () => ({ op: 'huge', at, size: rng.pick([2n ** 63n - 1n, 2n ** 53n, 2n ** 32n, 65536n]) })],
      ])(),
    );
  }
  return out;
}

/** Pieces of valid sessions to splice in: a greeting, a READY, a message, a whole short session. */
function spliceMaterial(rng: Rng, cfg: BatchConfig, index: number, sodium: Sodium): { bytes: Uint8Array; label: string } {
  const peerType = rng.pick(PEERS[cfg.type]);
  return rng.weighted<() => { bytes: Uint8Array; label: string }>([
    [3, () => ({ bytes: validGreeting(rng, cfg.mechanism), label: 'a greeting' })],
    [3, () => ({ bytes: frameBytes(FLAG_COMMAND, commandBody('READY', peerMetadata(rng, cfg, index, peerType))), label: 'a READY' })],
    [4, () => {
      const sb = new StreamBuilder();
      writeTraffic(sb, trafficItems(rng, cfg, index + 1_000_000, { curve: false, clean: true }));
      return { bytes: sb.bytes(), label: 'traffic of another session' };
    }],
    [2, () => ({ bytes: blindStream(rng, cfg, index + 2_000_000, sodium, false).bytes, label: 'another whole session' })],
  ])();
}

/** A whole stream a blind peer writes: greeting, handshake tokens, traffic. */
function blindStream(rng: Rng, cfg: BatchConfig, index: number, sodium: Sodium, mayBreak = true): { bytes: Uint8Array; headers: number[]; label: string } {
  const sb = new StreamBuilder();
  const label: string[] = [];
  if (mayBreak && rng.chance(0.1)) {
    sb.raw(brokenGreeting(rng, cfg.mechanism));
    label.push('broken greeting');
  } else {
    sb.raw(validGreeting(rng, cfg.mechanism));
  }
  if (mayBreak && rng.chance(0.04)) {
    // Cut inside the greeting.
    const cut = rng.int(64);
    return { bytes: sb.bytes().subarray(0, cut), headers: [], label: `greeting cut at ${cut}` };
  }
  const peerType = rng.pick(PEERS[cfg.type]);
  if (cfg.mechanism === 'NULL') nullHandshake(sb, rng, cfg, index, peerType);
  else if (cfg.mechanism === 'PLAIN') plainHandshake(sb, rng, cfg, index, peerType);
  else curveHandshake(sb, rng, cfg, sodium);
  label.push(`${peerType} peer`);
  if (cfg.mechanism !== 'CURVE') {
    const items = trafficItems(rng, cfg, index, { curve: false, clean: !mayBreak || rng.chance(0.5) });
    if (items.length > 1000) label.push('flood');
    writeTraffic(sb, items);
  }
  return { bytes: sb.bytes(), headers: sb.headers, label: label.join(', ') };
}

/** The case with index `index` of a run with `seed`, for the socket of `cfg`. */
export function generateCase(seed: number, index: number, cfg: BatchConfig, sodium: Sodium): FuzzCase {
  const rng = new Rng(mix(seed, 0xca5e, index));
  const interactiveChance = cfg.mechanism === 'NULL' ? 0.35 : cfg.mechanism === 'PLAIN' ? 0.5 : 0.7;
  const chunks: ChunkPlan = {
    maxChunk: rng.weighted([[10, 1 << 30], [15, 3], [40, 64], [35, 4096]]),
    delayChance: rng.weighted([[40, 0], [40, 0.1], [20, 0.4]]),
    maxDelayMs: rng.weighted([[50, 0], [50, 3]]),
    end: rng.weighted([[80, 'fin'], [10, 'rst'], [10, 'wait']] as const),
    seed: rng.fork(),
  };
  if (rng.chance(interactiveChance)) {
    const peerType = rng.weighted<SocketType>([
      ...PEERS[cfg.type].map((t) => [10, t] as const),
    ]);
    const identity = sendsIdentity(peerType)
      ? rng.weighted<() => Uint8Array>([[50, () => EMPTY], [45, () => ascii(`id${index.toString(36)}`)], [5, () => ascii('dup')]])()
      : undefined;
    const clean = rng.chance(0.5);
    const plan: InteractivePlan = {
      greeting: validGreeting(rng, cfg.mechanism),
      peerType,
      identity,
      handshakeFlip: rng.chance(0.06) ? { command: rng.int(3), frac: rng.next(), xor: 1 << rng.int(8) } : undefined,
      traffic: trafficItems(rng, cfg, index, { curve: cfg.mechanism === 'CURVE', clean }),
      mutations: clean ? [] : mutationList(rng, cfg, index, sodium),
    };
    const what = [plan.traffic.length > 1000 ? 'flood' : '', plan.handshakeFlip ? 'flipped handshake' : '', plan.mutations.map((m) => m.op).join('+')].filter(Boolean).join(', ');
    return { index, label: `interactive ${cfg.mechanism} ${peerType} peer${what ? `, ${what}` : ''}`, interactive: plan, chunks };
  }
  const stream = blindStream(rng, cfg, index, sodium);
  const muts = mutationList(rng, cfg, index, sodium);
  const bytes = applyMutations(stream.bytes, stream.headers, muts);
  const what = muts.map((m) => (m.op === 'splice' ? `splice(${m.label})` : m.op)).join('+');
  return { index, label: `blind ${cfg.mechanism} ${stream.label}${what ? `, ${what}` : ''}`, blind: bytes, chunks };
}

function position(at: At, length: number, headers: readonly number[]): number {
  if ('frac' in at) return Math.min(length, Math.floor(at.frac * length));
  if (headers.length === 0) return Math.min(length, at.delta);
  return Math.min(length, headers[at.header % headers.length] + at.delta);
}

/** Applies mutations in order. Header positions refer to the unmutated stream, which is fine for "near a header". */
export function applyMutations(bytes: Uint8Array, headers: readonly number[], mutations: readonly Mutation[]): Uint8Array {
  let b = bytes;
  for (const m of mutations) {
    const at = position(m.at, b.length, headers);
    switch (m.op) {
      case 'flip':
        if (at < b.length) (b = Uint8Array.from(b))[at] ^= 1 << m.bit;
        break;
      case 'set':
        if (at < b.length) (b = Uint8Array.from(b))[at] = m.value;
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'delete':
        b = concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + m.length))]);
        break;
      case 'duplicate':
        b = concat([b.subarray(0, Math.min(b.length, at + m.length)), b.subarray(at)]);
        break;
      case 'splice':
        b = concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case 'huge':
        b = concat([b.subarray(0, at), hugeHeader(0, m.size), b.subarray(at)]);
        break;
    }
  }
  return b;
}

/** Cuts `length` octets into chunk sizes and the pause after each (ms; 0 = a turn of the loop; -1 = none). */
export function chunkSchedule(plan: ChunkPlan, length: number): { size: number; pause: number }[] {
  const rng = new Rng(plan.seed);
  // At most ~300 chunks, whatever the plan: a 1 MB stream in 3-octet chunks would take minutes.
  const max = Math.max(plan.maxChunk, Math.ceil(length / 300));
  const out: { size: number; pause: number }[] = [];
  for (let at = 0; at < length; ) {
    const size = Math.min(length - at, max >= 1 << 30 ? length : rng.range(1, max));
    at += size;
    out.push({ size, pause: rng.chance(plan.delayChance) ? rng.range(0, plan.maxDelayMs) : -1 });
  }
  return out;
}
