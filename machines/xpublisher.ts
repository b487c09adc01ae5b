// XPUB (RFC 29 PUBSUB): a PUB whose application also sees the subscriptions, as `0x01`+prefix and
// `0x00`+prefix messages, and the other messages XSUB peers send upstream. The machine decides
// which subscription changes the application is told of (libzmq `xpub.cpp`); the runtime queues
// them. No IO, no timers.

import { assign, setup } from 'xstate';
import { toHex } from '../src/core/frame.js';
import { MultiTrie } from '../src/core/trie.js';
import { closeFastEdges, closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEvent } from './peers.js';
import { isKnownPeer, PeerTable } from './peers.js';
import type { ConfigureEvent, PublisherContext, SubscriptionEvent, Verbosity, WhenMute } from './publisher.js';
import { holdsPrefix, publisherActions, publishingEdges, publishingGuards, publishingStates, subscriberCount, subscriptionUpdates } from './publisher.js';
import { withFastEdges } from './fast-edges.js';
import type { FastEdgeOptions } from './fast-edges.js';

export interface XPublisherContext extends PublisherContext {
  /** null: only a prefix's first subscriber and its last cancel are reported; 'allSubs': every
   * subscribe; 'allSubsUnsubs': every subscribe and every cancel. */
  verbosity: Verbosity;
}

/** Parameters of the `notify` effect: subscription messages for the application, in order. */
export interface NotifyParams {
  /** true: `0x01`+prefix messages; false: `0x00`+prefix. */
  subscribe: boolean;
  /** Prefixes as hex. */
  prefixes: string[];
}

type Ev = PeerEvent | CloseEvent | SubscriptionEvent | ConfigureEvent;

// ---- the rules the guards and the notify parameters apply ----


/**
 * The cancels the application sees when a subscriber goes away (libzmq `xpub_t::xpipe_terminated`
 * and `mtrie_t::rm (pipe, …)`): the prefixes nobody else wants, or with 'allSubsUnsubs' every
 * prefix the subscriber held; in byte order. Costs what the peer held, not the whole trie.
 */
export function cancelsOnDetach(context: XPublisherContext, peerId: number): string[] {
  const out: string[] = [];
  for (const prefix of context.subscriptions.prefixesOf(peerId)) {
    if (context.verbosity === 'allSubsUnsubs' || context.subscriptions.count(prefix) === 1) out.push(toHex(prefix));
  }
  return out;
}

/**
 * Whether a subscribe is reported: the prefix's first subscriber (libzmq `mtrie add` returning
 * true), or any subscribe when verbose.
 */
export function reportsSubscribe(context: XPublisherContext, prefix: string): boolean {
  return context.verbosity !== null || subscriberCount(context.subscriptions, prefix) === 0;
}

/**
 * Whether a cancel is reported. libzmq reports it unless other subscribers remain
 * (`rm_result != values_remain`): so the last one's cancel, and also a cancel for a prefix the
 * peer never held (`not_found`); with 'allSubsUnsubs', every cancel.
 */
export function reportsCancel(context: XPublisherContext, prefix: string, peerId: number): boolean {
  if (context.verbosity === 'allSubsUnsubs') return true;
  return !(holdsPrefix(context.subscriptions, prefix, peerId) && subscriberCount(context.subscriptions, prefix) > 1);
}

const notifyOne = (subscribe: boolean) => ({ event }: { event: Ev }): NotifyParams => ({
  subscribe,
  prefixes: 'prefix' in event ? [event.prefix] : [],
});

// As PUB's, subscriptions take the fast-edge shortcut (machines/fast-edges.ts).
export const xpublisherMachine = withFastEdges(setup({
  types: {
    context: {} as XPublisherContext,
    events: {} as Ev,
  },
  guards: {
    ...publishingGuards,
    reportsSubscribe: ({ context, event }) => event.type === 'subscription.added' && isKnownPeer(context.peers, event) && reportsSubscribe(context, event.prefix),
    reportsCancel: ({ context, event }) => event.type === 'subscription.removed' && isKnownPeer(context.peers, event) && reportsCancel(context, event.prefix, event.peerId),
    shouldLinger: closeShouldLinger,
  },
  actions: {
    ...publisherActions<XPublisherContext, Ev>(),
    configureVerbosity: assign(({ event }) => (event.type === 'configure' && event.verbosity !== undefined ? { verbosity: event.verbosity } : {})),
    // Effects, provided by the runtime.
    /** Queue subscription messages for the application's `receive()`. */
    notify: (_: unknown, _params: NotifyParams) => {},
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'xpub',
  context: () => ({ peers: new PeerTable(), subscriptions: new MultiTrie<number>(), whenMute: 'drop' as WhenMute, verbosity: null as Verbosity }),
  initial: 'open',
  states: {
    open: {
      initial: 'noPeers',
      on: {
        // The cancels are worked out before the peer leaves the trie.
        ...publishingEdges([
          { type: 'notify', params: ({ context, event }: { context: XPublisherContext; event: Ev }) => ({ subscribe: false, prefixes: 'peerId' in event ? cancelsOnDetach(context, event.peerId) : [] }) },
          'detachPeer',
        ]),
        'subscription.added': [
          { guard: 'reportsSubscribe', actions: [{ type: 'notify', params: notifyOne(true) }, 'addSubscription'] },
          { guard: 'isKnownPeer', actions: 'addSubscription' },
        ],
        'subscription.removed': [
          { guard: 'reportsCancel', actions: [{ type: 'notify', params: notifyOne(false) }, 'removeSubscription'] },
          { guard: 'isKnownPeer', actions: 'removeSubscription' },
        ],
        configure: { actions: ['configure', 'configureVerbosity'] },
        close: closeTransitions,
      },
      states: publishingStates,
    },
    ...closingStates,
  },
}), {
  guards: ['reportsSubscribe', 'reportsCancel', 'isKnownPeer', 'leavesNoPeers', 'hasMutePeer', 'leavesNoMutePeer', ...closeFastEdges.guards],
  effects: ['notify', ...closeFastEdges.effects],
  updates: subscriptionUpdates as FastEdgeOptions['updates'],
});
