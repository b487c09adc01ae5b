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

/**
 * The routing ids connect() gave (ZMQ_CONNECT_ROUTING_ID), by the endpoint connected to. Lives in
 * machine context (ROUTER and STREAM) and is changed in place by the machine's actions; the
 * transports and the socket read it as a peer attaches. Serialises as `{ <endpoint>: <id as hex> }`.
 */
export class ConnectIds {
  #byEndpoint = new Map<string, Route>();
  /** How many connects gave each id (by routing key): `names` looks it up instead of searching. */
  #countByKey = new Map<string, number>();

  /** The id (hex) the connect to `endpoint` gave, if any. */
  hexOf(endpoint: string): string | undefined {
    return this.#byEndpoint.get(endpoint)?.hex;
  }

  /** The id the connect to `endpoint` gave, as a frame, if any. */
  frameOf(endpoint: string): Uint8Array | undefined {
    return this.#byEndpoint.get(endpoint)?.frame;
  }

  /** Whether some connect gave the id `hex`. */
  names(hex: string): boolean {
    return this.#countByKey.has(routingKey(fromHex(hex)));
  }

  get size(): number {
    return this.#byEndpoint.size;
  }

  set(endpoint: string, hex: string): void {
    this.delete(endpoint);
    const frame = asFrame(fromHex(hex));
    const key = routingKey(frame);
    this.#byEndpoint.set(endpoint, { hex, key, frame });
    this.#countByKey.set(key, (this.#countByKey.get(key) ?? 0) + 1);
  }

  delete(endpoint: string): void {
    const route = this.#byEndpoint.get(endpoint);
    if (route === undefined) return;
    this.#byEndpoint.delete(endpoint);
    const n = this.#countByKey.get(route.key) as number;
    if (n === 1) this.#countByKey.delete(route.key);
    else this.#countByKey.set(route.key, n - 1);
  }

  toJSON(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [endpoint, route] of this.#byEndpoint) out[endpoint] = route.hex;
    return out;
  }

  clone(): ConnectIds {
    const copy = new ConnectIds();
    for (const [endpoint, route] of this.#byEndpoint) copy.set(endpoint, route.hex);
    return copy;
  }
}

/**
 * The commands that keep {@link ConnectIds}: a connect() gave `endpoint` the routing id `routingId`
 * (hex), or the connect to `endpoint` is undone (disconnect(), or a connect that failed).
 */
export type ConnectIdEvent =
  | { type: 'connect.named'; endpoint: string; routingId: string }
  | { type: 'connect.dropped'; endpoint: string };

/** The in-place change of {@link ConnectIds} for a {@link ConnectIdEvent} (ROUTER and STREAM). */
export function applyConnectIdEvent(connectIds: ConnectIds, event: { type: string; endpoint?: string; routingId?: string }): void {
  if (event.type === 'connect.named') connectIds.set(event.endpoint as string, event.routingId as string);
  else if (event.type === 'connect.dropped') connectIds.delete(event.endpoint as string);
}

export interface RouterContext {
  /** Attached peers; `routingId` is the id this ROUTER knows the peer by (hex), always set. */
  peers: PeerTable;
  /** The identity table: routing id ↔ peer id. */
  routes: RouteTable;
  /** The routing ids connect() gave, by endpoint: they outrank the ids peers announce (`knownRoutingId`). */
  connectIds: ConnectIds;
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

export type RouterEvent = PeerEvent | CloseEvent | RouterOwnEvent | ConnectIdEvent;

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

/**
 * The routing id (hex) a peer reached through `endpoint` is known by: the one a connect() to that
 * endpoint gave (ZMQ_CONNECT_ROUTING_ID), which outranks the one the peer announces (libzmq
 * `router.cpp identify_peer`, for a pipe the socket initiated); else the announced one. A peer that
 * came through a bind (`accepted`) was reached by no connect.
 */
export function knownRoutingId(connectIds: ConnectIds, endpoint: string, announced: string | undefined, accepted = false): string | undefined {
  return (accepted ? undefined : connectIds.hexOf(endpoint)) ?? announced;
}

/**
 * The non-empty routing id an attach or identify event claims for its peer: the announced one, or
 * for an identify, the one the connect to the peer's endpoint gave (`knownRoutingId`). At attach the
 * runtime has applied that rule already: only it knows whether the peer was accepted.
 */
export function claimedId(context: Pick<RouterContext, 'peers' | 'connectIds'>, event: { type: string; peerId?: number; routingId?: string }): string | undefined {
  const announced = announcedId(event);
  if (event.type !== 'peer.identified' || context.connectIds.size === 0) return announced;
  const entry = context.peers.get(event.peerId as number);
  return entry === undefined ? announced : knownRoutingId(context.connectIds, entry.endpoint, announced);
}

/** The peer already holding the id the event claims (another peer than the event's), if any. */
export function holderOfAnnounced(context: Pick<RouterContext, 'peers' | 'routes' | 'connectIds'>, event: { type: string; peerId?: number; routingId?: string }): number | undefined {
  const id = claimedId(context, event);
  if (id === undefined) return undefined;
  const holder = context.routes.holderOf(id);
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
  const id = claimedId(context, event);
  if (event.type !== 'peer.identified' || id === undefined) return;
  const holder = holderOfAnnounced(context, event);
  if (holder !== undefined) context.peers.delete(holder);
  context.routes.set(event.peerId, id);
  context.peers.identify(event.peerId, event.peerType, id);
}

const evictParams = ({ context, event }: { context: RouterContext; event: RouterEvent }): PeerParams => ({
  peerId: holderOfAnnounced(context, event) ?? -1,
  routingId: claimedId(context, event) ?? '',
});
const refuseParams = ({ context, event }: { context: RouterContext; event: RouterEvent }): PeerParams => ({
  peerId: 'peerId' in event ? event.peerId : -1,
  routingId: claimedId(context, event) ?? '',
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
  /** Notes the peer's type, and the id it claims (which is the id it holds: `keepsItsId`). */
  identifyPeer: (context: RouterContext, event: RouterEvent): void => {
    if (event.type === 'peer.identified') context.peers.identify(event.peerId, event.peerType, claimedId(context, event));
  },
  markMuted: peerUpdates.markMuted,
  markReady: peerUpdates.markReady,
  /** Re-keys a peer that announced its id after attaching (it had a generated one). */
  rekeyPeer: rekey,
  detachPeer: detachRouted,
  forgetPeer,
  /** A connect() gave an endpoint a routing id, or was undone. */
  keepConnectId: (context: RouterContext, event: RouterEvent): void => applyConnectIdEvent(context.connectIds, event),
};

export const routerMachine = /* @__PURE__ */ setup({
  types: {
    context: {} as RouterContext,
    events: {} as RouterEvent,
    input: {} as RouterInput | undefined,
  },
  guards: {
    leavesNoPeers: ({ context, event }) => leavesNoPeers(context.peers, event),
    isDuplicateId: ({ context, event }) => holderOfAnnounced(context, event) !== undefined,
    takesOverId: ({ context, event }) => context.handover && holderOfAnnounced(context, event) !== undefined,
    keepsItsId: ({ context, event }) => {
      const id = claimedId(context, event);
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
    connectIds: new ConnectIds(),
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
        'connect.named': { actions: 'keepConnectId' },
        'connect.dropped': { actions: 'keepConnectId' },
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
