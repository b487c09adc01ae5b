// REP (RFC 28 REQREP): fair-queues requests, answers each to the peer that asked, in strict
// lockstep. Each turn (a request in, a reply out) is an event here; the machine keeps who asked and
// knows when that peer has gone; its rules say which requests count and where a reply goes. The
// runtime keeps the envelope frames and moves them (libzmq `rep.cpp`, built on `router.cpp`).

import { setup } from 'xstate';
import { closeFastEdges, closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEvent } from './peers.js';
import { PeerTable, peerUpdates } from './peers.js';
import { inPlaceActions, withFastEdges } from './fast-edges.js';

/** The request being answered, changed in place by the turn actions (see machines/request.ts). */
export class ReplyTurn {
  /** The peer whose request is being answered; null between requests. */
  requester: number | null = null;

  clone(): ReplyTurn {
    const copy = new ReplyTurn();
    copy.requester = this.requester;
    return copy;
  }
}

export interface ReplyContext {
  /** Attached requesters, each with its HWM flag (`ready`). */
  peers: PeerTable;
  turn: ReplyTurn;
}

/** REP's turn events, beyond the peer and close events every socket hears. */
export type ReplyTurnEvent =
  | { type: 'request.received'; peerId: number }
  | { type: 'reply.sent' };

export type ReplyEvent = PeerEvent | CloseEvent | ReplyTurnEvent;

/** REP's turn states. */
export type ReplyState = 'receiving' | 'replying' | 'peerGone';

// ---- the rules, used by the machine's guards and by the socket's fast path ----

/** May receive be called: no request is being answered (else EFSM). */
export function mayReceiveRequest(state: string): boolean {
  return state === 'receiving';
}

/** May send be called: a request is being answered, whether or not its peer is still there (else EFSM). */
export function maySendReply(state: string): boolean {
  return state === 'replying' || state === 'peerGone';
}

/**
 * Which requests count (libzmq `rep.cpp`): the envelope ends at the first empty frame that has a body
 * after it. Returns where the body starts, or -1 for a request without one, which is dropped.
 */
export function requestBodyStart(frames: readonly Uint8Array[]): number {
  for (let i = 0; i < frames.length - 1; i++) if ((frames[i] as Uint8Array).length === 0) return i + 1;
  return -1;
}

/** Where a reply goes: the requester while it is attached; null (dropped) once it has gone. A reply
 * to a peer whose pipe is full is dropped too: REP never waits (libzmq `router.cpp`). */
export function replyTarget(state: string, context: ReplyContext): number | null {
  return state === 'replying' ? context.turn.requester : null;
}

const recordRequester = (context: ReplyContext, event: ReplyEvent): void => {
  if (event.type === 'request.received') context.turn.requester = event.peerId;
};
const forgetRequester = (context: ReplyContext): void => {
  context.turn.requester = null;
};
/** Every in-place update of this machine: its actions below, and its fast edges' updates. */
const updates = { ...peerUpdates, recordRequester, forgetRequester };

// As in machines/request.ts, the machine is flat and the turn edges are taken by the shortcut.
export const replyMachine = /* @__PURE__ */ withFastEdges(setup({
  types: {
    context: {} as ReplyContext,
    events: {} as ReplyEvent,
  },
  guards: {
    /** The request came from a peer that has already left (its queued requests stay readable). */
    isFromGonePeer: ({ context, event }) => event.type === 'request.received' && !context.peers.has(event.peerId),
    /** The peer leaving is the one whose request is being answered. */
    isRequesterLeaving: ({ context, event }) => event.type === 'peer.detached' && event.peerId === context.turn.requester,
    shouldLinger: closeShouldLinger,
  },
  actions: {
    ...inPlaceActions<ReplyContext, ReplyEvent, typeof updates>(updates),
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'reply',
  context: () => ({ peers: new PeerTable(), turn: new ReplyTurn() }),
  // Flat, as in machines/request.ts: the turn states sit at the root; peer edges on the root,
  // `close` on each turn state.
  initial: 'receiving',
  on: {
    'peer.attached': { actions: 'attachPeer' },
    'peer.detached': { actions: 'detachPeer' },
    'peer.identified': { actions: 'identifyPeer' },
    'pipe.muted': { actions: 'markMuted' },
    'pipe.ready': { actions: 'markReady' },
  },
  states: {
    /** Waiting for a request (libzmq `rep.cpp` `_sending_reply` false): receive takes the next
     * one that counts (`requestBodyStart`), send is EFSM. */
    receiving: {
      on: {
        'request.received': [
          { guard: 'isFromGonePeer', target: 'peerGone', actions: 'recordRequester' },
          { target: 'replying', actions: 'recordRequester' },
        ],
        close: closeTransitions,
      },
    },
    /** A request was taken: send answers it (`replyTarget`), receive is EFSM. */
    replying: {
      on: {
        'reply.sent': { target: 'receiving', actions: 'forgetRequester' },
        'peer.detached': { guard: 'isRequesterLeaving', target: 'peerGone', actions: 'detachPeer' },
        close: closeTransitions,
      },
    },
    /** A request was taken but its requester has left (or had left when it was taken): send drops
     * the reply silently. */
    peerGone: {
      on: {
        'reply.sent': { target: 'receiving', actions: 'forgetRequester' },
        close: closeTransitions,
      },
    },
    ...closingStates,
  },
}), {
  guards: ['isFromGonePeer', 'isRequesterLeaving', ...closeFastEdges.guards],
  effects: closeFastEdges.effects,
  updates: updates as never,
});
