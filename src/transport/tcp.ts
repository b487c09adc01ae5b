// The tcp transport: ZMTP 3.1 over node:net TCP streams. Resolves bind addresses (`*`, interface and host names,
// IPv6 in brackets, ephemeral ports) and dials; everything after the stream opens is shared with ipc
// (net-transport.ts, stream-engine.ts).

import { lookup } from 'node:dns/promises';
import { BlockList, connect as netConnect, createServer, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import type { Endpoint, TcpEndpoint } from '../core/endpoint.js';
import { ZmqError } from '../core/errors.js';
import { acceptFilterParts, acceptFiltersOf } from '../core/options.js';
import type { PeerHost, Transport } from './host.js';
import type { TransportContext } from './registry.js';
import { listenError, netTransport } from './net-transport.js';
import type { Listening, StreamSpec } from './net-transport.js';

/** `tcp://host:port`, with IPv6 hosts in brackets, as libzmq writes its last endpoint. */
function tcpAddress(host: string, port: number): string {
  return host.includes(':') ? `tcp://[${host}]:${port}` : `tcp://${host}:${port}`;
}

/** The address to listen on: `*` is every IPv4 interface (every interface, dual stack, with ipv6), a name is resolved. */
async function bindHost(socket: PeerHost, ep: TcpEndpoint): Promise<string> {
  if (ep.host === '*') return socket.options.ipv6 ? '::' : '0.0.0.0';
  const family = isIP(ep.host);
  if (family === 6 && !socket.options.ipv6) {
    // libzmq resolves bind addresses as IPv4 only unless ZMQ_IPV6 is set, and fails with ENODEV.
    throw new ZmqError('ENODEV', `bind("${ep.address}"): ${ep.host} is an IPv6 address; set ipv6: true (ZMQ_IPV6) to bind it`, {
      address: ep.address,
    });
  }
  if (family !== 0) return ep.host;
  // A network interface's name (`tcp://eth0:*`) is its first IPv4 address, or its first IPv6
  // address with ZMQ_IPV6 (a link-local one with its scope, `fe80::1%eth0`), as libzmq's
  // `ip_resolver.cpp resolve_nic_name` picks it; else, as there, the name is looked up as a host.
  const interfaces = networkInterfaces();
  const nic = Object.hasOwn(interfaces, ep.host) ? interfaces[ep.host] : undefined;
  const wanted = socket.options.ipv6 ? 'IPv6' : 'IPv4';
  const own = nic?.find((a) => a.family === wanted);
  if (own !== undefined) return own.family === 'IPv6' && own.scopeid ? `${own.address}%${ep.host}` : own.address;
  try {
    // A host name, IPv4 only unless ZMQ_IPV6 (tcp_address.cpp).
    const found = await lookup(ep.host, { family: socket.options.ipv6 ? 0 : 4 });
    return found.address;
  } catch (e) {
    // libzmq's code for an interface or host it cannot bind to.
    const why = nic !== undefined
      ? `interface ${ep.host} has no ${wanted} address${socket.options.ipv6 ? '' : ' (set ipv6: true for an IPv6 one)'}`
      : `"${ep.host}" is neither a network interface of this machine (${Object.keys(interfaces).join(', ')}) nor a host name that resolves`;
    throw new ZmqError('ENODEV', `bind("${ep.address}"): ${why}`, { address: ep.address, cause: e });
  }
}

/** The keep-alive options, read loosely: a socket type may lack them (-1 then, libzmq's "OS default"). */
interface KeepaliveOptions {
  tcpKeepalive?: number;
  tcpKeepaliveIdle?: number;
}

/**
 * ZMQ_TCP_KEEPALIVE (-1 leaves the OS default, 0 off, 1 on) and ZMQ_TCP_KEEPALIVE_IDLE (seconds
 * before the first probe; -1 leaves the OS default), applied to an open stream as libzmq's
 * `tcp.cpp tune_tcp_keepalives` does, through node:net. ZMQ_TCP_KEEPALIVE_CNT and _INTVL have no
 * node:net counterpart: with an idle time given, libuv sets its own (probes 1 s apart, 10 of them,
 * on Linux); without one, the OS's stay. So those two are read back but take no effect.
 */
function applyKeepalive(socket: PeerHost, stream: NetSocket): void {
  const o = socket.options as Readonly<KeepaliveOptions>;
  const on = o.tcpKeepalive ?? -1;
  if (on === 1) {
    const idle = o.tcpKeepaliveIdle ?? -1;
    // node:net takes ms and keeps whole seconds; 0 leaves the OS's idle time (and probe count and
    // interval) as they are, on a stream that is open.
    stream.setKeepAlive(true, idle > 0 ? idle * 1000 : 0);
  } else if (on === 0) {
    stream.setKeepAlive(false);
  }
}

/**
 * ZMQ_TCP_ACCEPT_FILTER: with filters set, a tcp bind takes a stream only from an address one of
 * them matches (libzmq `tcp_listener.cpp accept`), and closes the others at once. The filters are
 * the socket's when it binds, as libzmq's listener copies the options then. Matched by node:net's
 * BlockList, as an allow list: an IPv4 filter also matches the IPv4-mapped form (`::ffff:a.b.c.d`)
 * a dual-stack bind (ipv6 on) sees, so a filter means the same whether ipv6 is on or off.
 */
function acceptFilter(socket: PeerHost): ((stream: NetSocket) => string | undefined) | undefined {
  const filters = acceptFiltersOf(socket.options);
  if (filters.length === 0) return undefined;
  const allowed = new BlockList();
  for (const filter of filters) {
    const parts = acceptFilterParts(filter) as NonNullable<ReturnType<typeof acceptFilterParts>>; // checked when set
    allowed.addSubnet(parts.address, parts.prefix, parts.family);
  }
  const listed = filters.map((f) => `"${f}"`).join(', ');
  return (stream) => {
    const host = stream.remoteAddress;
    if (host !== undefined && allowed.check(host, isIP(host) === 6 ? 'ipv6' : 'ipv4')) return undefined;
    return `a tcp connection from ${host ?? 'an unknown address'} matches no tcpAcceptFilter (${listed}), so it was closed`;
  };
}

const tcpSpec: StreamSpec = {
  kind: 'tcp',
  delayedConnect: true,

  async listen(socket: PeerHost, endpoint: Endpoint): Promise<Listening> {
    const ep = endpoint as TcpEndpoint;
    const host = await bindHost(socket, ep);
    const server = createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException): void =>
        reject(listenError(e, ep.address, `port ${ep.port === 0 ? '(ephemeral)' : ep.port} on ${host}`));
      server.once('error', onError);
      server.listen({ host, port: ep.port, backlog: socket.options.backlog }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    const a = server.address() as AddressInfo;
    return { server, address: tcpAddress(a.address, a.port) };
  },

  dial(_socket: PeerHost, endpoint: Endpoint): NetSocket {
    const ep = endpoint as TcpEndpoint;
    return netConnect({ host: ep.host, port: ep.port, noDelay: true });
  },

  remoteAddress(stream: NetSocket): string | undefined {
    const host = stream.remoteAddress;
    if (host === undefined) return undefined;
    return host.includes(':') ? `[${host}]:${stream.remotePort}` : `${host}:${stream.remotePort}`;
  },

  configure: applyKeepalive,
  gate: acceptFilter,
};

/** @internal The tcp transport of one Context. */
export function tcpTransport(context: TransportContext): Transport {
  const transport = netTransport(context, tcpSpec);
  const connect = transport.connect.bind(transport);
  // ZMQ_SOCKS_PROXY: monocoque has no SOCKS client, and going direct instead would show the peer
  // the address the proxy was set to hide.
  transport.connect = (socket: PeerHost, ep: Endpoint) => {
    const proxy = (socket.options as Readonly<{ socksProxy?: string | null }>).socksProxy;
    if (proxy !== null && proxy !== undefined) {
      throw new ZmqError('ENOTSUP', `connect("${ep.address}"): socksProxy is set (${proxy}), and monocoque has no SOCKS client; set socksProxy to null to connect directly`, { address: ep.address });
    }
    return connect(socket, ep);
  };
  return transport;
}
