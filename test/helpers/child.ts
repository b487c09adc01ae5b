// A child process run to its exit: what it printed, and how it ended. The bound only ends a hang
// (the child is killed with SIGKILL); the verdict is whatever the test reads from the result. And
// modules of src/ transpiled for such a child to run in plain node.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

const SRC = join(import.meta.dirname, '../../src');

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

/**
 * Writes the modules of src/ named in `modules` (`'transport/keep-alive'`, without `.ts`) into `dir`
 * as plain ES modules, laid out as in src/ so their relative imports resolve, for a child that runs
 * them in plain node: a loader such as tsx changes when the loop wakes and when collections fall,
 * which hid both the bugs these children show. Returns each module's file URL, in order.
 */
export function plainModules(dir: string, modules: readonly string[]): string[] {
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
  return modules.map((module) => {
    const source = readFileSync(join(SRC, `${module}.ts`), 'utf8');
    const file = join(dir, `${module}.js`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText);
    return pathToFileURL(file).href;
  });
}
