// Churn, the short run, in a process of its own (churn-child.ts): 500 connect/handshake/round-trip/
// close cycles per transport and 500 socket create/close cycles end with no more open descriptors,
// handles, timers or running actors than they began with, and every socket and actor they made is
// garbage collected. The heap is weighed where cycles are cheap enough to warm V8 up first (the
// first few thousand cycles grow the heap by hundreds of bytes each while code is compiled and
// optimised): 5,000 inproc cycles and 5,000 create/close cycles, at most 50 B each.
// `npm run reliability` runs 20,000 cycles per transport and 5,000 create/close cycles.

import { describe, expect, it } from 'vitest';
import { churnInChild } from './churn.js';
import type { ChurnReport } from './churn.js';

const CYCLES = 500;
const HEAP_BYTES_PER_CYCLE = 50;

function expectNothingLeft(r: ChurnReport): void {
  const { heap: _, ...counts } = r.growth;
  // On a failure, the actors still in memory by id and status (before and after) say which grew.
  expect({ what: r.what, ...counts }, JSON.stringify(r.actorsInMemory ?? {})).toEqual({ what: r.what, fds: 0, connections: 0, handles: 0, timers: 0, actors: 0, actorObjects: 0, kinds: {} });
  expect(r.socketsWatched).toBeGreaterThan(0);
  expect(r.socketsRetained).toBe(0);
}

describe('churn leaves nothing behind', () => {
  it(`${CYCLES} connect/handshake/round-trip/close cycles over tcp, ipc and inproc, and ${CYCLES} create/close of every socket type`, async () => {
    const reports = await churnInChild([
      { kind: 'connect', transport: 'tcp', cycles: CYCLES },
      { kind: 'connect', transport: 'ipc', cycles: CYCLES },
      { kind: 'connect', transport: 'inproc', cycles: CYCLES },
      { kind: 'create', cycles: CYCLES },
    ]);
    for (const r of reports) expectNothingLeft(r);
  }, 60_000);

  it(`after a warm-up, the heap grows by at most ${HEAP_BYTES_PER_CYCLE} B a cycle (5,000 inproc connect cycles, 5,000 create/close)`, async () => {
    const reports = await churnInChild([
      { kind: 'connect', transport: 'inproc', cycles: 5000, warmup: 5000 },
      { kind: 'create', cycles: 5000, warmup: 10_000 },
    ]);
    for (const r of reports) {
      expectNothingLeft(r);
      expect(r.heapPerCycle, r.what).toBeLessThanOrEqual(HEAP_BYTES_PER_CYCLE);
    }
  }, 60_000);
});
