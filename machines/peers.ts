// What every socket machine knows about its peers, and the pure updates its actions make.
// Peers are plain JSON (ids, endpoints, flags): pipes and buffers stay in the runtime.

import { assign } from 'xstate';
import type { EventObject } from 'xstate';

/** One attached peer as a socket machine sees it. */
export interface PeerEntry {
  /** The runtime's id for this connection, unique within the socket. */
  id: number;
  /** The endpoint the connection came through (e.g. `inproc://jobs`, `tcp://127.0.0.1:5555`). */
  endpoint: string;
  /** The peer's socket type as ZeroMQ spells it on the wire (`PULL`, `DEALER`, …). */
  peerType: string;
  /** Whether our outgoing pipe to this peer has room (false once it reached its HWM: "mute"). */
  ready: boolean;
  /** The peer's routing id as hex, where one is known (ROUTER identity table, monitor events). */
  routingId?: string;
}

/** Facts the runtime reports to every socket machine (past tense, dotted by source). */
export type PeerEvent =
  | { type: 'peer.attached'; peerId: number; endpoint: string; peerType: string; routingId?: string }
  | { type: 'peer.detached'; peerId: number }
  | { type: 'pipe.muted'; peerId: number }
  | { type: 'pipe.ready'; peerId: number };

/** Commands every socket machine takes. `queued` counts outgoing messages still in our pipes. */
export type CloseEvent =
  | { type: 'close'; linger: number; queued: number }
  | { type: 'pipes.drained' }
  | { type: 'linger.expired' };

export function withPeer(peers: readonly PeerEntry[], e: Extract<PeerEvent, { type: 'peer.attached' }>): PeerEntry[] {
  const entry: PeerEntry = { id: e.peerId, endpoint: e.endpoint, peerType: e.peerType, ready: true };
  if (e.routingId !== undefined) entry.routingId = e.routingId;
  return [...peers, entry];
}

export function withoutPeer(peers: readonly PeerEntry[], peerId: number): PeerEntry[] {
  return peers.filter((p) => p.id !== peerId);
}

export function withReady(peers: readonly PeerEntry[], peerId: number, ready: boolean): PeerEntry[] {
  return peers.map((p) => (p.id === peerId && p.ready !== ready ? { ...p, ready } : p));
}

export function hasReadyPeer(peers: readonly PeerEntry[]): boolean {
  for (const p of peers) if (p.ready) return true;
  return false;
}

export function isKnownPeer(peers: readonly PeerEntry[], peerId: number): boolean {
  for (const p of peers) if (p.id === peerId) return true;
  return false;
}

/** Whether a close should linger: there is queued output and linger is not 0. */
export function shouldLinger(e: CloseEvent): boolean {
  return e.type === 'close' && e.queued > 0 && e.linger !== 0;
}

/** An action that replaces `context.peers` with what `update` makes of it and the event. */
function peersAction<TContext extends { peers: PeerEntry[] }, TEvent extends EventObject>(
  update: (peers: PeerEntry[], event: PeerEvent) => PeerEntry[],
) {
  return assign<TContext, TEvent, undefined, TEvent, never>(
    ({ context, event }) => ({ peers: update(context.peers, event as unknown as PeerEvent) }) as Partial<TContext>,
  );
}

/**
 * The four peer-list actions most socket machines name (`attachPeer`, `detachPeer`, `markMuted`,
 * `markReady`), each leaving the list as it was for any other event. Spread into `setup({ actions })`
 * with the machine's context and event types; a machine that keeps more per peer (ROUTER's identity
 * table, PUB's subscriptions) writes its own instead.
 */
export function peerListActions<TContext extends { peers: PeerEntry[] }, TEvent extends EventObject>() {
  return {
    attachPeer: peersAction<TContext, TEvent>((peers, e) => (e.type === 'peer.attached' ? withPeer(peers, e) : peers)),
    detachPeer: peersAction<TContext, TEvent>((peers, e) => (e.type === 'peer.detached' ? withoutPeer(peers, e.peerId) : peers)),
    markMuted: peersAction<TContext, TEvent>((peers, e) => (e.type === 'pipe.muted' ? withReady(peers, e.peerId, false) : peers)),
    markReady: peersAction<TContext, TEvent>((peers, e) => (e.type === 'pipe.ready' ? withReady(peers, e.peerId, true) : peers)),
  };
}
