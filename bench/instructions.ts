// Instructions per message, counted by valgrind (cachegrind, no cache model), for the inproc
// workloads of baseline-ab.ts: PUSH -> PULL of 16 bytes and the REQ/REP round trip of 16 bytes.
// A count of instructions does not move with the machine's load, as CPU time does here (by 1.5x-2x
// between runs on the shared machines), so two builds can be told apart by a few per cent. It is
// not time: a cache miss or a GC pause costs more than its instructions. Use it beside
// baseline-ab.ts, not instead of it.
//
// Each build runs the workload in a process of its own under valgrind, once with SHORT and once
// with LONG messages (or round trips); the difference of the two counts over the difference in
// messages leaves out start-up (Node, tsx, the imports). That is repeated --runs times (median;
// the runs are printed too).
//
// Builds, side by side: this one (dist/), one given with --base (a directory with its dist/, as
// for baseline-ab.ts), this one with the copy of small frames at send turned off (a throwaway copy
// of dist/ with COPY_AT_SEND set to -1: not what a user gets; it shows what the copy costs),
// zeromq.js, and `bare`, the workloads over a bare JavaScript queue with one promise per message
// (bench/lib/ceiling.ts), the floor for any implementation of this API.
//
//   npx tsc -p tsconfig.build.json && node --import tsx bench/instructions.ts [--base /tmp/base] [--runs 2] [--only pp|rr]
//
// It takes about 20 minutes with every build and two runs on two cores (valgrind runs a program
// some 30 times slower); the machine's load does not change the counts, so other work can go on.

import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib/benchmark.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CHILD = fileURLToPath(new URL('./instructions-child.ts', import.meta.url));
/**
 * Messages (pp) or round trips (rr) in the short and the long run of each pair: the difference is
 * taken over a million messages, so what start-up leaves uneven is spread thin. zeromq.js, with
 * about five times the instructions per message, runs a fifth of these (ZEROMQ_SHARE).
 */
const LENGTHS = { pp: [200_000, 1_200_000], rr: [50_000, 300_000] } as const;
const ZEROMQ_SHARE = 5;
type Workload = keyof typeof LENGTHS;

/**
 * V8's flags for a count that repeats. By default V8 compiles and collects on threads of its own
 * and sizes its heap from how fast it has been allocating in time, so the counts of one build
 * spread by 5-10 % from run to run, more than the changes being measured (2026-12-07: a change
 * read 60 instructions fewer per message that way, and 100 more with these flags). With everything
 * on the main thread and a fixed GC schedule, two runs agree within about 1 %.
 */
const V8_FLAGS = ['--single-threaded', '--predictable-gc-schedule'];

/** Total instructions valgrind counted for one run of the child (every thread of it). */
function countInstructions(impl: string, workload: Workload, count: number): Promise<number> {
  const args = ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', process.execPath, ...V8_FLAGS, '--import', 'tsx', CHILD, '--impl', impl, '--workload', workload, '--count', String(count)];
  return new Promise((resolve, reject) => {
    const proc = spawn('valgrind', args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d: string) => (err += d));
    proc.on('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' ? new Error('valgrind is not installed: apt-get install valgrind (it counts the instructions)') : e);
    });
    proc.on('close', (code) => {
      const refs = /I\s+refs:\s+([\d,]+)/.exec(err);
      if (code !== 0 || refs === null) return reject(new Error(`valgrind ${impl} ${workload} ${count} exited ${String(code)}:\n${err.slice(-2000)}`));
      resolve(Number((refs[1] as string).replaceAll(',', '')));
    });
  });
}

/** Runs `jobs` with at most `width` at once, keeping their order in the results. */
async function inParallel<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await (jobs[i] as () => Promise<T>)();
    }
  }));
  return out;
}

/** A throwaway copy of this build's dist/ with the copy of small frames at send turned off. */
function withoutCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'monocoque-no-copy-'));
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  const frame = join(dir, 'dist', 'src', 'core', 'frame.js');
  const text = readFileSync(frame, 'utf8');
  const changed = text.replace('export const COPY_AT_SEND = 128;', 'export const COPY_AT_SEND = -1;');
  if (changed === text) throw new Error(`no 'export const COPY_AT_SEND = 128;' in ${frame}: the copy's share cannot be shown`);
  writeFileSync(frame, changed);
  return dir;
}

async function main(): Promise<void> {
  const at = (name: string): string | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const runs = Number(at('runs') ?? 2);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs takes a whole number of at least 1, not ${String(at('runs'))}`);
  const only = at('only');
  if (only !== undefined && !(only in LENGTHS)) throw new Error(`--only takes pp or rr, not ${only}`);
  const workloads = (only === undefined ? Object.keys(LENGTHS) : [only]) as Workload[];
  const noCopy = withoutCopy();
  try {
    const base = at('base');
    const builds: [string, string][] = [
      ...(base === undefined ? [] : ([[`base (${base})`, base]] as [string, string][])),
      ['this build', 'this'],
      ['this build, no copy at send', noCopy],
      ['zeromq.js', 'zeromq'],
      ['bare queue (floor)', 'bare'],
    ];
    for (const w of workloads) {
      const [short, long] = LENGTHS[w];
      // Every run of every build, interleaved, so a build's runs are spread over the whole time.
      const jobs: { build: number; job: () => Promise<number> }[] = [];
      for (let r = 0; r < runs; r++) {
        for (const [b, [, impl]] of builds.entries()) {
          const share = impl === 'zeromq' ? ZEROMQ_SHARE : 1;
          const [s, l] = [short / share, long / share];
          jobs.push({ build: b, job: async () => ((await countInstructions(impl, w, l)) - (await countInstructions(impl, w, s))) / (l - s) });
        }
      }
      const per = await inParallel(jobs.map((j) => j.job), availableParallelism());
      const what = w === 'pp' ? 'inproc PUSH -> PULL, 16 B: instructions per message' : 'inproc REQ/REP, 16 B: instructions per round trip';
      console.log(`${what} (median of ${runs} runs, each ${long.toLocaleString('en')} less ${short.toLocaleString('en')}; zeromq.js a fifth of those)`);
      const medians = builds.map((_, b) => median(per.filter((_, i) => jobs[i]!.build === b)));
      const mine = medians[builds.findIndex(([, impl]) => impl === 'this')] as number;
      for (const [b, [name]] of builds.entries()) {
        const spread = per.filter((_, i) => jobs[i]!.build === b).map((x) => x.toFixed(0));
        console.log(`  ${name.padEnd(32)} ${(medians[b] as number).toFixed(0).padStart(7)}   ${((medians[b] as number) / mine).toFixed(2)}x this build   (runs: ${spread.join(', ')})`);
      }
    }
  } finally {
    rmSync(noCopy, { recursive: true, force: true });
  }
}

await main();
