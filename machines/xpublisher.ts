// XPUB (RFC 29 PUBSUB): a PUB whose application also sees the subscriptions, as `0x01`+prefix and
// `0x00`+prefix messages, and the other messages XSUB peers send upstream. The machine decides
// which subscription changes the application is told of (libzmq `xpub.cpp`), in manual mode
// (ZMQ_XPUB_MANUAL) applies only the subscriptions the application passes on, and greets a new
// subscriber with the welcome message (ZMQ_XPUB_WELCOME_MSG); the runtime queues the notices and
// writes the welcome. No IO, no timers.

import { assign, setup } from 'xstate';
import { toHex } from '../src/core/frame.js';
import { MultiTrie } from '../src/core/trie.js';
import { closeFastEdges, closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEvent } from './peers.js';
import { isKnownPeer, PeerTable } from './peers.js';
import type { ConfigureEvent, PublisherContext, SubscriptionEvent, Verbosity, WhenMute } from './publisher.js';
import { holdsPrefix, prefixBytes, publisherActions, publishingEdges, publishingGuards, publishingStates, subscriberCount, subscriptionUpdates } from './publisher.js';
import { inPlaceActions, withFastEdges } from './fast-edges.js';
import type { FastEdgeOptions } from './fast-edges.js';

export interface XPublisherContext extends PublisherContext {
  /** null: only a prefix's first subscriber and its last cancel are reported; 'allSubs': every
   * subscribe; 'allSubsUnsubs': every subscribe and every cancel. */
  verbosity: Verbosity;
  /** ZMQ_XPUB_MANUAL: every subscription message is reported and none applied; the application
   * applies them (`subscribe`, `unsubscribe` commands) for the peer whose notice it read last. */
  manual: boolean;
  /** The peer whose notice the application read last (`notice.read`; libzmq `_last_pipe`): the one
   * its `subscribe` / `unsubscribe` applies to, while it stays (see {@link manualTarget}). */
  lastNoticePeer: number | undefined;
  /** In manual mode, what each peer asked for (libzmq `_manual_subscriptions`): the cancels its
   * leaving reports. Shown as `{ <prefix as hex>: [peer ids] }`. */
  requested: MultiTrie<number>;
  /** ZMQ_XPUB_WELCOME_MSG: the message (one frame, as hex) every new subscriber gets first; null for none. */
  welcomeMessage: string | null;
}

/** Parameters of the `sendWelcome` effect: the new subscriber, and the welcome message (hex) it gets. */
export interface WelcomeParams {
  peerId: number;
  message: string;
}

/** Parameters of the `notify` effect: subscription messages for the application, in order. */
export interface NotifyParams {
  /** true: `0x01`+prefix messages; false: `0x00`+prefix. */
  subscribe: boolean;
  /** Prefixes as hex. */
  prefixes: string[];
  /** In manual mode, the peer that asked: a `subscribe` command after reading this notice applies to it. */
  peerId?: number;
}

/**
 * Manual mode. `notice.read`: the application received a notice of peer `peerId` (a fact, from the
 * runtime's receive). `subscribe` / `unsubscribe` (ZMQ_SUBSCRIBE / ZMQ_UNSUBSCRIBE on an XPUB):
 * subscribe or cancel `prefix` (hex) for the peer the machine's {@link manualTarget} names.
 */
export type ManualSubscriptionEvent =
  | { type: 'notice.read'; peerId: number }
  | { type: 'subscribe'; prefix: string }
  | { type: 'unsubscribe'; prefix: string };

type Ev = PeerEvent | CloseEvent | SubscriptionEvent | ConfigureEvent | ManualSubscriptionEvent;

// ---- the rules the guards and the notify parameters apply ----


/**
 * The cancels the application sees when a subscriber goes away (libzmq `xpub_t::xpipe_terminated`
 * and `mtrie_t::rm (pipe, …)`): the prefixes nobody else wants, or with 'allSubsUnsubs' every
 * prefix the subscriber held; in byte order. Costs what the peer held, not the whole trie.
 */
export function cancelsOnDetach(context: XPublisherContext, peerId: number): string[] {
  // Manual mode: a cancel for everything the peer asked for (`xpipe_terminated` walks
  // `_manual_subscriptions` with call_on_uniq off).
  if (context.manual) return context.requested.prefixesOf(peerId).map(toHex);
  const out: string[] = [];
  for (const prefix of context.subscriptions.prefixesOf(peerId)) {
    if (context.verbosity === 'allSubsUnsubs' || context.subscriptions.count(prefix) === 1) out.push(toHex(prefix));
  }
  return out;
}

/**
 * Whether a new subscriber first gets the welcome message (ZMQ_XPUB_WELCOME_MSG), before anything
 * else goes to it (libzmq `xpub_t::xattach_pipe`): whenever one is set.
 */
export function welcomesNewPeer(context: XPublisherContext): boolean {
  return context.welcomeMessage !== null;
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
/** Manual mode: the notice names its peer, for the application's `subscribe` that may follow. */
const notifyFromPeer = (subscribe: boolean) => ({ event }: { event: Ev }): NotifyParams => ({
  subscribe,
  prefixes: 'prefix' in event ? [event.prefix] : [],
  peerId: 'peerId' in event ? event.peerId : -1,
});

/** Whether a subscription message from a peer is only reported (manual mode), not applied. */
export function isManualRequest(context: XPublisherContext, event: { type: string; peerId?: number }): boolean {
  return context.manual && (event.type === 'subscription.added' || event.type === 'subscription.removed') && isKnownPeer(context.peers, event);
}

/**
 * The peer the application's `subscribe` / `unsubscribe` applies to (libzmq `xpub_t::xsetsockopt`
 * on `_last_pipe`): the one whose notice it read last, while that peer stays attached; none
 * before any notice was read, or once that peer left (libzmq forgets `_last_pipe` then).
 */
export function manualTarget(context: XPublisherContext): number | undefined {
  const peerId = context.lastNoticePeer;
  return peerId !== undefined && context.peers.has(peerId) ? peerId : undefined;
}

/** Whether the application's `subscribe` / `unsubscribe` applies: manual mode, and a peer to apply it to (`manualTarget`). */
export function appliesManually(context: XPublisherContext): boolean {
  return context.manual && manualTarget(context) !== undefined;
}

/** The in-place updates of XPUB: PUB's, plus manual mode's two tables. */
const xpublisherUpdates = {
  ...subscriptionUpdates,
  detachPeer: (context: XPublisherContext, event: Ev): void => {
    if (event.type === 'peer.detached') context.requested.removePeer(event.peerId, ignorePrefix);
    subscriptionUpdates.detachPeer(context, event);
  },
  /** Manual mode: note what a peer asked for (its leaving cancels it). */
  recordRequest: (context: XPublisherContext, event: Ev): void => {
    if (event.type === 'subscription.added') context.requested.add(prefixBytes(event.prefix), event.peerId);
    else if (event.type === 'subscription.removed') context.requested.remove(prefixBytes(event.prefix), event.peerId);
  },
  /** Manual mode: the application read a notice; its peer is the one `subscribe` applies to now. */
  noteNoticeRead: (context: XPublisherContext, event: Ev): void => {
    if (event.type === 'notice.read') context.lastNoticePeer = event.peerId;
  },
  /** Manual mode: the application's subscribe or cancel, for the peer of the notice it read last. */
  applyManually: (context: XPublisherContext, event: Ev): void => {
    const peerId = manualTarget(context) as number;
    if (event.type === 'subscribe') context.subscriptions.add(prefixBytes(event.prefix), peerId);
    else if (event.type === 'unsubscribe') context.subscriptions.remove(prefixBytes(event.prefix), peerId);
  },
};

function ignorePrefix(_prefix: Uint8Array): void {}

const welcomeParams = ({ context, event }: { context: XPublisherContext; event: Ev }): WelcomeParams => ({
  peerId: 'peerId' in event ? event.peerId : -1,
  message: context.welcomeMessage ?? '',
});
/** A new subscriber's attach with the welcome: attached first, so the welcome is the first thing it gets. */
const attachWelcomed = ['attachPeer', { type: 'sendWelcome', params: welcomeParams }] as const;

// As PUB's, subscriptions take the fast-edge shortcut (machines/fast-edges.ts).
export const xpublisherMachine = /* @__PURE__ */ withFastEdges(setup({
  types: {
    context: {} as XPublisherContext,
    events: {} as Ev,
  },
  guards: {
    ...publishingGuards,
    isManualRequest: ({ context, event }) => isManualRequest(context, event),
    appliesManually: ({ context }) => appliesManually(context),
    reportsSubscribe: ({ context, event }) => event.type === 'subscription.added' && isKnownPeer(context.peers, event) && reportsSubscribe(context, event.prefix),
    reportsCancel: ({ context, event }) => event.type === 'subscription.removed' && isKnownPeer(context.peers, event) && reportsCancel(context, event.prefix, event.peerId),
    welcomesNewPeer: ({ context }) => welcomesNewPeer(context),
    /** The welcome goes to the new subscriber, and another is at its HWM (the state stays congested). */
    welcomesNewPeerWhileCongested: ({ context }) => welcomesNewPeer(context) && publishingGuards.hasMutePeer({ context }),
    shouldLinger: closeShouldLinger,
  },
  actions: {
    ...publisherActions<XPublisherContext, Ev>(),
    ...inPlaceActions<XPublisherContext, Ev, typeof xpublisherUpdates>(xpublisherUpdates),
    configureVerbosity: assign(({ event }) => (event.type === 'configure' && event.verbosity !== undefined ? { verbosity: event.verbosity } : {})),
    configureManual: assign(({ event }) => (event.type === 'configure' && event.manual !== undefined ? { manual: event.manual } : {})),
    configureWelcome: assign(({ event }) => (event.type === 'configure' && event.welcomeMessage !== undefined ? { welcomeMessage: event.welcomeMessage } : {})),
    // Effects, provided by the runtime.
    /** Queue subscription messages for the application's `receive()`. */
    notify: (_: unknown, _params: NotifyParams) => {},
    /** Write the welcome message to the new subscriber. */
    sendWelcome: (_: unknown, _params: WelcomeParams) => {},
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'xpub',
  context: () => ({
    peers: new PeerTable(),
    subscriptions: new MultiTrie<number>(),
    whenMute: 'drop' as WhenMute,
    invertMatching: false,
    verbosity: null as Verbosity,
    manual: false,
    lastNoticePeer: undefined,
    requested: new MultiTrie<number>(),
    welcomeMessage: null,
  }),
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
        // PUB's attach edges, each first with the welcome (ZMQ_XPUB_WELCOME_MSG) when one is set.
        'peer.attached': [
          { guard: 'welcomesNewPeerWhileCongested', target: '.congested', actions: attachWelcomed },
          { guard: 'welcomesNewPeer', target: '.flowing', actions: attachWelcomed },
          { guard: 'hasMutePeer', target: '.congested', actions: 'attachPeer' },
          { target: '.flowing', actions: 'attachPeer' },
        ],
        'subscription.added': [
          { guard: 'isManualRequest', actions: [{ type: 'notify', params: notifyFromPeer(true) }, 'recordRequest'] },
          { guard: 'reportsSubscribe', actions: [{ type: 'notify', params: notifyOne(true) }, 'addSubscription'] },
          { guard: 'isKnownPeer', actions: 'addSubscription' },
        ],
        'subscription.removed': [
          { guard: 'isManualRequest', actions: [{ type: 'notify', params: notifyFromPeer(false) }, 'recordRequest'] },
          { guard: 'reportsCancel', actions: [{ type: 'notify', params: notifyOne(false) }, 'removeSubscription'] },
          { guard: 'isKnownPeer', actions: 'removeSubscription' },
        ],
        'notice.read': { actions: 'noteNoticeRead' },
        subscribe: { guard: 'appliesManually', actions: 'applyManually' },
        unsubscribe: { guard: 'appliesManually', actions: 'applyManually' },
        configure: { actions: ['configure', 'configureVerbosity', 'configureManual', 'configureWelcome'] },
        close: closeTransitions,
      },
      states: publishingStates,
    },
    ...closingStates,
  },
}), {
  guards: ['isManualRequest', 'appliesManually', 'reportsSubscribe', 'reportsCancel', 'isKnownPeer', 'leavesNoPeers', 'hasMutePeer', 'leavesNoMutePeer', 'welcomesNewPeer', 'welcomesNewPeerWhileCongested', ...closeFastEdges.guards],
  effects: ['notify', 'sendWelcome', ...closeFastEdges.effects],
  updates: xpublisherUpdates as FastEdgeOptions['updates'],
});
