// The fuzzer's oracle: an independent, deliberately simple reading of a ZMTP stream as the fuzzed
// socket must read it (PROTOCOL.md §2-§11), and what each socket type may then hand its
// application. It errs on the side of permitting: where a reader may choose (reserved bits, a race
// with the ZAP handler), it permits, and says the case is not strict. Never imports src/.

import { ascii, FLAG_COMMAND, FLAG_LONG, FLAG_MORE, FUZZ_PREFIX, PEERS, PLAIN_PASSWORD, PLAIN_USER, ROUND_TRIP_PREFIX, startsWith } from './generators.js';
import type { BatchConfig, SocketType } from './generators.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** What the fuzzed socket must find in a stream. */
export type WireEvent =
  | { kind: 'message'; frames: Uint8Array[] }
  | { kind: 'subscription'; subscribe: boolean; topic: Uint8Array };

export interface Reading {
  /** The handshake completed (or was completed by the fuzzer before this stream). */
  handshake: boolean;
  events: WireEvent[];
  /** Values of every property named Identity (any case) in the peer's handshake metadata. */
  identities: Uint8Array[];
  /** The first rule the stream broke; nothing after it may be delivered. */
  violation: string | undefined;
  /** Choices a conforming reader may make either way: the case permits, but requires nothing. */
  lenient: string[];
  /** The stream carried a PING asking for traffic within a deadline (the socket may close the connection for it). */
  pingTtl: boolean;
  /** Known bugs (see KNOWN_BUGS) whose behaviour this reading tolerated to permit what followed. */
  knownBugs: string[];
}

/**
 * Bugs of src/ the fuzzer found, by id. Tolerating one (`FuzzOptions.tolerate`) makes the oracle
 * permit what the socket does today, so that runs look for other problems; the case is then not strict.
 */
export const KNOWN_BUGS = {
  'frames-before-handshake':
    'a data frame with MORE sent before the handshake completed is held, and joined to the frames after it into one ' +
    'delivered message; libzmq refuses the connection (ERR_ZMTP_UNEXPECTED_COMMAND) at that frame',
} as const;

export type KnownBug = keyof typeof KNOWN_BUGS;

export interface ReadInput {
  cfg: BatchConfig;
  bytes: Uint8Array;
  /** `greeting`: a blind stream from its first octet; `active`: traffic after a handshake the fuzzer completed. */
  from: 'greeting' | 'active';
  /** CURVE traffic: each MESSAGE data the fuzzer sealed (by key) and the plaintext (flags + body) it opens to. */
  sealed?: ReadonlyMap<string, Uint8Array>;
  /** Known bugs to permit the consequences of. */
  tolerate?: ReadonlySet<KnownBug>;
  /** Key of MESSAGE data in `sealed`. */
  keyOf?: (data: Uint8Array) => string;
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

interface Property {
  name: string;
  value: Uint8Array;
}

/** Metadata (RFC 37): refused as a whole when octets remain that are no complete property. */
function parseMetadata(data: Uint8Array): Property[] | undefined {
  const props: Property[] = [];
  let at = 0;
  while (at < data.length) {
    const n = data[at];
    if (at + 1 + n + 4 > data.length) return undefined;
    const name = latin1(data.subarray(at + 1, at + 1 + n));
    at += 1 + n;
    const len = readU32(data, at);
    at += 4;
    if (len > data.length - at) return undefined;
    props.push({ name, value: data.subarray(at, at + len) });
    at += len;
  }
  return props;
}

/**
 * Judges handshake metadata as the fuzzed socket must: well-formed, and a Socket-Type that pairs
 * (or none: libzmq accepts that). Names are case-insensitive (RFC 37); duplicates are the peer's
 * ambiguity, so they only make the case lenient.
 */
function judgeMetadata(local: SocketType, data: Uint8Array, r: Reading): boolean {
  const props = parseMetadata(data);
  if (props === undefined) return false;
  const types = props.filter((p) => p.name.toLowerCase() === 'socket-type').map((p) => latin1(p.value));
  r.identities = props.filter((p) => p.name.toLowerCase() === 'identity').map((p) => p.value);
  if (new Set(types).size > 1) r.lenient.push('several Socket-Type properties');
  if (new Set(r.identities.map(latin1)).size > 1) r.lenient.push('several Identity properties');
  if (types.length === 0) return true;
  const pairs = types.map((t) => (PEERS[local] as readonly string[]).includes(t));
  if (pairs.some((p) => p) && !pairs.every((p) => p)) r.lenient.push('Socket-Type properties that disagree');
  return pairs.some((p) => p);
}

/** PLAIN HELLO (RFC 24, as libzmq checks it): exact lengths, nothing after the password; then the credentials. */
function helloAccepted(data: Uint8Array): boolean {
  if (data.length < 1) return false;
  const u = data[0];
  if (1 + u >= data.length) return false;
  const p = data[1 + u];
  if (2 + u + p !== data.length) return false;
  return latin1(data.subarray(1, 1 + u)) === PLAIN_USER && latin1(data.subarray(2 + u)) === PLAIN_PASSWORD;
}

type Step = 'continue' | 'ready' | string;

/** The fuzzed socket's side of a blind handshake: the command it waits for next. */
class HandshakeModel {
  #state: string;

  constructor(
    readonly cfg: BatchConfig,
    readonly r: Reading,
  ) {
    this.#state = cfg.mechanism === 'NULL' ? 'READY' : cfg.securityServer ? 'HELLO' : 'WELCOME';
  }

  command(name: string, data: Uint8Array): Step {
    if (name === 'ERROR') return 'ERROR from the peer';
    if (name !== this.#state) return `${name} where ${this.#state} was due`;
    switch (this.#state) {
      case 'READY':
        if (!judgeMetadata(this.cfg.type, data, this.r)) return 'READY metadata refused';
        // NULL with ZAP: traffic that comes before the handler's verdict races it (the socket has not sent READY yet).
        if (this.cfg.mechanism === 'NULL' && this.cfg.zap) this.r.lenient.push('NULL traffic racing the ZAP verdict');
        return 'ready';
      case 'HELLO':
        if (!helloAccepted(data)) return 'HELLO refused';
        // A blind client sends INITIATE without waiting for WELCOME: in time only if ZAP answered first.
        this.r.lenient.push('PLAIN INITIATE racing the ZAP verdict');
        this.#state = 'INITIATE';
        return 'continue';
      case 'INITIATE':
        return judgeMetadata(this.cfg.type, data, this.r) ? 'ready' : 'INITIATE metadata refused';
      case 'WELCOME':
        if (data.length !== 0) return 'WELCOME with data';
        this.#state = 'READY';
        return 'continue';
    }
    return `unexpected ${name}`;
  }
}

/** Reads a stream as the fuzzed socket must (see the file comment). */
export function readStream(input: ReadInput): Reading {
  const { cfg, bytes } = input;
  const r: Reading = { handshake: false, events: [], identities: [], violation: undefined, lenient: [], pingTtl: false, knownBugs: [] };
  const stop = (why: string): Reading => {
    r.violation = why;
    return r;
  };
  let pos = 0;
  let handshake: HandshakeModel | undefined;
  if (input.from === 'greeting') {
    // Legacy peers are refused at the telling octet (PROTOCOL.md §2, §14).
    if (bytes.length > 0 && bytes[0] !== 0xff) return stop('greeting octet 0 is not 0xFF');
    if (bytes.length > 9 && (bytes[9] & 1) === 0) return stop('greeting octet 9 has bit 0 clear');
    if (bytes.length > 10 && bytes[10] < 3) return stop('greeting announces ZMTP < 3');
    if (bytes.length < 64) return r;
    let end = 32;
    while (end > 12 && bytes[end - 1] === 0) end--;
    if (latin1(bytes.subarray(12, end)) !== cfg.mechanism) return stop('another mechanism');
    // A blind peer cannot complete CURVE: the server's cookie and keys are not known in advance.
    if (cfg.mechanism === 'CURVE') return stop('CURVE without the keys');
    pos = 64;
    handshake = new HandshakeModel(cfg, r);
  } else {
    r.handshake = true;
  }
  const curve = cfg.mechanism === 'CURVE' && input.from === 'active';
  let frames: Uint8Array[] | undefined;
  /** The message in progress began before the handshake completed (a tolerated known bug). */
  let early = false;
  let sealedFrames: Uint8Array[] | undefined;
  let lastNonce = -1n;

  // A command after the handshake (cleartext, or opened from a MESSAGE). Returns a violation.
  const command = (name: string, data: Uint8Array): string | undefined => {
    if (name === 'PING') {
      if (data.length < 2) return 'PING without its ttl';
      if (data[0] !== 0 || data[1] !== 0) r.pingTtl = true;
    } else if (name === 'SUBSCRIBE' || name === 'CANCEL') {
      r.events.push({ kind: 'subscription', subscribe: name === 'SUBSCRIBE', topic: data });
    }
    return undefined;
  };

  // Opens one MESSAGE: known sealed data only (a forged or altered box cannot open), nonces increasing.
  const open = (data: Uint8Array): string | undefined => {
    if (data.length < 25) return 'MESSAGE too short';
    const plain = input.sealed?.get(input.keyOf!(data));
    if (plain === undefined) return 'MESSAGE box does not open';
    let nonce = 0n;
    for (let i = 0; i < 8; i++) nonce = (nonce << 8n) | BigInt(data[i]);
    if (nonce <= lastNonce) return 'MESSAGE nonce not above the last one';
    lastNonce = nonce;
    if (plain.length === 0) return 'MESSAGE opened to nothing';
    const flags = plain[0];
    const body = plain.subarray(1);
    if ((flags & 0x02) !== 0) {
      const c = splitCommand(body);
      if (typeof c === 'string') return c;
      return command(c.name, c.data);
    }
    (sealedFrames ??= []).push(body);
    if ((flags & 0x01) === 0) {
      r.events.push({ kind: 'message', frames: sealedFrames });
      sealedFrames = undefined;
    }
    return undefined;
  };

  while (pos < bytes.length) {
    const flags = bytes[pos];
    const long = (flags & FLAG_LONG) !== 0;
    const headerLength = long ? 9 : 2;
    if (pos + headerLength > bytes.length) break;
    let size: bigint;
    if (long) {
      size = 0n;
      for (let i = 1; i <= 8; i++) size = (size << 8n) | BigInt(bytes[pos + i]);
      if (size > MAX_SAFE) return stop('frame size above 2^53-1');
    } else {
      size = BigInt(bytes[pos + 1]);
    }
    if (cfg.maxMessageSize >= 0 && size > BigInt(cfg.maxMessageSize)) return stop('frame above maxMessageSize');
    if (BigInt(pos + headerLength) + size > BigInt(bytes.length)) break;
    const body = bytes.subarray(pos + headerLength, pos + headerLength + Number(size));
    pos += headerLength + Number(size);
    if ((flags & 0xf8) !== 0) r.lenient.push('reserved flag bits');
    if ((flags & FLAG_COMMAND) !== 0) {
      if ((flags & FLAG_MORE) !== 0) r.lenient.push('MORE on a command');
      const c = splitCommand(body, r);
      if (typeof c === 'string') return stop(c);
      if (handshake !== undefined && !r.handshake) {
        const step = handshake.command(c.name, c.data);
        if (step === 'ready') r.handshake = true;
        else if (step !== 'continue') return stop(step);
        continue;
      }
      const v = curve ? (c.name === 'MESSAGE' ? open(c.data) : `${c.name} command under CURVE`) : command(c.name, c.data);
      if (v !== undefined) return stop(v);
      continue;
    }
    // Data frames before the handshake completed break the protocol, even when READY comes between
    // the frames of a message (libzmq reads every frame as a handshake command until then).
    if (!r.handshake && ((flags & FLAG_MORE) === 0 || input.tolerate?.has('frames-before-handshake') !== true)) {
      return stop('data frame before the handshake completed');
    }
    (frames ??= []).push(body);
    if ((flags & FLAG_MORE) !== 0) {
      if (!r.handshake) early = true;
      continue;
    }
    const message = frames;
    frames = undefined;
    if (early) {
      early = false;
      r.knownBugs.push('frames-before-handshake');
      r.lenient.push('a message begun before the handshake (tolerated known bug)');
    }
    if (!curve) {
      r.events.push({ kind: 'message', frames: message });
      continue;
    }
    // libzmq sends each CURVE MESSAGE in a data frame; every frame must be one.
    for (const f of message) {
      const c = splitCommand(f);
      if (typeof c === 'string') return stop(c);
      if (c.name !== 'MESSAGE') return stop(`data frame carrying ${c.name} under CURVE`);
      const v = open(c.data);
      if (v !== undefined) return stop(v);
    }
  }
  return r;
}

/**
 * RFC 37 command body: name-len 1..255 that fits, then the name. In a cleartext frame libzmq 4.3's
 * `5e 'RROR'` (its PLAIN server's ERROR) may be read as ERROR, a reader's choice; sealed, it is malformed.
 */
function splitCommand(body: Uint8Array, r?: Reading): { name: string; data: Uint8Array } | string {
  if (r !== undefined && body.length >= 5 && body[0] === 0x5e && latin1(body.subarray(1, 5)) === 'RROR') {
    r.lenient.push("libzmq's 5e-RROR spelling of ERROR");
    return { name: 'ERROR', data: body.subarray(5) };
  }
  const n = body.length > 0 ? body[0] : 0;
  if (n === 0 || n > body.length - 1) return 'malformed command name';
  return { name: latin1(body.subarray(1, 1 + n)), data: body.subarray(1 + n) };
}

// ---- what the application may see ----

/** How a ROUTER's first frame may look: the peer's Identity, or an id it generated (5 octets, first 0). */
export interface RoutingIdRule {
  ids: Uint8Array[];
  generated: boolean;
  any: boolean;
}

export interface Entry {
  frames: Uint8Array[];
  rid?: RoutingIdRule;
}

export interface Expectation {
  entries: Entry[];
  /** Entries arrive in this order (a subsequence of it). */
  ordered: boolean;
  /** Every entry must be delivered. */
  strict: boolean;
}

const FUZZ = ascii(FUZZ_PREFIX);
const ROUND_TRIP = ascii(ROUND_TRIP_PREFIX);

/**
 * What the application of the fuzzed socket may receive from a stream so read (PROTOCOL.md §8, §13):
 * `identities` overrides the Identity seen in the stream (interactive peers), `anyRoutingId` when
 * the handshake was tampered with.
 */
export function expectDeliveries(
  cfg: BatchConfig,
  r: Reading,
  opts: { identities?: Uint8Array[]; anyRoutingId?: boolean; mayRequire: boolean },
): Expectation {
  const messages = r.events.filter((e): e is Extract<WireEvent, { kind: 'message' }> => e.kind === 'message').map((e) => e.frames);
  let entries: Entry[] = [];
  let ordered = true;
  let strictType = true;
  switch (cfg.type) {
    case 'PULL':
    case 'DEALER':
      entries = messages.map((frames) => ({ frames }));
      break;
    case 'PAIR':
      entries = messages.map((frames) => ({ frames }));
      strictType = cfg.slots === 1; // a second PAIR peer is refused, its messages dropped
      break;
    case 'ROUTER': {
      const ids = opts.identities ?? r.identities;
      const distinct = new Set(ids.map(latin1));
      const value = ids.length > 0 ? ids[0] : new Uint8Array(0);
      const rid: RoutingIdRule = opts.anyRoutingId || distinct.size > 1
        ? { ids: [], generated: true, any: true }
        : value.length > 0 ? { ids: [value], generated: false, any: false } : { ids: [], generated: true, any: false };
      entries = messages.map((frames) => ({ frames, rid }));
      // A non-empty id another peer holds is refused (ROUTER without handover), and the test ids repeat.
      strictType = !ids.some((id) => ['A', 'B', 'dup'].includes(latin1(id)));
      break;
    }
    case 'REP':
      // Every frame up to the first empty one is the envelope; at least one body frame must follow.
      for (const m of messages) {
        const at = m.findIndex((f, i) => f.length === 0 && i < m.length - 1);
        if (at >= 0) entries.push({ frames: m.slice(at + 1) });
      }
      break;
    case 'REQ':
      // Only a reply to an outstanding request, from the peer asked, is delivered: permit, never require.
      for (const m of messages) if (m.length >= 2 && m[0].length === 0) entries.push({ frames: m.slice(1) });
      strictType = false;
      break;
    case 'SUB':
    case 'XSUB':
      for (const m of messages) if (startsWith(m[0], FUZZ) || startsWith(m[0], ROUND_TRIP)) entries.push({ frames: m });
      break;
    case 'XPUB': {
      // Subscriptions are reported once per topic (default verbosity), cancels also when the peer
      // leaves: any order, none required.
      ordered = false;
      strictType = false;
      const topics = new Map<string, Uint8Array>();
      for (const e of r.events) {
        if (e.kind === 'message') {
          entries.push({ frames: e.frames });
          if (e.frames.length === 1 && e.frames[0].length > 0 && e.frames[0][0] === 1) topics.set(latin1(e.frames[0].subarray(1)), e.frames[0].subarray(1));
        } else {
          entries.push({ frames: [subscriptionFrame(e.subscribe, e.topic)] });
          if (e.subscribe) topics.set(latin1(e.topic), e.topic);
        }
      }
      for (const t of topics.values()) entries.push({ frames: [subscriptionFrame(false, t)] });
      break;
    }
    case 'PUB':
    case 'PUSH':
      strictType = false;
      break;
  }
  const strict = opts.mayRequire && strictType && r.handshake && r.violation === undefined && r.lenient.length === 0 && !opts.anyRoutingId;
  return { entries, ordered, strict };
}

function subscriptionFrame(subscribe: boolean, topic: Uint8Array): Uint8Array {
  const f = new Uint8Array(1 + topic.length);
  f[0] = subscribe ? 1 : 0;
  f.set(topic, 1);
  return f;
}
