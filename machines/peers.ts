// What every socket machine knows about its peers: a table of plain entries (ids, endpoints, flags;
// pipes and buffers stay in the runtime), changed in place by the machines' actions so that an
// attach, a detach or an HWM edge costs O(1) however many peers there are.

import type { EventObject } from 'xstate';
import { inPlaceActions } from './fast-edges.js';

/** One attached peer as a socket machine sees it. */
export interface PeerEntry {
  /** The runtime's id for this connection, unique within the socket. */
  id: number;
  /** The endpoint the connection came through (e.g. `inproc://jobs`, `tcp://127.0.0.1:5555`). */
  endpoint: string;
  /** The peer's socket type as ZeroMQ spells it on the wire (`PULL`, `DEALER`, …); '' until known. */
  peerType: string;
  /** Whether our outgoing pipe to this peer has room (false once it reached its HWM: "mute"). */
  ready: boolean;
  /** The peer's routing id as hex, where one is known (ROUTER identity table, monitor events). */
  routingId?: string;
}

/*
 * The entries sit in one array, ready ones first, as libzmq's `lb.cpp` keeps its pipes with an
 * `active` count: marking a peer mute or ready swaps it across the boundary, detaching swaps it
 * with the last entry, and the round-robin cursor walks the ready part only.
 *
 *   list   [ p3 | p1 | p7 ‖ p2 | p5 ]      ready = 3, cursor = 1 (p1 is next)
 *            ready part      mute part
 *   where  { 3→0, 1→1, 7→2, 2→3, 5→4 }
 */

/**
 * The peers of one socket machine. Lives in machine context and is changed in place by the
 * machine's actions (never copied per change). Serialises as the entries in attach order
 * (`toJSON`), which is what inspectors show.
 */
export class PeerTable implements Iterable<PeerEntry> {
  #list: PeerEntry[] = [];
  /** Where each id sits in the list; made once the list outgrows a short scan (most sockets have a peer or two). */
  #where: Map<number, number> | undefined;
  #ready = 0;
  #cursor = 0;

  /** Attached peers. */
  get size(): number {
    return this.#list.length;
  }

  /** Peers whose pipe has room. */
  get readyCount(): number {
    return this.#ready;
  }

  get(id: number): PeerEntry | undefined {
    const i = this.#indexOf(id);
    return i === undefined ? undefined : this.#list[i];
  }

  has(id: number): boolean {
    return this.#indexOf(id) !== undefined;
  }

  /** Some peer, the first attached of those still here when there is one peer (PAIR's only peer). */
  first(): PeerEntry | undefined {
    return this.#list[0];
  }

  add(entry: PeerEntry): void {
    if (this.#indexOf(entry.id) !== undefined) return;
    const list = this.#list;
    if (this.#where !== undefined) this.#where.set(entry.id, list.length);
    else if (list.length === SCAN_LIMIT) this.#where = new Map(list.map((e, i) => [e.id, i])).set(entry.id, list.length);
    list.push(entry);
    if (entry.ready) this.#swap(this.#list.length - 1, this.#ready++);
  }

  delete(id: number): PeerEntry | undefined {
    let i = this.#indexOf(id);
    if (i === undefined) return undefined;
    const entry = this.#list[i] as PeerEntry;
    if (i < this.#ready) {
      // Leave the ready part first, keeping it contiguous.
      this.#swap(i, --this.#ready);
      i = this.#ready;
    }
    this.#swap(i, this.#list.length - 1);
    this.#list.pop();
    this.#where?.delete(id);
    if (this.#cursor >= this.#ready) this.#cursor = 0;
    return entry;
  }

  /** Marks a peer ready (its pipe has room) or mute; false when nothing changed. */
  setReady(id: number, ready: boolean): boolean {
    const i = this.#indexOf(id);
    if (i === undefined) return false;
    const entry = this.#list[i] as PeerEntry;
    if (entry.ready === ready) return false;
    entry.ready = ready;
    if (ready) this.#swap(i, this.#ready++);
    else {
      this.#swap(i, --this.#ready);
      if (this.#cursor >= this.#ready) this.#cursor = 0;
    }
    return true;
  }

  /** Updates what became known of a peer after it attached (its type, its routing id). */
  identify(id: number, peerType: string, routingId: string | undefined): boolean {
    const entry = this.get(id);
    if (entry === undefined) return false;
    entry.peerType = peerType;
    if (routingId === undefined) delete entry.routingId;
    else entry.routingId = routingId;
    return true;
  }

  /**
   * The peer the next message goes to, round-robin over the ready ones (libzmq `lb.cpp`): each call
   * moves on by one. Undefined when no peer is ready.
   */
  nextReady(): PeerEntry | undefined {
    const n = this.#ready;
    if (n === 0) return undefined;
    if (this.#cursor >= n) this.#cursor = 0;
    return this.#list[this.#cursor++];
  }

  /** The entries in attach order (ids grow with each attach). */
  list(): PeerEntry[] {
    return [...this.#list].sort(byId);
  }

  [Symbol.iterator](): Iterator<PeerEntry> {
    return this.#list[Symbol.iterator]();
  }

  toJSON(): PeerEntry[] {
    return this.list();
  }

  /** A deep copy, for exploring a machine from one snapshot down several paths (see forkable.ts). */
  clone(): PeerTable {
    const copy = new PeerTable();
    for (const e of this.list()) copy.add({ ...e });
    copy.#cursor = this.#cursor;
    return copy;
  }

  #indexOf(id: number): number | undefined {
    if (this.#where !== undefined) return this.#where.get(id);
    const list = this.#list;
    for (let i = 0; i < list.length; i++) if ((list[i] as PeerEntry).id === id) return i;
    return undefined;
  }

  #swap(i: number, j: number): void {
    if (i === j) return;
    const list = this.#list;
    const a = list[i] as PeerEntry;
    const b = list[j] as PeerEntry;
    list[i] = b;
    list[j] = a;
    if (this.#where === undefined) return;
    this.#where.set(b.id, i);
    this.#where.set(a.id, j);
  }
}

/** Up to this many peers, one is found by a scan of the list (no index kept); past it, by the index. */
const SCAN_LIMIT = 8;

function byId(a: PeerEntry, b: PeerEntry): number {
  return a.id - b.id;
}

/** Facts the runtime reports to every socket machine (past tense, dotted by source). */
export type PeerEvent =
  | { type: 'peer.attached'; peerId: number; endpoint: string; peerType: string; routingId?: string }
  | { type: 'peer.detached'; peerId: number }
  /** A peer that attached before its type and routing id were known (inproc connect before bind) now has them. */
  | { type: 'peer.identified'; peerId: number; peerType: string; routingId?: string }
  | { type: 'pipe.muted'; peerId: number }
  | { type: 'pipe.ready'; peerId: number };

/** Commands every socket machine takes. `queued` counts outgoing messages still in our pipes. */
export type CloseEvent =
  | { type: 'close'; linger: number; queued: number }
  | { type: 'pipes.drained' }
  | { type: 'linger.expired' };

/** The entry a `peer.attached` event describes. */
export function entryOf(e: Extract<PeerEvent, { type: 'peer.attached' }>): PeerEntry {
  const entry: PeerEntry = { id: e.peerId, endpoint: e.endpoint, peerType: e.peerType, ready: true };
  if (e.routingId !== undefined) entry.routingId = e.routingId;
  return entry;
}

/** Whether the event names a peer the table holds. */
export function isKnownPeer(peers: PeerTable, event: { type: string }): boolean {
  return 'peerId' in event && peers.has((event as unknown as { peerId: number }).peerId);
}

/** Whether a close should linger: there is queued output and linger is not 0. */
export function shouldLinger(e: CloseEvent): boolean {
  return e.type === 'close' && e.queued > 0 && e.linger !== 0;
}

/** After this event, would the table have no peer at all? (Guards pick the next state with it.) */
export function leavesNoPeers(peers: PeerTable, event: { type: string }): boolean {
  return event.type === 'peer.detached' && peers.size === 1 && isKnownPeer(peers, event);
}

/** After this event, would no peer be ready (every pipe at its HWM, or none left)? */
export function leavesNoReadyPeer(peers: PeerTable, event: { type: string }): boolean {
  if (!isKnownPeer(peers, event) || peers.readyCount !== 1) return false;
  const entry = peers.get((event as unknown as { peerId: number }).peerId) as PeerEntry;
  return entry.ready && (event.type === 'peer.detached' || event.type === 'pipe.muted');
}

/** The table update each peer event makes. */
export function applyPeerEvent(peers: PeerTable, event: { type: string }): void {
  const e = event as PeerEvent;
  switch (e.type) {
    case 'peer.attached':
      peers.add(entryOf(e));
      return;
    case 'peer.detached':
      peers.delete(e.peerId);
      return;
    case 'peer.identified':
      peers.identify(e.peerId, e.peerType, e.routingId === '' ? undefined : e.routingId);
      return;
    case 'pipe.muted':
      peers.setReady(e.peerId, false);
      return;
    case 'pipe.ready':
      peers.setReady(e.peerId, true);
  }
}

const updatePeers = (context: { peers: PeerTable }, event: { type: string }): void => applyPeerEvent(context.peers, event);

/**
 * The peer-table updates most socket machines name (`attachPeer`, `detachPeer`, `identifyPeer`,
 * `markMuted`, `markReady`): each changes `context.peers` in place (see inPlaceActions).
 */
export const peerUpdates = { attachPeer: updatePeers, detachPeer: updatePeers, identifyPeer: updatePeers, markMuted: updatePeers, markReady: updatePeers };

/**
 * {@link peerUpdates} as `assign` actions, so they run wherever xstate computes a transition (pure
 * `transition()` and xstate/graph included); the context object is replaced, the table inside it is not.
 */
export function peerListActions<TContext extends { peers: PeerTable }, TEvent extends EventObject>() {
  return inPlaceActions<TContext, TEvent, typeof peerUpdates>(peerUpdates);
}
