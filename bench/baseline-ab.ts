// This build against an earlier one (issue 11's bound: no throughput or round-trip regression past
// 1.2x of the code before it, `f2e7e71`), with zeromq.js beside both: inproc PUSH -> PULL of
// 16 bytes (CPU per message, and msg/s as a ratio to zeromq.js) and the inproc REQ/REP round trip
// (CPU per round trip): bench/lib/ab-workloads.ts's, which instructions.ts counts in instructions.
//
// Each build runs alone in a process of its own (`--one`), a warm-up and then ROUNDS rounds of each
// workload, and the passes go round the builds in turn, the order turned by one each pass, so the
// machine's load falls on each alike; the figures are medians over the passes. Two builds in one
// process did not compare fairly: a copy of this build against itself read 0.84x-0.92x CPU per
// round trip, whichever came second gaining (2026-12-07), while in processes of their own the two
// copies read the same (1.47 and 1.48 µs, five of each).
//
//   git worktree add /tmp/base f2e7e71 && (cd /tmp/base && ln -s "$PWD/../<this repo>/node_modules" . && npx tsc -p tsconfig.build.json)
//   npx tsc -p tsconfig.build.json && node --import tsx bench/baseline-ab.ts /tmp/base [--passes 9]
//
// (`npm run bench` builds dist/ too.) `--no-copy` is not offered: the copy of small frames at send
// is part of what a user gets, and a throwaway build is the honest way to look at it without.

import { linked, loadBuild, pushPull, roundTrips } from './lib/ab-workloads.js';
import { median } from './lib/benchmark.js';
import { Child } from './lib/child.js';
import { emit } from './lib/child-io.js';

/** One process's figures: medians of its rounds. */
interface Figures {
  /** PUSH -> PULL: ns of CPU per message, messages per second. */
  ppCpu: number;
  ppRate: number;
  /** REQ/REP: ns of CPU per round trip, round trips per second. */
  rrCpu: number;
  rrRate: number;
}

const ROUNDS = 5;
const PASSES = 5;
const N = 300_000;
const R = 100_000;
const cpuNow = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** `--one <dir | this | zeromq>`: the rounds of one build, reported as a `figures` event (lib/child.ts's JSON lines). */
async function one(which: string): Promise<void> {
  const lib = await loadBuild(which);
  emit('ready');
  const [pull, push] = await linked(new lib.Pull(), new lib.Push(), 'inproc://baseline-ab-pp');
  const [rep, req] = await linked(new lib.Reply(), new lib.Request(), 'inproc://baseline-ab-rr');
  const pp: { cpu: number; rate: number }[] = [];
  const rr: { cpu: number; rate: number }[] = [];
  /** The CPU per item and the rate of `n` items of `work`. */
  const timed = async (n: number, work: () => Promise<void>): Promise<{ cpu: number; rate: number }> => {
    const c0 = cpuNow();
    const t0 = performance.now();
    await work();
    return { cpu: ((cpuNow() - c0) * 1000) / n, rate: n / ((performance.now() - t0) / 1000) };
  };
  for (let r = 0; r <= ROUNDS; r++) {
    const p = await timed(N, () => pushPull(push, pull, N));
    const t = await timed(R, () => roundTrips(req, rep, R));
    if (r > 0) {
      pp.push(p);
      rr.push(t);
    }
  }
  const figures: Figures = {
    ppCpu: median(pp.map((x) => x.cpu)),
    ppRate: median(pp.map((x) => x.rate)),
    rrCpu: median(rr.map((x) => x.cpu)),
    rrRate: median(rr.map((x) => x.rate)),
  };
  emit('figures', { figures });
  for (const s of [push, pull, req, rep]) s.close();
  process.exit(0);
}

/** Runs `--one which` in a new process and returns its figures. */
async function inOwnProcess(which: string): Promise<Figures> {
  const { child } = await Child.launch({ label: `baseline-ab ${which}`, script: new URL(import.meta.url), args: ['--one', which] });
  try {
    return (await child.expect('figures', 300_000)).figures as Figures;
  } finally {
    await child.close();
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--one') return one(process.argv[3] as string);
  const base = process.argv[2];
  if (base === undefined) throw new Error('usage: node --import tsx bench/baseline-ab.ts <dir of the earlier build, with its dist/> [--passes N]');
  const at = process.argv.indexOf('--passes');
  const passes = at < 0 ? PASSES : Number(process.argv[at + 1]);
  if (!Number.isInteger(passes) || passes < 1) throw new Error(`--passes takes a whole number of at least 1, not ${String(process.argv[at + 1])}`);
  const builds: [string, string][] = [[`base (${base})`, base], ['this build', 'this'], ['zeromq.js', 'zeromq']];
  const runs: Figures[][] = builds.map(() => []);
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < builds.length; i++) {
      const k = (i + p) % builds.length;
      runs[k]!.push(await inOwnProcess(builds[k]![1]));
    }
  }
  const m = (k: number, f: keyof Figures): number => median(runs[k]!.map((x) => x[f]));
  // On a shared machine the load drifts between passes; within a pass the builds run one after the
  // other. So the ratio is also given per pass (median of those), and as the least CPU each build
  // took in any pass (interference only adds CPU time).
  const perPass = (f: keyof Figures): number => median(runs[1]!.map((x, p) => x[f] / runs[0]![p]![f]));
  const least = (k: number, f: keyof Figures): number => Math.min(...runs[k]!.map((x) => x[f]));
  const also = (f: keyof Figures): string => `; per pass ${perPass(f).toFixed(2)}x (median), least of each ${(least(1, f) / least(0, f)).toFixed(2)}x`;
  const zq = builds.length - 1;
  const said = `medians of ${passes} processes each, ${ROUNDS} rounds in each`;
  console.log(`inproc PUSH -> PULL, 16 B (${said}):`);
  for (const [k, [name]] of builds.entries()) {
    console.log(`  ${name.padEnd(28)} ${m(k, 'ppCpu').toFixed(0).padStart(5)} ns CPU/msg   ${(m(k, 'ppRate') / 1e6).toFixed(2)}M msg/s = ${(m(k, 'ppRate') / m(zq, 'ppRate')).toFixed(2)}x zeromq.js`);
  }
  console.log(`  this build / base: ${(m(1, 'ppCpu') / m(0, 'ppCpu')).toFixed(2)}x CPU per message${also('ppCpu')}; ${(m(1, 'ppRate') / m(0, 'ppRate')).toFixed(2)}x the rate`);
  console.log(`inproc REQ/REP round trip, 16 B (${said}):`);
  for (const [k, [name]] of builds.entries()) {
    console.log(`  ${name.padEnd(28)} ${(m(k, 'rrCpu') / 1000).toFixed(2).padStart(5)} µs CPU/rtt   ${(1e6 / m(k, 'rrRate')).toFixed(2)} µs/rtt`);
  }
  console.log(`  this build / base: ${(m(1, 'rrCpu') / m(0, 'rrCpu')).toFixed(2)}x CPU per round trip${also('rrCpu')}`);
}

await main();
