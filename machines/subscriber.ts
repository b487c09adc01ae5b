// SUB (RFC 29 PUBSUB): receives from its publishers, keeping the messages whose first frame starts
// with a subscribed prefix. Subscriptions are counted (RFC 29: additive) and travel upstream as
// `0x01`+prefix / `0x00`+prefix messages; the machine decides what is sent and when, the runtime
// writes it and keeps the receive filter in step. No IO, no timers.

import { assign, setup } from 'xstate';
import { closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEntry, PeerEvent } from './peers.js';
import { isKnownPeer, peerListActions } from './peers.js';

/** Subscribed prefixes as lowercase hex (`''` matches every message) -> how many times. */
export type SubscriptionCounts = Record<string, number>;

export interface SubscriberContext {
  peers: PeerEntry[];
  subscriptions: SubscriptionCounts;
}

/** Commands from the application (prefix as hex). */
export type SubscribeEvent = { type: 'subscribe'; prefix: string } | { type: 'unsubscribe'; prefix: string };

/** Parameters of the filter effects. */
export interface FilterParams {
  prefix: string;
}

/** Parameters of the `sendSubscription` effect: one message to every publisher. */
export interface SubscriptionParams {
  /** true: `0x01`+prefix; false: `0x00`+prefix. */
  subscribe: boolean;
  prefix: string;
}

/** Parameters of the `replaySubscriptions` effect: every subscribed prefix, to one new publisher. */
export interface ReplayParams {
  peerId: number;
  prefixes: string[];
}

type Ev = PeerEvent | CloseEvent | SubscribeEvent;

export function countOf(counts: SubscriptionCounts, prefix: string): number {
  return Object.hasOwn(counts, prefix) ? counts[prefix] : 0;
}

export function withCount(counts: SubscriptionCounts, prefix: string, delta: 1 | -1): SubscriptionCounts {
  const n = countOf(counts, prefix) + delta;
  if (n > 0) return { ...counts, [prefix]: n };
  const out: SubscriptionCounts = {};
  for (const key of Object.keys(counts)) if (key !== prefix) out[key] = counts[key];
  return out;
}

/** Every subscribed prefix once, in byte order (libzmq replays its trie in that order). */
export function subscribedPrefixes(counts: SubscriptionCounts): string[] {
  return Object.keys(counts).sort();
}

const filterParams = ({ event }: { event: Ev }): FilterParams => ({ prefix: 'prefix' in event ? event.prefix : '' });

/**
 * @internal The SUB and XSUB machines are the same statechart (libzmq's `sub.cpp` is `xsub.cpp`
 * with `subscribe()` turned into messages); only the id differs.
 */
export function createSubscriberMachine<Id extends string>(id: Id) {
  return setup({
    types: {
      context: {} as SubscriberContext,
      events: {} as Ev,
    },
    guards: {
      hasNoPeers: ({ context }) => context.peers.length === 0,
      isKnownPeer: ({ context, event }) => 'peerId' in event && isKnownPeer(context.peers, event.peerId),
      /** This unsubscribe takes the count to 0: the publishers are told. */
      isLastSubscription: ({ context, event }) => event.type === 'unsubscribe' && countOf(context.subscriptions, event.prefix) === 1,
      isSubscribed: ({ context, event }) => event.type === 'unsubscribe' && countOf(context.subscriptions, event.prefix) > 0,
      shouldLinger: closeShouldLinger,
    },
    actions: {
      ...peerListActions<SubscriberContext, Ev>(),
      countUp: assign({ subscriptions: ({ context, event }) => (event.type === 'subscribe' ? withCount(context.subscriptions, event.prefix, 1) : context.subscriptions) }),
      countDown: assign({ subscriptions: ({ context, event }) => (event.type === 'unsubscribe' ? withCount(context.subscriptions, event.prefix, -1) : context.subscriptions) }),
      // Effects, provided by the runtime.
      /** Count the prefix once more in the receive filter. */
      addFilter: (_: unknown, _params: FilterParams) => {},
      /** Count the prefix once less in the receive filter. */
      removeFilter: (_: unknown, _params: FilterParams) => {},
      /** Write a subscription message to every publisher whose pipe has room (dropped for the others). */
      sendSubscription: (_: unknown, _params: SubscriptionParams) => {},
      /** Write every subscribed prefix to a new publisher; what does not fit its SNDHWM is dropped
       * silently (libzmq#2258). */
      replaySubscriptions: (_: unknown, _params: ReplayParams) => {},
      startLinger: () => {},
      release: () => {},
    },
  }).createMachine({
    id,
    context: { peers: [], subscriptions: {} },
    initial: 'open',
    states: {
      open: {
        initial: 'noPeers',
        on: {
          // libzmq `xsub_t::xattach_pipe`: a new upstream peer gets every cached subscription.
          'peer.attached': {
            target: '.routing',
            actions: [
              'attachPeer',
              {
                type: 'replaySubscriptions',
                params: ({ context, event }) => ({ peerId: 'peerId' in event ? event.peerId : -1, prefixes: subscribedPrefixes(context.subscriptions) }),
              },
            ],
          },
          'peer.detached': { guard: 'isKnownPeer', target: '.routing', actions: 'detachPeer' },
          'pipe.muted': { guard: 'isKnownPeer', actions: 'markMuted' },
          'pipe.ready': { guard: 'isKnownPeer', actions: 'markReady' },
          // libzmq `xsub.cpp` forwards every subscribe, repeats included (a forwarding device's
          // verbose XPUB must see them), and a cancel only when the count reaches 0.
          subscribe: {
            actions: [
              'countUp',
              { type: 'addFilter', params: filterParams },
              { type: 'sendSubscription', params: ({ event }) => ({ subscribe: true, prefix: 'prefix' in event ? event.prefix : '' }) },
            ],
          },
          unsubscribe: [
            {
              guard: 'isLastSubscription',
              actions: [
                'countDown',
                { type: 'removeFilter', params: filterParams },
                { type: 'sendSubscription', params: ({ event }) => ({ subscribe: false, prefix: 'prefix' in event ? event.prefix : '' }) },
              ],
            },
            // Still wanted by an earlier subscribe: only the count drops. An unsubscribe of a
            // prefix that is not subscribed matches neither transition and changes nothing.
            { guard: 'isSubscribed', actions: ['countDown', { type: 'removeFilter', params: filterParams }] },
          ],
          close: closeTransitions,
        },
        states: {
          routing: { always: [{ guard: 'hasNoPeers', target: 'noPeers' }, { target: 'attached' }] },
          /** No publisher: receive waits; subscriptions are kept and replayed when one attaches. */
          noPeers: {},
          /** One or more publishers: receive fair-queues the messages that match. */
          attached: {},
        },
      },
      ...closingStates,
    },
  });
}

export const subscriberMachine = createSubscriberMachine('sub');
