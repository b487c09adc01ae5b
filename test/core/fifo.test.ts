// The queue of waiting calls (src/core/fifo.ts): first in, first out, an entry removed from anywhere
// (by the ticket its push gave) is gone, and the spent front is cut off without reordering anything.

import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/core/fifo.js';
import { countArrayWork } from '../helpers/walks.js';

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
    const tickets = items.map((x) => q.push(x));
    expect(q.remove(items[2]!, tickets[2]!)).toBe(true);
    expect(q.remove(items[3]!, tickets[3]!)).toBe(true);
    expect(q.remove(items[3]!, tickets[3]!)).toBe(false); // not queued any more
    expect(q.remove(box(9), tickets[4]!)).toBe(false); // not the entry of that ticket
    expect(q.remove(items[4]!, tickets[5]!)).toBe(false);
    expect(q.remove(items[4]!, 99)).toBe(false);
    expect(q.size).toBe(4);
    expect(q.remove(items[0]!, tickets[0]!)).toBe(true); // the head
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
    const tickets = new Map<{ n: number }, number>();
    let next = 0;
    const push = () => {
      const x = box(next++);
      tickets.set(x, q.push(x));
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
        expect(q.remove(victim, tickets.get(victim)!)).toBe(true);
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

  // remove searched the queue from the head and spliced the entry out: 128,000 waiting sends aborted
  // from the middle outward cost 142 µs each.
  it('removing from anywhere moves and searches no entry; tickets stay good across cuts, drains and empties', () => {
    const q = new Fifo<{ n: number }>();
    const items = Array.from({ length: 20_000 }, (_, i) => box(i));
    const tickets = items.map((x) => q.push(x));
    const work = countArrayWork(['indexOf', 'includes', 'splice', 'shift'], () => {
      // From the middle outward, then every other one of the rest from the back.
      for (let k = 0; k < 5000; k++) {
        const i = 10_000 + (k % 2 === 0 ? k / 2 : -(k + 1) / 2);
        expect(q.remove(items[i]!, tickets[i]!)).toBe(true);
      }
      for (let i = 19_999; i >= 0; i -= 2) if (i < 7500 || i >= 12_500) expect(q.remove(items[i]!, tickets[i]!)).toBe(true);
    }, 64);
    expect(work).toBe(0);
    const left = items.filter((x) => x.n % 2 === 0 && (x.n < 7500 || x.n >= 12_500));
    expect(q.size).toBe(left.length);
    expect(q.toArray()).toEqual(left);
    // Taking half cuts the spent front (holes and all); the others' tickets still find them.
    for (let k = 0; k < left.length / 2; k++) expect(q.shift()).toBe(left[k]);
    const last = left[left.length - 1]!;
    expect(q.remove(last, tickets[last.n]!)).toBe(true);
    expect(q.remove(left[0]!, tickets[0]!)).toBe(false); // taken already
    expect(q.drain()).toEqual(left.slice(left.length / 2, -1));
    // After a drain, and after the queue empties, old tickets find nothing and new ones work.
    const a = box(-1);
    const ta = q.push(a);
    expect(q.remove(items[2]!, tickets[2]!)).toBe(false);
    expect(q.shift()).toBe(a);
    expect(q.remove(a, ta)).toBe(false);
    const b = box(-2);
    const c = box(-3);
    const tb = q.push(b);
    q.push(c);
    expect(q.remove(b, ta)).toBe(false); // a's ticket is not b's
    expect(q.remove(c, tb)).toBe(false);
    expect(q.remove(b, tb)).toBe(true);
    expect([q.peek(), q.size]).toEqual([c, 1]);
  });
});
