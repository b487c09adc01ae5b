// REQ (RFC 28 REQREP): strict send/receive lockstep, round-robin over ready peers, replies only from
// the peer asked. Each turn (a request out, a reply in) is an event here; the runtime moves the
// frames and adds the envelope (libzmq `req.cpp`).

import { assign, setup } from 'xstate';
import { closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEntry, PeerEvent } from './peers.js';
import { hasReadyPeer, withPeer, withoutPeer, withReady } from './peers.js';

export interface RequestContext {
  peers: PeerEntry[];
  /** The peer the current request went to: replies from others are discarded. Null when no
   * request is out, or when that peer left (libzmq `req.cpp` then takes a reply from anyone). */
  replyPeerId: number | null;
  /** ZMQ_REQ_CORRELATE: the id of the last request sent (uint32; libzmq starts at a random value). */
  requestId: number;
  /** ZMQ_REQ_RELAXED: a new request may go out before the reply to the last one came. */
  relaxed: boolean;
  /** ZMQ_REQ_CORRELATE: requests carry `requestId` before the delimiter; replies must echo it. */
  correlate: boolean;
  /** Turn events taken so far (`request.sent` + `reply.received`): the runtime compares it with the
   * number it sent to know when this context has caught up with its own view. */
  turns: number;
}

export interface RequestInput {
  /** The id before the first request (the first request carries this + 1); random if absent. */
  requestId?: number;
  relaxed?: boolean;
  correlate?: boolean;
}

/** REQ's turn events and option changes, beyond the peer and close events every socket hears. */
export type RequestTurnEvent =
  | { type: 'request.sent'; peerId: number }
  | { type: 'reply.received' }
  | { type: 'option.changed'; name: 'relaxed' | 'correlate'; value: boolean };

export type RequestEvent = PeerEvent | CloseEvent | RequestTurnEvent;

/** The id the next request carries after `id` (uint32 wrap-around, as libzmq's `_request_id++`). */
export function nextRequestId(id: number): number {
  return (id + 1) >>> 0;
}

/** A uint32 from a random source, for the first request id (libzmq `generate_random`). */
export function randomUint32(): number {
  return Math.floor(Math.random() * 0x1_0000_0000) >>> 0;
}

export const requestMachine = setup({
  types: {
    context: {} as RequestContext,
    events: {} as RequestEvent,
    input: {} as RequestInput | undefined,
  },
  guards: {
    hasNoPeers: ({ context }) => context.peers.length === 0,
    hasReadyPeer: ({ context }) => hasReadyPeer(context.peers),
    isRelaxed: ({ context }) => context.relaxed,
    shouldLinger: closeShouldLinger,
  },
  actions: {
    attachPeer: assign({ peers: ({ context, event }) => (event.type === 'peer.attached' ? withPeer(context.peers, event) : context.peers) }),
    detachPeer: assign(({ context, event }) => {
      if (event.type !== 'peer.detached') return {};
      return {
        peers: withoutPeer(context.peers, event.peerId),
        replyPeerId: context.replyPeerId === event.peerId ? null : context.replyPeerId,
      };
    }),
    markMuted: assign({ peers: ({ context, event }) => (event.type === 'pipe.muted' ? withReady(context.peers, event.peerId, false) : context.peers) }),
    markReady: assign({ peers: ({ context, event }) => (event.type === 'pipe.ready' ? withReady(context.peers, event.peerId, true) : context.peers) }),
    recordRequest: assign(({ context, event }) =>
      event.type === 'request.sent'
        ? { replyPeerId: event.peerId, requestId: nextRequestId(context.requestId), turns: context.turns + 1 }
        : {},
    ),
    recordReply: assign(({ context }) => ({ replyPeerId: null, turns: context.turns + 1 })),
    setOption: assign(({ event }) => (event.type === 'option.changed' ? { [event.name]: event.value } : {})),
    // Effects, provided by the runtime.
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'request',
  context: ({ input }) => ({
    peers: [],
    replyPeerId: null,
    requestId: (input?.requestId ?? randomUint32()) >>> 0,
    relaxed: input?.relaxed ?? false,
    correlate: input?.correlate ?? false,
    turns: 0,
  }),
  initial: 'open',
  states: {
    open: {
      type: 'parallel',
      on: {
        'option.changed': { actions: 'setOption' },
        close: closeTransitions,
      },
      states: {
        /** Whose turn it is (libzmq `req.cpp` `_receiving_reply`). */
        turn: {
          initial: 'idle',
          states: {
            /** No request out: send goes, receive is EFSM. */
            idle: {
              on: { 'request.sent': { target: 'awaitingReply', actions: 'recordRequest' } },
            },
            /** A request is out: receive waits for its reply; send is EFSM unless `relaxed`
             * (then the new request replaces the old, whose reply will be discarded). */
            awaitingReply: {
              on: {
                'request.sent': { guard: 'isRelaxed', actions: 'recordRequest' },
                'reply.received': { target: 'idle', actions: 'recordReply' },
              },
            },
          },
        },
        /** Where a request can go: round-robin over peers whose pipe has room. */
        peers: {
          initial: 'noPeers',
          on: {
            'peer.attached': { target: '.routing', actions: 'attachPeer' },
            'peer.detached': { target: '.routing', actions: 'detachPeer' },
            'pipe.muted': { target: '.routing', actions: 'markMuted' },
            'pipe.ready': { target: '.routing', actions: 'markReady' },
          },
          states: {
            routing: {
              always: [{ guard: 'hasNoPeers', target: 'noPeers' }, { guard: 'hasReadyPeer', target: 'ready' }, { target: 'mute' }],
            },
            /** No peer: a request waits (libzmq blocks a REQ with no pipe). */
            noPeers: {},
            /** A peer has room: a request goes at once. */
            ready: {},
            /** Every peer is at its HWM: a request waits. */
            mute: {},
          },
        },
      },
    },
    ...closingStates,
  },
});
