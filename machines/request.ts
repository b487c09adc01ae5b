// REQ (RFC 28 REQREP): strict send/receive lockstep, round-robin over ready peers, replies only from
// the peer asked. Each turn (a request out, a reply in) is an event here; the runtime moves the
// frames, adds the envelope and keeps the peer asked and the request id (libzmq `req.cpp`).

import { assign, setup } from 'xstate';
import { closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEntry, PeerEvent } from './peers.js';
import { withPlainEdges } from './plain-edges.js';
import { peerListActions } from './peers.js';

export interface RequestContext {
  /** Attached peers; a request goes round-robin to those whose pipe has room (`ready`). */
  peers: PeerEntry[];
  /** ZMQ_REQ_RELAXED: a new request may go out before the reply to the last one came. */
  relaxed: boolean;
  /** ZMQ_REQ_CORRELATE: requests carry an id before the delimiter; replies must echo it. */
  correlate: boolean;
}

export interface RequestInput {
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

// The turn edges are the hot path (two per round trip, four events per round trip counting REP's),
// so the machine is flat (the turn states at the root: no parallel region, no `open` parent) and
// the turn edges are bare state changes: no guard, no eventless step, no `assign` (each builds a
// second snapshot). What changes per request stays out of context: `request.sent` names the peer
// asked (inspection shows it), and the runtime keeps that peer and the request id.
export const requestMachine = withPlainEdges(setup({
  types: {
    context: {} as RequestContext,
    events: {} as RequestEvent,
    input: {} as RequestInput | undefined,
  },
  guards: {
    isRelaxed: ({ context }) => context.relaxed,
    shouldLinger: closeShouldLinger,
  },
  actions: {
    ...peerListActions<RequestContext, RequestEvent>(),
    setOption: assign(({ event }) => (event.type === 'option.changed' ? { [event.name]: event.value } : {})),
    // Effects, provided by the runtime.
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'request',
  context: ({ input }) => ({
    peers: [],
    relaxed: input?.relaxed ?? false,
    correlate: input?.correlate ?? false,
  }),
  // Peer and option edges are on the root (they keep the peer list right while lingering too);
  // `close` is on each turn state.
  initial: 'idle',
  on: {
    'peer.attached': { actions: 'attachPeer' },
    'peer.detached': { actions: 'detachPeer' },
    'pipe.muted': { actions: 'markMuted' },
    'pipe.ready': { actions: 'markReady' },
    'option.changed': { actions: 'setOption' },
  },
  states: {
    /** No request out: send goes, receive is EFSM (libzmq `req.cpp` `_receiving_reply` false). A
     * request waits while no peer is `ready` in context (none attached, or every pipe at its HWM). */
    idle: {
      on: {
        'request.sent': { target: 'awaitingReply' },
        close: closeTransitions,
      },
    },
    /** A request is out: receive waits for its reply (from the peer asked, or from anyone once
     * that peer has left); send is EFSM unless `relaxed` (then the new request replaces the old,
     * whose reply will be discarded). */
    awaitingReply: {
      on: {
        // A target (itself, not re-entered) rather than none, so `can()` reports it as allowed.
        'request.sent': { guard: 'isRelaxed', target: 'awaitingReply' },
        'reply.received': { target: 'idle' },
        close: closeTransitions,
      },
    },
    ...closingStates,
  },
}));
