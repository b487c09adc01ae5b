// Request and Reply (RFC 28 REQREP, the synchronous halves). Every turn (request out, request in,
// reply out, reply in) is an event to the socket's machine, which keeps whose turn it is, the peer
// asked and the request id; what may be sent or received now, which peer gets a request, which
// replies and requests count, where a reply goes: each is a rule in machines/request.ts or
// machines/reply.ts, asked here. The frames, with their envelopes, go through pipes.

import { ZmqError } from '../core/errors.js';
import type { Frame, Message } from '../core/frame.js';
import { asFrame, emptyFrame } from '../core/frame.js';
import { mayReceiveReply, maySendRequest, nextRequestId, replyBodyStart, requestMachine } from '../../machines/request.js';
import { maySendReply, mayReceiveRequest, replyMachine, replyTarget, requestBodyStart } from '../../machines/reply.js';
import { hasRoom } from '../../machines/round-robin.js';
import { RECEIVING_OPTIONS, SENDING_OPTIONS } from '../core/options.js';
import type { OptionName, ReceivingOptions, SendingOptions } from '../core/options.js';
import { optionAccessors, Socket, socketMachine } from './socket.js';
import type { SocketOptionsInput } from './socket.js';

export interface RequestOptions extends SocketOptionsInput, SendingOptions, ReceivingOptions {
  /** ZMQ_REQ_RELAXED: allow a new request before the reply to the previous one (which is then discarded). */
  relaxed?: boolean;
  /** ZMQ_REQ_CORRELATE: tag each request with an id and accept only replies that carry it back. */
  correlate?: boolean;
  /** ZMQ_PROBE_ROUTER: send an empty message to each new (ROUTER) peer first. */
  probeRouter?: boolean;
}

export interface ReplyOptions extends SocketOptionsInput, SendingOptions, ReceivingOptions {}

const REQ_OPTIONS: readonly OptionName[] = ['relaxed', 'correlate', 'probeRouter', ...SENDING_OPTIONS, ...RECEIVING_OPTIONS];
const REP_OPTIONS: readonly OptionName[] = [...SENDING_OPTIONS, ...RECEIVING_OPTIONS];

/** A request id frame: 4 bytes in host order, as libzmq copies its uint32 (little-endian on x86 and ARM). */
function requestIdFrame(id: number): Frame {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, id, true);
  return asFrame(bytes);
}

// Turn events without a payload: one shared object each (events are never mutated).
const REPLY_RECEIVED = Object.freeze({ type: 'reply.received' });
const REPLY_SENT = Object.freeze({ type: 'reply.sent' });

const requestLogic = socketMachine(requestMachine, {
  // libzmq `req.cpp`: whatever arrived before this request (late replies to an earlier one) is dropped.
  discardReplies: (s: Request) => s.discardInbound(),
});
const replyLogic = socketMachine(replyMachine);

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
  constructor(options?: RequestOptions) {
    super('REQ', requestLogic, options, REQ_OPTIONS);
    this.tellMachineOptions(['relaxed', 'correlate', 'probeRouter']);
    if (new.target === Request) Object.seal(this);
  }

  /**
   * ZMQ_PROBE_ROUTER: each new peer first gets an empty message (one empty frame), which tells a
   * ROUTER peer who arrived before anything else is sent. Use it toward ROUTER peers only; they
   * must expect and filter the empty message. A change applies to peers that attach from then on.
   */
  get probeRouter(): boolean { return this.opt.probeRouter; }
  set probeRouter(v: boolean) { this.setMachineOption('probeRouter', v); }
  /** ZMQ_SNDBUF: the kernel's send buffer in bytes (-1, the default, leaves the OS's). Read back, without effect: node:net does not set SO_SNDBUF. */
  declare sendBufferSize: number;
  /** ZMQ_MULTICAST_HOPS: the TTL of multicast packets (default 1). Read back, without effect: no multicast transport. */
  declare multicastHops: number;
  /** ZMQ_RCVBUF: the kernel's receive buffer in bytes (-1, the default, leaves the OS's). Read back, without effect: node:net does not set SO_RCVBUF. */
  declare receiveBufferSize: number;

  /** ZMQ_REQ_RELAXED: a new request may be sent before the reply to the last one came; that
   * reply is then discarded. */
  get relaxed(): boolean { return this.opt.relaxed; }
  set relaxed(v: boolean) { this.setMachineOption('relaxed', v); }

  /** ZMQ_REQ_CORRELATE: each request carries a 4-byte id before its delimiter, and only a reply
   * that echoes the current id is accepted. */
  get correlate(): boolean { return this.opt.correlate; }
  set correlate(v: boolean) { this.setMachineOption('correlate', v); }

  override get readable(): boolean {
    return !this.closed && this.machineState === 'awaitingReply' && this.inbound.hasMessages;
  }

  /** @internal The `discardReplies` effect: reads and drops what is queued. */
  discardInbound(): void {
    while (this.inbound.read() !== undefined);
  }

  /** @internal */
  protected override checkSend(): void {
    const { value, context } = this.getSnapshot();
    if (!maySendRequest(value === 'awaitingReply', context.relaxed)) {
      throw new ZmqError('EFSM', 'send on REQ: a request is out and its reply has not been received; receive it first (or set relaxed)');
    }
  }

  /** @internal */
  protected override checkReceive(): void {
    // A send still waiting for a peer counts: this receive waits for that request's reply.
    if (!mayReceiveReply(this.machineState === 'awaitingReply', this.sendsWaiting)) {
      throw new ZmqError('EFSM', 'receive on REQ: no request has been sent; send one first');
    }
  }

  /** @internal */
  protected override sendGaveUp(): void {
    // The receives that waited behind it have no request to hear from.
    if (!mayReceiveReply(this.machineState === 'awaitingReply', this.sendsWaiting)) {
      this.failReceives(new ZmqError('EFSM', 'receive on REQ: the send it waited behind failed, so no request is out; send one first'));
    }
  }

  /** @internal */
  protected override xsend(msg: Message): boolean {
    const context = this.machineContext;
    if (!hasRoom(context.peers)) return false; // a send that waits builds no frames
    const id = nextRequestId(context.turn.requestId);
    const frames: Message = context.correlate ? [requestIdFrame(id), emptyFrame(), ...msg] : [emptyFrame(), ...msg];
    // The machine decides what becomes of replies queued before this request (it drops them); it
    // hears whether any are. Asked before the write: a reply to this request can come during it.
    const queued = this.inbound.hasMessages;
    const peer = this.writeRoundRobin(context.peers, frames);
    if (peer === undefined) return false;
    this.tell({ type: 'request.sent', peerId: peer.id, requestId: id, queued });
    return true;
  }

  /** @internal */
  protected override canSendNow(): boolean {
    const { value, context } = this.getSnapshot();
    return maySendRequest(value === 'awaitingReply', context.relaxed) && hasRoom(context.peers);
  }

  /** @internal */
  protected override xrecv(): Message | undefined {
    const { value, context } = this.getSnapshot();
    if (value !== 'awaitingReply') return undefined;
    for (;;) {
      const msg = this.inbound.read();
      if (msg === undefined) return undefined;
      const body = replyBodyStart(context, this.inbound.from!.id, msg);
      if (body < 0) continue;
      this.tell(REPLY_RECEIVED);
      msg.splice(0, body);
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
  /** The envelope of the request being answered: message data, so it stays out of the machine. */
  #envelope: Frame[] | undefined = undefined;

  constructor(options?: ReplyOptions) {
    super('REP', replyLogic, options, REP_OPTIONS);
    if (new.target === Reply) Object.seal(this);
  }

  /** ZMQ_SNDBUF: the kernel's send buffer in bytes (-1, the default, leaves the OS's). Read back, without effect: node:net does not set SO_SNDBUF. */
  declare sendBufferSize: number;
  /** ZMQ_MULTICAST_HOPS: the TTL of multicast packets (default 1). Read back, without effect: no multicast transport. */
  declare multicastHops: number;
  /** ZMQ_RCVBUF: the kernel's receive buffer in bytes (-1, the default, leaves the OS's). Read back, without effect: node:net does not set SO_RCVBUF. */
  declare receiveBufferSize: number;

  override get readable(): boolean {
    return !this.closed && mayReceiveRequest(this.machineState as string) && this.inbound.hasMessages;
  }

  /** @internal */
  protected override checkSend(): void {
    if (!maySendReply(this.machineState as string)) throw new ZmqError('EFSM', 'send on REP: no request is being answered; receive one first');
  }

  /** @internal */
  protected override checkReceive(): void {
    if (!mayReceiveRequest(this.machineState as string)) throw new ZmqError('EFSM', 'receive on REP: the last request has not been answered; send its reply first');
  }

  /** @internal */
  protected override xrecv(): Message | undefined {
    if (!mayReceiveRequest(this.machineState as string)) return undefined;
    for (;;) {
      const msg = this.inbound.read();
      if (msg === undefined) return undefined;
      const body = requestBodyStart(msg);
      if (body < 0) continue; // no delimiter: dropped (libzmq `rep.cpp` rolls it back)
      this.#envelope = msg.splice(0, body);
      this.tell({ type: 'request.received', peerId: this.inbound.from!.id });
      return msg;
    }
  }

  /** @internal */
  protected override xsend(msg: Message): boolean {
    const { value, context } = this.getSnapshot();
    const target = replyTarget(value as string, context);
    const envelope = this.#envelope as Frame[];
    this.#envelope = undefined;
    const peer = target === null ? undefined : this.link(target);
    // A full pipe drops the reply: REP never waits (libzmq `rep.cpp` sends through `router.cpp`).
    if (peer !== undefined) this.writeTo(peer, envelope.concat(msg));
    this.tell(REPLY_SENT);
    return true;
  }

  /** @internal */
  protected override canSendNow(): boolean {
    return maySendReply(this.machineState as string);
  }
}

// The option accessors declared above: a plain read and a checked set each (optionAccessors in socket.ts).
optionAccessors(Request.prototype, ['sendBufferSize', 'multicastHops', 'receiveBufferSize']);
optionAccessors(Reply.prototype, ['sendBufferSize', 'multicastHops', 'receiveBufferSize']);
