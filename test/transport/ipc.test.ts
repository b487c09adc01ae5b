// ipc between our own sockets: file paths, Linux abstract names, generated paths, stale and live
// socket files.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Context } from '../../src/socket/context.js';
import { Pair } from '../../src/socket/pair.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import { Reply, Request } from '../../src/socket/request-reply.js';
import { nextEvent, text, track } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'monocoque-ipc-test-'));
let n = 0;
const path = () => join(dir, `s${n++}.sock`);
const uniqueName = () => `monocoque-test-${process.pid}-${n++}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ipc', () => {
  it('push → pull over a path, multipart with an empty frame and a 1 MiB frame', async () => {
    const context = new Context();
    const endpoint = `ipc://${path()}`;
    const pull = track(new Pull({ context }));
    await pull.bind(endpoint);
    expect(pull.lastEndpoint).toBe(endpoint);
    const push = track(new Push({ context }));
    push.connect(endpoint);
    const big = Buffer.alloc(1 << 20, 3);
    await push.send(['a', '', big]);
    const m = await pull.receive();
    expect(text(m.slice(0, 2))).toEqual(['a', '']);
    expect(m[2].equals(big)).toBe(true);
  });

  it('pair over a Linux abstract name (ipc://@name)', async () => {
    const context = new Context();
    const endpoint = `ipc://@${uniqueName()}`;
    const a = track(new Pair({ context }));
    await a.bind(endpoint);
    expect(a.lastEndpoint).toBe(endpoint);
    const b = track(new Pair({ context }));
    b.connect(endpoint);
    await b.send('x');
    expect(text(await a.receive())).toEqual(['x']);
    await a.send('y');
    expect(text(await b.receive())).toEqual(['y']);
  });

  it('request/reply over ipc, the binder connecting the other way round', async () => {
    const context = new Context();
    const endpoint = `ipc://${path()}`;
    const req = track(new Request({ context }));
    await req.bind(endpoint);
    const rep = track(new Reply({ context }));
    rep.connect(endpoint);
    await req.send('q');
    expect(text(await rep.receive())).toEqual(['q']);
    await rep.send('a');
    expect(text(await req.receive())).toEqual(['a']);
  });

  it('ipc://* binds a generated path and reports it', async () => {
    const context = new Context();
    const pull = track(new Pull({ context }));
    await pull.bind('ipc://*');
    const endpoint = pull.lastEndpoint!;
    expect(endpoint).toMatch(/^ipc:\/\/\/.+/);
    expect(existsSync(endpoint.slice('ipc://'.length))).toBe(true);
    const push = track(new Push({ context }));
    push.connect(endpoint);
    await push.send('generated');
    expect(text(await pull.receive())).toEqual(['generated']);
  });

  it('a stale socket file left by a dead process does not stop a bind', async () => {
    const p = path();
    // A child process binds the path and is killed: its socket file stays behind.
    const child = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(p)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(child.signal).toBe('SIGKILL');
    expect(existsSync(p)).toBe(true);
    const context = new Context();
    const pull = track(new Pull({ context }));
    await pull.bind(`ipc://${p}`);
    const push = track(new Push({ context }));
    push.connect(`ipc://${p}`);
    await push.send('fresh');
    expect(text(await pull.receive())).toEqual(['fresh']);
  });

  it('a path where a live socket listens is EADDRINUSE, and the live one keeps working', async () => {
    const context = new Context();
    const endpoint = `ipc://${path()}`;
    const a = track(new Pull({ context }));
    await a.bind(endpoint);
    const b = track(new Pull({ context }));
    const err = await b.bind(endpoint).catch((e) => e);
    expect(err.code).toBe('EADDRINUSE');
    expect(err.message).toContain(endpoint.slice('ipc://'.length));
    const push = track(new Push({ context }));
    push.connect(endpoint);
    await push.send('still mine');
    expect(text(await a.receive())).toEqual(['still mine']);
  });

  it('a regular file at the path is never removed: EADDRINUSE', async () => {
    const p = path();
    writeFileSync(p, 'not a socket');
    const context = new Context();
    const pull = track(new Pull({ context }));
    const err = await pull.bind(`ipc://${p}`).catch((e) => e);
    expect(err.code).toBe('EADDRINUSE');
    expect(existsSync(p)).toBe(true);
  });

  it('an abstract name bound twice is EADDRINUSE', async () => {
    const context = new Context();
    const endpoint = `ipc://@${uniqueName()}`;
    const a = track(new Pull({ context }));
    await a.bind(endpoint);
    const b = track(new Pull({ context }));
    await expect(b.bind(endpoint)).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('connect before bind over ipc retries, then delivers; the socket file goes with the binder', async () => {
    const context = new Context();
    const p = path();
    const push = track(new Push({ context, reconnectInterval: 10 }));
    const retry = nextEvent(push, 'connect:retry');
    push.connect(`ipc://${p}`);
    await push.send('waited');
    await retry;
    const pull = new Pull({ context });
    await pull.bind(`ipc://${p}`);
    expect(text(await pull.receive())).toEqual(['waited']);
    pull.close();
    await pull.whenReleased();
    expect(existsSync(p)).toBe(false);
  });
});
