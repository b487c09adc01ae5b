// What the benchmark children share (child.ts, security-child.ts, scale-child.ts, memory-child.ts):
// their JSON-lines protocol with the parent, the commands every role answers the same way, and how
// a child dies.

import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { BenchSocket } from './impl.js';

/** A command from the parent. */
export interface Command {
  cmd: string;
  count?: number;
  [field: string]: unknown;
}

export type Handlers = Record<string, (c: Command) => Promise<void>>;

/** One event to the parent, as a JSON line on stdout. */
export function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

/** Reports the error to the parent and exits. */
export function fail(e: unknown): never {
  const err = e as { message?: unknown; code?: unknown };
  emit('error', { message: String(err?.message ?? e), code: err?.code });
  process.exit(1);
}

/** `usage`: the CPU time the whole process (all its threads) has used, in µs, and its event loop's busy and idle time, in ms. */
export async function usage(): Promise<void> {
  const { user, system } = process.cpuUsage();
  const { active, idle } = performance.eventLoopUtilization();
  emit('usage', { cpuMicros: user + system, loopActiveMs: active, loopIdleMs: idle });
}

/**
 * The commands of a one-way stream and of CPU accounting: `usage` (CPU and event-loop time so far),
 * `expect` (receive `count` messages, timed from the first to the last), `send` (send `count`).
 */
export function streamHandlers(socket: () => BenchSocket, payload: Uint8Array): Handlers {
  return {
    usage,
    async expect({ count = 0 }) {
      const s = socket();
      emit('armed');
      await s.receive();
      const t0 = performance.now();
      let bytes = 0;
      for (let i = 1; i < count; i++) {
        const msg = await s.receive();
        for (const f of msg) bytes += f.length;
      }
      const seconds = (performance.now() - t0) / 1000;
      emit('done', { count, seconds, rate: (count - 1) / seconds, bytesPerSecond: bytes / seconds });
    },
    async send({ count = 0 }) {
      const s = socket();
      for (let i = 0; i < count; i++) await s.send(payload);
      emit('sent', { count });
    },
  };
}

/**
 * Runs the parent's commands from stdin until stdin ends: one at a time, or with `concurrent`
 * each as it arrives (a child holding both ends of a benchmark receives on one while it sends on
 * the other); a concurrent command that fails ends the child as `fail` does.
 */
export async function serveCommands(handlers: Handlers, { concurrent = false } = {}): Promise<void> {
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === '') continue;
    const c = JSON.parse(line) as Command;
    const h = handlers[c.cmd];
    if (h === undefined) throw new Error(`unknown command ${JSON.stringify(c)}`);
    if (concurrent) h(c).catch(fail);
    else await h(c);
  }
}

/** Runs a child's main: exit 0 when it returns, report and exit 1 when it throws. */
export function runChild(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (e) => fail(e),
  );
}
