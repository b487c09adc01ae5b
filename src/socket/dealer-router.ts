// Dealer and Router (RFC 28 REQREP, the asynchronous halves). Dealer round-robins out and
// fair-queues in; Router addresses each message through the identity table its machine keeps,
// and the machine's `routeOutcome` says whether it is delivered, dropped, fails or waits. Neither
// sends an XState event per message.

import { parseEndpoint } from '../core/endpoint.js';
import { describeValue, ZmqError } from '../core/errors.js';
import type { Frame, Message } from '../core/frame.js';
import { toHex } from '../core/frame.js';
import { checkRoutingId, RECEIVING_OPTIONS, routingIdBytes, SENDING_OPTIONS } from '../core/options.js';
import type { OptionName, ReceivingOptions, SendingOptions } from '../core/options.js';
import { dealerMachine } from '../../machines/dealer.js';
import { isMandatory, knownRoutingId, routeOutcome, routerHasRoom, routerMachine } from '../../machines/router.js';
import type { ConnectIds, PeerParams, RouteOutcome, RouteTable } from '../../machines/router.js';
import type { FairQueue } from './fair-queue.js';
import { RoundRobinSocket } from './round-robin.js';
import { optionAccessors, Socket, socketMachine } from './socket.js';
import type { Peer, PeerLink, SocketOptionsInput } from './socket.js';
import type { AttachEvent } from '../transport/host.js';

export { routingKey } from '../../machines/router.js';

export interface DealerOptions extends SocketOptionsInput, SendingOptions, ReceivingOptions {
  /** ZMQ_CONFLATE: keep only the newest message per peer. */
  conflate?: boolean;
  /** ZMQ_PROBE_ROUTER: send an empty message to each new (ROUTER) peer first. */
  probeRouter?: boolean;
}

/** Options of `Router.connect` (zeromq.js's `RouterConnectOptions`). */
export interface RouterConnectOptions {
  /** ZMQ_CONNECT_ROUTING_ID: the routing id this ROUTER knows the peer of this connect by (1..255 bytes, not starting with 0). */
  routingId?: string | Uint8Array;
}

export interface RouterOptions extends SocketOptionsInput, SendingOptions, ReceivingOptions {
  /** ZMQ_PROBE_ROUTER: send an empty message to each new (ROUTER) peer first. */
  probeRouter?: boolean;
  /** ZMQ_ROUTER_MANDATORY: fail with EHOSTUNREACH on an unknown routing id, wait on a full peer. */
  mandatory?: boolean;
  /** ZMQ_ROUTER_HANDOVER: a peer announcing a taken routing id takes it over from the holder. */
  handover?: boolean;
}

const DEALER_OPTIONS: readonly OptionName[] = ['conflate', 'probeRouter', ...SENDING_OPTIONS, ...RECEIVING_OPTIONS];
const ROUTER_OPTIONS: readonly OptionName[] = ['mandatory', 'handover', 'probeRouter', ...SENDING_OPTIONS, ...RECEIVING_OPTIONS];

const dealerLogic = socketMachine(dealerMachine);
const routerLogic = socketMachine(routerMachine, {
  evictHolder: (s: Router, _args, p: PeerParams) => s.evictPeer(p.peerId),
  refuseDuplicate: (s: Router, _args, p: PeerParams) => s.refuseDuplicate(p),
});

/**
 * DEALER: sends each message to one peer in turn, skipping peers at their HWM (waits when all are
 * full or there is none); receives from all peers in turn. Talks to Reply (add the empty
 * delimiter frame yourself), Router and Dealer.
 *
 * ```ts
 * const dealer = new Dealer({ routingId: "worker-1" })
 * dealer.connect("inproc://backend")
 * await dealer.send(["", "hello"])          // to a Reply: empty delimiter first
 * const [, reply] = await dealer.receive()
 * ```
 */
export class Dealer extends RoundRobinSocket<typeof dealerMachine> {
  constructor(options?: DealerOptions) {
    super('DEALER', dealerLogic, options, DEALER_OPTIONS);
    this.tellMachineOptions(['probeRouter']);
    if (new.target === Dealer) Object.seal(this);
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
  /** @internal */
  protected override xrecv(): Message | undefined {
    return this.inbound.read();
  }
}

/**
 * @internal The routing id of a peer reached through `endpoint`, as a frame, by the machine's rule
 * (`knownRoutingId`): the id a connect() to that endpoint gave, else the one the peer announced.
 */
export function routingIdFrame(connectIds: ConnectIds, endpoint: string, announced: Uint8Array | undefined, accepted = false): Uint8Array | undefined {
  const hex = knownRoutingId(connectIds, endpoint, undefined, accepted);
  return hex === undefined ? announced : connectIds.frameOf(endpoint);
}

/** What a ROUTER or STREAM remembers of a peer that left: its routing id, for the messages it left queued. */
const lastIds = new WeakMap<Peer, Frame>();

/**
 * @internal A routed socket's (ROUTER, STREAM) peer is leaving: its queued messages may still be
 * read, and keep the id it had (libzmq keeps it on the pipe).
 */
export function keepLeavingId(routes: RouteTable, peer: Peer): void {
  const id = routes.frameOf(peer.id);
  if (id !== undefined) lastIds.set(peer, id);
}

/**
 * @internal A routed socket's receive: the next message fair-queued from its peers, as a new array
 * with the sender's routing id in front.
 * A refused peer's leftovers, which have no id, are skipped.
 */
export function readRouted(inbound: FairQueue, routes: RouteTable): Message | undefined {
  for (;;) {
    const msg = inbound.read();
    if (msg === undefined) return undefined;
    const from = inbound.from as Peer;
    const id = routes.frameOf(from.id) ?? lastIds.get(from);
    if (id === undefined) continue;
    return withId(id, msg);
  }
}

/**
 * A new array of `id` and `msg`'s frames. Not `msg.unshift(id)`: V8 reallocates the array for it
 * and calls a builtin, 68 ns against 13-17 ns here, and the bigger array it leaves doubled the
 * allocation per message of a ROUTER with 1,000 DEALERs (inproc, a receive every turn).
 */
function withId(id: Frame, msg: Message): Message {
  const n = msg.length;
  if (n === 1) return [id, msg[0] as Frame];
  const out: Message = new Array(n + 1);
  out[0] = id;
  for (let i = 0; i < n; i++) out[i + 1] = msg[i] as Frame;
  return out;
}

/**
 * ROUTER: every message received starts with the routing id of the peer it came from; every
 * message sent starts with the routing id of the peer it goes to (and must have a body after it).
 * A peer's routing id is the `routingId` option it set, or a generated 5-byte id (`00` + a
 * counter). By default a message for an unknown or full peer is dropped; with `mandatory`, an
 * unknown id fails with EHOSTUNREACH and a full peer makes send wait.
 *
 * ```ts
 * const router = new Router({ mandatory: true })
 * await router.bind("inproc://frontend")
 * const [id, , request] = await router.receive()   // from a Request: id, "", body
 * await router.send([id, "", "reply"])
 * ```
 */
export class Router extends Socket<typeof routerMachine> {
  #routes: RouteTable | undefined;
  constructor(options?: RouterOptions) {
    super('ROUTER', routerLogic, options, ROUTER_OPTIONS);
    this.tellMachineOptions(['mandatory', 'handover', 'probeRouter']);
    if (new.target === Router) Object.seal(this);
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

  /** ZMQ_ROUTER_MANDATORY: an unknown routing id fails with EHOSTUNREACH (instead of a silent
   * drop), and a message for a peer at its HWM waits (EAGAIN after `sendTimeout`) instead of being dropped. */
  get mandatory(): boolean { return this.opt.mandatory; }
  set mandatory(v: boolean) { this.setMachineOption('mandatory', v); }

  /** ZMQ_ROUTER_HANDOVER: a peer announcing a routing id another peer holds takes it over, and
   * the old holder leaves the table (without it, the newcomer is refused). Over tcp/ipc the loser's
   * connection stays open but unused, as libzmq keeps it, so it does not reconnect to fight back. */
  get handover(): boolean { return this.opt.handover; }
  set handover(v: boolean) { this.setMachineOption('handover', v); }

  /**
   * Connects, as every socket does; with `routingId` (ZMQ_CONNECT_ROUTING_ID) the peer reached
   * through this connect is known by that id, whatever id it announces. Its pipe is there at once
   * (inproc, tcp and ipc), so a send to that id queues before the peer is up (with `mandatory`
   * too), and stays queued across reconnects, as in libzmq.
   *
   * ```ts
   * const router = new Router({ mandatory: true })
   * router.connect("inproc://worker", { routingId: "worker-1" })
   * await router.send(["worker-1", "job"])   // queued until the worker binds
   * ```
   */
  override connect(address: string, options?: RouterConnectOptions): void {
    if (options === undefined) return super.connect(address);
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new ZmqError('EINVAL', `connect("${address}"): options must be an object like { routingId: "peer-1" }, not ${describeValue(options)}`, { address });
    }
    if (options.routingId === undefined) return super.connect(address);
    const id = routingIdBytes(checkRoutingId(`connect("${address}"): option routingId (ZMQ_CONNECT_ROUTING_ID)`, options.routingId)) as Uint8Array;
    // Known before the connect starts: a transport may attach the peer within it (inproc does).
    const endpoint = parseEndpoint(address, 'connect').address;
    // Connected already: nothing new is connected, and the peer keeps the id it has (libzmq takes
    // ZMQ_CONNECT_ROUTING_ID for the connect it was set for).
    if (this.hasConnect(endpoint)) return super.connect(address);
    const before = this.machineContext.connectIds.hexOf(endpoint);
    this.tell({ type: 'connect.named', endpoint, routingId: toHex(id) });
    try {
      super.connect(address);
    } catch (e) {
      this.tell(before === undefined ? { type: 'connect.dropped', endpoint } : { type: 'connect.named', endpoint, routingId: before });
      throw e;
    }
  }

  override disconnect(address: string): void {
    super.disconnect(address);
    const endpoint = parseEndpoint(address, 'bind').address;
    if (this.machineContext.connectIds.hexOf(endpoint) !== undefined) this.tell({ type: 'connect.dropped', endpoint });
  }

  /**
   * @internal A peer reached through a connect given a routing id is known by that id (the
   * machine's `knownRoutingId`: libzmq `router.cpp identify_peer`, for a pipe this socket initiated).
   */
  override attachPeer(link: PeerLink, event: AttachEvent): Peer {
    const connectIds = this.machineContext.connectIds;
    if (connectIds.size > 0) link.routingId = routingIdFrame(connectIds, link.endpoint, link.routingId, event === 'accept');
    return super.attachPeer(link, event);
  }

  /** @internal The id a connect to `endpoint` gave (PeerHost: a tcp/ipc connect then keeps its pipes). */
  connectRoutingId(endpoint: string): Uint8Array | undefined {
    return this.machineContext.connectIds.frameOf(endpoint);
  }

  /** @internal (see attachPeer: the id the connect gave outranks the one the peer announces) */
  override identifyPeer(peer: Peer, peerType: string, routingId: Frame | undefined): void {
    const connectIds = this.machineContext.connectIds;
    super.identifyPeer(peer, peerType, connectIds.size > 0 ? routingIdFrame(connectIds, peer.endpoint, routingId) : routingId);
  }

  override get readable(): boolean {
    return !this.closed && this.inbound.hasMessages;
  }

  /** @internal The `evictHolder` effect: the peer that held a routing id leaves (handover). */
  evictPeer(peerId: number): void {
    const holder = this.link(peerId);
    // libzmq `router.cpp identify_peer`: the old pipe is terminated; its unread messages go too.
    if (holder !== undefined) this.evict(holder);
  }

  /** @internal The `refuseDuplicate` effect: a newcomer announced a routing id another peer holds. */
  refuseDuplicate(p: PeerParams): void {
    const peer = this.link(p.peerId);
    if (peer !== undefined) {
      this.refuse(peer, `ROUTER: routing id ${p.routingId} (hex) is already taken by another peer; set handover to let a newcomer take it over`);
    }
  }

  // The verdict `checkSend` reached for `#routedMsg` (the base calls xsend right after it).
  #routedMsg: Message | undefined = undefined;
  #outcome: RouteOutcome = 'drop';
  #target: Peer | undefined = undefined;

  /** Asks the machine's rule what becomes of `msg` (libzmq `router.cpp xsend`), and which peer it names. */
  #route(msg: Message): void {
    const { value, context } = this.getSnapshot();
    const peerId = msg.length < 2 ? undefined : context.routes.peerOf(msg[0] as Frame);
    const entry = peerId === undefined ? undefined : context.peers.get(peerId);
    this.#routedMsg = msg;
    this.#outcome = routeOutcome(isMandatory(value), entry, msg.length);
    // Only a delivery needs the link.
    this.#target = this.#outcome === 'deliver' && peerId !== undefined ? this.link(peerId) : undefined;
  }

  /** @internal */
  protected override checkSend(msg: Message): void {
    this.#route(msg);
    if (this.#outcome === 'unreachable') {
      throw new ZmqError('EHOSTUNREACH', `send on ROUTER: no peer has routing id ${toHex(msg[0] as Frame)} (hex), and mandatory is set`);
    }
  }

  /** @internal */
  protected override xsend(msg: Message): boolean {
    if (msg !== this.#routedMsg) this.#route(msg);
    const outcome = this.#outcome;
    const peer = this.#target;
    this.#routedMsg = undefined;
    this.#target = undefined;
    if (outcome === 'wait') return false;
    // 'unreachable' was refused by checkSend; if the peer left since, the message is dropped.
    if (outcome !== 'deliver' || peer === undefined) return true;
    msg.shift(); // the routing id; `toMessage` made this array for this call, so it is ours to change
    this.writeTo(peer, msg);
    return true;
  }

  /** @internal */
  protected override canSendNow(): boolean {
    const { value, context } = this.getSnapshot();
    return routerHasRoom(isMandatory(value), context.peers);
  }

  /** @internal */
  protected override peerLeaving(peer: Peer): void {
    keepLeavingId(this.machineContext.routes, peer);
  }

  /** @internal */
  protected override xrecv(): Message | undefined {
    // The machine's route table is made with its context and changed in place for the actor's
    // life: a reference to it stays right, and saves reading the snapshot per message.
    return readRouted(this.inbound, (this.#routes ??= this.machineContext.routes));
  }
}

// The option accessors declared above: a plain read and a checked set each (optionAccessors in socket.ts).
optionAccessors(Dealer.prototype, ['sendBufferSize', 'multicastHops', 'receiveBufferSize']);
optionAccessors(Router.prototype, ['sendBufferSize', 'multicastHops', 'receiveBufferSize']);
