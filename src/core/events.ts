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

export type EventType =
  | 'accept'
  | 'accept:error'
  | 'bind'
  | 'bind:error'
  | 'connect'
  | 'connect:delay'
  | 'connect:retry'
  | 'close'
  | 'close:error'
  | 'disconnect'
  | 'end'
  | 'handshake'
  | 'handshake:error:protocol'
  | 'handshake:error:auth'
  | 'handshake:error:other'
  | 'peer:refused'
  | 'unknown';

/** One monitor event. `address` is the endpoint it concerns (absent on `end`). */
export interface SocketEvent {
  type: EventType;
  address?: string;
  /** For connect:retry: milliseconds until the next attempt. */
  interval?: number;
  /** For the *:error events and peer:refused: what went wrong. */
  error?: ZmqError;
  peer?: EventPeer;
}
