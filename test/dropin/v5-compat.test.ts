// `monocoque/v5-compat`: zeromq.js's v5 API over our v6 sockets. Each pattern over inproc and tcp,
// callbacks and 'error' events for failures, pause/resume, options by ZMQ_* id and by property,
// monitor events, close, and a real zeromq.js v6 peer over tcp.
//
//   test ──send(msg, flags, cb)──▶ v5 Socket ──v6 send()/receive()──▶ Push, Router, … ──▶ peer
//        ◀──'message' (...frames)──            ◀──receiveMany()───────

import { afterEach, describe, expect, it } from 'vitest';
import * as zeromq from 'zeromq';
import * as zmq from '../../src/v5-compat.js';
import type { Callback, Socket, SocketType } from '../../src/v5-compat.js';
import { refusingEndpoint } from '../transport/helpers.js';

const open: Socket[] = [];
const theirs: zeromq.Socket[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  for (const s of theirs.splice(0)) s.close();
});

function make(type: SocketType, options?: Record<string, unknown>): Socket {
  const s = zmq.socket(type, options);
  open.push(s);
  return s;
}

type Transport = 'inproc' | 'tcp';
let n = 0;
const addressFor = (t: Transport): string => (t === 'inproc' ? `inproc://v5-compat-${process.pid}-${n++}` : 'tcp://127.0.0.1:*');

/** bind(address, cb) as a promise of the endpoint bound (the real port of `tcp://…:*`). */
function bound(s: Socket, address: string): Promise<string> {
  return new Promise((resolve, reject) => s.bind(address, (e) => (e ? reject(e) : resolve(s.last_endpoint as string))));
}

/** The next `count` messages of `s`, each as its frames in text. */
function collect(s: Socket, count: number): Promise<string[][]> {
  return new Promise((resolve) => {
    const got: string[][] = [];
    s.on('message', function listener(...frames: Buffer[]) {
      got.push(frames.map(String));
      if (got.length === count) {
        s.off('message', listener);
        resolve(got);
      }
    });
  });
}

/** What a callback-taking call reports: its error, or undefined. */
const outcome = (call: (cb: Callback) => void): Promise<Error | undefined> => new Promise((resolve) => call(resolve));
/** The next 'error' event of `s`. */
const nextError = (s: Socket): Promise<Error> => new Promise((resolve) => s.once('error', resolve));
/** A few turns of the event loop, for a check that something did not happen. */
const turns = async (k = 5): Promise<void> => {
  for (let i = 0; i < k; i++) await new Promise((r) => setImmediate(r));
};

for (const transport of ['inproc', 'tcp'] as const) {
  describe(`v5-compat over ${transport}`, () => {
    it('req/rep: three requests sent at once are answered in turn, each reply in order', async () => {
      const rep = make('rep');
      const req = make('req');
      rep.on('message', (request: Buffer) => rep.send(`re: ${request.toString()}`));
      req.connect(await bound(rep, addressFor(transport)));
      const replies = collect(req, 3);
      req.send('a').send('b').send(['c', 'ignored by rep']);
      expect(await replies).toEqual([['re: a'], ['re: b'], ['re: c']]);
    });

    it('pub/sub: a sub gets the messages that match its subscriptions, in order', async () => {
      const sub = make('sub');
      const pub = make('pub');
      sub.subscribe('js').subscribe('luna');
      pub.connect(await bound(sub, addressFor(transport)));
      // PUB drops until the subscriptions have reached it: publish a matching warm-up until one arrives.
      const warm = new Promise<void>((resolve) => sub.once('message', () => resolve()));
      const timer = setInterval(() => pub.send('js warm-up'), 5);
      await warm;
      clearInterval(timer);
      const got: string[] = [];
      const done = new Promise<void>((resolve) =>
        sub.on('message', (m: Buffer) => {
          if (m.toString() === 'js warm-up') return;
          got.push(m.toString());
          if (m.toString() === 'luna is cool too') resolve();
        }),
      );
      for (const m of ['js is cool', 'ruby is meh', 'py is pretty cool', 'luna is cool too']) pub.send(m);
      await done;
      expect(got).toEqual(['js is cool', 'luna is cool too']);
    });

    it('push/pull: ZMQ_SNDMORE gathers frames into one message, and every part\'s callback is called', async () => {
      const pull = make('pull');
      const push = make('push');
      push.connect(await bound(pull, addressFor(transport)));
      const got = collect(pull, 2);
      const calls: string[] = [];
      push.send(['tobi', 'loki'], zmq.ZMQ_SNDMORE, () => calls.push('first'));
      push.send('jane', zmq.ZMQ_SNDMORE);
      push.send([15.99, Buffer.from('luna')], 0, (e) => calls.push(e === undefined ? 'last' : String(e)));
      push.send('alone', null);
      expect(await got).toEqual([['tobi', 'loki', 'jane', '15.99', 'luna'], ['alone']]);
      expect(calls).toEqual(['first', 'last']);
    });

    it('dealer/router: the router sees the dealer\'s identity and routes a burst of replies back', async () => {
      const router = make('router');
      const dealer = make('dealer', { identity: 'dealer-1', linger: 0 });
      const ids = new Set<string>();
      router.on('message', (id: Buffer, ...body: Buffer[]) => {
        ids.add(id.toString());
        router.send([id, ...body.reverse()]);
      });
      dealer.connect(await bound(router, addressFor(transport)));
      const replies = collect(dealer, 200);
      for (let i = 0; i < 200; i++) dealer.send(['hello', String(i)]);
      const got = await replies;
      expect(got[0]).toEqual(['0', 'hello']);
      expect(got.map((m) => Number(m[0]))).toEqual([...Array(200).keys()]);
      expect([...ids]).toEqual(['dealer-1']);
    });

    it('xpub/xsub: the xpub receives a sub\'s subscription as a message, and forwards data to it', async () => {
      const xpub = make('xpub');
      const sub = make('sub');
      const subscription = new Promise<Buffer>((resolve) => xpub.once('message', resolve));
      sub.connect(await bound(xpub, addressFor(transport)));
      sub.subscribe('js');
      const s = await subscription;
      expect([s[0], s.subarray(1).toString()]).toEqual([1, 'js']);
      // The subscription has reached the xpub, so what it sends now reaches the sub.
      const got = collect(sub, 1);
      xpub.send('py: skipped').send('js: kept');
      expect(await got).toEqual([['js: kept']]);
    });

    it('pause holds received messages and sends; resume emits and sends them, in order', async () => {
      const pull = make('pull');
      const push = make('push');
      push.connect(await bound(pull, addressFor(transport)));
      let resumed = false;
      const got: string[] = [];
      const all = new Promise<void>((resolve) =>
        pull.on('message', (m: Buffer) => {
          expect(resumed).toBe(true);
          got.push(m.toString());
          if (got.length === 4) resolve();
        }),
      );
      pull.pause();
      const sent = ['a', 'b', 'c'].map((m) => outcome((cb) => push.send(m, 0, cb)));
      expect(await Promise.all(sent)).toEqual([undefined, undefined, undefined]);
      push.pause();
      let heldSent = false;
      push.send('d', 0, () => (heldSent = true));
      await turns();
      expect(heldSent).toBe(false);
      resumed = true;
      pull.resume();
      push.resume();
      await all;
      expect(got).toEqual(['a', 'b', 'c', 'd']);
      expect(heldSent).toBe(true);
    });

    it('bindSync: the socket binds without a callback and serves', async () => {
      const pull = make('pull');
      const push = make('push');
      const address = addressFor(transport);
      if (transport === 'inproc') {
        pull.bindSync(address);
        push.connect(address);
      } else {
        // Node has no synchronous listen: the port of `tcp://…:*` is known once the monitor's
        // 'listen' event names it (no port freed by another socket and taken again, which races).
        pull.monitor();
        const listening = new Promise<unknown>((resolve) => pull.once('listen', (_fd: unknown, endpoint: unknown) => resolve(endpoint)));
        pull.bindSync(address);
        const endpoint = await listening;
        expect(endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
        push.connect(endpoint as string);
      }
      const got = collect(pull, 1);
      push.send('after bindSync');
      expect(await got).toEqual([['after bindSync']]);
    });
  });
}

describe('v5-compat: errors reach callbacks, else the error event', () => {
  it('bind to an endpoint in use: EADDRINUSE through the callback, or as an error event', async () => {
    const first = make('pull');
    const endpoint = await bound(first, 'tcp://127.0.0.1:*');
    const e = await outcome((cb) => make('pull').bind(endpoint, cb));
    expect(e).toMatchObject({ code: 'EADDRINUSE' });
    const third = make('pull');
    const event = nextError(third);
    third.bind(endpoint);
    expect(await event).toMatchObject({ code: 'EADDRINUSE' });
    // bindSync learns it only from the listen, so it comes as an error event too.
    const fourth = make('pull');
    const later = nextError(fourth);
    fourth.bindSync(endpoint);
    expect(await later).toMatchObject({ code: 'EADDRINUSE' });
  });

  it('a malformed endpoint: bind calls back with the error, bindSync and connect throw', async () => {
    const sock = make('dealer');
    expect(await outcome((cb) => sock.bind('tcp://127.0.0.1:not-a-port', cb))).toMatchObject({ code: 'EINVAL' });
    expect(() => sock.bindSync('tcp://127.0.0.1:not-a-port')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => sock.connect('nope://x')).toThrow(expect.objectContaining({ code: 'EPROTONOSUPPORT' }));
  });

  it('router with ZMQ_ROUTER_MANDATORY: an unroutable message is EHOSTUNREACH; without it, dropped quietly', async () => {
    const strict = make('router');
    strict.setsockopt(zmq.ZMQ_ROUTER_MANDATORY, 1);
    strict.setsockopt(zmq.ZMQ_SNDTIMEO, 10);
    expect(await outcome((cb) => strict.send(['nobody', '', 'x'], null, cb))).toMatchObject({ code: 'EHOSTUNREACH' });
    const event = nextError(strict);
    strict.send(['nobody', '', 'y']);
    expect(await event).toMatchObject({ code: 'EHOSTUNREACH' });
    const lax = make('router');
    expect(await outcome((cb) => lax.send(['nobody', '', 'x'], null, cb))).toBeUndefined();
  });

  it('sending on a socket type that cannot send fails through the callback (ENOTSUP)', async () => {
    expect(await outcome((cb) => make('pull').send('x', 0, cb))).toMatchObject({ code: 'ENOTSUP' });
  });

  it('unbind: the callback and an unbind event on success; ENOENT for an endpoint not bound', async () => {
    const sock = make('dealer');
    const endpoint = await bound(sock, 'tcp://127.0.0.1:*');
    const event = new Promise<string>((resolve) => sock.once('unbind', resolve));
    expect(await outcome((cb) => sock.unbind(endpoint, cb))).toBeUndefined();
    expect(await event).toBe(endpoint);
    expect(await outcome((cb) => sock.unbind(endpoint, cb))).toMatchObject({ code: 'ENOENT' });
    const later = nextError(sock);
    sock.unbindSync(endpoint);
    expect(await later).toMatchObject({ code: 'ENOENT' });
  });

  it('subscribe on a socket that is not a sub throws EINVAL', () => {
    expect(() => make('pub').subscribe('x')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => make('xsub').setsockopt(zmq.ZMQ_SUBSCRIBE, 'x')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('v5-compat: close', () => {
  it('close() sets closed; a send still waiting for a peer fails through its callback, and emits no error event', async () => {
    const push = make('push');
    push.on('error', () => expect.unreachable('a send discarded by close() is no error event'));
    const waiting = outcome((cb) => push.send('nobody', 0, cb));
    push.send('nobody either');
    push.close();
    expect(push.closed).toBe(true);
    expect(await waiting).toMatchObject({ code: 'EAGAIN' });
    await turns();
  });

  it('a send after close() fails with EBADF through its callback', async () => {
    const dealer = make('dealer');
    dealer.close();
    expect(await outcome((cb) => dealer.send('late', 0, cb))).toMatchObject({ code: 'EBADF' });
  });

  it('messages held by pause() or waiting for their REQ turn fail at close()', async () => {
    const req = make('req');
    req.connect(addressFor('inproc')); // bound by nobody: libzmq queues to an inproc name bound later
    const first = outcome((cb) => req.send('first', 0, cb));
    const second = outcome((cb) => req.send('second', 0, cb));
    const push = make('push');
    push.connect(addressFor('inproc'));
    push.pause();
    const held = outcome((cb) => push.send('held', 0, cb));
    expect(await first).toBeUndefined(); // queued for the peer to come
    req.close();
    push.close();
    expect(await second).toMatchObject({ code: 'EAGAIN' }); // its turn never came: no reply to the first
    expect(await held).toMatchObject({ code: 'EAGAIN' });
  });

  it('a REQ closed while waiting for a reply: a later send fails with EBADF, not left waiting', async () => {
    const req = make('req');
    req.connect(addressFor('inproc'));
    await outcome((cb) => req.send('unanswered', 0, cb));
    req.close();
    expect(await outcome((cb) => req.send('late', 0, cb))).toMatchObject({ code: 'EBADF' });
  });

  it('a listener that closes the socket gets no further message', async () => {
    const pull = make('pull');
    const push = make('push');
    const address = addressFor('inproc');
    pull.bindSync(address);
    push.connect(address);
    const got: string[] = [];
    const first = new Promise<void>((resolve) =>
      pull.on('message', (m: Buffer) => {
        got.push(m.toString());
        pull.close();
        resolve();
      }),
    );
    push.send('a').send('b').send('c');
    await first;
    await turns();
    expect(got).toEqual(['a']);
  });

  it('a closed socket emits no message and no error; its receive loop just ends', async () => {
    const pull = make('pull');
    pull.on('error', () => expect.unreachable('close() is no error'));
    pull.on('message', () => expect.unreachable('nothing was sent'));
    pull.close();
    await turns();
  });
});

describe('v5-compat: options', () => {
  it('socket(type, options) sets them; setsockopt/getsockopt by ZMQ_* id and by name; the properties', () => {
    const sock = make('dealer', { identity: 'worker-1', linger: 0, backlog: 30 });
    expect(sock.getsockopt(zmq.ZMQ_IDENTITY)).toBe('worker-1');
    expect(sock.identity).toBe('worker-1');
    expect(sock.linger).toBe(0);
    expect(sock.getsockopt('backlog')).toBe(30);
    expect(sock.setsockopt(zmq.ZMQ_BACKLOG, 75)).toBe(sock);
    expect(sock.backlog).toBe(75);
    sock.backlog = 50;
    expect(sock.getsockopt(zmq.ZMQ_BACKLOG)).toBe(50);
    sock.setsockopt('reconnect_ivl', 250);
    expect(sock.reconnect_ivl).toBe(250);
    sock.setsockopt(zmq.ZMQ_SNDHWM, 5).setsockopt(zmq.ZMQ_RCVHWM, 6);
    expect([sock.getsockopt(zmq.ZMQ_SNDHWM), sock.getsockopt(zmq.ZMQ_RCVHWM)]).toEqual([5, 6]);
  });

  it('identity set as bytes reads back as a Buffer', () => {
    const sock = make('dealer');
    sock.identity = Buffer.from([1, 2, 3]);
    const id = sock.getsockopt(zmq.ZMQ_IDENTITY) as Buffer;
    expect(Buffer.isBuffer(id)).toBe(true);
    expect([...id]).toEqual([1, 2, 3]);
  });

  it('booleans read as 0 or 1; IPV4ONLY is the opposite of IPV6; RCVTIMEO is kept; RCVMORE is 0', () => {
    const router = make('router');
    expect(router.getsockopt(zmq.ZMQ_ROUTER_MANDATORY)).toBe(0);
    router.setsockopt(zmq.ZMQ_ROUTER_MANDATORY, true);
    expect(router.getsockopt(zmq.ZMQ_ROUTER_MANDATORY)).toBe(1);
    expect(router.getsockopt(zmq.ZMQ_IPV4ONLY)).toBe(1);
    router.setsockopt(zmq.ZMQ_IPV4ONLY, 0);
    expect([router.getsockopt(zmq.ZMQ_IPV6), router.getsockopt(zmq.ZMQ_IPV4ONLY)]).toEqual([1, 0]);
    expect(router.getsockopt(zmq.ZMQ_RCVTIMEO)).toBe(-1);
    router.setsockopt(zmq.ZMQ_RCVTIMEO, 100);
    expect(router.getsockopt(zmq.ZMQ_RCVTIMEO)).toBe(100);
    expect(router.getsockopt(zmq.ZMQ_RCVMORE)).toBe(0);
    expect(router.mechanism).toBe(0);
  });

  it('ZMQ_TYPE is libzmq\'s number (xreq and xrep too); ZMQ_EVENTS tells POLLIN and POLLOUT', async () => {
    const types: [SocketType, number][] = [['pair', 0], ['pub', 1], ['sub', 2], ['req', 3], ['rep', 4], ['dealer', 5], ['xreq', 5],
      ['router', 6], ['xrep', 6], ['pull', 7], ['push', 8], ['xpub', 9], ['xsub', 10]];
    for (const [type, number] of types) {
      const sock = make(type);
      expect(sock.type).toBe(type);
      expect(sock.getsockopt(zmq.ZMQ_TYPE)).toBe(number);
    }
    const pull = make('pull');
    pull.pause(); // keep what arrives in the v6 socket, where ZMQ_EVENTS sees it
    const push = make('push');
    const endpoint = await bound(pull, addressFor('inproc'));
    expect(push.getsockopt(zmq.ZMQ_EVENTS)).toBe(0); // no peer yet: a send would wait
    push.connect(endpoint);
    await outcome((cb) => push.send('x', 0, cb));
    expect(push.getsockopt(zmq.ZMQ_EVENTS)).toBe(zmq.ZMQ_POLLOUT);
    // The loop took the first message before pause() stopped it; the next one stays readable.
    await outcome((cb) => push.send('y', 0, cb));
    await turns();
    expect(pull._ioevents & zmq.ZMQ_POLLIN).toBe(zmq.ZMQ_POLLIN);
  });

  it('CURVE through the v5 option names: keys as Z85 strings or as 40-byte Buffers of that text', async () => {
    const server = zmq.curveKeypair();
    const client = zmq.curveKeypair();
    const pull = make('pull', { curve_server: 1, curve_secretkey: server.secret });
    const push = make('push');
    push.curve_serverkey = Buffer.from(server.public);
    push.setsockopt(zmq.ZMQ_CURVE_PUBLICKEY, client.public);
    push.setsockopt(zmq.ZMQ_CURVE_SECRETKEY, Buffer.from(client.secret));
    expect([pull.curve_server, pull.mechanism, push.mechanism]).toEqual([1, 2, 2]);
    expect(push.curve_serverkey).toBe(server.public);
    push.connect(await bound(pull, 'tcp://127.0.0.1:*'));
    const got = collect(pull, 1);
    push.send('sealed');
    expect(await got).toEqual([['sealed']]);
  });

  it('an option the socket type lacks, an unknown id, a read-only or write-only option: EINVAL', () => {
    const dealer = make('dealer');
    expect(() => dealer.setsockopt(zmq.ZMQ_ROUTER_MANDATORY, 1)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => dealer.setsockopt(9999, 1)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => dealer.setsockopt(zmq.ZMQ_TYPE, 1)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => dealer.getsockopt(zmq.ZMQ_SUBSCRIBE)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => dealer.getsockopt(zmq.ZMQ_FD)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => dealer.setsockopt(zmq.ZMQ_ROUTER_RAW, 1)).toThrow(expect.objectContaining({ code: 'ENOTSUP' }));
    expect(() => dealer.setsockopt(zmq.ZMQ_LINGER, -7)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => dealer.getsockopt('lingr' as zmq.OptionName)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('options set through the properties reach the sub socket too (_subscribe)', async () => {
    const sub = make('sub');
    const pub = make('pub');
    sub._subscribe = 'a';
    pub.connect(await bound(sub, addressFor('inproc')));
    const warm = new Promise<void>((resolve) => sub.once('message', () => resolve()));
    const timer = setInterval(() => pub.send('a'), 5);
    await warm;
    clearInterval(timer);
  });
});

describe('v5-compat: monitor events', () => {
  it('listen, accept and disconnect with the endpoint; bind_error with errno and the error', async () => {
    const rep = make('rep');
    rep.monitor();
    const listen = new Promise<unknown[]>((resolve) => rep.once('listen', (...args: unknown[]) => resolve(args)));
    const accept = new Promise<unknown[]>((resolve) => rep.once('accept', (...args: unknown[]) => resolve(args)));
    const disconnect = new Promise<unknown[]>((resolve) => rep.once('disconnect', (...args: unknown[]) => resolve(args)));
    const endpoint = await bound(rep, 'tcp://127.0.0.1:*');
    expect((await listen)[1]).toBe(endpoint);
    const req = make('req');
    req.connect(endpoint);
    expect((await accept)[1]).toBe(endpoint);
    req.close();
    expect((await disconnect)[1]).toBe(endpoint);

    const twice = make('rep');
    twice.monitor();
    const failed = new Promise<unknown[]>((resolve) => twice.once('bind_error', (...args: unknown[]) => resolve(args)));
    twice.bind(endpoint, () => {});
    const [errno, address, error] = await failed;
    expect(errno).toBe(98);
    expect(address).toBe(endpoint);
    expect(error).toMatchObject({ code: 'EADDRINUSE' });
  });

  it('connect_retry carries the interval; after unmonitor() no more events come', async () => {
    // A port nobody listens on, and nobody else can take meanwhile.
    const endpoint = await refusingEndpoint();
    const dealer = make('dealer', { reconnect_ivl: 10 });
    dealer.monitor(10, 0); // v5's polling arguments: accepted, and events still come as they happen
    const retry = new Promise<unknown[]>((resolve) => dealer.once('connect_retry', (...args: unknown[]) => resolve(args)));
    dealer.connect(endpoint);
    const [interval, address] = await retry;
    expect(interval).toBeGreaterThanOrEqual(10); // the interval, with libzmq's random spread added
    expect(address).toBe(endpoint);
    dealer.unmonitor();
    let after = 0;
    dealer.on('connect_retry', () => after++);
    // A witness with the same interval, connected later: by its third retry the first has retried again.
    const witness = make('dealer', { reconnect_ivl: 10 });
    witness.monitor();
    const thrice = new Promise<void>((resolve) => {
      let k = 0;
      witness.on('connect_retry', () => ++k === 3 && resolve());
    });
    witness.connect(endpoint);
    await thrice;
    expect(after).toBe(0);
  });
});

describe('v5-compat: the module', () => {
  it('exports the constants with libzmq\'s numbers, version, socket/createSocket, options', () => {
    expect(zmq.createSocket).toBe(zmq.socket);
    expect(zmq.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect([zmq.ZMQ_PAIR, zmq.ZMQ_PUB, zmq.ZMQ_SUB, zmq.ZMQ_REQ, zmq.ZMQ_REP, zmq.ZMQ_DEALER, zmq.ZMQ_ROUTER, zmq.ZMQ_PULL, zmq.ZMQ_PUSH, zmq.ZMQ_XPUB, zmq.ZMQ_XSUB])
      .toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect([zmq.ZMQ_SNDMORE, zmq.ZMQ_POLLIN, zmq.ZMQ_POLLOUT, zmq.ZMQ_POLLERR]).toEqual([2, 1, 2, 4]);
    expect([zmq.ZMQ_LINGER, zmq.ZMQ_SNDHWM, zmq.ZMQ_ROUTER_MANDATORY, zmq.ZMQ_LAST_ENDPOINT]).toEqual([17, 23, 33, 32]);
    expect([zmq.STATE_READY, zmq.STATE_BUSY, zmq.STATE_CLOSED]).toEqual([0, 1, 2]);
    expect(zmq.options.linger).toBe(zmq.ZMQ_LINGER);
  });

  it('an unknown socket type, or stream, is EINVAL naming the accepted types', () => {
    expect(() => zmq.socket('stream' as SocketType)).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('ZMQ_STREAM') }));
    expect(() => zmq.socket('requester' as SocketType)).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('accepted: pair, req') }));
  });

  it('Context: static settings of the default Context; new Context() throws', () => {
    const before = zmq.Context.getMaxSockets();
    zmq.Context.setMaxSockets(256);
    expect(zmq.Context.getMaxSockets()).toBe(256);
    zmq.Context.setMaxSockets(before);
    zmq.Context.setMaxThreads(2);
    expect(zmq.Context.getMaxThreads()).toBe(2);
    zmq.Context.setMaxThreads(1);
    expect(() => new zmq.Context()).toThrow();
  });

  it('curveKeypair: 40-character Z85 public and secret keys', () => {
    const pair = zmq.curveKeypair();
    expect(pair.public).toHaveLength(40);
    expect(pair.secret).toHaveLength(40);
  });

  it('read() is gone, as in zeromq.js\'s compatibility mode', () => {
    expect(() => make('pull').read()).toThrow(/on\('message'/);
  });

  it('proxy: router/dealer forwards requests to a worker and replies back, the capture gets the bodies', async () => {
    const frontend = make('router');
    const backend = make('dealer');
    const capture = make('pull');
    const captureIn = make('push');
    const front = await bound(frontend, addressFor('inproc'));
    const back = await bound(backend, addressFor('inproc'));
    const captured = await bound(capture, addressFor('inproc'));
    captureIn.connect(captured);
    zmq.proxy(frontend, backend, captureIn);
    const worker = make('rep');
    worker.on('message', (m: Buffer) => worker.send(`done ${m.toString()}`));
    worker.connect(back);
    const client = make('req');
    client.connect(front);
    const copies = collect(capture, 1);
    const reply = collect(client, 1);
    client.send('job');
    expect(await reply).toEqual([['done job']]);
    expect(await copies).toEqual([['done job']]);
    expect(() => zmq.proxy(make('pub'), make('sub'))).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('v5-compat with a real zeromq.js v6 peer over tcp', () => {
  it('a zeromq.js Request asks a v5 rep; a v5 dealer talks to a zeromq.js Router', async () => {
    const rep = make('rep');
    rep.on('message', (m: Buffer) => rep.send(`v5 says ${m.toString()}`));
    const endpoint = await bound(rep, 'tcp://127.0.0.1:*');
    const req = new zeromq.Request();
    theirs.push(req);
    req.connect(endpoint);
    await req.send('hi');
    expect((await req.receive()).map(String)).toEqual(['v5 says hi']);

    const router = new zeromq.Router();
    theirs.push(router);
    await router.bind('tcp://127.0.0.1:*');
    const dealer = make('dealer', { identity: 'v5-dealer' });
    dealer.connect(router.lastEndpoint as string);
    dealer.send(['part 1', 'part 2'], zmq.ZMQ_SNDMORE).send('part 3');
    const [id, ...body] = await router.receive();
    expect(String(id)).toBe('v5-dealer');
    expect(body.map(String)).toEqual(['part 1', 'part 2', 'part 3']);
    const answer = collect(dealer, 1);
    await router.send([id as Buffer, 'back']);
    expect(await answer).toEqual([['back']]);
  });
});
