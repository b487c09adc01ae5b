// The parent's side of a benchmark child process: spawn `node --import tsx bench/child.ts`, talk
// to it in JSON lines (commands on its stdin, events on its stdout; its stderr is ours).
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
const SCRIPT = fileURLToPath(new URL('../child.ts', import.meta.url));

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
  role: 'pull' | 'push' | 'rep' | 'req' | 'pair-echo' | 'pair';
  /** Address to bind (`tcp://127.0.0.1:*`, `ipc:///tmp/…`); the child reports the real one. */
  bind?: string;
  connect?: string;
  /** Payload size in bytes, for senders. */
  size?: number;
  /** Our `busyPoll` option in µs (ours only; unset leaves the default). */
  busyPoll?: number;
}

export class Child {
  readonly label: string;
  #proc: ChildProcess;
  #events: ChildEvent[] = [];
  #waiting: { resolve: (e: ChildEvent) => void; reject: (e: Error) => void } | undefined;
  #exited: Error | undefined;

  private constructor(spec: ChildSpec) {
    this.label = `${spec.impl}:${spec.role}`;
    const args = ['--import', 'tsx', SCRIPT, '--impl', spec.impl, '--role', spec.role];
    if (spec.bind !== undefined) args.push('--bind', spec.bind);
    if (spec.connect !== undefined) args.push('--connect', spec.connect);
    if (spec.size !== undefined) args.push('--size', String(spec.size));
    if (spec.busyPoll !== undefined) args.push('--busy-poll', String(spec.busyPoll));
    this.#proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    live.add(this);
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

  /** Starts a child and waits for its `ready` event (which carries `endpoint` for a binder). */
  static async start(spec: ChildSpec): Promise<{ child: Child; ready: ChildEvent }> {
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

  /** The next event, which must be `name` (an `error` event or anything else rejects). */
  async expect(name: string, timeoutMs = 60_000): Promise<ChildEvent> {
    const e = await this.#next(timeoutMs);
    if (e.event === name) return e;
    if (e.event === 'error') throw new Error(`child ${this.label}: ${String(e.message)}${e.code !== undefined ? ` (${String(e.code)})` : ''}`);
    throw new Error(`child ${this.label}: expected "${name}", got ${JSON.stringify(e)}`);
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
