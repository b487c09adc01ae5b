// The peer table every socket machine keeps (machines/peers.ts), against a plain model: a Map of
// entries in attach order. Up to 8 peers it finds one by scanning its list, past that by an index
// made then; the runs cross that line both ways, so both lookups and the switch are covered.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PeerEntry } from '../../machines/peers.js';
import { PeerTable } from '../../machines/peers.js';

type Op =
  | { op: 'add'; id: number; ready: boolean }
  | { op: 'delete'; id: number }
  | { op: 'ready'; id: number; ready: boolean }
  | { op: 'next' };

const ids = fc.integer({ min: 1, max: 24 });
const ops = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('add' as const), id: ids, ready: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), id: ids }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('ready' as const), id: ids, ready: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('next' as const) }) },
  ),
  { maxLength: 120 },
);

function entry(id: number, ready: boolean): PeerEntry {
  return { id, endpoint: `inproc://p${id}`, peerType: 'DEALER', ready };
}

describe('PeerTable', () => {
  it('agrees with a plain map of entries whatever the order of attaches, detaches and HWM edges', () => {
    fc.assert(
      fc.property(ops, (run) => {
        const table = new PeerTable();
        const model = new Map<number, boolean>();
        for (const step of run) {
          switch (step.op) {
            case 'add':
              table.add(entry(step.id, step.ready));
              if (!model.has(step.id)) model.set(step.id, step.ready);
              break;
            case 'delete': {
              const gone = table.delete(step.id);
              expect(gone?.id).toBe(model.has(step.id) ? step.id : undefined);
              model.delete(step.id);
              break;
            }
            case 'ready': {
              const changed = table.setReady(step.id, step.ready);
              const was = model.get(step.id);
              expect(changed).toBe(was !== undefined && was !== step.ready);
              if (was !== undefined) model.set(step.id, step.ready);
              break;
            }
            case 'next': {
              const next = table.nextReady();
              if (next === undefined) expect([...model.values()].some((r) => r)).toBe(false);
              else expect(model.get(next.id)).toBe(true);
              break;
            }
          }
          expect(table.size).toBe(model.size);
          expect(table.readyCount).toBe([...model.values()].filter((r) => r).length);
          for (let id = 1; id <= 24; id++) {
            expect(table.has(id)).toBe(model.has(id));
            expect(table.get(id)?.ready).toBe(model.get(id));
          }
          expect(table.list().map((e) => e.id)).toEqual([...model.keys()].sort((a, b) => a - b));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('goes round the ready peers in turn with 20 peers (past the scan), skipping the mute ones', () => {
    const table = new PeerTable();
    for (let id = 1; id <= 20; id++) table.add(entry(id, true));
    for (let id = 2; id <= 20; id += 2) table.setReady(id, false);
    const seen = new Set<number>();
    for (let i = 0; i < 10; i++) seen.add((table.nextReady() as PeerEntry).id);
    expect([...seen].sort((a, b) => a - b)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    table.delete(7);
    expect(table.get(7)).toBeUndefined();
    expect(table.get(19)?.id).toBe(19);
    expect(table.readyCount).toBe(9);
  });
});
