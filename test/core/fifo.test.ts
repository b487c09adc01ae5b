// The queue of waiting calls (src/core/fifo.ts): first in, first out, an entry removed from anywhere
// is gone, and the spent front is cut off without reordering anything.

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

  it('remove takes an entry out from anywhere; shift and peek go on from the next one', () => {
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
    expect(q.peek()).toBe(items[4]); // 2 and 3 were removed
    expect(q.toArray()).toEqual([items[4], items[5]]);
    expect(q.drain()).toEqual([items[4], items[5]]);
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  it('keeps its order across many cuts of a long spent front, with pushes and removals between', () => {
    const q = new Fifo<{ n: number }>();
    const model: { n: number }[] = []; // the same entries in a plain array
    let next = 0;
    const push = () => {
      const x = box(next++);
      q.push(x);
      model.push(x);
    };
    for (let i = 0; i < 6000; i++) push();
    // Takes two for each one pushed, so the front is spent and cut again and again while entries
    // still come in, and removes one from the middle every seventh round.
    const taken: number[] = [];
    let removed = 0;
    for (let round = 0; q.size > 0; round++) {
      if (round < 5000) push();
      if (round % 7 === 0 && model.length > 2) {
        const victim = model[model.length >> 1]!;
        expect(q.remove(victim)).toBe(true);
        model.splice(model.indexOf(victim), 1);
        removed++;
      }
      for (let k = 0; k < 2 && q.size > 0; k++) {
        expect(q.peek()).toBe(model[0]);
        taken.push(q.shift()!.n);
        model.shift();
      }
      expect(q.size).toBe(model.length);
    }
    // Strictly increasing: nothing came back out of order, twice, or after its removal.
    for (let i = 1; i < taken.length; i++) expect(taken[i]).toBeGreaterThan(taken[i - 1]!);
    expect(taken.length).toBe(next - removed);
    expect(q.shift()).toBeUndefined();
  });
});
