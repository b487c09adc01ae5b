// DEALER (RFC 28 REQREP): round-robin out over peers with room, fair-queue in, no envelope of its
// own. The machine keeps which peers are ready; no message is an event (libzmq `dealer.cpp`).

import { assign, setup } from 'xstate';
import { closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEntry, PeerEvent } from './peers.js';
import { hasReadyPeer, withPeer, withoutPeer, withReady } from './peers.js';

export interface DealerContext {
  peers: PeerEntry[];
}

export type DealerEvent = PeerEvent | CloseEvent;

export const dealerMachine = setup({
  types: {
    context: {} as DealerContext,
    events: {} as DealerEvent,
  },
  guards: {
    hasNoPeers: ({ context }) => context.peers.length === 0,
    hasReadyPeer: ({ context }) => hasReadyPeer(context.peers),
    shouldLinger: closeShouldLinger,
  },
  actions: {
    attachPeer: assign({ peers: ({ context, event }) => (event.type === 'peer.attached' ? withPeer(context.peers, event) : context.peers) }),
    detachPeer: assign({ peers: ({ context, event }) => (event.type === 'peer.detached' ? withoutPeer(context.peers, event.peerId) : context.peers) }),
    markMuted: assign({ peers: ({ context, event }) => (event.type === 'pipe.muted' ? withReady(context.peers, event.peerId, false) : context.peers) }),
    markReady: assign({ peers: ({ context, event }) => (event.type === 'pipe.ready' ? withReady(context.peers, event.peerId, true) : context.peers) }),
    // Effects, provided by the runtime.
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'dealer',
  context: { peers: [] },
  initial: 'open',
  states: {
    open: {
      initial: 'noPeers',
      on: {
        'peer.attached': { target: '.routing', actions: 'attachPeer' },
        'peer.detached': { target: '.routing', actions: 'detachPeer' },
        'pipe.muted': { target: '.routing', actions: 'markMuted' },
        'pipe.ready': { target: '.routing', actions: 'markReady' },
        close: closeTransitions,
      },
      states: {
        // Transient: picks the sending state from the peers.
        routing: {
          always: [{ guard: 'hasNoPeers', target: 'noPeers' }, { guard: 'hasReadyPeer', target: 'ready' }, { target: 'mute' }],
        },
        /** No peer: send waits (libzmq blocks a DEALER with no pipe); receive waits. */
        noPeers: {},
        /** At least one peer has room: send completes at once. */
        ready: {},
        /** Every peer is at its HWM: send waits for one to drain. */
        mute: {},
      },
    },
    ...closingStates,
  },
});
