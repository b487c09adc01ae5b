// The parent's side of a benchmark child process: spawn a script under bench/ (`Child.launch`),
// talk to it in JSON lines (commands on its stdin, events on its stdout; its stderr is ours). The
// workers of bench/child.ts are kept for the whole run (`worker`), each holding the ends of one
// benchmark at a time (`openEnd`); other scripts (scale-child.ts, security-child.ts) are launched
// per benchmark.
//
//   parent ──{"cmd":"expect","end":1,"count":N}──▶ receiving worker ──{"event":"armed"}──▶ parent
//   parent ──{"cmd":"send","end":2,"count":N}────▶ sending worker
//   parent ◀──{"event":"done","rate":…}─────────── receiving worker   parent ◀──{"event":"sent"}── sending worker

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ImplName } from './impl.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKER = new URL('../child.ts', import.meta.url);

/** Children still running, killed if the parent exits first (an error mid-benchmark, Ctrl-C). */
const live = new Set<Child>();
process.on('exit', () => {
  for (const c of live) c.kill();
});

/** An event line from a child. `event` names it; the rest depends on the event. */
export interface ChildEvent {
  event: string;
  [key: string]: unknown;
}

/** Any script under bench/ speaking the same JSON lines: what `Child.launch` runs. */
export interface LaunchSpec {
  /** Names the child in errors and in its relayed output. */
  label: string;
  script: URL;
  args: string[];
  /** Node flags before `--import tsx` (e.g. `--expose-gc`). */
  nodeArgs?: string[];
}

/** An `error` or `failed` event from a child, as an Error that keeps the event (`failed.at`, …). */
export class ChildError extends Error {
  constructor(
    message: string,
    readonly event: ChildEvent,
  ) {
    super(message);
  }
}

export class Child {
  readonly label: string;
  #proc: ChildProcess;
  #events: ChildEvent[] = [];
  #waiting: { resolve: (e: ChildEvent) => void; reject: (e: Error) => void } | undefined;
  #exited: Error | undefined;

  private constructor(spec: LaunchSpec) {
    this.label = spec.label;
    const argv = [...(spec.nodeArgs ?? []), '--import', 'tsx', fileURLToPath(spec.script), ...spec.args];
    this.#proc = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    live.add(this);
    // Writing to a child that has just died fails with EPIPE; its exit is reported on its own.
    this.#proc.stdin?.on('error', () => {});
    const lines = createInterface({ input: this.#proc.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => this.#line(line));
    this.#proc.on('exit', (code, signal) => {
      live.delete(this);
      this.#exited = new Error(`child ${this.label} exited (${signal ?? `code ${code}`})`);
      this.#waiting?.reject(this.#exited);
      this.#waiting = undefined;
    });
    this.#proc.on('error', (e) => {
      live.delete(this);
      this.#exited = e;
      this.#waiting?.reject(e);
      this.#waiting = undefined;
    });
  }

  /** Starts any child script and waits for its `ready` event. */
  static async launch(spec: LaunchSpec): Promise<{ child: Child; ready: ChildEvent }> {
    const child = new Child(spec);
    try {
      return { child, ready: await child.expect('ready', 30_000) };
    } catch (e) {
      child.kill();
      throw e;
    }
  }

  send(cmd: { cmd: string; [key: string]: unknown }): void {
    this.#proc.stdin?.write(`${JSON.stringify(cmd)}\n`);
  }

  /** The next event, which must be `name` (an `error` or `failed` event or anything else rejects). */
  async expect(name: string, timeoutMs = 60_000): Promise<ChildEvent> {
    const e = await this.#next(timeoutMs);
    if (e.event === name) return e;
    throw this.#unexpected(name, e);
  }

  /**
   * The first event named `name`, leaving other events queued for later calls: for a child that
   * reports two things at once in an order it cannot promise (its sender's `attached`, its
   * receiver's `done`). An `error` or `failed` event rejects, wherever it is.
   */
  async waitFor(name: string, timeoutMs = 60_000): Promise<ChildEvent> {
    const at = this.#events.findIndex((e) => e.event === name || e.event === 'error' || e.event === 'failed');
    if (at >= 0) {
      const [e] = this.#events.splice(at, 1) as [ChildEvent];
      if (e.event === name) return e;
      throw this.#unexpected(name, e);
    }
    // Nothing queued matches: set the queue aside, read new events, then put it back in order.
    const skipped = this.#events.splice(0);
    const deadline = performance.now() + timeoutMs;
    try {
      for (;;) {
        const e = await this.#next(Math.max(1, deadline - performance.now()));
        if (e.event === name) return e;
        if (e.event === 'error' || e.event === 'failed') throw this.#unexpected(name, e);
        skipped.push(e);
      }
    } finally {
      this.#events.unshift(...skipped);
    }
  }

  /** Asks the child to close its sockets and exit; kills it if it has not within 5 s. */
  async close(): Promise<void> {
    if (this.#exited !== undefined) return;
    const gone = new Promise<void>((resolve) => this.#proc.once('exit', () => resolve()));
    this.#proc.stdin?.end();
    const timer = setTimeout(() => this.kill(), 5_000);
    await gone;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.#exited === undefined) this.#proc.kill('SIGKILL');
  }

  /** Whether the process has exited (or failed to start). */
  get exited(): boolean {
    return this.#exited !== undefined;
  }

  #unexpected(name: string, e: ChildEvent): Error {
    if (e.event === 'error' || e.event === 'failed') {
      return new ChildError(`child ${this.label}: ${String(e.message)}${e.code !== undefined ? ` (${String(e.code)})` : ''}`, e);
    }
    return new ChildError(`child ${this.label}: expected "${name}", got ${JSON.stringify(e)}`, e);
  }

  #line(line: string): void {
    if (!line.startsWith('{')) {
      process.stderr.write(`[${this.label}] ${line}\n`);
      return;
    }
    let e: ChildEvent;
    try {
      e = JSON.parse(line) as ChildEvent;
    } catch {
      process.stderr.write(`[${this.label}] ${line}\n`);
      return;
    }
    const w = this.#waiting;
    if (w !== undefined) {
      this.#waiting = undefined;
      w.resolve(e);
    } else {
      this.#events.push(e);
    }
  }

  #next(timeoutMs: number): Promise<ChildEvent> {
    const queued = this.#events.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#exited !== undefined) return Promise.reject(this.#exited);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting = undefined;
        reject(new Error(`child ${this.label}: no event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting = {
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
    });
  }
}

/** Which of an implementation's two workers: `a` hosts binders (and both ends in one process), `b` connectors. */
export type WorkerSlot = 'a' | 'b';

const workers = new Map<string, Promise<Child>>();

/**
 * The worker `slot` of `impl` (bench/child.ts), started on first use and kept: a benchmark's
 * start-up then costs no process start-up, which keeps `--quick` under a minute. A worker that
 * has died (a failed benchmark ends it) is replaced.
 */
export async function worker(impl: ImplName, slot: WorkerSlot): Promise<Child> {
  const key = `${impl}:${slot}`;
  const known = workers.get(key);
  if (known !== undefined) {
    const c = await known.catch(() => undefined);
    if (c !== undefined && !c.exited) return c;
  }
  const started = Child.launch({ label: `${impl}:${slot}`, script: WORKER, args: ['--impl', impl], nodeArgs: ['--expose-gc'] }).then((r) => r.child);
  workers.set(key, started);
  return started;
}

/** Ends every worker (at the end of a run). */
export async function closeWorkers(): Promise<void> {
  const all = [...workers.values()];
  workers.clear();
  await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.close()));
}

/** What an end is asked to be (bench/child.ts lists the roles). */
export interface EndSpec {
  role: string;
  /** Address to bind (`tcp://127.0.0.1:*`, `ipc:///tmp/…`); the end reports the real one. */
  bind?: string;
  connect?: string;
  /** Payload size in bytes, for senders. */
  size?: number;
  /** Sockets (or connections) a connecting end opens. */
  peers?: number;
  /** How a publisher and its subscribers split topics (0: none, subscribers take everything). */
  topics?: number;
  /** Our `busyPoll` option in µs (ours only; unset leaves the default). */
  busyPoll?: number;
  /** Use sendMany/receiveMany in batches of this many (push, pull). */
  batch?: number;
}

/**
 * The sockets of one role in a child: commands sent through it carry its id, and its events are
 * awaited with `waitFor`, so two ends in one worker (or a worker's other events) never mix.
 * A child of another script (security-child.ts) is an end without an id.
 */
export class End {
  constructor(
    readonly child: Child,
    readonly id?: number,
    readonly endpoint?: string,
  ) {}

  send(cmd: { cmd: string; [key: string]: unknown }): void {
    this.child.send(this.id === undefined ? cmd : { ...cmd, end: this.id });
  }

  waitFor(name: string, timeoutMs?: number): Promise<ChildEvent> {
    return this.child.waitFor(name, timeoutMs);
  }

  /** Closes the end's sockets (a worker) or the whole child (any other script). */
  async close(): Promise<void> {
    if (this.id === undefined) return this.child.close();
    if (this.child.exited) return;
    this.send({ cmd: 'close' });
    await this.waitFor('closed', 10_000);
  }
}

/** Opens an end in a worker. */
export async function openEnd(child: Child, spec: EndSpec): Promise<End> {
  child.send({ cmd: 'open', ...spec });
  const e = await child.waitFor('opened', 30_000);
  return new End(child, e.end as number, typeof e.endpoint === 'string' ? e.endpoint : undefined);
}
