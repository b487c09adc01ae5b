// The sending machine PUSH and DEALER share (RFC 30, RFC 28; libzmq `lb.cpp`): round-robin out
// over the peers with room, wait when none has room. The machine keeps which peers are ready, in a
// table its actions change in place; the runtime moves the messages. No message is an event.

import { assign, setup } from 'xstate';
import { closeFastEdges, closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEntry, PeerEvent } from './peers.js';
import { isKnownPeer, leavesNoPeers, leavesNoReadyPeer, PeerTable, peerListActions, peerUpdates } from './peers.js';
import { withFastEdges } from './fast-edges.js';
import type { ProbeParams, ProbeRouterEvent } from './probe-router.js';
import { probeParams, probesNewPeer, setsProbeRouter } from './probe-router.js';

export interface RoundRobinContext {
  /** Attached peers, ready ones first, with the round-robin cursor (see machines/peers.ts). */
  peers: PeerTable;
  /** ZMQ_PROBE_ROUTER (DEALER; a PUSH has no such field): a new peer first gets an empty message. */
  probeRouter?: boolean;
}

/** The events of a round-robin sender; only a machine made with `probes` hears the probe option. */
export type RoundRobinEvent = PeerEvent | CloseEvent | ProbeRouterEvent;

/** What a round-robin sender's machine takes beyond its id. */
export interface RoundRobinOptions {
  /** ZMQ_PROBE_ROUTER is an option of this socket type (DEALER): a new peer may first get an empty message. */
  probes?: boolean;
}

// ---- the rules a socket's fast path applies, the same functions the guards call ----

/** Which peer the next message goes to: the next ready one in turn (libzmq `lb.cpp`); none: the send waits. */
export function nextPeer(peers: PeerTable): PeerEntry | undefined {
  return peers.nextReady();
}

/** Whether a send would complete now: some peer has room. With none, a send waits (never drops). */
export function hasRoom(peers: PeerTable): boolean {
  return peers.readyCount > 0;
}

export { probesNewPeer } from './probe-router.js';

/** The machine of a round-robin sender, named `id` (`push`, `dealer`). Its peer edges take the
 * fast-edge shortcut (machines/fast-edges.ts): a socket may have a hundred thousand peers. */
export function createRoundRobinMachine<TId extends string>(id: TId, options: RoundRobinOptions = {}) {
  const attach = { target: '.ready', actions: 'attachPeer' } as const;
  // With ZMQ_PROBE_ROUTER on, the empty message goes in the same step as the attach, so it comes
  // before anything else the peer gets.
  const probing = options.probes === true
    ? {
        'peer.attached': [{ guard: 'probesNewPeer', target: '.ready', actions: ['attachPeer', { type: 'sendProbe', params: probeParams }] }, attach],
        'option.changed': { guard: 'setsProbeRouter', actions: 'setProbeRouter' },
      } as const
    : { 'peer.attached': attach };
  return withFastEdges(setup({
    types: {
      context: {} as RoundRobinContext,
      events: {} as RoundRobinEvent,
    },
    guards: {
      leavesNoPeers: ({ context, event }) => leavesNoPeers(context.peers, event),
      leavesNoRoom: ({ context, event }) => leavesNoReadyPeer(context.peers, event),
      isKnownPeer: ({ context, event }) => isKnownPeer(context.peers, event),
      probesNewPeer: ({ context }) => probesNewPeer(context),
      setsProbeRouter,
      shouldLinger: closeShouldLinger,
    },
    actions: {
      ...peerListActions<RoundRobinContext, RoundRobinEvent>(),
      setProbeRouter: assign(({ event }) => (event.type === 'option.changed' ? { probeRouter: event.value } : {})),
      // Effects, provided by the runtime.
      /** Write an empty message to the new peer (ZMQ_PROBE_ROUTER). */
      sendProbe: (_: unknown, _params: ProbeParams) => {},
      startLinger: () => {},
      release: () => {},
    },
  }).createMachine({
    id,
    context: (): RoundRobinContext => (options.probes === true ? { peers: new PeerTable(), probeRouter: false } : { peers: new PeerTable() }),
    initial: 'open',
    states: {
      open: {
        initial: 'noPeers',
        on: {
          // A new peer's pipe is empty: it has room.
          ...probing,
          'peer.detached': [
            { guard: 'leavesNoPeers', target: '.noPeers', actions: 'detachPeer' },
            { guard: 'leavesNoRoom', target: '.mute', actions: 'detachPeer' },
            { actions: 'detachPeer' },
          ],
          'peer.identified': { actions: 'identifyPeer' },
          'pipe.muted': [{ guard: 'leavesNoRoom', target: '.mute', actions: 'markMuted' }, { actions: 'markMuted' }],
          'pipe.ready': { guard: 'isKnownPeer', target: '.ready', actions: 'markReady' },
          close: closeTransitions,
        },
        states: {
          /** No peer: send waits (libzmq blocks a socket with no pipe). */
          noPeers: {},
          /** At least one peer has room: send completes at once, to the next ready peer in turn. */
          ready: {},
          /** Every peer is at its HWM: send waits for one to drain. */
          mute: {},
        },
      },
      ...closingStates,
    },
  }), { guards: ['leavesNoPeers', 'leavesNoRoom', 'isKnownPeer', 'probesNewPeer', ...closeFastEdges.guards], effects: ['sendProbe', ...closeFastEdges.effects], updates: peerUpdates as never });
}
