// Stream (libzmq ZMQ_STREAM): raw TCP (or ipc) with peers that speak no ZeroMQ, each connection known
// by a routing id. The machine gives the ids and decides each message's fate (`sendOutcome`); this
// class carries the bytes, and the raw engine (src/transport/raw-engine.ts) writes them as they are.
// Node only: it needs the tcp and ipc transports, so monocoque/browser leaves it out.

import { parseEndpoint } from '../core/endpoint.js';
import { describeValue, ZmqError } from '../core/errors.js';
import type { Frame, Message } from '../core/frame.js';
import { toHex } from '../core/frame.js';
import { checkRoutingId, RECEIVING_OPTIONS, routingIdBytes, SENDING_OPTIONS } from '../core/options.js';
import type { OptionName, ReceivingOptions, SendingOptions } from '../core/options.js';
import { mayNameConnection, sendOutcome, streamHasRoom, streamMachine } from '../../machines/stream.js';
import type { StreamSendOutcome } from '../../machines/stream.js';
import type { RouteTable } from '../../machines/router.js';
import type { AttachEvent } from '../transport/host.js';
import { optionAccessors, registerSocketClasses, Socket, socketMachine } from './socket.js';
import type { Peer, PeerLink, SocketOptionsInput } from './socket.js';
import { keepLeavingId, readRouted, routingIdFrame } from './dealer-router.js';

export interface StreamOptions extends SocketOptionsInput, SendingOptions, ReceivingOptions {
  /**
   * ZMQ_STREAM_NOTIFY: receive `[routingId, <empty>]` when a connection opens and when it closes
   * (default true).
   */
  notify?: boolean;
}

/** Options of `Stream.connect` (zeromq.js's `StreamConnectOptions`). */
export interface StreamConnectOptions {
  /**
   * ZMQ_CONNECT_ROUTING_ID: the routing id of the connection this connect makes (1..255 bytes, not
   * starting with 0, and not the id of another connection of this socket).
   */
  routingId?: string | Uint8Array;
}

const STREAM_OPTIONS: readonly OptionName[] = [...SENDING_OPTIONS, ...RECEIVING_OPTIONS];
/** libzmq's id of ZMQ_STREAM_NOTIFY, for the low-level accessors (`setBoolOption(73, false)`). */
const ZMQ_STREAM_NOTIFY = 73;

const streamLogic = socketMachine(streamMachine);

/**
 * STREAM: talks to peers that speak plain TCP, not ZeroMQ (an HTTP server or client, a telnet
 * session, a device), over `tcp://` or `ipc://`, as a server (bind), a client (connect) or both.
 *
 * - Every connection gets a routing id: the one `connect(address, { routingId })` names, or a
 *   generated 5-byte id (`00` + a counter).
 * - `receive()` gives `[routingId, data]`, one message per chunk read from the connection (TCP
 *   keeps no message boundaries: a request may come in several chunks). With `notify` (the
 *   default), `[routingId, <empty>]` says a connection opened, and again that it closed.
 * - `send([routingId, data])` writes `data` to that connection as it is; `send([routingId, ""])`
 *   closes it, after what was sent to it before (for up to `linger` ms if the peer does not read
 *   it: with `linger` 0 what the kernel has not taken yet is dropped). A message is exactly these
 *   two frames (EINVAL otherwise); an id no connection has is EHOSTUNREACH; a connection at its
 *   HWM makes send wait.
 *
 * ```ts
 * const http = new Stream()
 * await http.bind("tcp://127.0.0.1:8080")
 * for await (const [id, data] of http) {
 *   if (data.length === 0) continue                 // a connection opened or closed
 *   await http.send([id, "HTTP/1.0 200 OK\r\n\r\nHello"])
 *   await http.send([id, ""])                       // then close it
 * }
 * ```
 */
export class Stream extends Socket<typeof streamMachine> {
  #routes: RouteTable | undefined;
  constructor(options?: StreamOptions) {
    // `notify` is this type's own option: kept out of the options every socket checks, and checked
    // here before the socket exists (a bad value makes no socket).
    const [notify, rest] = takeNotify(options);
    super('STREAM', streamLogic, rest, STREAM_OPTIONS);
    this.#options.notify = notify ?? true;
    if (new.target === Stream) Object.seal(this);
  }

  /** ZMQ_SNDBUF: the kernel's send buffer in bytes (-1, the default, leaves the OS's). Read back, without effect: node:net does not set SO_SNDBUF. */
  declare sendBufferSize: number;
  /** ZMQ_MULTICAST_HOPS: the TTL of multicast packets (default 1). Read back, without effect: no multicast transport. */
  declare multicastHops: number;
  /** ZMQ_RCVBUF: the kernel's receive buffer in bytes (-1, the default, leaves the OS's). Read back, without effect: node:net does not set SO_RCVBUF. */
  declare receiveBufferSize: number;

  /**
   * ZMQ_STREAM_NOTIFY: when true (the default), `[routingId, <empty>]` is received when a
   * connection opens (before any of its data) and when the peer closes it (after all of its data),
   * as libzmq's raw engine reports them. A connection closed by `send([routingId, ""])` or by
   * `close()` is not reported. A change applies to connections that open from then on.
   */
  get notify(): boolean {
    return this.#options.notify;
  }
  set notify(v: boolean) {
    if (this.closed) throw new ZmqError('EBADF', 'Socket is closed');
    this.#options.notify = checkNotify(v);
  }

  /** The option record the tcp/ipc transport reads `notify` from (it takes no other STREAM option). */
  get #options(): { notify: boolean } {
    return this.opt as unknown as { notify: boolean };
  }

  /** Binds to `tcp://…` or `ipc://…`; inproc is ENOCOMPATPROTO (no raw bytes in a process). */
  override bind(address: string): Promise<void> {
    try {
      refuseInproc(address, 'bind');
    } catch (e) {
      return Promise.reject(e);
    }
    return super.bind(address);
  }

  /**
   * Connects to `tcp://…` or `ipc://…`. The connection's pipe is there at once, so a send to its
   * routing id queues until the connection opens, and it keeps its id across reconnects (as in
   * libzmq, unless `immediate` is set). With `routingId` (ZMQ_CONNECT_ROUTING_ID) the connection is
   * known by that id; otherwise by a generated one, told by the first message it brings (with
   * `notify`, the empty one of its opening).
   *
   * ```ts
   * const client = new Stream()
   * client.connect("tcp://example.com:80", { routingId: "web" })
   * await client.send(["web", "GET / HTTP/1.0\r\n\r\n"])   // queued until connected
   * ```
   */
  override connect(address: string, options?: StreamConnectOptions): void {
    refuseInproc(address, 'connect');
    if (options === undefined) return super.connect(address);
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new ZmqError('EINVAL', `connect("${address}"): options must be an object like { routingId: "peer-1" }, not ${describeValue(options)}`, { address });
    }
    if (options.routingId === undefined) return super.connect(address);
    const what = `connect("${address}"): option routingId (ZMQ_CONNECT_ROUTING_ID)`;
    const id = routingIdBytes(checkRoutingId(what, options.routingId)) as Uint8Array;
    const endpoint = parseEndpoint(address, 'connect').address;
    // Connected already: nothing new is connected, and the connection keeps the id it has.
    if (this.hasConnect(endpoint)) return super.connect(address);
    const hex = toHex(id);
    if (!mayNameConnection(this.machineContext, hex)) {
      // libzmq asserts on this (`stream.cpp identify_peer`); here it is the caller's error.
      throw new ZmqError('EINVAL', `${what}: ${hex} (hex) is the routing id of another connection of this socket; each connection needs its own`, { address });
    }
    this.tell({ type: 'connect.named', endpoint, routingId: hex });
    try {
      super.connect(address);
    } catch (e) {
      this.tell({ type: 'connect.dropped', endpoint });
      throw e;
    }
  }

  override disconnect(address: string): void {
    super.disconnect(address);
    const endpoint = parseEndpoint(address, 'bind').address;
    if (this.machineContext.connectIds.hexOf(endpoint) !== undefined) this.tell({ type: 'connect.dropped', endpoint });
  }

  /** @internal ZMQ_STREAM_NOTIFY (73) by libzmq's id, as zeromq.js reaches it; other ids as every socket does. */
  protected override getBoolOption(option: number): boolean {
    return option === ZMQ_STREAM_NOTIFY ? this.notify : super.getBoolOption(option);
  }

  /** @internal */
  protected override setBoolOption(option: number, value: boolean): void {
    if (option === ZMQ_STREAM_NOTIFY) this.notify = value;
    else super.setBoolOption(option, value);
  }

  /**
   * @internal A connection made by a connect given a routing id is known by it (libzmq `stream.cpp
   * identify_peer`, for a pipe this socket initiated); the machine gives every other one a generated
   * id. The link then carries the id the machine gave, for monitor events.
   */
  override attachPeer(link: PeerLink, event: AttachEvent): Peer {
    const connectIds = this.machineContext.connectIds;
    if (connectIds.size > 0) link.routingId = routingIdFrame(connectIds, link.endpoint, link.routingId, event === 'accept');
    const peer = super.attachPeer(link, event);
    const given = this.machineContext.routes.frameOf(peer.id);
    if (given !== undefined) peer.routingId = given;
    return peer;
  }

  // The verdict `checkSend` reached for `#routedMsg` (the base calls xsend right after it).
  #routedMsg: Message | undefined = undefined;
  #outcome: StreamSendOutcome = 'malformed';
  #target: Peer | undefined = undefined;

  /** Asks the machine's rule what becomes of `msg` (libzmq `stream.cpp xsend`), and which connection it names. */
  #route(msg: Message): void {
    const { routes, peers } = this.machineContext;
    const peerId = msg.length === 2 ? routes.peerOf(msg[0] as Frame) : undefined;
    const entry = peerId === undefined ? undefined : peers.get(peerId);
    this.#routedMsg = msg;
    this.#outcome = sendOutcome(msg.length, entry, msg.length === 2 ? (msg[1] as Frame).length : 0);
    this.#target = (this.#outcome === 'deliver' || this.#outcome === 'close') && peerId !== undefined ? this.link(peerId) : undefined;
  }

  /** @internal */
  protected override checkSend(msg: Message): void {
    this.#route(msg);
    if (this.#outcome === 'malformed') {
      throw new ZmqError('EINVAL', `send on STREAM: a message is 2 frames, [routing id, data] (empty data closes that connection), not ${msg.length} frame${msg.length === 1 ? '' : 's'}`);
    }
    if (this.#outcome === 'unreachable') {
      throw new ZmqError('EHOSTUNREACH', `send on STREAM: no connection has routing id ${toHex(msg[0] as Frame)} (hex); it may have closed`);
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
    // 'malformed' and 'unreachable' were refused by checkSend; a connection gone since: dropped.
    if (peer === undefined) return true;
    if (outcome === 'close') {
      this.#closeConnection(peer);
      return true;
    }
    this.writeTo(peer, [msg[1] as Frame]);
    return true;
  }

  /**
   * Closes one connection, as `[routingId, <empty>]` asks (libzmq `stream.cpp xsend` terminates its
   * pipe): it leaves the table at once, what was queued for it is still written (within `linger`,
   * as for every connection that closes), then its stream ends. A connection this socket dialled
   * is not redialled, and `connect()` may dial it again.
   */
  #closeConnection(peer: Peer): void {
    if (this.hasConnect(peer.endpoint)) this.disconnect(peer.endpoint);
    else peer.close();
  }

  /** @internal */
  protected override canSendNow(): boolean {
    return streamHasRoom();
  }

  /** @internal */
  protected override peerLeaving(peer: Peer): void {
    // What it sent and was not read yet (its close notification too) still names it.
    keepLeavingId(this.machineContext.routes, peer);
  }

  /** @internal */
  protected override xrecv(): Message | undefined {
    // The machine's route table is made with its context and changed in place for the actor's
    // life: a reference to it stays right, and saves reading the snapshot per message.
    return readRouted(this.inbound, (this.#routes ??= this.machineContext.routes));
  }
}

/** `options` without `notify`, and `notify` checked; anything that is not an options object as it is (the base refuses it). */
function takeNotify(options: StreamOptions | undefined): [boolean | undefined, StreamOptions | undefined] {
  if (typeof options !== 'object' || options === null || Array.isArray(options) || !('notify' in options)) return [undefined, options];
  const { notify, ...rest } = options;
  return [notify === undefined ? undefined : checkNotify(notify), rest];
}

function checkNotify(value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ZmqError('EINVAL', `option notify (ZMQ_STREAM_NOTIFY): ${describeValue(value)} is not a boolean`);
  return value;
}

/**
 * A STREAM takes tcp and ipc, where libzmq gives it raw engines. Over inproc libzmq has no raw
 * engine: its pipes would carry ZeroMQ messages between two sockets, which is no STREAM at all.
 */
function refuseInproc(address: unknown, what: 'bind' | 'connect'): void {
  if (typeof address === 'string' && address.startsWith('inproc://')) {
    throw new ZmqError('ENOCOMPATPROTO', `${what}("${address}"): a STREAM socket talks raw bytes to peers outside ZeroMQ, over tcp:// or ipc://; inproc:// has no such peers`, { address });
  }
}

// The option accessors declared above: a plain read and a checked set each (optionAccessors in socket.ts).
optionAccessors(Stream.prototype, ['sendBufferSize', 'multicastHops', 'receiveBufferSize']);

// `new Socket(11)` (ZMQ_STREAM) makes a Stream wherever this module is loaded: the Node entry.
registerSocketClasses({ STREAM: Stream });
