// The supervisor's connection table: its indexes answer an unbind, a socket's close and a bind that
// connects were waiting for, each by lookup (issue 11: no scan of everything held).

import { describe, expect, it } from 'vitest';
import { ConnectionTable } from '../../machines/supervisor.js';

describe('ConnectionTable', () => {
  it('boundThrough: the connections through one name of one binder, whichever way they got their binder', () => {
    const t = new ConnectionTable();
    t.add('c1', { name: 'a', connectorId: 10, binderId: 1 });
    t.add('c2', { name: 'b', connectorId: 11, binderId: 1 }); // the same binder, another name
    t.add('c3', { name: 'a', connectorId: 12 }); // a connect before the bind
    t.add('c4', { name: 'a', connectorId: 1, binderId: 2 }); // binder 1 as a connector, through another binder's 'a'
    expect(t.boundThrough('a', 1)).toEqual(['c1']);
    expect(t.waitingFor('a')).toEqual(['c3']);
    t.bindWaiting('a', 1);
    expect(t.boundThrough('a', 1).sort()).toEqual(['c1', 'c3']);
    expect(t.boundThrough('b', 1)).toEqual(['c2']);
    expect(t.boundThrough('a', 2)).toEqual(['c4']);
    expect(t.ofSocket(1).sort()).toEqual(['c1', 'c2', 'c3', 'c4']);
    t.delete('c1');
    expect(t.boundThrough('a', 1)).toEqual(['c3']);
    const copy = t.clone();
    t.delete('c3');
    expect(t.boundThrough('a', 1)).toEqual([]);
    expect(copy.boundThrough('a', 1)).toEqual(['c3']);
    expect(t.size).toBe(2);
  });

  it('answers by lookup: unbinding one name of a binder with 2,000 connections reads no other connection', () => {
    // Each entry counts the reads of its name: a table that searched the binder's connections for
    // the name (as before 4d5d9a4) reads all 2,000 of them per unbind.
    let reads = 0;
    const entry = (name: string, connectorId: number, binderId?: number) => {
      const e = { connectorId, binderId } as { name: string; connectorId: number; binderId?: number };
      Object.defineProperty(e, 'name', { get: () => (reads++, name), enumerable: true });
      return e;
    };
    const t = new ConnectionTable();
    for (let i = 0; i < 2000; i++) t.add(`c${i}`, entry(`n${i}`, 100 + i, 1));
    for (let i = 0; i < 2000; i++) t.add(`w${i}`, entry('later', 5000 + i));
    reads = 0;
    expect(t.boundThrough('n7', 1)).toEqual(['c7']);
    expect(t.ofSocket(107)).toEqual(['c7']);
    expect(t.waitingFor('later')).toHaveLength(2000);
    t.bindWaiting('later', 2);
    expect(t.boundThrough('later', 2)).toHaveLength(2000);
    t.delete('c7');
    expect(t.boundThrough('n7', 1)).toEqual([]);
    expect(reads).toBeLessThanOrEqual(1); // delete reads its own entry's name once
  });
});
