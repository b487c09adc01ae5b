// Why the bench's workers no longer force a full GC between rows (bench/README, "Profiles"): in a
// process that has run a receiver alone and then a sender and a receiver together, a forced
// (memory-reducing) full GC leaves our later streams 1.5x to 1.8x slower in CPU per message. The
// collections a process makes on its own do not. Steps: `2` = PULL here, PUSH in a child process;
// `1` = both here. Each step streams 16-byte messages over ipc four times and prints the rate and
// this process's CPU per message.
//
//   node --expose-gc --import tsx bench/forced-gc-probe.ts 2,1,2,1          (a forced GC after each step)
//   node --expose-gc --import tsx bench/forced-gc-probe.ts 2,1,2,1 --no-gc  (none)

import { fork } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pull, Push } from '../src/index.js';

const N = 400_000;
const payload = Buffer.alloc(16, 1);

if (process.argv[2] === '--sender') {
  // The child: a PUSH connected to the parent's PULL, sending N messages on each request.
  const push = new Push();
  push.connect(process.argv[3] as string);
  process.on('message', async (n: number) => {
    for (let i = 0; i < n; i++) await push.send(payload);
    process.send!('sent');
  });
  process.on('disconnect', () => push.close());
  process.send!('ready');
} else {
  const steps = (process.argv[2] ?? '2,1,2,1').split(',');
  const forceGc = !process.argv.includes('--no-gc');
  const gc = (globalThis as { gc?: () => void }).gc;
  if (forceGc && gc === undefined) throw new Error('run with node --expose-gc (or pass --no-gc)');
  const cpu = (): number => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  for (const [k, step] of steps.entries()) {
    const pull = new Pull();
    await pull.bind(`ipc://${join(tmpdir(), `forced-gc-probe-${process.pid}-${k}`)}`);
    let send: () => Promise<unknown>;
    let close: () => void;
    if (step === '2') {
      const child = fork(new URL(import.meta.url).pathname, ['--sender', pull.lastEndpoint!], { execArgv: ['--import', 'tsx'] });
      await new Promise((r) => child.once('message', r));
      send = () => new Promise((r) => {
        child.once('message', r);
        child.send(N);
      });
      close = () => child.disconnect();
    } else {
      const push = new Push();
      push.connect(pull.lastEndpoint!);
      send = async () => {
        for (let i = 0; i < N; i++) await push.send(payload);
      };
      close = () => push.close();
    }
    const rates: number[] = [];
    const c0 = cpu();
    for (let r = 0; r < 4; r++) {
      const received = (async () => {
        await pull.receive();
        const t0 = performance.now();
        for (let i = 1; i < N; i++) await pull.receive();
        return performance.now() - t0;
      })();
      const [ms] = await Promise.all([received, send()]);
      rates.push(Math.round(N / ms));
    }
    console.log(`step ${step}: ${rates.join(', ')} k msg/s; ${(((cpu() - c0) * 1000) / (4 * N)).toFixed(0)} ns of CPU per message here`);
    close();
    pull.close();
    await new Promise((r) => setTimeout(r, 100));
    if (forceGc) gc!();
  }
}
