// REP (RFC 28 REQREP): fair-queues requests, answers each to the peer that asked, in strict
// lockstep. Each turn (a request in, a reply out) is an event here; the runtime keeps the envelope
// frames and moves them (libzmq `rep.cpp`, built on `router.cpp`).

import { setup } from 'xstate';
import { closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEntry, PeerEvent } from './peers.js';
import { withPlainEdges } from './plain-edges.js';
import { peerListActions } from './peers.js';

export interface ReplyContext {
  /** Attached requesters, each with its HWM flag (`ready`). */
  peers: PeerEntry[];
}

/** REP's turn events, beyond the peer and close events every socket hears. The runtime reports
 * `requester.detached` after `peer.detached` when the peer that left is the one whose request is
 * being answered, and after `request.received` when that request came from a peer that had
 * already left (its queued requests stay readable: libzmq reads a pipe to its end). */
export type ReplyTurnEvent =
  | { type: 'request.received'; peerId: number }
  | { type: 'reply.sent' }
  | { type: 'requester.detached' };

export type ReplyEvent = PeerEvent | CloseEvent | ReplyTurnEvent;

// As in machines/request.ts, the machine is flat and the turn edges (two per round trip) are bare
// state changes. The requester's id travels in `request.received`; the runtime keeps it.
export const replyMachine = withPlainEdges(setup({
  types: {
    context: {} as ReplyContext,
    events: {} as ReplyEvent,
  },
  guards: {
    shouldLinger: closeShouldLinger,
  },
  actions: {
    ...peerListActions<ReplyContext, ReplyEvent>(),
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'reply',
  context: { peers: [] },
  // Flat, as in machines/request.ts: the turn states sit at the root; peer edges on the root,
  // `close` on each turn state.
  initial: 'receiving',
  on: {
    'peer.attached': { actions: 'attachPeer' },
    'peer.detached': { actions: 'detachPeer' },
    'pipe.muted': { actions: 'markMuted' },
    'pipe.ready': { actions: 'markReady' },
  },
  states: {
    /** Waiting for a request (libzmq `rep.cpp` `_sending_reply` false): receive takes the next
     * one, send is EFSM. A receive waits while no request is queued. */
    receiving: {
      on: {
        'request.received': { target: 'replying' },
        close: closeTransitions,
      },
    },
    /** A request was taken: send answers it, receive is EFSM. The reply goes back to the
     * requester behind the envelope its request came with (dropped if that peer's pipe is full:
     * REP never waits, libzmq `router.cpp`). */
    replying: {
      on: {
        'reply.sent': { target: 'receiving' },
        'requester.detached': { target: 'peerGone' },
        close: closeTransitions,
      },
    },
    /** A request was taken but its requester has left (or had left when it was taken): send drops
     * the reply silently. */
    peerGone: {
      on: {
        'reply.sent': { target: 'receiving' },
        close: closeTransitions,
      },
    },
    ...closingStates,
  },
}));
