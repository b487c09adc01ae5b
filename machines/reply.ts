// REP (RFC 28 REQREP): fair-queues requests, answers each to the peer that asked, in strict
// lockstep. Each turn (a request in, a reply out) is an event here; the runtime keeps the envelope
// frames and moves them (libzmq `rep.cpp`, built on `router.cpp`).

import { assign, setup } from 'xstate';
import { closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEntry, PeerEvent } from './peers.js';
import { withPeer, withoutPeer, withReady } from './peers.js';

export interface ReplyContext {
  peers: PeerEntry[];
  /** The peer whose request is being answered; null when none, or when it left (the reply is
   * then dropped, as libzmq does). */
  replyPeerId: number | null;
  /** Turn events taken so far (`request.received` + `reply.sent`): lets the runtime tell when
   * this context has caught up with its own view. */
  turns: number;
}

/** REP's turn events, beyond the peer and close events every socket hears. */
export type ReplyTurnEvent =
  | { type: 'request.received'; peerId: number }
  | { type: 'reply.sent' };

export type ReplyEvent = PeerEvent | CloseEvent | ReplyTurnEvent;

export const replyMachine = setup({
  types: {
    context: {} as ReplyContext,
    events: {} as ReplyEvent,
  },
  guards: {
    hasNoPeers: ({ context }) => context.peers.length === 0,
    isReplyPeer: ({ context, event }) => 'peerId' in event && event.peerId === context.replyPeerId,
    hasReplyPeer: ({ context }) => context.replyPeerId !== null,
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
      event.type === 'request.received' ? { replyPeerId: event.peerId, turns: context.turns + 1 } : {},
    ),
    recordReply: assign(({ context }) => ({ replyPeerId: null, turns: context.turns + 1 })),
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'reply',
  context: { peers: [], replyPeerId: null, turns: 0 },
  initial: 'open',
  states: {
    open: {
      type: 'parallel',
      on: { close: closeTransitions },
      states: {
        /** Whose turn it is (libzmq `rep.cpp` `_sending_reply`). */
        turn: {
          initial: 'receiving',
          states: {
            /** Waiting for a request: receive takes the next one, send is EFSM. */
            receiving: {
              on: { 'request.received': { target: 'replying', actions: 'recordRequest' } },
            },
            /** A request was taken: send answers it, receive is EFSM. */
            replying: {
              initial: 'routing',
              on: { 'reply.sent': { target: 'receiving', actions: 'recordReply' } },
              states: {
                routing: { always: [{ guard: 'hasReplyPeer', target: 'toPeer' }, { target: 'peerGone' }] },
                /** The reply goes back to the requester, behind the envelope its request came with
                 * (dropped if that peer's pipe is full: REP never waits, libzmq `router.cpp`). */
                toPeer: {
                  on: { 'peer.detached': { guard: 'isReplyPeer', target: 'peerGone' } },
                },
                /** The requester left: the reply will be dropped silently. */
                peerGone: {},
              },
            },
          },
        },
        /** Who is attached, and each peer's HWM flag (`ready`). */
        peers: {
          initial: 'noPeers',
          on: {
            'peer.attached': { target: '.routing', actions: 'attachPeer' },
            'peer.detached': { target: '.routing', actions: 'detachPeer' },
            'pipe.muted': { actions: 'markMuted' },
            'pipe.ready': { actions: 'markReady' },
          },
          states: {
            routing: { always: [{ guard: 'hasNoPeers', target: 'noPeers' }, { target: 'attached' }] },
            /** Nobody to receive from: receive waits. */
            noPeers: {},
            /** One or more requesters: receive takes from them in turn. */
            attached: {},
          },
        },
      },
    },
    ...closingStates,
  },
});
