// Layers point down (../shared/DESIGN.md): core <- protocol <- machines <- transports <- sockets <- public.
// A file may import from its own layer and the layers below it, never above: a transport talks to
// sockets through the PeerHost interface of src/transport/host.ts, not through the socket classes.

import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesUnder } from '../helpers/files.js';

const root = resolve(import.meta.dirname, '../..');
const importRe = /^\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|^\s*import\s+['"](\.[^'"]+)['"]/gm;

const LAYERS = ['src/core', 'src/protocol', 'machines', 'src/transport', 'src/socket', 'src/testing', 'src'];

/** The layer of a file: the most specific folder of LAYERS it is in. */
function layerOf(file: string): number {
  const rel = relative(root, file);
  let best = -1;
  LAYERS.forEach((l, i) => {
    if ((rel.startsWith(`${l}/`)) && (best < 0 || l.length > (LAYERS[best] as string).length)) best = i;
  });
  return best;
}


describe('layers', () => {
  it('every import in src/ and machines/ points to the same layer or one below', () => {
    const upward: string[] = [];
    let checked = 0;
    for (const file of [...filesUnder(join(root, 'src'), '.ts'), ...filesUnder(join(root, 'machines'), '.ts')]) {
      const from = layerOf(file);
      for (const m of readFileSync(file, 'utf8').matchAll(importRe)) {
        const target = resolve(dirname(file), ((m[1] ?? m[2]) as string).replace(/\.js$/, '.ts'));
        const to = layerOf(target);
        checked++;
        if (to > from) upward.push(`${relative(root, file)} (${LAYERS[from]}) imports ${relative(root, target)} (${LAYERS[to]})`);
      }
    }
    expect(upward).toEqual([]);
    expect(checked).toBeGreaterThan(100); // the import pattern still finds the imports
  });
});
