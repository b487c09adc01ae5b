// Running exit-child.ts: a process that closes sockets caught in every kind of pending call and must
// then exit by itself. Shared by shutdown.test.ts and scripts/reliability.ts.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** A node:net server that accepts and reads but never answers: a ZMTP handshake with it hangs. */
export async function silentServer(listen: { port: 0; host: string } | { path: string }): Promise<{ endpoint: string; accepted: Promise<net.Socket>; close(): void }> {
  let accept!: (s: net.Socket) => void;
  const accepted = new Promise<net.Socket>((r) => (accept = r));
  const streams = new Set<net.Socket>();
  const server = net.createServer((s) => {
    streams.add(s);
    s.on('error', () => {});
    s.on('close', () => streams.delete(s));
    s.resume();
    accept(s);
  });
  await new Promise<void>((r) => ('path' in listen ? server.listen(listen.path, r) : server.listen(0, listen.host, r)));
  const endpoint = 'path' in listen ? `ipc://${listen.path}` : `tcp://${listen.host}:${(server.address() as net.AddressInfo).port}`;
  return {
    endpoint,
    accepted,
    close: () => {
      server.close();
      for (const s of streams) s.destroy();
    },
  };
}

export interface ExitChildResult {
  /** How the child ended. */
  code: number | null;
  signal: string | null;
  stderr: string;
  /** Each pending call and how it settled: 'resolved' or an error code. */
  outcomes: Record<string, string>;
  unhandled: string[];
  /** Active resources the child held after the release that it did not hold before its sockets. */
  leftover: string[];
  closed: boolean;
  /** ms from the close() calls to the last socket released, and to the process's `exit` event. */
  releasedAfterMs: number;
  exitAfterMs: number;
  /** ms from spawning the child to its end (startup included). */
  wallMs: number;
}

/** Runs exit-child.ts with `linger` on every socket. */
export async function runExitChild(linger: number): Promise<ExitChildResult> {
  const silent = await silentServer({ port: 0, host: '127.0.0.1' });
  const dir = mkdtempSync(join(tmpdir(), 'monocoque-exit-'));
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'exit-child.ts'), JSON.stringify({ linger, silent: silent.endpoint, dir })], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stderr = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (stderr += d));
  const [code, signal] = await new Promise<[number | null, string | null]>((r) => child.on('close', (c, s) => r([c, s])));
  const wallMs = performance.now() - started;
  silent.close();
  rmSync(dir, { recursive: true, force: true });
  const lines = out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const report = (lines.find((l) => 'outcomes' in l) ?? {}) as Partial<ExitChildResult>;
  const exit = (lines.find((l) => 'exitAfterMs' in l) ?? {}) as { exitAfterMs?: number };
  return {
    code, signal, stderr,
    outcomes: report.outcomes ?? {},
    unhandled: report.unhandled ?? [],
    leftover: report.leftover ?? [],
    closed: report.closed ?? false,
    releasedAfterMs: report.releasedAfterMs ?? NaN,
    exitAfterMs: exit.exitAfterMs ?? NaN,
    wallMs,
  };
}
