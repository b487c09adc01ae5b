// The fuzzer's raw peers: one case played over one node:net stream, whichever side connected. A
// blind peer writes its stream whatever it hears; an interactive one runs a real mechanism
// (src/protocol) through the handshake, then writes its traffic, sealed under CURVE. Both cut their
// bytes into the case's chunks and pauses, register what the stream permits with the socket's
// ledger, wait for what it requires, leave, and report how the case went.

import type { Socket as NetSocket } from 'node:net';
import {
  CurveMechanism,
  FrameDecoder,
  GreetingDecoder,
  isViolation,
  NullMechanism,
  PlainMechanism,
  SEALED_COMMAND,
  SEALED_MORE,
  splitCommandBody,
} from '../../src/protocol/index.js';
import type { FrameCipher, FrameSink, Greeting, Mechanism, MechanismStep } from '../../src/protocol/index.js';
import type { Sodium } from '../../src/protocol/sodium.js';
import { framesKey, Permit } from './deliveries.js';
import type { DeliveryBook } from './deliveries.js';
import {
  applyMutations,
  ascii,
  chunkSchedule,
  commandBody,
  concat,
  FLAG_COMMAND,
  FLAG_MORE,
  PLAIN_PASSWORD,
  PLAIN_USER,
  StreamBuilder,
} from './generators.js';
import type { BatchConfig, ChunkPlan, FuzzCase, InteractivePlan, TrafficItem } from './generators.js';
import { expectDeliveries, readStream } from './oracle.js';
import type { Expectation, KnownBug, Reading } from './oracle.js';

/** How one case went. */
export interface CaseOutcome {
  index: number;
  label: string;
  ms: number;
  /** The oracle saw a complete handshake. */
  session: boolean;
  /** … and no violation after it. */
  valid: boolean;
  /** … and every delivery it permits was required. */
  strict: boolean;
  /** Where the case stopped making progress, if it did. */
  hang?: string;
  /** A strict case whose messages did not all arrive; `end`: what the socket said of the connection. */
  lost?: { delivered: number; expected: number; end?: string };
  /** A stream the oracle found valid (handshake included) that the socket refused or closed. */
  refusedValid?: string;
  /** The socket wrote something that is not ZMTP. */
  badOutput?: string;
  /** The fuzzer itself failed on this case (a bug of the fuzzer, reported apart). */
  error?: string;
  /** Tolerated known bugs the stream ran into. */
  knownBugs: string[];
  /** Milliseconds spent in each phase (handshake, writing, delivering, closing), for slow cases. */
  phases?: Record<string, number>;
}

export interface PlayContext {
  cfg: BatchConfig;
  sodium: Sodium;
  book: DeliveryBook;
  /** A case that has not settled after this long is a hang. */
  caseTimeoutMs: number;
  /** After our side closed: what the socket failed to report of the connection's end, if anything. */
  released?: () => Promise<string | undefined>;
  /** Known bugs whose consequences the oracle permits. */
  tolerate?: ReadonlySet<KnownBug>;
  /** Resolves when the fuzzed socket is being closed: nothing more will be delivered. */
  closing?: Promise<void>;
  /** What the socket's `disconnect` event said of this case's connection, if it ended. */
  endOf?: () => string;
}

const noop = (): void => {};

/** A deadline for the whole case: awaits give up when it passes. */
class Deadline {
  readonly #at: number;
  constructor(ms: number) {
    this.#at = performance.now() + ms;
  }

  /** Resolves to the value, or to `undefined` if the deadline passes first. */
  race<T>(p: Promise<T>): Promise<T | undefined> {
    const left = this.#at - performance.now();
    if (left <= 0) return Promise.resolve(undefined);
    let timer: NodeJS.Timeout | number | undefined;
    return Promise.race([p, new Promise<undefined>((resolve) => (timer = setTimeout(resolve, left)))]).finally(() => clearTimeout(timer));
  }

  /** Whether `p` settles before the deadline. */
  async holds(p: Promise<unknown>): Promise<boolean> {
    return (await this.race(p.then(() => true))) === true;
  }
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => (ms <= 0 ? setImmediate(resolve) : setTimeout(resolve, ms)));

/** A stream with its fate: closed (by whom), data handed to whoever listens now. */
class Line {
  closed = false;
  /** The socket closed or reset its side before we ended ours. */
  closedByPeer = false;
  #ended = false;
  readonly whenClosed: Promise<void>;
  onData: (chunk: Buffer) => void = noop;

  constructor(readonly stream: NetSocket) {
    stream.setNoDelay(true);
    stream.on('error', noop);
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('end', () => {
      if (!this.#ended) this.closedByPeer = true;
    });
    this.whenClosed = new Promise((resolve) =>
      stream.once('close', () => {
        if (!this.#ended) this.closedByPeer = true;
        this.closed = true;
        resolve();
      }),
    );
  }

  /** The socket took no more bytes until the deadline passed (TCP back-pressure). */
  stalled = false;

  /** Writes `bytes` in the plan's chunks and pauses. False if the stream closed first. */
  async write(bytes: Uint8Array, plan: ChunkPlan, deadline: Deadline): Promise<boolean> {
    let at = 0;
    for (const { size, pause: ms } of chunkSchedule(plan, bytes.length)) {
      if (this.closed || this.#ended) return false;
      const more = this.stream.write(bytes.subarray(at, at + size));
      at += size;
      if (!more && !this.closed) {
        const drained = await deadline.race(new Promise<boolean>((resolve) => {
          const done = (): void => {
            this.stream.off('drain', done);
            this.stream.off('close', done);
            resolve(true);
          };
          this.stream.on('drain', done);
          this.stream.on('close', done);
        }));
        if (drained === undefined) {
          this.stalled = true;
          return false;
        }
      }
      if (ms >= 0) await pause(ms);
    }
    return !this.closed;
  }

  end(how: 'fin' | 'rst'): void {
    if (this.#ended) return;
    this.#ended = true;
    if (how === 'rst') this.stream.resetAndDestroy();
    else this.stream.end();
  }

  destroy(): void {
    this.#ended = true;
    this.stream.destroy();
  }
}

/** The peer's half of a handshake: a real mechanism of the opposite role. */
function peerMechanism(cfg: BatchConfig, plan: InteractivePlan, sodium: Sodium): Mechanism {
  const local = { socketType: plan.peerType, identity: plan.identity };
  const { keys } = cfg;
  switch (cfg.mechanism) {
    case 'NULL':
      return new NullMechanism(local);
    case 'PLAIN':
      return cfg.securityServer
        ? new PlainMechanism({ ...local, asServer: false, username: ascii(PLAIN_USER), password: ascii(PLAIN_PASSWORD) })
        : new PlainMechanism({ ...local, asServer: true, zap: true });
    case 'CURVE':
      return cfg.securityServer
        ? new CurveMechanism({ ...local, sodium, asServer: false, secretKey: keys.clientSecret, publicKey: keys.clientPublic, serverKey: keys.serverPublic, zap: false })
        : new CurveMechanism({ ...local, sodium, asServer: true, secretKey: keys.serverSecret, publicKey: keys.serverPublic, zap: false });
  }
}

type HandshakeResult = { ok: true; cipher: FrameCipher | undefined } | { ok: false; why: string; badOutput?: string };

/**
 * Runs the peer's mechanism against what the socket writes, until ready or refused; then goes on
 * reading, and reports through `badOutput` anything the socket writes that is not ZMTP (under
 * CURVE: every frame a MESSAGE that opens, with increasing nonces).
 */
function runHandshake(
  line: Line,
  mech: Mechanism,
  writeCommand: (frame: Uint8Array) => void,
  badOutput: (why: string) => void,
): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    const greeting = new GreetingDecoder();
    const frames = new FrameDecoder();
    let started = false;
    let settled = false;
    let ready = false;
    let cipher: FrameCipher | undefined;
    const finish = (r: HandshakeResult): void => {
      if (settled) return;
      settled = true;
      if (!r.ok) line.onData = noop;
      resolve(r);
    };
    const apply = (step: MechanismStep): void => {
      for (const f of step.send ?? []) writeCommand(f);
      switch (step.status) {
        case 'continue':
          return;
        case 'zap':
          // The peer plays a PLAIN server: its own "ZAP handler" knows the one user.
          return apply(mech.zapReplied({ status: 200, statusText: 'OK', userId: PLAIN_USER, metadata: Object.create(null) }));
        case 'ready':
          ready = true;
          cipher = step.cipher;
          return finish({ ok: true, cipher });
        case 'error':
          return finish({ ok: false, why: `${step.violation.code}: ${step.violation.message}` });
      }
    };
    const stop = (why: string): void => {
      line.onData = noop;
      frames.stop();
      if (settled) badOutput(why);
      else finish({ ok: false, why: 'the socket wrote something that is not ZMTP', badOutput: why });
    };
    // A MESSAGE from the socket: it must open (RFC 26), and a sealed command must be well formed.
    const open = (data: Uint8Array): void => {
      const opened = cipher!.open(data);
      if (isViolation(opened)) return stop(`a MESSAGE from the socket does not open: ${opened.code}: ${opened.message}`);
      if (opened.length === 0) return stop('a MESSAGE from the socket opened to nothing');
      if ((opened[0] & SEALED_COMMAND) !== 0) {
        const c = splitCommandBody(opened.subarray(1));
        if (isViolation(c)) stop(`the socket sealed a malformed command: ${c.message}`);
      }
    };
    const sink: FrameSink = {
      onMessage: (message) => {
        if (!ready) return stop('the socket sent a message before the handshake completed');
        if (cipher === undefined) return;
        for (const f of message) {
          const c = splitCommandBody(f);
          if (isViolation(c) || c.name !== 'MESSAGE') return stop('the socket sent a data frame that is no MESSAGE under CURVE');
          open(c.data);
        }
      },
      onCommand: (name, data) => {
        if (!ready) {
          if (!settled) apply(mech.onCommand(name, data));
        } else if (cipher !== undefined) {
          if (name !== 'MESSAGE') return stop(`the socket sent a cleartext ${name} under CURVE`);
          open(data);
        }
      },
    };
    line.onData = (chunk) => {
      let rest: Uint8Array = chunk;
      if (!started) {
        const r = greeting.push(chunk);
        if (!r.done) return;
        if (r.error !== undefined) return stop(`its greeting: ${r.error.message}`);
        if (r.greeting.mechanism !== mech.name) return stop(`its greeting announces ${r.greeting.mechanism}, not ${mech.name}`);
        started = true;
        apply(mech.start(r.greeting as Greeting));
        rest = r.rest;
      }
      if (rest.length === 0) return;
      const v = frames.push(rest, sink);
      if (v !== undefined) stop(`${v.code}: ${v.message}`);
    };
    void line.whenClosed.then(() => finish({ ok: false, why: 'closed by the socket during the handshake' }));
  });
}

/** Seals each frame item under CURVE (a MESSAGE per frame, PROTOCOL.md §11) or encodes it in clear. */
function encodeTraffic(items: readonly TrafficItem[], cipher: FrameCipher | undefined): { bytes: Uint8Array; headers: number[]; sealed: Map<string, Uint8Array> } {
  const sb = new StreamBuilder();
  const sealed = new Map<string, Uint8Array>();
  const carriers: (Uint8Array | undefined)[] = [];
  for (const it of items) {
    if (it.kind === 'raw') {
      sb.raw(it.bytes);
      carriers.push(undefined);
    } else if (it.kind === 'replay') {
      const again = carriers[it.of];
      if (again !== undefined) {
        sb.headers.push(sb.length);
        sb.raw(again);
      }
      carriers.push(undefined);
    } else if (cipher === undefined) {
      sb.frame(it.flags, it.body, it.long ?? false);
      carriers.push(undefined);
    } else {
      const inner = (it.flags & FLAG_COMMAND) !== 0 ? SEALED_COMMAND : (it.flags & FLAG_MORE) !== 0 ? SEALED_MORE : 0;
      const data = cipher.seal(inner, it.body);
      sealed.set(framesKey([data]), concat([new Uint8Array([inner]), it.body]));
      sb.frame(it.outer ?? 0, commandBody('MESSAGE', data));
      carriers.push(sb.parts[sb.parts.length - 1]);
    }
  }
  return { bytes: sb.bytes(), headers: sb.headers, sealed };
}

/** The outcome of case `c` before anything happened (a case never played ends with this). */
export function unplayed(c: FuzzCase): CaseOutcome {
  return { index: c.index, label: c.label, ms: 0, session: false, valid: false, strict: false, knownBugs: [] };
}

/** Plays one case over `stream` against the fuzzed socket of `ctx.cfg`. */
export async function playCase(stream: NetSocket, c: FuzzCase, ctx: PlayContext): Promise<CaseOutcome> {
  const started = performance.now();
  const deadline = new Deadline(ctx.caseTimeoutMs);
  const line = new Line(stream);
  const outcome = unplayed(c);
  let phase = 'writing';
  const phases: Record<string, number> = {};
  let phaseStart = started;
  const enter = (next: string): void => {
    const now = performance.now();
    phases[phase] = (phases[phase] ?? 0) + (now - phaseStart);
    phaseStart = now;
    phase = next;
  };
  let expectation: Expectation | undefined;
  let reading: Reading | undefined;
  let complete = false;
  try {
    if (c.blind !== undefined) {
      reading = readStream({ cfg: ctx.cfg, bytes: c.blind, from: 'greeting', tolerate: ctx.tolerate });
      expectation = expectDeliveries(ctx.cfg, reading, { mayRequire: !reading.pingTtl });
      const permit = register(ctx, c, expectation);
      complete = await line.write(c.blind, c.chunks, deadline);
      await settle(permit);
    } else {
      const plan = c.interactive!;
      enter('handshake');
      const mech = peerMechanism(ctx.cfg, plan, ctx.sodium);
      let written = 0;
      // Handshake commands go out in order, each cut like the rest; the case's flip hits one of them.
      let queue = line.write(plan.greeting, c.chunks, deadline);
      const writeCommand = (frame: Uint8Array): void => {
        const flip = plan.handshakeFlip;
        let bytes = frame;
        if (flip !== undefined && flip.command === written) {
          bytes = Uint8Array.from(frame);
          bytes[Math.floor(flip.frac * bytes.length)] ^= flip.xor;
        }
        written++;
        queue = queue.then((ok) => (ok ? line.write(bytes, c.chunks, deadline) : false));
      };
      // A flipped octet may make the socket wait for more (a longer frame): then the peer gives up and leaves.
      const handshake = runHandshake(line, mech, writeCommand, (why) => (outcome.badOutput ??= why));
      const result = plan.handshakeFlip === undefined ? await deadline.race(handshake) : await new Deadline(1000).race(handshake);
      if (result === undefined) {
        if (plan.handshakeFlip === undefined) outcome.hang = 'handshake (the socket never answered)';
      } else if (!result.ok) {
        if (result.badOutput !== undefined) outcome.badOutput = result.badOutput;
        // The fuzzer's own handshake is valid unless it flipped an octet of it.
        else if (plan.handshakeFlip === undefined) outcome.refusedValid = `handshake: ${result.why}`;
      } else {
        if (!(await deadline.holds(queue))) outcome.hang = 'handshake: our own handshake writes never completed';
        enter('writing');
        const traffic = encodeTraffic(plan.traffic, result.cipher);
        const bytes = applyMutations(traffic.bytes, traffic.headers, plan.mutations);
        reading = readStream({ cfg: ctx.cfg, bytes, from: 'active', sealed: traffic.sealed, keyOf: (d) => framesKey([d]), tolerate: ctx.tolerate });
        expectation = expectDeliveries(ctx.cfg, reading, {
          identities: plan.identity !== undefined ? [plan.identity] : [],
          anyRoutingId: plan.handshakeFlip !== undefined,
          mayRequire: !reading.pingTtl,
        });
        const permit = register(ctx, c, expectation);
        complete = await line.write(bytes, c.chunks, deadline);
        // A flood ending in FIN sends it right after its last byte, not once delivered: most of the
        // flood still waits in the socket, behind a full pipe, and must all be delivered anyway.
        if (complete && endsAtOnce(c)) line.end('fin');
        await settle(permit);
      }
    }
    if (reading !== undefined) {
      outcome.session = reading.handshake;
      outcome.valid = reading.handshake && reading.violation === undefined;
      outcome.strict = expectation?.strict ?? false;
      outcome.knownBugs = reading.knownBugs;
    }
    if (line.stalled && outcome.hang === undefined) outcome.hang = `writing: the socket read nothing more for ${ctx.caseTimeoutMs} ms (TCP back-pressure)`;
    enter('closing');
    if (outcome.hang === undefined) {
      if (c.chunks.end === 'wait' && !line.closed) await Promise.race([line.whenClosed, pause(30)]);
      line.end(c.chunks.end === 'rst' ? 'rst' : 'fin');
      // Its own deadline: a lost delivery must not look like a hang as well.
      const closing = new Deadline(ctx.caseTimeoutMs);
      if (!(await closing.holds(line.whenClosed))) {
        outcome.hang = 'closing: the socket did not close the connection after our FIN';
      } else if (ctx.released !== undefined) {
        const missing = await ctx.released();
        if (missing !== undefined) outcome.hang = `closing: ${missing}`;
      }
    }
  } catch (e) {
    outcome.error = `${phase}: ${(e as Error).stack ?? String(e)}`;
  } finally {
    line.destroy();
    enter('done');
    outcome.phases = phases;
    outcome.ms = performance.now() - started;
  }
  return outcome;

  /** After the last byte: a strict case waits until every message it carries was delivered. */
  async function settle(permit: Permit): Promise<void> {
    if (expectation === undefined) return;
    if (!complete) {
      // The socket closed while we wrote a stream the oracle found valid so far.
      if (expectation.strict && line.closedByPeer && reading?.violation === undefined && !ctx.cfg.heartbeat) {
        outcome.refusedValid = 'the socket closed the connection of a valid session';
      }
      return;
    }
    if (!expectation.strict || permit.required === 0) return;
    enter('delivering');
    const delivered = ctx.closing === undefined ? permit.whenComplete() : Promise.race([permit.whenComplete(), ctx.closing]);
    // Its own deadline, from the last byte written: a write slowed by a loaded machine must not
    // leave the delivery no time, and look like a loss.
    if (!(await new Deadline(ctx.caseTimeoutMs).holds(delivered)) || !permit.complete) {
      outcome.lost = { delivered: permit.delivered, expected: permit.required, end: ctx.endOf?.() };
    }
  }
}

/**
 * Whether the case sends its FIN as soon as its bytes are written: a flood (more messages than a
 * receive HWM) that ends in FIN. Decided from the case, drawing nothing from the seed's stream.
 */
function endsAtOnce(c: FuzzCase): boolean {
  return c.chunks.end === 'fin' && (c.interactive?.traffic.length ?? 0) > 1000;
}

function register(ctx: PlayContext, c: FuzzCase, expectation: Expectation): Permit {
  const permit = new Permit(c.index, expectation);
  ctx.book.add(permit);
  return permit;
}
