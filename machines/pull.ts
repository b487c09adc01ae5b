// PULL (RFC 30 PIPELINE): fair-queues messages from its peers, never sends. Its machine only
// tracks who is attached; every message goes straight from a pipe to receive().

import { setup } from 'xstate';
import { closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEntry, PeerEvent } from './peers.js';
import { peerListActions } from './peers.js';

export interface PullContext {
  peers: PeerEntry[];
}

// PULL never sends, so of the shared peer actions it names only attach and detach.
const peerActions = peerListActions<PullContext, PeerEvent | CloseEvent>();

export const pullMachine = setup({
  types: {
    context: {} as PullContext,
    events: {} as PeerEvent | CloseEvent,
  },
  guards: {
    hasNoPeers: ({ context }) => context.peers.length === 0,
    shouldLinger: closeShouldLinger,
  },
  actions: {
    attachPeer: peerActions.attachPeer,
    detachPeer: peerActions.detachPeer,
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'pull',
  context: { peers: [] },
  initial: 'open',
  states: {
    open: {
      initial: 'noPeers',
      on: {
        'peer.attached': { target: '.routing', actions: 'attachPeer' },
        'peer.detached': { target: '.routing', actions: 'detachPeer' },
        close: closeTransitions,
      },
      states: {
        routing: { always: [{ guard: 'hasNoPeers', target: 'noPeers' }, { target: 'attached' }] },
        /** Nobody to receive from: receive waits. */
        noPeers: {},
        /** One or more peers: receive takes from them in turn. */
        attached: {},
      },
    },
    ...closingStates,
  },
});
