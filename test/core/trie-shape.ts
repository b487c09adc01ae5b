// The shape checks of the tries (src/core/trie.ts), for the tests only: kept out of the shipped
// code, where they cost the browser bundle about as much as they cost nothing at runtime. They walk
// a trie from its root node and throw on a broken invariant.

import { BYTE_VALUES, MultiTrie, nodes, SubscriptionTrie } from '../../src/core/trie.js';
import type { Edge } from '../../src/core/trie.js';

/** What a trie's nodes and labels cost. */
export interface TrieShape {
  nodes: number;
  /** Bytes the labels show. */
  labelBytes: number;
  /** Bytes of the buffers under the labels (each buffer once). */
  bufferBytes: number;
}

/** Checks the trie's shape (throws when broken) and tells what its labels cost. */
export function shapeOf(trie: SubscriptionTrie | MultiTrie<unknown>): TrieShape {
  return trie instanceof SubscriptionTrie
    ? walk(trie.rootNode, (node) => node.count === 0)
    : walk(trie.rootNode, (node) => node.peers.length === 0);
}

function walk<N extends Edge<N>>(root: N, isEmpty: (node: N) => boolean): TrieShape {
  let count = 0;
  let labelBytes = 0;
  const buffers = new Set<ArrayBufferLike>();
  for (const node of nodes(root)) {
    count++;
    labelBytes += node.label.length;
    buffers.add(node.label.buffer);
    if (node !== root && node.label.length === 0) throw new Error('trie: an empty label below the root');
    if (node !== root && isEmpty(node) && node.live < 2) throw new Error('trie: a node holding nothing with fewer than two children');
    const t = node.table;
    if (t === null) {
      if (node.live !== 0) throw new Error('trie: live children counted without a table');
      continue;
    }
    if (t[0] === null || t[t.length - 1] === null) throw new Error('trie: a table not trimmed to its live children');
    let live = 0;
    for (let i = 0; i < t.length; i++) {
      const child = t[i];
      if (child === null) continue;
      live++;
      if (child.parent !== node) throw new Error('trie: a child whose parent is another node');
      if (child.label[0] !== node.min + i) throw new Error('trie: a child in the slot of another byte');
    }
    if (live !== node.live) throw new Error('trie: live children miscounted');
  }
  let bufferBytes = 0;
  for (const b of buffers) if (b !== BYTE_VALUES.buffer) bufferBytes += b.byteLength;
  return { nodes: count, labelBytes, bufferBytes };
}
