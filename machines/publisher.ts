// PUB (RFC 29 PUBSUB): fans each message out to the subscribers whose prefixes match its first
// frame; a subscriber at its HWM misses the message, and send never waits (unless noDrop). The
// machine hears subscriptions as facts from its peers and keeps who wants which prefix in the
// matching trie the runtime fans out with (one structure, changed in place by the actions here).
// No IO, no timers.

import { assign, setup } from 'xstate';
import type { EventObject } from 'xstate';
import { fromHex } from '../src/core/frame.js';
import { MultiTrie } from '../src/core/trie.js';
import { closeFastEdges, closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEvent } from './peers.js';
import { applyPeerEvent, isKnownPeer, leavesNoPeers, PeerTable } from './peers.js';
import { inPlaceActions, withFastEdges } from './fast-edges.js';
import type { FastEdgeOptions } from './fast-edges.js';

/** Who wants which prefix: prefix bytes -> the ids of the peers subscribed to it (a set per prefix,
 * libzmq `mtrie.cpp`). Shown to inspectors as `{ <prefix as hex>: [peer ids] }`. */
export type SubscriberTrie = MultiTrie<number>;

/** Subscriptions arriving from peers: `0x01`+prefix and `0x00`+prefix messages, as facts (prefix as hex). */
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
  /** ZMQ_INVERT_MATCHING: a message goes to the subscribers it does not match. */
  invertMatching?: boolean;
  /** ZMQ_XPUB_MANUAL (XPUB only): the application decides which subscriptions apply. */
  manual?: boolean;
  /** ZMQ_XPUB_WELCOME_MSG (XPUB only): the message, as hex, every new subscriber gets first; null for none. */
  welcomeMessage?: string | null;
}

/** What a message does for a subscriber at its HWM: dropped for it, or (noDrop) the send waits. */
export type WhenMute = 'drop' | 'wait';

export interface PublisherContext {
  peers: PeerTable;
  subscriptions: SubscriberTrie;
  whenMute: WhenMute;
  /** ZMQ_INVERT_MATCHING: each message goes to the subscribers none of whose prefixes match it. */
  invertMatching: boolean;
}

// ---- the rules, used by the machine's guards and by the socket's fast path ----

let lastHex = '';
let lastBytes: Uint8Array = new Uint8Array(0);

/**
 * Bytes of a prefix carried as hex in an event. The last answer is kept (a guard and an update of
 * one event ask for the same prefix): callers read it and never change it. Only short ones: a
 * module-wide copy of a peer's 10 MiB prefix would outlive its cancel (30 MiB with its hex).
 */
export function prefixBytes(hex: string): Uint8Array {
  if (hex === lastHex) return lastBytes;
  const out = fromHex(hex);
  if (hex.length <= KEPT_HEX) {
    lastHex = hex;
    lastBytes = out;
  }
  return out;
}

/** The longest prefix (as hex) prefixBytes keeps: 512 bytes. */
const KEPT_HEX = 1024;

/**
 * Tells prefixBytes the bytes of `hex` before an event carrying it is sent, so that the machine's
 * guard and update find them instead of decoding the hex again. `bytes` must not change afterwards
 * (the caller hands over a copy of anything it does not own).
 */
export function knownPrefix(hex: string, bytes: Uint8Array): void {
  if (hex.length > KEPT_HEX) return;
  lastHex = hex;
  lastBytes = bytes;
}

/** The bytes of each prefix of a batch (hex), by the batch's array: told by the socket with the event. */
const batches = new WeakMap<readonly string[], readonly Uint8Array[]>();

/** The bytes of every prefix in `hexes`, decoded unless {@link knownPrefixes} told them. */
export function prefixesBytes(hexes: readonly string[]): readonly Uint8Array[] {
  let bytes = batches.get(hexes);
  if (bytes === undefined) batches.set(hexes, (bytes = hexes.map(fromHex)));
  return bytes;
}

/** As {@link knownPrefix}, for a batch: `bytes[i]` are the bytes of `hexes[i]`, neither changed afterwards. */
export function knownPrefixes(hexes: readonly string[], bytes: readonly Uint8Array[]): void {
  batches.set(hexes, bytes);
}

/** Whether `peerId` holds `prefix` (hex). */
export function holdsPrefix(subscriptions: SubscriberTrie, prefix: string, peerId: number): boolean {
  return subscriptions.has(prefixBytes(prefix), peerId);
}

/** How many peers hold `prefix` (hex). */
export function subscriberCount(subscriptions: SubscriberTrie, prefix: string): number {
  return subscriptions.count(prefixBytes(prefix));
}

/** Some subscriber's pipe is at its HWM. */
export function hasMutePeer(peers: PeerTable): boolean {
  return peers.readyCount < peers.size;
}

/**
 * Whether a send must first check that every subscriber it matches has room (libzmq
 * `dist_t::check_hwm`): only with noDrop (`whenMute` 'wait') while some subscriber is mute. Otherwise
 * a message reaches each matching subscriber with room, and the others miss it (`dist_t::write`).
 */
export function checksRoom(context: PublisherContext): boolean {
  return context.whenMute === 'wait' && hasMutePeer(context.peers);
}

/**
 * Calls `visit` (with `this` = `thisArg`) once for each subscriber a message with first frame
 * `topic` goes to: those holding a prefix of it, or with `invertMatching` every other subscriber,
 * those with no subscription at all included (libzmq `xpub.cpp xsend`: `dist_t::reverse_match`).
 */
export function forEachRecipient<T>(context: PublisherContext, topic: Uint8Array, visit: (this: T, peerId: number) => void, thisArg: T): void {
  if (!context.invertMatching) {
    context.subscriptions.match(topic, visit, thisArg);
    return;
  }
  const matched = new Set<number>();
  context.subscriptions.match(topic, matched.add, matched);
  for (const entry of context.peers) if (!matched.has(entry.id)) visit.call(thisArg, entry.id);
}

/** A subscribe that changes something: a known peer subscribing to a prefix it does not hold yet. */
export function isNewSubscription(context: PublisherContext, event: { type: string; peerId?: number; prefix?: string }): boolean {
  return event.type === 'subscription.added' && isKnownPeer(context.peers, event) && !holdsPrefix(context.subscriptions, event.prefix as string, event.peerId as number);
}

/** A cancel that changes something: a known peer cancelling a prefix it holds. */
export function isHeldSubscription(context: PublisherContext, event: { type: string; peerId?: number; prefix?: string }): boolean {
  return event.type === 'subscription.removed' && holdsPrefix(context.subscriptions, event.prefix as string, event.peerId as number);
}

type Ev = PeerEvent | CloseEvent | SubscriptionEvent | ConfigureEvent;

// ---- what the PUB and XPUB machines share ----

/** The context updates PUB and XPUB share, in place: the peer table, and the subscriptions of a peer. */
function updatePublisher(context: PublisherContext, event: { type: string }): void {
  const e = event as Ev;
  switch (e.type) {
    case 'peer.detached':
      context.subscriptions.removePeer(e.peerId, ignorePrefix);
      applyPeerEvent(context.peers, e);
      return;
    case 'subscription.added':
      context.subscriptions.add(prefixBytes(e.prefix), e.peerId);
      return;
    case 'subscription.removed':
      context.subscriptions.remove(prefixBytes(e.prefix), e.peerId);
      return;
    default:
      applyPeerEvent(context.peers, e);
  }
}

function ignorePrefix(_prefix: Uint8Array): void {}

/** @internal The in-place updates PUB and XPUB share (their actions, and their fast edges' updates). */
export const subscriptionUpdates = {
  attachPeer: updatePublisher,
  detachPeer: updatePublisher,
  identifyPeer: updatePublisher,
  markMuted: updatePublisher,
  markReady: updatePublisher,
  addSubscription: updatePublisher,
  removeSubscription: updatePublisher,
};

/**
 * @internal The actions PUB and XPUB share: {@link subscriptionUpdates}, and `configure` (what a
 * mute peer means), for `setup({ actions })` of a machine whose context extends {@link PublisherContext}.
 */
export function publisherActions<TContext extends PublisherContext, TEvent extends EventObject>() {
  return {
    ...inPlaceActions<TContext, TEvent, typeof subscriptionUpdates>(subscriptionUpdates),
    configure: assign<TContext, TEvent, undefined, TEvent, never>(({ event }) => {
      const e = event as unknown as Ev;
      if (e.type !== 'configure') return {};
      const changes: Partial<PublisherContext> = {};
      if (e.noDrop !== undefined) changes.whenMute = e.noDrop ? 'wait' : 'drop';
      if (e.invertMatching !== undefined) changes.invertMatching = e.invertMatching;
      return changes as Partial<TContext>;
    }),
  };
}

/** @internal Guards PUB and XPUB share: they pick the sending state (noPeers, flowing, congested). */
export const publishingGuards = {
  isKnownPeer: ({ context, event }: { context: PublisherContext; event: { type: string } }) => isKnownPeer(context.peers, event),
  leavesNoPeers: ({ context, event }: { context: PublisherContext; event: { type: string } }) => leavesNoPeers(context.peers, event),
  hasMutePeer: ({ context }: { context: PublisherContext }) => hasMutePeer(context.peers),
  /** The last mute subscriber leaves or drains: every remaining pipe has room. */
  leavesNoMutePeer: ({ context, event }: { context: PublisherContext; event: { type: string } }) => {
    if (!isKnownPeer(context.peers, event) || context.peers.size - context.peers.readyCount !== 1) return false;
    const entry = context.peers.get((event as { type: string; peerId?: number }).peerId as number);
    return entry !== undefined && !entry.ready && (event.type === 'peer.detached' || event.type === 'pipe.ready');
  },
};

/**
 * The peer edges PUB and XPUB share, picking the sending state after each: no subscriber, all with
 * room, or some at their HWM (where `whenMute` says drop or wait). `detach` is the detach
 * transition's actions (XPUB reports cancels first).
 */
export function publishingEdges(detach: readonly unknown[]): Record<string, never> {
  // Typed loosely: the two machines' action names differ, and each machine's setup() checks its own.
  const edges = {
    // A new subscriber's pipe has room: congested stays congested if another is mute.
    'peer.attached': [{ guard: 'hasMutePeer', target: '.congested', actions: 'attachPeer' }, { target: '.flowing', actions: 'attachPeer' }],
    'peer.detached': [
      { guard: 'leavesNoPeers', target: '.noPeers', actions: detach },
      { guard: 'leavesNoMutePeer', target: '.flowing', actions: detach },
      { guard: 'isKnownPeer', actions: detach },
    ],
    'peer.identified': { actions: 'identifyPeer' },
    'pipe.muted': { guard: 'isKnownPeer', target: '.congested', actions: 'markMuted' },
    'pipe.ready': [{ guard: 'leavesNoMutePeer', target: '.flowing', actions: 'markReady' }, { guard: 'isKnownPeer', actions: 'markReady' }],
  };
  return edges as unknown as Record<string, never>;
}

/** The sending states PUB and XPUB share. */
export const publishingStates = {
  /** No subscriber: a message goes nowhere, and send completes at once (libzmq drops it). */
  noPeers: {},
  /** Every subscriber's pipe has room: a message reaches each subscriber that matches. */
  flowing: {},
  /** Some subscriber is at its HWM: it misses messages (`whenMute` 'drop'), or a send that
   * matches it waits (`whenMute` 'wait', noDrop: EAGAIN once sendTimeout passes): `checksRoom`. */
  congested: {},
};

// Subscriptions come by the thousand (a peer may send any number): they take the fast-edge
// shortcut (machines/fast-edges.ts), a guard and an in-place trie update, no xstate macrostep.
export const publisherMachine = /* @__PURE__ */ withFastEdges(setup({
  types: {
    context: {} as PublisherContext,
    events: {} as Ev,
  },
  guards: {
    ...publishingGuards,
    isNewSubscription: ({ context, event }) => isNewSubscription(context, event),
    isHeldSubscription: ({ context, event }) => isHeldSubscription(context, event),
    shouldLinger: closeShouldLinger,
  },
  actions: {
    ...publisherActions<PublisherContext, Ev>(),
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'pub',
  context: () => ({ peers: new PeerTable(), subscriptions: new MultiTrie<number>(), whenMute: 'drop' as WhenMute, invertMatching: false }),
  initial: 'open',
  states: {
    open: {
      initial: 'noPeers',
      on: {
        ...publishingEdges(['detachPeer']),
        'subscription.added': { guard: 'isNewSubscription', actions: 'addSubscription' },
        'subscription.removed': { guard: 'isHeldSubscription', actions: 'removeSubscription' },
        configure: { actions: 'configure' },
        close: closeTransitions,
      },
      states: publishingStates,
    },
    ...closingStates,
  },
}), {
  guards: ['isNewSubscription', 'isHeldSubscription', 'isKnownPeer', 'leavesNoPeers', 'hasMutePeer', 'leavesNoMutePeer', ...closeFastEdges.guards],
  effects: closeFastEdges.effects,
  updates: subscriptionUpdates as FastEdgeOptions['updates'],
});
