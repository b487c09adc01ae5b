// One run of one workload for bench/instructions.ts, which runs this under valgrind and counts
// the instructions: `--impl <this | zeromq | bare | dir of a build with its dist/> --workload
// <pp | rr> --count N`. The workloads are baseline-ab.ts's: inproc PUSH -> PULL of 16 bytes (each
// send awaited, one receive loop beside it) and the inproc REQ/REP round trip of 16 bytes. `bare`
// runs them over ceiling.ts's bare queues: the least a promise per message costs.

import { BareQueue } from './lib/ceiling.js';

interface Sender {
  send(m: Buffer): Promise<void>;
}
interface Receiver {
  receive(): Promise<unknown>;
}
interface Lib {
  Push: new () => Sender & { connect(a: string): void; close(): void };
  Pull: new () => Receiver & { bind(a: string): Promise<void>; close(): void };
  Request: new () => Sender & Receiver & { connect(a: string): void; close(): void };
  Reply: new () => Sender & Receiver & { bind(a: string): Promise<void>; send(m: unknown): Promise<void>; close(): void };
}

const payload = Buffer.alloc(16, 0x61);

function flag(name: string): string {
  const at = process.argv.indexOf(`--${name}`);
  const value = at < 0 ? undefined : process.argv[at + 1];
  if (value === undefined) throw new Error(`instructions-child: --${name} is missing`);
  return value;
}

async function pushPull(push: Sender, pull: Receiver, n: number): Promise<void> {
  const received = (async () => {
    for (let i = 0; i < n; i++) await pull.receive();
  })();
  for (let i = 0; i < n; i++) await push.send(payload);
  await received;
}

async function roundTrips(req: Sender & Receiver, rep: Receiver & { send(m: unknown): Promise<void> }, n: number): Promise<void> {
  const served = (async () => {
    for (let i = 0; i < n; i++) await rep.send(await rep.receive());
  })();
  for (let i = 0; i < n; i++) {
    await req.send(payload);
    await req.receive();
  }
  await served;
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
  const lib = (impl === 'zeromq'
    ? await import('zeromq')
    : await import(impl === 'this' ? new URL('../dist/src/index.js', import.meta.url).href : `${impl}/dist/src/index.js`)) as unknown as Lib;
  if (workload === 'pp') {
    const pull = new lib.Pull();
    await pull.bind('inproc://instructions-pp');
    const push = new lib.Push();
    push.connect('inproc://instructions-pp');
    await pushPull(push, pull, n);
    push.close();
    pull.close();
  } else {
    const rep = new lib.Reply();
    await rep.bind('inproc://instructions-rr');
    const req = new lib.Request();
    req.connect('inproc://instructions-rr');
    await roundTrips(req, rep, n);
    req.close();
    rep.close();
  }
}

await main();
// zeromq.js's context can hold the process open after its sockets close.
process.exit(0);
