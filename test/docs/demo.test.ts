// The tour (`npm run demo`) runs to the end and tells what each scene is about: lockstep EFSM,
// named Router peers and EHOSTUNREACH, Pub/Sub filtering, and a libzmq peer that restarts. It reads
// in order (a state change is printed under the step that caused it, never above), names states
// one way (the dotted path from the machine's root) and keeps each scene within a screenful.

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

/** One run of the tour, shared by the tests that read its output. */
let tour: Promise<Run> | undefined;
const theTour = () => (tour ??= runTour());

/** Asserts that `lines` appear in `out` in this order. */
function expectInOrder(out: string, lines: string[]): void {
  let from = 0;
  for (const line of lines) {
    const at = out.indexOf(line, from);
    expect(at, `"${line}" after position ${from} of the output`).toBeGreaterThanOrEqual(0);
    from = at + line.length;
  }
}

/** A screenful: the tour is written for a terminal of this many lines and columns. */
const SCREEN = { lines: 40, columns: 100 };

/** Each scene's output: its `== ` header, then its lines up to the next header (trailing blanks dropped). */
function scenes(out: string): { title: string; lines: string[] }[] {
  const found: { title: string; lines: string[] }[] = [];
  for (const line of out.split('\n')) {
    if (line.startsWith('== ')) found.push({ title: line.slice(3), lines: [] });
    else found.at(-1)?.lines.push(line);
  }
  for (const s of found) while (s.lines.at(-1)?.trim() === '') s.lines.pop();
  return found;
}

/** A step's own line: two spaces, then its text (what it caused is indented further). */
const isStep = (line: string) => /^  \S/.test(line);

/** The step line under which `detail` (a line printed for what a call caused) appears first. */
function stepAbove(out: string, detail: string): string | undefined {
  const lines = out.split('\n');
  const at = lines.findIndex((l) => l.trim() === detail);
  expect(at, `"${detail}" in the output`).toBeGreaterThanOrEqual(0);
  for (let i = at - 1; i >= 0; i--) {
    if (lines[i]?.startsWith('== ')) return undefined;
    if (isStep(lines[i] as string)) return (lines[i] as string).trim();
  }
  return undefined;
}

describe('demo', () => {
  it('demo: `npm run demo` is the tour run by tsx', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.demo).toBe('tsx demo/tour.ts');
  });

  it('demo: every scene runs and prints its key lines', async () => {
    const { code, stdout, stderr } = await theTour();
    expect(stderr).not.toContain('failed:');
    expect(code).toBe(0);

    // REQ/REP: two round trips with the turns, then EFSM on a second send.
    expectInOrder(stdout, [
      '== REQ/REP: strict lockstep',
      'req sent "what time is it?"',
      '[req] idle -> awaitingReply',
      'rep received "what time is it?"',
      '[rep] receiving -> replying',
      'req received "answer to: what time is it?"',
      '[req] awaitingReply -> idle',
      'req received "answer to: and the date?"',
      'the second send fails: EFSM',
      'send on REQ: a request is out',
      'req received "answer to: first request"',
    ]);

    // Batches: a batch held at the HWM goes on as the pull drains; a timeout says how many went.
    expectInOrder(stdout, [
      '== Batches',
      'push.sendMany(m0..m9): 8 fit the pipe (4 + 4), the rest wait; resolved = false',
      '[push] open.ready -> open.mute',
      'pull.receiveMany() took 8 in one call: m0 m1 m2 m3 m4 m5 m6 m7',
      'the pipe drained, the last two went: resolved = true',
      'pull.receiveMany({ max: 1 }) took m8',
      'pull.receiveMany() took m9',
      'sendMany of 12 fails: EAGAIN with error.sent = 8 (those stay queued)',
      'M/s with sendMany of 256',
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
      'router.mandatory = true',
      '[router] open.mandatory.off -> open.mandatory.on',
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
      'push machine still open.ready',
      '== libzmq over tcp: the peer comes back on the same port',
      'our Push reconnected on its own',
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
      '[connection 1] handshaking.initiate -> handshaking.zap',
      '[connection 1] handshaking.zap -> closed',
      'its User-Id is its key: yes',
      '[connection 2] handshaking.initiate -> handshaking.zap',
      '[connection 2] handshaking.zap -> active.',
      'router received "secret plans"',
      'libzmq Dealer received "received"',
    ]);
    const port = /libzmq Pull bound tcp:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1];
    expect(port).toBeDefined();
    expect(stdout).toContain(`a new libzmq Pull bound tcp://127.0.0.1:${port}`);

    expect(stdout.trimEnd().endsWith('Tour complete.')).toBe(true);

    // Each call before what it caused: a state change sits under the step that made it.
    expect(stepAbove(stdout, '[push] open.ready -> open.mute')).toBe('sent msg 4; push.writable = false');
    expect(stepAbove(stdout, '[push] open.mute -> open.ready')).toMatch(/^pull received msg [12]$/);
    expect(stepAbove(stdout, '[req] idle -> awaitingReply')).toBe('req sent "what time is it?"');
    expect(stepAbove(stdout, '[rep] receiving -> replying')).toBe('rep received "what time is it?"');
    expect(stepAbove(stdout, '[router] open.mandatory.off -> open.mandatory.on')).toBe('router.mandatory = true');
    expect(stepAbove(stdout, '[connection 1] handshaking.zap -> closed')).toMatch(/^a libzmq Dealer with an unknown key is refused/);
    // The reported case: the mute change printed above the send that caused it.
    expect(stdout).not.toMatch(/open\.ready -> open\.mute\n\s+sent msg 4/);
    // And in every scene, nothing the calls caused comes before the scene's first step.
    for (const { title, lines } of scenes(stdout)) {
      const first = lines.findIndex((l) => l.trim() !== '');
      expect(isStep(lines[first] ?? ''), `the first line of "${title}" is a step: ${lines[first]}`).toBe(true);
    }
  }, 60_000);

  it('demo: states are named one way, and each scene fits a screenful', async () => {
    const { code, stdout } = await theTour();
    expect(code).toBe(0);

    // One naming: the dotted path from the root (REQ's `idle`, `open.ready`, the Router's
    // `open.mandatory.on`), regions of a parallel state joined by " + "; no region labels, no JSON.
    expect(stdout).not.toContain('turn:');
    expect(stdout).not.toMatch(/\{"open"/);
    const path = '[A-Za-z]+(?:\\.[A-Za-z]+)*';
    const state = new RegExp(`^${path}(?: \\+ ${path})*$`);
    // Folded lines (indented two more than the line they continue) are joined back first.
    const unfolded = stdout.replace(/\n {6}(?=\S)/g, ' ');
    const changes = unfolded.split('\n').filter((l) => /^ {4}\[(?!push event)[^\]]+\] /.test(l));
    expect(changes.length).toBeGreaterThan(20);
    for (const line of changes) {
      const names = line.replace(/^ {4}\[[^\]]+\] /, '').split(' -> ');
      for (const name of names) expect(name, line).toMatch(state);
    }

    // A screenful per scene: at most 40 lines between one `== ` header and the next, none wider
    // than 100 columns (so none wraps).
    const found = scenes(stdout);
    expect(found.length, 'scenes found').toBeGreaterThanOrEqual(15);
    for (const { title, lines } of found) {
      expect(lines.length, `lines in "${title}"`).toBeLessThanOrEqual(SCREEN.lines);
      for (const line of lines) expect(line.length, `width of "${line}"`).toBeLessThanOrEqual(SCREEN.columns);
    }
  }, 60_000);
});
