// Monitor event shapes (`sock.events`): what happened, at which endpoint, to which peer. Types only;
// the socket layer delivers them (src/socket/events.ts), transports report them.

import type { ZmqError } from './errors.js';

/** Who an event concerns, where a single peer is concerned. */
export interface EventPeer {
  /** The peer's socket type as ZeroMQ spells it (`DEALER`, `PULL`, …). */
  socketType?: string;
  /** The peer's routing id (its `routingId` option, or the one a Router generated for it). */
  routingId?: Uint8Array;
  /** The remote address of a tcp/ipc connection, where known. */
  remoteAddress?: string;
  /** The User-Id our ZAP handler gave this peer when it accepted it (PLAIN: usually the username). */
  userId?: string;
}

/** The fields an event may carry beyond its `type`. */
interface EventFields {
  /** The endpoint the event concerns. */
  address: string;
  /** For connect:retry: milliseconds until the next attempt. */
  interval: number;
  /**
   * For the *:error events and peer:refused: what went wrong. On `disconnect`, present when this
   * socket ended the connection for a reason of its own (a heartbeat timeout, a peer's PING TTL, a
   * protocol error); absent when the peer closed it or the socket was closed or disconnected.
   */
  error: ZmqError;
}

/**
 * One event type with the fields `K` it always has. The other fields are declared absent
 * (`?: undefined`), so code may read `event.address` on any event and narrowing on `type` gives
 * the exact shape, as zeromq.js's `EventFor` does. Every event may name its `peer` (beyond zeromq.js).
 */
export type EventFor<T extends string, K extends keyof EventFields = never> = { type: T } & Pick<EventFields, K> & {
  [F in Exclude<keyof EventFields, K>]?: undefined;
} & { peer?: EventPeer };

/**
 * One monitor event: the zeromq.js v6 `Event` union (ZMQ_EVENT_* of libzmq's monitor, with the
 * names zeromq.js gives them), plus `peer:refused` (a peer the socket's rules turned away).
 */
export type Event =
  | EventFor<'accept', 'address'>
  | EventFor<'accept:error', 'address' | 'error'>
  | EventFor<'bind', 'address'>
  | EventFor<'bind:error', 'address' | 'error'>
  | EventFor<'connect', 'address'>
  | EventFor<'connect:delay', 'address'>
  | EventFor<'connect:retry', 'address' | 'interval'>
  | EventFor<'close', 'address'>
  | EventFor<'close:error', 'address' | 'error'>
  | (Omit<EventFor<'disconnect', 'address'>, 'error'> & { error?: ZmqError })
  | EventFor<'end'>
  | EventFor<'handshake', 'address'>
  | EventFor<'handshake:error:protocol', 'address' | 'error'>
  | EventFor<'handshake:error:auth', 'address' | 'error'>
  | EventFor<'handshake:error:other', 'address' | 'error'>
  | EventFor<'peer:refused', 'address' | 'error'>
  | EventFor<'unknown'>;

/** Every event type (see {@link Event}). */
export type EventType = Event['type'];

/** The event of one type, e.g. `EventOfType<"connect:retry">` has `address` and `interval`. */
export type EventOfType<E extends EventType = EventType> = Extract<Event, { type: E }>;

/** One monitor event (the name monocoque used before it matched zeromq.js's {@link Event}). */
export type SocketEvent = Event;
