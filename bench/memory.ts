// Memory rows (issue 15 item 4): bytes per idle socket and per connected pair, and what a stalled
// receiver holds against the bound its HWM sets. Every round is a fresh process per implementation
// (memory-child.ts), so no round inherits another's heap; the rows have no warm-up round, and the
// two implementations' rounds run at the same time (memory does not depend on the load).
// The figure in the table is RSS growth, the one measure that sees libzmq's native memory; the JS
// side's own figure (V8 heap used + external) is kept beside it for both.

import type { Benchmark, RoundResult, Session } from './lib/benchmark.js';
import { Child } from './lib/child.js';
import type { ChildEvent } from './lib/child.js';
import { missingTypes, probeTransport } from './lib/impl.js';
import type { Impl, ImplName } from './lib/impl.js';

const SCRIPT = new URL('./memory-child.ts', import.meta.url);
/** Messages of this size fill the stalled pipes: big enough that the HWM bound dwarfs fixed costs. */
const STALL_SIZE = 16_384;
/** libzmq's default SNDHWM and RCVHWM, which both implementations keep in the stall rows. */
const HWM = 1000;

function launch(impl: ImplName, role: string, args: Record<string, string | number>): Promise<{ child: Child; ready: ChildEvent }> {
  const argv = ['--impl', impl, '--role', role];
  for (const [k, v] of Object.entries(args)) argv.push(`--${k}`, String(v));
  return Child.launch({ label: `${impl}:memory-${role}`, script: SCRIPT, args: argv, nodeArgs: ['--expose-gc'] });
}

async function run(child: Child): Promise<ChildEvent> {
  child.send({ cmd: 'run' });
  return child.expect('done', 60_000);
}

/** Each round: a fresh child with `role`, one `run`, its RSS growth (per item) as the figure. */
function perItem(name: string, description: string, unit: string, role: string, count: number, transport: 'inproc' | 'tcp'): Benchmark {
  return {
    name,
    description,
    unit,
    better: 'lower',
    warmup: false,
    parallel: true,
    unavailable: async (impl: Impl) => missingTypes(impl, ['Dealer', 'Pair']) ?? (transport === 'tcp' ? await probeTransport(impl, 'tcp') : undefined),
    // The count follows the scale down to a tenth (--quick), no further: RSS moves by a few hundred
    // KB from run to run, a quarter of what a tenth of the items adds; the full count is 20x that.
    async open(impl, scale): Promise<Session> {
      const n = Math.round(count * Math.min(1, Math.max(scale, 0.1)));
      return {
        async round(): Promise<RoundResult> {
          const { child } = await launch(impl.name, role, { count: n, transport });
          try {
            const done = await run(child);
            return { value: done.rss as number, extra: { heap: done.heap as number, count: n } };
          } finally {
            await child.close();
          }
        },
        close: async () => {},
      };
    },
  };
}

/** A Session whose every round is `value`: a bound computed, not measured, in the ceiling's place. */
function fixed(value: number): Session {
  return { round: async () => value, close: async () => {} };
}

/**
 * A PULL that never reads, a PUSH that sends fresh 16 KiB buffers until a send has waited 200 ms:
 * the memory that stays held (MB) against the HWM bound (the ceiling column). Over inproc both are
 * in one process and the bound is the pipe, SNDHWM + RCVHWM messages (libzmq's inproc pipe, which
 * ours follows); over tcp the figure is the receiving process alone and the bound its RCVHWM.
 */
function stalled(transport: 'inproc' | 'tcp'): Benchmark {
  const boundMessages = transport === 'inproc' ? 2 * HWM : HWM;
  const bound = (boundMessages * STALL_SIZE) / 1e6;
  return {
    name: `${transport}-stalled-receiver`,
    description: `PUSH -> PULL over ${transport}, the PULL never reads, 16 KiB messages until the PUSH blocks; MB held by ` +
      (transport === 'inproc' ? 'the process' : 'the receiving process') + `, against the HWM bound (${boundMessages} x 16 KiB)`,
    unit: 'MB',
    better: 'lower',
    warmup: false,
    parallel: true,
    unavailable: async (impl: Impl) => missingTypes(impl, ['Push', 'Pull']) ?? (transport === 'tcp' ? await probeTransport(impl, 'tcp') : undefined),
    ceiling: { label: `HWM bound, ${boundMessages} x 16 KiB`, open: async () => fixed(bound) },
    async open(impl): Promise<Session> {
      return {
        async round(): Promise<RoundResult> {
          if (transport === 'inproc') {
            const { child } = await launch(impl.name, 'stall', { size: STALL_SIZE });
            try {
              const done = await run(child);
              return { value: (done.rss as number) / 1e6, extra: { heapMB: (done.heap as number) / 1e6, sent: done.sent as number, stalled: done.stalled ? 1 : 0 } };
            } finally {
              await child.close();
            }
          }
          const receiver = await launch(impl.name, 'stall-pull', { bind: 'tcp://127.0.0.1:*' });
          try {
            const sender = await launch(impl.name, 'stall-push', { connect: receiver.ready.endpoint as string, size: STALL_SIZE });
            try {
              const pushed = await run(sender.child);
              const held = await run(receiver.child);
              return {
                value: (held.rss as number) / 1e6,
                extra: {
                  heapMB: (held.heap as number) / 1e6,
                  sent: pushed.sent as number,
                  stalled: pushed.stalled ? 1 : 0,
                  senderMB: (pushed.rss as number) / 1e6,
                  senderHeapMB: (pushed.heap as number) / 1e6,
                },
              };
            } finally {
              await sender.child.close();
            }
          } finally {
            await receiver.child.close();
          }
        },
        close: async () => {},
      };
    },
  };
}

export const memoryBenchmarks: Benchmark[] = [
  perItem('memory-idle-socket', 'bytes per idle socket: 5,000 DEALERs created, neither bound nor connected (RSS growth; heap beside)', 'B/socket', 'idle', 5_000, 'inproc'),
  perItem('memory-pair-inproc', 'bytes per connected pair: 1,000 PAIR pairs over inproc, one message each way (RSS growth; heap beside)', 'B/pair', 'pairs', 1_000, 'inproc'),
  perItem('memory-pair-tcp', 'bytes per connected pair: 1,000 PAIR pairs over tcp in one process, one message each way (RSS growth; heap beside)', 'B/pair', 'pairs', 1_000, 'tcp'),
  stalled('inproc'),
  stalled('tcp'),
];
