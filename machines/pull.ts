// PULL (RFC 30 PIPELINE): fair-queues messages from its peers, never sends. Its machine only
// tracks who is attached; every message goes straight from a pipe to receive().

import { setup } from 'xstate';
import { closeFastEdges, closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEvent } from './peers.js';
import { leavesNoPeers, PeerTable, peerListActions, peerUpdates } from './peers.js';
import { withFastEdges } from './fast-edges.js';

export interface PullContext {
  peers: PeerTable;
}

// PULL never sends: of the shared peer actions it names attach, detach and identify.
const peerActions = peerListActions<PullContext, PeerEvent | CloseEvent>();

// Peer edges take the fast-edge shortcut (machines/fast-edges.ts).
export const pullMachine = /* @__PURE__ */ withFastEdges(setup({
  types: {
    context: {} as PullContext,
    events: {} as PeerEvent | CloseEvent,
  },
  guards: {
    leavesNoPeers: ({ context, event }) => leavesNoPeers(context.peers, event),
    shouldLinger: closeShouldLinger,
  },
  actions: {
    attachPeer: peerActions.attachPeer,
    detachPeer: peerActions.detachPeer,
    identifyPeer: peerActions.identifyPeer,
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'pull',
  context: () => ({ peers: new PeerTable() }),
  initial: 'open',
  states: {
    open: {
      initial: 'noPeers',
      on: {
        'peer.attached': { target: '.attached', actions: 'attachPeer' },
        'peer.detached': [{ guard: 'leavesNoPeers', target: '.noPeers', actions: 'detachPeer' }, { actions: 'detachPeer' }],
        'peer.identified': { actions: 'identifyPeer' },
        close: closeTransitions,
      },
      states: {
        /** Nobody to receive from: receive waits. */
        noPeers: {},
        /** One or more peers: receive takes from them in turn. */
        attached: {},
      },
    },
    ...closingStates,
  },
}), { guards: ['leavesNoPeers', ...closeFastEdges.guards], effects: closeFastEdges.effects, updates: peerUpdates as never });
