// zeromq.js's `router.connect(address, { routingId })` (ZMQ_CONNECT_ROUTING_ID): the peer reached
// through that connect is known by the given id, whatever it announces; over inproc the pipe is
// there at once, so a mandatory send to the id queues before the peer binds, as in libzmq.
//
//   router ──connect({ routingId: "remote" })──▶ dealer (binds; announces "own")
//   router.send(["remote", "hi"]) ─────────────▶ "hi"
//   ["remote", "back"] ◀────────────────────────  dealer.send("back")

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Context, Dealer, Router } from '../../src/index.js';
import { closeAfterEach, text } from '../helpers/sockets.js';

const track = closeAfterEach();

describe('Router.connect(address, { routingId })', () => {
  it('inproc: a mandatory send to the id queues before the peer binds; both ways use the id', async () => {
    const context = new Context();
    const router = track(new Router({ context, mandatory: true, linger: 0 }));
    router.connect('inproc://router-connect', { routingId: 'remote' });
    await router.send(['remote', 'hi']);
    const dealer = track(new Dealer({ context, routingId: 'own' }));
    await dealer.bind('inproc://router-connect');
    expect(text(await dealer.receive())).toEqual(['hi']);
    await dealer.send('back');
    expect(text(await router.receive())).toEqual(['remote', 'back']);
    await expect(router.send(['own', 'x'])).rejects.toMatchObject({ code: 'EHOSTUNREACH' });
  });

  it('inproc: the peer already bound announces its id, and the connect\'s id wins', async () => {
    const context = new Context();
    const dealer = track(new Dealer({ context, routingId: 'own' }));
    await dealer.bind('inproc://router-connect-bound');
    const router = track(new Router({ context, mandatory: true }));
    router.connect('inproc://router-connect-bound', { routingId: Buffer.from([1, 2, 3]) });
    await router.send([Buffer.from([1, 2, 3]), 'hi']);
    expect(text(await dealer.receive())).toEqual(['hi']);
  });

  it('ipc: a mandatory send to the id queues before the peer is up; both ways use the id', async () => {
    const context = new Context();
    const address = `ipc://${join(tmpdir(), `monocoque-router-connect-${process.pid}-${Date.now()}.sock`)}`;
    const router = track(new Router({ context, mandatory: true, linger: 0, reconnectInterval: 10 }));
    router.connect(address, { routingId: 'remote' });
    await router.send(['remote', 'early']); // queued to the pipe the connect made
    const dealer = track(new Dealer({ context, routingId: 'own', linger: 0 }));
    await dealer.bind(address);
    expect(text(await dealer.receive())).toEqual(['early']);
    await dealer.send('back');
    expect(text(await router.receive())).toEqual(['remote', 'back']);
    await expect(router.send(['own', 'x'])).rejects.toMatchObject({ code: 'EHOSTUNREACH' });
  });

  it('tcp: from the handshake on, the peer is known by the id the connect gave', async () => {
    const context = new Context();
    const dealer = track(new Dealer({ context, routingId: 'own', linger: 0 }));
    await dealer.bind('tcp://127.0.0.1:*');
    const router = track(new Router({ context, mandatory: true, linger: 0 }));
    router.connect(dealer.lastEndpoint as string, { routingId: 'remote' });
    await dealer.send('first');
    expect(text(await router.receive())).toEqual(['remote', 'first']);
    await router.send(['remote', 'reply']);
    expect(text(await dealer.receive())).toEqual(['reply']);
  });

  it('a second connect to the same endpoint connects nothing and leaves the peer its id', async () => {
    const context = new Context();
    const router = track(new Router({ context, mandatory: true }));
    router.connect('inproc://router-connect-twice', { routingId: 'A' });
    router.connect('inproc://router-connect-twice', { routingId: 'B' });
    const dealer = track(new Dealer({ context }));
    await dealer.bind('inproc://router-connect-twice');
    await router.send(['A', 'hi']);
    expect(text(await dealer.receive())).toEqual(['hi']);
    await expect(router.send(['B', 'x'])).rejects.toMatchObject({ code: 'EHOSTUNREACH' });
  });

  it('a routing id libzmq refuses is EINVAL naming the connect option; nothing is connected', () => {
    const router = track(new Router({ context: new Context() }));
    expect(() => router.connect('inproc://x', { routingId: '' })).toThrow(
      expect.objectContaining({ code: 'EINVAL', message: 'connect("inproc://x"): option routingId (ZMQ_CONNECT_ROUTING_ID): "" is 0 bytes; a routing id has 1..255 bytes' }),
    );
    expect(() => router.connect('inproc://x', { routingId: Buffer.from([0, 1]) })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => router.connect('inproc://x', 5 as never)).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('options must be an object') }));
    expect(() => router.disconnect('inproc://x')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
