// PUB (RFC 29 PUBSUB): fans each message out to the subscribers whose prefixes match its first
// frame; a subscriber at its HWM misses the message, and send never waits (unless noDrop). The
// machine hears subscriptions as facts from its peers and keeps who wants which prefix; the
// runtime keeps the matching trie in step through the effects named here. No IO, no timers.

import { assign, setup } from 'xstate';
import type { EventObject } from 'xstate';
import { closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEntry, PeerEvent } from './peers.js';
import { isKnownPeer, withPeer, withoutPeer, withReady } from './peers.js';

/**
 * Who wants which prefix: the prefix as lowercase hex (`''` is the empty prefix, which matches
 * every message) -> the ids of the peers subscribed to it. A peer holds a prefix at most once
 * (libzmq `mtrie.cpp` keeps a set of pipes per prefix, not a count).
 */
export type SubscriberTable = Record<string, number[]>;

/** Subscriptions arriving from peers: `0x01`+prefix and `0x00`+prefix messages, as facts. */
export type SubscriptionEvent =
  | { type: 'subscription.added'; peerId: number; prefix: string }
  | { type: 'subscription.removed'; peerId: number; prefix: string };

/** XPUB verbosity (ZMQ_XPUB_VERBOSE / ZMQ_XPUB_VERBOSER), in zeromq.js's spelling. */
export type Verbosity = null | 'allSubs' | 'allSubsUnsubs';

/** Command: the application changed an option the machine decides with. */
export interface ConfigureEvent {
  type: 'configure';
  noDrop?: boolean;
  verbosity?: Verbosity;
}

/** What a message does for a subscriber at its HWM: dropped for it, or (noDrop) the send waits. */
export type WhenMute = 'drop' | 'wait';

export interface PublisherContext {
  peers: PeerEntry[];
  subscriptions: SubscriberTable;
  whenMute: WhenMute;
}

/** Parameters of the trie effects: which peer, which prefix (hex). */
export interface PrefixParams {
  peerId: number;
  prefix: string;
}

// ---- pure helpers, shared with the XPUB machine ----

/** The table with `peerId` subscribed to `prefix` (unchanged if it already was). */
export function withSubscriber(table: SubscriberTable, prefix: string, peerId: number): SubscriberTable {
  const ids = Object.hasOwn(table, prefix) ? table[prefix] : undefined;
  if (ids === undefined) return { ...table, [prefix]: [peerId] };
  if (ids.includes(peerId)) return table;
  return { ...table, [prefix]: [...ids, peerId] };
}

/** The table without `peerId` on `prefix`; a prefix nobody wants any more disappears. */
export function withoutSubscriber(table: SubscriberTable, prefix: string, peerId: number): SubscriberTable {
  const ids = Object.hasOwn(table, prefix) ? table[prefix] : undefined;
  if (ids === undefined || !ids.includes(peerId)) return table;
  const out: SubscriberTable = {};
  for (const key of Object.keys(table)) {
    if (key !== prefix) out[key] = table[key];
    else if (ids.length > 1) out[key] = ids.filter((id) => id !== peerId);
  }
  return out;
}

/** The table without any subscription of `peerId` (it detached). */
export function withoutSubscriberAnywhere(table: SubscriberTable, peerId: number): SubscriberTable {
  let changed = false;
  const out: SubscriberTable = {};
  for (const key of Object.keys(table)) {
    const ids = table[key];
    if (!ids.includes(peerId)) {
      out[key] = ids;
      continue;
    }
    changed = true;
    if (ids.length > 1) out[key] = ids.filter((id) => id !== peerId);
  }
  return changed ? out : table;
}

/** Whether `peerId` holds `prefix`. */
export function holdsPrefix(table: SubscriberTable, prefix: string, peerId: number): boolean {
  return Object.hasOwn(table, prefix) && table[prefix].includes(peerId);
}

/** How many peers hold `prefix`. */
export function subscriberCount(table: SubscriberTable, prefix: string): number {
  return Object.hasOwn(table, prefix) ? table[prefix].length : 0;
}

/**
 * The prefixes `peerId` holds; with `onlyLast`, just those nobody else holds. In byte order, as
 * libzmq walks its trie (lowercase hex sorts as its bytes do).
 */
export function prefixesOf(table: SubscriberTable, peerId: number, onlyLast: boolean): string[] {
  const out: string[] = [];
  for (const key of Object.keys(table)) {
    const ids = table[key];
    if (ids.includes(peerId) && (!onlyLast || ids.length === 1)) out.push(key);
  }
  return out.sort();
}

export function hasMutePeer(peers: readonly PeerEntry[]): boolean {
  for (const p of peers) if (!p.ready) return true;
  return false;
}

type Ev = PeerEvent | CloseEvent | SubscriptionEvent | ConfigureEvent;

const knownPeer = ({ context, event }: { context: { peers: PeerEntry[] }; event: Ev }) =>
  'peerId' in event && isKnownPeer(context.peers, event.peerId);

// Context updates shared by the PUB and XPUB machines: peer bookkeeping and the subscriber table.
const publisherUpdates = {
  attachPeer: (context: PublisherContext, event: Ev): Partial<PublisherContext> =>
    event.type === 'peer.attached' ? { peers: withPeer(context.peers, event) } : {},
  detachPeer: (context: PublisherContext, event: Ev): Partial<PublisherContext> =>
    event.type === 'peer.detached'
      ? { peers: withoutPeer(context.peers, event.peerId), subscriptions: withoutSubscriberAnywhere(context.subscriptions, event.peerId) }
      : {},
  markMuted: (context: PublisherContext, event: Ev): Partial<PublisherContext> =>
    event.type === 'pipe.muted' ? { peers: withReady(context.peers, event.peerId, false) } : {},
  markReady: (context: PublisherContext, event: Ev): Partial<PublisherContext> =>
    event.type === 'pipe.ready' ? { peers: withReady(context.peers, event.peerId, true) } : {},
  addSubscription: (context: PublisherContext, event: Ev): Partial<PublisherContext> =>
    event.type === 'subscription.added' ? { subscriptions: withSubscriber(context.subscriptions, event.prefix, event.peerId) } : {},
  removeSubscription: (context: PublisherContext, event: Ev): Partial<PublisherContext> =>
    event.type === 'subscription.removed' ? { subscriptions: withoutSubscriber(context.subscriptions, event.prefix, event.peerId) } : {},
  configure: (_context: PublisherContext, event: Ev): Partial<PublisherContext> =>
    event.type === 'configure' && event.noDrop !== undefined ? { whenMute: event.noDrop ? 'wait' : 'drop' } : {},
};

/**
 * @internal The actions PUB and XPUB share (`attachPeer`, `detachPeer`, `markMuted`, `markReady`,
 * `addSubscription`, `removeSubscription`, `configure`), for `setup({ actions })` of a machine whose
 * context extends {@link PublisherContext}.
 */
export function publisherActions<TContext extends PublisherContext, TEvent extends EventObject>() {
  const act = (update: (context: PublisherContext, event: Ev) => Partial<PublisherContext>) =>
    assign<TContext, TEvent, undefined, TEvent, never>(({ context, event }) => update(context, event as unknown as Ev) as Partial<TContext>);
  return {
    attachPeer: act(publisherUpdates.attachPeer),
    detachPeer: act(publisherUpdates.detachPeer),
    markMuted: act(publisherUpdates.markMuted),
    markReady: act(publisherUpdates.markReady),
    addSubscription: act(publisherUpdates.addSubscription),
    removeSubscription: act(publisherUpdates.removeSubscription),
    configure: act(publisherUpdates.configure),
  };
}

/** @internal */
export const prefixParams = ({ event }: { event: Ev }): PrefixParams =>
  'prefix' in event ? { peerId: event.peerId, prefix: event.prefix } : { peerId: -1, prefix: '' };

/**
 * The sending states PUB and XPUB share, picked from the peers after every edge: no subscriber,
 * all with room, or some at their HWM (where `whenMute` says drop or wait).
 */
export const publishingStates = {
  // Transient: picks the state from the peers.
  routing: {
    always: [{ guard: 'hasNoPeers' as const, target: 'noPeers' }, { guard: 'hasMutePeer' as const, target: 'congested' }, { target: 'flowing' }],
  },
  /** No subscriber: a message goes nowhere, and send completes at once (libzmq drops it). */
  noPeers: {},
  /** Every subscriber's pipe has room: a message reaches each subscriber that matches. */
  flowing: {},
  /** Some subscriber is at its HWM: it misses messages (`whenMute` 'drop'), or a send that
   * matches it waits (`whenMute` 'wait', noDrop: EAGAIN once sendTimeout passes). */
  congested: {},
};

export const publisherMachine = setup({
  types: {
    context: {} as PublisherContext,
    events: {} as Ev,
  },
  guards: {
    hasNoPeers: ({ context }) => context.peers.length === 0,
    hasMutePeer: ({ context }) => hasMutePeer(context.peers),
    isKnownPeer: knownPeer,
    /** A known peer subscribing to a prefix it does not hold yet (a repeat changes nothing). */
    isNewSubscription: ({ context, event }) =>
      event.type === 'subscription.added' && knownPeer({ context, event }) && !holdsPrefix(context.subscriptions, event.prefix, event.peerId),
    /** A known peer cancelling a prefix it holds (other cancels change nothing). */
    isHeldSubscription: ({ context, event }) =>
      event.type === 'subscription.removed' && holdsPrefix(context.subscriptions, event.prefix, event.peerId),
    shouldLinger: closeShouldLinger,
  },
  actions: {
    ...publisherActions<PublisherContext, Ev>(),
    // Effects, provided by the runtime: keep the matching trie in step with `subscriptions`.
    /** Subscribe the peer's pipe to the prefix in the trie that `send()` matches against. */
    subscribePeer: (_: unknown, _params: PrefixParams) => {},
    /** Take the peer's pipe off the prefix in the trie. */
    unsubscribePeer: (_: unknown, _params: PrefixParams) => {},
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'pub',
  context: { peers: [], subscriptions: {}, whenMute: 'drop' },
  initial: 'open',
  states: {
    open: {
      initial: 'noPeers',
      on: {
        'peer.attached': { target: '.routing', actions: 'attachPeer' },
        // The runtime forgets a detached peer's trie entries itself (it holds the pipe, not the id).
        'peer.detached': { guard: 'isKnownPeer', target: '.routing', actions: 'detachPeer' },
        'pipe.muted': { guard: 'isKnownPeer', target: '.routing', actions: 'markMuted' },
        'pipe.ready': { guard: 'isKnownPeer', target: '.routing', actions: 'markReady' },
        'subscription.added': { guard: 'isNewSubscription', actions: ['addSubscription', { type: 'subscribePeer', params: prefixParams }] },
        'subscription.removed': { guard: 'isHeldSubscription', actions: ['removeSubscription', { type: 'unsubscribePeer', params: prefixParams }] },
        configure: { target: '.routing', actions: 'configure' },
        close: closeTransitions,
      },
      states: publishingStates,
    },
    ...closingStates,
  },
});
