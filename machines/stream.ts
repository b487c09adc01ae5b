// STREAM (libzmq ZMQ_STREAM): raw TCP connections, no ZMTP. Each connection is known by a routing id
// the socket gives it: the id its connect named (ZMQ_CONNECT_ROUTING_ID) or a generated one (libzmq
// `stream.cpp identify_peer`); what becomes of a message sent (delivered, waiting, closing its
// connection, refused) is decided here. Bytes never pass through: the runtime looks each message up
// in the table this machine keeps, a table its actions change in place.

import { assign, setup } from 'xstate';
import { closeShouldLinger, closeTransitions, closingStates } from './closing.js';
import type { CloseEvent, PeerEntry, PeerEvent } from './peers.js';
import { applyPeerEvent, entryOf, isKnownPeer, leavesNoPeers, PeerTable, peerUpdates } from './peers.js';
import { inPlaceActions } from './fast-edges.js';
import { randomUint32 } from './request.js';
import { applyConnectIdEvent, ConnectIds, generatedRoutingId, RouteTable } from './router.js';
import type { ConnectIdEvent } from './router.js';

export interface StreamContext {
  /** The open connections; `routingId` is the id this STREAM knows each by (hex), always set. */
  peers: PeerTable;
  /** Routing id ↔ connection (peer id). */
  routes: RouteTable;
  /** The routing ids connect() named, by endpoint (`knownRoutingId` in machines/router.ts). */
  connectIds: ConnectIds;
  /** The counter of generated ids (libzmq `_next_integral_routing_id`: random start, uint32). */
  nextGeneratedId: number;
}

export interface StreamInput {
  /** The first generated id's counter value; random if absent. */
  nextGeneratedId?: number;
}

export type StreamEvent = PeerEvent | CloseEvent | ConnectIdEvent;

/** What becomes of a message the application sends (libzmq `stream.cpp xsend`). */
export type StreamSendOutcome = 'deliver' | 'close' | 'wait' | 'unreachable' | 'malformed';

// ---- the rules a socket's fast path applies, the same functions the guards and actions call ----

/** Whether some connection holds the routing id `hex` (a connect may not name it then). */
export function isRoutingIdTaken(routes: RouteTable, hex: string): boolean {
  return routes.holderOf(hex) !== undefined;
}

/** Whether a connect may name the routing id `hex`: no connection holds it, and no other connect named it. */
export function mayNameConnection(context: Pick<StreamContext, 'routes' | 'connectIds'>, hex: string): boolean {
  return !isRoutingIdTaken(context.routes, hex) && !context.connectIds.names(hex);
}

/**
 * The routing id (hex) a new connection gets: the one its connect named, unless a connection holds
 * it already, else the generated id of counter value `next` (`00` + uint32, as ROUTER makes them).
 * libzmq gives a raw connection no say: a peer announces nothing (`stream.cpp identify_peer`).
 */
export function connectionRoutingId(routes: RouteTable, named: string | undefined, next: number): { id: string; generated: boolean } {
  if (named !== undefined && named !== '' && !isRoutingIdTaken(routes, named)) return { id: named, generated: false };
  return { id: generatedRoutingId(next), generated: true };
}

/**
 * Which connection a message goes to, and whether it is written, waits, closes it or is refused.
 * `frameCount` is the message's frames, `peer` the connection its first frame names (undefined: no
 * connection holds that id), `dataLength` the bytes of its data frame. A message is exactly a
 * routing id and one data frame, else it is malformed (EINVAL; libzmq drops a lone frame and reads a
 * third as the next message's routing id). An unknown id fails (EHOSTUNREACH, as libzmq always does
 * for STREAM). Empty data closes that connection, after what was queued for it. Data for a
 * connection at its HWM waits (libzmq: EAGAIN). Otherwise the data is written to the connection.
 */
export function sendOutcome(frameCount: number, peer: PeerEntry | undefined, dataLength: number): StreamSendOutcome {
  if (frameCount !== 2) return 'malformed';
  if (peer === undefined) return 'unreachable';
  if (dataLength === 0) return 'close';
  return peer.ready ? 'deliver' : 'wait';
}

/**
 * Whether a send may complete now (`writable`): always, as libzmq's `stream_t::xhas_out` says; a
 * message for a connection at its HWM waits on its own, whatever others do.
 */
export function streamHasRoom(): boolean {
  return true;
}

/** Enters the connection under the id its connect named, or the next generated one. */
function attachConnection(context: StreamContext, event: StreamEvent): Partial<StreamContext> {
  if (event.type !== 'peer.attached') return {};
  const { id, generated } = connectionRoutingId(context.routes, event.routingId, context.nextGeneratedId);
  context.routes.set(event.peerId, id);
  context.peers.add({ ...entryOf(event), routingId: id });
  return generated ? { nextGeneratedId: (context.nextGeneratedId + 1) >>> 0 } : {};
}

/** A connection leaving: out of the peer table and the identity table. */
function detachConnection(context: StreamContext, event: StreamEvent): void {
  if (event.type === 'peer.detached') context.routes.forget(event.peerId);
  applyPeerEvent(context.peers, event);
}

// Mute and ready flags as every socket keeps them; a connection leaving also leaves the identity
// table. (Attaching assigns the next generated id too: an assign of its own.)
const updates = {
  markMuted: peerUpdates.markMuted,
  markReady: peerUpdates.markReady,
  detachPeer: detachConnection,
  /** A connect() named a routing id for an endpoint, or was undone. */
  keepConnectId: (context: StreamContext, event: StreamEvent): void => applyConnectIdEvent(context.connectIds, event),
};

export const streamMachine = /* @__PURE__ */ setup({
  types: {
    context: {} as StreamContext,
    events: {} as StreamEvent,
    input: {} as StreamInput | undefined,
  },
  guards: {
    leavesNoPeers: ({ context, event }) => leavesNoPeers(context.peers, event),
    isKnownPeer: ({ context, event }) => isKnownPeer(context.peers, event),
    shouldLinger: closeShouldLinger,
  },
  actions: {
    /** Enters the connection under the routing id its connect named, or the next generated one. */
    attachPeer: assign(({ context, event }) => attachConnection(context, event)),
    ...inPlaceActions<StreamContext, StreamEvent, typeof updates>(updates),
    startLinger: () => {},
    release: () => {},
  },
}).createMachine({
  id: 'stream',
  context: ({ input }) => ({
    peers: new PeerTable(),
    routes: new RouteTable(),
    connectIds: new ConnectIds(),
    nextGeneratedId: (input?.nextGeneratedId ?? randomUint32()) >>> 0,
  }),
  initial: 'open',
  states: {
    open: {
      initial: 'noPeers',
      on: {
        'peer.attached': { target: '.attached', actions: 'attachPeer' },
        'peer.detached': [
          { guard: 'leavesNoPeers', target: '.noPeers', actions: 'detachPeer' },
          { guard: 'isKnownPeer', actions: 'detachPeer' },
        ],
        'pipe.muted': { guard: 'isKnownPeer', actions: 'markMuted' },
        'pipe.ready': { guard: 'isKnownPeer', actions: 'markReady' },
        'connect.named': { actions: 'keepConnectId' },
        'connect.dropped': { actions: 'keepConnectId' },
        close: closeTransitions,
      },
      states: {
        /** No connection: every message sent names an unknown routing id (EHOSTUNREACH). */
        noPeers: {},
        /** Messages go to the connection their first frame names (`sendOutcome`). */
        attached: {},
      },
    },
    ...closingStates,
  },
});
