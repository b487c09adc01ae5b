// The published types (`npm run build`: tsc with tsconfig.build.json, stripInternal): what a user's
// editor sees. Runtime internals (`@internal`: the peer-host and pipe members transports call, the
// socket types' hooks) stay out of them, and what is left type-checks on its own, without
// skipLibCheck, from a user's file that imports the package entry.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder } from '../helpers/files.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Under node_modules, so the declarations' own imports (xstate) resolve as they would for a user.
const OUT = join(ROOT, 'node_modules', '.cache', `published-types-${process.pid}`);

/** Members the transports and pipes call, and the socket types' hooks: never in the published types. */
const INTERNAL = [
  'attachPeer', 'detachPeer', 'identifyPeer', 'refusePairing', 'lingerLeft', 'pipeReadable', 'pipeWritable',
  'pipeDropped', 'pipeDrained', 'pipeEnded', 'xsend', 'xrecv', 'canSendNow', 'checkSend', 'checkReceive', 'whenReleased',
];


let declarations: Map<string, string>;

beforeAll(() => {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.build.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (config === undefined) throw new Error('tsconfig.build.json does not parse');
  expect(config.options.stripInternal).toBe(true);
  const program = ts.createProgram(config.fileNames, { ...config.options, outDir: OUT, emitDeclarationOnly: true, declaration: true, sourceMap: false, declarationMap: false });
  const result = program.emit();
  expect(result.emitSkipped).toBe(false);
  declarations = new Map(filesUnder(OUT, '.d.ts').map((f) => [relative(OUT, f), readFileSync(f, 'utf8')]));
}, 120_000);

afterAll(() => {
  rmSync(OUT, { recursive: true, force: true });
});

describe('published types', () => {
  it('show the socket classes without the runtime\'s internal members', () => {
    expect(declarations.size).toBeGreaterThan(20);
    const found: string[] = [];
    // (machines name actions `attachPeer` and the like, and the transport layer's own interfaces
    // name what transports call: only the socket classes users hold are checked)
    for (const [file, text] of declarations) {
      if (!file.startsWith('src/socket/')) continue;
      for (const name of INTERNAL) if (new RegExp(`\\b${name}\\b`).test(text)) found.push(`${file}: ${name}`);
    }
    expect(found).toEqual([]);
  });

  it('type-check on their own (no skipLibCheck) from a user\'s file that uses the package entry', () => {
    const user = join(OUT, 'user.ts');
    writeFileSync(user, [
      "import { Context, Push, Pull, Router, Request, Subscriber, replyActor, pushMachine } from './src/index.js';",
      "import type { SocketActorEvent } from './src/index.js';",
      'const context = new Context();',
      "const push = new Push({ context, sendHighWaterMark: 10 });",
      "const pull = new Pull({ context });",
      "void push.bind('inproc://x');",
      "pull.connect('inproc://x');",
      "void push.send(['a', Buffer.from('b')]);",
      "void pull.receive().then((frames: Buffer[]) => frames.length);",
      "const router = new Router({ mandatory: true });",
      "const n: number = router.getSnapshot().context.peers.size;",
      "const req = new Request({ relaxed: true });",
      "const asked: number | null = req.getSnapshot().context.turn.asked;",
      "new Subscriber().subscribe('topic');",
      "const e: SocketActorEvent['type'] = 'zmq.message';",
      'export { n, asked, e, replyActor, pushMachine };',
    ].join('\n'));
    const program = ts.createProgram([user], {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules', '@types')],
    });
    const problems = ts.getPreEmitDiagnostics(program)
      .filter((d) => d.file === undefined || !d.file.fileName.includes('/node_modules/xstate/'))
      .map((d) => `${d.file === undefined ? '' : relative(OUT, d.file.fileName)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(problems).toEqual([]);
  }, 120_000);
});

mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
