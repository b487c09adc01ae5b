// A benchmark child process: the sockets of one role (one socket, or --peers DEALERs) of one
// implementation, driven by JSON-line commands on stdin, reporting
// JSON-line events on stdout (see lib/child.ts). Exits when stdin ends.
//
//   node --import tsx bench/child.ts --impl ours|zeromq|node
//        --role pull|push|rep|req|pair-echo|pair|router-echo|dealers
//        [--bind tcp://127.0.0.1:*] [--connect tcp://127.0.0.1:5555] [--size 16] [--busy-poll µs] [--peers 8]
//
// Roles: pull binds or connects and, on {"cmd":"expect","count":N}, says "armed", receives N
// messages and reports "done" with the rate measured from its first message to its last; push
// sends N messages on {"cmd":"send","count":N} and reports "sent"; rep, pair-echo and router-echo
// echo for ever; req and pair, on {"cmd":"rtt","count":N}, make N round trips and report the
// median in µs; dealers opens `--peers` DEALERs and, on {"cmd":"rtt","count":N}, each of them makes
// N / peers round trips at the same time (send, await the echo, repeat), reported as the median of
// all of them and the rate of the whole. Any role answers {"cmd":"usage"} with the CPU time the
// whole process (all its threads) has used, in µs, and its event loop's busy and idle time, in ms.

import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { medianOf } from './lib/benchmark.js';
import { emit, fail, runChild, serveCommands, streamHandlers } from './lib/child-io.js';
import type { Handlers } from './lib/child-io.js';
import { loadImpl } from './lib/impl.js';
import type { BenchSocket, ImplName, SocketTypeName } from './lib/impl.js';


const { values: args } = parseArgs({
  options: {
    impl: { type: 'string' },
    role: { type: 'string' },
    bind: { type: 'string' },
    connect: { type: 'string' },
    size: { type: 'string', default: '16' },
    'busy-poll': { type: 'string' },
    peers: { type: 'string', default: '1' },
  },
});

async function main(): Promise<void> {
  const implName = args.impl as ImplName;
  if (implName !== 'ours' && implName !== 'zeromq' && implName !== 'node') throw new Error(`--impl must be ours, zeromq or node, not ${String(args.impl)}`);
  const impl = await loadImpl(implName);
  const role = args.role;
  const size = Number(args.size);
  const types: Record<string, SocketTypeName> = {
    pull: 'Pull', push: 'Push', rep: 'Reply', req: 'Request', 'pair-echo': 'Pair', pair: 'Pair', 'router-echo': 'Router', dealers: 'Dealer',
  };
  const type = types[String(role)];
  if (type === undefined) throw new Error(`--role must be one of ${Object.keys(types).join(', ')}, not ${String(role)}`);
  const Class = impl[type];
  if (Class === undefined) throw Object.assign(new Error(`${impl.name} does not export ${type}`), { code: 'ENOTSUP' });
  const peers = role === 'dealers' ? Number(args.peers) : 1;
  if (!Number.isInteger(peers) || peers < 1) throw new Error(`--peers must be a positive integer, not ${String(args.peers)}`);
  const sockets: BenchSocket[] = [];
  for (let i = 0; i < peers; i++) {
    const s = new Class();
    if (args['busy-poll'] !== undefined) {
      if (implName !== 'ours') throw new Error(`--busy-poll is our option; ${implName} has none`);
      (s as BenchSocket & { busyPoll: number }).busyPoll = Number(args['busy-poll']);
    }
    if (args.bind !== undefined) await s.bind(args.bind);
    if (args.connect !== undefined) s.connect(args.connect);
    sockets.push(s);
  }
  const socket = sockets[0] as BenchSocket;
  emit('ready', { endpoint: socket.lastEndpoint, pid: process.pid });

  const payload = Buffer.alloc(size, 0x61);
  let closing = false;
  if (role === 'rep' || role === 'pair-echo' || role === 'router-echo') {
    void (async () => {
      try {
        for (;;) await socket.send(await socket.receive());
      } catch (e) {
        if (!closing) fail(e);
      }
    })();
  }

  const handlers: Handlers = {
    ...streamHandlers(() => socket, payload),
    async rtt({ count = 0 }) {
      // One untimed trip per socket: every connection is up before timing starts.
      await Promise.all(sockets.map(async (s) => {
        await s.send(payload);
        await s.receive();
      }));
      const each = Math.max(1, Math.round(count / sockets.length));
      const samples = new Float64Array(each * sockets.length);
      const t0 = performance.now();
      await Promise.all(sockets.map(async (s, k) => {
        for (let i = k * each, end = i + each; i < end; i++) {
          const t = performance.now();
          await s.send(payload);
          await s.receive();
          samples[i] = performance.now() - t;
        }
      }));
      const total = performance.now() - t0;
      emit('done', {
        count: samples.length,
        medianMicros: medianOf(samples) * 1000,
        meanMicros: (total / samples.length) * 1000 * sockets.length,
        rate: samples.length / (total / 1000),
      });
    },
  };

  await serveCommands(handlers);
  closing = true;
  for (const s of sockets) s.close();
}

runChild(main);
