// The sending machine PUSH and DEALER share (RFC 30, RFC 28; libzmq `lb.cpp`): round-robin out
// over the peers with room, wait when none has room. The machine keeps which peers are ready; the
// runtime moves the messages. No message is an event.

import { setup } from 'xstate';
import { closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEntry, PeerEvent } from './peers.js';
import { hasReadyPeer, peerListActions } from './peers.js';

export interface RoundRobinContext {
  peers: PeerEntry[];
}

export type RoundRobinEvent = PeerEvent | CloseEvent;

/** The machine of a round-robin sender, named `id` (`push`, `dealer`). */
export function createRoundRobinMachine<TId extends string>(id: TId) {
  return setup({
    types: {
      context: {} as RoundRobinContext,
      events: {} as RoundRobinEvent,
    },
    guards: {
      hasNoPeers: ({ context }) => context.peers.length === 0,
      hasReadyPeer: ({ context }) => hasReadyPeer(context.peers),
      shouldLinger: closeShouldLinger,
    },
    actions: {
      ...peerListActions<RoundRobinContext, RoundRobinEvent>(),
      // Effects, provided by the runtime.
      startLinger: () => {},
      release: () => {},
    },
  }).createMachine({
    id,
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
          /** No peer: send waits (libzmq blocks a socket with no pipe). */
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
}
