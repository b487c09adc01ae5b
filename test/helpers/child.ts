// A child process run to its exit: what it printed, and how it ended. The bound only ends a hang
// (the child is killed with SIGKILL); the verdict is whatever the test reads from the result.

import { spawn } from 'node:child_process';
import { once } from 'node:events';

export interface ChildResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs `node <args>` (this process's node) until it exits, killing it after `boundMs`. */
export async function runNode(args: string[], boundMs: number, cwd?: string): Promise<ChildResult> {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const killer = setTimeout(() => child.kill('SIGKILL'), boundMs);
  const [exitCode, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(killer);
  return { stdout, stderr, exitCode, signal };
}
