// What a scale row is to the runner, and how the runner walks its sizes: fresh processes per
// measurement, both implementations alternating, a size skipped when the smaller ones project past
// the time cap, the whole walk held to a budget; the table prints the cost per item at each size.

import { freemem } from 'node:os';
import { formatValue, median } from './benchmark.js';
import type { Impl, ImplName } from './impl.js';

/** One measurement's figures by name; `seconds` (the whole measurement) is always there. */
export type Figures = Record<string, number>;

/** An implementation ran out of a resource (zeromq.js's socket limit) at item `at` of a size. */
export class Shortfall extends Error {
  constructor(
    readonly at: number,
    message: string,
  ) {
    super(message);
  }
}

/** A measurement still running at its hard limit (twice the cap): it was stopped and its processes killed. */
export class Stopped extends Error {}

export interface ScaleColumn {
  key: string;
  label: string;
  format(v: number): string;
  /** Print ours / zeromq.js for this column. */
  ratio?: boolean;
}

export interface ScaleTarget {
  /** The issue's words. */
  text: string;
  /** The size the target is stated at. */
  size: number;
  /** Whether ours' figures at `size` meet it, and what they were. */
  judge(f: Figures): { met: boolean; said: string };
}

export interface ScaleRow {
  name: string;
  description: string;
  sizes: readonly number[];
  columns: readonly ScaleColumn[];
  /** The figure the slope is read from: a cost per item (µs) that stays flat when the work is linear. */
  slopeOf: string;
  target?: ScaleTarget;
  /** Printed under the table: what a reader needs to read a figure or a failure right. */
  note?: string;
  unavailable(impl: Impl): Promise<string | undefined>;
  /** One measurement in fresh child processes; throws Shortfall or Stopped (after `limitMs`). */
  measure(impl: ImplName, size: number, limitMs: number): Promise<Figures>;
}

/** One implementation at one size. */
export interface SizeResult {
  size: number;
  rounds: Figures[];
  median: Figures | null;
  /** Why it was not measured. */
  skipped?: string;
  /** What ran out, and at which item (zeromq.js's socket limit), or a runtime error. */
  failed?: string;
  /** Still running at the hard limit. */
  stopped?: string;
}

export interface ScaleResult {
  name: string;
  description: string;
  target: { text: string; size: number; met: boolean | null; said: string } | null;
  ours: SizeResult[] | null;
  zeromq: SizeResult[] | null;
  /** Per size: ours / zeromq.js for each compared column. */
  ratios: { size: number; [key: string]: number }[];
  skipped?: string;
  /** Ours failed with an error that is no resource limit: a runtime bug to report. */
  error?: string;
}

export interface ScaleLimits {
  /** A size is skipped when the smaller sizes project one measurement past this. */
  capSeconds: number;
  /** Rounds per size at most (each round is a fresh process per implementation). */
  rounds: number;
  /** Once a size has taken this long for an implementation, it gets no further round. */
  sizeSeconds: number;
  /** performance.now() after which no more measurements start (the whole scale walk's budget). */
  deadline: number;
}

/** 100000 -> "100,000". */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Bytes as B, KB or MB (1 KB = 1024 B). */
export function bytes(v: number): string {
  if (!Number.isFinite(v)) return '-';
  const a = Math.abs(v);
  if (a >= 1024 ** 3) return `${(v / 1024 ** 3).toPrecision(3)} GB`;
  if (a >= 1024 * 1024) return `${(v / 1024 / 1024).toPrecision(3)} MB`;
  if (a >= 1024) return `${(v / 1024).toPrecision(3)} KB`;
  return `${v.toFixed(0)} B`;
}

export function micros(v: number): string {
  return `${formatValue(v)} µs`;
}

export function millis(v: number): string {
  return `${formatValue(v)} ms`;
}

export function seconds(v: number): string {
  return `${formatValue(v)} s`;
}

/**
 * Seconds one measurement at `next` would take, from the sizes measured before: the last one
 * grown by the exponent the last two show (at least 1: linear), so a quadratic walk is caught.
 */
export function project(history: readonly { size: number; seconds: number }[], next: number): number {
  const last = history.at(-1);
  if (last === undefined) return 0;
  let k = 1;
  const prev = history.at(-2);
  if (prev !== undefined && prev.seconds > 0) k = Math.min(3, Math.max(1, Math.log(last.seconds / prev.seconds) / Math.log(last.size / prev.size)));
  return last.seconds * (next / last.size) ** k;
}

function medianFigures(rounds: readonly Figures[]): Figures | null {
  if (rounds.length === 0) return null;
  const out: Figures = {};
  for (const key of Object.keys(rounds[0] as Figures)) out[key] = median(rounds.map((r) => r[key] as number));
  return out;
}

/** Why the next size is not measured for one implementation, from what its smaller sizes did. */
function whySkip(done: readonly SizeResult[], size: number, limits: ScaleLimits): string | undefined {
  const unfinished = done.find((d) => d.failed !== undefined || d.stopped !== undefined);
  if (unfinished !== undefined) return `skipped: ${count(unfinished.size)} did not finish`;
  const measured = done.filter((d) => d.median !== null).map((d) => ({ size: d.size, seconds: (d.median as Figures).seconds as number }));
  const projected = project(measured, size);
  if (projected > limits.capSeconds) return `skipped: projected ${projected.toFixed(0)} s (cap ${limits.capSeconds} s)`;
  const m = done.filter((d) => d.median !== null).at(-1)?.median;
  if (m?.heapPerItem !== undefined && m.heapLimit !== undefined && m.heapPerItem * size > 0.8 * m.heapLimit) {
    return `skipped: projected heap ${bytes(m.heapPerItem * size)}, over 80 % of the ${bytes(m.heapLimit)} limit`;
  }
  if (m?.rssPerItem !== undefined && m.rssPerItem * size > 0.7 * freemem()) {
    return `skipped: projected memory ${bytes(m.rssPerItem * size)}, over 70 % of the ${bytes(freemem())} free`;
  }
  if (performance.now() > limits.deadline) return 'skipped: the scale rows\' time budget is spent';
  return undefined;
}

/** Walks a row's sizes for each implementation, alternating them round by round as the runner does. */
export async function runScaleRow(row: ScaleRow, impls: Impl[], limits: ScaleLimits, log: (line: string) => void): Promise<ScaleResult> {
  const result: ScaleResult = { name: row.name, description: row.description, target: null, ours: null, zeromq: null, ratios: [] };
  for (const impl of impls) {
    const why = await row.unavailable(impl);
    if (why !== undefined) {
      result.skipped = why;
      log(`${row.name}: skipped — ${why}`);
      return result;
    }
  }
  const done = new Map<ImplName, SizeResult[]>(impls.map((i) => [i.name, []]));
  for (const size of row.sizes) {
    const now = new Map<ImplName, SizeResult>();
    const spent = new Map<ImplName, number>();
    for (const impl of impls) {
      const r: SizeResult = { size, rounds: [], median: null };
      const skip = whySkip(done.get(impl.name) as SizeResult[], size, limits);
      if (skip !== undefined) r.skipped = skip;
      now.set(impl.name, r);
      spent.set(impl.name, 0);
    }
    for (let round = 0; round < limits.rounds; round++) {
      for (const impl of impls) {
        const r = now.get(impl.name) as SizeResult;
        if (r.skipped !== undefined || r.failed !== undefined || r.stopped !== undefined) continue;
        if (round > 0 && ((spent.get(impl.name) as number) > limits.sizeSeconds || performance.now() > limits.deadline)) continue;
        const t0 = performance.now();
        try {
          r.rounds.push(await row.measure(impl.name, size, limits.capSeconds * 2000));
        } catch (e) {
          const message = e instanceof Error ? e.message : String(e);
          if (e instanceof Shortfall) r.failed = `failed at ${count(e.at)}: ${message}`;
          else if (e instanceof Stopped) r.stopped = message;
          else {
            r.failed = `FAILED: ${message}`;
            if (impl.name === 'ours') result.error ??= `${count(size)}: ${message}`;
          }
          log(`${row.name} ${impl.name} ${count(size)}: ${r.failed ?? r.stopped}`);
        }
        spent.set(impl.name, (spent.get(impl.name) as number) + (performance.now() - t0) / 1000);
      }
    }
    for (const impl of impls) {
      const r = now.get(impl.name) as SizeResult;
      // A size that failed or stopped has no median, even if an earlier round finished.
      r.median = r.failed === undefined && r.stopped === undefined ? medianFigures(r.rounds) : null;
      (done.get(impl.name) as SizeResult[]).push(r);
      if (r.median !== null) {
        log(`${row.name} ${impl.name} ${count(size)}: ${row.columns.map((c) => `${c.label} ${c.format(r.median?.[c.key] ?? NaN)}`).join(', ')} ` +
          `(${r.rounds.length} round${r.rounds.length === 1 ? '' : 's'}, ${seconds(r.median.seconds as number)} each)`);
      } else if (r.skipped !== undefined) {
        log(`${row.name} ${impl.name} ${count(size)}: ${r.skipped}`);
      }
    }
    const o = now.get('ours')?.median;
    const z = now.get('zeromq')?.median;
    if (o != null && z != null) {
      const ratio: { size: number; [key: string]: number } = { size };
      for (const c of row.columns) if (c.ratio === true) ratio[c.key] = (o[c.key] as number) / (z[c.key] as number);
      result.ratios.push(ratio);
    }
  }
  for (const impl of impls) result[impl.name as 'ours' | 'zeromq'] = done.get(impl.name) as SizeResult[];
  if (row.target !== undefined) {
    const t = row.target;
    const at = result.ours?.find((r) => r.size === t.size);
    if (at === undefined) result.target = { text: t.text, size: t.size, met: null, said: 'ours not run' };
    else if (at.median === null) result.target = { text: t.text, size: t.size, met: false, said: `not reached: ${at.skipped ?? at.failed ?? at.stopped}` };
    else result.target = { text: t.text, size: t.size, ...t.judge(at.median) };
  }
  return result;
}

/**
 * A row's table: one line per size and implementation, the ratio under both, then the slope.
 *
 *   scale-pairs-inproc: …
 *     target: … -> ours: NO (…)
 *             N  impl       create  close  heap/pair …
 *           100  ours       …
 *                zeromq.js  …
 *                ours/zmq   0.50x
 */
export function scaleTable(row: ScaleRow, r: ScaleResult): string {
  const out = [`${r.name}: ${r.description}`];
  if (r.skipped !== undefined) return [...out, `  skipped: ${r.skipped}`].join('\n');
  if (r.target !== null) {
    out.push(`  target (issue 11): ${r.target.text} -> ours: ${r.target.met === null ? '-' : r.target.met ? 'yes' : 'NO'} (${r.target.said})`);
  }
  const header = ['N', 'impl', ...row.columns.map((c) => c.label), 'rounds'];
  const lines: string[][] = [];
  for (const size of row.sizes) {
    let shown = false;
    for (const [name, label] of [['ours', 'ours'], ['zeromq', 'zeromq.js']] as const) {
      const s = r[name]?.find((x) => x.size === size);
      if (s === undefined) continue;
      const n = shown ? '' : count(size);
      shown = true;
      const m = s.median;
      if (m === null) lines.push([n, label, s.skipped ?? s.failed ?? s.stopped ?? '-']);
      else lines.push([n, label, ...row.columns.map((c) => c.format(m[c.key] ?? NaN)), String(s.rounds.length)]);
    }
    const ratio = r.ratios.find((x) => x.size === size);
    if (ratio !== undefined) lines.push(['', 'ours/zmq', ...row.columns.map((c) => (c.ratio === true ? `${(ratio[c.key] as number).toFixed(2)}x` : ''))]);
  }
  // A line that says why a size was not measured spans the figure columns; it does not set their widths.
  const widths = header.map((h, i) => Math.max(h.length, ...lines.filter((l) => l.length > 3 || i < 2).map((l) => (l[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    `  ${cells.map((c, i) => (i === 0 ? c.padStart(widths[0] as number) : i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ')}`.trimEnd();
  out.push(fmt(header), ...lines.map(fmt));
  const slopes: string[] = [];
  for (const [name, label] of [['ours', 'ours'], ['zeromq', 'zeromq.js']] as const) {
    const measured = (r[name] ?? []).filter((s) => s.median !== null);
    const steps: string[] = [];
    for (let i = 1; i < measured.length; i++) {
      const a = measured[i - 1] as SizeResult;
      const b = measured[i] as SizeResult;
      const ca = (a.median as Figures)[row.slopeOf] as number;
      const cb = (b.median as Figures)[row.slopeOf] as number;
      steps.push(`${count(a.size)}->${count(b.size)} N^${(1 + Math.log(cb / ca) / Math.log(b.size / a.size)).toFixed(2)}`);
    }
    if (steps.length > 0) slopes.push(`${label} ${steps.join(', ')}`);
  }
  if (slopes.length > 0) {
    const of = row.columns.find((c) => c.key === row.slopeOf)?.label ?? row.slopeOf;
    out.push(`  slope (from "${of}": the total grows as N^k between two sizes; 1 = linear, 2 = quadratic): ${slopes.join('; ')}`);
  }
  if (row.note !== undefined) out.push(`  note: ${row.note}`);
  return out.join('\n');
}
