// What a benchmark is to the runner, and the arithmetic the runner does on its rounds.

import type { Impl } from './impl.js';

/** The goal, as a ratio ours/zeromq.js: at least (throughput) or at most (latency). */
export interface Target {
  op: '>=' | '<=';
  ratio: number;
}

/** A round's figure in the benchmark's unit, optionally with side figures kept in the JSON (e.g. the mean). */
export type RoundResult = number | { value: number; extra: Record<string, number> };

/** One implementation's sockets (or child processes), set up once and measured round after round. */
export interface Session {
  round(): Promise<RoundResult>;
  close(): Promise<void>;
}

export interface Benchmark {
  name: string;
  description: string;
  /** e.g. `msg/s`, `µs/rtt`, `MB/s`. */
  unit: string;
  better: 'higher' | 'lower';
  target?: Target;
  /**
   * The platform ceiling, measured in the same rounds without ZeroMQ (a bare JS queue, a bare
   * node:net stream or echo; for a memory row, the bound its HWM sets): what the platform itself
   * allows, printed beside the two implementations and never part of the ratio. For latency it
   * is a floor (lower is better), but the table calls both the ceiling.
   */
  ceiling?: { label: string; open(scale: number): Promise<Session> };
  /**
   * Not one of the workloads of the summary table (issue 15): variants, security, busy-poll
   * studies. `npm run bench` runs them; `--quick` leaves them out unless named.
   */
  extra?: boolean;
  /** False for rows whose first round is as good as any (memory rows, each round a fresh process). */
  warmup?: boolean;
  /**
   * True when the implementations' rounds may run at the same time instead of one after the
   * other: for figures that do not depend on time or load (memory rows).
   */
  parallel?: boolean;
  /** Why `impl` cannot run this benchmark now (a missing socket type or transport), or undefined. */
  unavailable(impl: Impl): Promise<string | undefined>;
  open(impl: Impl, scale: number): Promise<Session>;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Median of the first `n` entries of a sample buffer, without copying more than needed. */
export function medianOf(samples: Float64Array, n = samples.length): number {
  const s = samples.slice(0, n).sort();
  if (n === 0) return Number.NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function meets(target: Target, ratio: number): boolean {
  return target.op === '>=' ? ratio >= target.ratio : ratio <= target.ratio;
}

/** 1234567 -> "1.23M", 45678 -> "45.7k", 12.345 -> "12.3", 0.8765 -> "0.877". */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return '-';
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (a >= 100) return v.toFixed(0);
  return v.toPrecision(3);
}

/** A scaled message count, at least `min`. */
export function scaled(count: number, scale: number, min = 100): number {
  return Math.max(min, Math.round(count * scale));
}

/**
 * Each implementation's measured rounds last at least this long (times `--scale`): after a round,
 * the count of the next is raised to what the measured rate moves in this time. A fixed count made
 * our rounds 20-60 ms long against zeromq.js's 500 ms, so what a round pays once (the tail of the
 * full collection run.ts makes before it, timers, the first allocations) weighed several times more
 * on ours: the batch row read 4.67M-4.93M msg/s at 200,000 messages a round and 6.21M at 1,000,000
 * (`npm run bench -- inproc-push-pull-16b-batch --rounds 3 [--scale 5]`, the same hour).
 */
export const MIN_ROUND_SECONDS = 0.3;

/**
 * By what whole factor the next round's counts grow: 1, or more if a round of `n` at `rate` was
 * shorter than the minimum (whole, so that the topics of a fan-out still divide what is published).
 */
export function stretchFactor(n: number, rate: number, scale: number): number {
  return Math.max(1, Math.ceil((rate * MIN_ROUND_SECONDS * Math.min(1, scale)) / n));
}
