// Churn runs: many short lives in one process, then a look at what is left. Used short by
// churn.test.ts and long by scripts/reliability.ts.
//
//   connect churn, one cycle:  new Request ──connect──▶ Reply (bound once, same process)
//                              handshake, "ping" ──▶ "ping" ◀──, close, wait until released
//                              (tcp, ipc: and until the Reply reports the connection gone)
//   create churn, one cycle:   new <type> (every socket type in turn), close, wait until released
//
// Each run warms up first (code compiled, pools and tables at their working size), measures, runs its
// cycles, and measures again (probes.ts): what grew is the report. Every step waits on the event
// that must come (a reply, a release, a `disconnect`), never on time.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  Context, Dealer, Pair, Publisher, Pull, Push, Reply, Request, Router, Subscriber, XPublisher, XSubscriber,
} from '../../src/index.js';
import { ActorCensus, Finalizations, growth, measure, settleHeap } from './probes.js';
import type { Resources } from './probes.js';

export type ChurnTransport = 'tcp' | 'ipc' | 'inproc';

export interface ChurnReport {
  what: string;
  cycles: number;
  warmup: number;
  before: Resources;
  after: Resources;
  growth: ReturnType<typeof growth>;
  /** Heap growth over the run per cycle, in bytes. */
  heapPerCycle: number;
  /** The heap (after a full collection) at evenly spaced points of the run: flat, or climbing? */
  heapSamples: { cycles: number; heap: number }[];
  /** Sockets of the measured cycles watched (evenly spaced, at most 100, the last cycle's left out:
   * a socket keeps a reference to the peer it last read from)... */
  socketsWatched: number;
  /** ...and how many of them were not collected by the last full collection. */
  socketsRetained: number;
  /** When actors grew: those in memory before and after, by id and status. */
  actorsInMemory?: { before: Record<string, number>; after: Record<string, number> };
  /** Time in the cycles (heap samples left out). */
  elapsedMs: number;
  cyclesPerSecond: number;
}

interface ChurnSpec {
  what: string;
  census: ActorCensus;
  cycles: number;
  warmup: number;
  /** One cycle; passes the socket it made to `watch` (a reference kept in the caller's frame
   * would keep the last socket alive). */
  cycle: (watch: ((socket: object) => void) | undefined) => Promise<void>;
}

const HEAP_SAMPLES = 4;
const WATCHED = 100;

/** Warms up, measures, runs the cycles (sampling the heap along the way), measures again. */
async function churn(spec: ChurnSpec): Promise<ChurnReport> {
  const { census, cycles, warmup } = spec;
  for (let i = 0; i < warmup; i++) await spec.cycle(undefined);
  let watched = 0;
  let collected = 0;
  const sockets = new Finalizations<number>(() => collected++);
  const watch = (socket: object): void => sockets.register(socket, ++watched);
  const watchEvery = Math.max(1, Math.ceil(cycles / WATCHED));
  const sampleEvery = Math.max(1, Math.ceil(cycles / HEAP_SAMPLES));
  const before = await measure(census);
  const beforeById = census.reachableById();
  const points = [{ cycles: 0, heap: before.heap }];
  let elapsedMs = 0;
  let started = performance.now();
  for (let i = 1; i <= cycles; i++) {
    await spec.cycle(i % watchEvery === 0 && i < cycles ? watch : undefined);
    if (i % sampleEvery === 0 && i < cycles) {
      elapsedMs += performance.now() - started;
      await census.flush(); // the census forgets the actors collected, so its own table is not weighed
      points.push({ cycles: i, heap: await settleHeap() });
      started = performance.now();
    }
  }
  elapsedMs += performance.now() - started;
  let after = await measure(census);
  // The last cycle's actors have stopped, but on a loaded machine one may still be held for a
  // moment by what closes after it (a stream's close callback): the full suite once counted one
  // such actor object. A leaked one is still there a second later, so it still counts.
  for (let i = 0; i < 10 && (after.actorObjects > before.actorObjects || after.actors > before.actors); i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = await measure(census);
  }
  await sockets.flush();
  points.push({ cycles, heap: after.heap });
  const g = growth(before, after);
  return {
    what: spec.what, cycles, warmup, before, after, growth: g,
    ...(g.actorObjects !== 0 || g.actors !== 0 ? { actorsInMemory: { before: beforeById, after: census.reachableById() } } : {}),
    heapPerCycle: g.heap / cycles,
    heapSamples: points,
    socketsWatched: watched,
    socketsRetained: watched - collected,
    elapsedMs,
    cyclesPerSecond: (cycles / elapsedMs) * 1000,
  };
}

let runs = 0;

/** Waits until `test()` holds, re-checked each time `bump()` is called. */
function waiter(): { bump(): void; until(test: () => boolean): Promise<void> } {
  let wake: (() => void) | undefined;
  return {
    bump: () => wake?.(),
    async until(test) {
      while (!test()) await new Promise<void>((r) => (wake = r));
      wake = undefined;
    },
  };
}

/** `cycles` connect/handshake/round-trip/close cycles of a Request against one Reply. */
export async function runConnectChurn(transport: ChurnTransport, cycles: number, warmup = Math.min(1000, Math.max(100, cycles / 10))): Promise<ChurnReport> {
  const census = new ActorCensus();
  const context = new Context({ inspect: census.inspect });
  const server = new Reply({ context, linger: 0 });
  const run = runs++;
  const address =
    transport === 'tcp' ? 'tcp://127.0.0.1:*'
      : transport === 'ipc' ? `ipc://${join(tmpdir(), `monocoque-churn-${process.pid}-${run}.sock`)}`
        : `inproc://churn-${run}`;
  let gone = 0;
  const wait = waiter();
  server.events.on('disconnect', () => {
    gone++;
    wait.bump();
  });
  await server.bind(address);
  const endpoint = server.lastEndpoint as string;
  const serving = (async () => {
    for await (const msg of server) await server.send(msg);
  })();

  let done = 0;
  const cycle = async (watch: ((socket: object) => void) | undefined): Promise<void> => {
    const req = new Request({ context, linger: 0 });
    watch?.(req);
    req.connect(endpoint);
    await req.send('ping');
    const [pong] = await req.receive();
    if (pong.toString() !== 'ping') throw new Error(`cycle ${done}: the reply was "${pong.toString()}"`);
    req.close();
    await req.whenReleased();
    done++;
    // The Reply's side of the connection is gone too (inproc has no monitor events: its pipes
    // are detached when the Request's close is processed).
    if (transport !== 'inproc') await wait.until(() => gone >= done);
  };

  try {
    return await churn({ what: `connect/handshake/round-trip/close over ${transport}`, census, cycles, warmup, cycle });
  } finally {
    server.close();
    await serving;
    await server.whenReleased();
  }
}

const TYPES = [Pair, Push, Pull, Request, Reply, Dealer, Router, Publisher, Subscriber, XPublisher, XSubscriber];

/** `cycles` socket create/close cycles, every socket type in turn, in one Context. */
export async function runCreateChurn(cycles: number, warmup = Math.min(1000, Math.max(110, cycles / 10))): Promise<ChurnReport> {
  const census = new ActorCensus();
  const context = new Context({ inspect: census.inspect });
  let n = 0;
  const cycle = async (watch: ((socket: object) => void) | undefined): Promise<void> => {
    const Type = TYPES[n++ % TYPES.length];
    const sock = new Type({ context });
    watch?.(sock);
    sock.close();
    await sock.whenReleased();
  };
  return churn({ what: 'socket create/close (every type in turn)', census, cycles, warmup, cycle });
}

export type ChurnRun = { kind: 'connect'; transport: ChurnTransport; cycles: number; warmup?: number } | { kind: 'create'; cycles: number; warmup?: number };

/** Runs churn-child.ts (a fresh process with --expose-gc) and returns its reports, one per run. */
export async function churnInChild(runs: ChurnRun[]): Promise<ChurnReport[]> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'churn-child.ts'), JSON.stringify(runs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const lines = out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as ChurnReport | { error: string });
  const failed = lines.find((l): l is { error: string } => 'error' in l);
  if (failed !== undefined || code !== 0 || lines.length !== runs.length) {
    throw new Error(`churn child: exit code ${code}, ${lines.length} of ${runs.length} reports${failed ? `: ${failed.error}` : ''}`);
  }
  return lines as ChurnReport[];
}
