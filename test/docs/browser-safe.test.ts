// The browser entry (and so src/core/, src/protocol/, machines/ and the inproc transport) reaches no
// node: module, directly or through another file: the playground runs this code in a page.

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const importRe = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

/** Every module reachable from `entry` by static imports, with the bare specifiers each imports. */
function reach(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop() as string;
    if (seen.has(file)) continue;
    const text = readFileSync(file, 'utf8');
    const bare: string[] = [];
    for (const m of text.matchAll(importRe)) {
      const spec = (m[1] ?? m[2]) as string;
      if (spec.startsWith('.')) todo.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else bare.push(spec);
    }
    seen.set(file, bare);
  }
  return seen;
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? tsFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(root, dir, d.name)] : [],
  );
}

describe('browser safety', () => {
  it('browser entry: no module reachable from src/browser.ts imports a node: module or a Node-only package', () => {
    const graph = reach(join(root, 'src/browser.ts'));
    const offenders = [...graph].flatMap(([file, bare]) =>
      bare.filter((s) => s.startsWith('node:') || ['net', 'fs', 'os', 'path', 'zeromq'].includes(s)).map((s) => `${file.slice(root.length + 1)} imports ${s}`),
    );
    expect(offenders).toEqual([]);
    // The walk did cover the layers it vouches for.
    const files = [...graph.keys()].map((f) => f.slice(root.length + 1));
    expect(files).toEqual(expect.arrayContaining(['src/core/pipe.ts', 'src/transport/inproc.ts', 'machines/supervisor.ts', 'src/socket/socket.ts']));
  });

  it('layers: src/core, src/protocol and machines import no node: module at all', () => {
    const offenders = ['src/core', 'src/protocol', 'machines'].flatMap((dir) =>
      tsFiles(dir).filter((f) => /from\s+['"]node:/.test(readFileSync(f, 'utf8'))).map((f) => f.slice(root.length + 1)),
    );
    expect(offenders).toEqual([]);
  });

  it('browser entry: the tcp transport is not part of it, the Node entry adds it', () => {
    const browser = [...reach(join(root, 'src/browser.ts')).keys()];
    const node = [...reach(join(root, 'src/index.ts')).keys()];
    expect(browser.some((f) => f.endsWith('src/transport/tcp.ts'))).toBe(false);
    expect(node.some((f) => f.endsWith('src/transport/tcp.ts'))).toBe(true);
  });
});
