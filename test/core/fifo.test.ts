// The queue of XPUB notices, monitor receives and v5-compat sends (src/core/fifo.ts): first in, first
// out, and the spent front is cut off without reordering anything.

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

  it('keeps its order across many cuts of a long spent front, with pushes between', () => {
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
    // still come in.
    const taken: number[] = [];
    for (let round = 0; q.size > 0; round++) {
      if (round < 5000) push();
      for (let k = 0; k < 2 && q.size > 0; k++) {
        expect(q.peek()).toBe(model[0]);
        taken.push(q.shift()!.n);
        model.shift();
      }
      expect(q.size).toBe(model.length);
    }
    // Strictly increasing: nothing came back out of order or twice.
    for (let i = 1; i < taken.length; i++) expect(taken[i]).toBeGreaterThan(taken[i - 1]!);
    expect(taken.length).toBe(next);
    expect(q.shift()).toBeUndefined();
  });
});
