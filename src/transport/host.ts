// What the transports and the sockets agree on, and all a transport knows of a socket: a peer host
// that takes connections (attach, detach, refuse, identify), its options, and where monitor events
// go. Transports never see the socket classes; sockets hand themselves over as this interface.

import type { Endpoint } from '../core/endpoint.js';
import type { ZmqError } from '../core/errors.js';
import type { SocketEvent } from '../core/events.js';
import type { Frame } from '../core/frame.js';
import type { SocketOptions } from '../core/options.js';
import type { Pipe } from '../core/pipe.js';
import type { SecuritySettings } from '../core/security.js';

/** What a transport hands a socket for one connection. */
export interface PeerLink {
  /** Messages we send to the peer. */
  out: Pipe;
  /** Messages the peer sends us. */
  in: Pipe;
  /** The endpoint this connection belongs to (what bind/connect was called with, resolved). */
  endpoint: string;
  /** The peer's socket type as ZeroMQ spells it on the wire; '' until known. */
  peerType: string;
  /** The peer's routing id, if it announced one. */
  routingId?: Frame | undefined;
  transport: 'inproc' | 'tcp' | 'ipc';
  /** The remote address of a stream, where known. */
  remoteAddress?: string | undefined;
  /** Asks the transport to end this connection (the socket refused the peer, or is closing). */
  close(): void;
  /**
   * The socket refused this peer (a second PAIR peer, a taken routing id) or handed its routing id
   * to a newcomer, and has dropped its pipes. A stream transport may keep the connection open and
   * out of use, as libzmq does, so the peer does not reconnect and get refused again and again;
   * without this method the connection is closed.
   */
  ignore?(): void;
}

/** A connection as the host keeps it: the link, its id within the socket, whether it is attached. */
export interface Peer extends PeerLink {
  readonly id: number;
  /** False once the peer has left the socket (its incoming pipe may still be drained). */
  attached: boolean;
  /** The socket refused this peer; its connection is kept out of use until it ends (then `disconnect`). */
  refused?: boolean;
}

/** Where a transport reports monitor events (a socket's `events`). */
export interface EventSink {
  /** Whether anyone listens (so transports can skip building events). */
  readonly observed: boolean;
  emit(event: SocketEvent): void;
}

/** How a new link is announced: `connect:delay` for pipes made before a stream exists; null for none. */
export type AttachEvent = 'connect' | 'accept' | 'connect:delay' | null;

/** A socket, as transports see it. */
export interface PeerHost {
  /** Unique within the process. */
  readonly id: number;
  /** The socket type as ZeroMQ spells it on the wire (`PUSH`, `ROUTER`, …). */
  readonly type: string;
  readonly closed: boolean;
  readonly options: Readonly<SocketOptions>;
  /**
   * The security options (mechanism, role, credentials, ZAP domain); undefined: NULL, no ZAP domain.
   * Never changed in place: a setter makes a new object, so a transport keeps the one a bind or
   * connect started with.
   */
  readonly security: Readonly<SecuritySettings> | undefined;
  /** Where the transports report monitor events (the socket's `events`, reached without counting as a user's access). */
  readonly monitor: EventSink;
  /**
   * How long a connection closing now may still spend sending what it holds, in ms: the linger
   * option, or once close() started a positive linger, what is left of it (-1: no limit).
   */
  readonly lingerLeft: number;
  /** Attaches a connection; returns the peer record (check `attached`: the socket may refuse it). */
  attachPeer(link: PeerLink, event: AttachEvent): Peer;
  /**
   * Ends a peer's attachment (its stream or connection is gone). Idempotent. `reason`: why our side
   * ended it, when it did (the `disconnect` event carries it).
   */
  detachPeer(peer: Peer, quiet?: boolean, reason?: ZmqError): void;
  /** What an early-attached peer turned out to be (inproc connect before bind: its type, its routing id). */
  identifyPeer(peer: Peer, peerType: string, routingId: Frame | undefined): void;
  /**
   * The routing id a ROUTER's connect to `endpoint` gave its peer (ZMQ_CONNECT_ROUTING_ID), if any:
   * that peer's pipes can then be made at connect time, as for types that do not wait for the peer's
   * identity.
   */
  connectRoutingId?(endpoint: string): Frame | undefined;
  /** A pairing ZeroMQ does not allow was refused (inproc): takes back `peer` if it was attached, reports it. */
  refusePairing(peer: Peer | undefined, endpoint: string, peerType: string, why: string): void;
}

/** A bound endpoint, as a transport returns it. */
export interface BoundHandle {
  /** The endpoint resolved (e.g. the real port of `tcp://127.0.0.1:*`). */
  address: string;
  /** Stops listening and detaches the peers that came through this endpoint. */
  close(): void;
  /** Stops listening but keeps the peers (a closing socket lingers with them). */
  stopListening?(): void;
}

/** A connect, as a transport returns it. */
export interface ConnectHandle {
  /** Ends the connection and stops reconnecting. */
  close(): void;
  /** Stops reconnecting, keeping a live connection (a lingering close). */
  stopReconnecting?(): void;
}

/** What each transport provides. */
export interface Transport {
  bind(host: PeerHost, endpoint: Endpoint): Promise<BoundHandle>;
  connect(host: PeerHost, endpoint: Endpoint): ConnectHandle;
}
