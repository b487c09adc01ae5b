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
  // A bit mask of libzmq's I/O threads for new connections: accepted and read back, without effect
  // (IO runs on the event loop). A uint64 in libzmq; 2 ** 64 is how JavaScript writes its largest.
  affinity: int('ZMQ_AFFINITY', 0, 0, 2 ** 64),
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
  affinity: number;
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
    affinity: d.affinity.default,
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
    case 'routingId':
      return checkRoutingId(`option ${name} (${spec.libzmq})`, value) as SocketOptions[K];
  }
}

/**
 * A routing id as given (a string, or bytes copied, so a later change by the caller renames
 * nothing), checked as libzmq `options.cpp` does: 1..255 bytes, and a first byte of 0 is reserved
 * for generated ids. `what` names it in the EINVAL.
 */
export function checkRoutingId(what: string, value: unknown): string | Uint8Array {
  const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value instanceof Uint8Array ? value : undefined;
  if (bytes === undefined) throw new ZmqError('EINVAL', `${what}: ${show(value)} is not a string or bytes`);
  if (bytes.byteLength < 1 || bytes.byteLength > 255) {
    throw new ZmqError('EINVAL', `${what}: ${show(value)} is ${bytes.byteLength} bytes; a routing id has 1..255 bytes`);
  }
  if (bytes[0] === 0) throw new ZmqError('EINVAL', `${what}: ${show(value)} starts with a 0 byte, which libzmq reserves for generated ids`);
  return typeof value === 'string' ? value : new Uint8Array(bytes);
}

/** The routing id as it goes on the wire (UTF-8 for a string), or undefined when none is set. */
export function routingIdBytes(id: string | Uint8Array | undefined): Uint8Array | undefined {
  return typeof id === 'string' ? new TextEncoder().encode(id) : id;
}


/** The C type libzmq gives an option: it names zeromq.js's accessor for it (`getInt32Option`, …). */
export type LibzmqOptionType = 'Bool' | 'Int32' | 'Uint32' | 'Int64' | 'Uint64' | 'String';

/** One libzmq socket option id, as the low-level accessors (`getInt32Option(id)`, …) map it. */
export interface LibzmqOption {
  /** libzmq's name for it (`zmq.h`). */
  readonly libzmq: string;
  /** The socket property that holds it (zeromq.js's name). */
  readonly property: string;
  readonly type: LibzmqOptionType;
  /** 'read': libzmq refuses to set it; 'write': libzmq refuses to read it. Both when absent. */
  readonly only?: 'read' | 'write';
  /** The property's values by libzmq's numbers (ZMQ_NULL 0, ZMQ_PLAIN 1, …), for a property that is not a number. */
  readonly values?: readonly (string | null)[];
}

/** libzmq's socket type numbers (`zmq.h`: ZMQ_PAIR 0 … ZMQ_CHANNEL 20), each by its name on the wire; 12 and up are DRAFT types. */
export const LIBZMQ_SOCKET_TYPES = [
  'PAIR', 'PUB', 'SUB', 'REQ', 'REP', 'DEALER', 'ROUTER', 'PULL', 'PUSH', 'XPUB', 'XSUB', 'STREAM',
  'SERVER', 'CLIENT', 'RADIO', 'DISH', 'GATHER', 'SCATTER', 'DGRAM', 'PEER', 'CHANNEL',
] as const;

const id = (libzmq: string, property: string, type: LibzmqOptionType, more: Partial<LibzmqOption> = {}): LibzmqOption => ({ libzmq, property, type, ...more });

/**
 * The libzmq socket option ids (`zmq.h`) monocoque has, each with the socket property it is and the
 * C type libzmq gives it: what zeromq.js's `getInt32Option(id)`, `setStringOption(id, v)`, … take.
 */
export const LIBZMQ_OPTIONS: ReadonlyMap<number, LibzmqOption> = new Map([
  [4, id('ZMQ_AFFINITY', 'affinity', 'Uint64')],
  [5, id('ZMQ_ROUTING_ID', 'routingId', 'String')],
  [16, id('ZMQ_TYPE', 'type', 'Int32', { only: 'read', values: LIBZMQ_SOCKET_TYPES })],
  [17, id('ZMQ_LINGER', 'linger', 'Int32')],
  [18, id('ZMQ_RECONNECT_IVL', 'reconnectInterval', 'Int32')],
  [19, id('ZMQ_BACKLOG', 'backlog', 'Int32')],
  [21, id('ZMQ_RECONNECT_IVL_MAX', 'reconnectMaxInterval', 'Int32')],
  [22, id('ZMQ_MAXMSGSIZE', 'maxMessageSize', 'Int64')],
  [23, id('ZMQ_SNDHWM', 'sendHighWaterMark', 'Int32')],
  [24, id('ZMQ_RCVHWM', 'receiveHighWaterMark', 'Int32')],
  [27, id('ZMQ_RCVTIMEO', 'receiveTimeout', 'Int32')],
  [28, id('ZMQ_SNDTIMEO', 'sendTimeout', 'Int32')],
  [32, id('ZMQ_LAST_ENDPOINT', 'lastEndpoint', 'String', { only: 'read' })],
  [33, id('ZMQ_ROUTER_MANDATORY', 'mandatory', 'Bool')],
  [39, id('ZMQ_IMMEDIATE', 'immediate', 'Bool')],
  // libzmq `xpub.cpp`: VERBOSE passes subscriptions on, VERBOSER unsubscriptions too; off is off.
  [40, id('ZMQ_XPUB_VERBOSE', 'verbosity', 'Bool', { only: 'write', values: [null, 'allSubs'] })],
  [42, id('ZMQ_IPV6', 'ipv6', 'Bool')],
  [43, id('ZMQ_MECHANISM', 'securityMechanism', 'Int32', { only: 'read', values: [null, 'plain', 'curve'] })],
  [44, id('ZMQ_PLAIN_SERVER', 'plainServer', 'Bool')],
  [45, id('ZMQ_PLAIN_USERNAME', 'plainUsername', 'String')],
  [46, id('ZMQ_PLAIN_PASSWORD', 'plainPassword', 'String')],
  [47, id('ZMQ_CURVE_SERVER', 'curveServer', 'Bool')],
  [48, id('ZMQ_CURVE_PUBLICKEY', 'curvePublicKey', 'String')],
  [49, id('ZMQ_CURVE_SECRETKEY', 'curveSecretKey', 'String')],
  [50, id('ZMQ_CURVE_SERVERKEY', 'curveServerKey', 'String')],
  [52, id('ZMQ_REQ_CORRELATE', 'correlate', 'Bool')],
  [53, id('ZMQ_REQ_RELAXED', 'relaxed', 'Bool')],
  [54, id('ZMQ_CONFLATE', 'conflate', 'Bool')],
  [55, id('ZMQ_ZAP_DOMAIN', 'zapDomain', 'String')],
  [56, id('ZMQ_ROUTER_HANDOVER', 'handover', 'Bool')],
  [66, id('ZMQ_HANDSHAKE_IVL', 'handshakeInterval', 'Int32')],
  [69, id('ZMQ_XPUB_NODROP', 'noDrop', 'Bool')],
  [75, id('ZMQ_HEARTBEAT_IVL', 'heartbeatInterval', 'Int32')],
  [76, id('ZMQ_HEARTBEAT_TTL', 'heartbeatTimeToLive', 'Int32')],
  [77, id('ZMQ_HEARTBEAT_TIMEOUT', 'heartbeatTimeout', 'Int32')],
  [78, id('ZMQ_XPUB_VERBOSER', 'verbosity', 'Bool', { only: 'write', values: [null, 'allSubsUnsubs'] })],
  [79, id('ZMQ_CONNECT_TIMEOUT', 'connectTimeout', 'Int32')],
  [81, id('ZMQ_THREAD_SAFE', 'threadSafe', 'Bool', { only: 'read' })],
  // DRAFT in libzmq, where it sets the kernel's SO_BUSY_POLL; ours is µs of polling (see busyPoll above).
  [113, id('ZMQ_BUSY_POLL', 'busyPoll', 'Int32')],
]);
