// The package as a user gets it: `npm pack` (its `prepack` cleans dist/ and builds it) makes a tarball,
// the tarball installs into an empty project outside this checkout with nothing but its own declared
// dependencies (xstate, libsodium-wrappers), and from there
//   - the README's "## Example" block runs with node as an ES module, as written;
//   - `require('monocoque')` gets the CommonJS build (dist/cjs/, scripts/build-cjs.mjs): the README's
//     Example (inproc) and Security (CURVE over tcp) blocks, compiled to CommonJS as a TypeScript user's
//     would be (the rest wrapped in an async function), run from .cjs files;
//   - every entry in `exports` (`.`, `./browser`, `./testing`) resolves, for `import` and for `require`,
//     to a file that is in it;
//   - a user file importing 'monocoque' type-checks with `tsc --strict`, without skipLibCheck, on
//     Node's types (the repository's own @types/node: the project installs none), as an ES module
//     and as CommonJS (a .cts file, module node16: the `require` condition's declarations);
//   - a user file importing 'monocoque/browser' type-checks the way a browser project compiles it:
//     no @types/node anywhere in the project, `types: []`, `lib: ["ES2022", "DOM"]`;
//   - the source maps (and declaration maps) point at sources the tarball ships (src/, machines/).
//
//   npm pack ──▶ tmp/monocoque-<v>.tgz ──▶ tmp/app: npm install <tgz> ──▶ node example.mjs, node example.cjs
//                                                                     └─▶ tsc -p node/ , cjs/ , browser/
//
// Slow for a unit test (build + pack + install + three tsc runs: about 20 s on a 2-core machine), so
// the timeouts are generous.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder } from '../helpers/files.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const HANG_REPORT = join(import.meta.dirname, 'hang-report.cjs');

/**
 * What the browser type-check may report: nothing. Received frames are typed `ReceivedFrame`
 * (src/core/frame.ts), Buffer where Node's types are loaded and Uint8Array where they are not; before
 * that, the declarations named `Buffer` four times and a project without @types/node could not
 * compile against them.
 */
const KNOWN_BROWSER_TYPE_ERRORS: string[] = [];

interface Packed {
  filename: string;
  files: { path: string }[];
}

let work: string;
let app: string;
let pkgDir: string;
let packed: Packed;
let started: number;

/**
 * A README block (TypeScript, ES module, top-level await) as a TypeScript user compiling to CommonJS
 * gets it: the imports stay on top (tsc turns them into `require` calls), the rest runs in an async
 * function.
 */
function asCommonJs(block: string): string {
  const imports: string[] = [];
  const body = block.replace(/^import [^;]*;\n/gm, (line) => {
    imports.push(line);
    return '';
  });
  const source = [...imports, '(async () => {', body, '})().catch((e) => { console.error(e); process.exitCode = 1; });', ''].join('\n');
  return ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
}

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 150_000 });
  } catch (e) {
    // What the command printed before it failed or timed out (hang-report.cjs's report included).
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    (e as Error).message += `\n--- stdout:\n${stdout ?? ''}\n--- stderr:\n${stderr ?? ''}`;
    throw e;
  }
}

/** Runs a README block compiled to CommonJS, with hang-report.cjs preloaded: a hang says what it waits on. */
function runCjs(file: string): string {
  return run(process.execPath, ['-r', HANG_REPORT, file], app);
}

/** `tsc -p <dir>`: its diagnostics as `file: TSnnnn: message` (file relative to the package, no line numbers). */
function typeCheck(dir: string): string[] {
  try {
    run(TSC, ['-p', dir, '--pretty', 'false'], app);
    return [];
  } catch (e) {
    const out = String((e as { stdout?: string }).stdout ?? '') || String(e);
    return out.split('\n').filter((l) => / error TS\d+:/.test(l)).map((l) => {
      const m = /^(.*?)\(\d+,\d+\): error (TS\d+): (.*)$/.exec(l);
      if (m === null) return l;
      const file = (m[1] as string).replace(/^node_modules\/monocoque\//, '');
      return `${file}: ${m[2]}: ${(m[3] as string).replace(/ Do you need to install.*$/, '')}`;
    }).sort();
  }
}

beforeAll(() => {
  started = Date.now();
  work = mkdtempSync(join(tmpdir(), 'monocoque-pack-'));
  // `npm pack --json` prints its report on stdout; the prepack build's output goes to stderr.
  const report = JSON.parse(run(NPM, ['pack', '--json', '--pack-destination', work], ROOT)) as Packed[];
  packed = report[0] as Packed;
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }, null, 2));
  // The dependencies come from the npm cache (prefer-offline); nothing of ours needs install scripts.
  run(NPM, ['install', join(work, packed.filename), '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline', '--no-package-lock'], app);
  pkgDir = join(app, 'node_modules', 'monocoque');
}, 180_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('npm package', () => {
  it('pack: prepack builds dist/ afresh, and the tarball holds dist, src, machines, LICENSE, README and nothing else', () => {
    // prepack removes dist/ and rebuilds it: what is there now was written during this run.
    expect(statSync(join(ROOT, 'dist', 'src', 'index.js')).mtimeMs).toBeGreaterThanOrEqual(started - 1000);
    const tops = new Set(packed.files.map((f) => f.path.split('/')[0]));
    expect([...tops].sort()).toEqual(['LICENSE', 'README.md', 'dist', 'machines', 'package.json', 'src']);
    expect(packed.files.filter((f) => /\.test\.|(^|\/)test\//.test(f.path))).toEqual([]);
    const license = readFileSync(join(pkgDir, 'LICENSE'), 'utf8');
    expect(license.startsWith('Mozilla Public License Version 2.0\n')).toBe(true);
    expect(license).toContain('Exhibit B - "Incompatible With Secondary Licenses" Notice');
    const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { license: string; dependencies: Record<string, string> };
    expect(manifest.license).toBe('MPL-2.0');
    // Only what the installed package declares came with it.
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['libsodium-wrappers', 'xstate']);
  });

  it('exports: every target of ".", "./browser", "./testing" is in the tarball, for import and require, types first', () => {
    const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
      main: string; types: string; exports: Record<string, string | Record<string, string | Record<string, string>>>;
    };
    expect(Object.keys(manifest.exports)).toEqual(expect.arrayContaining(['.', './browser', './testing']));
    const targets = [manifest.main, manifest.types];
    for (const [key, value] of Object.entries(manifest.exports)) {
      if (typeof value === 'string') {
        targets.push(value);
        continue;
      }
      expect(Object.keys(value), key).toEqual(['import', 'require', 'default']);
      for (const [condition, target] of Object.entries(value)) {
        if (typeof target === 'string') {
          targets.push(target);
          continue;
        }
        // TypeScript takes the first condition that matches: `types` must come before `default`.
        expect(Object.keys(target), `${key} ${condition}`).toEqual(['types', 'default']);
        targets.push(...Object.values(target));
      }
    }
    expect(targets.filter((t) => !existsSync(join(pkgDir, t)))).toEqual([]);
    // Under dist/cjs, .js and .d.ts files are CommonJS, whatever the package's own "type" says.
    expect(JSON.parse(readFileSync(join(pkgDir, 'dist', 'cjs', 'package.json'), 'utf8'))).toEqual({ type: 'commonjs' });
  });

  it('source maps: every map in the tarball names sources the tarball ships', () => {
    const maps = filesUnder(join(pkgDir, 'dist'), '.map');
    // .js.map and .d.ts.map for every module
    expect(maps.filter((m) => m.endsWith('.d.ts.map')).length).toBeGreaterThan(20);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources, sourceRoot } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const s of sources) {
        const file = resolve(dirname(map), sourceRoot ?? '', s);
        if (!file.startsWith(pkgDir + sep) || !existsSync(file)) missing.push(`${relative(pkgDir, map)} -> ${s}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("readme: the Example block runs from the installed package (node, ES module)", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /## Example\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    writeFileSync(join(app, 'example.mjs'), block as string);
    expect(run(process.execPath, ['example.mjs'], app)).toBe("job 42\n{ open: 'ready' }\n");
    // and the other two entries load in plain node
    const entries = run(process.execPath, ['--input-type=module', '-e',
      "const b = await import('monocoque/browser'); const t = await import('monocoque/testing');" +
      "console.log(typeof b.Push, typeof t.modelPaths)"], app);
    expect(entries).toBe('function function\n');
  });

  it('require: the README Example (inproc) and Security (CURVE over tcp) blocks run from CommonJS', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const example = /## Example\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    const security = /## Security: CURVE, PLAIN and ZAP[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    expect(security).toBeDefined();
    writeFileSync(join(app, 'example.cjs'), asCommonJs(example as string));
    expect(runCjs('example.cjs')).toBe("job 42\n{ open: 'ready' }\n");
    // CURVE loads libsodium-wrappers lazily: from CommonJS, its CommonJS build.
    writeFileSync(join(app, 'security.cjs'), asCommonJs(security as string));
    expect(runCjs('security.cjs')).toBe('user known\nsealed\n');
    // What require() got is the CommonJS copy, one per entry; the ES entries are another copy (the
    // dual-package hazard, README "Install"): errors still match across them, by `code`.
    const entries = run(process.execPath, ['-e', [
      "const m = require('monocoque'), b = require('monocoque/browser'), t = require('monocoque/testing');",
      "console.log(require.resolve('monocoque').includes('/dist/cjs/'), m.Push === b.Push, m.default.Push === m.Push, typeof t.modelPaths);",
      "import('monocoque').then((esm) => { let e; try { new esm.Push({ linger: -2 }); } catch (x) { e = x; }",
      "  console.log(esm.Push === m.Push, m.isZmqError(e, 'EINVAL')); });",
    ].join('\n')], app);
    expect(entries).toBe('true true true function\nfalse true\n');
  });

  it('types: a Node user file importing monocoque and monocoque/testing passes tsc --strict, no skipLibCheck', () => {
    mkdirSync(join(app, 'node'), { recursive: true });
    writeFileSync(join(app, 'node', 'user.ts'), [
      "import { Dealer, Pull, Push, Router, pushMachine } from 'monocoque';",
      "import type { SocketActorEvent } from 'monocoque';",
      "import { modelPaths } from 'monocoque/testing';",
      "const push = new Push({ sendHighWaterMark: 10, linger: 0 });",
      "await push.bind('tcp://127.0.0.1:*');",
      "const frames: Buffer[] = await new Pull().receive();",
      "const peers: number = new Router({ mandatory: true }).getSnapshot().context.peers.size;",
      "new Dealer().connect('ipc:///tmp/monocoque-user.sock');",
      "const kind: SocketActorEvent['type'] = 'zmq.message';",
      "const paths: number = modelPaths(pushMachine).length;",
      'export { frames, peers, kind, paths };',
    ].join('\n'));
    writeFileSync(join(app, 'node', 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, skipLibCheck: false, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext',
        lib: ['ES2022'], types: ['node'],
        // The app installs no @types/node: Node's types are the ones this repository uses.
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files: ['user.ts'],
    }, null, 2));
    expect(typeCheck('node')).toEqual([]);
  }, 60_000);

  it('types: a CommonJS user file (.cts, module node16) requiring monocoque and monocoque/testing passes tsc --strict', () => {
    mkdirSync(join(app, 'cjs'), { recursive: true });
    writeFileSync(join(app, 'cjs', 'user.cts'), [
      "import { Dealer, Pull, Push, Router, pushMachine } from 'monocoque';",
      "import type { SocketActorEvent } from 'monocoque';",
      "import zmq = require('monocoque');",
      "import { modelPaths } from 'monocoque/testing';",
      "async function main(): Promise<Buffer[]> {",
      "  const push = new Push({ sendHighWaterMark: 10, linger: 0 });",
      "  await push.bind('tcp://127.0.0.1:*');",
      "  return new Pull().receive();",
      "}",
      "const peers: number = new Router({ mandatory: true }).getSnapshot().context.peers.size;",
      "new Dealer().connect('ipc:///tmp/monocoque-user.sock');",
      "const kind: SocketActorEvent['type'] = 'zmq.message';",
      "const paths: number = modelPaths(pushMachine).length;",
      "const same: typeof zmq.Push = zmq.default.Push;",
      'export { main, peers, kind, paths, same };',
    ].join('\n'));
    writeFileSync(join(app, 'cjs', 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, skipLibCheck: false, target: 'ES2022', module: 'Node16', moduleResolution: 'Node16',
        lib: ['ES2022'], types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files: ['user.cts'],
    }, null, 2));
    expect(typeCheck('cjs')).toEqual([]);
  }, 60_000);

  it('types: a browser user file importing monocoque/browser passes tsc --strict with no Node types at all', () => {
    expect(existsSync(join(app, 'node_modules', '@types'))).toBe(false);
    mkdirSync(join(app, 'browser'), { recursive: true });
    writeFileSync(join(app, 'browser', 'user.ts'), [
      "import { Pull, Push, Router, isZmqError } from 'monocoque/browser';",
      "import type { SocketActorEvent } from 'monocoque/browser';",
      "const push = new Push({ sendHighWaterMark: 10 });",
      "await push.bind('inproc://jobs');",
      'const pull = new Pull();',
      "pull.connect('inproc://jobs');",
      "await push.send(['job', new Uint8Array([42])]);",
      'const frames = await pull.receive();',
      'const first: Uint8Array | undefined = frames[0];',
      'const peers: number = new Router().getSnapshot().context.peers.size;',
      "const kind: SocketActorEvent['type'] = 'zmq.message';",
      'export { first, peers, kind, isZmqError };',
    ].join('\n'));
    writeFileSync(join(app, 'browser', 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, skipLibCheck: false, target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler',
        lib: ['ES2022', 'DOM'], types: [],
      },
      files: ['user.ts'],
    }, null, 2));
    expect(typeCheck('browser')).toEqual(KNOWN_BROWSER_TYPE_ERRORS);
  }, 60_000);
});
