// Why the tcp/ipc 1 KiB rows read lower in the table than alone (bench/README, "Latest table"): a
// receiving process that has streamed 16-byte messages before receives 1 KiB messages 15-40 %
// slower, and makes dozens of full collections where a fresh one makes almost none. Run with
// `fresh` (nothing before) or `after16` (first 1,000,000 16-byte messages); then seven rounds of
// 300,000 1 KiB messages from a child PUSH over tcp. Prints each round's rate and, for the 1 KiB
// rounds, the collections by kind (minor = scavenge, major = mark-compact).
//
//   node --import tsx bench/history-probe.ts fresh
//   node --import tsx bench/history-probe.ts after16
//   node --max-semi-space-size=2 --import tsx bench/history-probe.ts after16   (a young generation held small)

import { fork } from 'node:child_process';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { Pull, Push } from '../src/index.js';
import { median } from './lib/benchmark.js';

if (process.argv[2] === '--sender') {
  process.on('message', async ({ endpoint, size, count }: { endpoint: string; size: number; count: number }) => {
    const push = new Push();
    push.connect(endpoint);
    const body = Buffer.alloc(size, 1);
    for (let i = 0; i < count; i++) await push.send(body);
    push.close(); // linger: everything queued still goes
  });
  process.on('disconnect', () => process.exit(0));
} else {
  const mode = process.argv[2] ?? 'fresh';
  if (mode !== 'fresh' && mode !== 'after16') throw new Error(`mode must be fresh or after16, not ${mode}`);
  const child = fork(new URL(import.meta.url).pathname, ['--sender'], { execArgv: ['--import', 'tsx'] });

  /** Receives `count` messages of `size` bytes sent by the child; returns messages per second. */
  const stream = async (size: number, count: number): Promise<number> => {
    const pull = new Pull();
    await pull.bind('tcp://127.0.0.1:*');
    const t0 = performance.now();
    child.send({ endpoint: pull.lastEndpoint, size, count });
    for (let i = 0; i < count; i++) await pull.receive();
    const rate = count / ((performance.now() - t0) / 1000);
    pull.close();
    return rate;
  };

  if (mode === 'after16') console.log(`16 B: ${(await stream(16, 1_000_000) / 1e3).toFixed(0)}k msg/s`);
  const kinds = { minor: 0, major: 0, ms: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) kinds.minor++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) kinds.major++;
      kinds.ms += e.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const rates: number[] = [];
  for (let r = 0; r < 7; r++) rates.push(await stream(1024, 300_000));
  observer.disconnect();
  console.log(`1 KiB (${mode}): ${rates.map((x) => `${(x / 1e3).toFixed(0)}k`).join(' ')} msg/s, median ${(median(rates) / 1e3).toFixed(0)}k`);
  console.log(`collections in the 1 KiB rounds: ${kinds.minor} minor, ${kinds.major} major, ${kinds.ms.toFixed(0)} ms in all`);
  child.disconnect();
}
