// PAIR (RFC 31 EXPAIR): exactly one peer, both directions. A second peer is refused (libzmq
// `pair.cpp xattach_pipe` terminates the newcomer); sending waits while unpaired or mute.

import { setup } from 'xstate';
import { closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEntry, PeerEvent } from './peers.js';
import { isKnownPeer, peerListActions } from './peers.js';

export interface PairContext {
  peers: PeerEntry[];
}

export const pairMachine = setup({
  types: {
    context: {} as PairContext,
    events: {} as PeerEvent | CloseEvent,
  },
  guards: {
    isPaired: ({ context }) => context.peers.length > 0,
    isOurPeer: ({ context, event }) => 'peerId' in event && isKnownPeer(context.peers, event.peerId),
    isPeerReady: ({ context }) => context.peers[0]?.ready === true,
    shouldLinger: closeShouldLinger,
  },
  actions: {
    ...peerListActions<PairContext, PeerEvent | CloseEvent>(),
    /** Effect: the runtime detaches the peer named by the event (a second PAIR peer). */
    refusePeer: () => {},
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'pair',
  context: { peers: [] },
  initial: 'open',
  states: {
    open: {
      initial: 'unpaired',
      on: {
        'peer.attached': [
          { guard: 'isPaired', actions: 'refusePeer' },
          { target: '.routing', actions: 'attachPeer' },
        ],
        'peer.detached': { guard: 'isOurPeer', target: '.routing', actions: 'detachPeer' },
        'pipe.muted': { guard: 'isOurPeer', target: '.routing', actions: 'markMuted' },
        'pipe.ready': { guard: 'isOurPeer', target: '.routing', actions: 'markReady' },
        close: closeTransitions,
      },
      states: {
        routing: {
          always: [{ guard: 'isPaired', target: 'paired' }, { target: 'unpaired' }],
        },
        /** No peer: send and receive wait. */
        unpaired: {},
        paired: {
          initial: 'routing',
          states: {
            routing: { always: [{ guard: 'isPeerReady', target: 'ready' }, { target: 'mute' }] },
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
});
