// Issue 14: the tries keep byte runs on their edges (a radix tree), so a subscription costs about its
// own bytes. Properties against a plain model (per peer, a Map of topic -> count) over topics built to
// split runs mid-way, nest in one another and share long prefixes; the shape invariants after every
// step; and the heap a 10 MiB topic costs, after a full collection.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MultiTrie, SubscriptionTrie } from '../../src/core/trie.js';
import { shapeOf } from './trie-shape.js';
import { memoryNow, MiB } from '../hardening/lib/memory.js';

const hex = (u: Uint8Array): string => Array.from(u, (x) => x.toString(16).padStart(2, '0')).join('');
const startsWith = (data: Uint8Array, prefix: Uint8Array): boolean => {
  if (prefix.length > data.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
};
const byBytes = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0); // hex sorts as the bytes do

// Topics as runs from a few stems, cut anywhere: long shared prefixes that later topics leave mid-run,
// topics that are prefixes of others, the empty topic, and 0x00 / 0xFF bytes.
const STEMS = [
  new Uint8Array(0),
  Uint8Array.from('weather.oslo.temperature', (c) => c.charCodeAt(0)),
  Uint8Array.from('weather.bergen', (c) => c.charCodeAt(0)),
  new Uint8Array(300).fill(0x61),
  Uint8Array.from([0x00, 0xff, 0x00, 0xff, 0x00]),
];
const run = fc.tuple(fc.integer({ min: 0, max: STEMS.length - 1 }), fc.nat(), fc.nat()).map(([s, a, b]) => {
  const stem = STEMS[s];
  const from = stem.length === 0 ? 0 : a % stem.length;
  return stem.subarray(from, from + (b % (stem.length - from + 1)));
});
const topic = fc.array(run, { maxLength: 3 }).map((runs) => {
  const out = new Uint8Array(runs.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of runs) {
    out.set(r, at);
    at += r.length;
  }
  return out;
});

/** Messages to match: the topics held, each cut short and run on, plus a random one. */
function probes(held: Uint8Array[], extra: Uint8Array): Uint8Array[] {
  const out = [extra, new Uint8Array(0)];
  for (const t of held) {
    out.push(t, t.subarray(0, t.length >> 1));
    const longer = new Uint8Array(t.length + 2);
    longer.set(t);
    longer[t.length] = 0x2e;
    out.push(longer);
    if (t.length > 0) {
      const off = t.slice();
      off[t.length - 1] ^= 1;
      out.push(off);
    }
  }
  return out;
}

/** The buffers under the labels stay within about twice what the labels show (no 10 MiB kept for a byte). */
function expectTidy(shape: { nodes: number; labelBytes: number; bufferBytes: number }): void {
  expect(shape.bufferBytes).toBeLessThanOrEqual(2 * shape.labelBytes + 128 * shape.nodes);
}

describe('SubscriptionTrie with byte runs on its edges', () => {
  it('trie-compressed: agrees with a map of topic -> count over random subscribe/unsubscribe/match', () => {
    const op = fc.record({ kind: fc.constantFrom('add', 'add', 'remove', 'match'), topic, data: topic });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80, size: 'max' }), (ops) => {
        const trie = new SubscriptionTrie();
        const model = new Map<string, { topic: Uint8Array; count: number }>();
        for (const { kind, topic: t, data } of ops) {
          const k = hex(t);
          const entry = model.get(k);
          if (kind === 'add') {
            expect(trie.add(t)).toBe(entry === undefined);
            model.set(k, { topic: t.slice(), count: (entry?.count ?? 0) + 1 });
          } else if (kind === 'remove') {
            expect(trie.remove(t)).toBe(entry?.count === 1);
            if (entry !== undefined && --entry.count === 0) model.delete(k);
          }
          const held = [...model.values()].map((e) => e.topic);
          for (const m of kind === 'match' ? probes(held, data) : [data, t]) {
            expect(trie.matches(m)).toBe(held.some((p) => startsWith(m, p)));
          }
          expect(trie.count(t)).toBe(model.get(k)?.count ?? 0);
          expect(trie.size).toBe(model.size);
          expectTidy(shapeOf(trie));
        }
        const expected = [...model.keys()].sort(byBytes).map((k) => [k, model.get(k)!.count]);
        expect([...trie.entries()].map(([p, n]) => [hex(p), n])).toEqual(expected);
        expect([...trie.clone().entries()].map(([p, n]) => [hex(p), n])).toEqual(expected);
        expect(trie.toJSON()).toEqual(Object.fromEntries(expected));
        // Unsubscribing everything leaves the bare root.
        for (const [k, { topic: t, count }] of model) {
          for (let i = 0; i < count; i++) expect(trie.remove(t)).toBe(i === count - 1);
          expect(trie.count(t), k).toBe(0);
        }
        expect(trie.size).toBe(0);
        expect(shapeOf(trie)).toEqual({ nodes: 1, labelBytes: 0, bufferBytes: 0 });
      }),
      { numRuns: 150 },
    );
  });
});

describe('MultiTrie with byte runs on its edges', () => {
  it('trie-compressed: agrees with a per-peer map of topics over random subscribe/unsubscribe/peer-leave/match', () => {
    const peer = fc.integer({ min: 0, max: 3 });
    const op = fc.record({ kind: fc.constantFrom('add', 'add', 'add', 'remove', 'removePeer', 'match'), topic, peer, data: topic });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80, size: 'max' }), (ops) => {
        const trie = new MultiTrie<number>();
        // Per peer, topic (hex) -> count. A peer holds a topic at most once (mtrie is a set), so every
        // count is 1: subscribing twice changes nothing, and one unsubscribe ends it.
        const model = new Map<number, Map<string, number>>();
        const topics = new Map<string, Uint8Array>();
        const holders = (k: string): number[] => [...model].filter(([, m]) => m.has(k)).map(([p]) => p);
        for (const { kind, topic: t, peer: p, data } of ops) {
          const k = hex(t);
          const mine = model.get(p) ?? new Map<string, number>();
          model.set(p, mine);
          if (kind === 'add') {
            expect(trie.add(t, p)).toBe(holders(k).length === 0);
            mine.set(k, 1);
            topics.set(k, t.slice());
          } else if (kind === 'remove') {
            const last = mine.has(k) && holders(k).length === 1;
            expect(trie.remove(t, p)).toBe(last);
            mine.delete(k);
          } else if (kind === 'removePeer') {
            const orphans: string[] = [];
            trie.removePeer(p, (gone) => {
              expect(trie.count(gone)).toBe(0); // consistent already
              orphans.push(hex(gone));
            });
            const expected = [...mine.keys()].filter((x) => holders(x).length === 1).sort(byBytes);
            model.delete(p);
            expect(orphans).toEqual(expected); // in byte order
          } else {
            for (const m of probes([...topics.values()], data)) {
              const seen: number[] = [];
              trie.match(m, (q) => seen.push(q));
              const want = [...model].filter(([, held]) => [...held.keys()].some((x) => startsWith(m, topics.get(x)!))).map(([q]) => q);
              expect(seen.length).toBe(new Set(seen).size);
              expect(seen.sort()).toEqual(want.sort());
            }
          }
          expect(trie.count(t)).toBe(holders(k).length);
          expect(trie.has(t, p)).toBe(model.get(p)?.has(k) ?? false);
          expect(trie.size).toBe(new Set([...model.values()].flatMap((m) => [...m.keys()])).size);
          expect(trie.prefixesOf(p).map(hex)).toEqual([...(model.get(p)?.keys() ?? [])].sort(byBytes));
          expectTidy(shapeOf(trie));
        }
        const all = [...new Set([...model.values()].flatMap((m) => [...m.keys()]))].sort(byBytes);
        const entries = (tr: MultiTrie<number>): [string, number[]][] => [...tr.entries()].map(([x, ps]) => [hex(x), ps.sort()]);
        expect(entries(trie)).toEqual(all.map((k) => [k, holders(k).sort()]));
        expect(entries(trie.clone())).toEqual(entries(trie));
        for (const q of [0, 1, 2, 3]) trie.removePeer(q, () => {});
        expect(trie.size).toBe(0);
        expect(shapeOf(trie)).toEqual({ nodes: 1, labelBytes: 0, bufferBytes: 0 });
      }),
      { numRuns: 150 },
    );
  });

  it('trie-compressed: many peers on one topic, then leaving one by one, are each matched once', () => {
    const trie = new MultiTrie<number>();
    const t = Uint8Array.of(1, 2, 3);
    for (let p = 0; p < 40; p++) trie.add(p % 2 === 0 ? t : t.subarray(0, 1), p);
    for (let p = 0; p < 40; p += 3) trie.add(t.subarray(0, 2), p);
    for (let p = 0; p < 40; p++) {
      const seen: number[] = [];
      trie.match(t, (q) => seen.push(q));
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 - p }, (_, i) => i + p));
      trie.removePeer(p, () => {});
    }
    expect(trie.size).toBe(0);
  });

  it('trie-compressed: up to 40 peers on a few topics, leaving in any order, are matched as the model says', () => {
    const ts = [Uint8Array.of(1, 2, 3), Uint8Array.of(1), Uint8Array.of(1, 2, 3, 4, 5)];
    const step = fc.record({ peer: fc.integer({ min: 0, max: 39 }), t: fc.integer({ min: 0, max: 2 }), kind: fc.constantFrom('add', 'add', 'remove', 'removePeer') });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200, size: 'max' }), (steps) => {
        const trie = new MultiTrie<number>();
        const model = ts.map(() => new Set<number>());
        for (const { peer: p, t, kind } of steps) {
          if (kind === 'add') {
            expect(trie.add(ts[t], p)).toBe(model[t].size === 0);
            model[t].add(p);
          } else if (kind === 'remove') {
            expect(trie.remove(ts[t], p)).toBe(model[t].size === 1 && model[t].has(p));
            model[t].delete(p);
          } else {
            trie.removePeer(p, () => {});
            for (const m of model) m.delete(p);
          }
          const seen: number[] = [];
          trie.match(ts[2], (q) => seen.push(q));
          expect(seen.sort((a, b) => a - b)).toEqual([...new Set(model.flatMap((m) => [...m]))].sort((a, b) => a - b));
          const byHex = new Map([...trie.entries()].map(([x, ps]) => [hex(x), ps.sort((a, b) => a - b)]));
          for (let i = 0; i < ts.length; i++) {
            expect(byHex.get(hex(ts[i])) ?? []).toEqual([...model[i]].sort((a, b) => a - b));
            expect(trie.count(ts[i])).toBe(model[i].size);
            expect(trie.has(ts[i], p)).toBe(model[i].has(p));
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('long topics', () => {
  const big = (): Uint8Array => {
    const t = new Uint8Array(10 * MiB).fill(0x61);
    t[t.length - 1] = 0x62;
    return t;
  };

  for (const kind of ['SubscriptionTrie', 'MultiTrie'] as const) {
    it(`trie-compressed: a 10 MiB topic costs under 3x its size in a ${kind}, and nothing once removed (it took ~1.5 GB)`, () => {
      const base = memoryNow();
      const trie = kind === 'MultiTrie' ? new MultiTrie<number>() : new SubscriptionTrie();
      const add = (t: Uint8Array): boolean => (trie instanceof MultiTrie ? trie.add(t, 1) : trie.add(t));
      const remove = (t: Uint8Array): boolean => (trie instanceof MultiTrie ? trie.remove(t, 1) : trie.remove(t));
      // Made in a function of its own, so the caller's copy is garbage when we measure.
      (() => expect(add(big())).toBe(true))();
      const held = memoryNow();
      const grown = held.heap - base.heap + (held.buffers - base.buffers);
      expect(grown).toBeLessThan(3 * 10 * MiB);
      const t = big();
      expect(trie.count(t)).toBe(1);
      expect(trie instanceof MultiTrie ? trie.has(t, 1) : trie.matches(t)).toBe(true);
      t[5 * MiB] = 0x7a;
      expect(trie.count(t)).toBe(0);
      t[5 * MiB] = 0x61;
      expect(remove(t)).toBe(true);
      expect(shapeOf(trie)).toEqual({ nodes: 1, labelBytes: 0, bufferBytes: 0 });
    });
  }

  it('trie-compressed: a short topic left over from a split does not keep a removed 10 MiB topic alive', () => {
    const trie = new MultiTrie<number>();
    const t = big();
    trie.add(t, 1);
    trie.add(t.subarray(0, 1000), 2); // a split inside the 10 MiB run: two views of one copy
    trie.add(t.subarray(0, 3), 3);
    trie.add(Uint8Array.of(0x61, 0x61, 0x7a), 4); // leaves the run after two bytes
    expect(shapeOf(trie).bufferBytes).toBeLessThan(10 * MiB + 1024);
    trie.removePeer(1, () => {});
    const shape = shapeOf(trie);
    expect(shape.labelBytes).toBe(1001);
    expect(shape.bufferBytes).toBeLessThan(4096);
    expect(trie.prefixesOf(2)).toEqual([t.subarray(0, 1000)]);
    const seen: number[] = [];
    trie.match(t, (q) => seen.push(q));
    expect(seen.sort()).toEqual([2, 3]);
  });

  it('trie-compressed: a topic split off a 10 MiB run and cancelled, a thousand times, leaves the trie as it was', () => {
    const trie = new SubscriptionTrie();
    const t = big();
    trie.add(t);
    const before = shapeOf(trie);
    for (let i = 0; i < 1000; i++) {
      const short = Uint8Array.of(0x61, 0x61, i & 0xff, 0x61);
      trie.add(short);
      trie.add(t.subarray(0, 2 + (i % 7)));
      expect(trie.remove(short)).toBe(true);
      expect(trie.remove(t.subarray(0, 2 + (i % 7)))).toBe(true);
    }
    expect(shapeOf(trie)).toEqual(before);
    expect([...trie.entries()].map(([p, n]) => [p.length, n])).toEqual([[10 * MiB, 1]]);
  });

  // The checks above are only as good as shapeOf (test/core/trie-shape.ts): it must see a broken node.
  it('trie-compressed: the shape check throws on a miscounted node and on a child under the wrong parent', () => {
    const trie = new SubscriptionTrie();
    for (const t of ['ab', 'ac', 'b']) trie.add(new TextEncoder().encode(t));
    expect(() => shapeOf(trie)).not.toThrow();
    trie.rootNode.live++;
    expect(() => shapeOf(trie)).toThrow('live children miscounted');
    trie.rootNode.live--;
    const multi = new MultiTrie<number>();
    multi.add(new TextEncoder().encode('ab'), 1);
    multi.add(new TextEncoder().encode('ac'), 2);
    const child = multi.rootNode.table!.find((n) => n !== null)!;
    child.parent = null;
    expect(() => shapeOf(multi)).toThrow('a child whose parent is another node');
  });
});
