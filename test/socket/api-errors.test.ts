// The rule for bad input at the socket's surface: a ZeroMQ code and a message naming the value and
// what is wrong, and nothing accepted before is lost. One test per kind of input.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeAfterEach, code, text } from '../helpers/sockets.js';
import { Context, Dealer, Pair, Publisher, Pull, Push, Reply, Request, Router, Subscriber, XPublisher, XSubscriber } from '../../src/index.js';
import type { Socket } from '../../src/socket/socket.js';

const track = closeAfterEach();

const CLASSES = { Pair, Push, Pull, Request, Reply, Dealer, Router, Publisher, Subscriber, XPublisher, XSubscriber } as const;
type AnySocketClass = new (options?: object) => Socket;

/** Calls `f` and returns its error (it must throw). */
function thrown(f: () => unknown): { code?: string; errno?: number; message: string } {
  try {
    f();
  } catch (e) {
    return e as { code?: string; errno?: number; message: string };
  }
  throw new Error('expected a throw');
}

describe('bad input at the socket surface', () => {
  it.each(Object.keys(CLASSES))('%s: unbind/disconnect of a malformed endpoint say what is wrong, not ENOENT', async (name) => {
    const s = track(new (CLASSES[name as keyof typeof CLASSES] as AnySocketClass)({ context: new Context() }));
    await expect(s.unbind('garbage')).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('"://" is missing') });
    expect(thrown(() => s.disconnect('tcp://127.0.0.1:65536'))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('65536') });
    expect(thrown(() => s.disconnect('foo://bar'))).toMatchObject({ code: 'EPROTONOSUPPORT' });
    expect(thrown(() => s.disconnect(Symbol('x') as never))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('a symbol (x)') });
    await expect(s.unbind(5 as never)).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('got 5') });
    // Well-formed but never used: ENOENT, as libzmq.
    await expect(s.unbind('tcp://127.0.0.1:5555')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(thrown(() => s.disconnect('inproc://nothing'))).toMatchObject({ code: 'ENOENT' });
    // Wildcards are well-formed endpoints, just never connected: ENOENT, as libzmq.
    for (const wild of ['tcp://*:5555', 'tcp://127.0.0.1:*', 'ipc://*']) expect(thrown(() => s.disconnect(wild))).toMatchObject({ code: 'ENOENT' });
  });

  it.each(Object.keys(CLASSES))('%s: options set on a closed socket are EBADF and change nothing', (name) => {
    const s = new (CLASSES[name as keyof typeof CLASSES] as AnySocketClass)({ context: new Context(), linger: 7 });
    s.close();
    expect(thrown(() => { s.linger = 5; })).toMatchObject({ code: 'EBADF' });
    expect(s.linger).toBe(7);
    expect(thrown(() => { s.sendHighWaterMark = 5; })).toMatchObject({ code: 'EBADF' });
  });

  it('type-specific option setters on a closed socket are EBADF', () => {
    const context = new Context();
    const req = new Request({ context });
    const router = new Router({ context });
    const xpub = new XPublisher({ context });
    for (const s of [req, router, xpub]) s.close();
    expect(thrown(() => { req.relaxed = true; })).toMatchObject({ code: 'EBADF' });
    expect(thrown(() => { router.mandatory = true; })).toMatchObject({ code: 'EBADF' });
    expect(thrown(() => { xpub.verbosity = 'allSubs'; })).toMatchObject({ code: 'EBADF' });
    expect(req.relaxed).toBe(false);
    expect(router.mandatory).toBe(false);
  });

  it('options that are not an object, and a context that is not a Context, are EINVAL naming them', () => {
    for (const bad of [5, true, 'abc', [1]]) {
      expect(thrown(() => new Push(bad as never))).toMatchObject({ code: 'EINVAL', message: expect.stringMatching(/^options of a PUSH socket must be an object/) });
    }
    expect(thrown(() => new Push({ context: {} as never }))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('context of a PUSH socket: a plain object is not a Context') });
    expect(thrown(() => new Pull({ context: 5 as never }))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('5 is not a Context') });
  });

  it('a signal that is not an AbortSignal is EINVAL whether or not the call would wait', async () => {
    const context = new Context();
    const pull = track(new Pull({ context }));
    const push = track(new Push({ context }));
    expect(await code(pull.receive({ signal: {} as never }))).toBe('EINVAL');
    expect(await code(push.send('x', { signal: 'x' as never }))).toBe('EINVAL'); // no peer: would wait
    await pull.bind('inproc://sig');
    push.connect('inproc://sig');
    await expect(push.send('y', { signal: {} as never })).rejects.toMatchObject({ code: 'EINVAL', message: 'send(): option signal is a plain object, not an AbortSignal' });
    expect(await code(push.send('x', 5 as never))).toBe('EINVAL');
    // Nothing refused was sent; what follows still goes through.
    await push.send('z', { signal: new AbortController().signal });
    expect(text(await pull.receive())).toEqual(['z']);
  });

  it('undefined frames are refused, nothing of the message is sent, and the socket goes on', async () => {
    const context = new Context();
    const pull = track(new Pull({ context }));
    const push = track(new Push({ context }));
    await pull.bind('inproc://undef');
    push.connect('inproc://undef');
    await push.send('before');
    await expect(push.send(undefined as never)).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringMatching(/^message is undefined/) });
    await expect(push.send(['a', undefined] as never)).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringMatching(/^frame 1 of 2 is undefined/) });
    await push.send(['after', null]);
    expect(text(await pull.receive())).toEqual(['before']);
    expect(text(await pull.receive())).toEqual(['after', '']);
  });

  it('a routing id given as bytes reaches a Router as exactly those bytes, over inproc and tcp', async () => {
    const id = new Uint8Array([0xff, 0x01, 0x80]);
    for (const transport of ['inproc', 'tcp'] as const) {
      const context = new Context();
      const router = track(new Router({ context, mandatory: true }));
      await router.bind(transport === 'inproc' ? 'inproc://bytes-id' : 'tcp://127.0.0.1:*');
      const dealer = track(new Dealer({ context, routingId: id }));
      dealer.connect(router.lastEndpoint as string);
      await dealer.send('hi');
      const [from, body] = await router.receive();
      expect([...(from as Buffer)]).toEqual([0xff, 0x01, 0x80]);
      expect(body?.toString()).toBe('hi');
      await router.send([Buffer.from(id), 'back']);
      expect(text(await dealer.receive())).toEqual(['back']);
    }
  });

  it('subscribe with a prefix that is not a string or bytes names the value', () => {
    const sub = track(new Subscriber({ context: new Context() }));
    expect(thrown(() => sub.subscribe(null as never))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('the prefix null is not a string or bytes') });
    expect(thrown(() => sub.subscribe(['a'] as never))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('an array of 1 item') });
  });

  it('ipc: binding in a directory that does not exist is ENOENT (libuv says EACCES), one under a file ENOTDIR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mq-api-'));
    try {
      const s = track(new Pull({ context: new Context() }));
      await expect(s.bind(`ipc://${dir}/missing/sock`)).rejects.toMatchObject({ code: 'ENOENT', errno: 2, message: expect.stringContaining(`directory "${dir}/missing" does not exist`) });
      writeFileSync(join(dir, 'file'), '');
      await expect(s.bind(`ipc://${dir}/file/sock`)).rejects.toMatchObject({ code: 'ENOTDIR', errno: 20 });
      await s.bind(`ipc://${dir}/sock`); // and the socket still binds
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tcp: binding an IPv6 address without ipv6 is ENODEV, as libzmq says', async () => {
    const s = track(new Pull({ context: new Context() }));
    await expect(s.bind('tcp://[::1]:*')).rejects.toMatchObject({ code: 'ENODEV', message: expect.stringContaining('set ipv6: true') });
    expect(s.lastEndpoint).toBeNull();
  });
});
