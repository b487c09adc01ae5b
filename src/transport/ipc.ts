// The ipc transport: ZMTP 3.1 over Unix domain streams. Paths (a stale socket file left by a dead
// process is replaced, as libzmq does, but a live one is EADDRINUSE), Linux abstract names
// (`ipc://@name`) and `ipc://*` (a generated path). The stream itself is handled as tcp's.

import { lstat, mkdtemp, rm, stat, unlink } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import type { Server, Socket as NetSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Endpoint, IpcEndpoint } from '../core/endpoint.js';
import { ZmqError } from '../core/errors.js';
import type { PeerHost, Transport } from './host.js';
import type { TransportContext } from './registry.js';
import { listenError, netTransport } from './net-transport.js';
import type { Listening, StreamSpec } from './net-transport.js';

/**
 * The node:net path of an ipc endpoint: a leading NUL selects Linux's abstract namespace. libuv
 * before 1.48 (Node 20) binds and dials such a name NUL-padded to the whole sun_path, so it only
 * meets sockets made the same way, not libzmq's (README, "Over the network").
 */
function netPath(ep: IpcEndpoint): string {
  return ep.abstract ? `\0${ep.path}` : ep.path;
}

function listenOn(server: Server, path: string, backlog: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path, backlog }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Whether something accepts connections at `path` (a live socket), or refuses them (a stale file). */
function probe(path: string): Promise<'live' | 'stale'> {
  return new Promise((resolve) => {
    const s = netConnect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve('live');
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      s.destroy();
      resolve(e.code === 'ECONNREFUSED' ? 'stale' : 'live');
    });
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function isSocketFile(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSocket();
  } catch {
    return false;
  }
}

const ipcSpec: StreamSpec = {
  kind: 'ipc',
  // A Unix socket connect completes or fails at once (libzmq reports no connect:delay for ipc).
  delayedConnect: false,

  async listen(socket: PeerHost, endpoint: Endpoint): Promise<Listening> {
    const ep = endpoint as IpcEndpoint;
    const backlog = socket.options.backlog;
    const server = createServer({ noDelay: true } as never);
    if (ep.wildcard === true) {
      // libzmq makes a fresh directory under the temp dir for `ipc://*`.
      const dir = await mkdtemp(join(tmpdir(), 'monocoque-'));
      const path = join(dir, 'socket');
      try {
        await listenOn(server, path, backlog);
      } catch (e) {
        await rm(dir, { recursive: true, force: true });
        throw listenError(e as NodeJS.ErrnoException, ep.address, path);
      }
      return { server, address: `ipc://${path}`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    }
    const path = netPath(ep);
    const what = ep.abstract ? `abstract name "@${ep.path}"` : `path "${ep.path}"`;
    try {
      await listenOn(server, path, backlog);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EACCES' && !ep.abstract && !(await exists(dirname(path)))) {
        // libuv reports a missing directory as EACCES (uv_pipe_bind); libzmq says ENOENT.
        throw new ZmqError('ENOENT', `bind("${ep.address}"): cannot listen on ${what}: directory "${dirname(path)}" does not exist`,
          { address: ep.address, cause: err });
      }
      // A socket file that refuses connections was left by a process that died: replace it.
      if (err.code !== 'EADDRINUSE' || ep.abstract || !(await isSocketFile(path)) || (await probe(path)) === 'live') {
        throw listenError(err, ep.address, what);
      }
      try {
        await unlink(path);
        await listenOn(server, path, backlog);
      } catch (e2) {
        throw listenError(e2 as NodeJS.ErrnoException, ep.address, what);
      }
    }
    // libuv unlinks the socket file when the listening handle closes.
    return { server, address: ep.address };
  },

  dial(_socket: PeerHost, endpoint: Endpoint): NetSocket {
    return netConnect({ path: netPath(endpoint as IpcEndpoint) });
  },

  remoteAddress(_stream: NetSocket, endpoint: string): string | undefined {
    return endpoint;
  },
};

/** @internal The ipc transport of one Context. */
export function ipcTransport(context: TransportContext): Transport {
  if (process.platform === 'win32') {
    throw new ZmqError('EPROTONOSUPPORT', 'the ipc transport needs Unix domain sockets, which this platform lacks here');
  }
  return netTransport(context, ipcSpec);
}
