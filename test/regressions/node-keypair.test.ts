// curveKeyPair() before libsodium has loaded takes its keys from node:crypto (src/transport/node-keys.ts).
// Exported from the private KeyObject after the generation, as it was, they could deadlock Node 20:
// the pack test's run of the README Security block hung twice in about forty full test runs, and a
// helper caught it in gdb (the export holds the key's mutex while it allocates; a GC there frees the
// finished generation job, whose destructor waits for that mutex). A plain node loop of key pairs
// froze within 15,000 every time; under tsx it did not, so the child runs the module transpiled, with
// nothing else loaded.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSodium } from '../../src/protocol/sodium.js';
import { nodeKeyPair } from '../../src/transport/node-keys.js';
import { plainModules, runNode } from '../helpers/child.js';

const dir = mkdtempSync(join(tmpdir(), 'monocoque-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("curveKeyPair's node:crypto source", () => {
  it('50,000 key pairs in a row in plain node: none deadlocks', async () => {
    const [module] = plainModules(dir, ['transport/node-keys']);
    const code = [
      `import { nodeKeyPair } from ${JSON.stringify(module)};`,
      'let n = 0;',
      'for (; n < 50000; n++) nodeKeyPair();',
      'console.log(n);',
    ].join('\n');
    // Only a bound on the hang: 50,000 pairs take about 2 s here. The verdict is the exit.
    const r = await runNode(['--input-type=module', '-e', code], 60_000);
    expect({ out: r.stdout.trim(), exitCode: r.exitCode, signal: r.signal }, r.stderr).toEqual({ out: '50000', exitCode: 0, signal: null });
  }, 90_000);

  it("each pair is 32 + 32 bytes, and the public key is the secret key's X25519 base point multiple (libsodium)", async () => {
    const sodium = await loadSodium();
    for (let i = 0; i < 100; i++) {
      const { publicKey, secretKey } = nodeKeyPair();
      expect([publicKey.length, secretKey.length]).toEqual([32, 32]);
      expect(Buffer.from(sodium.crypto_scalarmult_base(secretKey)).equals(Buffer.from(publicKey))).toBe(true);
    }
  });
});
