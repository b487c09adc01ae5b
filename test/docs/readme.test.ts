// The README's example runs as written (with 'monocoque' pointed at this checkout).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

describe('README', () => {
  it('readme: names the two commands of a fresh clone', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toContain('npm test');
  });

  it('readme: the example runs and prints what its comments say', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = /## Example\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'readme-'));
    const file = join(dir, 'example.mts');
    writeFileSync(file, (block as string).replace("from 'monocoque'", `from ${JSON.stringify(join(root, 'src/index.ts'))}`));
    const out = execFileSync(join(root, 'node_modules/.bin/tsx'), [file], { cwd: root, encoding: 'utf8' });
    expect(out).toBe("job 42\n{ open: 'ready' }\n");
  });

  it('readme: the security example runs: CURVE with an Authenticator, the known client gets in', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = /## Security: CURVE, PLAIN and ZAP[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'readme-'));
    const file = join(dir, 'security.mts');
    writeFileSync(file, (block as string).replace("from 'monocoque'", `from ${JSON.stringify(join(root, 'src/index.ts'))}`));
    const out = execFileSync(join(root, 'node_modules/.bin/tsx'), [file], { cwd: root, encoding: 'utf8', timeout: 20_000 });
    expect(out).toBe('user known\nsealed\n');
  });
});
