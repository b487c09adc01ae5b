// xstate through its public API only: users share xstate with their own machines and upgrade it
// within the range package.json allows, so no file of the runtime may lean on a `_`-prefixed or
// undocumented member of it (`snapshot._nodes`, `self._parent`, `system._relay`, …).
//
// What counts as public: a member of xstate's published type declarations that is not `_`-prefixed.
// xstate builds those declarations with its `@internal` members stripped (`createInertActorScope` is in
// its bundle, not its types), and `npm run typecheck` proves each member the runtime reaches is there:
// no member access is cast, and every options object given to `createActor` is checked as xstate's
// `ActorOptions`. Three of those members carry no doc comment of their own, and each is the one
// public route to what it does: `ActorOptions.parent` (an actor in the supervisor's system without
// the supervisor copying its children), `ActorScope.actionExecutor` (how xstate's pure `transition()`
// collects actions), `StateMachine.implementations` (what `provide()` gave). The fast edges read each
// state node's documented `on` map, not its `transitions`.

import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { filesUnder } from '../helpers/files.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));


/**
 * Each line of `text` outside comments that reaches for a `_`-prefixed member: `._x`, `?._x`,
 * `['_x']`, a `'_x'` handed to anything (`Reflect.get(o, '_x')`, `'_x' in o`), or `_x` taken apart
 * from an object (`const { _x } = o`, `{ a, _x: y }`).
 */
function privateReaches(text: string): string[] {
  const hits: string[] = [];
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '));
  code.split('\n').forEach((line, i) => {
    const bare = line.replace(/\/\/.*$/, '').replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`/g, (s) => (/^['"`]_[A-Za-z]/.test(s) ? s : '""'));
    const member = /\??\.\s*_[A-Za-z]/.test(bare);
    const named = /['"`]_[A-Za-z]/.test(bare);
    const destructured = /\{\s*(?:[\w$]+\s*(?::\s*[\w$]+)?\s*,\s*)*_[A-Za-z][\w$]*\s*[,:}=]/.test(bare);
    if (member || named || destructured) hits.push(`${i + 1}: ${line.trim()}`);
  });
  return hits;
}

describe('xstate through its public API only', () => {
  it('no file in src/ or machines/ reaches for a _-prefixed member', () => {
    const found: string[] = [];
    for (const file of [...filesUnder(join(ROOT, 'src'), '.ts'), ...filesUnder(join(ROOT, 'machines'), '.ts')]) {
      for (const hit of privateReaches(readFileSync(file, 'utf8'))) found.push(`${relative(ROOT, file)}:${hit}`);
    }
    expect(found).toEqual([]);
  });

  it('the check finds what it looks for (it would catch the members the runtime once used)', () => {
    expect(privateReaches('const n = snapshot._nodes;\nself?._parent.send(e);\nsystem["_relay"](a, b, e);')).toHaveLength(3);
    const evasions = [
      'const { _relay } = system;',
      'const { id, _relay: relay } = system;',
      "const relay = Reflect.get(system, '_relay');",
      "if ('_parent' in self) f();",
      'const key = `_nodes`; const n = snapshot[key];',
    ];
    for (const line of evasions) expect(privateReaches(line), line).toHaveLength(1);
    expect(privateReaches('// snapshot._nodes in a comment\nconst s = "a._b";\nconst x = a.b_c;')).toEqual([]);
    expect(privateReaches('function f(a: number, _unused: string) {}\nconst { a, b_c } = o;\nconst t = { x: 1 };')).toEqual([]);
  });

  it('xstate stays a range users can share: a caret range from the version the tests lock', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies.xstate).toMatch(/^\^5\.\d+\.\d+$/);
  });
});
