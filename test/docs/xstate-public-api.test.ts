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
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { filesUnder } from '../helpers/files.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Each place in `text` (TypeScript source) that reaches for a `_`-prefixed member, found in its
 * syntax tree so that no layout or comment hides one: `o._x` and `o?._x`; `o['_x']`; a `'_x'`
 * string anywhere (`Reflect.get(o, '_x')`, `'_x' in o`, a key kept in a variable); and `_x` taken
 * apart from an object (`const { _x } = o`, `{ a = 1, _x: y }`, over lines, nested). Each as
 * "line: source line".
 */
function privateReaches(text: string): string[] {
  const file = ts.createSourceFile('check.ts', text, ts.ScriptTarget.Latest, true);
  const lines = text.split('\n');
  const hits: string[] = [];
  const hit = (node: ts.Node): void => {
    const line = file.getLineAndCharacterOfPosition(node.getStart(file)).line;
    hits.push(`${line + 1}: ${(lines[line] ?? '').trim()}`);
  };
  const underscored = (name: string): boolean => /^_[A-Za-z]/.test(name);
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && underscored(node.name.text)) hit(node.name);
    else if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && underscored(node.text)) hit(node);
    else if (ts.isBindingElement(node) && ts.isObjectBindingPattern(node.parent)) {
      const key = node.propertyName ?? node.name;
      if ((ts.isIdentifier(key) || ts.isStringLiteral(key)) && underscored(key.text)) hit(key);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
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
      'const {\n  id,\n  _relay,\n} = system;',
      'const { id = 1, _relay } = system;',
      'const { a: { b }, _relay } = system;',
      'function f({ _parent }: typeof self) {}',
      'const n = snapshot /* a comment */ . /* and another */ _nodes;',
    ];
    for (const source of evasions) expect(privateReaches(source), source).toHaveLength(1);
    expect(privateReaches('// snapshot._nodes in a comment\n/* system._relay */\nconst s = "a._b";\nconst x = a.b_c;')).toEqual([]);
    // Not reaches: a parameter or a key of our own that starts with _, and names with _ inside.
    expect(privateReaches('function f(a: number, _unused: string) {}\nconst { a, b_c } = o;\nconst t = { _fd: 1, x: 1 };\nconst { x: _y } = o;')).toEqual([]);
  });

  it('xstate stays a range users can share: a caret range from the version the tests lock', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies.xstate).toMatch(/^\^5\.\d+\.\d+$/);
  });
});
