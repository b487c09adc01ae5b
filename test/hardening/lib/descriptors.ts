// What this process holds open, read from /proc (Linux): the inode of one loopback tcp connection
// and whether a file descriptor still points at it. Lets a test see that a refused connection's
// descriptor was released, not only that the peer saw a close.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Whether /proc describes this process's sockets (Linux). */
export const canSeeDescriptors = process.platform === 'linux';

/**
 * The inode of the tcp socket from `localPort` to `remotePort` on 127.0.0.1, from /proc/net/tcp, or
 * undefined when there is none (yet). A connection still in the kernel's accept queue has inode 0.
 */
export function socketInode(localPort: number, remotePort: number): string | undefined {
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const local = parseInt(cols[1].split(':')[1], 16);
    const remote = parseInt(cols[2].split(':')[1], 16);
    if (local === localPort && remote === remotePort && cols[9] !== '0') return cols[9];
  }
  return undefined;
}

/** Whether this process holds a file descriptor for the socket with that inode. */
export function holdsDescriptor(inode: string): boolean {
  const target = `socket:[${inode}]`;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === target) return true;
    } catch {
      // closed while we looked
    }
  }
  return false;
}

/** Open file descriptors of this process. */
export function descriptorCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/**
 * Resolves once no descriptor of this process points at `inode`. The peer sees our FIN when we
 * shut down or close; node closes the descriptor in the same turn as a destroy, but a graceful end
 * (an ERROR's last words) closes it only after the peer's FIN comes back: so look again each time
 * the loop has gone round, rather than once. Bounded by the test's timeout, never by a clock here.
 */
export async function released(inode: string): Promise<void> {
  while (holdsDescriptor(inode)) await new Promise((r) => setTimeout(r, 5));
}

/**
 * The kernel's send and receive queues of every tcp socket on this host, keyed `local>remote` by
 * port (octets not yet acknowledged by the peer, octets not yet read by the owner), from /proc/net/tcp.
 */
export function tcpQueues(): Map<string, { tx: number; rx: number }> {
  const out = new Map<string, { tx: number; rx: number }>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const local = parseInt(cols[1].split(':')[1], 16);
    const remote = parseInt(cols[2].split(':')[1], 16);
    const [tx, rx] = cols[4].split(':').map((h) => parseInt(h, 16));
    out.set(`${local}>${remote}`, { tx, rx });
  }
  return out;
}
