// A connection whose CURVE mechanism waits for libsodium (the first CURVE connection of a process)
// had nobody listening to its stream meanwhile. Found by a probe that connected to a CURVE server's
// port and reset at once: the server process died of an 'error' event with no listener. A peer that
// closed instead went unnoticed: the connection sat handshaking until handshakeInterval, and for
// ever with none. Each case runs in a child, so that libsodium is not loaded yet; each child says
// whether it still was not when the stream ended, so a case that missed the window cannot pass.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const CHILD = resolve(import.meta.dirname, 'fixtures/curve-first-load.ts');

async function runCase(which: string): Promise<{ out: string[]; exitCode: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, which], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // Only a bound on a hang (the old 'close' case never ended): the verdict is what the child printed.
  const killer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  const [exitCode] = (await once(child, 'exit')) as [number | null];
  clearTimeout(killer);
  return { out: out.trim().split('\n'), exitCode, stderr };
}

describe('a stream that ends while CURVE waits for libsodium', () => {
  it('server: a peer that resets it is dropped (handshake:error:other), the process lives on and serves the next client', async () => {
    const r = await runCase('reset');
    expect(r, r.stderr).toMatchObject({
      out: ['libsodium loaded when reset: false', 'server saw: ECONNRESET', 'received: after'],
      exitCode: 0,
    });
  }, 60_000);

  it('client: a server that closes it is seen at once (handshake:error:other) and dialled again, with no handshake deadline', async () => {
    const r = await runCase('close');
    expect(r, r.stderr).toMatchObject({
      out: ['libsodium loaded when closed: false', 'client saw: ECONNRESET', 'client dialled again'],
      exitCode: 0,
    });
  }, 60_000);
});
