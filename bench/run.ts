// The benchmark runner: every benchmark runs our implementation and zeromq.js (real libzmq) side
// by side, alternating round by round after a warm-up, and reports each one's median and the
// ratio ours/zeromq.js. The machine is shared and noisy: quote medians and ratios, not single runs.
//
//   npm run bench                                   all benchmarks, 5 rounds each, then the scale rows
//   npm run bench -- inproc-pair-rtt tcp            by name, or by prefix
//   npm run bench -- scale                          the scale rows only (scale.ts): cost per item at
//                                                   100 .. 100,000, each size in fresh processes
//   npm run bench -- scale --scale-cap 30           a size is skipped when it projects past 30 s (default 60)
//   npm run bench -- --rounds 9 --scale 0.5         BENCH_ROUNDS / BENCH_SCALE work too
//   npm run bench -- --impl zeromq tcp              one implementation only (no ratio)
//   npm run bench -- --list
//
// Results go to the terminal and to bench/results/latest.json (the scale rows under "scaleRows").

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { inprocBenchmarks } from './inproc.js';
import { formatValue, median, meets } from './lib/benchmark.js';
import type { Benchmark, Session, Target } from './lib/benchmark.js';
import { IMPL_NAMES, libzmqVersion, loadImpl } from './lib/impl.js';
import type { Impl, ImplName } from './lib/impl.js';
import { networkBenchmarks } from './network.js';
import { scaleRows } from './scale.js';
import { securityBenchmarks } from './security.js';
import { runScaleRow, scaleTable } from './lib/scale.js';
import type { ScaleResult, ScaleRow } from './lib/scale.js';

const ALL: Benchmark[] = [...inprocBenchmarks, ...networkBenchmarks, ...securityBenchmarks];
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
  /** The benchmark's platform reference (no ZeroMQ), when it has one and both implementations ran. */
  floor?: Figures & {
    label: string;
    ratioToZeromq: number | null;
    /** Ours divided by the floor round by round (they share each round's machine load), then the median. */
    oursToFloor: number | null;
  };
  met: boolean | null;
  skipped?: string;
  error?: string;
}

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: process.env.BENCH_ROUNDS ?? '5' },
    scale: { type: 'string', default: process.env.BENCH_SCALE ?? '1' },
    'scale-cap': { type: 'string', default: process.env.BENCH_SCALE_CAP ?? '60' },
    impl: { type: 'string' },
    list: { type: 'boolean', default: false },
    verbose: { type: 'boolean', short: 'v', default: false },
  },
});

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

function select(): { benchmarks: Benchmark[]; scale: ScaleRow[] } {
  if (positionals.length === 0) return { benchmarks: ALL, scale: scaleRows };
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
  const row: Row = {
    name: b.name, description: b.description, unit: b.unit, better: b.better, target: b.target ?? null,
    ours: null, zeromq: null, ratio: null, met: null,
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
  // The floor runs in the same alternation as the two, so all three see the same machine load.
  const floor = impls.length > 1 ? b.floor : undefined;
  const runners: { name: ImplName; label: string }[] = impls.map((i) => ({ name: i.name, label: i.name }));
  if (floor !== undefined) {
    runners.push({ name: 'node', label: floor.label });
    figures.set('node', { median: NaN, rounds: [] });
  }
  // A failing floor is reported and dropped; it never costs the two implementations their figures.
  const dropFloor = async (e: unknown): Promise<void> => {
    console.log(`${b.name}: floor (${floor?.label}) FAILED, left out — ${e instanceof Error ? e.message : String(e)}`);
    runners.splice(runners.findIndex((x) => x.name === 'node'), 1);
    figures.delete('node');
    await sessions.get('node')?.close().catch(() => {});
    sessions.delete('node');
  };
  try {
    for (const impl of impls) sessions.set(impl.name, await b.open(impl, scale));
    if (floor !== undefined) {
      try {
        sessions.set('node', await floor.open(scale));
      } catch (e) {
        await dropFloor(e);
      }
    }
    // Round 0 is the warm-up (JIT, connection set-up, first allocations); it is not counted.
    for (let r = 0; r <= rounds; r++) {
      for (const impl of [...runners]) {
        gc();
        const round = withTimeout((sessions.get(impl.name) as Session).round(), `${b.name} ${impl.label} round ${r}`);
        let result: Awaited<typeof round>;
        if (impl.name === 'node') {
          try {
            result = await round;
          } catch (e) {
            await dropFloor(e);
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
    for (const s of sessions.values()) await s.close().catch(() => {});
  }
  if (row.error !== undefined) return row;
  for (const [name, f] of figures) {
    const done = { ...f, median: median(f.rounds) };
    if (name === 'node') row.floor = { ...done, label: floor?.label ?? name, ratioToZeromq: null, oursToFloor: null };
    else row[name] = done;
  }
  if (row.ours !== null && row.zeromq !== null) {
    row.ratio = row.ours.median / row.zeromq.median;
    if (b.target !== undefined) row.met = meets(b.target, row.ratio);
    if (row.floor !== undefined) row.floor.ratioToZeromq = row.floor.median / row.zeromq.median;
  }
  if (row.ours !== null && row.floor !== undefined) {
    const f = row.floor.rounds;
    row.floor.oursToFloor = median((row.ours as Figures).rounds.map((v, i) => v / (f[i] as number)));
  }
  console.log(`${b.name}: ours ${formatValue(row.ours?.median ?? NaN)}, zeromq.js ${formatValue(row.zeromq?.median ?? NaN)} ${b.unit}` +
    (row.ratio !== null ? `, ratio ${row.ratio.toFixed(2)}x` : '') +
    (row.floor !== undefined ? `; floor (${row.floor.label}, no ZeroMQ) ${formatValue(row.floor.median)} = ${row.floor.ratioToZeromq?.toFixed(2)}x zeromq.js` : ''));
  return row;
}

function table(rows: Row[]): string {
  const header = ['benchmark', 'unit', 'ours (median)', 'zeromq.js (median)', 'ratio', 'target', 'met?'];
  const measured = rows.filter((r) => r.skipped === undefined && r.error === undefined).map((r) => [
    r.name, r.unit, formatValue(r.ours?.median ?? NaN), formatValue(r.zeromq?.median ?? NaN),
    r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x`, describeTarget(r.target),
    r.met === null ? '-' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === 0 ? r.name : i === 1 ? r.unit : '').length), ...measured.map((c) => (c[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w)))];
  for (const r of rows) {
    if (r.skipped !== undefined) out.push(line([r.name, r.unit, `skipped: ${r.skipped} (target ${describeTarget(r.target)})`]));
    else if (r.error !== undefined) out.push(line([r.name, r.unit, `FAILED: ${r.error}`]));
    else out.push(line(measured.shift() as string[]));
  }
  const floors = rows.filter((r) => r.floor !== undefined && r.error === undefined);
  if (floors.length > 0) {
    out.push('', 'floors (the same exchange over bare node:net, no ZeroMQ, measured in the same rounds: what Node and the kernel cost when each ' +
      'process sleeps between messages, as zeromq.js and ours with busyPoll 0 do; busy polling goes below it)');
    for (const r of floors) {
      const f = r.floor as NonNullable<Row['floor']>;
      out.push(`  ${r.name}: ${f.label} ${formatValue(f.median)} ${r.unit} = ${f.ratioToZeromq === null ? '-' : `${f.ratioToZeromq.toFixed(2)}x`} zeromq.js; ` +
        `ours ${f.oursToFloor === null ? '-' : `${f.oursToFloor.toFixed(2)}x`} the floor (median of the per-round ratios)`);
    }
  }
  const cpu = rows.filter((r) => r.error === undefined && (r.ours?.extra?.cpuMicros ?? r.zeromq?.extra?.cpuMicros) !== undefined);
  if (cpu.length > 0) {
    out.push('', 'cpu per round trip (user + system time of both processes, all threads; in brackets the client\'s and the server\'s share, ' +
      'the server\'s event-loop utilisation and, for many clients, the messages per second; medians of the rounds)');
    const cell = (label: string, f: Figures | null | undefined) => {
      const x = f?.extra;
      if (x?.cpuMicros === undefined) return [];
      const split = x.cpuClientMicros === undefined || x.cpuServerMicros === undefined ? '' :
        ` (client ${median(x.cpuClientMicros).toFixed(1)} + server ${median(x.cpuServerMicros).toFixed(1)}` +
        (x.serverLoopUtilisation === undefined ? '' : `, server loop ${(median(x.serverLoopUtilisation) * 100).toFixed(0)} % busy`) +
        (x.rate === undefined ? '' : `, ${formatValue(median(x.rate))} msg/s`) + ')';
      return [`${label} ${median(x.cpuMicros).toFixed(1)} µs${split}`];
    };
    for (const r of cpu) out.push(`  ${r.name}: ${[...cell('ours', r.ours), ...cell('zeromq.js', r.zeromq), ...cell(r.floor?.label ?? 'floor', r.floor)].join(', ')}`);
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  if (opts.list) {
    for (const b of ALL) console.log(`${b.name.padEnd(30)} ${b.unit.padEnd(7)} target ${describeTarget(b.target).padEnd(8)} ${b.description}`);
    for (const r of scaleRows) console.log(`${r.name.padEnd(30)} ${'scale'.padEnd(7)} ${r.sizes.map((n) => n.toLocaleString('en-US')).join(' / ')}: ${r.description}`);
    return;
  }
  const rounds = Number(opts.rounds);
  const scale = Number(opts.scale);
  if (!Number.isInteger(rounds) || rounds < 1) fail(`--rounds must be a positive integer, not "${opts.rounds}"`);
  if (!(scale > 0)) fail(`--scale must be a positive number, not "${opts.scale}"`);
  const capSeconds = Number(opts['scale-cap']);
  if (!(capSeconds > 0)) fail(`--scale-cap must be a positive number of seconds, not "${opts['scale-cap']}"`);
  if (opts.impl !== undefined && !IMPL_NAMES.includes(opts.impl as ImplName)) fail(`--impl must be one of ${IMPL_NAMES.join(', ')}`);
  const names = opts.impl !== undefined ? [opts.impl as ImplName] : IMPL_NAMES;
  const impls = await Promise.all(names.map((n) => loadImpl(n)));
  const { benchmarks: selected, scale: scaleSelected } = select();
  const gc = exposeGc();

  console.log(`monocoque bench: ${selected.length} benchmark(s), ${rounds} rounds + 1 warm-up per implementation, scale ${scale}; ` +
    `${scaleSelected.length} scale row(s); node ${process.version}, libzmq ${await libzmqVersion()}, ${os.cpus().length} cpus\n`);
  const rows: Row[] = [];
  for (const b of selected) rows.push(await runOne(b, impls, rounds, scale, gc, opts.verbose));

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

  if (rows.length > 0) {
    console.log(`\n${table(rows)}`);
    console.log('\nratio = ours / zeromq.js (medians); higher is better for msg/s and MB/s, lower for µs/rtt.');
  }
  if (scaleResults.length > 0) {
    console.log(`\nscale rows (cost per item at each size, medians of the rounds; ${scaleRules}):`);
    for (const [i, r] of scaleResults.entries()) console.log(`\n${scaleTable(scaleSelected[i] as ScaleRow, r)}`);
  }

  mkdirSync(new URL('./', RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify({
    date: new Date().toISOString(),
    node: process.version,
    libzmq: await libzmqVersion(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    loadavg: os.loadavg(),
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
