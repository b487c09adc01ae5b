// XPUB (RFC 29 PUBSUB): a PUB whose application also sees the subscriptions, as `0x01`+prefix and
// `0x00`+prefix messages, and the other messages XSUB peers send upstream. The machine decides
// which subscription changes the application is told of (libzmq `xpub.cpp`); the runtime queues
// them. No IO, no timers.

import { and, assign, not, setup } from 'xstate';
import { closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEvent } from './peers.js';
import { isKnownPeer } from './peers.js';
import type { ConfigureEvent, PrefixParams, PublisherContext, SubscriptionEvent, Verbosity } from './publisher.js';
import { hasMutePeer, publishingStates, holdsPrefix, prefixParams, prefixesOf, publisherActions, subscriberCount } from './publisher.js';

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

/**
 * The cancels the application sees when a subscriber goes away (libzmq `xpub_t::xpipe_terminated`
 * and `mtrie_t::rm (pipe, …)`): the prefixes nobody else wants, or with 'allSubsUnsubs' every
 * prefix the subscriber held.
 */
export function cancelsOnDetach(context: XPublisherContext, peerId: number): string[] {
  return prefixesOf(context.subscriptions, peerId, context.verbosity !== 'allSubsUnsubs');
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

export const xpublisherMachine = setup({
  types: {
    context: {} as XPublisherContext,
    events: {} as Ev,
  },
  guards: {
    hasNoPeers: ({ context }) => context.peers.length === 0,
    hasMutePeer: ({ context }) => hasMutePeer(context.peers),
    isKnownPeer: ({ context, event }) => 'peerId' in event && isKnownPeer(context.peers, event.peerId),
    reportsSubscribe: ({ context, event }) => event.type === 'subscription.added' && reportsSubscribe(context, event.prefix),
    reportsCancel: ({ context, event }) => event.type === 'subscription.removed' && reportsCancel(context, event.prefix, event.peerId),
    leavesCancels: ({ context, event }) => event.type === 'peer.detached' && cancelsOnDetach(context, event.peerId).length > 0,
    shouldLinger: closeShouldLinger,
  },
  actions: {
    ...publisherActions<XPublisherContext, Ev>(),
    configureVerbosity: assign(({ event }) => (event.type === 'configure' && event.verbosity !== undefined ? { verbosity: event.verbosity } : {})),
    // Effects, provided by the runtime.
    /** Subscribe the peer's pipe to the prefix in the trie that `send()` matches against. */
    subscribePeer: (_: unknown, _params: PrefixParams) => {},
    /** Take the peer's pipe off the prefix in the trie. */
    unsubscribePeer: (_: unknown, _params: PrefixParams) => {},
    /** Queue subscription messages for the application's `receive()`. */
    notify: (_: unknown, _params: NotifyParams) => {},
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'xpub',
  context: { peers: [], subscriptions: {}, whenMute: 'drop', verbosity: null },
  initial: 'open',
  states: {
    open: {
      initial: 'noPeers',
      on: {
        'peer.attached': { target: '.routing', actions: 'attachPeer' },
        // The cancels are computed before the peer leaves the table. The runtime forgets the
        // detached peer's trie entries itself (it holds the pipe, not the id).
        'peer.detached': [
          {
            guard: and(['isKnownPeer', 'leavesCancels']),
            target: '.routing',
            actions: [{ type: 'notify', params: ({ context, event }) => ({ subscribe: false, prefixes: 'peerId' in event ? cancelsOnDetach(context, event.peerId) : [] }) }, 'detachPeer'],
          },
          { guard: 'isKnownPeer', target: '.routing', actions: 'detachPeer' },
        ],
        'pipe.muted': { guard: 'isKnownPeer', target: '.routing', actions: 'markMuted' },
        'pipe.ready': { guard: 'isKnownPeer', target: '.routing', actions: 'markReady' },
        'subscription.added': [
          { guard: not('isKnownPeer') },
          {
            guard: 'reportsSubscribe',
            actions: [{ type: 'notify', params: notifyOne(true) }, 'addSubscription', { type: 'subscribePeer', params: prefixParams }],
          },
          { actions: ['addSubscription', { type: 'subscribePeer', params: prefixParams }] },
        ],
        'subscription.removed': [
          { guard: not('isKnownPeer') },
          {
            guard: 'reportsCancel',
            actions: [{ type: 'notify', params: notifyOne(false) }, 'removeSubscription', { type: 'unsubscribePeer', params: prefixParams }],
          },
          { actions: ['removeSubscription', { type: 'unsubscribePeer', params: prefixParams }] },
        ],
        configure: { target: '.routing', actions: ['configure', 'configureVerbosity'] },
        close: closeTransitions,
      },
      states: publishingStates,
    },
    ...closingStates,
  },
});
