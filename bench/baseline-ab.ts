// This build against an earlier one (issue 11's bound: no throughput or round-trip regression past
// 1.2x of the code before it, `f2e7e71`), with zeromq.js beside both: inproc PUSH -> PULL of
// 16 bytes (CPU per message, and msg/s as a ratio to zeromq.js) and the inproc REQ/REP round trip
// (CPU per round trip). All three run in this one process, round after round in turn, so the
// machine's load falls on each alike; the figures are medians of the rounds.
//
//   git worktree add /tmp/base f2e7e71 && (cd /tmp/base && ln -s "$PWD/../<this repo>/node_modules" . && npx tsc -p tsconfig.build.json)
//   npx tsc -p tsconfig.build.json && node --import tsx bench/baseline-ab.ts /tmp/base
//
// (`npm run bench` builds dist/ too.) `--no-copy` is not offered: the copy of small frames at send
// is part of what a user gets, and a throwaway build is the honest way to look at it without.

import * as zmq from 'zeromq';
import { median } from './lib/benchmark.js';

interface Lib {
  Push: new () => { connect(a: string): void; send(m: Buffer): Promise<void>; close(): void };
  Pull: new () => { bind(a: string): Promise<void>; receive(): Promise<unknown>; close(): void };
  Request: new () => { connect(a: string): void; send(m: Buffer): Promise<void>; receive(): Promise<unknown>; close(): void };
  Reply: new () => { bind(a: string): Promise<void>; send(m: unknown): Promise<void>; receive(): Promise<unknown>; close(): void };
}

const base = process.argv[2];
if (base === undefined) throw new Error('usage: node --import tsx bench/baseline-ab.ts <dir of the earlier build, with its dist/>');
const builds: [string, Lib][] = [
  [`base (${base})`, (await import(`${base}/dist/src/index.js`)) as Lib],
  ['this build', (await import(new URL('../dist/src/index.js', import.meta.url).href)) as Lib],
  ['zeromq.js', zmq as unknown as Lib],
];
const payload = Buffer.alloc(16, 0x61);
const cpuNow = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** Rounds of `round` for each build in turn (the first pass is a warm-up, not counted). */
async function alternate<T>(setups: T[], rounds: number, round: (s: T) => Promise<{ cpu: number; rate: number }>) {
  const cpu: number[][] = setups.map(() => []);
  const rate: number[][] = setups.map(() => []);
  for (let r = 0; r <= rounds; r++) {
    for (const [k, s] of setups.entries()) {
      const got = await round(s);
      if (r > 0) {
        cpu[k]!.push(got.cpu);
        rate[k]!.push(got.rate);
      }
    }
  }
  return { cpu: cpu.map(median), rate: rate.map(median) };
}

/** For each build, a socket that binds `inproc://baseline-ab-<name>-<k>` and one that connects to it. */
function linked<B extends { bind(a: string): Promise<void> }, C extends { connect(a: string): void }>(
  name: string, binder: (lib: Lib) => B, connector: (lib: Lib) => C,
): Promise<{ bound: B; connected: C }[]> {
  return Promise.all(builds.map(async ([, lib], k) => {
    const address = `inproc://baseline-ab-${name}-${k}`;
    const bound = binder(lib);
    await bound.bind(address);
    const connected = connector(lib);
    connected.connect(address);
    return { bound, connected };
  }));
}

const N = 300_000;
const pipes = await linked('pp', (lib) => new lib.Pull(), (lib) => new lib.Push());
const pp = await alternate(pipes, 7, async ({ bound: pull, connected: push }) => {
  const c0 = cpuNow();
  const t0 = performance.now();
  const received = (async () => {
    for (let i = 0; i < N; i++) await pull.receive();
  })();
  for (let i = 0; i < N; i++) await push.send(payload);
  await received;
  return { cpu: ((cpuNow() - c0) * 1000) / N, rate: N / ((performance.now() - t0) / 1000) };
});

const R = 100_000;
const pairs = await linked('rr', (lib) => new lib.Reply(), (lib) => new lib.Request());
const rr = await alternate(pairs, 7, async ({ bound: rep, connected: req }) => {
  const served = (async () => {
    for (let i = 0; i < R; i++) await rep.send(await rep.receive());
  })();
  const c0 = cpuNow();
  const t0 = performance.now();
  for (let i = 0; i < R; i++) {
    await req.send(payload);
    await req.receive();
  }
  const result = { cpu: ((cpuNow() - c0) * 1000) / R, rate: R / ((performance.now() - t0) / 1000) };
  await served;
  return result;
});

const zq = builds.length - 1;
console.log('inproc PUSH -> PULL, 16 B (medians of 7 rounds each):');
for (const [k, [name]] of builds.entries()) {
  console.log(`  ${name.padEnd(28)} ${pp.cpu[k]!.toFixed(0).padStart(5)} ns CPU/msg   ${(pp.rate[k]! / 1e6).toFixed(2)}M msg/s = ${(pp.rate[k]! / pp.rate[zq]!).toFixed(2)}x zeromq.js`);
}
console.log(`  this build / base: ${(pp.cpu[1]! / pp.cpu[0]!).toFixed(2)}x CPU per message, ${(pp.rate[1]! / pp.rate[0]!).toFixed(2)}x the rate`);
console.log('inproc REQ/REP round trip, 16 B (medians of 7 rounds each):');
for (const [k, [name]] of builds.entries()) {
  console.log(`  ${name.padEnd(28)} ${(rr.cpu[k]! / 1000).toFixed(2).padStart(5)} µs CPU/rtt   ${(1e6 / rr.rate[k]!).toFixed(2)} µs/rtt`);
}
console.log(`  this build / base: ${(rr.cpu[1]! / rr.cpu[0]!).toFixed(2)}x CPU per round trip`);
for (const { bound, connected } of [...pipes, ...pairs]) {
  connected.close();
  bound.close();
}
