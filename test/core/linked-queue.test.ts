// The queue of a socket's waiting calls (src/core/linked-queue.ts): first in, first out; an entry
// leaves from anywhere at once, and one that has left is held by nothing in the queue.

import { describe, expect, it } from 'vitest';
import { LinkedQueue } from '../../src/core/linked-queue.js';
import type { Linked } from '../../src/core/linked-queue.js';

interface Entry extends Linked<Entry> {
  n: number;
}
const entry = (n: number): Entry => ({ n, prev: undefined, next: undefined });
const ns = (q: LinkedQueue<Entry>) => q.toArray().map((e) => e.n);

describe('LinkedQueue', () => {
  it('gives entries back in the order pushed, and reads empty when done', () => {
    const q = new LinkedQueue<Entry>();
    expect([q.size, q.peek(), q.shift()]).toEqual([0, undefined, undefined]);
    const e = [entry(1), entry(2), entry(3)];
    for (const x of e) q.push(x);
    expect([q.size, q.peek()]).toEqual([3, e[0]]);
    expect([q.shift(), q.shift()]).toEqual([e[0], e[1]]);
    q.push(entry(4));
    expect(ns(q)).toEqual([3, 4]);
    expect(q.drain().map((x) => x.n)).toEqual([3, 4]);
    expect([q.size, q.peek(), q.shift()]).toEqual([0, undefined, undefined]);
  });

  it('remove takes an entry out from the front, the back or between; an entry not queued is refused', () => {
    const q = new LinkedQueue<Entry>();
    const e = Array.from({ length: 6 }, (_, i) => entry(i));
    for (const x of e) q.push(x);
    expect(q.remove(e[2]!)).toBe(true);
    expect(q.remove(e[2]!)).toBe(false); // not queued any more
    expect(q.remove(entry(9))).toBe(false); // never queued
    expect(q.remove(e[5]!)).toBe(true); // the back
    expect(q.remove(e[0]!)).toBe(true); // the front
    expect([q.size, q.peek(), ns(q)]).toEqual([3, e[1], [1, 3, 4]]);
    q.push(e[5]!); // queued again, at the back
    expect(ns(q)).toEqual([1, 3, 4, 5]);
    expect([q.shift(), q.shift(), q.shift(), q.shift(), q.shift()]).toEqual([e[1], e[3], e[4], e[5], undefined]);
    expect(q.remove(e[4]!)).toBe(false); // taken already
  });

  it('matches a plain array through 20,000 random pushes, shifts, removals and drains', () => {
    const q = new LinkedQueue<Entry>();
    const model: Entry[] = [];
    const gone: Entry[] = [];
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (let step = 0, next = 0; step < 20_000; step++) {
      const r = random(100);
      if (r < 45) {
        const x = entry(next++);
        q.push(x);
        model.push(x);
      } else if (r < 70) {
        const x = model.shift();
        expect(q.shift()).toBe(x);
        if (x !== undefined) gone.push(x);
      } else if (r < 95 && model.length > 0) {
        const [x] = model.splice(random(model.length), 1);
        expect(q.remove(x!)).toBe(true);
        gone.push(x!);
      } else if (r < 98 && gone.length > 0) {
        expect(q.remove(gone[random(gone.length)]!)).toBe(false);
      } else if (r >= 99) {
        expect(q.drain()).toEqual(model.splice(0));
      }
      expect(q.size).toBe(model.length);
      expect(q.peek()).toBe(model[0]);
    }
    expect(q.toArray()).toEqual(model);
  });

  // Behind a call that never leaves, calls that come and go (aborted, timed out) must not pile up.
  it('an entry that has left is held by nothing in the queue, whatever waits in front of it', () => {
    const q = new LinkedQueue<Entry>();
    const stuck = entry(-1);
    q.push(stuck);
    const middle = entry(-2);
    q.push(middle);
    for (let i = 0; i < 100_000; i++) {
      const x = entry(i);
      q.push(x);
      expect(q.remove(x)).toBe(true);
      expect([x.prev, x.next]).toEqual([undefined, undefined]); // nothing of the queue's left in it
      if (i % 1000 === 0) {
        expect(q.remove(middle)).toBe(true); // and one between two that stay
        q.push(middle);
      }
    }
    expect([q.size, ns(q)]).toEqual([2, [-1, -2]]);
    expect([stuck.prev, stuck.next, middle.prev, middle.next]).toEqual([undefined, middle, stuck, undefined]);
  });
});
