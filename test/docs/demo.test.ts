// The tour (`npm run demo`) runs to the end and tells what each scene is about: lockstep EFSM,
// named Router peers and EHOSTUNREACH, Pub/Sub filtering, and a libzmq peer that restarts.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the tour as `npm run demo` does, without npm in between. */
function runTour(): Promise<Run> {
  return new Promise((done) => {
    execFile(join(root, 'node_modules/.bin/tsx'), ['demo/tour.ts'], { cwd: root, encoding: 'utf8', timeout: 50_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      done({ code, stdout, stderr });
    });
  });
}

/** Asserts that `lines` appear in `out` in this order. */
function expectInOrder(out: string, lines: string[]): void {
  let from = 0;
  for (const line of lines) {
    const at = out.indexOf(line, from);
    expect(at, `"${line}" after position ${from} of the output`).toBeGreaterThanOrEqual(0);
    from = at + line.length;
  }
}

describe('demo', () => {
  it('demo: `npm run demo` is the tour run by tsx', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.demo).toBe('tsx demo/tour.ts');
  });

  it('demo: every scene runs and prints its key lines', async () => {
    const { code, stdout, stderr } = await runTour();
    expect(stderr).not.toContain('failed:');
    expect(code).toBe(0);

    // REQ/REP: two round trips with the turns, then EFSM on a second send.
    expectInOrder(stdout, [
      '== REQ/REP: strict lockstep',
      '[req] turn: idle -> awaitingReply',
      '[rep] turn: receiving -> replying',
      'req received "answer to: what time is it?"',
      'req received "answer to: and the date?"',
      'the second send fails: EFSM',
      'send on REQ: a request is out',
      'req received "answer to: first request"',
    ]);

    // Dealer/Router: the identity table, replies by name, EHOSTUNREACH with mandatory.
    expectInOrder(stdout, [
      '== Dealer/Router',
      '"alice" (hex 616c696365) -> peer',
      '"bob" (hex 626f62) -> peer',
      'router received [alice, hello from alice]',
      'router received [bob, hello from bob]',
      'alice received "hi alice, this is for you only"',
      'bob received "hi bob, this is for you only"',
      '"mandatory":"on"',
      'send fails: EHOSTUNREACH',
    ]);

    // Pub/Sub: who got what, before and after the unsubscribe.
    expectInOrder(stdout, [
      '== Pub/Sub',
      // The table lists prefixes in byte order, as the machine's trie holds them.
      '"" -> everything',
      '"weather." -> weather',
      'weather    got: weather.paris, weather.oslo',
      'everything got: weather.paris, sports.tennis, weather.oslo, markets.eur',
      '"everything" unsubscribed',
      'weather    got: weather.rome',
      'everything got: (nothing)',
    ]);
    const afterCancel = stdout.slice(stdout.indexOf('== Pub/Sub: unsubscribing'), stdout.indexOf('== libzmq'));
    expect(afterCancel).not.toContain('"" -> everything');

    // libzmq: the peer restarts on the same port and the queued messages arrive after it returns.
    expectInOrder(stdout, [
      '== libzmq over tcp: our Push',
      'libzmq Pull received "hello libzmq"',
      'libzmq Pull closed (linger 0)',
      '[push event] disconnect',
      '[push event] connect:retry',
      '== libzmq over tcp: the peer comes back on the same port',
      '[push event] handshake',
      'libzmq Pull received "queued 1"',
      'libzmq Pull received "queued 2"',
      'libzmq Pull received "queued 3"',
      'our Request received "pong from libzmq',
      'our Reply (bound tcp://',
      'received "ping from libzmq"',
      'libzmq Request received "pong from monocoque"',
    ]);
    // Security: a stranger's key refused by the Authenticator, the known one in, the handshake's steps.
    expectInOrder(stdout, [
      '== CURVE with libzmq',
      'securityMechanism: curve',
      'unknown key is refused: handshake:error:auth, ZAP status 400',
      'its User-Id is its key: yes',
      'router received "secret plans"',
      'libzmq Dealer received "received"',
      'handshaking.hello -> handshaking.initiate -> handshaking.zap -> active',
    ]);
    const port = /libzmq Pull bound tcp:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1];
    expect(port).toBeDefined();
    expect(stdout).toContain(`a new libzmq Pull bound tcp://127.0.0.1:${port}`);

    expect(stdout.trimEnd().endsWith('Tour complete.')).toBe(true);
  }, 60_000);
});
