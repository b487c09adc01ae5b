// A connection whose CURVE mechanism waits for libsodium (the first CURVE connection of a process)
// had nobody listening to its stream meanwhile. Found by a probe that connected to a CURVE server's
// port and reset at once: the server process died of an 'error' event with no listener. A peer that
// closed instead went unnoticed: the connection sat handshaking until handshakeInterval, and for
// ever with none. Each case runs in a child, so that libsodium is not loaded yet; each child says
// whether it still was not when the stream ended, so a case that missed the window cannot pass.

import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNode } from '../helpers/child.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CHILD = resolve(import.meta.dirname, 'fixtures/curve-first-load.ts');

const CASES = [
  {
    which: 'reset',
    title: 'server: a peer that resets it is dropped (handshake:error:other), the process lives on and serves the next client',
    out: ['libsodium loaded when reset: false', 'server saw: ECONNRESET', 'received: after'],
  },
  {
    which: 'close',
    title: 'client: a server that closes it is seen at once (handshake:error:other) and dialled again, with no handshake deadline',
    out: ['libsodium loaded when closed: false', 'client saw: ECONNRESET', 'client dialled again'],
  },
];

describe('a stream that ends while CURVE waits for libsodium', () => {
  for (const { which, title, out } of CASES) {
    it(title, async () => {
      // Only a bound on a hang (the old 'close' case never ended): the verdict is what the child printed.
      const r = await runNode(['--import', 'tsx', CHILD, which], 40_000, ROOT);
      expect({ out: r.stdout.trim().split('\n'), exitCode: r.exitCode }, r.stderr).toEqual({ out, exitCode: 0 });
    }, 60_000);
  }
});
