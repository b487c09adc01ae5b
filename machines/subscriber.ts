// SUB (RFC 29 PUBSUB): receives from its publishers, keeping the messages whose first frame starts
// with a subscribed prefix. Subscriptions are counted (RFC 29: additive) in a trie the machine keeps
// and its actions change in place; the receive filter reads that same trie. They travel upstream as
// `0x01`+prefix / `0x00`+prefix messages: the machine decides what is sent and when, the runtime
// writes it. No IO, no timers.

import { assign, setup } from 'xstate';
import { toHex } from '../src/core/frame.js';
import { SubscriptionTrie } from '../src/core/trie.js';
import { closeFastEdges, closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEvent } from './peers.js';
import { isKnownPeer, leavesNoPeers, PeerTable, peerUpdates } from './peers.js';
import { prefixBytes, prefixesBytes } from './publisher.js';
import { inPlaceActions, withFastEdges } from './fast-edges.js';

/**
 * subscribe() calls the machine has heard but not yet counted or sent upstream, oldest first (hex).
 * A Subscriber queues here the calls of one turn of the event loop past the first
 * SUBSCRIPTIONS_PER_TURN (each costs its caller an in-place push, not a transition with effects),
 * and applies them in `subscribe.batch` events with `pending: true` on the next turns: before any
 * other subscribe or unsubscribe, before it reads a message, and when it closes. Shown as the list.
 */
export class PendingSubscribes {
  #items: string[] = [];
  /** The bytes of each prefix, kept so that a batch need not decode the hex again. */
  #bytes: Uint8Array[] = [];
  #head = 0;

  /** How many wait. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  push(prefix: string, bytes: Uint8Array): void {
    this.#items.push(prefix);
    this.#bytes.push(bytes);
  }

  /** The oldest `n` (all by default), left in place. */
  peek(n = Infinity): string[] {
    return this.#items.slice(this.#head, Math.min(this.#items.length, this.#head + n));
  }

  /** The bytes of the oldest `n`, as {@link peek} gives their hex. */
  peekBytes(n = Infinity): Uint8Array[] {
    return this.#bytes.slice(this.#head, Math.min(this.#bytes.length, this.#head + n));
  }

  /** Drops the oldest `n`. */
  drop(n: number): void {
    this.#head += n;
    if (this.#head >= this.#items.length) {
      this.#items = [];
      this.#bytes = [];
      this.#head = 0;
    }
  }

  toJSON(): string[] {
    return this.peek();
  }

  clone(): PendingSubscribes {
    const copy = new PendingSubscribes();
    copy.#items = this.peek();
    copy.#bytes = this.peekBytes();
    return copy;
  }
}

export interface SubscriberContext {
  peers: PeerTable;
  /** Subscribed prefixes with their counts (libzmq `trie.cpp`). Shown as `{ <prefix as hex>: count }`. */
  subscriptions: SubscriptionTrie;
  /** subscribe() calls heard, not yet counted or sent (see {@link PendingSubscribes}). */
  pending: PendingSubscribes;
  /** ZMQ_INVERT_MATCHING (SUB): keep the messages that match none of the subscriptions instead. */
  invertMatching: boolean;
}

/**
 * Commands from the application (prefixes as hex). `subscribe.batch` is many subscribes at once, in
 * order; it counts and travels as that many `subscribe` events would. `subscribe.queued` is a
 * subscribe that waits in `pending`, counted and sent later by a `subscribe.batch` with `pending`:
 * its prefixes are the oldest pending ones, which it takes out.
 */
export type SubscribeEvent =
  | { type: 'subscribe'; prefix: string }
  | { type: 'unsubscribe'; prefix: string }
  | { type: 'subscribe.queued'; prefix: string }
  | { type: 'subscribe.batch'; prefixes: readonly string[]; pending?: boolean };

/** Command: the application changed an option the machine decides with (as PUB and XPUB hear it). */
export interface SubscriberConfigureEvent {
  type: 'configure';
  /** ZMQ_INVERT_MATCHING: receive the messages that match none of the subscriptions. */
  invertMatching?: boolean;
}

/** Parameters of the `sendSubscription` effect: one message to every publisher. */
export interface SubscriptionParams {
  /** true: `0x01`+prefix; false: `0x00`+prefix. */
  subscribe: boolean;
  prefix: string;
}

/** Parameters of the `sendSubscriptions` effect: a subscribe message per prefix, in order, to every publisher. */
export interface SubscriptionsParams {
  prefixes: readonly string[];
}

/** Parameters of the `replaySubscriptions` effect: every subscribed prefix, to one new publisher. */
export interface ReplayParams {
  peerId: number;
  prefixes: string[];
}

type Ev = PeerEvent | CloseEvent | SubscribeEvent | SubscriberConfigureEvent;

// ---- the rules, used by the machine's guards and by the socket's fast path ----

/** Whether a received message is kept: some subscribed prefix starts its first frame (libzmq
 * `xsub.cpp` filters again on receive: a publisher may send more than was asked), or, with
 * `invertMatching` (a SUB's ZMQ_INVERT_MATCHING), none does (`xsub_t::match`). */
export function isWanted(context: Pick<SubscriberContext, 'subscriptions' | 'invertMatching'>, topic: Uint8Array): boolean {
  return context.subscriptions.matches(topic) !== context.invertMatching;
}

/** How many times `prefix` (hex) is subscribed. */
export function countOf(subscriptions: SubscriptionTrie, prefix: string): number {
  return subscriptions.count(prefixBytes(prefix));
}


/** Every subscribed prefix once, in byte order, as hex (libzmq replays its trie in that order). */
export function subscribedPrefixes(subscriptions: SubscriptionTrie): string[] {
  const out: string[] = [];
  for (const [prefix] of subscriptions.entries()) out.push(toHex(prefix));
  return out;
}

const prefixOf = ({ event }: { event: Ev }): string => ('prefix' in event ? event.prefix : '');

/** The in-place changes of the subscription counts (a batch of pending ones leaves `pending`). */
const countUp = (context: SubscriberContext, event: Ev): void => {
  if (event.type === 'subscribe') context.subscriptions.add(prefixBytes(event.prefix));
  else if (event.type === 'subscribe.batch') {
    for (const prefix of prefixesBytes(event.prefixes)) context.subscriptions.add(prefix);
    if (event.pending === true) context.pending.drop(event.prefixes.length);
  }
};
/** A subscribe that waits to be counted and sent. */
const queueSubscribe = (context: SubscriberContext, event: Ev): void => {
  if (event.type === 'subscribe.queued') context.pending.push(event.prefix, prefixBytes(event.prefix));
};
const countDown = (context: SubscriberContext, event: Ev): void => {
  if (event.type === 'unsubscribe') context.subscriptions.remove(prefixBytes(event.prefix));
};
/** Every in-place update of these machines: their actions, and their fast edges' updates. */
const updates = { ...peerUpdates, countUp, countDown, queueSubscribe };

/**
 * @internal The SUB and XSUB machines are the same statechart (libzmq's `sub.cpp` is `xsub.cpp`
 * with `subscribe()` turned into messages); only the id differs.
 */
export function createSubscriberMachine<Id extends string>(id: Id) {
  // subscribe() may be called thousands of times: those edges take the fast-edge shortcut.
  return withFastEdges(setup({
    types: {
      context: {} as SubscriberContext,
      events: {} as Ev,
    },
    guards: {
      leavesNoPeers: ({ context, event }) => leavesNoPeers(context.peers, event),
      isKnownPeer: ({ context, event }) => isKnownPeer(context.peers, event),
      /** This unsubscribe takes the count to 0: the publishers are told. */
      isLastSubscription: ({ context, event }) => event.type === 'unsubscribe' && countOf(context.subscriptions, event.prefix) === 1,
      isSubscribed: ({ context, event }) => event.type === 'unsubscribe' && countOf(context.subscriptions, event.prefix) > 0,
      shouldLinger: closeShouldLinger,
    },
    actions: {
      ...inPlaceActions<SubscriberContext, Ev, typeof updates>(updates),
      // Effects, provided by the runtime.
      /** Write a subscription message to every publisher whose pipe has room (dropped for the others). */
      sendSubscription: (_: unknown, _params: SubscriptionParams) => {},
      /** The same for many subscribes at once: each prefix's message, in order, to every publisher. */
      sendSubscriptions: (_: unknown, _params: SubscriptionsParams) => {},
      /** Write every subscribed prefix to a new publisher; what does not fit its SNDHWM is dropped
       * silently (libzmq#2258). */
      replaySubscriptions: (_: unknown, _params: ReplayParams) => {},
      /** Takes the options the event names (ZMQ_INVERT_MATCHING) into context. */
      configure: assign(({ event }) => (event.type === 'configure' && event.invertMatching !== undefined ? { invertMatching: event.invertMatching } : {})),
      startLinger: () => {},
      release: () => {},
    },
  }).createMachine({
    id,
    context: () => ({ peers: new PeerTable(), subscriptions: new SubscriptionTrie(), pending: new PendingSubscribes(), invertMatching: false }),
    initial: 'open',
    states: {
      open: {
        initial: 'noPeers',
        on: {
          // libzmq `xsub_t::xattach_pipe`: a new upstream peer gets every cached subscription.
          'peer.attached': {
            target: '.attached',
            actions: [
              'attachPeer',
              {
                type: 'replaySubscriptions',
                params: ({ context, event }) => ({ peerId: 'peerId' in event ? event.peerId : -1, prefixes: subscribedPrefixes(context.subscriptions) }),
              },
            ],
          },
          'peer.detached': [{ guard: 'leavesNoPeers', target: '.noPeers', actions: 'detachPeer' }, { guard: 'isKnownPeer', actions: 'detachPeer' }],
          'peer.identified': { actions: 'identifyPeer' },
          'pipe.muted': { guard: 'isKnownPeer', actions: 'markMuted' },
          'pipe.ready': { guard: 'isKnownPeer', actions: 'markReady' },
          // libzmq `xsub.cpp` forwards every subscribe, repeats included (a forwarding device's
          // verbose XPUB must see them), and a cancel only when the count reaches 0.
          subscribe: {
            actions: ['countUp', { type: 'sendSubscription', params: ({ event }) => ({ subscribe: true, prefix: prefixOf({ event }) }) }],
          },
          'subscribe.queued': { actions: 'queueSubscribe' },
          'subscribe.batch': {
            actions: ['countUp', { type: 'sendSubscriptions', params: ({ event }) => ({ prefixes: 'prefixes' in event ? event.prefixes : [] }) }],
          },
          unsubscribe: [
            {
              guard: 'isLastSubscription',
              actions: ['countDown', { type: 'sendSubscription', params: ({ event }) => ({ subscribe: false, prefix: prefixOf({ event }) }) }],
            },
            // Still wanted by an earlier subscribe: only the count drops. An unsubscribe of a
            // prefix that is not subscribed matches neither transition and changes nothing.
            { guard: 'isSubscribed', actions: 'countDown' },
          ],
          configure: { actions: 'configure' },
          close: closeTransitions,
        },
        states: {
          /** No publisher: receive waits; subscriptions are kept and replayed when one attaches. */
          noPeers: {},
          /** One or more publishers: receive fair-queues the messages that match (`isWanted`). */
          attached: {},
        },
      },
      ...closingStates,
    },
  }), {
    guards: ['isLastSubscription', 'isSubscribed', 'leavesNoPeers', 'isKnownPeer', ...closeFastEdges.guards],
    effects: ['sendSubscription', 'sendSubscriptions', 'replaySubscriptions', ...closeFastEdges.effects],
    updates: updates as never,
  });
}

export const subscriberMachine = /* @__PURE__ */ createSubscriberMachine('sub');
