// CURVE in a browser page (built by vite, opened by test/browser/curve.test.ts): loads libsodium the way
// the runtime does (lazily, `curveReady()`), makes key pairs, runs a whole CURVE handshake between two
// CurveMechanisms in memory, each side's frames fed to the other through a FrameDecoder, then seals and
// opens MESSAGEs both ways and opens a tampered box. Everything it sees goes on `window.__result` (JSON
// only: bytes as hex), for the test to judge; nothing is judged here.
//
//   client mech ── frames ──▶ server's FrameDecoder ──▶ server mech.onCommand
//   client mech.onCommand ◀── client's FrameDecoder ◀── frames ── server mech
//   then cipher.seal ── encodeCommand('MESSAGE') ──▶ FrameDecoder ──▶ cipher.open (and back)

import { z85Decode } from '../../../src/core/z85.js';
import {
  checkMechanism,
  commandBody,
  curveKeyPair,
  curveReady,
  CurveMechanism,
  encodeCommand,
  encodeGreeting,
  type FrameCipher,
  FrameDecoder,
  type FrameSink,
  getProperty,
  GreetingDecoder,
  isViolation,
  type MechanismStep,
  SEALED_COMMAND,
  SEALED_MORE,
  sodiumNow,
  splitCommandBody,
} from '../../../src/protocol/index.js';

type Side = 'client' | 'server';

/** One frame after a seal → wire → open round: what went in and what came out. */
export interface OpenedFrame {
  sentFlags: number;
  sentHex: string;
  /** The flags octet the peer's cipher opened, or -1 when it did not open. */
  openedFlags: number;
  openedHex: string;
  /** The class of what `open` returned (Uint8Array in a browser, as there is no Buffer). */
  openedType: string;
  /** The carrier command's name as the receiving FrameDecoder reported it. */
  carrier: string;
}

/** What the page found; every field is plain JSON. */
export interface CurveResult {
  /** `typeof globalThis.Buffer` in the page. */
  bufferType: string;
  /** libsodium was not loaded before `curveReady()` (sodiumNow() undefined). */
  sodiumBeforeReady: boolean;
  /** `curveKeyPair()` before `curveReady()`. */
  beforeReady: { threw: boolean; code?: string; message?: string };
  sodiumAfterReady: boolean;
  keys: { client: { publicKey: string; secretKey: string }; server: { publicKey: string; secretKey: string } };
  /** Every handshake frame, in order: `side:NAME` and its size on the wire. */
  wire: { from: Side; name: string; bytes: number }[];
  status: { client: string; server: string };
  /** The socket type each side read from the other's metadata, and an X- property the client sent. */
  peers: { clientSees: string; serverSees: string; serverSeesApp: string };
  carriers: { client: string; server: string };
  clientToServer: OpenedFrame[];
  serverToClient: OpenedFrame[];
  /** A sealed SUBSCRIBE from the client, opened and split by the server. */
  sealedCommand: { flags: number; name: string; dataHex: string };
  /** A server MESSAGE with one box byte flipped, opened by the client. */
  tampered: { code: string; message: string };
  /** The untampered original, opened afterwards (a failed open must not move the nonce window). */
  originalAfterTamper: { opened: boolean; equal: boolean };
  /** A replay of an already opened MESSAGE. */
  replay: { code: string };
  /** Set when the page itself failed (the test then fails on it). */
  error?: string;
}

const hexOf = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A sink that queues the commands a decoder finds (copied: the decoder hands out views). */
class Inbox implements FrameSink {
  readonly commands: { name: string; data: Uint8Array }[] = [];
  onMessage(): void {
    throw new Error('a data frame arrived where only commands were expected');
  }
  onCommand(name: string, data: Uint8Array): void {
    this.commands.push({ name, data: Uint8Array.from(data) });
  }
}

/** One direction of the in-memory connection: bytes pushed in, commands out. */
class Stream {
  readonly #decoder = new FrameDecoder();
  readonly #inbox = new Inbox();
  write(frame: Uint8Array): void {
    const v = this.#decoder.push(frame, this.#inbox);
    if (v !== undefined) throw new Error(`frame decoder: ${v.code} ${v.message}`);
  }
  next(): { name: string; data: Uint8Array } | undefined {
    return this.#inbox.commands.shift();
  }
}

function greetingFor(peerAsServer: boolean) {
  const r = new GreetingDecoder().push(encodeGreeting('CURVE', peerAsServer));
  if (!r.done || r.greeting === undefined) throw new Error('greeting did not decode');
  const v = checkMechanism('CURVE', r.greeting);
  if (v !== undefined) throw new Error(`greeting: ${v.code}`);
  return r.greeting;
}

function cipherOf(s: MechanismStep, side: Side): FrameCipher {
  if (s.status !== 'ready' || s.cipher === undefined) throw new Error(`${side}: no cipher (status ${s.status})`);
  return s.cipher;
}

async function run(): Promise<CurveResult> {
  const bufferType = typeof (globalThis as { Buffer?: unknown }).Buffer;
  const sodiumBeforeReady = sodiumNow() === undefined;

  let beforeReady: CurveResult['beforeReady'];
  try {
    curveKeyPair();
    beforeReady = { threw: false };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    beforeReady = { threw: true, code: err.code, message: err.message };
  }

  await curveReady();
  const sodium = sodiumNow();
  if (sodium === undefined) throw new Error('curveReady() resolved but libsodium is not loaded');
  const keys = { client: curveKeyPair(), server: curveKeyPair() };

  const client = new CurveMechanism({
    sodium,
    asServer: false,
    socketType: 'DEALER',
    secretKey: z85Decode(keys.client.secretKey),
    publicKey: z85Decode(keys.client.publicKey),
    serverKey: z85Decode(keys.server.publicKey),
    metadata: { 'X-App': 'browser' },
    zap: false,
  });
  const server = new CurveMechanism({
    sodium,
    asServer: true,
    socketType: 'ROUTER',
    secretKey: z85Decode(keys.server.secretKey),
    publicKey: z85Decode(keys.server.publicKey),
    zap: false,
  });

  // The handshake: each side's frames written into the other's stream, read back as commands.
  const mech: Record<Side, CurveMechanism> = { client, server };
  const inbound: Record<Side, Stream> = { client: new Stream(), server: new Stream() };
  const wire: CurveResult['wire'] = [];
  const post = (from: Side, s: MechanismStep): void => {
    for (const frame of s.send ?? []) {
      const probe = new Inbox();
      new FrameDecoder().push(frame, probe);
      wire.push({ from, name: probe.commands[0]?.name ?? '?', bytes: frame.length });
      inbound[from === 'client' ? 'server' : 'client'].write(frame);
    }
  };
  const last: Record<Side, MechanismStep> = { client: client.start(greetingFor(true)), server: server.start(greetingFor(false)) };
  post('client', last.client);
  post('server', last.server);
  for (let turn = 0; turn < 20; turn++) {
    let moved = false;
    for (const side of ['server', 'client'] as const) {
      if (last[side].status !== 'continue') continue;
      const cmd = inbound[side].next();
      if (cmd === undefined) continue;
      last[side] = mech[side].onCommand(cmd.name, cmd.data);
      post(side, last[side]);
      moved = true;
    }
    if (!moved) break;
  }
  const status = { client: last.client.status, server: last.server.status };
  const stepError = (s: MechanismStep) => (s.status === 'error' ? ` ${s.violation.code}: ${s.violation.message}` : '');
  if (status.client !== 'ready' || status.server !== 'ready') {
    throw new Error(`handshake incomplete: client ${status.client}${stepError(last.client)}, server ${status.server}${stepError(last.server)}`);
  }
  const latin = (b: Uint8Array | undefined) => (b === undefined ? '' : String.fromCharCode(...b));
  const peers = {
    clientSees: last.client.status === 'ready' ? last.client.peer.socketType : '',
    serverSees: last.server.status === 'ready' ? last.server.peer.socketType : '',
    serverSeesApp: last.server.status === 'ready' ? latin(getProperty(last.server.peer.properties, 'X-App')) : '',
  };
  const cipher: Record<Side, FrameCipher> = { client: cipherOf(last.client, 'client'), server: cipherOf(last.server, 'server') };

  // After the handshake: seal, carry in a MESSAGE command through the peer's decoder, open.
  const carry = (from: Side, sealed: Uint8Array) => {
    const to: Side = from === 'client' ? 'server' : 'client';
    inbound[to].write(encodeCommand(cipher[from].carrier, sealed));
    const cmd = inbound[to].next();
    if (cmd === undefined) throw new Error(`${to}: the ${cipher[from].carrier} command did not arrive`);
    return { to, cmd };
  };
  const roundTrip = (from: Side, frames: { flags: number; body: Uint8Array }[]): OpenedFrame[] =>
    frames.map(({ flags, body }) => {
      const { to, cmd } = carry(from, cipher[from].seal(flags, body));
      const opened = cipher[to].open(cmd.data);
      if (isViolation(opened)) {
        return { sentFlags: flags, sentHex: hexOf(body), openedFlags: -1, openedHex: `${opened.code}: ${opened.message}`, openedType: 'Violation', carrier: cmd.name };
      }
      return {
        sentFlags: flags,
        sentHex: hexOf(body),
        openedFlags: opened[0],
        openedHex: hexOf(opened.subarray(1)),
        openedType: opened.constructor.name,
        carrier: cmd.name,
      };
    });

  const binary = Uint8Array.from({ length: 300 }, (_, i) => (i * 7 + 3) & 0xff); // > 255: a long frame on the wire
  const clientToServer = roundTrip('client', [
    { flags: SEALED_MORE, body: utf8('hello from the browser client') },
    { flags: 0, body: binary },
    { flags: 0, body: new Uint8Array(0) },
  ]);
  const serverToClient = roundTrip('server', [
    { flags: SEALED_MORE, body: utf8('hello back from the server') },
    { flags: 0, body: utf8('second frame ✓') },
  ]);

  // A command travelling sealed (libzmq's SUBSCRIBE under CURVE).
  const sub = carry('client', cipher.client.seal(SEALED_COMMAND, commandBody('SUBSCRIBE', utf8('topic'))));
  const subOpened = cipher.server.open(sub.cmd.data);
  if (isViolation(subOpened)) throw new Error(`sealed SUBSCRIBE: ${subOpened.code}`);
  const split = splitCommandBody(subOpened.subarray(1));
  if (isViolation(split)) throw new Error(`sealed SUBSCRIBE: ${split.code}`);
  const sealedCommand = { flags: subOpened[0], name: split.name, dataHex: hexOf(split.data) };

  // Tampering: flip one octet inside the box (after the 8-octet short nonce) of a server MESSAGE.
  const original = utf8('do not touch');
  const sealed = carry('server', cipher.server.seal(0, original)).cmd.data;
  const altered = Uint8Array.from(sealed);
  altered[8 + 20] ^= 0x01;
  const bad = cipher.client.open(altered);
  const tampered = isViolation(bad) ? { code: bad.code, message: bad.message } : { code: 'opened!', message: hexOf(bad) };
  const again = cipher.client.open(sealed);
  const originalAfterTamper = isViolation(again)
    ? { opened: false, equal: false }
    : { opened: true, equal: hexOf(again.subarray(1)) === hexOf(original) };
  const replayed = cipher.client.open(sealed);
  const replay = { code: isViolation(replayed) ? replayed.code : 'opened!' };

  return {
    bufferType,
    sodiumBeforeReady,
    beforeReady,
    sodiumAfterReady: sodiumNow() !== undefined,
    keys,
    wire,
    status,
    peers,
    carriers: { client: cipher.client.carrier, server: cipher.server.carrier },
    clientToServer,
    serverToClient,
    sealedCommand,
    tampered,
    originalAfterTamper,
    replay,
  };
}

const page = globalThis as typeof globalThis & { __result?: CurveResult | { error: string } };

run().then(
  (result) => {
    page.__result = result;
    document.getElementById('result')!.textContent = JSON.stringify(result, null, 2);
  },
  (e: unknown) => {
    const error = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
    page.__result = { error };
    document.getElementById('result')!.textContent = error;
    console.error(error);
  },
);
