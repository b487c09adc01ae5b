// A memory benchmark child: a fresh process per measurement (memory.ts), run with --expose-gc, so
// that what it reports is what the sockets added to an otherwise quiet process. Speaks the JSON
// lines of lib/child-io.ts; reports memory as growth over a baseline taken after a forced GC:
// `rss` (the process's resident set, all threads: the figure that holds libzmq's native memory)
// and `heap` (V8 heap used plus external memory, Buffers included: what the JS side retains).
//
//   node --expose-gc --import tsx bench/memory-child.ts --impl ours|zeromq --role ROLE [--count N]
//        [--transport inproc|tcp] [--size B] [--bind ADDR | --connect ADDR]
//
// Roles, each answering {"cmd":"run"} with "done":
//   idle        N DEALERs created, neither bound nor connected; growth per socket
//   pairs       N PAIR pairs over --transport (bind, connect, one message each way); growth per pair
//               (zeromq.js's sockets spread over contexts of 1,000, made before the baseline)
//   stall       inproc PUSH -> PULL in this process, the PULL never reads; the PUSH sends fresh
//               --size buffers until a send has waited 200 ms (HWM reached); growth in all, and `sent`
//   stall-pull  binds --bind (tcp), never reads; {"cmd":"run"} reports its growth since it bound
//   stall-push  connects --connect; {"cmd":"run"} sends fresh --size buffers until a send has
//               waited 200 ms, then reports `sent` and its own growth
// The first socket of an implementation starts its machinery (zeromq.js: the context and its I/O
// thread), so each role makes one socket (or pair) before its baseline.

import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { emit, runChild, serveCommands } from './lib/child-io.js';
import { loadImpl, make } from './lib/impl.js';
import type { BenchSocket, Impl, ImplName } from './lib/impl.js';

/** A send that has not completed in this long is taken as blocked at the HWM. */
const STALL_MS = 200;

const { values: args } = parseArgs({
  options: {
    impl: { type: 'string' },
    role: { type: 'string' },
    count: { type: 'string', default: '1000' },
    transport: { type: 'string', default: 'inproc' },
    size: { type: 'string', default: '16384' },
    bind: { type: 'string' },
    connect: { type: 'string' },
  },
});

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Memory after full collections, three with turns between (finalizers, weak callbacks and V8's
 * page release run): fewer left RSS swinging by a few hundred KB from one run to the next.
 */
async function memory(): Promise<{ rss: number; heap: number }> {
  if (gc === undefined) throw new Error('memory-child needs node --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(50);
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external };
}

function growth(before: { rss: number; heap: number }, after: { rss: number; heap: number }, per = 1) {
  return { rss: (after.rss - before.rss) / per, heap: (after.heap - before.heap) / per };
}

let seq = 0;
function address(impl: Impl, transport: string): string {
  return transport === 'tcp' ? 'tcp://127.0.0.1:*' : `inproc://memory-${impl.name}-${seq++}`;
}

/**
 * Sockets for the per-item roles. libzmq refuses more than 1,023 sockets per context
 * (ZMQ_MAX_SOCKETS), so zeromq.js's are spread over contexts of SOCKETS_PER_CONTEXT, each made
 * and started (one socket, which starts its I/O thread) before the baseline; ours need none.
 */
const SOCKETS_PER_CONTEXT = 1000;
class Maker {
  readonly #impl: Impl;
  readonly #contexts: unknown[] = [];
  #made = 0;
  readonly keep: BenchSocket[] = [];

  private constructor(impl: Impl) {
    this.#impl = impl;
  }

  static async start(impl: Impl, sockets: number): Promise<Maker> {
    const m = new Maker(impl);
    if (impl.name === 'zeromq') {
      const zmq = await import('zeromq');
      for (let i = 0; i < Math.ceil(sockets / SOCKETS_PER_CONTEXT); i++) {
        const context = new zmq.Context();
        m.#contexts.push(context);
        m.keep.push(make(impl, 'Dealer', { context }));
      }
    } else {
      m.keep.push(make(impl, 'Dealer'));
    }
    return m;
  }

  socket(type: 'Dealer' | 'Pair'): BenchSocket {
    const context = this.#contexts[Math.floor(this.#made++ / SOCKETS_PER_CONTEXT)];
    const s = make(this.#impl, type, { linger: 0, ...(context === undefined ? {} : { context }) });
    this.keep.push(s);
    return s;
  }

  /** A connected PAIR pair over `transport`, one message through each way. */
  async pair(transport: string): Promise<void> {
    const a = this.socket('Pair');
    await a.bind(address(this.#impl, transport));
    const b = this.socket('Pair');
    b.connect(a.lastEndpoint as string);
    await b.send('x');
    await a.receive();
    await a.send('y');
    await b.receive();
  }
}

/** Sends fresh buffers of `size` until one send has waited STALL_MS, or `max` were sent; how many completed. */
async function flood(s: BenchSocket, size: number, max: number): Promise<{ sent: number; stalled: boolean }> {
  for (let sent = 0; sent < max; sent++) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const blocked = new Promise<'blocked'>((resolve) => (timer = setTimeout(() => resolve('blocked'), STALL_MS)));
    const r = await Promise.race([s.send(Buffer.alloc(size, sent & 0xff)).then(() => 'sent' as const), blocked]);
    clearTimeout(timer);
    if (r === 'blocked') return { sent, stalled: true };
  }
  return { sent: max, stalled: false };
}

async function main(): Promise<void> {
  const impl = await loadImpl(args.impl as ImplName);
  const role = String(args.role);
  const n = Number(args.count);
  const size = Number(args.size);
  const transport = String(args.transport);
  let keep: BenchSocket[] = [];
  let run: () => Promise<Record<string, unknown>>;

  if (role === 'idle' || role === 'pairs') {
    const maker = await Maker.start(impl, role === 'idle' ? n : 2 * n);
    if (role === 'pairs') await maker.pair(transport);
    keep = maker.keep;
    run = async () => {
      const before = await memory();
      for (let i = 0; i < n; i++) {
        if (role === 'idle') maker.socket('Dealer');
        else await maker.pair(transport);
      }
      return { ...growth(before, await memory(), n), count: n };
    };
  } else if (role === 'stall') {
    const maker = await Maker.start(impl, 2);
    await maker.pair('inproc');
    keep = maker.keep;
    run = async () => {
      const pull = make(impl, 'Pull', { linger: 0 });
      const addr = address(impl, 'inproc');
      await pull.bind(addr);
      const push = make(impl, 'Push', { linger: 0 });
      push.connect(addr);
      keep.push(pull, push);
      const before = await memory();
      const { sent, stalled } = await flood(push, size, 20 * (push.sendHighWaterMark + pull.receiveHighWaterMark));
      return { ...growth(before, await memory()), sent, stalled, sendHighWaterMark: push.sendHighWaterMark, receiveHighWaterMark: pull.receiveHighWaterMark };
    };
  } else if (role === 'stall-pull') {
    const pull = make(impl, 'Pull', { linger: 0 });
    await pull.bind(args.bind ?? 'tcp://127.0.0.1:*');
    keep.push(pull);
    const before = await memory();
    run = async () => ({ ...growth(before, await memory()), receiveHighWaterMark: pull.receiveHighWaterMark });
  } else if (role === 'stall-push') {
    const push = make(impl, 'Push', { linger: 0 });
    push.connect(args.connect as string);
    keep.push(push);
    run = async () => {
      const before = await memory();
      const { sent, stalled } = await flood(push, size, 20_000);
      return { ...growth(before, await memory()), sent, stalled, sendHighWaterMark: push.sendHighWaterMark };
    };
  } else {
    throw new Error(`--role must be idle, pairs, stall, stall-pull or stall-push, not ${role}`);
  }

  emit('ready', { endpoint: keep[0]?.lastEndpoint ?? null, pid: process.pid });
  await serveCommands({
    async run() {
      emit('done', await run());
    },
  });
  for (const s of keep) s.close();
}

runChild(main);
