// Socket options: their libzmq meaning, defaults and validation. User input is checked here once;
// the layers below trust the values they are given.

import { describeValue as show, ZmqError } from './errors.js';

type IntSpec = { kind: 'int'; min: number; max: number; default: number; libzmq: string };
type BoolSpec = { kind: 'bool'; default: boolean; libzmq: string };
type IdSpec = { kind: 'routingId'; default: undefined; libzmq: string };
type EnumSpec = { kind: 'enum'; values: readonly (string | null)[]; default: string | null; libzmq: string };
type OptionSpec = IntSpec | BoolSpec | IdSpec | EnumSpec;

const INT32_MAX = 2 ** 31 - 1;
const int = (libzmq: string, def: number, min: number, max = INT32_MAX): IntSpec => ({ kind: 'int', min, max, default: def, libzmq });
const bool = (libzmq: string, def = false): BoolSpec => ({ kind: 'bool', default: def, libzmq });

/** Every option monocoque knows, by its zeromq.js name. */
export const OPTION_SPECS = {
  sendHighWaterMark: int('ZMQ_SNDHWM', 1000, 0),
  receiveHighWaterMark: int('ZMQ_RCVHWM', 1000, 0),
  sendTimeout: int('ZMQ_SNDTIMEO', -1, -1),
  receiveTimeout: int('ZMQ_RCVTIMEO', -1, -1),
  linger: int('ZMQ_LINGER', -1, -1),
  immediate: bool('ZMQ_IMMEDIATE'),
  conflate: bool('ZMQ_CONFLATE'),
  routingId: { kind: 'routingId', default: undefined, libzmq: 'ZMQ_ROUTING_ID' } as IdSpec,
  reconnectInterval: int('ZMQ_RECONNECT_IVL', 100, -1),
  reconnectMaxInterval: int('ZMQ_RECONNECT_IVL_MAX', 0, 0),
  connectTimeout: int('ZMQ_CONNECT_TIMEOUT', 0, 0),
  handshakeInterval: int('ZMQ_HANDSHAKE_IVL', 30000, 0),
  heartbeatInterval: int('ZMQ_HEARTBEAT_IVL', 0, 0),
  heartbeatTimeout: int('ZMQ_HEARTBEAT_TIMEOUT', -1, -1),
  heartbeatTimeToLive: int('ZMQ_HEARTBEAT_TTL', 0, 0, 6553599),
  maxMessageSize: int('ZMQ_MAXMSGSIZE', -1, -1, Number.MAX_SAFE_INTEGER),
  backlog: int('ZMQ_BACKLOG', 100, 0),
  ipv6: bool('ZMQ_IPV6'),
  // Named after libzmq's draft ZMQ_BUSY_POLL (which sets the kernel's SO_BUSY_POLL); ours keeps the
  // event loop polling while a receive waits on tcp/ipc (src/socket/busy-poll.ts). µs, up to 1 s.
  // Off, as in libzmq; a REQ starts at 50 (defaultBusyPoll in src/socket/busy-poll.ts).
  busyPoll: int('ZMQ_BUSY_POLL', 0, 0, 1_000_000),
  relaxed: bool('ZMQ_REQ_RELAXED'),
  correlate: bool('ZMQ_REQ_CORRELATE'),
  mandatory: bool('ZMQ_ROUTER_MANDATORY'),
  handover: bool('ZMQ_ROUTER_HANDOVER'),
  noDrop: bool('ZMQ_XPUB_NODROP'),
  verbosity: { kind: 'enum', values: [null, 'allSubs', 'allSubsUnsubs'], default: null, libzmq: 'ZMQ_XPUB_VERBOSE / ZMQ_XPUB_VERBOSER' } as EnumSpec,
} satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTION_SPECS;

/** Option values as a socket keeps them. */
export interface SocketOptions {
  sendHighWaterMark: number;
  receiveHighWaterMark: number;
  sendTimeout: number;
  receiveTimeout: number;
  linger: number;
  immediate: boolean;
  conflate: boolean;
  /** As given: a string (sent as its UTF-8 bytes) or the exact bytes. */
  routingId: string | Uint8Array | undefined;
  reconnectInterval: number;
  reconnectMaxInterval: number;
  connectTimeout: number;
  handshakeInterval: number;
  heartbeatInterval: number;
  heartbeatTimeout: number;
  heartbeatTimeToLive: number;
  maxMessageSize: number;
  backlog: number;
  ipv6: boolean;
  busyPoll: number;
  relaxed: boolean;
  correlate: boolean;
  mandatory: boolean;
  handover: boolean;
  noDrop: boolean;
  verbosity: 'allSubs' | 'allSubsUnsubs' | null;
}

/**
 * The default value of every option. Written out as one literal, not built in a loop: V8 keeps a
 * literal's fields in a fixed shape (about 250 bytes), where adding them one by one made a
 * dictionary (about 1.6 KB per socket); test/core/frame-options.test.ts checks it against the specs.
 */
export function defaultOptions(): SocketOptions {
  const d = OPTION_SPECS;
  return {
    sendHighWaterMark: d.sendHighWaterMark.default,
    receiveHighWaterMark: d.receiveHighWaterMark.default,
    sendTimeout: d.sendTimeout.default,
    receiveTimeout: d.receiveTimeout.default,
    linger: d.linger.default,
    immediate: d.immediate.default,
    conflate: d.conflate.default,
    routingId: undefined,
    reconnectInterval: d.reconnectInterval.default,
    reconnectMaxInterval: d.reconnectMaxInterval.default,
    connectTimeout: d.connectTimeout.default,
    handshakeInterval: d.handshakeInterval.default,
    heartbeatInterval: d.heartbeatInterval.default,
    heartbeatTimeout: d.heartbeatTimeout.default,
    heartbeatTimeToLive: d.heartbeatTimeToLive.default,
    maxMessageSize: d.maxMessageSize.default,
    backlog: d.backlog.default,
    ipv6: d.ipv6.default,
    busyPoll: d.busyPoll.default,
    relaxed: d.relaxed.default,
    correlate: d.correlate.default,
    mandatory: d.mandatory.default,
    handover: d.handover.default,
    noDrop: d.noDrop.default,
    verbosity: null,
  };
}

/**
 * Checks one option value and returns it normalised; throws EINVAL naming the option, the value
 * and what would be accepted.
 */
export function validateOption<K extends OptionName>(name: K, value: unknown): SocketOptions[K] {
  const spec: OptionSpec = OPTION_SPECS[name];
  switch (spec.kind) {
    case 'int': {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < spec.min || value > spec.max) {
        throw new ZmqError('EINVAL', `option ${name} (${spec.libzmq}): ${show(value)} is not an integer in ${spec.min}..${spec.max}`);
      }
      return value as SocketOptions[K];
    }
    case 'bool': {
      if (typeof value !== 'boolean') throw new ZmqError('EINVAL', `option ${name} (${spec.libzmq}): ${show(value)} is not a boolean`);
      return value as SocketOptions[K];
    }
    case 'enum': {
      if (!spec.values.includes(value as string | null)) {
        throw new ZmqError('EINVAL', `option ${name} (${spec.libzmq}): ${show(value)} is not one of ${spec.values.map(show).join(', ')}`);
      }
      return value as SocketOptions[K];
    }
    case 'routingId': {
      // libzmq `options.cpp`: 1..255 bytes, and a first byte of 0 is reserved for generated ids.
      const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value instanceof Uint8Array ? value : undefined;
      if (bytes === undefined) throw new ZmqError('EINVAL', `option ${name} (${spec.libzmq}): ${show(value)} is not a string or bytes`);
      if (bytes.byteLength < 1 || bytes.byteLength > 255) {
        throw new ZmqError('EINVAL', `option ${name} (${spec.libzmq}): ${show(value)} is ${bytes.byteLength} bytes; a routing id has 1..255 bytes`);
      }
      if (bytes[0] === 0) throw new ZmqError('EINVAL', `option ${name} (${spec.libzmq}): ${show(value)} starts with a 0 byte, which libzmq reserves for generated ids`);
      // Bytes are kept exactly (a copy, so a later change by the caller does not rename us).
      return (typeof value === 'string' ? value : new Uint8Array(bytes)) as SocketOptions[K];
    }
  }
}

/** The routing id as it goes on the wire (UTF-8 for a string), or undefined when none is set. */
export function routingIdBytes(id: string | Uint8Array | undefined): Uint8Array | undefined {
  return typeof id === 'string' ? new TextEncoder().encode(id) : id;
}

