// tcp between our own sockets: every pattern, address forms, reconnects, timeouts, heartbeats,
// back-pressure and lingering.

import { readdirSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import type { Socket as NetSocket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import * as zmq from 'zeromq';
import { Context } from '../../src/socket/context.js';
import { Dealer, Router } from '../../src/socket/dealer-router.js';
import { Pair } from '../../src/socket/pair.js';
import { Publisher, Subscriber, XPublisher } from '../../src/socket/pub-sub.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import { Reply, Request } from '../../src/socket/request-reply.js';
import { FrameDecoder, readyCommand } from '../../src/protocol/index.js';
import {
  delay, greeting, handshakeBytes, nextEvent, own, rawServer, reconnectIntervals, recordEvents, refusingEndpoint, settled,
  text, track, turn,
} from './helpers.js';
import { collectGarbage } from '../hardening/lib/memory.js';

const LOCAL = 'tcp://127.0.0.1:*';

describe('tcp: patterns between our sockets', () => {
  it('push → pull: multipart with empty frames, a 300-byte and a 1 MiB frame, in order', async () => {
    const context = new Context();
    const pull = track(new Pull({ context }));
    await pull.bind(LOCAL);
    expect(pull.lastEndpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(pull.lastEndpoint).not.toBe('tcp://127.0.0.1:0');
    const push = track(new Push({ context }));
    push.connect(pull.lastEndpoint!);
    const big = Buffer.alloc(1 << 20, 0xab);
    await push.send(['a', '', 'b', '']);
    await push.send(Buffer.alloc(300, 7));
    await push.send(['head', big]);
    expect(text(await pull.receive())).toEqual(['a', '', 'b', '']);
    const m300 = await pull.receive();
    expect(m300[0].equals(Buffer.alloc(300, 7))).toBe(true);
    const mbig = await pull.receive();
    expect(mbig[0].toString()).toBe('head');
    expect(mbig[1].equals(big)).toBe(true);
  });

  it('pull connects, push binds: both directions of bind/connect work', async () => {
    const context = new Context();
    const push = track(new Push({ context }));
    await push.bind(LOCAL);
    const pull = track(new Pull({ context }));
    pull.connect(push.lastEndpoint!);
    await push.send('hi');
    expect(text(await pull.receive())).toEqual(['hi']);
  });

  it('pair ⇄ pair, both ways', async () => {
    const context = new Context();
    const a = track(new Pair({ context }));
    const b = track(new Pair({ context }));
    await a.bind(LOCAL);
    b.connect(a.lastEndpoint!);
    await b.send('ping');
    expect(text(await a.receive())).toEqual(['ping']);
    await a.send(['pong', '']);
    expect(text(await b.receive())).toEqual(['pong', '']);
  });

  it('request → reply, lockstep over tcp', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    await rep.bind(LOCAL);
    const req = track(new Request({ context }));
    req.connect(rep.lastEndpoint!);
    for (let i = 0; i < 3; i++) {
      await req.send(`q${i}`);
      expect(text(await rep.receive())).toEqual([`q${i}`]);
      await rep.send(`a${i}`);
      expect(text(await req.receive())).toEqual([`a${i}`]);
    }
  });

  it('dealer → router: the router sees the dealer routingId and routes the reply back', async () => {
    const context = new Context();
    const router = track(new Router({ context }));
    await router.bind(LOCAL);
    const dealer = track(new Dealer({ context, routingId: 'worker-1' }));
    dealer.connect(router.lastEndpoint!);
    await dealer.send(['', 'job']);
    const [id, empty, body] = await router.receive();
    expect(id.toString()).toBe('worker-1');
    expect(empty.length).toBe(0);
    expect(body.toString()).toBe('job');
    await router.send([id, '', 'done']);
    expect(text(await dealer.receive())).toEqual(['', 'done']);
  });

  it('pub → sub: subscriptions travel as ZMTP 3.1 SUBSCRIBE commands and filter', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context }));
    await pub.bind(LOCAL);
    const sub = track(new Subscriber({ context }));
    sub.subscribe('weather');
    const accepted = nextEvent(pub, 'accept');
    sub.connect(pub.lastEndpoint!);
    await accepted;
    // The subscription arrives after the handshake: publish until the first matching message passes.
    let got: string[] | undefined;
    const receiving = sub.receive().then((m) => (got = text(m)));
    while (got === undefined) {
      await pub.send(['sports', 'x']);
      await pub.send(['weather', 'sunny']);
      await delay(5);
    }
    await receiving;
    expect(got).toEqual(['weather', 'sunny']);
  });

  it('xpub sees the subscribe message a sub sends over tcp (converted from SUBSCRIBE)', async () => {
    const context = new Context();
    const xpub = track(new XPublisher({ context }));
    await xpub.bind(LOCAL);
    const sub = track(new Subscriber({ context }));
    sub.subscribe('abc');
    sub.connect(xpub.lastEndpoint!);
    const [m] = await xpub.receive();
    expect([...m]).toEqual([1, ...Buffer.from('abc')]);
    sub.unsubscribe('abc');
    const [c] = await xpub.receive();
    expect([...c]).toEqual([0, ...Buffer.from('abc')]);
  });
});

describe('tcp: subscription encoding per peer version (PROTOCOL.md §8)', () => {
  /** What our SUB sends a raw PUB that announced greeting minor `minor`: the frames after its READY. */
  async function subscriptionBytes(minor: number): Promise<{ messages: number[][]; commands: [string, number[]][] }> {
    const reply = Buffer.concat([greeting({ minor }), readyCommand('PUB')]);
    const server = await rawServer((s) => s.write(reply));
    const context = new Context();
    const sub = track(new Subscriber({ context }));
    sub.subscribe('A');
    const up = nextEvent(sub, 'handshake');
    sub.connect(server.endpoint);
    await up;
    sub.unsubscribe('A');
    const messages: number[][] = [];
    const commands: [string, number[]][] = [];
    const d = new FrameDecoder();
    const sink = {
      onMessage: (f: Uint8Array[]) => messages.push([...f[0]]),
      onCommand: (name: string, data: Uint8Array) => commands.push([name, [...data]]),
    };
    let fed = 0;
    const stream = server.connections[0]!;
    for (;;) {
      const all = Buffer.concat(server.received[0] ?? []);
      if (all.length > 64 + fed) {
        d.push(all.subarray(64 + fed), sink);
        fed = all.length - 64;
      }
      if (messages.length + commands.length >= 3) break;
      await new Promise((r) => stream.once('data', r)); // the server's own listener has recorded it first
    }
    return { messages, commands };
  }

  it('to a 3.1 peer: SUBSCRIBE and CANCEL commands', async () => {
    const { messages, commands } = await subscriptionBytes(1);
    expect(messages).toEqual([]);
    expect(commands.map((c) => c[0])).toEqual(['READY', 'SUBSCRIBE', 'CANCEL']);
    expect(commands[1][1]).toEqual([0x41]);
    expect(commands[2][1]).toEqual([0x41]);
  });

  it('to a 3.0 peer: 0x01/0x00-prefixed messages', async () => {
    const { messages, commands } = await subscriptionBytes(0);
    expect(commands.map((c) => c[0])).toEqual(['READY']);
    expect(messages).toEqual([[1, 0x41], [0, 0x41]]);
  });
});

describe('tcp: addresses', () => {
  it('tcp://*:* binds every interface and reports 0.0.0.0 with the real port', async () => {
    const context = new Context();
    const pull = track(new Pull({ context }));
    await pull.bind('tcp://*:*');
    const m = /^tcp:\/\/0\.0\.0\.0:(\d+)$/.exec(pull.lastEndpoint ?? '');
    expect(m).not.toBeNull();
    const push = track(new Push({ context }));
    push.connect(`tcp://127.0.0.1:${m![1]}`);
    await push.send('via loopback');
    expect(text(await pull.receive())).toEqual(['via loopback']);
  });

  it('a host name is resolved for bind and connect', async () => {
    const context = new Context();
    const pull = track(new Pull({ context }));
    await pull.bind('tcp://localhost:*');
    expect(pull.lastEndpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const port = pull.lastEndpoint!.split(':').pop();
    const push = track(new Push({ context }));
    push.connect(`tcp://localhost:${port}`);
    await push.send('named');
    expect(text(await pull.receive())).toEqual(['named']);
  });

  const hasIpv6Loopback = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.family === 'IPv6' && i.address === '::1'));
  it.skipIf(!hasIpv6Loopback)('IPv6 [::1] (skipped when the machine has no IPv6 loopback)', async () => {
    const context = new Context();
    const pull = track(new Pull({ context, ipv6: true }));
    await pull.bind('tcp://[::1]:*');
    expect(pull.lastEndpoint).toMatch(/^tcp:\/\/\[::1\]:\d+$/);
    const push = track(new Push({ context, ipv6: true }));
    const handshake = nextEvent(pull, 'handshake');
    push.connect(pull.lastEndpoint!);
    await push.send('v6');
    expect(text(await pull.receive())).toEqual(['v6']);
    expect((await handshake).peer?.remoteAddress).toMatch(/^\[::1\]:\d+$/);
  });

  it('binding a network interface by name (tcp://lo:*) listens on its IPv4 address, as libzmq does', async () => {
    // The loopback interface's name: lo on Linux, lo0 on macOS.
    const lo = Object.entries(networkInterfaces()).find(([, list]) => list?.some((i) => i.address === '127.0.0.1'))?.[0];
    expect(lo, 'no interface holds 127.0.0.1').toBeDefined();
    const ours = track(new Pull({ context: new Context() }));
    await ours.bind(`tcp://${lo}:*`);
    expect(ours.lastEndpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
    const theirs = new zmq.Pull();
    try {
      await theirs.bind(`tcp://${lo}:*`);
      expect(ours.lastEndpoint!.replace(/\d+$/, 'P')).toBe(theirs.lastEndpoint!.replace(/\d+$/, 'P'));
    } finally {
      theirs.close();
    }
    const push = track(new Push({ context: new Context() }));
    push.connect(ours.lastEndpoint!);
    await push.send('via lo');
    expect(text(await ours.receive())).toEqual(['via lo']);
    // A name inherited by every object is no interface (nor a host here): ENODEV, not a TypeError.
    const odd = track(new Pull({ context: new Context() }));
    await expect(odd.bind('tcp://constructor:*')).rejects.toMatchObject({ code: 'ENODEV' });
  });

  it('binding a port in use fails with EADDRINUSE naming the port', async () => {
    const context = new Context();
    const a = track(new Pull({ context }));
    await a.bind(LOCAL);
    const port = a.lastEndpoint!.split(':').pop();
    const b = track(new Pull({ context }));
    const err = await b.bind(`tcp://127.0.0.1:${port}`).catch((e) => e);
    expect(err.code).toBe('EADDRINUSE');
    expect(err.message).toContain(port);
    expect(err.address).toBe(`tcp://127.0.0.1:${port}`);
  });

  it('events name the endpoint and the peer (type, routing id, remote address)', async () => {
    const context = new Context();
    const router = track(new Router({ context }));
    await router.bind(LOCAL);
    const accepted = nextEvent(router, 'handshake');
    const dealer = track(new Dealer({ context, routingId: 'me' }));
    const connected = nextEvent(dealer, 'handshake');
    dealer.connect(router.lastEndpoint!);
    const a = await accepted;
    expect(a.address).toBe(router.lastEndpoint);
    expect(a.peer?.socketType).toBe('DEALER');
    expect(Buffer.from(a.peer!.routingId!).toString()).toBe('me');
    expect(a.peer?.remoteAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    const c = await connected;
    expect(c.peer?.socketType).toBe('ROUTER');
    expect(c.peer?.remoteAddress).toBe(router.lastEndpoint!.slice('tcp://'.length));
  });
});

describe('tcp: connecting, reconnecting', () => {
  it('connect before bind retries quietly (connect:retry with its interval) and then delivers', async () => {
    const context = new Context();
    const endpoint = await refusingEndpoint();
    const push = track(new Push({ context, reconnectInterval: 20 }));
    const retry = nextEvent(push, 'connect:retry');
    push.connect(endpoint);
    // Without `immediate`, the message queues to the endpoint before it exists (as libzmq does).
    expect(await settled(push.send('early'))).toBe('done');
    const r = await retry;
    // The delay it announces (not a measured time): reconnectInterval plus a jitter below it.
    expect(r.interval).toBeGreaterThanOrEqual(20);
    expect(r.interval).toBeLessThan(40);
    const pull = track(new Pull({ context }));
    await pull.bind(endpoint);
    expect(text(await pull.receive())).toEqual(['early']);
  });

  it('with immediate, nothing queues until a connection completes', async () => {
    const context = new Context();
    const endpoint = await refusingEndpoint();
    const push = track(new Push({ context, immediate: true, reconnectInterval: 20 }));
    push.connect(endpoint);
    const sending = push.send('later');
    // Queued, it would be done at once; it still waits after the first refused attempt.
    await nextEvent(push, 'connect:retry');
    expect(await settled(sending)).toBe('waiting');
    const pull = track(new Pull({ context }));
    await pull.bind(endpoint);
    await sending;
    expect(text(await pull.receive())).toEqual(['later']);
  });

  it('reconnects after the binder restarts, keeping the messages queued meanwhile', async () => {
    const context = new Context();
    const first = track(new Pull({ context }));
    await first.bind(LOCAL);
    const endpoint = first.lastEndpoint!;
    const push = track(new Push({ context, reconnectInterval: 20 }));
    push.connect(endpoint);
    await push.send('one');
    expect(text(await first.receive())).toEqual(['one']);
    const gone = nextEvent(push, 'disconnect');
    first.close();
    await gone;
    // Queued while nothing listens: kept within SNDHWM across the reconnect.
    for (let i = 0; i < 5; i++) await push.send(`queued-${i}`);
    const retried = nextEvent(push, 'connect:retry');
    await retried;
    const second = track(new Pull({ context }));
    await second.bind(endpoint);
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push(text(await second.receive())[0]);
    expect(got).toEqual(['queued-0', 'queued-1', 'queued-2', 'queued-3', 'queued-4']);
  });

  it('close() during a connect under way lets go of the socket and its Context at once (zeromq.js\'s "release reference to context")', async () => {
    const endpoint = await refusingEndpoint();
    // Made and closed in a function of their own, so that nothing of this test's frame holds them.
    const closedDuringConnect = (send: boolean): WeakRef<Context> => {
      const context = new Context();
      const dealer = new Dealer({ context, linger: 0 });
      dealer.connect(endpoint);
      if (send) void dealer.send('foo');
      dealer.close();
      return new WeakRef(context);
    };
    const refs = [closedDuringConnect(true), closedDuringConnect(false)];
    // One turn later (the close's own work done), the attempts' handles may still be open in
    // libuv: they must not hold the sockets through our listeners.
    await new Promise((r) => setImmediate(r));
    collectGarbage();
    expect(refs.map((r) => r.deref() === undefined)).toEqual([true, true]);
  });

  it('disconnect() stops the retries', async () => {
    const context = new Context();
    const endpoint = await refusingEndpoint();
    const push = track(new Push({ context, reconnectInterval: 10 }));
    const events = recordEvents(push);
    push.connect(endpoint);
    await nextEvent(push, 'connect:retry');
    push.disconnect(endpoint);
    const before = events.filter((e) => e.type === 'connect:retry').length;
    // Its next attempt was due within 20 ms; a sentinel with the same interval counts ten of them.
    await reconnectIntervals(10, 10);
    expect(events.filter((e) => e.type === 'connect:retry').length).toBe(before);
  });

  it('unbind() ends the connections that came through it; the connecter sees disconnect', async () => {
    const context = new Context();
    const pull = track(new Pull({ context }));
    await pull.bind(LOCAL);
    const push = track(new Push({ context, reconnectInterval: 20 }));
    const up = nextEvent(push, 'handshake');
    push.connect(pull.lastEndpoint!);
    await up;
    const down = nextEvent(push, 'disconnect');
    await pull.unbind(pull.lastEndpoint!);
    const e = await down;
    expect(e.address).toBe(pull.lastEndpoint);
    // The peer closed it: no failure of ours to report.
    expect(e.error).toBeUndefined();
  });

  it('handshakeInterval: a server that accepts but never answers is dropped (handshake:error:other), then retried', async () => {
    const server = await rawServer();
    const context = new Context();
    const push = track(new Push({ context, handshakeInterval: 50, reconnectInterval: 10 }));
    const failed = nextEvent(push, 'handshake:error:other');
    push.connect(server.endpoint);
    const e = await failed;
    expect(e.error?.message).toContain('handshakeInterval');
    await nextEvent(push, 'connect:retry');
    await server.nextConnection(); // a second attempt arrives
    expect(server.connections.length).toBeGreaterThanOrEqual(2);
  });

  it('heartbeats: a peer that completes the handshake and goes silent is dropped', async () => {
    const server = await rawServer((s) => s.write(handshakeBytes('PULL')));
    const context = new Context();
    const push = track(new Push({ context, heartbeatInterval: 30, heartbeatTimeout: 60, reconnectInterval: 1000 }));
    const up = nextEvent(push, 'handshake');
    const down = nextEvent(push, 'disconnect');
    push.connect(server.endpoint);
    await up;
    // The event says why our side ended the connection.
    const e = await down;
    expect(e.error?.code).toBe('ETIMEDOUT');
    expect(e.error?.message).toContain('heartbeat timeout');
    expect(e.address).toBe(server.endpoint);
    // The silent peer did receive our PINGs.
    const bytes = Buffer.concat(server.received[0]);
    const names: string[] = [];
    const d = new FrameDecoder();
    d.push(bytes.subarray(64), { onMessage: () => {}, onCommand: (n) => names.push(n) });
    expect(names[0]).toBe('READY');
    expect(names).toContain('PING');
  });

  it('heartbeats: a peer sending a multipart message more slowly than the timeout is not dropped', async () => {
    // Its frames arrive every 40 ms, the message is whole after 480 ms; the timeout is 300 ms. Any
    // bytes count as traffic (counting whole messages only, the PINGs' timeout would drop it).
    let peer: NetSocket | undefined;
    const server = await rawServer((s) => {
      peer = s;
      s.write(handshakeBytes('PUSH'));
    });
    const context = new Context();
    const pull = track(new Pull({ context, heartbeatInterval: 20, heartbeatTimeout: 300, reconnectInterval: 1000 }));
    const events = recordEvents(pull);
    const up = nextEvent(pull, 'handshake');
    pull.connect(server.endpoint);
    await up;
    const parts = Array.from({ length: 12 }, (_, i) => Buffer.from([i < 11 ? 0x01 : 0x00, 0x01, 0x61 + i])); // "a".."l", MORE on all but the last
    for (const part of parts) {
      peer!.write(part);
      await delay(40);
    }
    expect(text(await pull.receive())).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l']);
    expect(events.filter((e) => e.type === 'disconnect')).toEqual([]);
  });

  it('heartbeats: our side answers PING with PONG echoing the context', async () => {
    const context = new Context();
    const pull = track(new Pull({ context }));
    await pull.bind(LOCAL);
    const port = Number(pull.lastEndpoint!.split(':').pop());
    const raw = own(netConnect(port, '127.0.0.1'));
    const commands: { name: string; data: Buffer }[] = [];
    const d = new FrameDecoder();
    let seen = 0;
    const pong = new Promise<void>((resolve) => {
      raw.on('data', (c: Buffer) => {
        const start = Math.max(0, 64 - seen);
        seen += c.length;
        if (start >= c.length) return;
        d.push(c.subarray(start), {
          onMessage: () => {},
          onCommand: (name, data) => {
            commands.push({ name, data: Buffer.from(data) });
            if (name === 'PONG') resolve();
          },
        });
      });
    });
    raw.write(handshakeBytes('PUSH'));
    // PING: ttl 0, context "LOL" (libzmq tests/test_heartbeats.cpp).
    raw.write(Buffer.from([0x04, 0x0a, 0x04, 0x50, 0x49, 0x4e, 0x47, 0x00, 0x00, 0x4c, 0x4f, 0x4c]));
    await pong;
    expect(commands.map((c) => c.name)).toEqual(['READY', 'PONG']);
    expect(commands[1].data.toString()).toBe('LOL');
  });
});

describe('tcp: inspection', () => {
  it("the Context's inspector sees each connection actor go through its states", async () => {
    const states: string[] = [];
    const context = new Context({
      inspect: (e) => {
        if (e.type !== '@xstate.snapshot') return;
        const logic = (e.actorRef as unknown as { logic?: { id?: string } }).logic;
        if (logic?.id !== 'connection') return;
        const value = (e.snapshot as { value?: unknown }).value;
        states.push(typeof value === 'string' ? value : Object.keys(value as object)[0]);
      },
    });
    const pull = track(new Pull({ context }));
    await pull.bind(LOCAL);
    const push = track(new Push({ context }));
    push.connect(pull.lastEndpoint!);
    await push.send('seen');
    await pull.receive();
    expect(states).toContain('connecting');
    expect(states).toContain('handshaking');
    expect(states).toContain('active');
  });
});

describe('tcp: flow control and closing', () => {
  it('back-pressure: a receiver that does not read makes the sender wait; reading releases it, nothing lost', async () => {
    const context = new Context();
    const pull = track(new Pull({ context, receiveHighWaterMark: 10 }));
    await pull.bind(LOCAL);
    const push = track(new Push({ context, sendHighWaterMark: 10 }));
    const up = nextEvent(pull, 'handshake');
    push.connect(pull.lastEndpoint!);
    await up;
    const payload = Buffer.alloc(16 * 1024, 1);
    let sent = 0;
    const LIMIT = 20_000; // 320 MB: far beyond kernel buffers
    let blocked: Promise<void> | undefined;
    while (sent < LIMIT) {
      const p = push.send([String(sent), payload]);
      if ((await settled(p)) === 'waiting') {
        blocked = p;
        break;
      }
      sent++;
    }
    expect(blocked).toBeDefined();
    expect(sent).toBeLessThan(LIMIT);
    for (let i = 0; i <= sent; i++) {
      const [n, body] = await pull.receive();
      expect(n.toString()).toBe(String(i));
      expect(body.length).toBe(payload.length);
    }
    await blocked;
  });

  it('close() with linger lets queued messages leave before the connection ends', async () => {
    const context = new Context();
    const pull = track(new Pull({ context }));
    await pull.bind(LOCAL);
    const push = new Push({ context, linger: 2000 });
    const up = nextEvent(push, 'handshake');
    push.connect(pull.lastEndpoint!);
    await up;
    for (let i = 0; i < 200; i++) await push.send(String(i));
    push.close();
    const got: string[] = [];
    for (let i = 0; i < 200; i++) got.push(text(await pull.receive())[0]);
    expect(got[199]).toBe('199');
    await push.whenReleased();
  });

  it('linger is spent once: when it runs out with bytes still unsent, the stream goes at once, not a linger later', async () => {
    // A peer that completes the handshake and then reads nothing: what we send piles up.
    const server = await rawServer((s) => {
      s.write(handshakeBytes('PULL'));
      s.pause();
    });
    // Open descriptors, not process.getActiveResourcesInfo(): our streams are unref'd (a socket keeps
    // no process alive, as in zeromq.js), so Node no longer lists them as active.
    const tcpStreams = () => readdirSync('/proc/self/fd').length;
    const push = new Push({ context: new Context(), linger: 1000, sendHighWaterMark: 4 });
    const up = nextEvent(push, 'handshake');
    push.connect(server.endpoint);
    await up;
    const payload = Buffer.alloc(64 * 1024);
    for (;;) {
      if ((await settled(push.send(payload))) === 'waiting') break; // HWM reached: node:net holds bytes too
    }
    const atClose = tcpStreams(); // ours and the server's end of it among them (and every other descriptor)
    // The clock is ours from here: the linger runs out when we say, and no other timer fires.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      push.close();
      vi.advanceTimersByTime(1000);
      await push.whenReleased(); // linger ran out: the messages could not leave
      // Two turns: the close completes in the loop's close phase. A stream kept for a second linger
      // would wait on a timer that, with the clock stopped, never fires.
      await turn();
      await turn();
      expect(tcpStreams()).toBeLessThanOrEqual(atClose - 1); // ours is gone
    } finally {
      vi.useRealTimers();
    }
  });

  it('a closed socket accepts no more connections and frees its port', async () => {
    const context = new Context();
    const pull = new Pull({ context });
    await pull.bind(LOCAL);
    const endpoint = pull.lastEndpoint!;
    pull.close();
    await pull.whenReleased();
    const again = track(new Pull({ context }));
    await again.bind(endpoint);
    expect(again.lastEndpoint).toBe(endpoint);
  });
});

