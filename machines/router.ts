// ROUTER (RFC 28 REQREP): the identity table and what becomes of each message. Each peer gets a
// routing id (the one it announced, or a generated one), duplicates are refused or handed over, and
// whether an unroutable or blocked message is dropped, fails or waits depends on `mandatory`
// (libzmq `router.cpp`). Messages never pass through here: the runtime looks each one up in the
// table this machine keeps (`routeOutcome`), a table its actions change in place.

import { and, assign, setup } from 'xstate';
import { asFrame, byteKey, fromHex } from '../src/core/frame.js';
import { closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEntry, PeerEvent } from './peers.js';
import { applyPeerEvent, entryOf, isKnownPeer, leavesNoPeers, PeerTable, peerUpdates } from './peers.js';
import { inPlaceActions } from './fast-edges.js';
import { randomUint32 } from './request.js';
import type { ProbeParams, ProbeRouterEvent } from './probe-router.js';
import { probeParams, probesNewPeer, setsProbeRouter } from './probe-router.js';

/** One peer's routing id: its hex (as inspectors show it), its bytes, and the lookup key. */
interface Route {
  readonly hex: string;
  readonly key: string;
  readonly frame: Uint8Array;
}

/** The lookup key of a routing id: one UTF-16 unit per byte (a latin1 string), cheap to build per message. */
export const routingKey: (id: Uint8Array) => string = byteKey;

/**
 * The identity table: routing id → peer, both ways. Lives in machine context and is changed in
 * place by the machine's actions; the socket looks up each message in it. Serialises as
 * `{ <routing id as hex>: peerId }`.
 */
export class RouteTable {
  #byKey = new Map<string, number>();
  #byPeer = new Map<number, Route>();

  /** The peer holding routing id `frame` (the first frame of a message sent), if any. */
  peerOf(frame: Uint8Array): number | undefined {
    return this.#byKey.get(routingKey(frame));
  }

  /** The peer holding the routing id given as hex, if any. */
  holderOf(hex: string): number | undefined {
    return this.#byKey.get(routingKey(fromHex(hex)));
  }

  /** Peer `peerId`'s routing id as a frame (prepended to what it sends us). */
  frameOf(peerId: number): Uint8Array | undefined {
    return this.#byPeer.get(peerId)?.frame;
  }

  /** Peer `peerId`'s routing id as hex. */
  hexOf(peerId: number): string | undefined {
    return this.#byPeer.get(peerId)?.hex;
  }

  get size(): number {
    return this.#byPeer.size;
  }

  /** Gives `peerId` the routing id `hex`, taking it from any holder and dropping the peer's old one. */
  set(peerId: number, hex: string): void {
    const frame = asFrame(fromHex(hex));
    const key = routingKey(frame);
    const holder = this.#byKey.get(key);
    if (holder !== undefined && holder !== peerId) this.#byPeer.delete(holder);
    this.forget(peerId);
    this.#byKey.set(key, peerId);
    this.#byPeer.set(peerId, { hex, key, frame });
  }

  /** Takes `peerId` and its routing id out of the table. */
  forget(peerId: number): void {
    const route = this.#byPeer.get(peerId);
    if (route === undefined) return;
    this.#byPeer.delete(peerId);
    if (this.#byKey.get(route.key) === peerId) this.#byKey.delete(route.key);
  }

  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [peerId, route] of [...this.#byPeer].sort((a, b) => a[0] - b[0])) out[route.hex] = peerId;
    return out;
  }

  clone(): RouteTable {
    const copy = new RouteTable();
    for (const [peerId, route] of this.#byPeer) {
      copy.#byPeer.set(peerId, route);
      copy.#byKey.set(route.key, peerId);
    }
    return copy;
  }
}

export interface RouterContext {
  /** Attached peers; `routingId` is the id this ROUTER knows the peer by (hex), always set. */
  peers: PeerTable;
  /** The identity table: routing id ↔ peer id. */
  routes: RouteTable;
  /** The counter of generated ids (libzmq `_next_integral_routing_id`, random start, uint32). */
  nextGeneratedId: number;
  /** ZMQ_ROUTER_HANDOVER: a newcomer with a taken id takes it over, and the holder is detached. */
  handover: boolean;
  /** ZMQ_PROBE_ROUTER: a new peer first gets an empty message. */
  probeRouter: boolean;
}

export interface RouterInput {
  /** The first generated id's counter value; random if absent. */
  nextGeneratedId?: number;
  handover?: boolean;
  probeRouter?: boolean;
}

/** ROUTER's own events, beyond the peer and close events every socket hears. */
export type RouterOwnEvent = { type: 'option.changed'; name: 'mandatory' | 'handover'; value: boolean } | ProbeRouterEvent;

export type RouterEvent = PeerEvent | CloseEvent | RouterOwnEvent;

/** Parameters of the `evictHolder` and `refuseDuplicate` effects: which peer, and the id at stake. */
export interface PeerParams {
  peerId: number;
  routingId: string;
}

// ---- the rules, used by the machine's guards and by the socket's fast path ----

/** The generated routing id for counter value `n`: 5 bytes, `00` + uint32 big-endian (libzmq `router.cpp`), as hex. */
export function generatedRoutingId(n: number): string {
  return '00' + (n >>> 0).toString(16).padStart(8, '0');
}

/** The non-empty routing id an attach or identify event announces, if any. */
export function announcedId(event: { type: string; routingId?: string }): string | undefined {
  if (event.type !== 'peer.attached' && event.type !== 'peer.identified') return undefined;
  return event.routingId === undefined || event.routingId === '' ? undefined : event.routingId;
}

/** The peer already holding the id the event announces (another peer than the event's), if any. */
export function holderOfAnnounced(routes: RouteTable, event: { type: string; peerId?: number; routingId?: string }): number | undefined {
  const id = announcedId(event);
  if (id === undefined) return undefined;
  const holder = routes.holderOf(id);
  return holder !== undefined && holder !== event.peerId ? holder : undefined;
}

/** Whether the mandatory region is on (ZMQ_ROUTER_MANDATORY), from a snapshot's value. */
export function isMandatory(value: unknown): boolean {
  return (value as { open?: { mandatory?: string } }).open?.mandatory === 'on';
}

/** What becomes of a message the application sends (libzmq `router.cpp xsend`). */
export type RouteOutcome = 'deliver' | 'drop' | 'unreachable' | 'wait';

/**
 * The fate of a message of `frameCount` frames whose first frame names `peer` (undefined: no peer
 * holds that id): a lone id frame is dropped; an unknown id is dropped, or with `mandatory` fails
 * (EHOSTUNREACH); a peer at its HWM misses it, or with `mandatory` the send waits.
 */
export function routeOutcome(mandatory: boolean, peer: PeerEntry | undefined, frameCount: number): RouteOutcome {
  if (frameCount < 2) return 'drop';
  if (peer === undefined) return mandatory ? 'unreachable' : 'drop';
  if (!peer.ready) return mandatory ? 'wait' : 'drop';
  return 'deliver';
}

/** Whether a send may complete now (`writable`, libzmq `router_t::xhas_out`): always, unless mandatory; then while some peer has room. */
export function routerHasRoom(mandatory: boolean, peers: PeerTable): boolean {
  return !mandatory || peers.readyCount > 0;
}

export { probesNewPeer } from './probe-router.js';

/** Enters the peer under its announced id or the next generated one, evicting a holder (handover). */
function attachRouted(context: RouterContext, event: RouterEvent): Partial<RouterContext> {
  if (event.type !== 'peer.attached') return {};
  let id = announcedId(event);
  let next = context.nextGeneratedId;
  if (id === undefined) {
    id = generatedRoutingId(next);
    next = (next + 1) >>> 0;
  } else {
    const holder = context.routes.holderOf(id);
    if (holder !== undefined) context.peers.delete(holder);
  }
  context.routes.set(event.peerId, id);
  context.peers.add({ ...entryOf(event), routingId: id });
  return next === context.nextGeneratedId ? {} : { nextGeneratedId: next };
}

/** Re-keys a peer that announced its id after attaching (it had a generated one), evicting a holder. */
function rekey(context: RouterContext, event: RouterEvent): void {
  const id = announcedId(event);
  if (event.type !== 'peer.identified' || id === undefined) return;
  const holder = holderOfAnnounced(context.routes, event);
  if (holder !== undefined) context.peers.delete(holder);
  context.routes.set(event.peerId, id);
  context.peers.identify(event.peerId, event.peerType, id);
}

const evictParams = ({ context, event }: { context: RouterContext; event: RouterEvent }): PeerParams => ({
  peerId: holderOfAnnounced(context.routes, event) ?? -1,
  routingId: announcedId(event) ?? '',
});
const refuseParams = ({ event }: { event: RouterEvent }): PeerParams => ({
  peerId: 'peerId' in event ? event.peerId : -1,
  routingId: announcedId(event) ?? '',
});

/** A peer leaving: out of the peer table and the identity table. */
const detachRouted = (context: RouterContext, event: RouterEvent): void => {
  if (event.type === 'peer.detached') context.routes.forget(event.peerId);
  applyPeerEvent(context.peers, event);
};
/** Forgets the event's peer (a late identity that turned out to be taken). */
const forgetPeer = (context: RouterContext, event: RouterEvent): void => {
  if (!('peerId' in event)) return;
  context.routes.forget(event.peerId);
  context.peers.delete(event.peerId);
};
// Mute and ready flags as every socket keeps them; a peer re-keyed, leaving or forgotten also
// changes the identity table. (Attaching assigns the next generated id too: an assign of its own.)
const updates = {
  identifyPeer: peerUpdates.identifyPeer,
  markMuted: peerUpdates.markMuted,
  markReady: peerUpdates.markReady,
  /** Re-keys a peer that announced its id after attaching (it had a generated one). */
  rekeyPeer: rekey,
  detachPeer: detachRouted,
  forgetPeer,
};

export const routerMachine = setup({
  types: {
    context: {} as RouterContext,
    events: {} as RouterEvent,
    input: {} as RouterInput | undefined,
  },
  guards: {
    leavesNoPeers: ({ context, event }) => leavesNoPeers(context.peers, event),
    isDuplicateId: ({ context, event }) => holderOfAnnounced(context.routes, event) !== undefined,
    takesOverId: ({ context, event }) => context.handover && holderOfAnnounced(context.routes, event) !== undefined,
    keepsItsId: ({ context, event }) => {
      const id = announcedId(event);
      return id === undefined || ('peerId' in event && context.routes.holderOf(id) === event.peerId);
    },
    isKnownPeer: ({ context, event }) => isKnownPeer(context.peers, event),
    setsMandatoryOn: ({ event }) => event.type === 'option.changed' && event.name === 'mandatory' && event.value,
    setsMandatoryOff: ({ event }) => event.type === 'option.changed' && event.name === 'mandatory' && !event.value,
    setsHandover: ({ event }) => event.type === 'option.changed' && event.name === 'handover',
    setsProbeRouter,
    probesNewPeer: ({ context }) => probesNewPeer(context),
    shouldLinger: closeShouldLinger,
  },
  actions: {
    /** Enters the peer under its announced id, or the next generated one. With handover, the
     * previous holder of the id leaves the table in the same step (`evictHolder` detaches it). */
    attachPeer: assign(({ context, event }) => attachRouted(context, event)),
    ...inPlaceActions<RouterContext, RouterEvent, typeof updates>(updates),
    setHandover: assign({ handover: ({ context, event }) => (event.type === 'option.changed' ? event.value : context.handover) }),
    setProbeRouter: assign({ probeRouter: ({ context, event }) => (event.type === 'option.changed' ? event.value : context.probeRouter) }),
    // Effects, provided by the runtime.
    /** Detaches the peer that held the event's routing id (handover); `params.peerId` names it. */
    evictHolder: (_: unknown, _params: PeerParams) => {},
    /** Refuses the event's peer: its routing id is taken and `handover` is off. */
    refuseDuplicate: (_: unknown, _params: PeerParams) => {},
    /** Write an empty message to the new peer (ZMQ_PROBE_ROUTER). */
    sendProbe: (_: unknown, _params: ProbeParams) => {},
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'router',
  context: ({ input }) => ({
    peers: new PeerTable(),
    routes: new RouteTable(),
    nextGeneratedId: (input?.nextGeneratedId ?? randomUint32()) >>> 0,
    handover: input?.handover ?? false,
    probeRouter: input?.probeRouter ?? false,
  }),
  initial: 'open',
  states: {
    open: {
      type: 'parallel',
      on: {
        'option.changed': [{ guard: 'setsHandover', actions: 'setHandover' }, { guard: 'setsProbeRouter', actions: 'setProbeRouter' }],
        close: closeTransitions,
      },
      states: {
        /** The identity table and each peer's HWM flag (`ready`: false = mute). */
        peers: {
          initial: 'noPeers',
          on: {
            // With ZMQ_PROBE_ROUTER, the empty message goes in the attach's step: before anything else.
            'peer.attached': [
              { guard: and(['takesOverId', 'probesNewPeer']), target: '.attached', actions: [{ type: 'evictHolder', params: evictParams }, 'attachPeer', { type: 'sendProbe', params: probeParams }] },
              { guard: 'takesOverId', target: '.attached', actions: [{ type: 'evictHolder', params: evictParams }, 'attachPeer'] },
              { guard: 'isDuplicateId', actions: { type: 'refuseDuplicate', params: refuseParams } },
              { guard: 'probesNewPeer', target: '.attached', actions: ['attachPeer', { type: 'sendProbe', params: probeParams }] },
              { target: '.attached', actions: 'attachPeer' },
            ],
            'peer.identified': [
              { guard: 'keepsItsId', actions: 'identifyPeer' },
              { guard: 'takesOverId', actions: [{ type: 'evictHolder', params: evictParams }, 'rekeyPeer'] },
              { guard: 'isDuplicateId', actions: [{ type: 'refuseDuplicate', params: refuseParams }, 'forgetPeer'] },
              { actions: 'rekeyPeer' },
            ],
            'peer.detached': [{ guard: 'leavesNoPeers', target: '.noPeers', actions: 'detachPeer' }, { actions: 'detachPeer' }],
            'pipe.muted': { guard: 'isKnownPeer', actions: 'markMuted' },
            'pipe.ready': { guard: 'isKnownPeer', actions: 'markReady' },
          },
          states: {
            /** Nobody to route to: every message sent is unroutable. */
            noPeers: {},
            /** Messages go to the peer their first frame names (`routeOutcome`). */
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
