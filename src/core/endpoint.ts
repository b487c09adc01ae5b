// Endpoint strings (`tcp://host:port`, `ipc://path`, `inproc://name`), parsed and checked once at the facade.
// Pure string work: no IO, no name resolution, no node: imports (runs in a browser).

import { describeValue, ZmqError } from './errors.js';

/** `inproc://name`: a name unique per Context; never leaves the process. */
export type InprocEndpoint = { transport: 'inproc'; name: string; address: string };

/**
 * `ipc://path` (a Unix domain socket) or `ipc://@name` (Linux abstract namespace).
 * `path` is the file path, or for an abstract socket the name without its `@`.
 * `ipc://*` (bind only) asks the transport to generate a temporary path: `wildcard` is true and `path` is `*`.
 */
export type IpcEndpoint = { transport: 'ipc'; path: string; abstract: boolean; wildcard?: boolean; address: string };

/**
 * `tcp://host:port`. `host` is `*` for all interfaces (bind only), an IPv4 address, an IPv6 address
 * without brackets (maybe with a zone id, `fe80::1%eth0`) or a host name. `port` 0 means ephemeral
 * (bind only): the transport picks one and reports it.
 */
export type TcpEndpoint = { transport: 'tcp'; host: string; port: number; ipv6: boolean; address: string };

/** A parsed endpoint. `address` is the normalised string, as `formatEndpoint` writes it. */
export type Endpoint = InprocEndpoint | IpcEndpoint | TcpEndpoint;

/** Whether the endpoint is about to be bound or connected: wildcards and ephemeral ports are for binding only. */
export type EndpointMode = 'bind' | 'connect';

const FORMS = 'expected tcp://host:port, ipc://path or inproc://name';

// ZeroMQ transports that libzmq knows (zmq_bind/zmq_connect manual pages) but monocoque does not speak.
const UNSUPPORTED = new Set(['pgm', 'epgm', 'norm', 'vmci', 'udp', 'ws', 'wss', 'tipc']);

// libzmq limits an inproc name to 255 bytes.
const INPROC_MAX_BYTES = 255;
// sockaddr_un.sun_path is 108 bytes on Linux, with room for the terminating NUL (libzmq ipc_address.cpp);
// for an abstract name the leading `@` stands for the leading NUL byte, so it counts too.
const IPC_MAX_BYTES = 107;

const PORT_RULE = 'an integer in 1..65535 (or * / 0 for an ephemeral port when binding)';
const HOST_RULE = 'a host name, an IPv4 address, a bracketed IPv6 address like [::1], or * when binding';

/**
 * Parses and validates a ZeroMQ endpoint. Throws a `ZmqError` whose message names the endpoint,
 * what is wrong with it and what would be accepted, with `address` set to the string given:
 * - `EINVAL`: not a string, malformed, or a wildcard / ephemeral port used to connect;
 * - `EPROTONOSUPPORT`: a transport monocoque does not speak: a ZeroMQ one (pgm, epgm, norm, vmci,
 *   udp, ws, wss, tipc), an unknown one, or tcp/ipc/inproc in upper case (libzmq's codes);
 * - `ENAMETOOLONG`: an inproc name over 255 bytes or an ipc path over 107 bytes (UTF-8);
 * - `ENOTSUP`: libzmq's source-address form `tcp://src:port;host:port`.
 *
 * ```ts
 * parseEndpoint('tcp://[::1]:5555', 'connect')
 * // { transport: 'tcp', host: '::1', port: 5555, ipv6: true, address: 'tcp://[::1]:5555' }
 * parseEndpoint('tcp://*:*', 'bind')
 * // { transport: 'tcp', host: '*', port: 0, ipv6: false, address: 'tcp://*:0' }
 * ```
 */
export function parseEndpoint(address: unknown, mode: EndpointMode): Endpoint {
  if (typeof address !== 'string') {
    throw new ZmqError('EINVAL', `endpoint must be a string like "tcp://127.0.0.1:5555", got ${describeValue(address)}`);
  }
  if (address === '') throw fail('EINVAL', address, `endpoint is empty; ${FORMS}`);
  if (address.trim() !== address) {
    throw fail('EINVAL', address, `has leading or trailing whitespace; ${FORMS}`);
  }
  const sep = address.indexOf('://');
  if (sep < 0) {
    const hint = /^[^/:]+:[0-9*]+$/.test(address) ? ` (did you mean "tcp://${address}"?)` : '';
    throw fail('EINVAL', address, `no transport ("://" is missing); ${FORMS}${hint}`);
  }
  const scheme = address.slice(0, sep);
  const rest = address.slice(sep + 3);
  if (scheme === '') throw fail('EINVAL', address, `no transport before "://"; ${FORMS}`);
  switch (scheme) {
    case 'tcp':
      return parseTcp(address, rest, mode);
    case 'ipc':
      return parseIpc(address, rest, mode);
    case 'inproc':
      return parseInproc(address, rest);
  }
  const lower = scheme.toLowerCase();
  if (UNSUPPORTED.has(lower)) {
    throw fail('EPROTONOSUPPORT', address, `transport "${scheme}" is not supported by monocoque; ${FORMS}`);
  }
  // libzmq (socket_base.cpp) answers EPROTONOSUPPORT for any scheme it does not know, and it
  // compares schemes exactly, so an upper-case one is unknown too: we say why.
  if (lower === 'tcp' || lower === 'ipc' || lower === 'inproc') {
    throw fail('EPROTONOSUPPORT', address, `transport "${scheme}" must be written in lower case ("${lower}://"); ${FORMS}`);
  }
  throw fail('EPROTONOSUPPORT', address, `unknown transport "${scheme}"; ${FORMS}`);
}

/**
 * The normalised string for an endpoint: lower-case scheme, decimal port (an ephemeral port as `0`),
 * IPv6 hosts in brackets, abstract ipc names with their `@`.
 */
export function formatEndpoint(ep: Endpoint): string {
  switch (ep.transport) {
    case 'inproc':
      return `inproc://${ep.name}`;
    case 'ipc':
      return ep.abstract ? `ipc://@${ep.path}` : `ipc://${ep.path}`;
    case 'tcp':
      return ep.ipv6 ? `tcp://[${ep.host}]:${ep.port}` : `tcp://${ep.host}:${ep.port}`;
  }
}

/** True when binding the endpoint picks its real address: a tcp port 0 (or `*`), or `ipc://*`. */
export function isEphemeral(ep: Endpoint): boolean {
  if (ep.transport === 'tcp') return ep.port === 0;
  if (ep.transport === 'ipc') return ep.wildcard === true;
  return false;
}

function parseInproc(address: string, name: string): InprocEndpoint {
  if (name === '') throw fail('EINVAL', address, 'inproc name is empty; expected inproc://name');
  const bytes = utf8Length(name);
  if (bytes > INPROC_MAX_BYTES) {
    throw fail('ENAMETOOLONG', address, `inproc name is ${bytes} bytes in UTF-8; at most ${INPROC_MAX_BYTES} are allowed`);
  }
  return { transport: 'inproc', name, address: `inproc://${name}` };
}

function parseIpc(address: string, path: string, mode: EndpointMode): IpcEndpoint {
  if (path === '') {
    throw fail('EINVAL', address, 'ipc path is empty; expected ipc://path, ipc://@name (abstract) or ipc://* when binding');
  }
  if (path === '*') {
    if (mode === 'connect') {
      throw fail('EINVAL', address,
        '"*" (generate a temporary path) is only valid when binding; connect to the path the binding socket reports');
    }
    return { transport: 'ipc', path: '*', abstract: false, wildcard: true, address: 'ipc://*' };
  }
  if (path.includes('\0')) throw fail('EINVAL', address, 'ipc path contains a NUL character');
  const abstract = path.startsWith('@');
  if (abstract && path.length === 1) {
    throw fail('EINVAL', address, 'abstract socket name after "@" is empty; expected ipc://@name');
  }
  const bytes = utf8Length(path);
  if (bytes > IPC_MAX_BYTES) {
    throw fail('ENAMETOOLONG', address,
      `ipc path is ${bytes} bytes in UTF-8; a Unix socket path holds at most ${IPC_MAX_BYTES} (sun_path)`);
  }
  const name = abstract ? path.slice(1) : path;
  return { transport: 'ipc', path: name, abstract, wildcard: false, address: `ipc://${path}` };
}

function parseTcp(address: string, rest: string, mode: EndpointMode): TcpEndpoint {
  if (rest === '') throw fail('EINVAL', address, `host and port are missing; expected tcp://host:port`);
  const semi = rest.indexOf(';');
  if (semi >= 0) {
    if (semi === rest.length - 1) throw fail('EINVAL', address, 'nothing follows ";": expected tcp://host:port');
    if (mode === 'connect') {
      throw fail('ENOTSUP', address,
        `a source address ("source;host:port") is not supported yet; connect to "tcp://${rest.slice(semi + 1)}" instead`);
    }
    throw fail('EINVAL', address, 'a source address ("source;host:port") only applies to connect; expected tcp://host:port');
  }

  let host: string;
  let port: string;
  let ipv6 = false;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw fail('EINVAL', address, 'IPv6 address is missing its closing "]"; expected tcp://[address]:port');
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after === '') throw fail('EINVAL', address, `port is missing; expected tcp://[${host}]:port`);
    if (!after.startsWith(':')) {
      throw fail('EINVAL', address, `unexpected "${after}" after "]"; expected tcp://[${host}]:port`);
    }
    port = after.slice(1);
    if (!isIPv6(host)) {
      throw fail('EINVAL', address,
        `"${host}" is not a valid IPv6 address; expected e.g. [::1], [2001:db8::5] or [fe80::1%eth0]`);
    }
    ipv6 = true;
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon < 0) throw fail('EINVAL', address, `port is missing; expected tcp://${rest}:port`);
    host = rest.slice(0, colon);
    port = rest.slice(colon + 1);
    if (host.includes(':')) {
      const fix = isIPv6(host) ? `; an IPv6 address goes in brackets: "tcp://[${host}]:${port}"` : `; expected ${HOST_RULE}`;
      throw fail('EINVAL', address, `host "${host}" is not valid${fix}`);
    }
    checkHost(address, host, mode);
  }
  const portNumber = parsePort(address, port, mode);
  const ep: TcpEndpoint = { transport: 'tcp', host, port: portNumber, ipv6, address: '' };
  ep.address = formatEndpoint(ep);
  return ep;
}

function checkHost(address: string, host: string, mode: EndpointMode): void {
  if (host === '') throw fail('EINVAL', address, `host is empty; expected ${HOST_RULE}`);
  if (host === '*') {
    if (mode === 'connect') {
      throw fail('EINVAL', address,
        'host "*" (all interfaces) is only valid when binding; connect needs a host name or address');
    }
    return;
  }
  // All digits and dots: an IPv4 address or nothing. getaddrinfo would read "2130706433" or "127.1" as
  // inet_aton shorthands for 127.0.0.1; we accept only the dotted quad, as inet_pton does.
  if (/^[0-9.]+$/.test(host)) {
    const problem = ipv4Problem(host);
    if (problem !== null) throw fail('EINVAL', address, `host "${host}" is not a valid IPv4 address: ${problem}`);
    return;
  }
  const problem = hostnameProblem(host);
  if (problem !== null) {
    throw fail('EINVAL', address, `host "${host}" is not a valid host name: ${problem}; expected ${HOST_RULE}`);
  }
}

function parsePort(address: string, port: string, mode: EndpointMode): number {
  let value: number;
  if (port === '*') value = 0;
  else if (/^[0-9]{1,5}$/.test(port) && Number(port) <= 65535) value = Number(port);
  else throw fail('EINVAL', address, `port "${port}" is not ${PORT_RULE}`);
  if (value === 0 && mode === 'connect') {
    throw fail('EINVAL', address,
      `port "${port}" (ephemeral) is only valid when binding; connect needs a port in 1..65535`);
  }
  return value;
}

/** Why `s` is not a dotted-quad IPv4 address, or null when it is one. */
function ipv4Problem(s: string): string | null {
  const octets = s.split('.');
  if (octets.length !== 4) return `expected four decimal octets like 192.168.1.10, found ${octets.length} parts`;
  for (const octet of octets) {
    if (octet === '') return 'an octet is empty';
    if (octet.length > 1 && octet.startsWith('0')) return `octet "${octet}" has a leading zero`;
    if (octet.length > 3 || Number(octet) > 255) return `octet "${octet}" is not in 0..255`;
  }
  return null;
}

function isIPv4(s: string): boolean {
  return /^[0-9.]+$/.test(s) && ipv4Problem(s) === null;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
// Interface names or numeric scope ids, as in fe80::1%eth0 (RFC 4007 §11); libzmq resolves them
// with if_nametoindex (ip_resolver.cpp).
const ZONE_ID = /^[A-Za-z0-9_.-]+$/;

/** RFC 4291 §2.2 text forms: eight hex groups, one `::` for a run of zero groups, an IPv4 tail; then `%zone`. */
function isIPv6(s: string): boolean {
  let addr = s;
  const pct = s.indexOf('%');
  if (pct >= 0) {
    if (!ZONE_ID.test(s.slice(pct + 1))) return false;
    addr = s.slice(0, pct);
  }
  const gap = addr.indexOf('::');
  let parts: string[];
  if (gap >= 0) {
    if (addr.indexOf('::', gap + 1) >= 0) return false;
    const head = addr.slice(0, gap);
    const tail = addr.slice(gap + 2);
    parts = head === '' ? [] : head.split(':');
    if (tail !== '') parts.push(...tail.split(':'));
    // An IPv4 tail must come last, so not just before a trailing "::".
    if (tail === '' && parts.length > 0 && parts[parts.length - 1].includes('.')) return false;
  } else {
    parts = addr.split(':');
  }
  let groups = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (HEX_GROUP.test(part)) groups += 1;
    else if (i === parts.length - 1 && isIPv4(part)) groups += 2;
    else return false;
  }
  return gap >= 0 ? groups <= 7 : groups === 8;
}

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

/** Why `s` is not an RFC 1123 host name (a trailing dot allowed), or null when it is one. */
function hostnameProblem(s: string): string | null {
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  if (name.length > 253) return `it is ${name.length} characters long; at most 253 are allowed`;
  for (const label of name.split('.')) {
    if (label === '') return 'it has an empty label (two dots in a row, or a leading dot)';
    if (label.length > 63) return `label "${label}" is ${label.length} characters long; at most 63 are allowed`;
    if (!LABEL.test(label)) return `label "${label}" may hold only letters, digits and "-" (not first or last)`;
  }
  return null;
}

/** UTF-8 length of a JS string, without encoding it; a lone surrogate counts as U+FFFD (3 bytes), as TextEncoder writes it. */
function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function fail(code: 'EINVAL' | 'EPROTONOSUPPORT' | 'ENAMETOOLONG' | 'ENOTSUP', address: string, why: string): ZmqError {
  return new ZmqError(code, `endpoint "${address}": ${why}`, { address });
}
