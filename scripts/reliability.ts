// `npm run reliability`: the long runs of issue 14 (hardening): the malformed-stream fuzzer, the
// limits measurements, the faults (the bound peer killed and restarted), churn and shutdown, with
// their figures, the machine they came from and how to reproduce each, written to docs/reliability.md.
// `npm test` runs the short versions (test/fuzz, test/hardening, test/reliability).
//
//   npm run reliability -- [--only fuzz,limits,faults,churn,shutdown] [--fuzz-cases N] [--fuzz-seed S] [--fuzz-report FILE]
//                          [--restarts N] [--churn N] [--create N] [--peer zeromq|ours] [--out FILE] [--quick]
//
// --quick runs every part small (a trial of the script, not figures to publish). Exits 1 when a
// criterion failed (the document is written all the same, saying which).

import { execFileSync, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { churnInChild } from '../test/reliability/churn.js';
import type { ChurnReport, ChurnRun } from '../test/reliability/churn.js';
import { runExitChild } from '../test/reliability/exit.js';
import type { ExitChildResult } from '../test/reliability/exit.js';
import { percentile, runFaults } from '../test/reliability/faults.js';
import type { FaultReport, FaultSocket, FaultTransport } from '../test/reliability/faults.js';

const ROOT = resolve(import.meta.dirname, '..');
const PARTS = ['fuzz', 'limits', 'faults', 'churn', 'shutdown'] as const;
type Part = (typeof PARTS)[number];
const USAGE =
  'usage: npm run reliability -- [--only fuzz,limits,faults,churn,shutdown] [--fuzz-cases N] [--fuzz-seed S] [--fuzz-report FILE] [--restarts N] [--churn N] [--create N] [--peer zeromq|ours] [--out FILE] [--quick]';

interface Options {
  only: Set<Part>;
  fuzzCases: number;
  /** The fuzzer's seed (random unless given). */
  fuzzSeed: number;
  /** The saved output of a fuzz run made on its own (`npm run fuzz -- … > FILE`), used instead of running one. */
  fuzzReport: string | undefined;
  restarts: number;
  churn: number;
  create: number;
  peer: 'zeromq' | 'ours';
  out: string;
  quick: boolean;
}

function parse(argv: string[]): Options {
  const o: Options = { only: new Set(PARTS), fuzzCases: 100_000, fuzzSeed: randomInt(0, 2 ** 32), fuzzReport: undefined, restarts: 200, churn: 20_000, create: 5000, peer: 'zeromq', out: join(ROOT, 'docs', 'reliability.md'), quick: false };
  const number = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < 1) throw new Error(`--${name} wants a positive integer, not ${JSON.stringify(v)}\n${USAGE}`);
    return n;
  };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = (): string | undefined => inline ?? argv[++i];
    given.add(flag);
    switch (flag) {
      case '--only': {
        const names = (value() ?? '').split(',');
        for (const n of names) if (!(PARTS as readonly string[]).includes(n)) throw new Error(`--only: unknown part ${JSON.stringify(n)}\n${USAGE}`);
        o.only = new Set(names as Part[]);
        break;
      }
      case '--fuzz-cases': o.fuzzCases = number('fuzz-cases', value()); break;
      case '--fuzz-seed': {
        const v = value();
        o.fuzzSeed = Number(v);
        if (v === undefined || !Number.isInteger(o.fuzzSeed) || o.fuzzSeed < 0 || o.fuzzSeed >= 2 ** 32) throw new Error(`--fuzz-seed wants a 32-bit seed such as 0x5eed2024, not ${JSON.stringify(v)}\n${USAGE}`);
        break;
      }
      case '--fuzz-report': o.fuzzReport = resolve(value() ?? ''); break;
      case '--restarts': o.restarts = number('restarts', value()); break;
      case '--churn': o.churn = number('churn', value()); break;
      case '--create': o.create = number('create', value()); break;
      case '--peer': {
        const p = value();
        if (p !== 'zeromq' && p !== 'ours') throw new Error(`--peer is zeromq or ours\n${USAGE}`);
        o.peer = p;
        break;
      }
      case '--out': o.out = resolve(value() ?? ''); break;
      case '--quick': o.quick = true; break;
      case '--help': console.log(USAGE); process.exit(0); break;
      default: throw new Error(`unknown argument ${JSON.stringify(argv[i])}\n${USAGE}`);
    }
  }
  if (o.quick) {
    if (!given.has('--fuzz-cases')) o.fuzzCases = 1000;
    if (!given.has('--restarts')) o.restarts = 10;
    if (!given.has('--churn')) o.churn = 500;
    if (!given.has('--create')) o.create = 500;
  }
  return o;
}

/** One criterion and whether the run met it. */
interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

interface Section {
  part: Part;
  title: string;
  checks: Check[];
  body: string;
  elapsedMs: number;
}

const log = (line: string): void => console.log(`[reliability] ${line}`);
const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(v < 10 ? 1 : 0) : '–');
const int = (v: number): string => v.toLocaleString('en-US');
const minutes = (v: number): string => `${(v / 60_000).toFixed(1)} min`;
const fence = (text: string): string => `\`\`\`\n${text.trimEnd()}\n\`\`\``;

/** Runs a command, echoing nothing, and returns its output (stdout and stderr interleaved) and exit code. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; output: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolveRun) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolveRun({ code, output, ms: performance.now() - started }));
  });
}

// ---- the machine ----

function machine(): { lines: string[]; loadavg: number[] } {
  const cpus = os.cpus();
  let commit = 'unknown';
  let dirty = false;
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    commit = git('rev-parse', '--short', 'HEAD');
    dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
  } catch {
    // not a git checkout: the commit stays unknown
  }
  return {
    loadavg: os.loadavg(),
    lines: [
      `- CPU: ${cpus[0]?.model.trim() ?? 'unknown'}, ${cpus.length} cores (\`os.cpus()\`); ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory`,
      `- OS: ${os.type()} ${os.release()} (${os.arch()})`,
      `- Node ${process.version}; libzmq ${libzmqVersion} (the \`zeromq\` package, the bound peer of the fault runs)`,
      `- monocoque at commit ${commit}${dirty ? ' with uncommitted changes in the working tree' : ''}`,
    ],
  };
}

let libzmqVersion = 'unknown';

// ---- the parts ----

/**
 * A fuzz run made on its own, from its saved output (progress lines and all): its seed, cases and
 * time from the report's first line, and its verdict worked out as the fuzzer's own exit code is
 * (test/fuzz/runner.ts `clean`: every count of trouble 0, every round trip ok, descriptors back).
 */
function savedFuzz(file: string): { seed: number; cases: number; ms: number; code: number; output: string } {
  const text = readFileSync(file, 'utf8');
  const from = text.indexOf('monocoque fuzz: seed ');
  if (from < 0) throw new Error(`--fuzz-report ${file}: no fuzz report in it (no line "monocoque fuzz: seed …"): did the run finish?`);
  const report = text.slice(from);
  const head = /^monocoque fuzz: seed (0x[0-9a-f]+), (\d+) cases in ([\d.]+) s/.exec(report);
  if (head === null) throw new Error(`--fuzz-report ${file}: the report's first line is not as scripts/fuzz.ts prints it`);
  const count = (label: string): number => {
    const m = new RegExp(`${label}:\\s+(\\d+)`).exec(report);
    if (m === null) throw new Error(`--fuzz-report ${file}: no "${label}" count in the report`);
    return Number(m[1]);
  };
  const trouble = ['crashes', 'hangs', 'wrong deliveries', 'lost \\(strict cases\\)', 'valid streams refused', 'bad output', 'api errors', 'fuzzer errors'].reduce((n, l) => n + count(l), 0);
  const trips = /round trips:\s+(\d+)\/(\d+) ok/.exec(report);
  const fds = /fd change: [+-]?\d+ \((\d+) -> (\d+)\)/.exec(report);
  const clean = trouble === 0 && trips !== null && trips[1] === trips[2] && fds !== null && fds[1] === fds[2];
  const seedLine = text.split('\n').find((l) => l.startsWith('fuzzing with seed')) ?? '';
  // The cases asked for (the replay line's --cases), which the run's count can be under: the rest of
  // a batch is skipped when its socket is closed under way.
  const asked = /replay: npm run fuzz -- .*--cases (\d+)/.exec(report);
  return { seed: Number(head[1]), cases: asked !== null ? Number(asked[1]) : Number(head[2]), ms: Number(head[3]) * 1000, code: clean ? 0 : 1, output: `${seedLine}\n${report}` };
}

async function fuzz(o: Options): Promise<Section> {
  let r: { code: number | null; output: string; ms: number };
  if (o.fuzzReport !== undefined) {
    const saved = savedFuzz(o.fuzzReport);
    o.fuzzSeed = saved.seed;
    o.fuzzCases = saved.cases;
    r = saved;
    log(`fuzz: the saved run in ${relative(ROOT, o.fuzzReport)} (${int(saved.cases)} cases, seed 0x${saved.seed.toString(16)})`);
  } else {
    const args = ['run', 'fuzz', '--', '--cases', String(o.fuzzCases), '--seed', `0x${o.fuzzSeed.toString(16).padStart(8, '0')}`, '--quiet'];
    log(`fuzz: npm ${args.join(' ')}`);
    r = await run('npm', args);
  }
  const seedText = `0x${o.fuzzSeed.toString(16).padStart(8, '0')}`;
  const report = r.output.split('\n').filter((l) => !l.startsWith('>') && l.trim() !== '').join('\n');
  const ok = r.code === 0;
  return {
    part: 'fuzz',
    title: 'Long fuzz: malformed ZMTP streams',
    elapsedMs: r.ms,
    checks: [{ what: `fuzz, ${int(o.fuzzCases)} cases`, ok, detail: ok ? 'nothing found, descriptors back to start (exit 0)' : `exit code ${r.code}: see the report` }],
    body: [
      `\`npm run fuzz\` (scripts/fuzz.ts, test/fuzz/): blind and interactive ZMTP streams, mutated and cut into random chunks, against every socket type, mechanism (NULL, PLAIN, CURVE) and role, with round trips to our own peers and libzmq's between batches. It exits 1 when it finds anything, or when descriptors leaked. ${int(o.fuzzCases)} cases took ${minutes(r.ms)}${o.fuzzReport !== undefined ? ' (run on its own, beside other work; its report is below as it printed it)' : ''}.`,
      '',
      `Reproduce: \`npm run fuzz -- --cases ${o.fuzzCases} --seed ${seedText}\` (the same seed and count replay the same streams; \`--only I\` one case, \`--batch B\` one batch, as the report's replay line says). Short run in \`npm test\`: test/fuzz/fuzz.test.ts (2,000 cases from a fixed seed, 3 × 300 from random ones).`,
      '',
      fence(report),
    ].join('\n'),
  };
}

async function limits(): Promise<Section> {
  const script = join(ROOT, 'test', 'hardening', 'measure-limits.ts');
  if (!existsSync(script)) {
    return {
      part: 'limits', title: 'Limits', elapsedMs: 0, checks: [],
      body: 'test/hardening/measure-limits.ts is not in this checkout: no limits measured.',
    };
  }
  log('limits: node --import tsx test/hardening/measure-limits.ts');
  const r = await run(process.execPath, ['--import', 'tsx', script]);
  const ok = r.code === 0;
  return {
    part: 'limits',
    title: 'Limits: oversized frames, stalled receivers, connection floods, subscriptions',
    elapsedMs: r.ms,
    checks: [{ what: 'limits measurements ran', ok, detail: ok ? 'exit 0 (the figures are measured, not judged: limits.test.ts asserts the structural properties)' : `exit code ${r.code}` }],
    body: [
      'test/hardening/measure-limits.ts measures the figures that are timings or totals (test/hardening/limits.test.ts asserts the structural properties in `npm test`).',
      '',
      `Reproduce: \`npx tsx test/hardening/measure-limits.ts\` (or one part: \`oversize\`, \`headers\`, \`stalled\`, \`connections\`, \`subscriptions\`, \`multipart\`, \`topic\`). Took ${minutes(r.ms)}. Its output as printed:`,
      '',
      fence(r.output),
    ].join('\n'),
  };
}

async function faults(o: Options): Promise<Section> {
  const started = performance.now();
  const reports: FaultReport[] = [];
  for (const transport of ['tcp', 'ipc'] as FaultTransport[]) {
    for (const type of ['DEALER', 'REQ', 'SUB', 'PUSH'] as FaultSocket[]) {
      log(`faults: ${type} over ${transport}, ${o.restarts} restarts of a ${o.peer === 'zeromq' ? 'libzmq' : 'monocoque'} peer`);
      reports.push(await runFaults({ type, transport, restarts: o.restarts, peer: o.peer, stallMs: 60_000 }));
    }
  }
  const checks: Check[] = [];
  const rows: string[] = [];
  for (const r of reports) {
    const name = `${r.type} over ${r.transport}`;
    const lost = r.lostPerRestart.slice(0, r.restarts);
    const lostTotal = lost.reduce((a, b) => a + b, 0);
    const accounted = r.delivered + r.lostPerRestart.reduce((a, b) => a + b, 0) === r.sent;
    const bound = r.type === 'REQ' ? 1 : r.window;
    const ok = r.violations.length === 0 && r.handshakes === r.restarts + 1 && r.disconnects === r.restarts && accounted &&
      r.lostPerRestart[r.restarts] === 0 && lost.every((n) => n <= bound) && (r.type !== 'SUB' || r.subscriptionsRestored === r.restarts + 1);
    checks.push({
      what: `faults: ${name}, ${r.restarts} SIGKILLs`,
      ok,
      detail: ok
        ? `${r.restarts} reconnects; no message in part, duplicated or out of order; every message delivered or lost to a kill (≤ ${bound} each)${r.type === 'SUB' ? `; subscriptions restored ${r.subscriptionsRestored}/${r.restarts + 1}` : ''}`
        : [r.violations.slice(0, 3).join('; '), `handshakes ${r.handshakes}, disconnects ${r.disconnects}, accounted ${accounted}`].filter(Boolean).join('; '),
    });
    rows.push(`| ${r.type} | ${r.transport} | ${r.restarts} | ${r.handshakes - 1} | ${r.connectRetries} | ${ms(percentile(r.reconnectMs, 50))} / ${ms(percentile(r.reconnectMs, 99))} | ${ms(percentile(r.outageMs, 50))} / ${ms(percentile(r.outageMs, 99))} | ${r.type === 'SUB' ? `${r.subscriptionsRestored}/${r.restarts + 1}, ${ms(percentile(r.subscribeMs, 50))} / ${ms(percentile(r.subscribeMs, 99))}` : '–'} | ${(lostTotal / Math.max(1, r.restarts)).toFixed(1)} / ${Math.max(0, ...lost)} | ${int(r.sent)} / ${int(r.delivered)} | ${r.violations.length} | ${r.bindRetries} |`);
  }
  return {
    part: 'faults',
    title: 'Faults: the bound peer killed (SIGKILL) and restarted',
    elapsedMs: performance.now() - started,
    checks,
    body: [
      `test/reliability/faults.ts: one of our connecting sockets keeps multipart traffic going (1 to 4 frames of 1 B to 12 KB after a header, at most ${reports[0]?.window ?? 16} messages in flight) while its bound peer, ${o.peer === 'zeromq' ? `libzmq ${libzmqVersion}` : 'monocoque'} in a child process (test/reliability/peer.mjs), is killed with SIGKILL ${o.restarts} times and replaced at the same address by a spare child that was already loaded. Our socket keeps its defaults (reconnectInterval 100 ms, so 100 to 200 ms with libzmq's jitter), linger 0. The peers: DEALER → ROUTER (echoes), REQ (relaxed, correlate) → REP, SUB ← XPUB (publishes on request, reports the subscriptions it holds; one of our three subscriptions changes at each restart while no peer is there), PUSH → PULL (reports what it got over the IPC channel). Every message delivered must be whole, and its sequence number above all delivered before it, across all connections: any part of a message, duplicate or reordering counts as a violation. A message sent and never delivered is lost, charged to the restart it was sent before.`,
      '',
      '- reconnects: our `handshake` events after the first; connect retries: our `connect:retry` events',
      '- reconnect: ms from the new peer\'s bind to our `handshake` event; outage: ms from the SIGKILL to it (includes the spare\'s bind)',
      '- subscriptions: epochs whose new publisher ended up holding exactly our subscriptions of the moment, and ms from our `handshake` to that',
      '- lost per restart: mean / max over the restarts (the window in flight is what a SIGKILL can take: what the dead peer had read and not answered, or what was still in its socket buffers)',
      '',
      '| socket | transport | restarts | reconnects | connect retries | reconnect p50 / p99 (ms) | outage p50 / p99 (ms) | subscriptions restored, p50 / p99 (ms) | lost per restart, mean / max | sent / delivered | violations | bind retries |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Reproduce: \`npm run reliability -- --only faults --restarts ${o.restarts}${o.peer === 'ours' ? ' --peer ours' : ''}\` (\`--peer ours\` makes the bound peer monocoque). Short run in \`npm test\`: test/reliability/faults.test.ts (10 restarts per socket and transport, reconnectInterval 10 ms). Took ${minutes(performance.now() - started)}.`,
      ...(reports.some((r) => r.violations.length > 0)
        ? ['', 'Violations (first few per run):', '', ...reports.flatMap((r) => r.violations.slice(0, 5).map((v) => `- ${r.type} over ${r.transport}: ${v}`))]
        : []),
    ].join('\n'),
  };
}

async function churn(o: Options): Promise<Section> {
  const started = performance.now();
  const runs: ChurnRun[] = [
    { kind: 'connect', transport: 'tcp', cycles: o.churn, warmup: Math.min(5000, o.churn) },
    { kind: 'connect', transport: 'ipc', cycles: o.churn, warmup: Math.min(5000, o.churn) },
    { kind: 'connect', transport: 'inproc', cycles: o.churn, warmup: Math.min(5000, o.churn) },
    { kind: 'create', cycles: o.create, warmup: Math.min(10_000, 2 * o.create) },
  ];
  const reports: (ChurnReport | { what: string; error: string })[] = [];
  for (const r of runs) {
    const what = r.kind === 'connect' ? `connect churn over ${r.transport}` : 'create/close churn';
    log(`churn: ${what}, ${int(r.cycles)} cycles after ${int(r.warmup ?? 0)} to warm up`);
    try {
      reports.push(...(await churnInChild([r])));
    } catch (e) {
      reports.push({ what, error: (e as Error).message });
    }
  }
  const checks: Check[] = [];
  const rows: string[] = [];
  const kib = (b: number): string => (b / 1024).toFixed(0);
  for (const r of reports) {
    if ('error' in r) {
      checks.push({ what: `churn: ${r.what}`, ok: false, detail: r.error });
      continue;
    }
    const g = r.growth;
    const counts = g.fds === 0 && g.connections === 0 && g.handles === 0 && g.timers === 0 && g.actors === 0 && g.actorObjects === 0 && r.socketsRetained === 0;
    // V8 grows the heap by hundreds of bytes a cycle for the first few thousand cycles (code compiled
    // and optimised): judged only after a warm-up of 5,000 cycles.
    const judged = r.warmup >= 5000;
    const heapOk = !judged || r.heapPerCycle <= 50;
    checks.push({
      what: `churn: ${r.what}, ${int(r.cycles)} cycles`,
      ok: counts && heapOk,
      detail: `descriptors ${g.fds}, connections ${g.connections}, handles ${g.handles}, timers ${g.timers}, running actors ${g.actors}, actor objects ${g.actorObjects}, sockets retained ${r.socketsRetained}/${r.socketsWatched}; heap ${r.heapPerCycle.toFixed(1)} B per cycle (${judged ? 'limit 50' : 'not judged: a warm-up under 5,000 cycles'})`,
    });
    rows.push(`| ${r.what} | ${int(r.cycles)} (+${int(r.warmup)}) | ${int(Math.round(r.cyclesPerSecond))} | ${g.fds} | ${g.handles} | ${g.timers} | ${g.actors} | ${g.actorObjects} | ${r.socketsRetained} / ${r.socketsWatched} | ${r.heapPerCycle.toFixed(1)} | ${r.heapSamples.map((s) => kib(s.heap)).join(' → ')} |`);
  }
  return {
    part: 'churn',
    title: 'Churn: many short lives, then a look at what is left',
    elapsedMs: performance.now() - started,
    checks,
    body: [
      'test/reliability/churn.ts, each run in a fresh process with `--expose-gc` (test/reliability/churn-child.ts). A connect cycle: a new Request connects to a Reply bound once in the same process, handshakes, makes one round trip and closes; the next cycle starts once the Request is released and (tcp, ipc) the Reply reported the connection gone. A create cycle: a socket of each type in turn is made, closed and released. Each run warms up first, measures, runs its cycles, and measures again:',
      '',
      '- descriptors: entries of /proc/self/fd; handles and timers: `process.getActiveResourcesInfo()` (timers are its `Timeout` entries)',
      '- running actors: actors of the run\'s Context that were created and never reported done, stopped or failed (its inspection events); actor objects: those not garbage collected (a FinalizationRegistry)',
      '- sockets retained: of up to 100 sockets of the measured cycles, evenly spaced, how many a full collection left in memory',
      '- heap: `heapUsed` after full collections, growth over the measured cycles divided by their number (judged against 50 B after a warm-up of 5,000 cycles or more); the samples are the heap at 0, 25, 50, 75 and 100 % of the cycles (KiB). The warm-up matters: the first few thousand cycles grow the heap by hundreds of bytes each while V8 compiles and optimises. What grows after it is V8\'s too: heap snapshots (`node:v8` `writeHeapSnapshot`) diffed by node type after 10,000 and 40,000 create/close cycles, and after 5,000 and 15,000 tcp cycles, differ only in compiled code, deoptimisation data and V8\'s weak lists, by no object of ours',
      '',
      '| run | cycles (+ warm-up) | cycles/s | descriptors | handles | timers | running actors | actor objects | sockets retained | heap B/cycle | heap samples (KiB) |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Reproduce one run: \`node --expose-gc --import tsx test/reliability/churn-child.ts '[{"kind": "connect", "transport": "tcp", "cycles": ${o.churn}, "warmup": ${Math.min(5000, o.churn)}}]'\` (\`"kind": "create"\` for create/close, no transport); all: \`npm run reliability -- --only churn --churn ${o.churn} --create ${o.create}\`. Short run in \`npm test\`: test/reliability/churn.test.ts (500 cycles of each, nothing left; the heap weighed over 5,000 inproc and 5,000 create/close cycles after a warm-up). Took ${minutes(performance.now() - started)}.`,
    ].join('\n'),
  };
}

/** zeromq.js's line when queued messages hold a process's exit for over 500 ms (one line, nothing else). */
const QUEUED_WARNING = /^\(node:\d+\) WARNING: Waiting for queued ZeroMQ messages to be delivered\.( Set 'context\.blocky = false' to change this behaviour\.)?$/;

async function shutdown(): Promise<Section> {
  const started = performance.now();
  const results: [number, ExitChildResult][] = [];
  for (const linger of [0, 100, 1000]) {
    log(`shutdown: exit-child with linger ${linger}`);
    results.push([linger, await runExitChild(linger)]);
  }
  const checks: Check[] = [];
  const rows: string[] = [];
  for (const [linger, r] of results) {
    const outcomes = Object.values(r.outcomes);
    const settledAsExpected = outcomes.length === 12 && outcomes.every((v) => v === 'resolved' || v === 'EAGAIN');
    // Messages still queued when the loop runs dry hold the exit up to linger, as zeromq.js's
    // context does at exit; past 500 ms it prints zeromq.js's warning, the only stderr allowed.
    const quiet = r.stderr === '' || (linger >= 500 && QUEUED_WARNING.test(r.stderr.trim()));
    const ok = r.code === 0 && r.signal === null && quiet && r.unhandled.length === 0 && r.leftover.length === 0 && settledAsExpected && r.closed;
    checks.push({
      what: `shutdown: linger ${linger}`,
      ok,
      detail: ok ? `12 pending calls settled (resolved or EAGAIN), no unhandled rejection, nothing left; the process exited by itself ${ms(r.exitAfterMs)} ms after close()` : `exit ${r.code}/${r.signal}, unhandled ${r.unhandled.length}, leftover ${r.leftover.join(', ')}, outcomes ${JSON.stringify(r.outcomes)} ${r.stderr.slice(0, 200)}`,
    });
    rows.push(`| ${linger} | ${ms(r.releasedAfterMs)} | ${ms(r.exitAfterMs)} | ${r.code} | ${outcomes.filter((v) => v === 'EAGAIN').length} EAGAIN, ${outcomes.filter((v) => v === 'resolved').length} resolved | ${r.unhandled.length} | ${r.leftover.length === 0 ? 'none' : r.leftover.join(', ')} |`);
  }
  return {
    part: 'shutdown',
    title: 'Shutdown: a process whose sockets are closed exits within linger',
    elapsedMs: performance.now() - started,
    checks,
    body: [
      'test/reliability/exit-child.ts, a process of its own: a ROUTER bound on tcp with a DEALER (round trip done, then a receive waiting) and a REQ (request taken, never answered) connected; a PUB on ipc with a SUB (a receive waiting); a DEALER retrying towards an ipc path nobody listens on, with two messages queued and a third send waiting; a DEALER in a handshake that never ends (a silent server of the parent), a send and a receive waiting; a DEALER with a bind under way and a receive waiting. All closed at once with the same linger. As in zeromq.js, every waiting send and receive fails with EAGAIN and the bind completes; the queued messages keep the two DEALERs that hold them for `linger` ms (and the process with them: when its loop runs dry they hold the exit, and past 500 ms zeromq.js\'s warning "Waiting for queued ZeroMQ messages to be delivered" goes to stderr, as zeromq.js prints it); then nothing of ours holds the process and it exits by itself.',
      '',
      '| linger (ms) | close → every socket released (ms) | close → process `exit` (ms) | exit code | pending calls | unhandled rejections | handles left |',
      '|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Reproduce: \`npm run reliability -- --only shutdown\`. In \`npm test\`: test/reliability/shutdown.test.ts (the same process with linger 0 and 200, and close() during a handshake, on active connections, with nobody listening and during binds that succeed or fail, over tcp and ipc). Took ${minutes(performance.now() - started)}.`,
    ].join('\n'),
  };
}

// ---- the document ----

async function main(): Promise<number> {
  const o = parse(process.argv.slice(2));
  libzmqVersion = ((await import('zeromq')) as { version: string }).version;
  const began = new Date();
  const start = machine();
  log(`writing ${relative(ROOT, o.out)} once done; parts: ${[...o.only].join(', ')}${o.quick ? ' (quick)' : ''}`);
  const sections: Section[] = [];
  for (const part of PARTS) {
    if (!o.only.has(part)) continue;
    const s = part === 'fuzz' ? await fuzz(o) : part === 'limits' ? await limits() : part === 'faults' ? await faults(o) : part === 'churn' ? await churn(o) : await shutdown();
    for (const c of s.checks) log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.what}: ${c.detail}`);
    sections.push(s);
  }
  const checks = sections.flatMap((s) => s.checks);
  const failed = checks.filter((c) => !c.ok);
  const end = os.loadavg();
  const total = (Date.now() - began.getTime());
  const command = `npm run reliability${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const doc = [
    '# Reliability figures',
    '',
    `Written by \`${command}\` (scripts/reliability.ts) on ${began.toISOString().slice(0, 10)}, in ${minutes(total)}${o.quick ? ' — a quick trial with small counts, not the figures to publish' : ''}. The short versions of every run below are part of \`npm test\`.`,
    '',
    '## The machine',
    '',
    ...start.lines,
    `- load average (1, 5, 15 min) at the start ${start.loadavg.map((l) => l.toFixed(1)).join(', ')}, at the end ${end.map((l) => l.toFixed(1)).join(', ')}: a shared virtual machine, where other work ran beside these runs, so read times as orders of magnitude, and counts as exact`,
    '',
    '## Verdicts',
    '',
    '| run | verdict | what was found |',
    '|---|---|---|',
    ...checks.map((c) => `| ${c.what} | ${c.ok ? 'pass' : '**FAIL**'} | ${c.detail.replaceAll('|', '\\|')} |`),
    '',
    ...sections.flatMap((s, i) => [`## ${i + 1}. ${s.title}`, '', s.body, '']),
    '## Reproducing',
    '',
    `- everything: \`npm run reliability\` (${minutes(total)} for this run; \`--quick\` for a trial with small counts, \`--only <parts>\` for some of fuzz, limits, faults, churn, shutdown, \`--fuzz-seed S\` to replay a fuzz run, \`--fuzz-report FILE\` to take the saved output of a long \`npm run fuzz\` made on its own)`,
    '- the short versions: `npx vitest run test/fuzz test/hardening test/reliability`',
    '',
  ].join('\n');
  writeFileSync(o.out, doc);
  log(`${failed.length === 0 ? 'all passed' : `${failed.length} FAILED`}; wrote ${relative(ROOT, o.out)} in ${minutes(total)}`);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error((e as Error).stack ?? e);
    process.exit(2);
  },
);
