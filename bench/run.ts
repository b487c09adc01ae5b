// The benchmark runner: every benchmark runs our implementation and zeromq.js (real libzmq) side
// by side, alternating round by round after a warm-up, with the platform ceiling (no ZeroMQ: a bare
// JS queue, a bare node:net stream or echo) in the same alternation, and reports each one's median,
// the ratio ours/zeromq.js and ours against the ceiling. The machine is shared and noisy: quote
// medians and ratios, not single runs; the spread column says how far the rounds strayed.
//
//   npm run bench                                   all benchmarks, 5 rounds each, then the scale rows
//   npm run bench -- --table                        the summary table's workloads only (no extra rows,
//                                                   no scale rows), 5 rounds each at full counts
//   npm run bench -- --quick                        the same, 1 round each at a tenth of the counts:
//                                                   a smoke test in under a minute, not figures to quote
//                                                   (it keeps its worker processes from row to row;
//                                                   other runs start new ones for each row, and
//                                                   --keep-workers keeps them)
//   npm run bench -- inproc-pair-rtt tcp            by name, or by prefix
//   npm run bench -- scale                          the scale rows only (scale.ts): cost per item at
//                                                   100 .. 100,000, each size in fresh processes
//   npm run bench -- scale --scale-cap 30           a size is skipped when it projects past 30 s (default 60)
//   npm run bench -- --rounds 9 --scale 0.5         BENCH_ROUNDS / BENCH_SCALE work too
//   npm run bench -- --impl zeromq tcp              one implementation only (no ratio)
//   npm run bench -- --list
//
// Results go to the terminal, ending with one summary table, and to bench/results/latest.json
// (the scale rows under "scaleRows"). bench/README.md says how to read them.

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { inprocBenchmarks } from './inproc.js';
import { formatValue, median, meets } from './lib/benchmark.js';
import type { Benchmark, RoundResult, Session, Target } from './lib/benchmark.js';
import { Child, closeWorkers } from './lib/child.js';
import { emit, fail as failChild } from './lib/child-io.js';
import { IMPL_NAMES, libzmqVersion, loadImpl, oursSource } from './lib/impl.js';
import type { Impl, ImplName } from './lib/impl.js';
import { memoryBenchmarks } from './memory.js';
import { networkBenchmarks } from './network.js';
import { scaleRows } from './scale.js';
import { securityBenchmarks } from './security.js';
import { runScaleRow, scaleTable } from './lib/scale.js';
import type { ScaleResult, ScaleRow } from './lib/scale.js';

/**
 * The summary table's workloads in the issue's order; within one, the file order (inproc, tcp,
 * tcp in one process, ipc, ipc in one process). The extra rows follow, in file order.
 */
const WORKLOADS = [
  'push-pull-16b', 'push-pull-16b-batch', 'push-pull-1k', 'push-pull-64k', 'push-pull-1m',
  'pub-sub-10', 'pub-sub-10-topics', 'pub-sub-100', 'pub-sub-100-topics',
  'dealer-router', 'dealer-router-10', 'dealer-router-1000',
  'req-rep-rtt',
  'memory-idle-socket', 'memory-pair-inproc', 'memory-pair-tcp', 'stalled-receiver',
];
function workloadRank(b: Benchmark): number {
  if (b.extra === true) return WORKLOADS.length;
  const i = WORKLOADS.indexOf(b.name.replace(/^(inproc|tcp|ipc)-/, '').replace(/-1proc$/, ''));
  return i < 0 ? WORKLOADS.length : i;
}
const ALL: Benchmark[] = [...inprocBenchmarks, ...networkBenchmarks, ...memoryBenchmarks, ...securityBenchmarks]
  .map((b, i) => ({ b, i })).sort((x, y) => workloadRank(x.b) - workloadRank(y.b) || x.i - y.i).map((x) => x.b);
/** Scale rows run at most this many rounds per size: each is a fresh process per implementation. */
const SCALE_ROUNDS = 3;
/** Once a size has taken this long for an implementation, it gets no further round. */
const SCALE_SIZE_SECONDS = 20;
/** The scale rows together start no measurement after this many caps (20 min at the default 60 s). */
const SCALE_BUDGET_CAPS = 20;
const ROUND_TIMEOUT_MS = 60_000;
const RESULTS = new URL('./results/latest.json', import.meta.url);

/** One implementation's rounds (warm-up excluded), their median, and side figures per round. */
interface Figures {
  median: number;
  rounds: number[];
  extra?: Record<string, number[]>;
}

interface Row {
  name: string;
  description: string;
  unit: string;
  better: 'higher' | 'lower';
  target: Target | null;
  ours: Figures | null;
  zeromq: Figures | null;
  /** ours / zeromq.js, both medians. */
  ratio: number | null;
  /** The benchmark's platform ceiling (no ZeroMQ), when it has one and both implementations ran. */
  ceiling?: Figures & {
    label: string;
    ratioToZeromq: number | null;
    /** Ours divided by the ceiling round by round (they share each round's machine load), then the median. */
    oursToCeiling: number | null;
  };
  met: boolean | null;
  /** The widest spread of either implementation's rounds: (max - min) / 2 / median. */
  spread: number | null;
  skipped?: string;
  error?: string;
}

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string' },
    scale: { type: 'string' },
    quick: { type: 'boolean', default: false },
    table: { type: 'boolean', default: false },
    'keep-workers': { type: 'boolean', default: false },
    'scale-cap': { type: 'string', default: process.env.BENCH_SCALE_CAP ?? '60' },
    impl: { type: 'string' },
    list: { type: 'boolean', default: false },
    verbose: { type: 'boolean', short: 'v', default: false },
    // Internal: run this one row and report it as a `row` event (runInOwnProcess).
    'one-row': { type: 'string' },
  },
});

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

function select(): { benchmarks: Benchmark[]; scale: ScaleRow[] } {
  if (positionals.length === 0) {
    return opts.quick || opts.table ? { benchmarks: ALL.filter((b) => b.extra !== true), scale: [] } : { benchmarks: ALL, scale: scaleRows };
  }
  const chosen = new Set<Benchmark | ScaleRow>();
  for (const p of positionals) {
    const hit = [...ALL, ...scaleRows].filter((b) => b.name === p || b.name.startsWith(p));
    if (hit.length === 0) fail(`no benchmark named or starting with "${p}"; try --list`);
    for (const b of hit) chosen.add(b);
  }
  return { benchmarks: ALL.filter((b) => chosen.has(b)), scale: scaleRows.filter((r) => chosen.has(r)) };
}

/** `gc()` without a node flag (package.json runs plain `tsx`), so each round starts clean. */
function exposeGc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g !== undefined) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ROUND_TIMEOUT_MS / 1000} s`)), ROUND_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function describeTarget(t: Target | undefined | null): string {
  return t == null ? '-' : `${t.op} ${t.ratio}x`;
}

async function runOne(b: Benchmark, impls: Impl[], rounds: number, scale: number, gc: () => void, verbose: boolean): Promise<Row> {
  const t0 = performance.now();
  const row: Row = {
    name: b.name, description: b.description, unit: b.unit, better: b.better, target: b.target ?? null,
    ours: null, zeromq: null, ratio: null, met: null, spread: null,
  };
  for (const impl of impls) {
    const why = await b.unavailable(impl);
    if (why !== undefined) {
      row.skipped = why;
      console.log(`${b.name}: skipped — ${why}`);
      return row;
    }
  }
  const sessions = new Map<ImplName, Session>();
  const figures = new Map<ImplName, Figures>(impls.map((i) => [i.name, { median: NaN, rounds: [] }]));
  // The ceiling runs in the same alternation as the two, so all three see the same machine load.
  const ceiling = impls.length > 1 ? b.ceiling : undefined;
  const runners: { name: ImplName; label: string }[] = impls.map((i) => ({ name: i.name, label: i.name }));
  // A failing ceiling is reported and dropped; it never costs the two implementations their figures.
  const dropCeiling = async (e: unknown): Promise<void> => {
    console.log(`${b.name}: ceiling (${ceiling?.label}) FAILED, left out — ${e instanceof Error ? e.message : String(e)}`);
    const at = runners.findIndex((x) => x.name === 'node');
    if (at >= 0) runners.splice(at, 1);
    figures.delete('node');
    await sessions.get('node')?.close().catch(() => {});
    sessions.delete('node');
  };
  try {
    // Set-up in parallel (processes, connections): nothing is timed until every session is open.
    const opening = [...impls.map((i) => b.open(i, scale)), ...(ceiling === undefined ? [] : [ceiling.open(scale)])];
    const opened = await Promise.allSettled(opening);
    opened.forEach((o, k) => {
      if (o.status === 'fulfilled') sessions.set(k < impls.length ? (impls[k] as Impl).name : 'node', o.value);
    });
    const failed = opened.findIndex((o, k) => o.status === 'rejected' && k < impls.length);
    if (failed >= 0) throw (opened[failed] as PromiseRejectedResult).reason;
    if (ceiling !== undefined) {
      const c = opened[impls.length] as PromiseSettledResult<Session>;
      if (c.status === 'rejected') await dropCeiling(c.reason);
      else {
        runners.push({ name: 'node', label: ceiling.label });
        figures.set('node', { median: NaN, rounds: [] });
      }
    }
    // Round 0 is the warm-up (JIT, connection set-up, first allocations); it is not counted.
    for (let r = b.warmup === false ? 1 : 0; r <= rounds; r++) {
      const started = new Map<ImplName, Promise<RoundResult>>();
      const start = (impl: { name: ImplName; label: string }) =>
        withTimeout((sessions.get(impl.name) as Session).round(), `${b.name} ${impl.label} round ${r}`);
      if (b.parallel === true) {
        for (const impl of runners) {
          const p = start(impl);
          p.catch(() => {}); // awaited below; if an earlier one throws first, this one's failure is moot
          started.set(impl.name, p);
        }
      }
      for (const impl of [...runners]) {
        if (b.parallel !== true) gc();
        const round = started.get(impl.name) ?? start(impl);
        let result: RoundResult;
        if (impl.name === 'node') {
          try {
            result = await round;
          } catch (e) {
            await dropCeiling(e);
            continue;
          }
        } else {
          result = await round;
        }
        const value = typeof result === 'number' ? result : result.value;
        if (r > 0) {
          const f = figures.get(impl.name) as Figures;
          f.rounds.push(value);
          if (typeof result !== 'number') {
            f.extra ??= {};
            for (const [k, v] of Object.entries(result.extra)) (f.extra[k] ??= []).push(v);
          }
        }
        if (verbose) console.log(`  ${b.name} ${impl.label} ${r === 0 ? 'warm-up' : `round ${r}`}: ${formatValue(value)} ${b.unit}`);
      }
    }
  } catch (e) {
    row.error = e instanceof Error ? e.message : String(e);
    console.log(`${b.name}: FAILED — ${row.error}`);
  } finally {
    // Each implementation's processes are its own: they close side by side.
    await Promise.all([...sessions.values()].map((s) => s.close().catch(() => {})));
  }
  if (row.error !== undefined) {
    // A failed round may leave events behind in the kept workers: start the next row with new ones.
    await closeWorkers();
    return row;
  }
  for (const [name, f] of figures) {
    const done = { ...f, median: median(f.rounds) };
    if (name === 'node') row.ceiling = { ...done, label: ceiling?.label ?? name, ratioToZeromq: null, oursToCeiling: null };
    else row[name] = done;
  }
  const spreads = [row.ours, row.zeromq].filter((f): f is Figures => f !== null && f.rounds.length > 1)
    .map((f) => (Math.max(...f.rounds) - Math.min(...f.rounds)) / 2 / f.median);
  row.spread = spreads.length === 0 ? null : Math.max(...spreads);
  if (row.ours !== null && row.zeromq !== null) {
    row.ratio = row.ours.median / row.zeromq.median;
    if (b.target !== undefined) row.met = meets(b.target, row.ratio);
    if (row.ceiling !== undefined) row.ceiling.ratioToZeromq = row.ceiling.median / row.zeromq.median;
  }
  if (row.ours !== null && row.ceiling !== undefined) {
    const f = row.ceiling.rounds;
    row.ceiling.oursToCeiling = median((row.ours as Figures).rounds.map((v, i) => v / (f[i] as number)));
  }
  console.log(`${b.name}: ours ${formatValue(row.ours?.median ?? NaN)}, zeromq.js ${formatValue(row.zeromq?.median ?? NaN)} ${b.unit}` +
    (row.ratio !== null ? `, ratio ${row.ratio.toFixed(2)}x` : '') +
    (row.ceiling !== undefined ? `; ceiling (${row.ceiling.label}) ${formatValue(row.ceiling.median)}` : '') +
    ` (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return row;
}

const ratioText = (x: number | null | undefined) => (x == null || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}x`);

/** Lines in columns, each padded to its widest cell. */
function columns(header: string[], cells: string[][]): string[] {
  // A short row (a skipped or failed benchmark: name, unit, why) runs past the columns it does not fill.
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c.length === header.length || i < c.length - 1 ? (c[i] ?? '').length : 0))));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
}

/** The summary table: one line per benchmark, the figures the issue asks for. */
function table(rows: Row[]): string {
  const header = ['workload', 'unit', 'ours', 'zeromq.js', 'ratio', 'target', 'met?', 'ceiling', 'ours/ceiling', 'spread'];
  const cells = rows.map((r) => {
    if (r.skipped !== undefined) return [r.name, r.unit, `skipped: ${r.skipped} (target ${describeTarget(r.target)})`];
    if (r.error !== undefined) return [r.name, r.unit, `FAILED: ${r.error}`];
    return [
      r.name, r.unit, formatValue(r.ours?.median ?? NaN), formatValue(r.zeromq?.median ?? NaN), ratioText(r.ratio), describeTarget(r.target),
      r.met === null ? '-' : r.met ? 'yes' : 'NO',
      r.ceiling === undefined ? '-' : formatValue(r.ceiling.median), ratioText(r.ceiling?.oursToCeiling),
      r.spread === null ? '-' : `±${(r.spread * 100).toFixed(0)}%`,
    ];
  });
  const judged = rows.filter((r) => r.met !== null);
  return [
    ...columns(header, cells),
    '',
    `targets met: ${judged.filter((r) => r.met).length} of ${judged.length}` +
      (judged.some((r) => !r.met) ? ` (missed: ${judged.filter((r) => !r.met).map((r) => r.name).join(', ')})` : ''),
  ].join('\n');
}

/** What the summary table leaves out: the ceilings' names, CPU per round trip, the memory rows' side figures. */
function sideNotes(rows: Row[]): string {
  const out: string[] = [];
  const measured = rows.filter((r) => r.error === undefined && r.skipped === undefined);
  const ceilings = measured.filter((r) => r.ceiling !== undefined);
  if (ceilings.length > 0) {
    out.push('ceilings (no ZeroMQ, measured in the same rounds; for µs/rtt a floor: lower is better; a round trip\'s floor is what Node and ' +
      'the kernel cost when each process sleeps between messages, as zeromq.js and ours with busyPoll 0 do, and busy polling goes below it)');
    for (const r of ceilings) {
      const c = r.ceiling as NonNullable<Row['ceiling']>;
      out.push(`  ${r.name}: ${c.label} ${formatValue(c.median)} ${r.unit} = ${ratioText(c.ratioToZeromq)} zeromq.js; ours ${ratioText(c.oursToCeiling)} of it`);
    }
  }
  const cpu = measured.filter((r) => (r.ours?.extra?.cpuMicros ?? r.zeromq?.extra?.cpuMicros) !== undefined);
  if (cpu.length > 0) {
    out.push('', 'cpu per round trip (user + system time of the processes, all threads; in brackets the client\'s and the server\'s share, ' +
      'the server\'s event-loop utilisation and, for many clients, the messages per second; medians of the rounds)');
    const cell = (label: string, f: Figures | null | undefined) => {
      const x = f?.extra;
      if (x?.cpuMicros === undefined) return [];
      const split = x.cpuClientMicros === undefined || x.cpuServerMicros === undefined ? (x.rate === undefined ? '' : ` (${formatValue(median(x.rate))} msg/s)`) :
        ` (client ${median(x.cpuClientMicros).toFixed(1)} + server ${median(x.cpuServerMicros).toFixed(1)}` +
        (x.serverLoopUtilisation === undefined ? '' : `, server loop ${(median(x.serverLoopUtilisation) * 100).toFixed(0)} % busy`) +
        (x.rate === undefined ? '' : `, ${formatValue(median(x.rate))} msg/s`) + ')';
      return [`${label} ${median(x.cpuMicros).toFixed(1)} µs${split}`];
    };
    for (const r of cpu) out.push(`  ${r.name}: ${[...cell('ours', r.ours), ...cell('zeromq.js', r.zeromq), ...cell(r.ceiling?.label ?? 'ceiling', r.ceiling)].join(', ')}`);
  }
  const memory = measured.filter((r) => (r.ours?.extra?.heap ?? r.ours?.extra?.heapMB) !== undefined);
  if (memory.length > 0) {
    out.push('', 'memory (medians): RSS growth is the table\'s figure; heap = V8 heap used + external (Buffers), what the JS side retains');
    const m = (f: Figures | null | undefined, k: string) => (f?.extra?.[k] === undefined ? NaN : median(f.extra[k] as number[]));
    for (const r of memory) {
      const side = (label: string, f: Figures | null) => {
        if (f === null) return `${label} -`;
        if (f.extra?.heap !== undefined) return `${label} RSS ${formatValue(f.median)}, heap ${formatValue(m(f, 'heap'))} ${r.unit}`;
        return `${label} RSS ${formatValue(f.median)} MB, heap ${formatValue(m(f, 'heapMB'))} MB after ${formatValue(m(f, 'sent'))} messages sent` +
          (m(f, 'stalled') < 1 ? ' (the sender never blocked: no HWM held it)' : '') +
          (f.extra?.senderMB === undefined ? '' : `; the sender ${formatValue(m(f, 'senderMB'))} MB RSS, heap ${formatValue(m(f, 'senderHeapMB'))} MB`);
      };
      out.push(`  ${r.name}: ${side('ours', r.ours)}; ${side('zeromq.js', r.zeromq)}`);
    }
  }
  return out.join('\n');
}

/**
 * An inproc row in a process of its own, as each network row has workers of its own: both
 * implementations and the ceiling still share that process, as inproc must. In the main process an
 * inproc row ran after every row before it, and what a process ran before moves the figures: in
 * the table at 23:53 on 2026-12-06, inproc fan-out to 10 read 3.27x and DEALER->ROUTER 4.86x, where
 * the same rows read 6.96x-7.52x and 8.36x-9.07x run on their own. The child speaks lib/child.ts's
 * JSON lines; what it prints besides (the row's line, `--verbose`) comes through on stderr.
 */
async function runInOwnProcess(b: Benchmark, rounds: number, scale: number): Promise<Row> {
  const args = ['--one-row', b.name, '--rounds', String(rounds), '--scale', String(scale)];
  if (opts.impl !== undefined) args.push('--impl', opts.impl);
  if (opts.verbose) args.push('--verbose');
  const { child } = await Child.launch({ label: b.name, script: new URL(import.meta.url), args });
  try {
    // Each round of each implementation and of the ceiling has ROUND_TIMEOUT_MS in the child.
    return (await child.expect('row', ROUND_TIMEOUT_MS * (rounds + 1) * 3)).row as Row;
  } finally {
    await child.close();
  }
}

/** `--one-row NAME`: this process runs that row only, for runInOwnProcess. */
async function oneRow(name: string): Promise<void> {
  const b = ALL.find((x) => x.name === name);
  if (b === undefined) fail(`--one-row: no row is named "${name}"`);
  const names = opts.impl !== undefined ? [opts.impl as ImplName] : IMPL_NAMES;
  const impls = await Promise.all(names.map((n) => loadImpl(n)));
  emit('ready');
  try {
    emit('row', { row: await runOne(b, impls, Number(opts.rounds), Number(opts.scale), exposeGc(), opts.verbose) });
  } catch (e) {
    failChild(e);
  } finally {
    await closeWorkers();
  }
}

async function main(): Promise<void> {
  if (opts['one-row'] !== undefined) return oneRow(opts['one-row']);
  if (opts.list) {
    for (const b of ALL) {
      console.log(`${b.name.padEnd(34)} ${b.unit.padEnd(8)} target ${describeTarget(b.target).padEnd(8)} ${b.extra === true ? '(extra) ' : ''}${b.description}` +
        (b.ceiling === undefined ? '' : `; ceiling: ${b.ceiling.label}`));
    }
    for (const r of scaleRows) console.log(`${r.name.padEnd(34)} ${'scale'.padEnd(8)} ${r.sizes.map((n) => n.toLocaleString('en-US')).join(' / ')}: ${r.description}`);
    return;
  }
  const started = performance.now();
  const rounds = Number(opts.rounds ?? process.env.BENCH_ROUNDS ?? (opts.quick ? 1 : 5));
  const scale = Number(opts.scale ?? process.env.BENCH_SCALE ?? (opts.quick ? 0.1 : 1));
  if (!Number.isInteger(rounds) || rounds < 1) fail(`--rounds must be a positive integer, not "${opts.rounds}"`);
  if (!(scale > 0)) fail(`--scale must be a positive number, not "${opts.scale}"`);
  const capSeconds = Number(opts['scale-cap']);
  if (!(capSeconds > 0)) fail(`--scale-cap must be a positive number of seconds, not "${opts['scale-cap']}"`);
  if (opts.impl !== undefined && !IMPL_NAMES.includes(opts.impl as ImplName)) fail(`--impl must be one of ${IMPL_NAMES.join(', ')}`);
  const names = opts.impl !== undefined ? [opts.impl as ImplName] : IMPL_NAMES;
  const impls = await Promise.all(names.map((n) => loadImpl(n)));
  const { benchmarks: selected, scale: scaleSelected } = select();
  const gc = exposeGc();
  const libzmq = await libzmqVersion();
  const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
    `${os.type()} ${os.release()}; node ${process.version}, libzmq ${libzmq}; ours from ${oursSource() === 'dist' ? 'dist/ (built)' : 'src/ (tsx)'}`;
  const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const loadStart = os.loadavg();

  console.log(`monocoque bench${opts.quick ? ' --quick' : ''}: ${selected.length} benchmark(s), ${rounds} round(s) per implementation ` +
    `(+1 warm-up), counts x ${scale}; ${scaleSelected.length} scale row(s)\nmachine: ${machine}; load average ${load()}\n`);
  const rows: Row[] = [];
  // Each row gets new worker processes, and an inproc row a process of its own, unless --quick or
  // --keep-workers: a process remembers what it ran (V8 sizes its young generation by it;
  // bench/history-probe.ts), and a row's figure should not depend on the rows before it. --quick
  // keeps them to stay under a minute.
  const keepWorkers = opts.quick || opts['keep-workers'];
  try {
    for (const b of selected) {
      if (!keepWorkers && inprocBenchmarks.includes(b)) {
        rows.push(await runInOwnProcess(b, rounds, scale));
        continue;
      }
      rows.push(await runOne(b, impls, rounds, scale, gc, opts.verbose));
      if (!keepWorkers) await closeWorkers();
    }
  } finally {
    await closeWorkers();
  }

  const scaleResults: ScaleResult[] = [];
  const scaleRounds = Math.min(rounds, SCALE_ROUNDS);
  const scaleRules = `a size is skipped when the smaller ones project one measurement past ${capSeconds} s (the cap) and stopped if still ` +
    `running at ${2 * capSeconds} s; up to ${scaleRounds} round(s) per size, fewer once a size has taken ${SCALE_SIZE_SECONDS} s; ` +
    `no measurement starts after ${(SCALE_BUDGET_CAPS * capSeconds / 60).toFixed(0)} min of scale rows`;
  if (scaleSelected.length > 0) {
    console.log(`${rows.length > 0 ? '\n' : ''}scale rows: ${scaleRules}`);
    const limits = { capSeconds, rounds: scaleRounds, sizeSeconds: SCALE_SIZE_SECONDS, deadline: performance.now() + SCALE_BUDGET_CAPS * capSeconds * 1000 };
    for (const r of scaleSelected) scaleResults.push(await runScaleRow(r, impls, limits, (line) => console.log(line)));
  }

  const notes = sideNotes(rows);
  if (notes !== '') console.log(`\n${notes}`);
  if (scaleResults.length > 0) {
    console.log(`\nscale rows (cost per item at each size, medians of the rounds; ${scaleRules}):`);
    for (const [i, r] of scaleResults.entries()) console.log(`\n${scaleTable(scaleSelected[i] as ScaleRow, r)}`);
  }
  const seconds = (performance.now() - started) / 1000;
  if (rows.length > 0) {
    console.log(`\nsummary: ${machine}; ${rounds} round(s), counts x ${scale}; load average ${loadStart.map((x) => x.toFixed(2)).join(' ')} at the start, ` +
      `${load()} at the end; ${seconds.toFixed(0)} s\n`);
    console.log(table(rows));
    console.log('ratio = ours / zeromq.js (medians); higher is better for msg/s and MB/s, lower for µs/rtt, B and MB. ' +
      'ceiling = the same workload with no ZeroMQ (bare JS queue, node:net stream or echo; for stalled receivers the HWM bound); ' +
      'ours/ceiling = median of the per-round ratios. spread = the wider of the two implementations\' (max - min) / 2 / median.');
  }

  mkdirSync(new URL('./', RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify({
    date: new Date().toISOString(),
    node: process.version,
    libzmq,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    machine,
    loadavg: loadStart,
    loadavgEnd: os.loadavg(),
    seconds,
    quick: opts.quick,
    rounds,
    scale,
    implementations: names,
    results: rows,
    scaleRows: scaleResults,
  }, null, 2)}\n`);
  console.log(`results: bench/results/latest.json`);
  if (rows.some((r) => r.error !== undefined) || scaleResults.some((r) => r.error !== undefined)) process.exitCode = 1;
}

main().then(
  () => process.exit(),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
