// PAIR (RFC 31 EXPAIR): exactly one peer, both directions. A second peer is refused (libzmq
// `pair.cpp xattach_pipe` terminates the newcomer); sending waits while unpaired or mute.

import { setup } from 'xstate';
import { closeFastEdges, closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEntry, PeerEvent } from './peers.js';
import { isKnownPeer, PeerTable, peerListActions, peerUpdates } from './peers.js';
import { withFastEdges } from './fast-edges.js';

export interface PairContext {
  /** The one peer, or none. */
  peers: PeerTable;
}

// ---- the rules a socket's fast path applies, the same functions the guards call ----

/** Whether a newcomer is refused: PAIR already has its one peer. */
export function isPaired(peers: PeerTable): boolean {
  return peers.size > 0;
}

/** Where a message goes: the one peer, if its pipe has room; undefined: the send waits. */
export function sendTarget(peers: PeerTable): PeerEntry | undefined {
  const peer = peers.first();
  return peer !== undefined && peer.ready ? peer : undefined;
}

// Peer edges take the fast-edge shortcut (machines/fast-edges.ts).
export const pairMachine = /* @__PURE__ */ withFastEdges(setup({
  types: {
    context: {} as PairContext,
    events: {} as PeerEvent | CloseEvent,
  },
  guards: {
    isPaired: ({ context }) => isPaired(context.peers),
    isOurPeer: ({ context, event }) => isKnownPeer(context.peers, event),
    shouldLinger: closeShouldLinger,
  },
  actions: {
    ...peerListActions<PairContext, PeerEvent | CloseEvent>(),
    /** Effect: the runtime refuses the peer named by the event (a second PAIR peer). */
    refusePeer: () => {},
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'pair',
  context: () => ({ peers: new PeerTable() }),
  initial: 'open',
  states: {
    open: {
      initial: 'unpaired',
      on: {
        'peer.attached': [
          { guard: 'isPaired', actions: 'refusePeer' },
          { target: '.paired.ready', actions: 'attachPeer' },
        ],
        'peer.detached': { guard: 'isOurPeer', target: '.unpaired', actions: 'detachPeer' },
        'peer.identified': { actions: 'identifyPeer' },
        'pipe.muted': { guard: 'isOurPeer', target: '.paired.mute', actions: 'markMuted' },
        'pipe.ready': { guard: 'isOurPeer', target: '.paired.ready', actions: 'markReady' },
        close: closeTransitions,
      },
      states: {
        /** No peer: send and receive wait. */
        unpaired: {},
        paired: {
          initial: 'ready',
          states: {
            /** The peer's pipe has room: send completes at once. */
            ready: {},
            /** The peer's pipe is at its HWM: send waits. */
            mute: {},
          },
        },
      },
    },
    ...closingStates,
  },
}), {
  guards: ['isPaired', 'isOurPeer', ...closeFastEdges.guards],
  effects: ['refusePeer', ...closeFastEdges.effects],
  updates: peerUpdates as never,
});
