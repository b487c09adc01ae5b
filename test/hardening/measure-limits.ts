// Issue 14, item 3: the figures that are timings or totals, measured rather than asserted (the
// structural properties are asserted by limits.test.ts). Prints one line per figure.
//
//   npx tsx test/hardening/measure-limits.ts [oversize|headers|stalled|connections|subscriptions|multipart|topic ...]
//
// Attackers that open many streams run in a child process, so their own work does not count
// against the server's event loop; the legitimate client runs beside the server, as a round trip
// over loopback tcp. The machine is shared: run it quiet, and read ratios rather than absolutes.

import { fork } from 'node:child_process';
import { connect } from 'node:net';
import type { Socket as NetSocket } from 'node:net';
import { fileURLToPath } from 'node:url';
import '../../src/transport/register-node.js';
import type { Pipe } from '../../src/core/pipe.js';
import { cancelCommand, encodeGreeting, readyCommand, subscribeCommand } from '../../src/protocol/index.js';
import { Context } from '../../src/socket/context.js';
import { Publisher } from '../../src/socket/pub-sub.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import { Reply, Request } from '../../src/socket/request-reply.js';
import type { Socket } from '../../src/socket/socket.js';
import { memoryNow, MiB } from './lib/memory.js';
import { longHeader } from './lib/wire.js';

const KiB = 1024;
const here = fileURLToPath(import.meta.url);
const portOf = (s: Socket): number => Number(s.lastEndpoint!.split(':').pop());
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(2)} MiB`;
const NULL_PUSH = Buffer.concat([encodeGreeting('NULL', false), readyCommand('PUSH')]);

function report(name: string, value: string): void {
  console.log(`${name.padEnd(72)} ${value}`);
}

async function until(done: () => boolean): Promise<void> {
  while (!done()) await pause(2);
}

async function raw(port: number): Promise<NetSocket> {
  const s = connect({ port, host: '127.0.0.1', noDelay: true });
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  return s;
}

const grownSince = (base: { heap: number; buffers: number }): number => {
  const now = memoryNow();
  return now.heap - base.heap + now.buffers - base.buffers;
};

/**
 * The longest stretch the event loop went without running a 1 ms timer, and the CPU time this
 * process spent in the longest such stretches: on a shared machine a long gap with little CPU in
 * it is time the process was not scheduled, not time our code held the loop.
 */
class GapMeter {
  maxGap = 0;
  maxGapCpu = 0;
  maxCpu = 0;
  #timer: NodeJS.Timeout | undefined;
  start(): void {
    let last = performance.now();
    let cpu = process.cpuUsage();
    this.#timer = setInterval(() => {
      const now = performance.now();
      const used = process.cpuUsage(cpu);
      const busy = (used.user + used.system) / 1000;
      const gap = now - last;
      if (gap > this.maxGap) {
        this.maxGap = gap;
        this.maxGapCpu = busy;
      }
      this.maxCpu = Math.max(this.maxCpu, busy);
      last = now;
      cpu = process.cpuUsage();
    }, 1);
  }
  stop(): string {
    clearInterval(this.#timer);
    return `longest event-loop gap ${this.maxGap.toFixed(1)} ms (${this.maxGapCpu.toFixed(1)} ms of CPU in it; most CPU in one gap ${this.maxCpu.toFixed(1)} ms)`;
  }
}

// ---- oversized frames ----

async function oversize(): Promise<void> {
  const pull = new Pull({ context: new Context(), maxMessageSize: MiB, linger: 0 });
  await pull.bind('tcp://127.0.0.1:*');
  const s = await raw(portOf(pull));
  s.write(NULL_PUSH);
  await handshakeOf(pull);
  const base = memoryNow();
  let closed = false;
  s.once('close', () => (closed = true));
  s.write(longHeader(0, 1n << 30n));
  const body = Buffer.alloc(64 * KiB, 0x62);
  let written = 0;
  while (!closed && written < 1 << 30) {
    written += body.length;
    if (!s.write(body)) await Promise.race([new Promise((r) => s.once('drain', r)), new Promise((r) => s.once('close', r))]);
  }
  report('oversize: 1 GiB declared over a 1 MiB maxMessageSize, peer streams the body', `closed after the peer handed the kernel ${mib(written)}`);
  report('oversize: our memory growth meanwhile', mib(grownSince(base)));
  pull.close();
}

// ---- headers alone ----

async function headers(): Promise<void> {
  const child = attacker();
  for (const [what, bytes] of [
    ['(warm-up, not a figure)', Buffer.alloc(0)],
    ['nothing', Buffer.alloc(0)],
    ['a greeting', encodeGreeting('NULL', false)],
    ['a greeting and a header declaring 1 MiB', Buffer.concat([encodeGreeting('NULL', false), longHeader(0, 1n << 20n), Buffer.from([1])])],
  ] as const) {
    const pull = new Pull({ context: new Context(), linger: 0 });
    await pull.bind('tcp://127.0.0.1:*');
    let accepted = 0;
    pull.events.on('accept', () => accepted++);
    const base = memoryNow();
    await child.ask({ op: 'open', port: portOf(pull), n: 1000, hex: bytes.toString('hex') });
    await until(() => accepted === 1000);
    await pause(200); // the last writes read
    const grown = grownSince(base);
    if (!what.startsWith('(')) report(`1,000 connections that send ${what}: our memory growth`, `${mib(grown)} (${(grown / 1000 / KiB).toFixed(1)} KiB each)`);
    await child.ask({ op: 'drop' });
    pull.close();
  }
  child.stop();
}

/**
 * The socket's next handshake. Read from the event stream, whose waiting receive holds the process
 * (an open socket does not, as in zeromq.js, and neither does a listener added with events.on()).
 */
async function handshakeOf(sock: Socket): Promise<void> {
  for await (const e of sock.events) if (e.type === 'handshake') return;
}

// ---- a stalled receiver ----

async function stalled(): Promise<void> {
  const S = 1000;
  const R = 1000;
  const SIZE = 16 * KiB;
  const pipesOf = (s: Socket, side: 'in' | 'out'): Pipe[] =>
    [...(s as unknown as { peers: Map<number, { in: Pipe; out: Pipe }> }).peers.values()].map((p) => p[side]);
  for (const endpoint of ['tcp://127.0.0.1:*', 'ipc://*', 'inproc://measure-stalled']) {
    const context = new Context();
    const pull = new Pull({ context, receiveHighWaterMark: R, linger: 0 });
    const push = new Push({ context, sendHighWaterMark: S, linger: 0 });
    await pull.bind(endpoint);
    push.connect(pull.lastEndpoint!);
    if (!endpoint.startsWith('inproc')) await handshakeOf(pull);
    const base = memoryNow();
    const queued = (): number => [...new Set([...pipesOf(push, 'out'), ...pipesOf(pull, 'in')])].reduce((n, p) => n + p.size, 0);
    let sent = 0;
    let pending: Promise<void> | undefined;
    while (queued() < S + R) {
      pending ??= push.send(Buffer.alloc(SIZE, sent & 0xff)).then(() => {
        sent++;
        pending = undefined;
      });
      await turn();
    }
    const grown = grownSince(base);
    const bound = (S + R) * SIZE;
    report(
      `stalled ${endpoint.split(':')[0]}: SNDHWM ${S} + RCVHWM ${R} of ${SIZE / KiB} KiB, ${sent} sent`,
      `memory ${mib(grown)} = ${(grown / bound).toFixed(3)}x (SNDHWM + RCVHWM) x size`,
    );
    push.close();
    pull.close();
  }
}

// ---- connections: churn and silence against a legitimate round trip ----

/** Round trips paced one per millisecond, as a client with its own work between requests. */
async function roundTrips(req: Request, n: number, until?: () => boolean): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; until !== undefined ? !until() : i < n; i++) {
    const t = performance.now();
    await req.send('ping');
    await req.receive();
    out.push(performance.now() - t);
    await pause(1);
  }
  return out;
}

const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * q)];
const rtt = (xs: number[], base?: number[]): string => {
  const m = quantile(xs, 0.5);
  const p = quantile(xs, 0.99);
  const ratio = (a: number, b: number): string => (base === undefined ? '' : ` (${(a / b).toFixed(2)}x)`);
  return `median ${(m * 1000).toFixed(0)} µs${ratio(m, quantile(base ?? xs, 0.5))}, p99 ${(p * 1000).toFixed(0)} µs${ratio(p, quantile(base ?? xs, 0.99))}, n ${xs.length}`;
};

async function connections(): Promise<void> {
  const context = new Context();
  const rep = new Reply({ context, linger: 0 });
  await rep.bind('tcp://127.0.0.1:*');
  void (async () => {
    for (;;) {
      const m = await rep.receive().catch(() => undefined);
      if (m === undefined) return;
      await rep.send(m).catch(() => {});
    }
  })();
  const req = new Request({ context, linger: 0 });
  req.connect(rep.lastEndpoint!);
  await roundTrips(req, 300); // warm up
  const base = await roundTrips(req, 2000);
  report('round trip (REQ/REP, tcp, one per ms), quiet', rtt(base));

  const child = attacker();
  let churning = true;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  void child.ask({ op: 'churn', port: portOf(rep), n: 10_000 }).then(() => (churning = false));
  const during = await roundTrips(req, 0, () => !churning);
  const churnMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  report('round trip while 10,000 connections open and drop', rtt(during, base));
  report(
    '... the 10,000 connections',
    `took ${(churnMs / 1000).toFixed(1)} s; our process spent ${((cpu.user + cpu.system) / 1000 / 10_000).toFixed(2)} ms of CPU per connection (round trips included)`,
  );

  await child.ask({ op: 'open', port: portOf(rep), n: 1000, hex: '' });
  const silent = await roundTrips(req, 2000);
  report('round trip with 1,000 silent connections held', rtt(silent, base));
  await child.ask({ op: 'drop' });
  const after = await roundTrips(req, 2000);
  report('round trip once they are gone', rtt(after, base));
  child.stop();
  req.close();
  rep.close();
}

// ---- 100,000 subscriptions ----

async function subscriptions(): Promise<void> {
  const pub = new Publisher({ context: new Context(), linger: 0 });
  await pub.bind('tcp://127.0.0.1:*');
  const trie = (): { size: number } => (pub.getSnapshot().context as unknown as { subscriptions: { size: number } }).subscriptions;
  const s = await raw(portOf(pub));
  s.write(Buffer.concat([encodeGreeting('NULL', false), readyCommand('SUB')]));
  await handshakeOf(pub);
  const N = 100_000;
  const topic = (i: number): Buffer => Buffer.from(`topic-${i.toString().padStart(6, '0')}`);
  const bytes = (make: (t: Buffer) => Uint8Array): Buffer => Buffer.concat(Array.from({ length: N }, (_, i) => make(topic(i))));
  const subs = bytes(subscribeCommand);
  const cancels = bytes(cancelCommand);
  const base = memoryNow();
  let meter = new GapMeter();
  meter.start();
  let t = performance.now();
  s.write(subs);
  await until(() => trie().size === N);
  const subMs = performance.now() - t;
  const subGaps = meter.stop();
  const held = grownSince(base);
  report('100,000 SUBSCRIBE from one peer', `applied in ${subMs.toFixed(0)} ms; ${subGaps}; memory ${mib(held)}`);
  meter = new GapMeter();
  meter.start();
  t = performance.now();
  s.write(cancels);
  await until(() => trie().size === 0);
  const cancelMs = performance.now() - t;
  const cancelGaps = meter.stop();
  report('... and their 100,000 CANCEL', `applied in ${cancelMs.toFixed(0)} ms; ${cancelGaps}; memory left ${mib(grownSince(base))}`);
  s.destroy();
  pub.close();
}

// ---- a message that never ends ----

async function multipart(): Promise<void> {
  const pull = new Pull({ context: new Context(), maxMessageSize: KiB, linger: 0 });
  await pull.bind('tcp://127.0.0.1:*');
  const s = await raw(portOf(pull));
  s.write(NULL_PUSH);
  await handshakeOf(pull);
  const base = memoryNow();
  const block = Buffer.alloc(64 * KiB);
  for (let i = 0; i < block.length; i += 2) block[i] = 0x01; // 01 00: an empty frame with MORE
  const total = 16 * MiB;
  for (let sent = 0; sent < total; sent += block.length) if (!s.write(block)) await new Promise((r) => s.once('drain', r));
  await pause(500);
  report('a never-ending message: 16 MiB of empty MORE frames, maxMessageSize 1 KiB', `our memory ${mib(grownSince(base))}`);
  s.destroy();
  pull.close();
}

// ---- long topics ----

async function topic(): Promise<void> {
  for (const size of [64 * KiB, 10 * MiB]) {
    const out = await new Promise<string>((resolve) => {
      const child = fork(here, ['child-topic', String(size)], { execArgv: process.execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      let text = '';
      child.stdout!.on('data', (d) => (text += d));
      child.stderr!.on('data', (d) => (text += d));
      child.on('exit', (code, signal) => {
        const crash = /RangeError[^\n]*|FATAL ERROR[^\n]*|heap out of memory/.exec(text)?.[0];
        resolve(code === 0 ? text.trim() : `the process died (${signal ?? `exit ${code}`}): ${crash ?? text.trim().split('\n').pop()}`);
      });
    });
    report(`SUBSCRIBE with a ${size / KiB} KiB topic from a raw peer to a PUB`, out);
  }
}

async function childTopic(size: number): Promise<void> {
  const pub = new Publisher({ context: new Context(), linger: 0 });
  await pub.bind('tcp://127.0.0.1:*');
  const trie = (): { size: number } => (pub.getSnapshot().context as unknown as { subscriptions: { size: number } }).subscriptions;
  const s = await raw(portOf(pub));
  s.write(Buffer.concat([encodeGreeting('NULL', false), readyCommand('SUB')]));
  await handshakeOf(pub);
  const base = memoryNow();
  const t = performance.now();
  s.write(subscribeCommand(Buffer.alloc(size, 0x61)));
  await until(() => trie().size === 1);
  console.log(`applied in ${(performance.now() - t).toFixed(0)} ms, memory ${mib(grownSince(base))} (${(grownSince(base) / size).toFixed(0)} bytes per topic byte)`);
  process.exit(0);
}

// ---- the attacker child ----

interface Order {
  op: 'open' | 'churn' | 'drop';
  port?: number;
  n?: number;
  hex?: string;
}

/** A child process that opens streams on order; `ask` resolves when it has done what it was told. */
function attacker(): { ask(o: Order): Promise<void>; stop(): void } {
  const child = fork(here, ['child-attacker'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting: (() => void)[] = [];
  child.on('message', () => waiting.shift()?.());
  return {
    ask: (o) =>
      new Promise((resolve) => {
        waiting.push(resolve);
        child.send(o);
      }),
    stop: () => child.kill(),
  };
}

async function childAttacker(): Promise<void> {
  const held: NetSocket[] = [];
  process.on('message', async (o: Order) => {
    if (o.op === 'open') {
      const bytes = Buffer.from(o.hex ?? '', 'hex');
      for (let i = 0; i < o.n!; i++) {
        const s = await raw(o.port!);
        if (bytes.length > 0) s.write(bytes);
        held.push(s);
      }
    } else if (o.op === 'churn') {
      // 32 at a time: each opens, is accepted, and is dropped at once.
      let left = o.n!;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (left-- > 0) {
            const s = await raw(o.port!);
            s.destroy();
          }
        }),
      );
    } else {
      for (const s of held.splice(0)) s.destroy();
    }
    process.send!('done');
  });
}

const sections: Record<string, () => Promise<void>> = { oversize, headers, stalled, connections, subscriptions, multipart, topic };

const [mode, arg] = process.argv.slice(2);
if (mode === 'child-attacker') {
  await childAttacker();
} else if (mode === 'child-topic') {
  await childTopic(Number(arg));
} else {
  const chosen = process.argv.slice(2);
  for (const name of chosen.length > 0 ? chosen : Object.keys(sections)) {
    if (sections[name] === undefined) throw new Error(`no section ${name}; choose from ${Object.keys(sections).join(', ')}`);
    await sections[name]();
  }
  process.exit(0);
}
