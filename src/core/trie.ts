// Subscription tries for PUB/XPUB/SUB/XSUB: byte-prefix matching with libzmq's semantics, counted
// prefixes as in trie.cpp and prefix -> set of peers as in mtrie.cpp. Pure data: no IO, and matching
// a message allocates nothing.

/*
 * A radix tree: an edge holds a run of bytes (its `label`), so memory grows with the bytes subscribed,
 * not with a node per byte (issue 14: a node per byte cost ~160 B per topic byte, and one SUBSCRIBE with
 * a 10 MiB topic took 1.5 GB). A node's children sit in a dense table indexed by the first byte of
 * their label minus `min`, so choosing an edge is a subtraction, a bounds check and an array load
 * (libzmq trie.cpp keeps min/count/next the same way); the rest of the label is then compared in place.
 *
 *   subscriptions "" x1, "AB" x2, "AC" x1, "ACDC" x1
 *
 *   root "" (count 1)  min 0x41  table [A]
 *    └─ "A" (count 0)  min 0x42  table [B, C]
 *        ├─ "B" (count 2)
 *        └─ "C" (count 1)  min 0x44  table [D]
 *            └─ "DC" (count 1)
 *
 * Every node below the root holds something or has two children or more: inserting splits a label
 * where a new prefix leaves it or ends inside it, and removing prunes what holds nothing and leads
 * nowhere, and merges a node holding nothing into its only child. Labels are views, never written
 * to: what is left of an inserted prefix is copied once into a new leaf, a split leaves the two halves
 * as subarrays of that copy (no bytes copied, so splitting a 10 MiB run costs nothing), a merge of the
 * halves of one copy is a view again, and every one-byte label is a view of one shared table. A label
 * much shorter than the buffer under it is copied out when a removal leaves it so, which keeps the
 * buffers held within about twice the bytes the labels show.
 */

import { toHex } from './frame.js';

const NO_BYTES = new Uint8Array(0);

/** @internal A trie node as every node type has it (test/core/trie-shape.ts checks these). */
export interface Edge<N> {
  /** The bytes from the parent down to this node; empty for the root only. Never written to. */
  label: Uint8Array;
  /** Null for the root, and for a node taken out of the trie. */
  parent: N | null;
  min: number;
  table: (N | null)[] | null;
  /** Non-null entries in `table`. */
  live: number;
}

function childOf<N extends Edge<N>>(node: N, byte: number): N | null {
  const t = node.table;
  if (t === null) return null;
  const i = byte - node.min;
  return i >= 0 && i < t.length ? t[i] : null;
}

function attach<N extends Edge<N>>(node: N, byte: number, child: N): void {
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
  child.parent = node;
}

function detach<N extends Edge<N>>(node: N, byte: number): void {
  const t = node.table!;
  t[byte - node.min]!.parent = null;
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

/** Puts `child` where the child starting with `byte` was (its label starts with the same byte). */
function replace<N extends Edge<N>>(node: N, byte: number, child: N): void {
  node.table![byte - node.min] = child;
  child.parent = node;
}

// Every one-byte label is a view of this buffer, so the many one-byte edges of a bushy trie (the last
// digit of "topic-0001") cost no buffer of their own. Never written to.
/** @internal Every byte value, whose one-byte views are the labels of one-byte edges (shared by all tries). */
export const BYTE_VALUES = Uint8Array.from({ length: 256 }, (_, i) => i);
const ONE_BYTE = Array.from({ length: 256 }, (_, i) => BYTE_VALUES.subarray(i, i + 1));

/** A label of `src[from, to)` in a buffer of its own (a Buffer's `slice` would be a view of the caller's). */
function copyOf(src: Uint8Array, from: number, to: number): Uint8Array {
  if (to - from === 1) return ONE_BYTE[src[from]];
  const out = new Uint8Array(to - from);
  out.set(from === 0 && to === src.length ? src : src.subarray(from, to));
  return out;
}

/** `label[from, to)` as a view of the same bytes. */
function piece(label: Uint8Array, from: number, to: number): Uint8Array {
  return to - from === 1 ? ONE_BYTE[label[from]] : label.subarray(from, to);
}

/**
 * `a` then `b`: a view when the bytes of `a` stand just before `b` in its buffer (the halves of a
 * split do), else a copy. Checking costs what `a` holds, which lies on the path being removed.
 */
function joined(a: Uint8Array, b: Uint8Array): Uint8Array {
  const start = b.byteOffset - a.length;
  if (start >= 0) {
    const view = new Uint8Array(b.buffer, start, a.length + b.length);
    let k = 0;
    while (k < a.length && view[k] === a[k]) k++;
    if (k === a.length) return view;
  }
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * The node for `prefix`, made if needed: a new leaf takes a copy of what is left of the prefix, and a
 * label the prefix leaves (or ends inside) is split there into two views of its bytes.
 */
function insert<N extends Edge<N>>(root: N, prefix: Uint8Array, make: () => N): N {
  const n = prefix.length;
  let node = root;
  let i = 0;
  while (i < n) {
    const child = childOf(node, prefix[i]);
    if (child === null) {
      const leaf = make();
      leaf.label = copyOf(prefix, i, n);
      attach(node, prefix[i], leaf);
      return leaf;
    }
    const label = child.label;
    const end = Math.min(label.length, n - i);
    let k = 1; // label[0] === prefix[i]: that is how the child was found
    while (k < end && label[k] === prefix[i + k]) k++;
    if (k < label.length) {
      const mid = make();
      mid.label = piece(label, 0, k);
      replace(node, prefix[i], mid);
      child.label = piece(label, k, label.length);
      attach(mid, child.label[0], child);
      node = mid;
    } else {
      node = child;
    }
    i += k;
  }
  return node;
}

/** The node for exactly `prefix`, or null when there is none (the prefix ends inside a label, or leaves the trie). */
function find<N extends Edge<N>>(root: N, prefix: Uint8Array): N | null {
  const n = prefix.length;
  let node = root;
  let i = 0;
  while (i < n) {
    const child = childOf(node, prefix[i]);
    if (child === null) return null;
    const label = child.label;
    const len = label.length;
    if (len > n - i) return null;
    for (let k = 1; k < len; k++) if (label[k] !== prefix[i + k]) return null;
    node = child;
    i += len;
  }
  return node;
}

/** The bytes from the root down to `node`, in a fresh array. */
function prefixOf<N extends Edge<N>>(node: N): Uint8Array {
  let n = 0;
  for (let p: N | null = node; p !== null; p = p.parent) n += p.label.length;
  const out = new Uint8Array(n);
  for (let p: N | null = node; p !== null; p = p.parent) {
    n -= p.label.length;
    out.set(p.label, n);
  }
  return out;
}

/**
 * Tidies up after `node` came to hold nothing: prunes it and its ancestors while they hold nothing and
 * lead nowhere, merges the last of them that has a single child into that child, then copies out the
 * labels on the way up that keep a much larger buffer alive. A node already out of the trie is skipped.
 */
function release<N extends Edge<N>>(node: N, isEmpty: (node: N) => boolean): void {
  let at = node;
  for (;;) {
    const parent = at.parent;
    if (parent === null || !isEmpty(at)) break; // the root stays, whatever it holds
    if (at.live === 0) {
      detach(parent, at.label[0]);
      at = parent;
      continue;
    }
    if (at.live === 1) {
      const only = at.table![0]!;
      only.label = joined(at.label, only.label);
      replace(parent, at.label[0], only);
      at.parent = null;
      at.table = null;
      at.live = 0;
      at = only;
    }
    break;
  }
  // The pieces of one inserted copy lie along one path; a removal drops some, and the rest would keep
  // the whole copy alive. Copying out a label under half its buffer keeps buffers within ~2x the labels.
  for (let p: N | null = at; p !== null && p.parent !== null; p = p.parent) {
    const label = p.label;
    if (label.buffer !== BYTE_VALUES.buffer && label.buffer.byteLength - label.length > Math.max(label.length, 64)) p.label = copyOf(label, 0, label.length);
  }
}

/** @internal Every node in the trie, in byte order of their prefixes (a parent before its children). */
export function* nodes<N extends Edge<N>>(root: N): IterableIterator<N> {
  const stack: N[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    yield node;
    const t = node.table;
    if (t !== null) for (let i = t.length - 1; i >= 0; i--) if (t[i] !== null) stack.push(t[i]!);
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** @internal A node of a {@link SubscriptionTrie}. */
export class CountNode implements Edge<CountNode> {
  count = 0;
  label: Uint8Array = NO_BYTES;
  parent: CountNode | null = null;
  min = 0;
  table: (CountNode | null)[] | null = null;
  live = 0;
}

const newCountNode = (): CountNode => new CountNode();
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
    const node = insert(this.#root, prefix, newCountNode);
    if (++node.count !== 1) return false;
    this.#size++;
    return true;
  }

  /**
   * Counts one subscription to `prefix` less; true when that was the last one (count 1 -> 0).
   * Removing a prefix that is not subscribed returns false and changes nothing.
   */
  remove(prefix: Uint8Array): boolean {
    const node = find(this.#root, prefix);
    if (node === null || node.count === 0) return false;
    if (--node.count > 0) return false;
    this.#size--;
    release(node, countIsZero);
    return true;
  }

  /** How many times `prefix` is subscribed (0 when it is not). */
  count(prefix: Uint8Array): number {
    const node = find(this.#root, prefix);
    return node === null ? 0 : node.count;
  }

  /** True when some subscribed prefix (the empty one included) is a prefix of `data`. Allocates nothing. */
  matches(data: Uint8Array): boolean {
    const n = data.length;
    let node = this.#root;
    let i = 0;
    for (;;) {
      if (node.count > 0) return true;
      if (i === n) return false;
      const t = node.table;
      if (t === null) return false;
      const c = data[i] - node.min;
      if (c < 0 || c >= t.length) return false;
      const next = t[c];
      if (next === null) return false;
      const label = next.label;
      const len = label.length;
      if (len > n - i) return false;
      for (let k = 1; k < len; k++) if (label[k] !== data[i + k]) return false;
      i += len;
      node = next;
    }
  }

  /**
   * Each subscribed prefix with its count, in byte order, to replay on (re)connect. The entries are a
   * snapshot taken when iteration starts, so the trie may change while they are replayed.
   */
  *entries(): IterableIterator<[prefix: Uint8Array, count: number]> {
    const out: [Uint8Array, number][] = [];
    for (const node of nodes(this.#root)) if (node.count > 0) out.push([prefixOf(node), node.count]);
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
    for (const [prefix, count] of this.entries()) {
      const node = insert(copy.#root, prefix, newCountNode);
      node.count = count;
      copy.#size++;
    }
    return copy;
  }

  /** `{ <prefix as hex>: count }` in byte order, for inspectors (machine context is shown as JSON). */
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [prefix, count] of this.entries()) out[toHex(prefix)] = count;
    return out;
  }

  /** @internal The root node, for the shape checks of the tests (test/core/trie-shape.ts). */
  get rootNode(): CountNode {
    return this.#root;
  }
}

// Shared by every node without peers; never written to (a node gets an array of its own on its first peer).
const NO_PEERS: never[] = [];

/** @internal A node of a {@link MultiTrie}. */
export class PeerNode<P> implements Edge<PeerNode<P>> {
  /** Peers subscribed to exactly this prefix, in an array to iterate without allocating. */
  peers: P[] = NO_PEERS;
  /**
   * peer -> its index in `peers`, for O(1) membership and swap-removal, while there are two peers or
   * more; null for one peer or none (the common case of a topic one subscriber wants needs no Map).
   */
  where: Map<P, number> | null = null;
  label: Uint8Array = NO_BYTES;
  parent: PeerNode<P> | null = null;
  min = 0;
  table: (PeerNode<P> | null)[] | null = null;
  live = 0;
}

function hasNoPeers<P>(node: PeerNode<P>): boolean {
  return node.peers.length === 0;
}

/** Where `peer` is in `node.peers`, or -1. */
function indexOfPeer<P>(node: PeerNode<P>, peer: P): number {
  const where = node.where;
  if (where === null) return node.peers.length === 1 && node.peers[0] === peer ? 0 : -1;
  const i = where.get(peer);
  return i === undefined ? -1 : i;
}

/** Whether `node` holds `peer` (on the match path: one comparison or a Map lookup, no allocation). */
function holdsPeer<P>(node: PeerNode<P>, peer: P): boolean {
  const where = node.where;
  return where === null ? node.peers.length === 1 && node.peers[0] === peer : where.has(peer);
}

/** Adds `peer`, not yet there, to `node`. */
function putPeer<P>(node: PeerNode<P>, peer: P): void {
  const peers = node.peers;
  if (peers.length === 0) {
    node.peers = [peer];
    return;
  }
  peers.push(peer);
  if (node.where !== null) node.where.set(peer, peers.length - 1);
  else node.where = new Map([[peers[0], 0], [peer, 1]]);
}

/** Takes `peer` out of `node`; true when it was there. */
function takePeer<P>(node: PeerNode<P>, peer: P): boolean {
  const i = indexOfPeer(node, peer);
  if (i < 0) return false;
  const peers = node.peers;
  const where = node.where;
  const last = peers.pop()!;
  if (i < peers.length) {
    peers[i] = last;
    if (where !== null) where.set(last, i);
  }
  if (where !== null) {
    where.delete(peer);
    if (peers.length < 2) node.where = null;
  }
  if (peers.length === 0) node.peers = NO_PEERS;
  return true;
}

/**
 * Byte prefixes, each with the set of peers subscribed to it, as libzmq's `mtrie.cpp`: what a
 * PUB/XPUB socket knows of its subscribers. A peer subscribes to a prefix at most once (a set, not a
 * count); `add` / `remove` / `removePeer` report when a prefix gains its first or loses its last peer,
 * which is what XPUB tells its application by default. Each peer's nodes are also indexed, so a
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
  /**
   * Each peer's nodes. A node holding a peer is never pruned or merged away (only nodes holding
   * nothing are), so these stay in the trie while the peer holds them.
   */
  #byPeer = new Map<P, Set<PeerNode<P>>>();
  // Nodes with peers along the path of the message being matched; reused across calls.
  #found: (PeerNode<P> | null)[] = [];
  #matching = false;
  #make = (): PeerNode<P> => new PeerNode<P>();

  /** Distinct prefixes with at least one peer. */
  get size(): number {
    return this.#size;
  }

  /** Subscribes `peer` to `prefix`; true when the prefix had no peers before. Adding twice changes nothing. */
  add(prefix: Uint8Array, peer: P): boolean {
    const node = insert(this.#root, prefix, this.#make);
    if (holdsPeer(node, peer)) return false;
    putPeer(node, peer);
    let held = this.#byPeer.get(peer);
    if (held === undefined) {
      held = new Set();
      this.#byPeer.set(peer, held);
    }
    held.add(node);
    if (node.peers.length !== 1) return false;
    this.#size++;
    return true;
  }

  /** Unsubscribes `peer` from `prefix`; true when it was the prefix's last peer. Absent pairs return false. */
  remove(prefix: Uint8Array, peer: P): boolean {
    const node = find(this.#root, prefix);
    if (node === null || !takePeer(node, peer)) return false;
    const held = this.#byPeer.get(peer);
    if (held !== undefined) {
      held.delete(node);
      if (held.size === 0) this.#byPeer.delete(peer);
    }
    if (node.peers.length > 0) return false;
    this.#size--;
    release(node, hasNoPeers);
    return true;
  }

  /** How many peers hold exactly `prefix`. */
  count(prefix: Uint8Array): number {
    const node = find(this.#root, prefix);
    return node === null ? 0 : node.peers.length;
  }

  /** The prefixes `peer` holds, in byte order (fresh copies). */
  prefixesOf(peer: P): Uint8Array[] {
    const held = this.#byPeer.get(peer);
    if (held === undefined) return [];
    const out: Uint8Array[] = [];
    for (const node of held) out.push(prefixOf(node));
    return out.sort(compareBytes);
  }

  /** True when `peer` is subscribed to exactly `prefix`. */
  has(prefix: Uint8Array, peer: P): boolean {
    const node = find(this.#root, prefix);
    return node !== null && holdsPeer(node, peer);
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
    // First take the peer out everywhere and note the orphans' prefixes (while their paths stand),
    // then prune: pruning one orphan may take another along, which its own release then skips.
    const orphans: [prefix: Uint8Array, node: PeerNode<P>][] = [];
    for (const node of held) {
      if (takePeer(node, peer) && node.peers.length === 0) orphans.push([prefixOf(node), node]);
    }
    this.#size -= orphans.length;
    for (const [, node] of orphans) release(node, hasNoPeers);
    orphans.sort((a, b) => compareBytes(a[0], b[0]));
    for (const [prefix] of orphans) onLast(prefix);
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
    const len = data.length;
    let n = 0;
    let node = this.#root;
    let i = 0;
    for (;;) {
      if (node.peers.length > 0) found[n++] = node;
      if (i === len) break;
      const t = node.table;
      if (t === null) break;
      const c = data[i] - node.min;
      if (c < 0 || c >= t.length) break;
      const next = t[c];
      if (next === null) break;
      const label = next.label;
      const run = label.length;
      if (run > len - i) break;
      let k = 1;
      while (k < run && label[k] === data[i + k]) k++;
      if (k < run) break;
      i += run;
      node = next;
    }
    this.#matching = true;
    try {
      for (let k = 0; k < n; k++) {
        const peers = found[k]!.peers;
        outer: for (let j = 0; j < peers.length; j++) {
          const peer = peers[j];
          // Visit a peer at its shortest matching prefix only: skip it when a shorter one holds it
          // (a node found holds one peer, in `peers[0]`, or several, in `where`).
          for (let e = 0; e < k; e++) {
            const shorter = found[e]!;
            const where = shorter.where;
            if (where === null ? shorter.peers[0] === peer : where.has(peer)) continue outer;
          }
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
    for (const node of nodes(this.#root)) if (node.peers.length > 0) out.push([prefixOf(node), node.peers.slice()]);
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

  /** @internal The root node, for the shape checks of the tests (test/core/trie-shape.ts). */
  get rootNode(): PeerNode<P> {
    return this.#root;
  }
}
