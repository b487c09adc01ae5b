import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MultiTrie, SubscriptionTrie } from '../../src/core/trie.js';

const te = new TextEncoder();
const b = (s: string): Uint8Array => te.encode(s);
const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const hex = (u: Uint8Array): string => Array.from(u, (x) => x.toString(16).padStart(2, '0')).join(' ');

/** The peers `match` visits, in visit order. */
function matched<P>(trie: MultiTrie<P>, data: Uint8Array): P[] {
  const out: P[] = [];
  trie.match(data, (peer) => out.push(peer));
  return out;
}

describe('SubscriptionTrie', () => {
  it('trie: an empty trie matches nothing, not even empty data', () => {
    const t = new SubscriptionTrie();
    expect(t.matches(b(''))).toBe(false);
    expect(t.matches(b('A'))).toBe(false);
    expect(t.size).toBe(0);
  });

  it('trie: a prefix matches data that starts with it and nothing else', () => {
    const t = new SubscriptionTrie();
    expect(t.add(b('weather.'))).toBe(true);
    expect(t.matches(b('weather.oslo'))).toBe(true);
    expect(t.matches(b('weather.'))).toBe(true);
    expect(t.matches(b('weather'))).toBe(false);
    expect(t.matches(b('news'))).toBe(false);
    expect(t.matches(b(''))).toBe(false);
  });

  it('trie: the empty prefix matches every message, the empty one too', () => {
    const t = new SubscriptionTrie();
    expect(t.add(b(''))).toBe(true);
    expect(t.matches(b(''))).toBe(true);
    expect(t.matches(bytes(0x00))).toBe(true);
    expect(t.matches(b('anything'))).toBe(true);
  });

  it('trie: subscribe "A" twice then cancel once still matches; the second cancel reports the last one', () => {
    const t = new SubscriptionTrie();
    expect(t.add(b('A'))).toBe(true);
    expect(t.add(b('A'))).toBe(false);
    expect(t.count(b('A'))).toBe(2);
    expect(t.size).toBe(1);
    expect(t.remove(b('A'))).toBe(false);
    expect(t.matches(b('AB'))).toBe(true);
    expect(t.remove(b('A'))).toBe(true);
    expect(t.matches(b('AB'))).toBe(false);
    expect(t.count(b('A'))).toBe(0);
    expect(t.size).toBe(0);
  });

  it('trie: removing an absent prefix returns false and changes nothing', () => {
    const t = new SubscriptionTrie();
    t.add(b('AB'));
    expect(t.remove(b('A'))).toBe(false);
    expect(t.remove(b('ABC'))).toBe(false);
    expect(t.remove(b('X'))).toBe(false);
    expect(t.remove(b(''))).toBe(false);
    expect([...t.entries()]).toEqual([[b('AB'), 1]]);
    expect(t.matches(b('ABC'))).toBe(true);
  });

  it('trie: removing a prefix keeps its longer and shorter neighbours', () => {
    const t = new SubscriptionTrie();
    t.add(b('A'));
    t.add(b('ABC'));
    t.add(b('AB'));
    expect(t.remove(b('AB'))).toBe(true);
    expect(t.matches(b('ABX'))).toBe(true); // via "A"
    expect(t.remove(b('A'))).toBe(true);
    expect(t.matches(b('ABX'))).toBe(false);
    expect(t.matches(b('ABCD'))).toBe(true);
    expect(t.size).toBe(1);
  });

  it('trie: binary prefixes with 0x00 and 0xFF bytes match byte for byte', () => {
    const t = new SubscriptionTrie();
    t.add(bytes(0x00));
    t.add(bytes(0xff, 0x00, 0xff));
    expect(t.matches(bytes(0x00, 0x41))).toBe(true);
    expect(t.matches(bytes(0xff, 0x00, 0xff, 0x01))).toBe(true);
    expect(t.matches(bytes(0xff, 0x00))).toBe(false);
    expect(t.matches(bytes(0xfe))).toBe(false);
    expect(t.matches(bytes(0x01))).toBe(false);
    expect([...t.entries()].map(([p, n]) => [hex(p), n])).toEqual([['00', 1], ['ff 00 ff', 1]]);
  });

  it('trie: entries yields every prefix with its count in byte order for replay', () => {
    const t = new SubscriptionTrie();
    for (const s of ['b', 'a', 'ab', 'ab', '', 'ba']) t.add(b(s));
    expect([...t.entries()]).toEqual([[b(''), 1], [b('a'), 1], [b('ab'), 2], [b('b'), 1], [b('ba'), 1]]);
  });

  it('trie: entries is a snapshot, so replay may change the trie', () => {
    const t = new SubscriptionTrie();
    t.add(b('a'));
    t.add(b('b'));
    const seen: string[] = [];
    for (const [prefix] of t.entries()) {
      seen.push(new TextDecoder().decode(prefix));
      t.remove(prefix);
      t.add(b('c'));
    }
    expect(seen).toEqual(['a', 'b']);
  });

  it('trie: clear forgets every subscription', () => {
    const t = new SubscriptionTrie();
    t.add(b(''));
    t.add(b('x'));
    t.clear();
    expect(t.size).toBe(0);
    expect(t.matches(b('x'))).toBe(false);
    expect(t.add(b('x'))).toBe(true);
  });
});

describe('MultiTrie', () => {
  it('trie: add reports the first peer of a prefix; a peer added twice counts once', () => {
    const t = new MultiTrie<string>();
    expect(t.add(b('A'), 'p1')).toBe(true);
    expect(t.add(b('A'), 'p2')).toBe(false);
    expect(t.add(b('A'), 'p1')).toBe(false);
    expect(t.size).toBe(1);
    expect(t.remove(b('A'), 'p1')).toBe(false);
    expect(t.has(b('A'), 'p1')).toBe(false);
    expect(t.remove(b('A'), 'p2')).toBe(true);
    expect(t.size).toBe(0);
    expect(matched(t, b('A'))).toEqual([]);
  });

  it('trie: removing a peer that is not subscribed returns false and changes nothing', () => {
    const t = new MultiTrie<string>();
    t.add(b('A'), 'p1');
    expect(t.remove(b('A'), 'p2')).toBe(false);
    expect(t.remove(b('AB'), 'p1')).toBe(false);
    expect(t.remove(b(''), 'p1')).toBe(false);
    expect(matched(t, b('AB'))).toEqual(['p1']);
  });

  it('trie: match visits each peer once even when several of its prefixes match', () => {
    const t = new MultiTrie<string>();
    t.add(b(''), 'p1');
    t.add(b('A'), 'p1');
    t.add(b('AB'), 'p1');
    t.add(b('AB'), 'p2');
    t.add(b('A'), 'p3');
    t.add(b('B'), 'p4');
    expect(matched(t, b('ABC')).sort()).toEqual(['p1', 'p2', 'p3']);
    expect(matched(t, b('B')).sort()).toEqual(['p1', 'p4']);
    expect(matched(t, b(''))).toEqual(['p1']);
  });

  it('trie: match passes thisArg to the visitor', () => {
    const t = new MultiTrie<number>();
    t.add(b('x'), 7);
    const sink = { got: [] as number[], take(this: { got: number[] }, peer: number) { this.got.push(peer); } };
    t.match(b('xy'), sink.take, sink);
    expect(sink.got).toEqual([7]);
  });

  it('trie: a match from inside a visitor sees the whole trie and leaves the outer match intact', () => {
    const t = new MultiTrie<string>();
    t.add(b(''), 'p1');
    t.add(b('A'), 'p2');
    const outer: string[] = [];
    const inner: string[][] = [];
    t.match(b('A'), (peer) => {
      outer.push(peer);
      inner.push(matched(t, b('A')).sort());
    });
    expect(outer.sort()).toEqual(['p1', 'p2']);
    expect(inner).toEqual([['p1', 'p2'], ['p1', 'p2']]);
  });

  it('trie: a visitor that throws does not break later matches', () => {
    const t = new MultiTrie<string>();
    t.add(b('A'), 'p1');
    expect(() => t.match(b('A'), () => { throw new Error('boom'); })).toThrow('boom');
    expect(matched(t, b('A'))).toEqual(['p1']);
  });

  it('trie: removePeer drops the peer everywhere and reports the prefixes nobody wants any more', () => {
    const t = new MultiTrie<string>();
    t.add(b(''), 'gone');
    t.add(b('A'), 'gone');
    t.add(b('A'), 'stays');
    t.add(b('AB'), 'gone');
    t.add(bytes(0xff, 0x00), 'gone');
    t.add(b('C'), 'stays');
    const orphans: string[] = [];
    t.removePeer('gone', (prefix) => orphans.push(hex(prefix)));
    expect(orphans).toEqual(['', '41 42', 'ff 00']);
    expect(t.size).toBe(2);
    expect(matched(t, b('ABC'))).toEqual(['stays']);
    expect(matched(t, bytes(0xff, 0x00))).toEqual([]);
    expect([...t.entries()].map(([p, peers]) => [hex(p), peers])).toEqual([['41', ['stays']], ['43', ['stays']]]);
  });

  it('trie: removePeer of an unknown peer reports nothing', () => {
    const t = new MultiTrie<string>();
    t.add(b('A'), 'p1');
    const orphans: Uint8Array[] = [];
    t.removePeer('nobody', (prefix) => orphans.push(prefix));
    expect(orphans).toEqual([]);
    expect(t.size).toBe(1);
  });

  it('trie: onLast may subscribe again, since the trie is consistent when it runs', () => {
    const t = new MultiTrie<string>();
    t.add(b('A'), 'gone');
    t.add(b('AB'), 'gone');
    t.removePeer('gone', (prefix) => t.add(prefix, 'next'));
    expect([...t.entries()].map(([p, peers]) => [hex(p), peers])).toEqual([['41', ['next']], ['41 42', ['next']]]);
  });

  it('trie: binary prefixes with 0x00 and 0xFF bytes match byte for byte', () => {
    const t = new MultiTrie<string>();
    t.add(bytes(0x00), 'zero');
    t.add(bytes(0xff), 'ff');
    t.add(bytes(0x00, 0xff), 'both');
    expect(matched(t, bytes(0x00, 0xff, 0x07)).sort()).toEqual(['both', 'zero']);
    expect(matched(t, bytes(0xff, 0x00))).toEqual(['ff']);
    expect(matched(t, bytes(0x7f))).toEqual([]);
  });

  it('trie: clear forgets every peer', () => {
    const t = new MultiTrie<string>();
    t.add(b('A'), 'p1');
    t.clear();
    expect(t.size).toBe(0);
    expect(matched(t, b('A'))).toEqual([]);
  });
});

// Random operations over a tiny alphabet (with 0x00 and 0xFF) so prefixes collide, share paths and nest.
const key = fc.uint8Array({ minLength: 0, maxLength: 4 }).map((u) => u.map((x) => [0x00, 0x41, 0x42, 0xff][x % 4]));
const peer = fc.integer({ min: 0, max: 3 });
const startsWith = (data: Uint8Array, prefix: Uint8Array): boolean =>
  prefix.length <= data.length && prefix.every((x, i) => data[i] === x);

describe('tries against a naive model', () => {
  it('trie: SubscriptionTrie agrees with a map of counts over random add/remove/match', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), prefix: key }),
      fc.record({ kind: fc.constant('remove' as const), prefix: key }),
      fc.record({ kind: fc.constant('match' as const), prefix: key }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const trie = new SubscriptionTrie();
      const model = new Map<string, { prefix: Uint8Array; count: number }>();
      for (const { kind, prefix } of ops) {
        const k = hex(prefix);
        const entry = model.get(k);
        if (kind === 'add') {
          expect(trie.add(prefix)).toBe(entry === undefined);
          model.set(k, { prefix, count: (entry?.count ?? 0) + 1 });
        } else if (kind === 'remove') {
          expect(trie.remove(prefix)).toBe(entry?.count === 1);
          if (entry !== undefined) {
            if (entry.count === 1) model.delete(k);
            else entry.count--;
          }
        } else {
          const expected = [...model.values()].some((e) => startsWith(prefix, e.prefix));
          expect(trie.matches(prefix)).toBe(expected);
        }
        expect(trie.count(prefix)).toBe(model.get(k)?.count ?? 0);
        expect(trie.size).toBe(model.size);
      }
      const expected = [...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => [hex(e.prefix), e.count]);
      expect([...trie.entries()].map(([p, n]) => [hex(p), n])).toEqual(expected);
    }), { numRuns: 300 });
  });

  it('trie: MultiTrie agrees with a map of peer sets over random add/remove/removePeer/match', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), prefix: key, peer }),
      fc.record({ kind: fc.constant('remove' as const), prefix: key, peer }),
      fc.record({ kind: fc.constant('removePeer' as const), prefix: key, peer }),
      fc.record({ kind: fc.constant('match' as const), prefix: key, peer }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const trie = new MultiTrie<number>();
      const model = new Map<string, { prefix: Uint8Array; peers: Set<number> }>();
      for (const { kind, prefix, peer: p } of ops) {
        const k = hex(prefix);
        const entry = model.get(k);
        if (kind === 'add') {
          expect(trie.add(prefix, p)).toBe(entry === undefined);
          if (entry === undefined) model.set(k, { prefix, peers: new Set([p]) });
          else entry.peers.add(p);
        } else if (kind === 'remove') {
          const last = entry !== undefined && entry.peers.size === 1 && entry.peers.has(p);
          expect(trie.remove(prefix, p)).toBe(last);
          entry?.peers.delete(p);
          if (entry?.peers.size === 0) model.delete(k);
        } else if (kind === 'removePeer') {
          const orphans: string[] = [];
          trie.removePeer(p, (gone) => orphans.push(hex(gone)));
          const expected: string[] = [];
          for (const [mk, e] of model) {
            if (e.peers.delete(p) && e.peers.size === 0) {
              model.delete(mk);
              expected.push(mk);
            }
          }
          expect(orphans.sort()).toEqual(expected.sort());
        } else {
          const seen = matched(trie, prefix);
          const expected = new Set<number>();
          for (const e of model.values()) if (startsWith(prefix, e.prefix)) for (const q of e.peers) expected.add(q);
          expect(seen.length).toBe(new Set(seen).size); // each peer at most once
          expect(seen.sort()).toEqual([...expected].sort());
        }
        expect(trie.size).toBe(model.size);
        expect(trie.has(prefix, p)).toBe(model.get(k)?.peers.has(p) ?? false);
      }
    }), { numRuns: 300 });
  });
});
