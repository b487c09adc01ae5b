// The fast edges (machines/fast-edges.ts) keep target snapshots per machine context in a WeakMap.
// Closed sockets' entries were left for the garbage collector, and between full collections they
// piled up: V8 grows a WeakMap's table as entries arrive and shrinks it on delete() only, not when a
// collection clears entries, so 10,000 REQ connect/round-trip/close cycles left a 262 KB table in
// the large object space for good (bench/scale.ts's churn row read 46-55 B of heap a cycle, against
// issue 11's 50 B). A machine that reaches its final state now takes its context out at once.
// In a child of its own, for a heap that only these cycles use.

import { describe, expect, it } from 'vitest';
import { runNode } from '../helpers/child.js';

const FIXTURE = new URL('./fixtures/churn-large-objects.ts', import.meta.url).pathname;
/** V8 puts an object in the large object space from 128 KB; the old table reached 262 KB. */
const LARGE_OBJECT = 128 * 1024;

describe('closing sockets leaves no table behind', () => {
  it('10,000 connect/message/close cycles (REQ to REP, PUSH to PULL, DEALER to ROUTER) grow no large object', async () => {
    const r = await runNode(['--expose-gc', '--import', 'tsx', FIXTURE, 'req-rep', 'push-pull', 'dealer-router'], 60_000);
    expect({ exitCode: r.exitCode, signal: r.signal }, r.stderr).toEqual({ exitCode: 0, signal: null });
    const grown = JSON.parse(r.stdout) as Record<string, number>;
    expect(Object.keys(grown)).toEqual(['req-rep', 'push-pull', 'dealer-router']);
    for (const [kind, bytes] of Object.entries(grown)) expect({ kind, below: bytes < LARGE_OBJECT }, `${kind}: ${bytes} B`).toEqual({ kind, below: true });
  }, 90_000);
});
