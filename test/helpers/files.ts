// Walking a folder for the doc tests that read source or emitted files as text.

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every file below `dir` (at any depth) whose name ends with `suffix`, as paths joined to `dir`. */
export function filesUnder(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path, suffix));
    else if (name.endsWith(suffix)) out.push(path);
  }
  return out;
}
