// One run of one workload for bench/instructions.ts, which runs this under valgrind and counts
// the instructions: `--impl <this | zeromq | bare | dir of a build with its dist/> --workload
// <pp | rr> --count N`. The workloads are bench/lib/ab-workloads.ts's, as baseline-ab.ts times
// them; `bare` runs them over ceiling.ts's bare queues: the least a promise per message costs.

import { linked, loadBuild, pushPull, roundTrips } from './lib/ab-workloads.js';
import { BareQueue } from './lib/ceiling.js';

function flag(name: string): string {
  const at = process.argv.indexOf(`--${name}`);
  const value = at < 0 ? undefined : process.argv[at + 1];
  if (value === undefined) throw new Error(`instructions-child: --${name} is missing`);
  return value;
}

async function main(): Promise<void> {
  const impl = flag('impl');
  const workload = flag('workload');
  const n = Number(flag('count'));
  if (workload !== 'pp' && workload !== 'rr') throw new Error(`instructions-child: --workload is pp or rr, not ${workload}`);
  if (impl === 'bare') {
    const to = new BareQueue<Buffer[]>();
    const back = new BareQueue<Buffer[]>();
    // Each message is an array of one frame, as a socket's are.
    const end = (out: BareQueue<Buffer[]>, into: BareQueue<Buffer[]>) => ({
      send: (m: unknown) => out.send(Array.isArray(m) ? (m as Buffer[]) : [m as Buffer]),
      receive: () => into.receive(),
    });
    if (workload === 'pp') await pushPull(end(to, back), end(back, to), n);
    else await roundTrips(end(to, back), end(back, to), n);
    return;
  }
  const lib = await loadBuild(impl);
  if (workload === 'pp') {
    const [pull, push] = await linked(new lib.Pull(), new lib.Push(), 'inproc://instructions-pp');
    await pushPull(push, pull, n);
    push.close();
    pull.close();
  } else {
    const [rep, req] = await linked(new lib.Reply(), new lib.Request(), 'inproc://instructions-rr');
    await roundTrips(req, rep, n);
    req.close();
    rep.close();
  }
}

await main();
// zeromq.js's context can hold the process open after its sockets close.
process.exit(0);
