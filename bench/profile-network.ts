// CPU profiles of a network stream, ours (or zeromq.js) alone: a sending worker and a receiving
// worker (bench/child.ts) run under node --cpu-prof, stream `count` messages `rounds` times, and
// exit, leaving one .cpuprofile per process (and one per tsx loader thread, mostly idle) in the
// directory. PUSH -> PULL, or with --workload PUB -> `--peers` SUBs (`--topics` as in the
// pub-sub rows; `count` is what the PUB sends) or `--peers` DEALERs -> ROUTER (`count` per DEALER).
//
//   node --import tsx bench/profile-network.ts [--impl ours] [--transport tcp|ipc] [--size 16]
//        [--count 200000] [--rounds 5] [--dir /tmp/prof] [--one-process] [--batch 256]
//        [--workload push-pull|pub-sub|dealer-router] [--peers 10] [--topics 0]
//   node --import tsx bench/profile-summary.ts /tmp/prof/*.cpuprofile
//
// The profiles name the process in the file name Node gives them (CPU.<date>.<pid>...); the pids
// are printed here, receiver first.

import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Child, End, openEnd } from './lib/child.js';
import { ipcPath } from './lib/impl.js';

const { values: args } = parseArgs({
  options: {
    impl: { type: 'string', default: 'ours' },
    transport: { type: 'string', default: 'tcp' },
    size: { type: 'string', default: '16' },
    count: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '5' },
    dir: { type: 'string', default: '/tmp/prof' },
    'one-process': { type: 'boolean', default: false },
    batch: { type: 'string' },
    workload: { type: 'string', default: 'push-pull' },
    peers: { type: 'string', default: '1' },
    topics: { type: 'string', default: '0' },
  },
});

mkdirSync(args.dir, { recursive: true });
const launch = () => Child.launch({
  label: `${args.impl}:profiled`,
  script: new URL('./child.ts', import.meta.url),
  args: ['--impl', args.impl],
  nodeArgs: ['--expose-gc', '--cpu-prof', '--cpu-prof-interval', '100', `--cpu-prof-dir=${args.dir}`],
});
const a = await launch();
const b = args['one-process'] ? a : await launch();
const bind = args.transport === 'ipc' ? `ipc://${ipcPath('profile')}` : 'tcp://127.0.0.1:*';
const batch = args.batch === undefined ? undefined : Number(args.batch);
const peers = Number(args.peers);
const topics = Number(args.topics);
const roles = { 'push-pull': ['pull', 'push'], 'pub-sub': ['pub', 'subs'], 'dealer-router': ['router', 'dealers'] }[args.workload];
if (roles === undefined) throw new Error(`--workload must be push-pull, pub-sub or dealer-router, not ${args.workload}`);
const size = Number(args.size);
const [binder, connector] = roles as [string, string];
const bound: End = await openEnd(a.child, { role: binder, bind, batch, size, topics });
const connected: End = await openEnd(b.child, { role: connector, connect: bound.endpoint as string, size, batch, peers, topics });
const [pull, push] = args.workload === 'pub-sub' ? [connected, bound] : [bound, connected];
if (args.workload === 'pub-sub') {
  push.send({ cmd: 'sync-start' });
  await push.waitFor('syncing');
  pull.send({ cmd: 'synced' });
  await pull.waitFor('synced');
  push.send({ cmd: 'sync-stop' });
  await push.waitFor('sync-stopped');
}
console.log(`receiver pid ${String((args.workload === 'pub-sub' ? b : a).ready.pid)}, sender pid ${String((args.workload === 'pub-sub' ? a : b).ready.pid)}`);
const count = Number(args.count);
const expected = args.workload === 'pub-sub' ? (count * peers) / Math.max(1, topics) : args.workload === 'dealer-router' ? count * peers : count;
for (let r = 0; r < Number(args.rounds); r++) {
  pull.send({ cmd: 'expect', count: expected });
  await pull.waitFor('armed');
  push.send({ cmd: 'send', count });
  const done = await pull.waitFor('done');
  await push.waitFor('sent');
  console.log(`round ${r}: ${Math.round(done.rate as number)} msg/s, ${((done.bytesPerSecond as number) / 1e6).toFixed(0)} MB/s`);
}
await push.close();
await pull.close();
await Promise.all([a.child.close(), b.child.close()]);
