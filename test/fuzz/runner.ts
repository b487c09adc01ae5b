// The malformed-stream fuzzer's run: cases in batches, one fuzzed socket per batch (its type,
// mechanism and role cycle through all 66 combinations), several sockets at once and several
// cases on each; a round trip with our own and libzmq's well-behaved peers after each batch;
// crash handlers, timing, heap and file descriptors around the whole. `runFuzz` is shared by
// scripts/fuzz.ts (`npm run fuzz`) and test/fuzz/fuzz.test.ts.
//
//   seed ─▶ batch b: BatchConfig ─▶ Target (fuzzed socket) ◀── slots × cases (peers.ts)
//                                        └─ after its cases: round trip (ours, libzmq), close
//   every `every` cases overall, each of the `lanes` sockets has had its round trips.

import { readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as zmq from 'zeromq';
import '../../src/transport/register-node.js';
import { loadSodium } from '../../src/protocol/sodium.js';
import type { Sodium } from '../../src/protocol/sodium.js';
import { Context } from '../../src/socket/context.js';
import { batchConfig, generateCase } from './generators.js';
import type { BatchConfig } from './generators.js';
import type { CaseOutcome } from './peers.js';
import { KNOWN_BUGS } from './oracle.js';
import type { KnownBug } from './oracle.js';
import { fuzzAuthenticator, Target } from './targets.js';
import type { Recorder } from './targets.js';

export interface FuzzOptions {
  seed: number;
  /** Cases to run (all of them, unless `minutes` runs out first). */
  cases: number;
  /** Cases between round trips, overall: each of the `lanes` sockets takes `every / lanes` cases per batch. */
  every?: number;
  /** Fuzzed sockets at once. */
  lanes?: number;
  /** A case that does not settle within this is a hang. */
  caseTimeoutMs?: number;
  /** Run only this case (with its batch's socket and round trips). */
  only?: number;
  /** Run only this batch: its socket and all its cases, concurrently as in the full run. */
  batch?: number;
  /** Stop starting batches after this long. */
  minutes?: number;
  /** Round trips with libzmq as well as ours. */
  libzmq?: boolean;
  /** Progress and findings as they happen. */
  log?: (line: string) => void;
  /** Every event of the fuzzed sockets and round trips (for replaying one case with `only`). */
  trace?: (line: string) => void;
  /**
   * Known bugs of src/ (KNOWN_BUGS in oracle.ts) whose consequences are permitted, so that a run
   * looks for other problems; how often each was hit is reported. The streams are the same either way.
   */
  tolerate?: readonly KnownBug[];
}

export type FindingKind = 'crash' | 'hang' | 'wrong delivery' | 'lost' | 'refused valid' | 'bad output' | 'round trip' | 'api error' | 'missing event' | 'fuzzer error';

export interface Finding {
  kind: FindingKind;
  detail: string;
  /** How many times it happened (wrong deliveries of one case count each message). */
  times?: number;
  caseIndex?: number;
  label?: string;
  config?: string;
}

export interface FuzzReport {
  seed: number;
  cases: number;
  every: number;
  lanes: number;
  durationMs: number;
  blind: number;
  interactive: number;
  /** Cases whose handshake completed, as the oracle reads them; valid: and nothing broke after; strict: every message required. */
  sessions: number;
  valid: number;
  strict: number;
  crashes: number;
  hangs: number;
  wrongDeliveries: number;
  lost: number;
  refusedValid: number;
  badOutput: number;
  apiErrors: number;
  /** Connections released without the `disconnect` monitor event (refused peers). */
  missingEvents: number;
  fuzzerErrors: number;
  roundTrips: number;
  roundTripFailures: number;
  /** Batches whose socket was closed with cases under way (their remaining cases and round trips skipped). */
  closedEarly: number;
  slowest: { ms: number; index: number; label: string; phases?: Record<string, number> };
  heapChangeBytes: number;
  fdStart: number;
  fdEnd: number;
  /** Cases and how many reached traffic, by the fuzzed socket's mechanism. */
  byMechanism: Record<string, { cases: number; sessions: number }>;
  /** Monitor events with an error, by type and code: which refusals the streams reached. */
  events: Record<string, number>;
  /** Cases that ran into a tolerated known bug, by bug. */
  knownBugHits: Record<string, number>;
  tolerated: string[];
  findings: Finding[];
  replay: string;
}

const DEFAULT_LANES = 4;
const MAX_FINDINGS = 200;

/** Cases between round trips unless told: 1,000 for long runs, fewer for short ones. */
export function defaultEvery(cases: number): number {
  return cases >= 10_000 ? 1000 : cases >= 1000 ? 200 : 100;
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/**
 * The count of open descriptors once it stops changing (or reaches `target`): libzmq closes a
 * socket's descriptors on its reaper thread, after close() returned, with no event to await. At most 5 s.
 */
async function settledFds(target: number): Promise<number> {
  let last = openFds();
  for (let waited = 0, steady = 0; last !== target && steady < 4 && waited < 5000; waited += 50) {
    await new Promise((r) => setTimeout(r, 50));
    const now = openFds();
    steady = now === last ? steady + 1 : 0;
    last = now;
  }
  return last;
}

/** A gc() even without --expose-gc (V8 flag set at run time, the function taken from a fresh context). */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function describeConfig(cfg: BatchConfig): string {
  const security = cfg.mechanism === 'NULL' ? (cfg.zap ? 'NULL+ZAP' : 'NULL') : `${cfg.mechanism} ${cfg.securityServer ? 'server' : 'client'}${cfg.zap ? '+ZAP' : ''}`;
  const extra = [
    cfg.maxMessageSize >= 0 ? `maxMessageSize ${cfg.maxMessageSize}` : '',
    cfg.heartbeat ? 'heartbeats' : '',
    cfg.routingId !== undefined ? `routingId ${cfg.routingId}` : '',
  ].filter(Boolean);
  return `batch ${cfg.batch}: ${cfg.type} ${cfg.role === 'bind' ? 'binding' : 'connecting'}, ${security}, ${cfg.slots} at once${extra.length ? `, ${extra.join(', ')}` : ''}`;
}

/** A seed as the CLI prints it. */
export function seedText(seed: number): string {
  return `0x${(seed >>> 0).toString(16).padStart(8, '0')}`;
}

/** Runs the fuzzer; never throws for what it finds (see the report). */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const seed = opts.seed >>> 0;
  const lanes = Math.max(1, opts.lanes ?? DEFAULT_LANES);
  const every = Math.max(1, opts.every ?? defaultEvery(opts.cases));
  const perBatch = Math.max(1, Math.floor(every / lanes));
  const caseTimeoutMs = opts.caseTimeoutMs ?? 10_000;
  const libzmq = opts.libzmq ?? true;
  const log = opts.log ?? (() => {});
  const stopAt = opts.minutes !== undefined ? performance.now() + opts.minutes * 60_000 : Infinity;

  const findings: Finding[] = [];
  const counts = { crashes: 0, hangs: 0, wrong: 0, lost: 0, refusedValid: 0, badOutput: 0, apiErrors: 0, missingEvents: 0, fuzzerErrors: 0, roundTrips: 0, roundTripFailures: 0 };
  const tally = { cases: 0, blind: 0, interactive: 0, sessions: 0, valid: 0, strict: 0 };
  const events: Record<string, number> = {};
  const knownBugHits: Record<string, number> = {};
  const byMechanism: Record<string, { cases: number; sessions: number }> = {};
  const tolerate = new Set<KnownBug>(opts.tolerate ?? []);
  for (const id of tolerate) if (!(id in KNOWN_BUGS)) throw new Error(`no known bug ${JSON.stringify(id)}; known: ${Object.keys(KNOWN_BUGS).join(', ')}`);
  let slowest: FuzzReport['slowest'] = { ms: 0, index: -1, label: '' };
  const active = new Map<number, string>();
  const note = (f: Finding): void => {
    // One line per kind and case: a stream that got past a check delivers everything after it.
    const same = f.caseIndex === undefined ? undefined : findings.find((g) => g.kind === f.kind && g.caseIndex === f.caseIndex);
    if (same !== undefined) {
      same.times = (same.times ?? 1) + 1;
      return;
    }
    if (findings.length < MAX_FINDINGS) findings.push(f);
    const where = f.caseIndex !== undefined ? ` case #${f.caseIndex}${f.label ? ` (${f.label})` : ''}` : '';
    log(`  ! ${f.kind}${where}${f.config ? ` [${f.config}]` : ''}: ${f.detail}`);
  };

  // Crashes: anything thrown or rejected that nobody handled, while cases run.
  const onCrash = (kind: string) => (e: unknown): void => {
    counts.crashes++;
    const running = [...active.entries()].map(([i, cfg]) => `#${i} ${cfg}`).join('; ');
    note({ kind: 'crash', detail: `${kind}: ${(e as Error)?.stack ?? String(e)}${running ? `\n    cases running: ${running}` : ''}` });
  };
  const onException = onCrash('uncaught exception');
  const onRejection = onCrash('unhandled rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);

  const recorder: Recorder = {
    wrongDelivery(cfg, detail, caseIndex) {
      counts.wrong++;
      note({ kind: 'wrong delivery', detail, caseIndex, config: describeConfig(cfg) });
    },
    apiError(cfg, where, error) {
      counts.apiErrors++;
      note({ kind: 'api error', detail: `${where}: ${(error as Error)?.stack ?? String(error)}`, config: describeConfig(cfg) });
    },
    event(key) {
      events[key] = (events[key] ?? 0) + 1;
    },
  };

  const gc = collector();
  const sodium: Sodium = await loadSodium();
  // What lives for the whole run is made before the baseline: our partners' Context and its ZAP
  // handler, libzmq's ZAP handler (its context's threads and descriptors come with the first socket).
  const partnerContext = new Context();
  const partnerAuth = await fuzzAuthenticator(partnerContext);
  if (libzmq) await libzmqZapHandler();
  const env = { sodium, partnerContext, recorder, caseTimeoutMs, libzmq, trace: opts.trace, tolerate };
  // Warm-up, so that first-time costs (code, caches, libzmq's threads) stay out of the heap and fd
  // figures: a socket of each mechanism makes its round trips, outside the seed's batches.
  for (let b = 0; b < 3; b++) {
    const warm = batchConfig(0x3a53, b, sodium);
    const target = await Target.open({ ...warm, mechanism: (['NULL', 'PLAIN', 'CURVE'] as const)[b], zap: b === 1, closeEarly: undefined }, { ...env, trace: undefined });
    await target.stopTraffic();
    for (const impl of libzmq ? (['ours', 'libzmq'] as const) : (['ours'] as const)) await target.roundTrip(impl);
    await target.close();
  }
  gc();
  // libzmq closes the warm-up's sockets on its own thread: start counting once that is over.
  const fdStart = await settledFds(Infinity);
  const heapStart = process.memoryUsage().heapUsed;
  const started = performance.now();

  const single = opts.only !== undefined || opts.batch !== undefined;
  const batches = single ? 1 : Math.ceil(opts.cases / perBatch);
  let nextBatch = 0;
  let closedEarly = 0;

  const record = (cfg: BatchConfig, o: CaseOutcome): void => {
    tally.cases++;
    const m = (byMechanism[cfg.mechanism] ??= { cases: 0, sessions: 0 });
    m.cases++;
    if (o.session) {
      tally.sessions++;
      m.sessions++;
    }
    if (o.valid) tally.valid++;
    if (o.strict) tally.strict++;
    if (o.ms > slowest.ms) slowest = { ms: o.ms, index: o.index, label: o.label, phases: o.phases };
    for (const bug of new Set(o.knownBugs)) knownBugHits[bug] = (knownBugHits[bug] ?? 0) + 1;
    const base = { caseIndex: o.index, label: o.label, config: describeConfig(cfg) };
    if (o.hang !== undefined) {
      counts.hangs++;
      note({ kind: 'hang', detail: o.hang, ...base });
    }
    if (o.lost !== undefined) {
      counts.lost++;
      const end = o.lost.end === undefined ? '' : `; ${o.lost.end}`;
      note({ kind: 'lost', detail: `${o.lost.delivered} of ${o.lost.expected} required messages delivered${end}`, ...base });
    }
    if (o.refusedValid !== undefined) {
      counts.refusedValid++;
      note({ kind: 'refused valid', detail: o.refusedValid, ...base });
    }
    if (o.badOutput !== undefined) {
      counts.badOutput++;
      note({ kind: 'bad output', detail: o.badOutput, ...base });
    }
    if (o.error !== undefined) {
      counts.fuzzerErrors++;
      note({ kind: 'fuzzer error', detail: o.error, ...base });
    }
  };

  const runBatch = async (b: number): Promise<void> => {
    if (opts.batch !== undefined) b = opts.batch;
    if (opts.only !== undefined) b = Math.floor(opts.only / perBatch);
    const cfg = batchConfig(seed, b, sodium);
    const first = opts.only ?? b * perBatch;
    const last = opts.only !== undefined ? opts.only + 1 : opts.batch !== undefined ? first + perBatch : Math.min(opts.cases, first + perBatch);
    const target = await Target.open(cfg, env);
    let next = first;
    // A batch that closes its socket early does so when this case would start.
    const closeAt = cfg.closeEarly !== undefined && opts.only === undefined ? first + Math.floor(cfg.closeEarly * (last - first)) : last;
    const slot = async (k: number): Promise<void> => {
      while (next < last && !target.closed) {
        const index = next++;
        if (index >= closeAt) {
          void target.closeNow();
          return;
        }
        const c = generateCase(seed, index, cfg, sodium);
        if (c.blind !== undefined) tally.blind++;
        else tally.interactive++;
        active.set(index, describeConfig(cfg));
        try {
          record(cfg, await target.play(k, c));
        } catch (e) {
          counts.fuzzerErrors++;
          note({ kind: 'fuzzer error', detail: (e as Error).stack ?? String(e), caseIndex: index, label: c.label, config: describeConfig(cfg) });
        } finally {
          active.delete(index);
        }
      }
    };
    await Promise.all(Array.from({ length: cfg.slots }, (_, k) => slot(k)));
    if (target.closed) {
      // Closed under way: everything must still be let go of, and nothing crash.
      await target.close();
      if (!(await target.quiesce(caseTimeoutMs))) {
        counts.hangs++;
        note({ kind: 'hang', detail: `closed with cases under way, the socket still runs ${target.unreleased} connection actor(s)`, config: describeConfig(cfg) });
      }
      closedEarly++;
      log(`  ${describeConfig(cfg)}: closed after case ${closeAt - 1}`);
      return;
    }
    await target.stopTraffic();
    if (!(await target.quiesce(caseTimeoutMs))) {
      counts.hangs++;
      note({ kind: 'hang', detail: `after its cases, the socket still runs ${target.unreleased} connection actor(s) whose streams are gone`, config: describeConfig(cfg) });
    }
    if (target.refusedWithoutDisconnect > 0) {
      counts.missingEvents += target.refusedWithoutDisconnect;
      note({ kind: 'missing event', detail: `${target.refusedWithoutDisconnect} refused peer(s) left without a disconnect event (their connection actors did end)`, config: describeConfig(cfg) });
    }
    for (const impl of libzmq ? (['ours', 'libzmq'] as const) : (['ours'] as const)) {
      counts.roundTrips++;
      const failure = await target.roundTrip(impl);
      if (failure !== undefined) {
        counts.roundTripFailures++;
        note({ kind: 'round trip', detail: failure, config: describeConfig(cfg) });
      }
    }
    await target.close();
    log(`  ${describeConfig(cfg)}: cases ${first}..${last - 1} done`);
  };

  const lane = async (): Promise<void> => {
    while (nextBatch < batches && performance.now() < stopAt) {
      const b = nextBatch++;
      try {
        await runBatch(b);
      } catch (e) {
        counts.fuzzerErrors++;
        note({ kind: 'fuzzer error', detail: `batch ${b}: ${(e as Error).stack ?? String(e)}` });
      }
    }
  };
  await Promise.all(Array.from({ length: single ? 1 : lanes }, lane));
  const durationMs = performance.now() - started;

  // Let go of what closes asynchronously (libzmq reaps closed sockets on its own thread); bounded.
  const fdEnd = await settledFds(fdStart);
  gc();
  const heapChangeBytes = process.memoryUsage().heapUsed - heapStart;
  process.off('uncaughtException', onException);
  process.off('unhandledRejection', onRejection);
  await partnerAuth.stop();

  const ran = Math.min(opts.cases, nextBatch * perBatch);
  const tolerating = tolerate.size > 0 ? ` --tolerate ${[...tolerate].join(',')}` : '';
  const replay = opts.only !== undefined
    ? `npm run fuzz -- --seed ${seedText(seed)} --every ${every} --lanes ${lanes} --only ${opts.only}${tolerating}`
    : opts.batch !== undefined
    ? `npm run fuzz -- --seed ${seedText(seed)} --every ${every} --lanes ${lanes} --batch ${opts.batch}${tolerating}`
    : `npm run fuzz -- --seed ${seedText(seed)} --cases ${ran} --every ${every} --lanes ${lanes}${tolerating}`;
  return {
    seed,
    every,
    lanes,
    durationMs,
    ...tally,
    crashes: counts.crashes,
    hangs: counts.hangs,
    wrongDeliveries: counts.wrong,
    lost: counts.lost,
    refusedValid: counts.refusedValid,
    badOutput: counts.badOutput,
    apiErrors: counts.apiErrors,
    missingEvents: counts.missingEvents,
    fuzzerErrors: counts.fuzzerErrors,
    roundTrips: counts.roundTrips,
    roundTripFailures: counts.roundTripFailures,
    closedEarly,
    slowest,
    heapChangeBytes,
    fdStart,
    fdEnd,
    byMechanism,
    events,
    knownBugHits,
    tolerated: [...tolerate],
    findings,
    replay,
  };
}

let libzmqZap: Promise<zmq.Router> | undefined;

/**
 * A ZAP handler in zeromq.js's context, for libzmq partners that are PLAIN or CURVE servers: accepts
 * all. One per process, kept between runs: libzmq releases an inproc name some time after its socket
 * closes, so binding it again at once fails (EADDRINUSE). `closeFuzzResources` ends it.
 */
function libzmqZapHandler(): Promise<zmq.Router> {
  libzmqZap ??= (async () => {
    const router = new zmq.Router({ linger: 0 });
    await router.bind('inproc://zeromq.zap.01');
    void (async () => {
      for await (const [id, delimiter, version, requestId] of router) {
        // An empty User-Id: with one, a libzmq REQ drops its connection at the first reply (libzmq
        // 4.3's req_session_t refuses the credential message its engine pushes first).
        await router.send([id, delimiter, version, requestId, '200', 'OK', '', '']);
      }
    })().catch(() => {});
    return router;
  })();
  return libzmqZap;
}

/** Closes what runs keep between them (libzmq's ZAP handler), so the process can exit. */
export async function closeFuzzResources(): Promise<void> {
  const zap = libzmqZap;
  libzmqZap = undefined;
  (await zap)?.close();
}

/** True when the report shows no problem at all. */
export function clean(r: FuzzReport): boolean {
  return (
    r.crashes + r.hangs + r.wrongDeliveries + r.lost + r.refusedValid + r.badOutput + r.apiErrors + r.fuzzerErrors + r.roundTripFailures === 0 &&
    r.fdEnd === r.fdStart
  );
}

const mib = (bytes: number): string => `${bytes >= 0 ? '+' : ''}${(bytes / 1048576).toFixed(1)} MiB`;

/** The report as the CLI prints it. */
export function formatReport(r: FuzzReport): string {
  const lines = [
    `monocoque fuzz: seed ${seedText(r.seed)}, ${r.cases} cases in ${(r.durationMs / 1000).toFixed(1)} s (round trips every ${r.every} cases, ${r.lanes} sockets at once;` +
      ` the rest of a batch is skipped when its socket is closed under way)`,
    `  streams:      ${r.blind} blind, ${r.interactive} interactive; ${r.sessions} reached traffic, ${r.valid} valid throughout, ${r.strict} strict` +
      ` (${Object.entries(r.byMechanism).sort().map(([k, v]) => `${k} ${v.sessions}/${v.cases}`).join(', ')} reached traffic)`,
    `  crashes:      ${r.crashes}`,
    `  hangs:        ${r.hangs}`,
    `  wrong deliveries: ${r.wrongDeliveries}`,
    `  lost (strict cases): ${r.lost}; valid streams refused: ${r.refusedValid}; bad output: ${r.badOutput}; api errors: ${r.apiErrors}; missing disconnect events: ${r.missingEvents}; fuzzer errors: ${r.fuzzerErrors}`,
    `  round trips:  ${r.roundTrips - r.roundTripFailures}/${r.roundTrips} ok (${r.closedEarly} sockets closed with cases under way instead)`,
    `  slowest case: ${r.slowest.ms.toFixed(0)} ms (#${r.slowest.index} ${r.slowest.label}; ${Object.entries(r.slowest.phases ?? {}).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ')})`,
    `  heap change:  ${mib(r.heapChangeBytes)}; fd change: ${r.fdEnd - r.fdStart >= 0 ? '+' : ''}${r.fdEnd - r.fdStart} (${r.fdStart} -> ${r.fdEnd})`,
  ];
  for (const id of r.tolerated) lines.push(`  tolerated known bug ${id}: hit by ${r.knownBugHits[id] ?? 0} case(s)`);
  const top = Object.entries(r.events).sort((a, b) => b[1] - a[1]);
  if (top.length > 0) lines.push(`  refusals seen: ${top.map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  // Findings by kind: how many cases, and the first few of each.
  const kinds = new Map<FindingKind, Finding[]>();
  for (const f of r.findings) {
    const list = kinds.get(f.kind);
    if (list === undefined) kinds.set(f.kind, [f]);
    else list.push(f);
  }
  for (const [kind, list] of kinds) {
    lines.push(`  ${kind}: ${list.length}${list.length === MAX_FINDINGS ? '+' : ''} finding(s), e.g.`);
    for (const f of list.slice(0, 4)) {
      const times = f.times !== undefined ? ` (×${f.times})` : '';
      lines.push(`    ! ${f.caseIndex !== undefined ? `case #${f.caseIndex}${f.label ? ` (${f.label})` : ''}` : ''}${times}${f.config ? ` [${f.config}]` : ''}: ${f.detail}`);
    }
  }
  lines.push(`  seed ${seedText(r.seed)}; replay: ${r.replay}`);
  return lines.join('\n');
}
