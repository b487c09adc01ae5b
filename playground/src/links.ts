// The connections between a scenario's sockets and how full each direction is.
//
// Which peer is which comes from the sockets' machines (context.peers, a table: id, endpoint, ready);
// the depth of each pipe is not machine state (a message is not an XState event), so it is read
// from the socket's internal peer table (`peers`: Map<id, { out: Pipe, in: Pipe }>). Two sockets
// are connected where one's outgoing pipe is the other's incoming pipe: inproc hands both ends
// the same Pipe object.

import type { LiveSocket } from './live.js';

interface PipeView {
  readonly size: number;
  readonly capacity: number;
}

interface PeerView {
  id: number;
  out: PipeView;
  in: PipeView;
  endpoint: string;
  peerType: string;
  attached: boolean;
}

/** One direction of a connection. */
export interface Lane {
  from: string;
  to: string | undefined;
  /** Messages queued in the pipe. */
  depth: number;
  /** The pipe's capacity (sender's SNDHWM + receiver's RCVHWM); 0 = unlimited. */
  capacity: number;
  /** The sending machine's view: does this peer have room? (undefined: not in its context) */
  ready: boolean | undefined;
}

export interface Link {
  /** Stable while the connection lives: `a~b@endpoint#peerId`. */
  id: string;
  endpoint: string;
  a: string;
  b: string | undefined;
  /**
   * The directions a message can travel: from a socket that sends to one that receives (PUSH to
   * PULL only, PUB to SUB only; REQ and REP both ways). Two when both ends send and receive.
   */
  lanes: Lane[];
}

function peerTable(live: LiveSocket): PeerView[] {
  const peers = (live.sock as unknown as { peers?: Map<number, PeerView> }).peers;
  return peers === undefined ? [] : [...peers.values()].filter((p) => p.attached);
}

function readyFlag(live: LiveSocket, peerId: number): boolean | undefined {
  const context = live.sock.getSnapshot().context as { peers?: { get(id: number): { ready?: boolean } | undefined } } | undefined;
  return context?.peers?.get(peerId)?.ready;
}

export function findLinks(sockets: readonly LiveSocket[]): Link[] {
  const links: Link[] = [];
  const seen = new Set<PipeView>();
  const tables = sockets.map((s) => ({ live: s, peers: peerTable(s) }));
  for (const { live, peers } of tables) {
    for (const p of peers) {
      if (seen.has(p.out)) continue;
      seen.add(p.out);
      seen.add(p.in);
      let other: { live: LiveSocket; peer: PeerView } | undefined;
      for (const t of tables) {
        if (t.live === live) continue;
        const q = t.peers.find((x) => x.in === p.out);
        if (q !== undefined) other = { live: t.live, peer: q };
      }
      const lanes: Lane[] = [];
      if (live.can.send && (other === undefined || other.live.can.receive)) {
        lanes.push({ from: live.key, to: other?.live.key, depth: p.out.size, capacity: p.out.capacity, ready: readyFlag(live, p.id) });
      }
      if (other !== undefined && other.live.can.send && live.can.receive) {
        lanes.push({ from: other.live.key, to: live.key, depth: p.in.size, capacity: p.in.capacity, ready: readyFlag(other.live, other.peer.id) });
      }
      links.push({ id: `${live.key}~${other?.live.key ?? '?'}@${p.endpoint}#${p.id}`, endpoint: p.endpoint, a: live.key, b: other?.live.key, lanes });
    }
  }
  return links;
}
