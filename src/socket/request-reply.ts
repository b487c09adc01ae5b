// Request and Reply (RFC 28 REQREP, the synchronous halves). Every turn (request out, request in,
// reply out, reply in) is an event to the socket's machine; the frames, with their envelopes, go
// through pipes. Envelope rules after libzmq `req.cpp` and `rep.cpp`.
//
// The hot path reads the turn from fields of the socket, not from the snapshot: a turn changes the
// fields and tells the machine the same turn in one step (the socket checks the machine's rule
// first, so the machine takes every turn it is told). At rest the two agree (test/model replays the
// machines' paths on real sockets to show it); a turn event the machine hears late (queued behind
// the one it is handling) never leaves the socket acting on a stale turn. The peer asked and the
// request id live here only: the machines keep no per-request context (an `assign` per turn would
// cost a second snapshot per event).

import type { SnapshotFrom } from 'xstate';
import { ZmqError } from '../core/errors.js';
import type { Frame, Message } from '../core/frame.js';
import { asFrame, emptyFrame } from '../core/frame.js';
import type { Pipe } from '../core/pipe.js';
import { nextRequestId, randomUint32, requestMachine } from '../../machines/request.js';
import { replyMachine } from '../../machines/reply.js';
import { Socket } from './socket.js';
import type { Peer, SocketOptionsInput } from './socket.js';

export interface RequestOptions extends SocketOptionsInput {
  /** ZMQ_REQ_RELAXED: allow a new request before the reply to the previous one (which is then discarded). */
  relaxed?: boolean;
  /** ZMQ_REQ_CORRELATE: tag each request with an id and accept only replies that carry it back. */
  correlate?: boolean;
}

export type ReplyOptions = SocketOptionsInput;

/** A request id frame: 4 bytes in host order, as libzmq copies its uint32 (little-endian on x86 and ARM). */
function requestIdFrame(id: number): Frame {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, id, true);
  return asFrame(bytes);
}

// Turn events without a payload: one shared object each (events are never mutated).
const REPLY_RECEIVED = Object.freeze({ type: 'reply.received' });
const REPLY_SENT = Object.freeze({ type: 'reply.sent' });
const REQUESTER_DETACHED = Object.freeze({ type: 'requester.detached' });

function isRequestId(frame: Frame, id: number): boolean {
  return frame.byteLength === 4 && new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0, true) === id;
}

/**
 * REQ: sends a request, then receives its reply, then may send the next one. Sending twice
 * without a reply, or receiving before sending, fails with EFSM (unless `relaxed`). Requests go
 * round-robin to the peers with room; a reply is taken only from the peer that was asked.
 * On the wire each request is preceded by an empty delimiter frame (a Router sees `[id, "", ...]`).
 *
 * ```ts
 * const req = new Request()
 * req.connect("inproc://service")
 * await req.send("ping")
 * const [pong] = await req.receive()
 * ```
 *
 * A `receive()` called while an earlier `send()` still waits for a peer is accepted: it waits
 * for the reply to that request (calls are queued in the order made).
 */
export class Request extends Socket<typeof requestMachine> {
  #ready: Pipe[] = [];
  #rr = 0;
  #peersSeen: unknown = undefined;
  /** The machine's `awaitingReply`, as the hot path reads it (see the top of this file). */
  #awaiting = false;
  /** The peer the request went to; null when none is out, or when that peer left (libzmq
   * `req.cpp` then takes a reply from anyone). */
  #replyPeer: number | null = null;
  /** ZMQ_REQ_CORRELATE: the id of the last request sent (uint32; libzmq starts at a random value). */
  #requestId = randomUint32();
  #relaxed = false;
  #correlate = false;

  constructor(options?: RequestOptions) {
    super('REQ', requestMachine, options, ['relaxed', 'correlate']);
    this.tellMachineOptions(['relaxed', 'correlate']);
    this.onTransition(this.getSnapshot());
  }

  /** ZMQ_REQ_RELAXED: a new request may be sent before the reply to the last one came; that
   * reply is then discarded. */
  get relaxed(): boolean { return this.opt.relaxed; }
  set relaxed(v: boolean) { this.setMachineOption('relaxed', v); }

  /** ZMQ_REQ_CORRELATE: each request carries a 4-byte id before its delimiter, and only a reply
   * that echoes the current id is accepted. */
  get correlate(): boolean { return this.opt.correlate; }
  set correlate(v: boolean) { this.setMachineOption('correlate', v); }

  override get readable(): boolean {
    return !this.closed && this.#awaiting && this.inbound.hasMessages;
  }

  protected override onTransition(snapshot: SnapshotFrom<typeof requestMachine>): void {
    const ctx = snapshot.context;
    this.#relaxed = ctx.relaxed;
    this.#correlate = ctx.correlate;
    // Only a peer edge rebuilds the list of ready pipes (turn events leave `peers` as it was).
    if (ctx.peers === this.#peersSeen) return;
    this.#peersSeen = ctx.peers;
    const ready: Pipe[] = [];
    for (const p of ctx.peers) {
      const peer = this.peers.get(p.id);
      if (p.ready && peer !== undefined) ready.push(peer.out);
    }
    this.#ready = ready;
  }

  protected override peerDetached(peer: Peer): void {
    if (peer.id === this.#replyPeer) this.#replyPeer = null;
  }

  protected override checkSend(): void {
    if (this.#awaiting && !this.#relaxed) {
      throw new ZmqError('EFSM', 'send on REQ: a request is out and its reply has not been received; receive it first (or set relaxed)');
    }
  }

  protected override checkReceive(): void {
    // A send still waiting for a peer counts: this receive waits for that request's reply.
    if (!this.#awaiting && !this.sendsWaiting) {
      throw new ZmqError('EFSM', 'receive on REQ: no request has been sent; send one first');
    }
  }

  protected override sendGaveUp(): void {
    // The receives that waited behind it have no request to hear from.
    if (!this.#awaiting && !this.sendsWaiting) {
      this.failReceives(new ZmqError('EFSM', 'receive on REQ: the send it waited behind failed, so no request is out; send one first'));
    }
  }

  protected override xsend(msg: Message): boolean {
    const id = nextRequestId(this.#requestId);
    const frames: Message = this.#correlate ? [requestIdFrame(id), emptyFrame(), ...msg] : [emptyFrame(), ...msg];
    const ready = this.#ready;
    const cursor = Socket.writeRoundRobin(this, ready, this.#rr, frames);
    if (cursor < 0) return false;
    this.#rr = cursor;
    const peer = (ready[cursor - 1] as Pipe).writerTag as Peer;
    this.#requestId = id;
    this.#awaiting = true;
    this.#replyPeer = peer.id;
    this.tell({ type: 'request.sent', peerId: peer.id });
    // libzmq `req.cpp`: whatever arrived before this request (late replies to an earlier one) is dropped.
    while (this.inbound.read() !== undefined);
    return true;
  }

  protected override canSendNow(): boolean {
    if (this.#awaiting && !this.#relaxed) return false;
    for (const p of this.#ready) if (p.writable) return true;
    return false;
  }

  protected override xrecv(): Message | undefined {
    if (!this.#awaiting) return undefined;
    for (;;) {
      const msg = this.inbound.read();
      if (msg === undefined) return undefined;
      // Only the peer asked may answer (anyone, once that peer has left: libzmq `req.cpp`).
      if (this.#replyPeer !== null && (this.inbound.from as Peer).id !== this.#replyPeer) continue;
      let body = 0;
      if (this.#correlate) {
        if (msg.length < 2 || !isRequestId(msg[0] as Frame, this.#requestId)) continue;
        body = 1;
      }
      // The delimiter must be empty and followed by at least one frame.
      if (msg.length < body + 2 || (msg[body] as Frame).byteLength !== 0) continue;
      this.#awaiting = false;
      this.#replyPeer = null;
      this.tell(REPLY_RECEIVED);
      msg.splice(0, body + 1);
      return msg;
    }
  }
}

/**
 * REP: receives a request, then sends its reply, then receives the next one. Sending before a
 * request, or receiving twice without replying, fails with EFSM. Requests are taken from all peers
 * in turn; each reply goes back to the peer that asked, behind the envelope (every frame up to
 * and including the first empty one) its request came with, so a Reply works behind chains of
 * Router and Dealer. A reply to a peer that has left, or whose pipe is full, is dropped.
 *
 * ```ts
 * const rep = new Reply()
 * await rep.bind("inproc://service")
 * for await (const [request] of rep) await rep.send(`echo ${request}`)
 * ```
 */
export class Reply extends Socket<typeof replyMachine> {
  #replying = false;
  #replyPeer: Peer | undefined = undefined;
  #envelope: Frame[] | undefined = undefined;

  constructor(options?: ReplyOptions) {
    super('REP', replyMachine, options);
  }

  override get readable(): boolean {
    return !this.closed && !this.#replying && this.inbound.hasMessages;
  }

  protected override checkSend(): void {
    if (!this.#replying) throw new ZmqError('EFSM', 'send on REP: no request is being answered; receive one first');
  }

  protected override checkReceive(): void {
    if (this.#replying) throw new ZmqError('EFSM', 'receive on REP: the last request has not been answered; send its reply first');
  }

  protected override peerDetached(peer: Peer): void {
    if (this.#replying && peer === this.#replyPeer && !this.closed) this.tell(REQUESTER_DETACHED);
  }

  protected override xrecv(): Message | undefined {
    if (this.#replying) return undefined;
    for (;;) {
      const msg = this.inbound.read();
      if (msg === undefined) return undefined;
      // The envelope ends at the first empty frame that has a body after it; a request without
      // one is dropped (libzmq `rep.cpp` rolls it back).
      let bottom = -1;
      for (let i = 0; i < msg.length - 1; i++) {
        if ((msg[i] as Frame).byteLength === 0) {
          bottom = i;
          break;
        }
      }
      if (bottom < 0) continue;
      const peer = this.inbound.from as Peer;
      this.#envelope = msg.splice(0, bottom + 1);
      this.#replyPeer = peer;
      this.#replying = true;
      this.tell({ type: 'request.received', peerId: peer.id });
      if (!peer.attached) this.tell(REQUESTER_DETACHED);
      return msg;
    }
  }

  protected override xsend(msg: Message): boolean {
    const peer = this.#replyPeer;
    const envelope = this.#envelope as Frame[];
    this.#replyPeer = undefined;
    this.#envelope = undefined;
    this.#replying = false;
    if (peer !== undefined && peer.attached) {
      // A full pipe drops the reply: REP never waits (libzmq `rep.cpp` sends through `router.cpp`).
      if (peer.out.write(envelope.concat(msg)) && !peer.out.writable) this.pipeFilled(peer.out);
    }
    this.tell(REPLY_SENT);
    return true;
  }

  protected override canSendNow(): boolean {
    return this.#replying;
  }
}
