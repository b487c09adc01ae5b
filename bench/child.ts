// A benchmark worker process: one implementation, kept for the whole run, opening and closing the
// ends of one benchmark after another on JSON-line commands from the parent (lib/child.ts) and
// reporting JSON-line events. An end is the sockets of one role; a worker may hold both ends of a
// benchmark (the "one process" placement) or one of them (the other is in a second worker).
//
//   node --expose-gc --import tsx bench/child.ts --impl ours|zeromq|node
//
// Commands (every one but `usage` names its end by the id `opened` gave):
//   open {role, bind | connect, size?, peers?, topics?, busyPoll?, batch?} -> opened {end, endpoint}
//   close {end} -> closed                       closes the end's sockets (no forced GC: see close)
//   expect {end, count} -> armed, then done      receive `count` messages over all the end's
//                                                sockets; rate from the first to the last
//   send {end, count} -> sent                    each socket of the end sends `count` messages
//   rtt {end, count} -> done                     `count` round trips shared by the end's sockets
//   sync-start / sync-stop {end} -> syncing / sync-stopped    a publisher's sync messages
//   synced {end} -> synced                       every subscriber of the end has had one
//   usage -> usage                               CPU time of the process, event-loop busy/idle
//
// Roles (ours, zeromq): pull, router (receive); push, dealers (send; dealers also rtt); pub, subs
// (fan-out: the publisher's HWM and the subscribers' are 0, unlimited, so nothing is dropped and a
// round ends when everything is delivered); rep, pair-echo, router-echo (echo for ever); req, pair
// (rtt). Role node (no ZeroMQ): sink and source (a pre-framed node:net stream, ceiling.ts) and
// pair-echo, pair (a framed node:net echo, node-net.ts). `peers` is how many sockets (or
// connections) a connecting end opens; `topics` how publishers and subscribers split topics
// (workloads.ts); `batch` makes push and pull use our sendMany/receiveMany (issue 15 item 3).

import { parseArgs } from 'node:util';
import { NetStreamEnd } from './lib/ceiling.js';
import { emit, fail, runChild, serveCommands, usage } from './lib/child-io.js';
import type { Command, Handlers } from './lib/child-io.js';
import { loadImpl } from './lib/impl.js';
import type { BenchSocket, Impl, ImplName, SocketTypeName } from './lib/impl.js';
import { awaitSync, batchApi, publish, publishSync, receiveAll, receiveBatched, roundTrips, sendAll, sendBatched, subscribe, topicPayloads } from './lib/workloads.js';
import type { BatchSocket } from './lib/workloads.js';

const TYPES: Record<string, SocketTypeName> = {
  pull: 'Pull', push: 'Push', router: 'Router', dealers: 'Dealer', pub: 'Publisher', subs: 'Subscriber',
  rep: 'Reply', 'pair-echo': 'Pair', 'router-echo': 'Router', req: 'Request', pair: 'Pair',
};
const ECHO = new Set(['rep', 'pair-echo', 'router-echo']);
const NODE_ROLES = new Set(['sink', 'source', 'pair-echo', 'pair']);

interface End {
  role: string;
  sockets: BenchSocket[];
  /** The node:net stream of a `sink` or `source`. */
  net?: NetStreamEnd;
  peers: number;
  payload: Buffer;
  /** A publisher's payloads, one per topic. */
  payloads: Buffer[];
  batch: number;
  sync?: { stop(): Promise<void> };
  closing: boolean;
}

const { values: args } = parseArgs({ options: { impl: { type: 'string' } } });

let impl: Impl;
const ends = new Map<number, End>();
let nextEnd = 1;

function endOf(c: Command): End {
  const e = ends.get(c.end as number);
  if (e === undefined) throw new Error(`no end ${String(c.end)} in this worker (command ${JSON.stringify(c)})`);
  return e;
}

function batchOf(e: End): BatchSocket {
  const b = batchApi(e.sockets[0] as BenchSocket);
  if (b === undefined) throw Object.assign(new Error(`${impl.name} sockets have no sendMany/receiveMany`), { code: 'ENOTSUP' });
  return b;
}

/** A command's work on an end: an error while the end is closing (a receive cut short) is expected. */
async function on(e: End, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (!e.closing) throw err;
  }
}

/** Sockets connecting at once, at most, and the pause between such waves (see `waves` in `open`). */
const WAVE = 50;
const WAVE_PAUSE_MS = 10;

async function open(c: Command): Promise<void> {
  const role = String(c.role);
  const size = Number(c.size ?? 16);
  const peers = Number(c.peers ?? 1);
  const topics = Number(c.topics ?? 0);
  const end: End = {
    role, sockets: [], peers, payload: Buffer.alloc(size, 0x61), payloads: topicPayloads(size, Math.max(1, topics)),
    batch: Number(c.batch ?? 0), closing: false,
  };
  const bind = c.bind as string | undefined;
  const connect = c.connect as string | undefined;
  let endpoint: string | null = null;
  if (role === 'sink' || role === 'source') {
    if (impl.name !== 'node') throw new Error(`role ${role} is the node:net ceiling; use --impl node`);
    const net = new NetStreamEnd(size);
    if (bind !== undefined) await net.bind(bind);
    else await net.connect(connect as string, peers);
    end.net = net;
    endpoint = net.lastEndpoint;
  } else {
    if (impl.name === 'node' && !NODE_ROLES.has(role)) throw new Error(`impl node has no role ${role}`);
    const type = TYPES[role];
    if (type === undefined) throw new Error(`role must be one of ${[...Object.keys(TYPES), 'sink', 'source'].join(', ')}, not ${role}`);
    const Class = impl[type];
    if (Class === undefined) throw Object.assign(new Error(`${impl.name} does not export ${type}`), { code: 'ENOTSUP' });
    const count = bind !== undefined ? 1 : peers;
    // Many peers over tcp or ipc connect in waves: all at once they overflow the listen backlog
    // (libzmq's ZMQ_BACKLOG is 100) and the kernel's SYN retries stretch the set-up to half a
    // minute. (Waiting for each 'connect' event would be surer, but 1,000 zeromq.js monitors pass
    // libzmq's 1,023 sockets per context.) Set-up is not timed; this only shortens it.
    const waves = connect !== undefined && !connect.startsWith('inproc:') && count > WAVE;
    for (let i = 0; i < count; i++) {
      const s = new Class();
      s.linger = 0;
      if (role === 'pub') s.sendHighWaterMark = 0;
      if (role === 'subs') s.receiveHighWaterMark = 0;
      if (c.busyPoll !== undefined) {
        if (impl.name !== 'ours') throw new Error(`busyPoll is our option; ${impl.name} has none`);
        (s as BenchSocket & { busyPoll: number }).busyPoll = Number(c.busyPoll);
      }
      if (bind !== undefined) await s.bind(bind);
      else s.connect(connect as string);
      end.sockets.push(s);
      if (waves && i % WAVE === WAVE - 1) await new Promise((resolve) => setTimeout(resolve, WAVE_PAUSE_MS));
    }
    if (role === 'subs') subscribe(end.sockets, topics);
    endpoint = (end.sockets[0] as BenchSocket).lastEndpoint;
    if (end.batch > 0) batchOf(end);
    if (ECHO.has(role)) {
      const s = end.sockets[0] as BenchSocket;
      void on(end, async () => {
        for (;;) await s.send(await s.receive());
      }).catch(fail);
    }
  }
  const id = nextEnd++;
  ends.set(id, end);
  emit('opened', { end: id, endpoint });
}

const handlers: Handlers = {
  open,
  usage,
  async close(c) {
    const e = endOf(c);
    e.closing = true;
    await e.sync?.stop();
    for (const s of e.sockets) s.close();
    e.net?.close();
    ends.delete(c.end as number);
    // Let the closes finish. No forced full GC here: a forced (memory-reducing) collection in a
    // worker that had run a sender and a receiver left our next rows 1.5x to 1.8x slower in CPU per
    // message for the rest of its life (bench/forced-gc-probe.ts shows it). The collections a
    // process makes on its own do not do that, and a user's process does not force them.
    await new Promise((resolve) => setTimeout(resolve, 20));
    emit('closed', { end: c.end });
  },
  async expect(c) {
    const e = endOf(c);
    const count = Number(c.count);
    emit('armed');
    await on(e, async () => {
      if (e.net !== undefined) {
        emit('done', { count, ...(await e.net.expect(count)) });
        return;
      }
      const r = e.batch > 0 ? await receiveBatched(batchOf(e), count, e.batch) : await receiveAll(e.sockets, count, e.role === 'subs');
      emit('done', { ...r });
    });
  },
  async send(c) {
    const e = endOf(c);
    const count = Number(c.count);
    await on(e, async () => {
      if (e.net !== undefined) await e.net.send(count, e.peers);
      else if (e.role === 'pub') await publish(e.sockets[0] as BenchSocket, count, e.payloads);
      else if (e.batch > 0) await sendBatched(batchOf(e), count, e.payload, e.batch);
      else await sendAll(e.sockets, count, e.payload);
      emit('sent', { count });
    });
  },
  async rtt(c) {
    const e = endOf(c);
    await on(e, async () => emit('done', { ...(await roundTrips(e.sockets, Number(c.count), e.payload)) }));
  },
  async 'sync-start'(c) {
    const e = endOf(c);
    e.sync = publishSync(e.sockets[0] as BenchSocket, e.payloads.length);
    emit('syncing');
  },
  async 'sync-stop'(c) {
    const e = endOf(c);
    await e.sync?.stop();
    e.sync = undefined;
    emit('sync-stopped');
  },
  async synced(c) {
    const e = endOf(c);
    await on(e, async () => {
      await awaitSync(e.sockets);
      emit('synced');
    });
  },
};

async function main(): Promise<void> {
  const name = args.impl as ImplName;
  if (name !== 'ours' && name !== 'zeromq' && name !== 'node') throw new Error(`--impl must be ours, zeromq or node, not ${String(args.impl)}`);
  impl = await loadImpl(name);
  emit('ready', { pid: process.pid });
  await serveCommands(handlers, { concurrent: true });
  for (const e of ends.values()) {
    e.closing = true;
    for (const s of e.sockets) s.close();
    e.net?.close();
  }
}

runChild(main);
