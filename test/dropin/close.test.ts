// close() as zeromq.js does it: waiting calls fail with EAGAIN, later ones with EBADF, async
// iteration ends on that EAGAIN only, and a bind or unbind under way is let finish first.

import { describe, expect, it } from 'vitest';
import { Context, Dealer, Pull, Request } from '../../src/index.js';
import { closeAfterEach, code } from '../helpers/sockets.js';

const track = closeAfterEach();

describe('close: waiting calls', () => {
  it('a waiting send and a waiting receive fail with EAGAIN, naming what was cancelled', async () => {
    const sock = track(new Dealer({ context: new Context() }));
    const sent = sock.send('nobody to take it');
    const received = sock.receive();
    sock.close();
    await expect(sent).rejects.toMatchObject({ code: 'EAGAIN', errno: 11, message: 'send on DEALER was waiting when the socket was closed' });
    await expect(received).rejects.toMatchObject({ code: 'EAGAIN', errno: 11, message: 'receive on DEALER was waiting when the socket was closed' });
  });

  it('calls after close fail with EBADF "Socket is closed"', async () => {
    const sock = track(new Dealer({ context: new Context() }));
    sock.close();
    await expect(sock.send('x')).rejects.toMatchObject({ code: 'EBADF', message: 'Socket is closed' });
    await expect(sock.receive()).rejects.toMatchObject({ code: 'EBADF', message: 'Socket is closed' });
  });

  it('for await ends quietly when close() cancels its receive', async () => {
    const sock = track(new Pull({ context: new Context() }));
    setTimeout(() => sock.close(), 0);
    let n = 0;
    for await (const _ of sock) n++;
    expect(n).toBe(0);
  });

  it('for await still throws an error that is not the close: a REQ that never sent fails with EFSM', async () => {
    const req = track(new Request({ context: new Context() }));
    process.nextTick(() => req.close());
    const loop = (async () => {
      for await (const _ of req) void _;
    })();
    await expect(loop).rejects.toMatchObject({ code: 'EFSM' });
  });
});

describe('close: a bind or unbind under way', () => {
  it('close() during a bind waits for it: closed stays false until the bind has resolved', async () => {
    const sock = track(new Dealer({ context: new Context() }));
    const bound = sock.bind('tcp://127.0.0.1:*');
    sock.close();
    expect(sock.closed).toBe(false);
    await bound;
    expect(sock.closed).toBe(true);
    await expect(sock.send('x')).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('close() during a failing bind: the bind fails on its own terms, then the socket closes', async () => {
    const context = new Context();
    const first = track(new Dealer({ context }));
    await first.bind('inproc://taken');
    const sock = track(new Dealer({ context }));
    const bound = sock.bind('inproc://taken');
    sock.close();
    expect(sock.closed).toBe(false);
    expect(await code(bound)).toBe('EADDRINUSE');
    expect(sock.closed).toBe(true);
  });

  it('close() during an unbind, successful or not, waits for it', async () => {
    const context = new Context();
    const sock = track(new Dealer({ context }));
    await sock.bind('inproc://to-unbind');
    const unbound = sock.unbind('inproc://to-unbind');
    sock.close();
    expect(sock.closed).toBe(false);
    await unbound;
    expect(sock.closed).toBe(true);

    const other = track(new Dealer({ context }));
    const refused = other.unbind('inproc://never-bound');
    other.close();
    expect(other.closed).toBe(false);
    expect(await code(refused)).toBe('ENOENT');
    expect(other.closed).toBe(true);
  });

  it('two binds under way: the close waits for both', async () => {
    const sock = track(new Dealer({ context: new Context() }));
    const one = sock.bind('inproc://one');
    const two = sock.bind('tcp://127.0.0.1:*');
    sock.close();
    await one;
    expect(sock.closed).toBe(false);
    await two;
    expect(sock.closed).toBe(true);
  });
});
