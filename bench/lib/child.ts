// The parent's side of a benchmark child process: spawn `node --import tsx bench/child.ts` (or
// another script under bench/, e.g. scale-child.ts), talk to it in JSON lines (commands on its
// stdin, events on its stdout; its stderr is ours).
//
//   parent ──{"cmd":"expect","count":N}──▶ receiver child ──{"event":"armed"}──▶ parent
//   parent ──{"cmd":"send","count":N}────▶ sender child
//   parent ◀──{"event":"done","rate":…}─── receiver child    parent ◀──{"event":"sent"}── sender

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ImplName } from './impl.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = new URL('../child.ts', import.meta.url);

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

/** What a child is asked to be. */
export interface ChildSpec {
  impl: ImplName;
  role: 'pull' | 'push' | 'rep' | 'req' | 'pair-echo' | 'pair' | 'router-echo' | 'dealers';
  /** Address to bind (`tcp://127.0.0.1:*`, `ipc:///tmp/…`); the child reports the real one. */
  bind?: string;
  connect?: string;
  /** Payload size in bytes, for senders. */
  size?: number;
  /** Our `busyPoll` option in µs (ours only; unset leaves the default). */
  busyPoll?: number;
  /** How many sockets the role opens (`dealers`: the clients sharing the process). */
  peers?: number;
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

  /** Starts a bench/child.ts child and waits for its `ready` event (which carries `endpoint` for a binder). */
  static start(spec: ChildSpec): Promise<{ child: Child; ready: ChildEvent }> {
    const args = ['--impl', spec.impl, '--role', spec.role];
    if (spec.bind !== undefined) args.push('--bind', spec.bind);
    if (spec.connect !== undefined) args.push('--connect', spec.connect);
    if (spec.size !== undefined) args.push('--size', String(spec.size));
    if (spec.busyPoll !== undefined) args.push('--busy-poll', String(spec.busyPoll));
    if (spec.peers !== undefined) args.push('--peers', String(spec.peers));
    return Child.launch({ label: `${spec.impl}:${spec.role}`, script: SCRIPT, args });
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
