// The clock of the connection actors' timers, and its one delay that is not a time: `nextPoll`
// (NEXT_POLL_DELAY), the connection machine's last look before a heartbeat or TTL verdict. It must
// come after the loop has read the input that was waiting, or a PONG that arrived while the loop was
// blocked is judged missing; and it must come although nothing else wakes the loop. These tests hold
// the clock to that: a look that ran sooner (a microtask, or a call at once) fails the first; one
// that could not be cleared, the second; one that waited for some other wake-up, the third. A 1 ms
// timer passes the first under Node 20 too (its libuv runs timers after the poll); the immediate is
// chosen because it is after a poll on every runtime, not because a timer fails here.

import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NEXT_POLL_DELAY } from '../../src/core/turn.js';
import { backgroundClock } from '../../src/transport/keep-alive.js';
import { plainModules, runNode } from '../helpers/child.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // the loop is blocked, as by a long synchronous job of the user's
  }
}

describe('backgroundClock', () => {
  it('the look, set in the timers phase, runs after the input that was waiting, even when a later timer of that phase takes long', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    const [accepted] = (await Promise.all([once(server, 'connection'), once(client, 'connect')])).map((args) => args[0]) as [NetSocket];
    cleanup.push(() => {
      client.destroy();
      accepted.destroy();
      server.close();
    });
    const order: string[] = [];
    accepted.on('data', () => order.push('input'));
    const done = new Promise<void>((resolve) => {
      // Both timers are due when the loop next runs its timers. The first sets the zero delay; the
      // second takes 10 ms, so that a delay counted in time would be due before the loop polls.
      setTimeout(() => {
        backgroundClock.setTimeout(() => {
          order.push('zero delay');
          resolve();
        }, NEXT_POLL_DELAY);
      }, 2);
      setTimeout(() => blockFor(10), 3);
    });
    client.write('PONG');
    blockFor(20); // the bytes reach the accepted socket meanwhile; both timers fall due
    await done;
    expect(order).toEqual(['input', 'zero delay']);
  });

  it('a cleared look does not run', async () => {
    let ran = false;
    const id = backgroundClock.setTimeout(() => {
      ran = true;
    }, NEXT_POLL_DELAY);
    backgroundClock.clearTimeout(id);
    // Immediates run in the order they were set: this one comes after the cleared one would have.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(ran).toBe(false);
  });

  it('the look runs when nothing else wakes the loop: a child whose only handle is a listening server exits', async () => {
    // An unref'd immediate does not make the poll return: in a process with nothing else to do
    // (no timer due, no input), a heartbeat or TTL verdict waited for the next unrelated wake-up,
    // and here for ever. The child sets the look from a timer, closes its server when it runs, and
    // so exits; a clock that waits for a wake-up leaves it running until killed. Plain node runs
    // the clock's two modules, transpiled here: a loader such as tsx wakes the loop now and then
    // by itself, and hid the wait.
    const dir = mkdtempSync(join(tmpdir(), 'monocoque-clock-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const [clock, turn] = plainModules(dir, ['transport/keep-alive', 'core/turn']);
    const code = [
      "import { createServer } from 'node:net';",
      `import { backgroundClock } from ${JSON.stringify(clock)};`,
      `import { NEXT_POLL_DELAY } from ${JSON.stringify(turn)};`,
      "const server = createServer().listen(0, '127.0.0.1', () => {",
      '  setTimeout(() => backgroundClock.setTimeout(() => { console.log("ran"); server.close(); }, NEXT_POLL_DELAY), 5);',
      '});',
    ].join('\n');
    // Only a bound on a hang, far above the child's start-up: the verdict is the exit, not a time.
    const r = await runNode(['--input-type=module', '-e', code], 15_000);
    expect({ out: r.stdout.trim(), exitCode: r.exitCode, signal: r.signal }, r.stderr).toEqual({ out: 'ran', exitCode: 0, signal: null });
  }, 20_000);
});
