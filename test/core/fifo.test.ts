// The queue of waiting calls (src/core/fifo.ts): first in, first out, holes left by remove are
// stepped over, and the spent front is cut off without reordering anything.

import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/core/fifo.js';

const box = (n: number) => ({ n });

describe('Fifo', () => {
  it('gives entries back in the order pushed, and reads empty when done', () => {
    const q = new Fifo<{ n: number }>();
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
    expect(q.peek()).toBeUndefined();
    const items = [box(1), box(2), box(3)];
    for (const x of items) q.push(x);
    expect(q.size).toBe(3);
    expect(q.peek()).toBe(items[0]);
    expect([q.shift(), q.shift()]).toEqual([items[0], items[1]]);
    q.push(box(4));
    expect(q.toArray().map((x) => x.n)).toEqual([3, 4]);
    expect([q.shift()!.n, q.shift()!.n, q.shift()]).toEqual([3, 4, undefined]);
    expect(q.size).toBe(0);
  });

  it('remove takes an entry out from anywhere; shift and peek step over the hole', () => {
    const q = new Fifo<{ n: number }>();
    const items = Array.from({ length: 6 }, (_, i) => box(i));
    for (const x of items) q.push(x);
    expect(q.remove(items[2]!)).toBe(true);
    expect(q.remove(items[3]!)).toBe(true);
    expect(q.remove(items[3]!)).toBe(false); // not queued any more
    expect(q.remove(box(9))).toBe(false);
    expect(q.size).toBe(4);
    expect(q.remove(items[0]!)).toBe(true); // the head
    expect(q.peek()).toBe(items[1]);
    expect(q.shift()).toBe(items[1]);
    expect(q.peek()).toBe(items[4]); // past both holes
    expect(q.toArray()).toEqual([items[4], items[5]]);
    expect(q.drain()).toEqual([items[4], items[5]]);
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  it('keeps its order across the cut of a long spent front, with holes and pushes between', () => {
    const q = new Fifo<{ n: number }>();
    const taken: number[] = [];
    let next = 0;
    // Pushes two, takes one, and removes every seventh entry as it goes: the queue grows to
    // thousands, so the front is cut several times.
    const queued: { n: number }[] = [];
    for (let round = 0; round < 5000; round++) {
      for (let k = 0; k < 2; k++) {
        const x = box(next++);
        q.push(x);
        queued.push(x);
      }
      if (round % 7 === 0) {
        const victim = queued[Math.floor(queued.length / 2)]!;
        if (q.remove(victim)) queued.splice(queued.indexOf(victim), 1);
      }
      taken.push(q.shift()!.n);
      queued.shift();
    }
    while (q.size > 0) taken.push(q.shift()!.n);
    // Strictly increasing: nothing came back out of order, twice, or after its removal.
    for (let i = 1; i < taken.length; i++) expect(taken[i]).toBeGreaterThan(taken[i - 1]!);
    expect(taken.length).toBe(10000 - Math.ceil(5000 / 7));
  });
});
