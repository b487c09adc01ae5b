// Subscription tries for PUB/XPUB/SUB/XSUB: byte-prefix matching with libzmq's semantics, counted
// prefixes as in trie.cpp and prefix -> set of peers as in mtrie.cpp. Pure data: no IO, and matching
// a message allocates nothing.

/*
 * One node per byte. A node's children sit in a dense table indexed by `byte - min`, so descending is
 * a subtraction, a bounds check and an array load (libzmq trie.cpp keeps min/count/next the same way):
 *
 *   subscriptions "" x1, "AB" x2, "AC" x1
 *
 *   root (count 1)  min 0x41  table [A]
 *    └─ A (count 0)  min 0x42  table [AB, AC]
 *        ├─ AB (count 2)
 *        └─ AC (count 1)
 *
 * Nodes that hold nothing and lead nowhere are pruned on removal, so a table never keeps dead ends,
 * and a table is trimmed to its first and last live child.
 */

import { byteKey, toHex } from './frame.js';

interface Branch<N> {
  min: number;
  table: (N | null)[] | null;
  /** Non-null entries in `table`. */
  live: number;
}

function childOf<N extends Branch<N>>(node: N, byte: number): N | null {
  const t = node.table;
  if (t === null) return null;
  const i = byte - node.min;
  return i >= 0 && i < t.length ? t[i] : null;
}

function attach<N extends Branch<N>>(node: N, byte: number, child: N): void {
  const t = node.table;
  if (t === null) {
    node.table = [child];
    node.min = byte;
  } else if (byte < node.min) {
    const shift = node.min - byte;
    const grown = new Array<N | null>(shift + t.length).fill(null);
    for (let i = 0; i < t.length; i++) grown[shift + i] = t[i];
    grown[0] = child;
    node.table = grown;
    node.min = byte;
  } else {
    const i = byte - node.min;
    while (t.length <= i) t.push(null);
    t[i] = child;
  }
  node.live++;
}

function detach<N extends Branch<N>>(node: N, byte: number): void {
  const t = node.table!;
  t[byte - node.min] = null;
  node.live--;
  if (node.live === 0) {
    node.table = null;
    node.min = 0;
    return;
  }
  while (t[t.length - 1] === null) t.pop();
  let lead = 0;
  while (t[lead] === null) lead++;
  if (lead > 0) {
    t.splice(0, lead);
    node.min += lead;
  }
}

/** Every node in lexicographic byte order, pre-order; `prefix` is the live byte path (copy it to keep it). */
function walk<N extends Branch<N>>(root: N, visit: (node: N, prefix: readonly number[]) => void): void {
  const prefix: number[] = [];
  const nodes: N[] = [root];
  const cursor: number[] = [-1];
  while (nodes.length > 0) {
    const top = nodes.length - 1;
    const node = nodes[top];
    if (cursor[top] < 0) {
      cursor[top] = 0;
      visit(node, prefix);
    }
    const t = node.table;
    let i = cursor[top];
    if (t !== null) while (i < t.length && t[i] === null) i++;
    if (t === null || i >= t.length) {
      nodes.pop();
      cursor.pop();
      prefix.pop(); // the root has no byte: popping an empty array is a no-op
      continue;
    }
    cursor[top] = i + 1;
    prefix.push(node.min + i);
    nodes.push(t[i]!);
    cursor.push(-1);
  }
}

/** The nodes from the root along `prefix` (root first), or null when the prefix has no node. */
function pathTo<N extends Branch<N>>(root: N, prefix: Uint8Array): N[] | null {
  const path: N[] = [root];
  let node = root;
  for (let i = 0; i < prefix.length; i++) {
    const next = childOf(node, prefix[i]);
    if (next === null) return null;
    path.push(next);
    node = next;
  }
  return path;
}

/** Detaches the empty tail of `path` (nodes holding nothing, with no children), leaf first. */
function prune<N extends Branch<N>>(path: N[], prefix: Uint8Array, isEmpty: (node: N) => boolean): void {
  for (let depth = path.length - 1; depth > 0; depth--) {
    const node = path[depth];
    if (node.live > 0 || !isEmpty(node)) return;
    detach(path[depth - 1], prefix[depth - 1]);
  }
}

class CountNode implements Branch<CountNode> {
  count = 0;
  min = 0;
  table: (CountNode | null)[] | null = null;
  live = 0;
}

const countIsZero = (node: CountNode): boolean => node.count === 0;

/**
 * Counted byte prefixes, as libzmq's `trie.cpp`: what a SUB/XSUB socket has subscribed to.
 * Subscriptions are additive (RFC 29): "A" twice then one cancel leaves "A" subscribed, so the
 * socket sends SUBSCRIBE upstream when `add` returns true and CANCEL when `remove` does.
 *
 * ```ts
 * const subs = new SubscriptionTrie();
 * subs.add(new TextEncoder().encode('weather.'));       // true: new, send SUBSCRIBE
 * subs.matches(new TextEncoder().encode('weather.oslo')); // true
 * ```
 */
export class SubscriptionTrie {
  #root = new CountNode();
  #size = 0;

  /** Distinct prefixes with a count above zero. */
  get size(): number {
    return this.#size;
  }

  /** Counts one more subscription to `prefix`; true when the prefix is new (its count went 0 -> 1). */
  add(prefix: Uint8Array): boolean {
    let node = this.#root;
    for (let i = 0; i < prefix.length; i++) {
      let next = childOf(node, prefix[i]);
      if (next === null) {
        next = new CountNode();
        attach(node, prefix[i], next);
      }
      node = next;
    }
    if (++node.count !== 1) return false;
    this.#size++;
    return true;
  }

  /**
   * Counts one subscription to `prefix` less; true when that was the last one (count 1 -> 0).
   * Removing a prefix that is not subscribed returns false and changes nothing.
   */
  remove(prefix: Uint8Array): boolean {
    const path = pathTo(this.#root, prefix);
    if (path === null) return false;
    const node = path[path.length - 1];
    if (node.count === 0) return false;
    if (--node.count > 0) return false;
    this.#size--;
    prune(path, prefix, countIsZero);
    return true;
  }

  /** How many times `prefix` is subscribed (0 when it is not). */
  count(prefix: Uint8Array): number {
    const path = pathTo(this.#root, prefix);
    return path === null ? 0 : path[path.length - 1].count;
  }

  /** True when some subscribed prefix (the empty one included) is a prefix of `data`. Allocates nothing. */
  matches(data: Uint8Array): boolean {
    let node = this.#root;
    for (let i = 0; ; i++) {
      if (node.count > 0) return true;
      if (i === data.length) return false;
      const t = node.table;
      if (t === null) return false;
      const c = data[i] - node.min;
      if (c < 0 || c >= t.length) return false;
      const next = t[c];
      if (next === null) return false;
      node = next;
    }
  }

  /**
   * Each subscribed prefix with its count, in byte order, to replay on (re)connect. The entries are a
   * snapshot taken when iteration starts, so the trie may change while they are replayed.
   */
  *entries(): IterableIterator<[prefix: Uint8Array, count: number]> {
    const out: [Uint8Array, number][] = [];
    walk(this.#root, (node, prefix) => {
      if (node.count > 0) out.push([Uint8Array.from(prefix), node.count]);
    });
    yield* out;
  }

  /** Forgets every subscription. */
  clear(): void {
    this.#root = new CountNode();
    this.#size = 0;
  }

  /** A copy that changes independently of this trie. */
  clone(): SubscriptionTrie {
    const copy = new SubscriptionTrie();
    for (const [prefix, count] of this.entries()) for (let i = 0; i < count; i++) copy.add(prefix);
    return copy;
  }

  /** `{ <prefix as hex>: count }` in byte order, for inspectors (machine context is shown as JSON). */
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [prefix, count] of this.entries()) out[toHex(prefix)] = count;
    return out;
  }
}


class PeerNode<P> implements Branch<PeerNode<P>> {
  /** Peers subscribed to exactly this prefix, in an array to iterate without allocating. */
  peers: P[] = [];
  /** peer -> its index in `peers`, for O(1) membership and swap-removal; null while `peers` is empty. */
  where: Map<P, number> | null = null;
  min = 0;
  table: (PeerNode<P> | null)[] | null = null;
  live = 0;
}

function hasNoPeers<P>(node: PeerNode<P>): boolean {
  return node.peers.length === 0;
}

/** Takes `peer` out of `node`; true when it was there. */
function takePeer<P>(node: PeerNode<P>, peer: P): boolean {
  const where = node.where;
  if (where === null) return false;
  const i = where.get(peer);
  if (i === undefined) return false;
  where.delete(peer);
  const last = node.peers.pop()!;
  if (i < node.peers.length) {
    node.peers[i] = last;
    where.set(last, i);
  }
  if (node.peers.length === 0) node.where = null;
  return true;
}

/**
 * Byte prefixes, each with the set of peers subscribed to it, as libzmq's `mtrie.cpp`: what a
 * PUB/XPUB socket knows of its subscribers. A peer subscribes to a prefix at most once (a set, not a
 * count); `add` / `remove` / `removePeer` report when a prefix gains its first or loses its last peer,
 * which is what XPUB tells its application by default. Each peer's prefixes are also indexed, so a
 * peer leaving costs what it held, not a walk of the whole trie.
 *
 * ```ts
 * const subs = new MultiTrie<Pipe>();
 * subs.add(topic, pipe);
 * subs.match(frame0, sendTo, this); // calls this.sendTo(pipe) once per matching pipe
 * ```
 */
export class MultiTrie<P> {
  #root = new PeerNode<P>();
  #size = 0;
  /** Each peer's prefixes, by key (see keyOf). */
  #byPeer = new Map<P, Map<string, Uint8Array>>();
  // Nodes with peers along the path of the message being matched; reused across calls.
  #found: (PeerNode<P> | null)[] = [];
  #matching = false;

  /** Distinct prefixes with at least one peer. */
  get size(): number {
    return this.#size;
  }

  /** Subscribes `peer` to `prefix`; true when the prefix had no peers before. Adding twice changes nothing. */
  add(prefix: Uint8Array, peer: P): boolean {
    let node = this.#root;
    for (let i = 0; i < prefix.length; i++) {
      let next = childOf(node, prefix[i]);
      if (next === null) {
        next = new PeerNode<P>();
        attach(node, prefix[i], next);
      }
      node = next;
    }
    if (node.where === null) node.where = new Map();
    else if (node.where.has(peer)) return false;
    node.where.set(peer, node.peers.length);
    node.peers.push(peer);
    let held = this.#byPeer.get(peer);
    if (held === undefined) {
      held = new Map();
      this.#byPeer.set(peer, held);
    }
    held.set(byteKey(prefix), Uint8Array.from(prefix));
    if (node.peers.length !== 1) return false;
    this.#size++;
    return true;
  }

  /** Unsubscribes `peer` from `prefix`; true when it was the prefix's last peer. Absent pairs return false. */
  remove(prefix: Uint8Array, peer: P): boolean {
    const path = pathTo(this.#root, prefix);
    if (path === null) return false;
    const node = path[path.length - 1];
    if (!takePeer(node, peer)) return false;
    this.#forgetHeld(peer, byteKey(prefix));
    if (node.peers.length > 0) return false;
    this.#size--;
    prune(path, prefix, hasNoPeers);
    return true;
  }

  #forgetHeld(peer: P, key: string): void {
    const held = this.#byPeer.get(peer);
    if (held === undefined) return;
    held.delete(key);
    if (held.size === 0) this.#byPeer.delete(peer);
  }

  /** How many peers hold exactly `prefix`. */
  count(prefix: Uint8Array): number {
    const path = pathTo(this.#root, prefix);
    return path === null ? 0 : path[path.length - 1].peers.length;
  }

  /** The prefixes `peer` holds, in byte order (fresh copies). */
  prefixesOf(peer: P): Uint8Array[] {
    const held = this.#byPeer.get(peer);
    if (held === undefined) return [];
    return [...held.keys()].sort().map((k) => Uint8Array.from(held.get(k) as Uint8Array));
  }

  /** True when `peer` is subscribed to exactly `prefix`. */
  has(prefix: Uint8Array, peer: P): boolean {
    const path = pathTo(this.#root, prefix);
    const where = path === null ? null : path[path.length - 1].where;
    return where !== null && where.has(peer);
  }

  /**
   * Drops `peer` from every prefix (it went away), then calls `onLast` for each prefix nobody wants any
   * more, in byte order, so XPUB can report the cancel (libzmq `mtrie_t::rm (pipe, func)`). The trie is
   * already consistent when `onLast` runs, and each prefix it gets is a fresh copy.
   */
  removePeer(peer: P, onLast: (prefix: Uint8Array) => void): void {
    const held = this.#byPeer.get(peer);
    if (held === undefined) return;
    this.#byPeer.delete(peer);
    const orphans: Uint8Array[] = [];
    for (const key of [...held.keys()].sort()) {
      const prefix = held.get(key) as Uint8Array;
      const path = pathTo(this.#root, prefix);
      if (path === null) continue;
      const node = path[path.length - 1];
      if (!takePeer(node, peer) || node.peers.length > 0) continue;
      this.#size--;
      prune(path, prefix, hasNoPeers);
      orphans.push(prefix);
    }
    for (const prefix of orphans) onLast(prefix);
  }

  /**
   * Calls `visit` (with `this` = `thisArg`) once for each peer subscribed to some prefix of `data`,
   * even when the peer holds several matching prefixes. Allocates nothing. `visit` must not add or
   * remove subscriptions; collect the peers and act after the call.
   */
  match<T = undefined>(data: Uint8Array, visit: (this: T, peer: P) => void, thisArg?: T): void {
    // A nested match (from inside a visitor) gets its own list rather than clobbering ours.
    const nested = this.#matching;
    const found = nested ? [] : this.#found;
    let n = 0;
    let node = this.#root;
    for (let i = 0; ; i++) {
      if (node.peers.length > 0) found[n++] = node;
      if (i === data.length) break;
      const t = node.table;
      if (t === null) break;
      const c = data[i] - node.min;
      if (c < 0 || c >= t.length) break;
      const next = t[c];
      if (next === null) break;
      node = next;
    }
    this.#matching = true;
    try {
      for (let k = 0; k < n; k++) {
        const peers = found[k]!.peers;
        outer: for (let j = 0; j < peers.length; j++) {
          const peer = peers[j];
          // Visit a peer at its shortest matching prefix only: skip it when a shorter one holds it.
          for (let e = 0; e < k; e++) if (found[e]!.where!.has(peer)) continue outer;
          visit.call(thisArg as T, peer);
        }
      }
    } finally {
      this.#matching = nested;
      for (let k = 0; k < n; k++) found[k] = null;
    }
  }

  /** Each prefix with a copy of its peers, in byte order; a snapshot taken when iteration starts. */
  *entries(): IterableIterator<[prefix: Uint8Array, peers: P[]]> {
    const out: [Uint8Array, P[]][] = [];
    walk(this.#root, (node, prefix) => {
      if (node.peers.length > 0) out.push([Uint8Array.from(prefix), node.peers.slice()]);
    });
    yield* out;
  }

  /** Forgets every subscription of every peer. */
  clear(): void {
    this.#root = new PeerNode<P>();
    this.#size = 0;
    this.#byPeer.clear();
  }

  /** A copy that changes independently of this trie (the peers themselves are shared). */
  clone(): MultiTrie<P> {
    const copy = new MultiTrie<P>();
    for (const [prefix, peers] of this.entries()) for (const p of peers) copy.add(prefix, p);
    return copy;
  }

  /** `{ <prefix as hex>: peers }` in byte order, for inspectors (machine context is shown as JSON). */
  toJSON(): Record<string, P[]> {
    const out: Record<string, P[]> = {};
    for (const [prefix, peers] of this.entries()) {
      out[toHex(prefix)] = peers.every((p) => typeof p === 'number') ? (peers as number[]).sort((a, b) => a - b) as P[] : peers;
    }
    return out;
  }
}
