// Process and worker lifetime, as zeromq.js has it: open sockets (listening, connected, reconnecting,
// heartbeating, lingering) keep nothing alive; a call that waits does, until it settles; at exit,
// messages still queued for tcp/ipc peers are waited for up to the linger, with zeromq.js's warning
// when that takes long. Each case runs in a child process (or a worker) of its own:
//
//   test ──spawn──▶ node --import tsx <case>.mjs ──stdout──▶ one line per step, then `loop-empty`
//                                                            when the event loop ran dry
//
// "Stays alive" is never a matter of time: a child whose wait did not hold the loop would print
// `loop-empty` (Node's 'beforeExit') before the line that only the awaited message can produce.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket as NetSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Context, Dealer, Pull, Push, Router } from '../../src/index.js';
import { loopHolds } from '../../src/transport/keep-alive.js';
import { openConnections } from '../../src/transport/net-transport.js';
import { closeAfterEach, text } from '../helpers/sockets.js';

const track = closeAfterEach();
const ROOT = resolve(import.meta.dirname, '../..');
const INDEX = pathToFileURL(join(ROOT, 'src/index.ts')).href;
const dir = mkdtempSync(join(tmpdir(), 'monocoque-lifetime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What every child script starts with: the package, `say` (one stdout line), the loop-empty mark. */
const PRELUDE = `
import * as zmq from ${JSON.stringify(INDEX)};
const say = (line) => process.stdout.write(line + '\\n');
process.once('beforeExit', () => say('loop-empty'));
`;

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: string[];
  stderr: string;
}

interface Child {
  process: ChildProcess;
  lines: string[];
  /** Resolves with the first line that starts with `prefix`. */
  line(prefix: string): Promise<string>;
  ended: Promise<Ended>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  // A child that stays when it should have gone failed its test already; it must not outlive it.
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

let scripts = 0;
/** Runs `body` (ES module code after {@link PRELUDE}) in a child process of its own. */
function run(body: string, ...args: string[]): Child {
  const file = join(dir, `case-${++scripts}.mjs`);
  writeFileSync(file, PRELUDE + body);
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: string[] = [];
  const waiting: { prefix: string; resolve: (line: string) => void }[] = [];
  let partial = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() as string;
    for (const l of parts) {
      lines.push(l);
      for (const w of waiting.filter((x) => l.startsWith(x.prefix))) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const ended = new Promise<Ended>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, lines, stderr }));
  });
  return {
    process: child,
    lines,
    line: (prefix) => {
      const seen = lines.find((l) => l.startsWith(prefix));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        waiting.push({ prefix, resolve });
        // A child that ends without the line fails here, with what it said.
        void ended.then((e) => reject(new Error(`the child ended (code ${e.code}) without a line "${prefix}…": ${JSON.stringify(e.lines)} ${e.stderr}`)));
      });
    },
    ended,
  };
}

const WARNING = /^\(node:\d+\) WARNING: Waiting for queued ZeroMQ messages to be delivered\./;

describe('lifetime: open sockets keep no process alive', () => {
  it('idle tcp and ipc sockets (bound, connected, heartbeating, reconnecting) left open: the process exits 0', async () => {
    const child = run(`
      const router = new zmq.Router({ heartbeatInterval: 50 });
      await router.bind('tcp://127.0.0.1:*');
      const dealer = new zmq.Dealer({ heartbeatInterval: 50, handshakeInterval: 60000 });
      dealer.connect(router.lastEndpoint);
      await dealer.send('ping');
      const [id] = await router.receive();
      await router.send([id, 'pong']);
      await dealer.receive();
      const pair = new zmq.Pair();
      await pair.bind('ipc://${join(dir, 'idle.sock')}');
      const peer = new zmq.Pair();
      peer.connect(pair.lastEndpoint);
      await peer.send('hi');
      await pair.receive();
      // Nobody listens here: it keeps retrying, with a reconnect timer, and nothing queued.
      const retrying = new zmq.Push();
      retrying.connect('ipc://${join(dir, 'nobody.sock')}');
      say('round trips done');
    `);
    const end = await child.ended;
    expect(end.lines).toEqual(['round trips done', 'loop-empty']);
    expect([end.code, end.signal, end.stderr]).toEqual([0, null, '']);
  });

  it('sockets retrying every millisecond (reconnectInterval 1, the least that retries) to ipc and tcp endpoints nobody binds, left open: the process exits 0', async () => {
    // Their backoff is an unref'd timer, like every background timer. A clock that held the loop
    // for a short delay (as an immediate, which the heartbeat's last look needs) would hold it retry
    // after retry, and this process would never end.
    const child = run(`
      const viaIpc = new zmq.Push({ reconnectInterval: 1 });
      viaIpc.connect('ipc://${join(dir, 'nobody-at-once.sock')}');
      const viaTcp = new zmq.Push({ reconnectInterval: 1 });
      viaTcp.connect('tcp://localhost:1');
      say('retrying');
    `);
    const end = await child.ended;
    expect(end.lines).toEqual(['retrying', 'loop-empty']);
    expect([end.code, end.signal, end.stderr]).toEqual([0, null, '']);
  });

  it('sockets closed with calls waiting on tcp, ipc and inproc: the calls fail with EAGAIN and the process exits 0', async () => {
    const child = run(`
      const outcome = (p) => p.then(() => 'resolved', (e) => e.code);
      const pull = new zmq.Pull({ linger: 500 });
      await pull.bind('tcp://127.0.0.1:*');
      const dealer = new zmq.Dealer();
      await dealer.bind('ipc://${join(dir, 'closed.sock')}');
      const pair = new zmq.Pair();
      pair.connect('inproc://nobody-yet');
      const calls = [pull.receive(), dealer.send('nobody takes it'), dealer.receive(), pair.receive()].map(outcome);
      for (const s of [pull, dealer, pair]) s.close();
      say('outcomes ' + (await Promise.all(calls)).join(' '));
    `);
    const end = await child.ended;
    expect(end.lines).toEqual(['outcomes EAGAIN EAGAIN EAGAIN EAGAIN', 'loop-empty']);
    expect([end.code, end.signal, end.stderr]).toEqual([0, null, '']);
  });
});

describe('lifetime: a waiting call keeps the process alive until it settles', () => {
  it('a receive() on a tcp socket: the process waits for the message the test sends, then exits 0', async () => {
    const child = run(`
      const pull = new zmq.Pull();
      await pull.bind('tcp://127.0.0.1:*');
      say('waiting ' + pull.lastEndpoint);
      const [msg] = await pull.receive();
      say('got ' + msg);
    `);
    const endpoint = (await child.line('waiting ')).slice('waiting '.length);
    expect(child.process.exitCode).toBe(null);
    const push = track(new Push({ context: new Context() }));
    push.connect(endpoint);
    await push.send('hello');
    const end = await child.ended;
    expect(end.lines).toEqual([`waiting ${endpoint}`, 'got hello', 'loop-empty']);
    expect([end.code, end.stderr]).toEqual([0, '']);
  });

  it('a receive() on inproc: only the waiting call keeps the loop turning until an unref\'d timer sends', async () => {
    const child = run(`
      const pull = new zmq.Pull();
      await pull.bind('inproc://late');
      const push = new zmq.Push();
      push.connect('inproc://late');
      // This timer keeps nothing alive: it fires only if the receive below holds the loop.
      setTimeout(() => push.send('late'), 20).unref();
      say('waiting');
      const [msg] = await pull.receive();
      say('got ' + msg);
    `);
    const end = await child.ended;
    expect(end.lines).toEqual(['waiting', 'got late', 'loop-empty']);
    expect(end.code).toBe(0);
  });

  it('a send() with no peer to take it, a receiveMany() and for await: each holds the loop until it settles', async () => {
    const child = run(`
      const dealer = new zmq.Dealer();
      const router = new zmq.Router();
      await router.bind('inproc://r');
      setTimeout(() => dealer.connect('inproc://r'), 20).unref();
      say('sending');
      await dealer.send('first');
      say('sent');
      await router.receive(); // 'first', there at once
      setTimeout(() => dealer.send(['second']), 20).unref();
      const batch = await router.receiveMany();
      say('received ' + batch.map(([, msg]) => msg).join(','));
      setTimeout(() => dealer.send('third'), 20).unref();
      for await (const [id, msg] of router) {
        say('iterated ' + msg);
        break;
      }
    `);
    const end = await child.ended;
    expect(end.lines).toEqual(['sending', 'sent', 'received second', 'iterated third', 'loop-empty']);
    expect(end.code).toBe(0);
  });

  it('a for await over events holds the loop until close() ends the stream', async () => {
    const child = run(`
      const sock = new zmq.Dealer();
      setTimeout(() => sock.close(), 20).unref();
      say('reading events');
      const seen = [];
      for await (const event of sock.events) seen.push(event.type);
      say('events ' + seen.join(' '));
    `);
    const end = await child.ended;
    expect(end.lines).toEqual(['reading events', 'events end', 'loop-empty']);
    expect(end.code).toBe(0);
  });

  it('in this process: the hold is counted per waiting call, and calls that complete at once count nothing', async () => {
    const context = new Context();
    const pull = track(new Pull({ context }));
    await pull.bind('inproc://holds');
    const push = track(new Push({ context }));
    push.connect('inproc://holds');
    const before = loopHolds();
    await push.send('at once');
    expect(loopHolds()).toBe(before);
    await pull.receive();
    const waiting = [pull.receive(), pull.receive({ signal: AbortSignal.abort() }).catch((e: { code: string }) => e.code)];
    expect(loopHolds()).toBe(before + 1); // the aborted one never waited
    const timingOut = new Pull({ context, receiveTimeout: 5 });
    const timedOut = timingOut.receive().catch((e: { code: string }) => e.code);
    expect(loopHolds()).toBe(before + 2);
    expect(await timedOut).toBe('EAGAIN');
    expect(loopHolds()).toBe(before + 1);
    await push.send('now');
    expect(text((await waiting[0]) as Buffer[])).toEqual(['now']);
    expect(await waiting[1]).toBe('ECANCELED');
    const bound = pull.bind('inproc://holds-2');
    expect(loopHolds()).toBe(before + 1);
    await bound;
    const unwatched = pull.events.receive();
    pull.close();
    await unwatched;
    timingOut.close();
    await new Promise((r) => setImmediate(r));
    expect(loopHolds()).toBe(before);
  });
});

describe('lifetime: what is left after close', () => {
  it('closed tcp sockets leave no connection behind (counted, since unref\'d streams are not among the active resources)', async () => {
    const before = openConnections();
    const context = new Context();
    const router = new Router({ context });
    await router.bind('tcp://127.0.0.1:*');
    const dealer = new Dealer({ context });
    dealer.connect(router.lastEndpoint as string);
    await dealer.send('x');
    await router.receive();
    expect(openConnections()).toBe(before + 2);
    router.close();
    dealer.close();
    await Promise.all([router.whenReleased(), dealer.whenReleased()]);
    expect(openConnections()).toBe(before);
  });
});

describe('lifetime: messages queued at exit', () => {
  it('an open socket with a message queued for a peer that is not there: the exit waits out its linger, with zeromq.js\'s warning', async () => {
    const child = run(`
      const dealer = new zmq.Dealer({ linger: 1000 });
      dealer.connect('ipc://${join(dir, 'absent.sock')}');
      await dealer.send(null);
      say('queued');
    `);
    const end = await child.ended;
    expect(end.lines).toEqual(['queued', 'loop-empty']);
    expect(end.code).toBe(0);
    // The default Context is blocky, so the warning says how to stop the wait (zeromq.js's words).
    expect(end.stderr).toMatch(new RegExp(`${WARNING.source} Set 'context\\.blocky = false' to change this behaviour\\.\\n$`));
  });

  it('a short linger: the wait ends quietly', async () => {
    const child = run(`
      zmq.context.blocky = false;
      const dealer = new zmq.Dealer({ linger: 50 });
      dealer.connect('ipc://${join(dir, 'absent-2.sock')}');
      await dealer.send(null);
      say('queued');
    `);
    const end = await child.ended;
    expect([end.lines, end.code, end.stderr]).toEqual([['queued', 'loop-empty'], 0, '']);
  });

  it('linger -1: the process waits until the peer comes and takes the message, then exits 0', async () => {
    const path = join(dir, 'later.sock');
    const child = run(`
      const push = new zmq.Push();
      push.connect('ipc://${path}');
      await push.send('last words');
      say('queued');
    `);
    // The loop ran dry: the wait at exit holds the process, reconnecting, until the peer is there.
    await child.line('loop-empty');
    expect(child.process.exitCode).toBe(null);
    const pull = track(new Pull({ context: new Context() }));
    await pull.bind(`ipc://${path}`);
    expect(text(await pull.receive())).toEqual(['last words']);
    const end = await child.ended;
    expect(end.lines).toEqual(['queued', 'loop-empty']);
    expect(end.code).toBe(0);
    expect(end.stderr === '' || WARNING.test(end.stderr)).toBe(true);
  });
});

describe('lifetime: worker threads', () => {
  /** Runs `body` in a worker (tsx registered there: a worker does not inherit `--import`); resolves with its messages and exit code. */
  function worker(body: string): { messages: unknown[]; exited: Promise<number>; worker: Worker } {
    const tsx = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/esm/api/index.mjs')).href;
    const file = join(dir, `worker-${++scripts}.mjs`);
    writeFileSync(file, `import { parentPort } from 'node:worker_threads';\n${PRELUDE.replace("process.stdout.write(line + '\\n')", 'parentPort.postMessage(line)')}\n${body}`);
    const src = `(async () => { (await import(${JSON.stringify(tsx)})).register(); await import(${JSON.stringify(pathToFileURL(file).href)}); })()`;
    const w = new Worker(src, { eval: true });
    const messages: unknown[] = [];
    w.on('message', (m) => messages.push(m));
    const exited = new Promise<number>((resolve, reject) => {
      w.once('exit', resolve);
      w.once('error', reject);
    });
    return { messages, exited, worker: w };
  }

  it('a worker whose tcp sockets are idle and open exits by itself (code 0)', async () => {
    const w = worker(`
      const a = new zmq.Pair();
      await a.bind('tcp://127.0.0.1:*');
      const b = new zmq.Pair();
      b.connect(a.lastEndpoint);
      await b.send(['foo', 'bar']);
      say('got ' + (await a.receive()).join(','));
    `);
    expect(await w.exited).toBe(0);
    expect(w.messages).toEqual(['got foo,bar', 'loop-empty']);
  });

  it('a worker waiting in receive() on tcp stays until the message comes from this thread', async () => {
    const w = worker(`
      const pull = new zmq.Pull();
      await pull.bind('tcp://127.0.0.1:*');
      say(pull.lastEndpoint);
      say('got ' + (await pull.receive()));
    `);
    const endpoint = await new Promise<string>((resolve) => w.worker.once('message', resolve));
    const push = track(new Push({ context: new Context() }));
    push.connect(endpoint);
    await push.send('to the worker');
    expect(await w.exited).toBe(0);
    expect(w.messages).toEqual([endpoint, 'got to the worker', 'loop-empty']);
  });
});

describe('tcp keep-alive (ZMQ_TCP_KEEPALIVE, ZMQ_TCP_KEEPALIVE_IDLE)', () => {
  /** Connects a DEALER to a ROUTER over tcp with these options on both; the setKeepAlive calls node:net saw. */
  async function keepAliveCalls(options: { tcpKeepalive?: number; tcpKeepaliveIdle?: number }): Promise<unknown[][]> {
    const spy = vi.spyOn(NetSocket.prototype, 'setKeepAlive');
    try {
      const context = new Context();
      const router = track(new Router({ context, ...options }));
      const dealer = track(new Dealer({ context }));
      Object.assign(dealer, options); // as properties too
      await router.bind('tcp://127.0.0.1:*');
      dealer.connect(router.lastEndpoint as string);
      await dealer.send('x');
      await router.receive();
      return spy.mock.calls.map((c) => [...c]);
    } finally {
      spy.mockRestore();
    }
  }

  it('1 with an idle time: both ends turn keep-alive on with that idle time (ms for node:net)', async () => {
    expect(await keepAliveCalls({ tcpKeepalive: 1, tcpKeepaliveIdle: 30 })).toEqual([[true, 30_000], [true, 30_000]]);
  });

  it('1 without an idle time leaves the OS its own; 0 turns it off; -1 (the default) does nothing', async () => {
    expect(await keepAliveCalls({ tcpKeepalive: 1 })).toEqual([[true, 0], [true, 0]]);
    expect(await keepAliveCalls({ tcpKeepalive: 0 })).toEqual([[false], [false]]);
    expect(await keepAliveCalls({ tcpKeepalive: -1, tcpKeepaliveIdle: 30 })).toEqual([]);
  });
});
