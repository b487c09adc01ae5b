// PUSH (RFC 30 PIPELINE): sends round-robin to peers with room, waits when none has room,
// never receives. The machine keeps which peers are ready; the runtime moves the messages.

import { assign, setup } from 'xstate';
import { closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEntry, PeerEvent } from './peers.js';
import { hasReadyPeer, withPeer, withoutPeer, withReady } from './peers.js';

export interface PushContext {
  peers: PeerEntry[];
}

export const pushMachine = setup({
  types: {
    context: {} as PushContext,
    events: {} as PeerEvent | CloseEvent,
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
  id: 'push',
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
        /** No peer: send waits (libzmq blocks a PUSH with no pipe). */
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
