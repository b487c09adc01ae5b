// ROUTER (RFC 28 REQREP): the identity table. Each peer gets a routing id (the one it announced,
// or a generated one), duplicates are refused or handed over, and whether an unroutable or blocked
// message is dropped or reported depends on `mandatory` (libzmq `router.cpp`). Messages
// themselves never pass through here: the runtime routes them with a map it rebuilds from `routes`.

import { assign, setup } from 'xstate';
import { closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEntry, PeerEvent } from './peers.js';
import { randomUint32 } from './request.js';
import { peerListActions, withoutPeer } from './peers.js';

export interface RouterContext {
  /** Attached peers; `routingId` is the id this ROUTER knows the peer by (hex), always set. */
  peers: PeerEntry[];
  /** The identity table: routing id (hex) → peer id. */
  routes: Record<string, number>;
  /** The counter of generated ids (libzmq `_next_integral_routing_id`, random start, uint32). */
  nextGeneratedId: number;
  /** ZMQ_ROUTER_HANDOVER: a newcomer with a taken id takes it over, and the holder is detached. */
  handover: boolean;
}

export interface RouterInput {
  /** The first generated id's counter value; random if absent. */
  nextGeneratedId?: number;
  handover?: boolean;
}

/** ROUTER's own events, beyond the peer and close events every socket hears. */
export type RouterOwnEvent =
  | { type: 'option.changed'; name: 'mandatory' | 'handover'; value: boolean }
  /** A peer that attached before its routing id was known (inproc connect before bind) now has one. */
  | { type: 'peer.identified'; peerId: number; routingId?: string };

export type RouterEvent = PeerEvent | CloseEvent | RouterOwnEvent;

/** The generated routing id for counter value `n`: 5 bytes, `00` + uint32 big-endian (libzmq `router.cpp`), as hex. */
export function generatedRoutingId(n: number): string {
  return '00' + (n >>> 0).toString(16).padStart(8, '0');
}

/** The non-empty routing id an attach or identify event announces, if any. */
function announced(event: RouterEvent): string | undefined {
  if (event.type !== 'peer.attached' && event.type !== 'peer.identified') return undefined;
  return event.routingId === undefined || event.routingId === '' ? undefined : event.routingId;
}

/** Whether the event announces an id that another peer already holds. */
function isTaken(context: RouterContext, event: RouterEvent): boolean {
  const id = announced(event);
  if (id === undefined || !('peerId' in event)) return false;
  const holder = context.routes[id];
  return holder !== undefined && holder !== event.peerId;
}

/** The table without `peerId`'s id (and without the peer, if `dropPeer`). */
function forget(context: RouterContext, peerId: number): Pick<RouterContext, 'peers' | 'routes'> {
  const entry = context.peers.find((p) => p.id === peerId);
  const routes = { ...context.routes };
  if (entry?.routingId !== undefined && routes[entry.routingId] === peerId) delete routes[entry.routingId];
  return { peers: withoutPeer(context.peers, peerId), routes };
}

// Mute and ready flags as every socket keeps them; attach and detach also touch the identity table.
const peerActions = peerListActions<RouterContext, RouterEvent>();

export const routerMachine = setup({
  types: {
    context: {} as RouterContext,
    events: {} as RouterEvent,
    input: {} as RouterInput | undefined,
  },
  guards: {
    hasNoPeers: ({ context }) => context.peers.length === 0,
    isDuplicateId: ({ context, event }) => isTaken(context, event),
    takesOverId: ({ context, event }) => context.handover && isTaken(context, event),
    keepsItsId: ({ context, event }) => {
      const id = announced(event);
      return id === undefined || ('peerId' in event && context.routes[id] === event.peerId);
    },
    setsMandatoryOn: ({ event }) => event.type === 'option.changed' && event.name === 'mandatory' && event.value,
    setsMandatoryOff: ({ event }) => event.type === 'option.changed' && event.name === 'mandatory' && !event.value,
    setsHandover: ({ event }) => event.type === 'option.changed' && event.name === 'handover',
    shouldLinger: closeShouldLinger,
  },
  actions: {
    /** Enters the peer under its announced id, or the next generated one. With handover, the
     * previous holder of the id leaves the table in the same step (its connection is closed by
     * `evictHolder`). */
    attachPeer: assign(({ context, event }) => {
      if (event.type !== 'peer.attached') return {};
      let { peers, routes } = context;
      let nextGeneratedId = context.nextGeneratedId;
      let id = announced(event);
      if (id === undefined) {
        id = generatedRoutingId(nextGeneratedId);
        nextGeneratedId = (nextGeneratedId + 1) >>> 0;
      } else if (routes[id] !== undefined) {
        ({ peers, routes } = forget(context, routes[id] as number));
      }
      const entry: PeerEntry = { id: event.peerId, endpoint: event.endpoint, peerType: event.peerType, ready: true, routingId: id };
      return { peers: [...peers, entry], routes: { ...routes, [id]: event.peerId }, nextGeneratedId };
    }),
    /** Re-keys a peer that announced its id after attaching (it had a generated one). */
    rekeyPeer: assign(({ context, event }) => {
      const id = announced(event);
      if (event.type !== 'peer.identified' || id === undefined) return {};
      const holder = context.routes[id];
      let { peers, routes } = holder !== undefined && holder !== event.peerId ? forget(context, holder) : context;
      routes = { ...routes };
      const old = peers.find((p) => p.id === event.peerId)?.routingId;
      if (old !== undefined && routes[old] === event.peerId) delete routes[old];
      routes[id] = event.peerId;
      peers = peers.map((p) => (p.id === event.peerId ? { ...p, routingId: id } : p));
      return { peers, routes };
    }),
    detachPeer: assign(({ context, event }) => (event.type === 'peer.detached' ? forget(context, event.peerId) : {})),
    forgetPeer: assign(({ context, event }) => ('peerId' in event ? forget(context, event.peerId) : {})),
    markMuted: peerActions.markMuted,
    markReady: peerActions.markReady,
    setHandover: assign({ handover: ({ context, event }) => (event.type === 'option.changed' ? event.value : context.handover) }),
    // Effects, provided by the runtime.
    /** Closes the connection of the peer holding the event's routing id (handover). Runs before
     * the table changes, so `context.routes[event.routingId]` names that peer. */
    evictHolder: () => {},
    /** Refuses the event's peer: its routing id is taken and `handover` is off. */
    refuseDuplicate: () => {},
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'router',
  context: ({ input }) => ({
    peers: [],
    routes: {},
    nextGeneratedId: (input?.nextGeneratedId ?? randomUint32()) >>> 0,
    handover: input?.handover ?? false,
  }),
  initial: 'open',
  states: {
    open: {
      type: 'parallel',
      on: {
        'option.changed': { guard: 'setsHandover', actions: 'setHandover' },
        close: closeTransitions,
      },
      states: {
        /** The identity table and each peer's HWM flag (`ready`: false = mute). */
        peers: {
          initial: 'noPeers',
          on: {
            'peer.attached': [
              { guard: 'takesOverId', target: '.routing', actions: ['evictHolder', 'attachPeer'] },
              { guard: 'isDuplicateId', actions: 'refuseDuplicate' },
              { target: '.routing', actions: 'attachPeer' },
            ],
            'peer.identified': [
              { guard: 'keepsItsId' },
              { guard: 'takesOverId', actions: ['evictHolder', 'rekeyPeer'] },
              { guard: 'isDuplicateId', target: '.routing', actions: ['refuseDuplicate', 'forgetPeer'] },
              { actions: 'rekeyPeer' },
            ],
            'peer.detached': { target: '.routing', actions: 'detachPeer' },
            'pipe.muted': { actions: 'markMuted' },
            'pipe.ready': { actions: 'markReady' },
          },
          states: {
            routing: { always: [{ guard: 'hasNoPeers', target: 'noPeers' }, { target: 'attached' }] },
            /** Nobody to route to: every message sent is unroutable. */
            noPeers: {},
            /** Messages go to the peer their first frame names. */
            attached: {},
          },
        },
        /** ZMQ_ROUTER_MANDATORY: what happens to a message the table cannot deliver now. */
        mandatory: {
          initial: 'off',
          on: {
            'option.changed': [
              { guard: 'setsMandatoryOn', target: '.on' },
              { guard: 'setsMandatoryOff', target: '.off' },
            ],
          },
          states: {
            /** Unknown routing id: dropped. Peer at its HWM (mute): dropped. */
            off: {},
            /** Unknown routing id: send fails with EHOSTUNREACH. Peer mute: send waits (EAGAIN
             * after sendTimeout). */
            on: {},
          },
        },
      },
    },
    ...closingStates,
  },
});
