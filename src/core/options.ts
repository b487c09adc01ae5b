// Socket options: their libzmq meaning, defaults and validation. User input is checked here once;
// the layers below trust the values they are given.

import { describeValue as show, ZmqError } from './errors.js';

/**
 * An integer in min..max (the default may be outside: heartbeatTimeout's -1). `unit`: libzmq keeps
 * the value in these units of ms, so it is truncated to a multiple of it (and reads back so).
 * `hint`: said after the range when a value is refused.
 */
type IntSpec = { kind: 'int'; min: number; max: number; default: number; libzmq: string; unit?: number; hint?: string };
type BoolSpec = { kind: 'bool'; default: boolean; libzmq: string };
type IdSpec = { kind: 'routingId'; default: undefined; libzmq: string };
type EnumSpec = { kind: 'enum'; values: readonly (string | null)[]; default: string | null; libzmq: string };
/** Text or null; bytes are read as UTF-8 and the empty string is null (libzmq reads an empty string option back as none). */
type TextSpec = { kind: 'text'; default: null; libzmq: string; maxBytes: number };
/** A message body (ZMQ_XPUB_WELCOME_MSG): text or bytes, kept as given (bytes copied); empty is null. */
type BodySpec = { kind: 'body'; default: null; libzmq: string };
/** ZMQ_TCP_ACCEPT_FILTER: an IP address with an optional /mask, or null. */
type MaskSpec = { kind: 'mask'; default: null; libzmq: string };
type OptionSpec = IntSpec | BoolSpec | IdSpec | EnumSpec | TextSpec | BodySpec | MaskSpec;

const INT32_MAX = 2 ** 31 - 1;
const int = (libzmq: string, def: number, min: number, max = INT32_MAX): IntSpec => ({ kind: 'int', min, max, default: def, libzmq });
const bool = (libzmq: string, def = false): BoolSpec => ({ kind: 'bool', default: def, libzmq });
const text = (libzmq: string, maxBytes = 255): TextSpec => ({ kind: 'text', default: null, libzmq, maxBytes });
/** GSSAPI name types (ZMQ_GSSAPI_NT_HOSTBASED 0, _USER_NAME 1, _KRB5_PRINCIPAL 2), as zeromq.js names them. */
const GSSAPI_NAME_TYPES = ['hostBased', 'userName', 'krb5Principal'] as const;

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
  // libzmq refuses -1 when set, though it is the default (the timeout is then heartbeatInterval);
  // 0 means no timeout.
  heartbeatTimeout: { ...int('ZMQ_HEARTBEAT_TIMEOUT', -1, 0), hint: '(-1, its default, stands for heartbeatInterval and cannot be set)' },
  // Kept in deciseconds, as libzmq does: 250 reads back 200, and -99..-1 are taken as 0.
  heartbeatTimeToLive: { ...int('ZMQ_HEARTBEAT_TTL', 0, -99, 6553599), unit: 100 },
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
  // With effect (the socket classes and their machines):
  probeRouter: bool('ZMQ_PROBE_ROUTER'),
  invertMatching: bool('ZMQ_INVERT_MATCHING'),
  manual: bool('ZMQ_XPUB_MANUAL'),
  welcomeMessage: { kind: 'body', default: null, libzmq: 'ZMQ_XPUB_WELCOME_MSG' } as BodySpec,
  // Read by the tcp transport (node:net's keep-alive). libzmq `options.cpp`: -1 leaves the OS default.
  tcpKeepalive: int('ZMQ_TCP_KEEPALIVE', -1, -1, 1),
  tcpKeepaliveCount: int('ZMQ_TCP_KEEPALIVE_CNT', -1, -1),
  tcpKeepaliveIdle: int('ZMQ_TCP_KEEPALIVE_IDLE', -1, -1),
  tcpKeepaliveInterval: int('ZMQ_TCP_KEEPALIVE_INTVL', -1, -1),
  // Accepted and read back, without effect: see WITHOUT_EFFECT below. Ranges and defaults are libzmq's
  // (`options.cpp`); -1 for the kernel buffers leaves the OS default, as libzmq >= 4.2 does.
  sendBufferSize: int('ZMQ_SNDBUF', -1, -1),
  receiveBufferSize: int('ZMQ_RCVBUF', -1, -1),
  multicastHops: int('ZMQ_MULTICAST_HOPS', 1, 1),
  rate: int('ZMQ_RATE', 100, 1),
  recoveryInterval: int('ZMQ_RECOVERY_IVL', 10000, 0),
  multicastMaxTransportDataUnit: int('ZMQ_MULTICAST_MAXTPDU', 1500, 1),
  typeOfService: int('ZMQ_TOS', 0, 0),
  tcpMaxRetransmitTimeout: int('ZMQ_TCP_MAXRT', 0, 0),
  tcpAcceptFilter: { kind: 'mask', default: null, libzmq: 'ZMQ_TCP_ACCEPT_FILTER' } as MaskSpec,
  socksProxy: text('ZMQ_SOCKS_PROXY'),
  // ZMQ_BINDTODEVICE: libzmq takes an interface name of at most 16 bytes (BINDDEVSIZ).
  interface: text('ZMQ_BINDTODEVICE', 16),
  zapEnforceDomain: bool('ZMQ_ZAP_ENFORCE_DOMAIN'),
  loopbackFastPath: bool('ZMQ_LOOPBACK_FASTPATH'),
  vmciBufferSize: int('ZMQ_VMCI_BUFFER_SIZE', 0, 0, 2 ** 64),
  vmciBufferMinSize: int('ZMQ_VMCI_BUFFER_MIN_SIZE', 0, 0, 2 ** 64),
  vmciBufferMaxSize: int('ZMQ_VMCI_BUFFER_MAX_SIZE', 0, 0, 2 ** 64),
  vmciConnectTimeout: int('ZMQ_VMCI_CONNECT_TIMEOUT', -1, -1),
  gssapiServer: bool('ZMQ_GSSAPI_SERVER'),
  gssapiPrincipal: text('ZMQ_GSSAPI_PRINCIPAL'),
  gssapiServicePrincipal: text('ZMQ_GSSAPI_SERVICE_PRINCIPAL'),
  gssapiPlainText: bool('ZMQ_GSSAPI_PLAINTEXT'),
  gssapiPrincipalNameType: { kind: 'enum', values: GSSAPI_NAME_TYPES, default: 'hostBased', libzmq: 'ZMQ_GSSAPI_PRINCIPAL_NAMETYPE' } as EnumSpec,
  gssapiServicePrincipalNameType: { kind: 'enum', values: GSSAPI_NAME_TYPES, default: 'hostBased', libzmq: 'ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE' } as EnumSpec,
} satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTION_SPECS;

/**
 * The options zeromq.js gives every socket type beyond those monocoque had from the start (the
 * constructor and the accessors of `Socket` take these on every socket).
 */
export const ALL_SOCKETS_OPTIONS = [
  'tcpKeepalive', 'tcpKeepaliveCount', 'tcpKeepaliveIdle', 'tcpKeepaliveInterval',
  'rate', 'recoveryInterval', 'multicastMaxTransportDataUnit', 'typeOfService', 'tcpMaxRetransmitTimeout',
  'tcpAcceptFilter', 'socksProxy', 'interface', 'zapEnforceDomain', 'loopbackFastPath',
  'vmciBufferSize', 'vmciBufferMinSize', 'vmciBufferMaxSize', 'vmciConnectTimeout',
  'gssapiServer', 'gssapiPrincipal', 'gssapiServicePrincipal', 'gssapiPlainText',
  'gssapiPrincipalNameType', 'gssapiServicePrincipalNameType',
] as const satisfies readonly OptionName[];

/** zeromq.js's options of sockets that send (its `Writable`): not on PULL and SUB. */
export const SENDING_OPTIONS = ['sendBufferSize', 'multicastHops'] as const satisfies readonly OptionName[];
/** zeromq.js's options of sockets that receive (its `Readable`): not on PUSH and PUB. */
export const RECEIVING_OPTIONS = ['receiveBufferSize'] as const satisfies readonly OptionName[];

/** zeromq.js's options of a socket that sends (its `Writable`), as a constructor takes them. */
export interface SendingOptions {
  /** ZMQ_SNDBUF: the kernel's send buffer in bytes; -1 leaves the OS's. Read back, without effect. */
  sendBufferSize?: number;
  /** ZMQ_MULTICAST_HOPS: the TTL of multicast packets (default 1). Read back, without effect (no multicast transport). */
  multicastHops?: number;
}

/** zeromq.js's options of a socket that receives (its `Readable`), as a constructor takes them. */
export interface ReceivingOptions {
  /** ZMQ_RCVBUF: the kernel's receive buffer in bytes; -1 leaves the OS's. Read back, without effect. */
  receiveBufferSize?: number;
}

// Accepted, checked as libzmq checks them and read back, without effect here: the transports they
// tune (pgm/epgm multicast, VMCI), the mechanism (GSSAPI) or the kernel knob (SO_SNDBUF, IP_TOS,
// TCP_MAXRT, SO_BINDTODEVICE) are not reachable from node:net, or libzmq's shortcut (loopback fast
// path) has no counterpart; README "Differences from zeromq.js" lists them:
// sendBufferSize receiveBufferSize multicastHops rate recoveryInterval multicastMaxTransportDataUnit typeOfService tcpMaxRetransmitTimeout socksProxy interface zapEnforceDomain loopbackFastPath vmciBufferSize vmciBufferMinSize vmciBufferMaxSize vmciConnectTimeout gssapiServer gssapiPrincipal gssapiServicePrincipal gssapiPlainText gssapiPrincipalNameType gssapiServicePrincipalNameType

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
  probeRouter: boolean;
  invertMatching: boolean;
  manual: boolean;
  /** As given: text (sent as UTF-8) or bytes (copied); null for none. */
  welcomeMessage: string | Uint8Array | null;
  tcpKeepalive: number;
  tcpKeepaliveCount: number;
  tcpKeepaliveIdle: number;
  tcpKeepaliveInterval: number;
  sendBufferSize: number;
  receiveBufferSize: number;
  multicastHops: number;
  rate: number;
  recoveryInterval: number;
  multicastMaxTransportDataUnit: number;
  typeOfService: number;
  tcpMaxRetransmitTimeout: number;
  tcpAcceptFilter: string | null;
  socksProxy: string | null;
  interface: string | null;
  zapEnforceDomain: boolean;
  loopbackFastPath: boolean;
  vmciBufferSize: number;
  vmciBufferMinSize: number;
  vmciBufferMaxSize: number;
  vmciConnectTimeout: number;
  gssapiServer: boolean;
  gssapiPrincipal: string | null;
  gssapiServicePrincipal: string | null;
  gssapiPlainText: boolean;
  gssapiPrincipalNameType: GssapiNameType;
  gssapiServicePrincipalNameType: GssapiNameType;
}

/** How a GSSAPI principal name is read (zeromq.js's names for ZMQ_GSSAPI_NT_*). */
export type GssapiNameType = (typeof GSSAPI_NAME_TYPES)[number];

/**
 * The default value of every option. Written out as one literal, not built in a loop: V8 keeps a
 * literal's fields in a fixed shape (about 250 bytes), where adding them one by one made a
 * dictionary (about 1.6 KB per socket); test/core/frame-options.test.ts checks it against the specs.
 */
export function defaultOptions(): SocketOptions {
  const d = OPTION_SPECS;
  // `__proto__` in the literal makes the record with the shared defaults as its prototype at once.
  return {
    __proto__: RARE_DEFAULTS,
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
  } as unknown as SocketOptions;
}

/**
 * The defaults of the options most sockets never set (those zeromq.js added for every socket, most
 * without effect here, and the few a socket type acts on), shared by every socket's option record
 * as its prototype: a socket that sets one gets its own value, one that does not carries nothing
 * (about 250 bytes a socket otherwise, with 100,000 of them alive in the scale rows).
 */
const RARE_DEFAULTS: Partial<SocketOptions> = Object.fromEntries(
  ([...ALL_SOCKETS_OPTIONS, ...SENDING_OPTIONS, ...RECEIVING_OPTIONS, 'probeRouter', 'invertMatching', 'manual', 'welcomeMessage'] as const)
    .map((name) => [name, OPTION_SPECS[name].default]),
);

/**
 * ZMQ_TCP_ACCEPT_FILTER's list, by socket option record: libzmq keeps every filter set (each set
 * adds one; null or "" clears them all), while the property reads back the last one set.
 */
const acceptFilterLists = new WeakMap<object, string[]>();

/**
 * Checks `value`, writes it to `opt[name]` and returns it; a tcpAcceptFilter also joins (or, as
 * null, clears) the socket's list of accept filters ({@link acceptFiltersOf}).
 */
export function assignOption<K extends OptionName>(opt: SocketOptions, name: K, value: unknown): SocketOptions[K] {
  const checked = validateOption(name, value);
  opt[name] = checked;
  if (name === 'tcpAcceptFilter') {
    const filter = checked as string | null;
    // Added in place: a set costs the same with 10 filters or 60,000 (a copy each time was 29 s for
    // 64,000). A bind reads the list once (tcp.ts), so growing it later changes no listener.
    const list = filter === null ? undefined : acceptFilterLists.get(opt);
    if (filter === null) acceptFilterLists.delete(opt);
    else if (list === undefined) acceptFilterLists.set(opt, [filter]);
    else list.push(filter);
  }
  return checked;
}

/** The accept filters set on the socket whose option record is `opt`, oldest first (empty: none). */
export function acceptFiltersOf(opt: object): readonly string[] {
  return acceptFilterLists.get(opt) ?? [];
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
        throw new ZmqError('EINVAL', `option ${name} (${spec.libzmq}): ${show(value)} is not an integer in ${spec.min}..${spec.max}${spec.hint !== undefined ? ` ${spec.hint}` : ''}`);
      }
      // + 0: -0 is stored as 0 (libzmq's int has no -0; zeromq.js reads it back as 0).
      return ((spec.unit !== undefined ? Math.trunc(value / spec.unit) * spec.unit : value) + 0) as SocketOptions[K];
    }
    case 'bool': {
      if (typeof value !== 'boolean') throw new ZmqError('EINVAL', `option ${name} (${spec.libzmq}): ${show(value)} is not a boolean`);
      if (value && GSSAPI_SWITCHES.has(name)) {
        throw new ZmqError('ENOTSUP', `option ${name} (${spec.libzmq}): true would make this a GSSAPI (Kerberos) server, which monocoque does not have; false is accepted (zeromq.js offers GSSAPI only where its libzmq was built with it)`);
      }
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
    case 'text': {
      const t = checkText(name, spec.libzmq, value, spec.maxBytes);
      if (t !== null && GSSAPI_SWITCHES.has(name)) {
        // libzmq turns the GSSAPI mechanism on with these; read back, but never a silent NULL instead.
        throw new ZmqError('ENOTSUP', `option ${name} (${spec.libzmq}): ${show(value)} would switch on GSSAPI (Kerberos), which monocoque does not have; null is accepted (zeromq.js offers GSSAPI only where its libzmq was built with it)`);
      }
      return t as SocketOptions[K];
    }
    case 'body':
      return checkBody(name, spec.libzmq, value) as SocketOptions[K];
    case 'mask':
      return checkAcceptFilter(name, spec.libzmq, value) as SocketOptions[K];
  }
}

/** The options whose non-null (or true) value would make libzmq speak GSSAPI. */
const GSSAPI_SWITCHES: ReadonlySet<string> = new Set(['gssapiServer', 'gssapiPrincipal', 'gssapiServicePrincipal']);

/** A string option: text, bytes read as UTF-8, or null; the empty string reads back as null, as libzmq's. */
function checkText(name: string, libzmq: string, value: unknown, maxBytes: number): string | null {
  if (value === null) return null;
  const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value instanceof Uint8Array ? value : undefined;
  if (bytes === undefined) throw new ZmqError('EINVAL', `option ${name} (${libzmq}): ${show(value)} is not a string, bytes or null`);
  if (bytes.byteLength > maxBytes) throw new ZmqError('EINVAL', `option ${name} (${libzmq}): ${show(value)} is ${bytes.byteLength} bytes; at most ${maxBytes} are accepted`);
  const t = typeof value === 'string' ? value : new TextDecoder().decode(bytes);
  return t === '' ? null : t;
}

/** ZMQ_XPUB_WELCOME_MSG: text or bytes (copied, so a later change by the caller changes nothing); empty means none, as in libzmq `xpub.cpp`. */
function checkBody(name: string, libzmq: string, value: unknown): string | Uint8Array | null {
  if (value === null) return null;
  if (typeof value === 'string') return value === '' ? null : value;
  if (value instanceof Uint8Array) return value.byteLength === 0 ? null : new Uint8Array(value);
  throw new ZmqError('EINVAL', `option ${name} (${libzmq}): ${show(value)} is not a string, bytes or null`);
}

/**
 * ZMQ_TCP_ACCEPT_FILTER: an IPv4 or IPv6 address, optionally with a /mask (libzmq
 * `tcp_address_mask_t::resolve` takes numeric addresses only), or null to clear.
 */
function checkAcceptFilter(name: string, libzmq: string, value: unknown): string | null {
  const t = checkText(name, libzmq, value, 255);
  if (t === null) return null;
  if (acceptFilterParts(t) === undefined) {
    throw new ZmqError('EINVAL', `option ${name} (${libzmq}): ${show(value)} is not an IP address with an optional /mask (like "192.168.0.0/16" or "::1"), or null`);
  }
  return t;
}

/**
 * An accept filter's address, family and prefix length (the whole address without a /mask), or
 * undefined if it is not an IPv4 or IPv6 address with an optional /mask.
 */
export function acceptFilterParts(filter: string): { address: string; family: 'ipv4' | 'ipv6'; prefix: number } | undefined {
  const slash = filter.indexOf('/');
  const address = slash < 0 ? filter : filter.slice(0, slash);
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (family === undefined) return undefined;
  const longest = family === 'ipv4' ? 32 : 128;
  const mask = slash < 0 ? undefined : filter.slice(slash + 1);
  if (mask !== undefined && (!/^\d{1,3}$/.test(mask) || Number(mask) > longest)) return undefined;
  return { address, family, prefix: mask === undefined ? longest : Number(mask) };
}

function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function isIPv6(s: string): boolean {
  if (!s.includes(':') || s.split('::').length > 2) return false;
  let groups = s.split(':').filter((g) => g !== '');
  // A trailing dotted IPv4 part counts as two groups (::ffff:10.0.0.1).
  const last = groups[groups.length - 1];
  if (last !== undefined && last.includes('.')) {
    if (!isIPv4(last)) return false;
    groups = [...groups.slice(0, -1), '0', '0'];
  }
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return s.includes('::') ? groups.length < 8 : groups.length === 8;
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
/** An option of OPTION_SPECS, under the libzmq name its spec gives. */
const spec = (property: keyof typeof OPTION_SPECS, type: LibzmqOptionType, more?: Partial<LibzmqOption>): LibzmqOption => id(OPTION_SPECS[property].libzmq, property, type, more);

/**
 * The libzmq socket option ids (`zmq.h`) monocoque has, each with the socket property it is and the
 * C type libzmq gives it: what zeromq.js's `getInt32Option(id)`, `setStringOption(id, v)`, … take.
 */
export const LIBZMQ_OPTIONS: ReadonlyMap<number, LibzmqOption> = new Map([
  [4, spec('affinity', 'Uint64')],
  [5, spec('routingId', 'String')],
  [8, spec('rate', 'Int32')],
  [9, spec('recoveryInterval', 'Int32')],
  [11, spec('sendBufferSize', 'Int32')],
  [12, spec('receiveBufferSize', 'Int32')],
  [16, id('ZMQ_TYPE', 'type', 'Int32', { only: 'read', values: LIBZMQ_SOCKET_TYPES })],
  [17, spec('linger', 'Int32')],
  [18, spec('reconnectInterval', 'Int32')],
  [19, spec('backlog', 'Int32')],
  [21, spec('reconnectMaxInterval', 'Int32')],
  [22, spec('maxMessageSize', 'Int64')],
  [23, spec('sendHighWaterMark', 'Int32')],
  [24, spec('receiveHighWaterMark', 'Int32')],
  [25, spec('multicastHops', 'Int32')],
  [27, spec('receiveTimeout', 'Int32')],
  [28, spec('sendTimeout', 'Int32')],
  [32, id('ZMQ_LAST_ENDPOINT', 'lastEndpoint', 'String', { only: 'read' })],
  [33, spec('mandatory', 'Bool')],
  [34, spec('tcpKeepalive', 'Int32')],
  [35, spec('tcpKeepaliveCount', 'Int32')],
  [36, spec('tcpKeepaliveIdle', 'Int32')],
  [37, spec('tcpKeepaliveInterval', 'Int32')],
  [38, spec('tcpAcceptFilter', 'String')],
  [39, spec('immediate', 'Bool')],
  // libzmq `xpub.cpp`: VERBOSE passes subscriptions on, VERBOSER unsubscriptions too; off is off.
  [40, id('ZMQ_XPUB_VERBOSE', 'verbosity', 'Bool', { only: 'write', values: [null, 'allSubs'] })],
  [42, spec('ipv6', 'Bool')],
  [43, id('ZMQ_MECHANISM', 'securityMechanism', 'Int32', { only: 'read', values: [null, 'plain', 'curve'] })],
  [44, id('ZMQ_PLAIN_SERVER', 'plainServer', 'Bool')],
  [45, id('ZMQ_PLAIN_USERNAME', 'plainUsername', 'String')],
  [46, id('ZMQ_PLAIN_PASSWORD', 'plainPassword', 'String')],
  [47, id('ZMQ_CURVE_SERVER', 'curveServer', 'Bool')],
  [48, id('ZMQ_CURVE_PUBLICKEY', 'curvePublicKey', 'String')],
  [49, id('ZMQ_CURVE_SECRETKEY', 'curveSecretKey', 'String')],
  [50, id('ZMQ_CURVE_SERVERKEY', 'curveServerKey', 'String')],
  [51, spec('probeRouter', 'Bool')],
  [52, spec('correlate', 'Bool')],
  [53, spec('relaxed', 'Bool')],
  [54, spec('conflate', 'Bool')],
  [55, id('ZMQ_ZAP_DOMAIN', 'zapDomain', 'String')],
  [56, spec('handover', 'Bool')],
  [57, spec('typeOfService', 'Uint32')],
  [62, spec('gssapiServer', 'Bool')],
  [63, spec('gssapiPrincipal', 'String')],
  [64, spec('gssapiServicePrincipal', 'String')],
  [65, spec('gssapiPlainText', 'Bool')],
  [66, spec('handshakeInterval', 'Int32')],
  [68, spec('socksProxy', 'String')],
  [69, spec('noDrop', 'Bool')],
  [71, spec('manual', 'Bool')],
  [72, spec('welcomeMessage', 'String')],
  [74, spec('invertMatching', 'Bool')],
  [75, spec('heartbeatInterval', 'Int32')],
  [76, spec('heartbeatTimeToLive', 'Int32')],
  [77, spec('heartbeatTimeout', 'Int32')],
  [78, id('ZMQ_XPUB_VERBOSER', 'verbosity', 'Bool', { only: 'write', values: [null, 'allSubsUnsubs'] })],
  [79, spec('connectTimeout', 'Int32')],
  [80, spec('tcpMaxRetransmitTimeout', 'Int32')],
  [81, id('ZMQ_THREAD_SAFE', 'threadSafe', 'Bool', { only: 'read' })],
  [84, spec('multicastMaxTransportDataUnit', 'Int32')],
  [85, spec('vmciBufferSize', 'Uint64')],
  [86, spec('vmciBufferMinSize', 'Uint64')],
  [87, spec('vmciBufferMaxSize', 'Uint64')],
  [88, spec('vmciConnectTimeout', 'Int32')],
  [90, spec('gssapiPrincipalNameType', 'Int32', { values: GSSAPI_NAME_TYPES })],
  [91, spec('gssapiServicePrincipalNameType', 'Int32', { values: GSSAPI_NAME_TYPES })],
  [92, spec('interface', 'String')],
  [93, spec('zapEnforceDomain', 'Bool')],
  [94, spec('loopbackFastPath', 'Bool')],
  // DRAFT in libzmq, where it sets the kernel's SO_BUSY_POLL; ours is µs of polling (see busyPoll above).
  [113, spec('busyPoll', 'Int32')],
]);
