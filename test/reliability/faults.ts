// Fault runs: one of our connecting sockets (DEALER, REQ relaxed, SUB, PUSH) keeps multipart traffic
// going while its bound peer, a child process (peer.mjs), is killed with SIGKILL and replaced at the
// same address, again and again. Used short by faults.test.ts and long by scripts/reliability.ts.
//
//   ours (this process)                 peer.mjs (child N)       peer.mjs (child N+1, started early,
//   DEALER ──[seq,parts..,end]──▶ ROUTER ──echo──▶ DEALER           idle until asked to bind)
//   REQ    ──request──▶ REP ──reply──▶ REQ
//   PUSH   ──▶ PULL ──{got seq} over the IPC channel──▶ parent
//   SUB    ◀── XPUB ◀──{publish from..to} over IPC; XPUB reports its subscriptions over IPC
//
// Each epoch: wait for our `handshake` event (SUB: and for the new peer to hold exactly our current
// subscriptions), let K messages through (K drawn from a seeded PRNG, so the kill lands at a varying
// point of the pipeline), SIGKILL the peer, wait for its exit, (SUB: change one subscription while no
// peer is there), then have the spare child bind the same endpoint. Everything waits on events (monitor
// events, IPC messages, child exits); times are read only to be reported, never to decide.
//
// What counts: every message delivered must be whole (messages.ts), and its sequence number above
// every one delivered before it, across all connections: no part of a message, no duplicate, nothing
// out of order. A message sent but never delivered is lost, charged to the restart it was sent before.
// Senders keep at most `window` messages in flight, so a restart can lose at most that many.

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Context, Dealer, Push, Request, Subscriber } from '../../src/index.js';
import { body, check } from './messages.js';

export type FaultSocket = 'DEALER' | 'REQ' | 'SUB' | 'PUSH';
export type FaultTransport = 'tcp' | 'ipc';

export interface FaultOptions {
  type: FaultSocket;
  transport: FaultTransport;
  /** Kills and restarts of the bound peer. */
  restarts: number;
  /** Who the bound peer is: libzmq (the `zeromq` package, default) or monocoque. */
  peer?: 'zeromq' | 'ours';
  /** Messages in flight at most (sent, not yet known delivered). */
  window?: number;
  seed?: number;
  /** Our socket's ZMQ_RECONNECT_IVL (default libzmq's 100 ms). */
  reconnectInterval?: number;
  /** A stalled wait fails after this long (a hang guard, not a measurement). */
  stallMs?: number;
}

export interface FaultReport {
  type: FaultSocket;
  transport: FaultTransport;
  peer: 'zeromq' | 'ours';
  restarts: number;
  reconnectInterval: number;
  window: number;
  /** Our monitor events over the run. */
  handshakes: number;
  disconnects: number;
  connectRetries: number;
  /** ms from the new peer's bind to our `handshake` event, one per restart. */
  reconnectMs: number[];
  /** ms from the SIGKILL to our `handshake` event, one per restart. */
  outageMs: number[];
  /** SUB: ms from our `handshake` to the new peer holding all our subscriptions, one per epoch. */
  subscribeMs: number[];
  /** SUB: epochs whose new peer ended up with exactly our subscriptions of the moment. */
  subscriptionsRestored: number;
  /** Messages sent (REQ: requests; SUB: messages the peer was asked to publish on our topics). */
  sent: number;
  delivered: number;
  /** Lost messages charged to each restart (the last entry: the final epoch, drained, no kill). */
  lostPerRestart: number[];
  /** EADDRINUSE retries of the new peers' binds (tcp: the port was briefly someone else's). */
  bindRetries: number;
  violations: string[];
  elapsedMs: number;
}

const PEER_SCRIPT = join(import.meta.dirname, 'peer.mjs');
const PEER_TYPE: Record<FaultSocket, string> = { DEALER: 'ROUTER', REQ: 'REP', SUB: 'XPUB', PUSH: 'PULL' };
const TOPICS = ['A', 'B', 'C', 'D', 'E'];
/** SUB: subscribed in epoch e: three topics in a row from e (so each restart drops one and adds one). */
const topicsOf = (epoch: number): string[] => [0, 1, 2].map((j) => TOPICS[(epoch + j) % TOPICS.length]).sort();

type PeerMessage =
  | { ev: 'ready' }
  | { ev: 'bound'; endpoint: string; retries: number }
  | { ev: 'got'; seq: number; bad?: string }
  | { ev: 'subs'; topics: string[] }
  | { ev: 'error'; error: string };

/** One peer.mjs child: started idle (a spare), told to bind later, killed with SIGKILL. */
class PeerProcess {
  readonly child: ChildProcess;
  /** Resolves once the child is gone and its IPC channel drained ('close'). */
  readonly gone: Promise<void>;
  ready = false;
  /** What the child said when it had bound. */
  bound: { endpoint: string; retries: number } | undefined;
  subs: string[] = [];
  killed = false;
  onMessage: (m: PeerMessage) => void = () => {};

  constructor(type: string, impl: 'zeromq' | 'ours', onUnexpectedEnd: (why: string) => void) {
    this.child = fork(PEER_SCRIPT, [JSON.stringify({ type, impl })], {
      execArgv: impl === 'ours' ? ['--import', 'tsx'] : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.gone = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        if (!this.killed) onUnexpectedEnd(`peer ${type} (pid ${this.child.pid}) ended by itself: code ${code}, signal ${signal}`);
        resolve();
      });
    });
    this.child.on('message', (m: PeerMessage) => {
      if (m.ev === 'ready') this.ready = true;
      else if (m.ev === 'bound') this.bound = { endpoint: m.endpoint, retries: m.retries };
      else if (m.ev === 'subs') this.subs = m.topics;
      this.onMessage(m);
    });
    // A send to a child that just died: its channel is closed, the kill already accounts for it.
    this.child.on('error', () => {});
  }

  send(command: object): void {
    if (!this.killed && this.child.connected) this.child.send(command);
  }

  async kill(): Promise<void> {
    this.killed = true;
    this.child.kill('SIGKILL');
    await this.gone;
  }
}

/** Re-checks conditions whenever something happened; a wait that sees nothing for `stallMs` fails (the
 * run then stops and says what it waited for: a hang guard, not a measurement). */
class Progress {
  #waiters: { test: () => boolean; resolve: () => void; reject: (e: Error) => void; what: string; timer: NodeJS.Timeout }[] = [];
  #failure: Error | undefined;
  /** `state()` describes the run for a stall's error message. */
  constructor(readonly stallMs: number, readonly state: () => string = () => '') {}

  bump(): void {
    for (const w of [...this.#waiters]) {
      if (w.test()) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve();
      } else {
        w.timer.refresh();
      }
    }
  }

  fail(e: Error): void {
    this.#failure ??= e;
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(e);
    }
  }

  until(test: () => boolean, what: string): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = {
        test,
        resolve,
        reject,
        what,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          reject(new Error(`stalled: nothing happened for ${this.stallMs} ms while waiting for ${what} (${this.state()})`));
        }, this.stallMs),
      };
      this.#waiters.push(w);
    });
  }
}

/** A small seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let runs = 0;

export async function runFaults(opts: FaultOptions): Promise<FaultReport> {
  const { type, transport, restarts } = opts;
  const impl = opts.peer ?? 'zeromq';
  const window = opts.window ?? 16;
  const random = prng(opts.seed ?? 0x5eed);
  const progress = new Progress(opts.stallMs ?? 30_000, () =>
    `epoch ${epoch}, next seq ${nextSeq}, last delivered ${lastDelivered}, base ${base}, handshakes ${report.handshakes}, disconnects ${report.disconnects}`);
  const started = performance.now();
  const report: FaultReport = {
    type, transport, peer: impl, restarts, reconnectInterval: opts.reconnectInterval ?? 100, window,
    handshakes: 0, disconnects: 0, connectRetries: 0,
    reconnectMs: [], outageMs: [], subscribeMs: [], subscriptionsRestored: 0,
    sent: 0, delivered: 0, lostPerRestart: new Array(restarts + 1).fill(0), bindRetries: 0,
    violations: [], elapsedMs: 0,
  };
  const violation = (v: string): void => {
    if (report.violations.length < 50) report.violations.push(v);
  };
  const fatal = (why: string): void => {
    violation(why);
    progress.fail(new Error(why));
  };

  // ---- the sequence book: who was sent when, what came, what was lost ----
  let nextSeq = 0;
  let lastDelivered = -1;
  /** Deliveries so far. */
  let acks = 0;
  /** epochStart[e]: the first sequence number sent in epoch e (after kill e, before kill e + 1). */
  const epochStart: number[] = [0];
  let epoch = 0;
  /** Flow control: the sender may run `window` ahead of max(lastDelivered, base); a handshake moves base. */
  let base = -1;
  const epochOf = (seq: number): number => {
    let e = epochStart.length - 1;
    while (e > 0 && epochStart[e] > seq) e--;
    return e;
  };
  // SUB: only the topics subscribed in a message's epoch count as sent.
  const counts = (seq: number): boolean => type !== 'SUB' || topicsOf(epochOf(seq)).includes(TOPICS[seq % TOPICS.length]);
  const lose = (seq: number): void => {
    if (counts(seq)) report.lostPerRestart[epochOf(seq)]++;
  };
  /** A message came through: whole, in order, not seen before. */
  const deliver = (frames: readonly Uint8Array[] | undefined, seqFromPeer?: number): void => {
    let seq: number;
    if (frames !== undefined) {
      const checked = check(frames);
      if ('bad' in checked) return violation(`not a whole message: ${checked.bad}`);
      seq = checked.seq;
    } else {
      seq = seqFromPeer as number;
    }
    if (seq <= lastDelivered) return violation(`seq ${seq} delivered after seq ${lastDelivered}: ${seq === lastDelivered ? 'a duplicate' : 'out of order or a duplicate'}`);
    for (let s = lastDelivered + 1; s < seq; s++) lose(s);
    lastDelivered = seq;
    report.delivered++;
    acks++;
    progress.bump();
  };

  // ---- our socket ----
  let stopping = false;
  const context = new Context();
  const options = { context, linger: 0, reconnectInterval: report.reconnectInterval };
  const sock =
    type === 'DEALER' ? new Dealer(options)
      : type === 'PUSH' ? new Push(options)
        : type === 'REQ' ? new Request({ ...options, relaxed: true, correlate: true })
          : new Subscriber(options);
  let lastHandshakeAt = 0;
  /** REQ: the receive to abandon when the peer goes (relaxed: the next request may go at once). */
  let pendingReply: AbortController | undefined;
  sock.events.on('handshake', () => {
    report.handshakes++;
    lastHandshakeAt = performance.now();
    base = nextSeq - 1;
    progress.bump();
  });
  sock.events.on('disconnect', () => {
    if (!stopping) report.disconnects++;
    pendingReply?.abort();
    progress.bump();
  });
  sock.events.on('connect:retry', () => {
    if (!stopping) report.connectRetries++;
  });
  if (type === 'SUB') for (const t of topicsOf(0)) (sock as Subscriber).subscribe(t);

  // ---- peers ----
  const peers: PeerProcess[] = [];
  const spawn = (): PeerProcess => {
    const p = new PeerProcess(PEER_TYPE[type], impl, fatal);
    peers.push(p);
    p.onMessage = (m) => {
      if (m.ev === 'error') fatal(`peer: ${m.error}`);
      else if (m.ev === 'got' && m.bad !== undefined) violation(`peer got a broken message: ${m.bad}`);
      else if (m.ev === 'got' && type === 'PUSH') deliver(undefined, m.seq);
      progress.bump();
    };
    return p;
  };
  /** Has the peer bind `endpoint` (once loaded) and returns what it bound. */
  const bind = async (p: PeerProcess, endpoint: string): Promise<{ endpoint: string; retries: number }> => {
    await progress.until(() => p.ready, 'a peer to load');
    p.send({ cmd: 'bind', endpoint });
    await progress.until(() => p.bound !== undefined, `a peer to bind ${endpoint}`);
    return p.bound as { endpoint: string; retries: number };
  };
  const run = runs++;
  const ipcPath = join(tmpdir(), `monocoque-faults-${process.pid}-${run}.sock`);
  let current = spawn();
  let spare = spawn();
  let publishing = false;
  /** The receiving loop (DEALER, SUB) and the sending one. */
  const loops: Promise<void>[] = [];
  let pump: Promise<void> = Promise.resolve();
  let killAt = 0;
  let boundAt = 0;

  try {
    const first = await bind(current, transport === 'tcp' ? 'tcp://127.0.0.1:*' : `ipc://${ipcPath}`);
    const endpoint = first.endpoint;
    sock.connect(endpoint);

    const mayAdvance = (): boolean => stopping || nextSeq <= Math.max(lastDelivered, base) + window;

    if (type === 'DEALER' || type === 'SUB') {
      loops.push((async () => {
        for await (const frames of sock) {
          if (type === 'SUB') {
            const topic = Buffer.from(frames[0]).toString();
            const rest = frames.slice(1);
            const checked = check(rest);
            if ('seq' in checked) {
              if (TOPICS[checked.seq % TOPICS.length] !== topic) violation(`seq ${checked.seq} came with topic ${topic}`);
              else if (!topicsOf(epochOf(checked.seq)).includes(topic)) violation(`seq ${checked.seq}: topic ${topic} was not subscribed when it was published`);
            }
            deliver(rest);
          } else {
            deliver(frames);
          }
        }
      })());
    }
    if (type === 'DEALER' || type === 'PUSH') {
      loops.push(pump = (async () => {
        while (!stopping) {
          await progress.until(mayAdvance, `room in the window to send seq ${nextSeq}`);
          if (stopping) break;
          report.sent++;
          await sock.send(body(nextSeq++));
        }
      })());
    }
    if (type === 'SUB') {
      loops.push(pump = (async () => {
        while (!stopping) {
          await progress.until(() => stopping || (publishing && mayAdvance()), `room in the window to publish seq ${nextSeq}`);
          if (stopping) break;
          const from = nextSeq;
          nextSeq += TOPICS.length;
          for (let s = from; s < nextSeq; s++) if (counts(s)) report.sent++;
          current.send({ cmd: 'publish', from, to: nextSeq - 1, topics: TOPICS });
        }
      })());
    }
    if (type === 'REQ') {
      loops.push(pump = (async () => {
        const req = sock as Request;
        while (!stopping) {
          const seq = nextSeq++;
          report.sent++;
          const abandon = new AbortController();
          pendingReply = abandon;
          await req.send(body(seq));
          try {
            const reply = await req.receive({ signal: abandon.signal });
            const checked = check(reply);
            if ('seq' in checked && checked.seq !== seq) violation(`request ${seq} got the reply to ${checked.seq}`);
            else deliver(reply);
          } catch (e) {
            // Abandoned: counted lost by the next delivery (it leaves a gap).
            if (!abandon.signal.aborted) throw e;
          }
        }
      })());
    }
    // A loop that fails ends the run with its error.
    for (const l of loops) l.catch((e: Error) => fatal(`traffic loop: ${e.stack ?? e}`));

    for (;;) {
      await progress.until(() => report.handshakes > epoch, `the handshake of epoch ${epoch}`);
      if (epoch > 0) {
        report.reconnectMs.push(lastHandshakeAt - boundAt);
        report.outageMs.push(lastHandshakeAt - killAt);
      }
      if (type === 'SUB') {
        const want = topicsOf(epoch);
        const peer = current;
        await progress.until(() => want.every((t) => peer.subs.includes(t)), `the new peer to hold subscriptions ${want.join(',')}`);
        report.subscribeMs.push(performance.now() - lastHandshakeAt);
        if (peer.subs.join(',') === want.join(',')) report.subscriptionsRestored++;
        else violation(`epoch ${epoch}: the peer holds subscriptions ${peer.subs.join(',')}, ours are ${want.join(',')}`);
        publishing = true;
        progress.bump();
      }
      // The spare is loaded before the count starts, so the kill comes right after the k-th delivery.
      const loaded = spare;
      await progress.until(() => loaded.ready, 'the spare peer to load');
      const k = 1 + Math.floor(random() * 3 * window);
      const from = acks;
      await progress.until(() => acks - from >= k, `${k} messages through in epoch ${epoch}`);
      if (epoch === restarts) break;

      // The kill: the spare is loaded and idle, so the endpoint is free only for as long as it takes
      // the dead peer's exit to be seen and the spare to bind.
      publishing = false;
      killAt = performance.now();
      await current.kill();
      epoch++;
      epochStart.push(nextSeq);
      if (type === 'SUB') {
        (sock as Subscriber).unsubscribe(TOPICS[(epoch - 1) % TOPICS.length]);
        (sock as Subscriber).subscribe(TOPICS[(epoch + 2) % TOPICS.length]);
      }
      current = spare;
      spare = spawn();
      const bound = await bind(current, endpoint);
      boundAt = performance.now();
      report.bindRetries += bound.retries;
      if (bound.endpoint !== endpoint) fatal(`the new peer bound ${bound.endpoint}, not ${endpoint}`);
    }

    // Drain the last epoch: nothing is killed, so everything sent must arrive.
    stopping = true;
    publishing = false;
    progress.bump();
    await pump;
    const lastSent = nextSeq - 1;
    const lastCounted = (() => {
      for (let s = lastSent; s >= 0; s--) if (counts(s)) return s;
      return -1;
    })();
    if (type !== 'REQ') await progress.until(() => lastDelivered >= lastCounted, `delivery of everything sent (up to seq ${lastCounted})`);
  } catch (e) {
    // A stall or a peer's failure stops the run; what was counted until then is still reported.
    report.violations.unshift(`the run stopped in epoch ${epoch} of ${restarts}: ${(e as Error).message}`);
  } finally {
    stopping = true;
    sock.close();
    await Promise.allSettled(loops);
    await Promise.all(peers.map((p) => p.kill()));
    if (transport === 'ipc') rmSync(ipcPath, { force: true });
    report.elapsedMs = performance.now() - started;
  }
  return report;
}

/** The p-th percentile (0..100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
