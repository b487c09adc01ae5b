// REQ (RFC 28 REQREP): strict send/receive lockstep, round-robin over ready peers, replies only from
// the peer asked and, with `correlate`, only those echoing the request id (libzmq `req.cpp`). Each
// turn (a request out, a reply in) is an event here; the machine keeps the peer asked and the
// request id, and its rules say which replies count. The runtime moves the frames.

import { assign, setup } from 'xstate';
import { closeFastEdges, closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEvent } from './peers.js';
import { applyPeerEvent, PeerTable, peerUpdates } from './peers.js';
import { inPlaceActions, withFastEdges } from './fast-edges.js';
import type { ProbeParams } from './probe-router.js';
import { probeParams, probesNewPeer } from './probe-router.js';

/**
 * The request out, if any: changed in place by the turn actions (a turn must not replace the
 * context object, or its snapshot could not be reused; see machines/fast-edges.ts).
 */
export class RequestTurn {
  /** The peer the last request went to; null when none is out or that peer left (then anyone may answer). */
  asked: number | null = null;
  /** The id of the last request (ZMQ_REQ_CORRELATE; uint32, libzmq starts at a random value). */
  requestId: number;

  constructor(requestId: number) {
    this.requestId = requestId >>> 0;
  }

  clone(): RequestTurn {
    const copy = new RequestTurn(this.requestId);
    copy.asked = this.asked;
    return copy;
  }
}

export interface RequestContext {
  /** Attached peers; a request goes round-robin to those whose pipe has room (`ready`). */
  peers: PeerTable;
  /** ZMQ_REQ_RELAXED: a new request may go out before the reply to the last one came. */
  relaxed: boolean;
  /** ZMQ_REQ_CORRELATE: requests carry an id before the delimiter; replies must echo it. */
  correlate: boolean;
  /** ZMQ_PROBE_ROUTER: a new peer first gets an empty message. */
  probeRouter: boolean;
  turn: RequestTurn;
}

export interface RequestInput {
  relaxed?: boolean;
  correlate?: boolean;
  probeRouter?: boolean;
  /** The first request id's predecessor; random if absent. */
  requestId?: number;
}

/** REQ's turn events and option changes, beyond the peer and close events every socket hears. */
export type RequestTurnEvent =
  /** `queued`: whether messages were waiting to be read when this request went out (stale replies). */
  | { type: 'request.sent'; peerId: number; requestId: number; queued?: boolean }
  | { type: 'reply.received' }
  | { type: 'option.changed'; name: 'relaxed' | 'correlate' | 'probeRouter'; value: boolean };

export type RequestEvent = PeerEvent | CloseEvent | RequestTurnEvent;

/** REQ's turn states. */
export type RequestState = 'idle' | 'awaitingReply';

// ---- the rules, used by the machine's guards and by the socket's fast path ----

/** The id the next request carries after `id` (uint32 wrap-around, as libzmq's `_request_id++`). */
export function nextRequestId(id: number): number {
  return (id + 1) >>> 0;
}

/** A uint32 from a random source, for the first request id (libzmq `generate_random`). */
export function randomUint32(): number {
  return Math.floor(Math.random() * 0x1_0000_0000) >>> 0;
}

/** May a request go out now: none is out, or `relaxed` lets a new one replace it (else EFSM). */
export function maySendRequest(awaitingReply: boolean, relaxed: boolean): boolean {
  return !awaitingReply || relaxed;
}

/** May receive be called: a request is out, or a send of one is still waiting (else EFSM). */
export function mayReceiveReply(awaitingReply: boolean, sendWaiting: boolean): boolean {
  return awaitingReply || sendWaiting;
}

/** Whether a reply from peer `from` may count: the peer asked answers, or anyone once it has left. */
export function isFromPeerAsked(turn: RequestTurn, from: number): boolean {
  return turn.asked === null || turn.asked === from;
}

/** A frame holding request id `id` as libzmq writes it: 4 bytes, host order (little-endian on x86 and ARM). */
export function isRequestIdFrame(frame: Uint8Array, id: number): boolean {
  return frame.length === 4 && new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0, true) === id;
}

/**
 * Which replies count (libzmq `req.cpp recv`): from the peer asked (or anyone once it has left);
 * with `correlate`, starting with the current request id; then an empty delimiter followed by at
 * least one body frame. Returns where the body starts, or -1 for a reply to drop.
 */
export function replyBodyStart(context: RequestContext, from: number, frames: readonly Uint8Array[]): number {
  if (!isFromPeerAsked(context.turn, from)) return -1;
  let at = 0;
  if (context.correlate) {
    if (frames.length < 2 || !isRequestIdFrame(frames[0] as Uint8Array, context.turn.requestId)) return -1;
    at = 1;
  }
  return frames.length >= at + 2 && (frames[at] as Uint8Array).length === 0 ? at + 1 : -1;
}

export { probesNewPeer } from './probe-router.js';

/** Turn records, changed in place (see RequestTurn). */
const recordRequest = (context: RequestContext, event: RequestEvent): void => {
  if (event.type !== 'request.sent') return;
  context.turn.asked = event.peerId;
  context.turn.requestId = event.requestId >>> 0;
};
const forgetRequest = (context: RequestContext): void => {
  context.turn.asked = null;
};
/** A peer leaving while asked: its reply will never come, so any peer's reply counts (libzmq). */
const detachPeer = (context: RequestContext, event: RequestEvent): void => {
  if (event.type === 'peer.detached' && context.turn.asked === event.peerId) context.turn.asked = null;
  applyPeerEvent(context.peers, event);
};
/** Every in-place update of this machine: its actions below, and its fast edges' updates. */
const updates = { ...peerUpdates, detachPeer, recordRequest, forgetRequest };

type TurnArgs = { context: RequestContext; event: RequestEvent };
const mayRequestAgain = ({ context }: TurnArgs): boolean => maySendRequest(true, context.relaxed);
const leavesStaleReplies = ({ event }: TurnArgs): boolean => event.type === 'request.sent' && event.queued === true;

// The turn edges are the hot path (two per round trip, four counting REP's), so the machine is flat
// (turn states at the root: no parallel region, no `open` parent) and the turn edges change nothing
// but the state, the turn record and an effect: machines/fast-edges.ts takes them directly.
export const requestMachine = /* @__PURE__ */ withFastEdges(setup({
  types: {
    context: {} as RequestContext,
    events: {} as RequestEvent,
    input: {} as RequestInput | undefined,
  },
  guards: {
    mayRequestAgain,
    /** Replies to an earlier request are still queued: libzmq `req.cpp` drops them as a request goes out. */
    leavesStaleReplies,
    mayRequestAgainPastStaleReplies: (args) => mayRequestAgain(args) && leavesStaleReplies(args),
    probesNewPeer: ({ context }) => probesNewPeer(context),
    shouldLinger: closeShouldLinger,
  },
  actions: {
    ...inPlaceActions<RequestContext, RequestEvent, typeof updates>(updates),
    setOption: assign(({ event }) => (event.type === 'option.changed' ? { [event.name]: event.value } : {})),
    // Effects, provided by the runtime.
    /** Discard what arrived before this request (late replies to an earlier one): libzmq `req.cpp`. */
    discardReplies: () => {},
    /** Write an empty message to the new peer (ZMQ_PROBE_ROUTER). */
    sendProbe: (_: unknown, _params: ProbeParams) => {},
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'request',
  context: ({ input }) => ({
    peers: new PeerTable(),
    relaxed: input?.relaxed ?? false,
    correlate: input?.correlate ?? false,
    probeRouter: input?.probeRouter ?? false,
    turn: new RequestTurn(input?.requestId ?? randomUint32()),
  }),
  // Peer and option edges are on the root (they keep the peer list right while lingering too);
  // `close` is on each turn state.
  initial: 'idle',
  on: {
    // With ZMQ_PROBE_ROUTER, the empty message goes in the attach's step: before anything else.
    'peer.attached': [{ guard: 'probesNewPeer', actions: ['attachPeer', { type: 'sendProbe', params: probeParams }] }, { actions: 'attachPeer' }],
    'peer.detached': { actions: 'detachPeer' },
    'peer.identified': { actions: 'identifyPeer' },
    'pipe.muted': { actions: 'markMuted' },
    'pipe.ready': { actions: 'markReady' },
    'option.changed': { actions: 'setOption' },
  },
  states: {
    /** No request out: send goes (when some peer is `ready`; else it waits), receive is EFSM
     * (libzmq `req.cpp` `_receiving_reply` false). */
    idle: {
      on: {
        'request.sent': [
          { guard: 'leavesStaleReplies', target: 'awaitingReply', actions: ['recordRequest', 'discardReplies'] },
          { target: 'awaitingReply', actions: 'recordRequest' },
        ],
        close: closeTransitions,
      },
    },
    /** A request is out: receive waits for its reply (see `replyBodyStart`); send is EFSM unless
     * `relaxed` (then the new request replaces the old, whose reply will be discarded). */
    awaitingReply: {
      on: {
        'request.sent': [
          { guard: 'mayRequestAgainPastStaleReplies', target: 'awaitingReply', actions: ['recordRequest', 'discardReplies'] },
          { guard: 'mayRequestAgain', target: 'awaitingReply', actions: 'recordRequest' },
        ],
        'reply.received': { target: 'idle', actions: 'forgetRequest' },
        close: closeTransitions,
      },
    },
    ...closingStates,
  },
}), {
  guards: ['mayRequestAgain', 'leavesStaleReplies', 'mayRequestAgainPastStaleReplies', 'probesNewPeer', ...closeFastEdges.guards],
  effects: ['discardReplies', 'sendProbe', ...closeFastEdges.effects],
  updates: updates as never,
});
