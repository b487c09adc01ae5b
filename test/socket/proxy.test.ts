// The Proxy (zeromq.js `Proxy`, libzmq zmq_proxy_steerable): its machine stepped by hand, then real
// proxies over inproc and tcp: request-reply through ROUTER/DEALER, pause and resume, backpressure,
// terminate, the errors zeromq.js gives, a socket closed under a running proxy, capture, statistics.
//
//   REQ ──▶ ROUTER (front-end) ══ proxy ══ DEALER (back-end) ──▶ REP
//       ◀──                                                   ◀──
//                      └── every message, both ways ──▶ capture (PUSH) ──▶ PULL

import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import '../../src/transport/register-node.js';
import { Context } from '../../src/socket/context.js';
import { Dealer, Router } from '../../src/socket/dealer-router.js';
import { Pair } from '../../src/socket/pair.js';
import { Proxy } from '../../src/socket/proxy.js';
import type { ProxyStatistics } from '../../src/socket/proxy.js';
import { Publisher, Subscriber, XPublisher, XSubscriber } from '../../src/socket/pub-sub.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import { Reply, Request } from '../../src/socket/request-reply.js';
import type { Socket } from '../../src/socket/socket.js';
import { forwards, mayCapture, proxyMachine, runRefusal } from '../../machines/proxy.js';
import type { ProxyEvent } from '../../machines/proxy.js';
import { closeAfterEach, code, text, tick } from '../helpers/sockets.js';

const track = closeAfterEach();

/** Waits, turn by turn, until `condition` holds: for a fact that must come, never a time limit. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await tick();
}

/** The error a call throws (synchronously), or undefined. */
function thrown(f: () => unknown): { code?: string; message: string; name: string } | undefined {
  try {
    f();
  } catch (e) {
    return e as { code?: string; message: string; name: string };
  }
  return undefined;
}

/** The error a promise rejects with. */
async function rejection(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('expected a rejection');
}

const ready = { frontEnd: 'ready', backEnd: 'ready', capture: null } as const;
const runEvent = (facts: Partial<Omit<Extract<ProxyEvent, { type: 'run' }>, 'type'>> = {}): ProxyEvent => ({ type: 'run', ...ready, ...facts });

describe('proxyMachine: the rules', () => {
  it('forwards: a way carries messages when its source receives and its destination sends', () => {
    expect(forwards('ROUTER', 'DEALER')).toBe(true);
    expect(forwards('XSUB', 'XPUB')).toBe(true);
    expect(forwards('XPUB', 'XSUB')).toBe(true); // subscriptions go upstream
    expect(forwards('PULL', 'PUSH')).toBe(true);
    expect(forwards('PUSH', 'PULL')).toBe(false); // a PUSH never receives, a PULL never sends
    expect(forwards('SUB', 'PUB')).toBe(true);
    expect(forwards('PUB', 'SUB')).toBe(false);
  });

  it('mayCapture: the types zmq_proxy(3) names, and XPUB', () => {
    for (const t of ['PUB', 'XPUB', 'DEALER', 'PUSH', 'PAIR']) expect(mayCapture(t), t).toBe(true);
    for (const t of ['PULL', 'SUB', 'XSUB', 'ROUTER', 'REQ', 'REP']) expect(mayCapture(t), t).toBe(false);
  });

  it('runRefusal: the sockets first (front-end, back-end, capture), then the phase', () => {
    expect(runRefusal(ready, 'idle')).toBeUndefined();
    expect(runRefusal({ ...ready, frontEnd: 'unattached', backEnd: 'closed' }, 'idle')).toEqual({ reason: 'socket', side: 'frontEnd', readiness: 'unattached' });
    expect(runRefusal({ ...ready, backEnd: 'closed' }, 'running')).toEqual({ reason: 'socket', side: 'backEnd', readiness: 'closed' });
    expect(runRefusal({ ...ready, capture: 'unattached' }, 'idle')).toEqual({ reason: 'socket', side: 'capture', readiness: 'unattached' });
    expect(runRefusal({ ...ready, capture: 'ready' }, 'paused')).toEqual({ reason: 'running' });
    expect(runRefusal(ready, 'terminated')).toEqual({ reason: 'terminated' });
    // A terminated proxy's sockets are closed: it answers as zeromq.js does, about the front-end.
    expect(runRefusal({ ...ready, frontEnd: 'closed', backEnd: 'closed' }, 'terminated')).toEqual({ reason: 'socket', side: 'frontEnd', readiness: 'closed' });
  });
});

describe('proxyMachine: states and effects', () => {
  const input = { frontEnd: 'ROUTER', backEnd: 'DEALER' };

  it('idle → running → paused → running → terminated, with the effects at each step', () => {
    let [s, actions] = initialTransition(proxyMachine, input);
    expect(s.value).toBe('idle');
    expect(s.context).toEqual({ frontEnd: 'ROUTER', backEnd: 'DEALER', capture: null, toBackEnd: true, toFrontEnd: true, failure: null });
    expect(actions).toEqual([]);
    [s, actions] = transition(proxyMachine, s, runEvent());
    expect(s.value).toBe('running');
    expect(actions.map((a) => a.type)).toEqual(['acceptRun', 'forward']);
    [s, actions] = transition(proxyMachine, s, { type: 'resume' });
    expect([s.value, actions]).toEqual(['running', []]);
    [s, actions] = transition(proxyMachine, s, { type: 'pause' });
    expect(s.value).toBe('paused');
    expect(actions.map((a) => a.type)).toEqual(['hold']);
    [s, actions] = transition(proxyMachine, s, { type: 'pause' });
    expect([s.value, actions]).toEqual(['paused', []]);
    [s, actions] = transition(proxyMachine, s, { type: 'resume' });
    expect(s.value).toBe('running');
    expect(actions.map((a) => a.type)).toEqual(['forward']);
    [s, actions] = transition(proxyMachine, s, { type: 'terminate' });
    expect(s.value).toBe('terminated');
    expect(actions.map((a) => [a.type, a.params])).toEqual([['finish', { failure: null }]]);
  });

  it('idle refuses pause, resume and terminate, and a run with a socket not ready', () => {
    const [s0] = initialTransition(proxyMachine, input);
    for (const command of ['pause', 'resume', 'terminate'] as const) {
      const [s, actions] = transition(proxyMachine, s0, { type: command });
      expect(s.value).toBe('idle');
      expect(actions.map((a) => [a.type, a.params])).toEqual([['refuseCommand', { command, reason: 'idle' }]]);
    }
    const [s, actions] = transition(proxyMachine, s0, runEvent({ backEnd: 'unattached' }));
    expect(s.value).toBe('idle');
    expect(actions.map((a) => [a.type, a.params])).toEqual([['refuseRun', { reason: 'socket', side: 'backEnd', readiness: 'unattached' }]]);
  });

  it('a second run is refused while running or paused; after the end every command is', () => {
    let [s] = initialTransition(proxyMachine, input);
    [s] = transition(proxyMachine, s, runEvent());
    let [, actions] = transition(proxyMachine, s, runEvent());
    expect(actions.map((a) => a.params)).toEqual([{ reason: 'running' }]);
    [s] = transition(proxyMachine, s, { type: 'pause' });
    [, actions] = transition(proxyMachine, s, runEvent());
    expect(actions.map((a) => a.params)).toEqual([{ reason: 'running' }]);
    [s] = transition(proxyMachine, s, { type: 'terminate' });
    for (const command of ['pause', 'resume', 'terminate'] as const) {
      [, actions] = transition(proxyMachine, s, { type: command });
      expect(actions.map((a) => [a.type, a.params])).toEqual([['refuseCommand', { command, reason: 'terminated' }]]);
    }
    [, actions] = transition(proxyMachine, s, runEvent());
    expect(actions.map((a) => a.params)).toEqual([{ reason: 'terminated' }]);
  });

  it('a socket closed or a failed send ends it, with the failure in context and in finish', () => {
    let [s] = initialTransition(proxyMachine, input);
    [s] = transition(proxyMachine, s, runEvent());
    const [closed, closedActions] = transition(proxyMachine, s, { type: 'socket.closed', side: 'backEnd' });
    expect(closed.value).toBe('terminated');
    expect(closed.context.failure).toEqual({ side: 'backEnd', code: 'EBADF', message: 'closed while the proxy ran' });
    expect(closedActions.map((a) => [a.type, a.params])).toEqual([['finish', { failure: closed.context.failure }]]);
    [s] = transition(proxyMachine, s, { type: 'pause' });
    const [failed] = transition(proxyMachine, s, { type: 'forward.failed', side: 'frontEnd', code: 'EHOSTUNREACH', message: 'no such peer' });
    expect(failed.value).toBe('terminated');
    expect(failed.context.failure).toEqual({ side: 'frontEnd', code: 'EHOSTUNREACH', message: 'no such peer' });
  });

  it('the socket types decide the ways: one socket as both, or a one-way pipeline', () => {
    expect(initialTransition(proxyMachine, { frontEnd: 'ROUTER', backEnd: 'ROUTER', sameSocket: true })[0].context).toMatchObject({ toBackEnd: true, toFrontEnd: false });
    expect(initialTransition(proxyMachine, { frontEnd: 'PULL', backEnd: 'PUSH' })[0].context).toMatchObject({ toBackEnd: true, toFrontEnd: false });
    expect(initialTransition(proxyMachine, { frontEnd: 'XSUB', backEnd: 'XPUB', capture: 'PUB' })[0].context).toMatchObject({ toBackEnd: true, toFrontEnd: true, capture: 'PUB' });
  });
});

describe('new Proxy(): what it accepts', () => {
  it('refuses missing, extra and non-socket arguments as zeromq.js does (TypeError, then EINVAL)', () => {
    const context = new Context();
    const a = track(new Dealer({ context }));
    const b = track(new Dealer({ context }));
    const P = Proxy as unknown as new (...args: unknown[]) => Proxy;
    expect(thrown(() => (Proxy as unknown as () => void)())?.name).toBe('TypeError');
    expect(thrown(() => new P())).toMatchObject({ name: 'TypeError', message: expect.stringContaining('Front-end must be a socket object') });
    expect(thrown(() => new P(a))).toMatchObject({ name: 'TypeError', message: expect.stringContaining('Back-end must be a socket object') });
    expect(thrown(() => new P(a, b, track(new Dealer({ context }))))).toMatchObject({ name: 'TypeError', message: expect.stringContaining('Expected 2 arguments') });
    expect(thrown(() => new P(a, b, {}, {}))).toMatchObject({ name: 'TypeError', message: expect.stringContaining('Expected 2 arguments') });
    expect(thrown(() => new P({}, {}))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('the front-end is a plain object') });
    expect(thrown(() => new P(a, { type: 'DEALER' }))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('the back-end') });
  });

  it('takes { capture } of a type that sends; refuses other capture types and unknown options', () => {
    const context = new Context();
    const front = track(new Router({ context }));
    const back = track(new Dealer({ context }));
    const capture = track(new Publisher({ context }));
    const proxy = new Proxy(front, back, { capture });
    expect(proxy.frontEnd).toBe(front);
    expect(proxy.backEnd).toBe(back);
    expect(proxy.capture).toBe(capture);
    expect(proxy.getSnapshot().context).toMatchObject({ frontEnd: 'ROUTER', backEnd: 'DEALER', capture: 'PUB' });
    expect(thrown(() => new Proxy(front, back, { capture: track(new Subscriber({ context })) }))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('a SUB socket cannot be a capture socket') });
    expect(thrown(() => new Proxy(front, back, { capture: {} as Socket }))).toMatchObject({ code: 'EINVAL' });
    expect(thrown(() => new Proxy(front, back, { captur: capture } as never))).toMatchObject({ name: 'TypeError', message: expect.stringContaining('"captur"') });
    expect(thrown(() => new Proxy(front, back, 'x' as never))).toMatchObject({ code: 'EINVAL' });
    // frontEnd and backEnd are read-only, as zeromq.js's accessors are.
    expect(thrown(() => ((proxy as unknown as { frontEnd: unknown }).frontEnd = back))?.name).toBe('TypeError');
  });
});

describe('Proxy: errors before, during and after a run', () => {
  it('pause, resume and terminate before run() throw EBADF and leave it idle', () => {
    const context = new Context();
    const proxy = new Proxy(track(new Router({ context })), track(new Dealer({ context })));
    for (const call of [() => proxy.pause(), () => proxy.resume(), () => proxy.terminate()]) {
      expect(thrown(call)).toMatchObject({ code: 'EBADF', message: expect.stringContaining('not running') });
    }
    expect(proxy.getSnapshot().value).toBe('idle');
  });

  it('run() rejects EINVAL while a socket is neither bound nor connected, or closed; the proxy stays idle', async () => {
    const context = new Context();
    const proxy = new Proxy(track(new Router({ context })), track(new Dealer({ context })));
    // zeromq.js's messages word for word; whether the socket is closed is in `cause`.
    expect(await rejection(proxy.run())).toMatchObject({ code: 'EINVAL', errno: 22, message: 'Front-end socket must be bound or connected', cause: 'it has no bind or connect' });
    await proxy.frontEnd.bind('inproc://unready-front');
    expect(await rejection(proxy.run())).toMatchObject({ code: 'EINVAL', message: 'Back-end socket must be bound or connected' });
    proxy.backEnd.connect('inproc://unready-back'); // connect before bind counts, as in zeromq.js
    proxy.frontEnd.close();
    expect(await rejection(proxy.run())).toMatchObject({ code: 'EINVAL', message: 'Front-end socket must be bound or connected', cause: 'it is closed' });
    expect(proxy.getSnapshot().value).toBe('idle');
    expect(proxy.backEnd.closed).toBe(false); // a refused run closes nothing
  });

  it('run() rejects EINVAL while the capture socket is not bound or connected', async () => {
    const context = new Context();
    const proxy = new Proxy(track(new Router({ context })), track(new Dealer({ context })), { capture: track(new Push({ context })) });
    await proxy.frontEnd.bind('inproc://cap-front');
    await proxy.backEnd.bind('inproc://cap-back');
    expect(await rejection(proxy.run())).toMatchObject({ code: 'EINVAL', message: 'Capture socket must be bound or connected' });
  });

  it('a second run() rejects EBUSY, running or paused; after terminate: run EINVAL (closed sockets), commands EBADF', async () => {
    const context = new Context();
    const proxy = new Proxy(track(new Router({ context })), track(new Dealer({ context })));
    await proxy.frontEnd.bind('inproc://twice-front');
    await proxy.backEnd.bind('inproc://twice-back');
    const done = proxy.run();
    expect(await code(proxy.run())).toBe('EBUSY');
    proxy.pause();
    expect(await code(proxy.run())).toBe('EBUSY');
    proxy.terminate();
    await done;
    expect(proxy.getSnapshot().value).toBe('terminated');
    expect(proxy.frontEnd.closed && proxy.backEnd.closed).toBe(true);
    expect(await rejection(proxy.run())).toMatchObject({ code: 'EINVAL', message: 'Front-end socket must be bound or connected' });
    for (const call of [() => proxy.pause(), () => proxy.resume(), () => proxy.terminate()]) {
      expect(thrown(call)).toMatchObject({ code: 'EBADF', message: expect.stringContaining('has terminated') });
    }
  });

  it('a socket closed under a running proxy ends it: run() rejects EBADF naming the socket, the other is closed', async () => {
    const context = new Context();
    const proxy = new Proxy(track(new Router({ context })), track(new Dealer({ context })));
    await proxy.frontEnd.bind('inproc://closed-front');
    await proxy.backEnd.bind('inproc://closed-back');
    const done = proxy.run();
    proxy.backEnd.close();
    expect(await rejection(done)).toMatchObject({ code: 'EBADF', message: expect.stringContaining('the back-end socket was closed') });
    expect(proxy.frontEnd.closed).toBe(true);
    expect(proxy.getSnapshot().context.failure).toMatchObject({ side: 'backEnd', code: 'EBADF' });
  });

  it('a socket closed while the proxy is paused ends it too (nothing was waiting on it)', async () => {
    const context = new Context();
    const proxy = new Proxy(track(new Pull({ context })), track(new Push({ context })));
    await proxy.frontEnd.bind('inproc://paused-front');
    await proxy.backEnd.bind('inproc://paused-back');
    const done = proxy.run();
    proxy.pause();
    proxy.frontEnd.close();
    expect(await rejection(done)).toMatchObject({ code: 'EBADF', message: expect.stringContaining('the front-end socket was closed') });
    expect(proxy.backEnd.closed).toBe(true);
  });

  it('a send that fails ends the proxy with its error: a reply to a gone client through a mandatory ROUTER', async () => {
    const context = new Context();
    const proxy = new Proxy(track(new Router({ context, mandatory: true })), track(new Dealer({ context })));
    await proxy.frontEnd.bind('inproc://mandatory-front');
    await proxy.backEnd.bind('inproc://mandatory-back');
    const done = proxy.run();
    const worker = track(new Dealer({ context }));
    worker.connect('inproc://mandatory-back');
    // A reply addressed to a routing id the front-end never saw.
    await worker.send(['nobody', '', 'lost']);
    expect(await rejection(done)).toMatchObject({ code: 'EHOSTUNREACH', message: expect.stringContaining('the front-end socket failed') });
    expect(proxy.getSnapshot().context.failure).toMatchObject({ side: 'frontEnd', code: 'EHOSTUNREACH' });
    expect(proxy.statistics().backEnd.received.messages).toBe(1);
    expect(proxy.statistics().frontEnd.sent.messages).toBe(0);
  });
});

// `bounded`: the HWMs alone bound what is queued. Over tcp the kernel's buffers (which grow to
// megabytes) come on top, so how far a sender runs ahead of a reader is not the test's to know.
const transports = [
  { name: 'inproc', endpoint: (tag: string) => `inproc://proxy-${tag}`, bounded: true },
  { name: 'tcp', endpoint: () => 'tcp://127.0.0.1:*', bounded: false },
] as const;

for (const { name, endpoint, bounded } of transports) {
  describe(`Proxy over ${name}`, () => {
    /** Binds `socket` and returns the address peers connect to. */
    async function bound(socket: Socket, tag: string): Promise<string> {
      await socket.bind(endpoint(tag));
      return socket.lastEndpoint as string;
    }

    it('ROUTER/DEALER: requests from two clients reach the workers and replies come back; terminate resolves run()', async () => {
      const context = new Context();
      const proxy = new Proxy(new Router({ context }), new Dealer({ context }));
      const front = await bound(proxy.frontEnd, 'rr-front');
      const back = await bound(proxy.backEnd, 'rr-back');
      const done = proxy.run();
      expect(proxy.getSnapshot().value).toBe('running');

      const workers = [track(new Reply({ context })), track(new Reply({ context }))];
      for (const [i, w] of workers.entries()) {
        w.connect(back);
        void (async () => {
          for await (const [body] of w) await w.send(`${body}: done by ${i}`);
        })();
      }
      const clients = [track(new Request({ context })), track(new Request({ context }))];
      for (const c of clients) c.connect(front);
      const answers = await Promise.all(clients.map(async (c, i) => {
        const got: string[] = [];
        for (let k = 0; k < 5; k++) {
          await c.send(`job ${i}.${k}`);
          got.push(text(await c.receive())[0] as string);
        }
        return got;
      }));
      for (const [i, got] of answers.entries()) {
        expect(got.map((g) => g.split(':')[0])).toEqual([0, 1, 2, 3, 4].map((k) => `job ${i}.${k}`));
      }
      proxy.terminate();
      await done;
      expect(proxy.frontEnd.closed && proxy.backEnd.closed).toBe(true);
    });

    it('pause holds messages in the front-end until resume; none is lost or reordered', async () => {
      const context = new Context();
      const proxy = new Proxy(new Pull({ context }), new Push({ context }));
      const front = await bound(proxy.frontEnd, 'pause-front');
      const back = await bound(proxy.backEnd, 'pause-back');
      const producer = track(new Push({ context }));
      const consumer = track(new Pull({ context }));
      producer.connect(front);
      consumer.connect(back);
      const done = proxy.run();

      await producer.send('first');
      expect(text(await consumer.receive())).toEqual(['first']);

      proxy.pause();
      expect(proxy.getSnapshot().value).toBe('paused');
      await producer.sendMany([['second', 'part'], 'third']);
      // The messages reach the front-end and stay there: the paused proxy takes nothing.
      await until(() => proxy.frontEnd.readable);
      expect(proxy.statistics().frontEnd.received.messages).toBe(1);

      proxy.resume();
      expect(text(await consumer.receive())).toEqual(['second', 'part']);
      expect(text(await consumer.receive())).toEqual(['third']);
      proxy.terminate();
      await done;
    });

    it('backpressure: a slow consumer holds the proxy back, which holds the producer back; pause and resume meanwhile lose nothing', async () => {
      const context = new Context();
      const hwm = { sendHighWaterMark: 4, receiveHighWaterMark: 4 };
      const proxy = new Proxy(new Pull({ context, ...hwm }), new Push({ context, ...hwm }));
      const front = await bound(proxy.frontEnd, 'bp-front');
      const back = await bound(proxy.backEnd, 'bp-back');
      const producer = track(new Push({ context, ...hwm }));
      const consumer = track(new Pull({ context, ...hwm }));
      producer.connect(front);
      consumer.connect(back);
      // Over tcp the consumer must be attached before the back-end's PUSH will take anything.
      await until(() => proxy.backEnd.writable);
      const done = proxy.run();

      const n = 2000;
      const sent = producer.sendMany(Array.from({ length: n }, (_, i) => String(i)));
      if (bounded) {
        // The consumer reads nothing yet: the back-end fills up and the proxy waits on it.
        await until(() => !proxy.backEnd.writable && proxy.frontEnd.readable);
        expect(proxy.statistics().backEnd.sent.messages).toBeLessThan(n);
      } else {
        await until(() => proxy.statistics().backEnd.sent.messages > 0);
      }
      proxy.pause();
      proxy.resume();
      proxy.pause();
      await tick();
      proxy.resume();

      const got: string[] = [];
      while (got.length < n) for (const [m] of await consumer.receiveMany()) got.push(m.toString());
      expect(got).toEqual(Array.from({ length: n }, (_, i) => String(i)));
      await sent;
      await until(() => proxy.statistics().backEnd.sent.messages === n);
      expect(proxy.statistics().frontEnd.received.messages).toBe(n);
      proxy.terminate();
      await done;
    });

    it('capture: every message, either way, is also sent to the capture socket', async () => {
      const context = new Context();
      const capture = track(new Push({ context }));
      const captured = track(new Pull({ context }));
      captured.connect(await bound(capture, 'capture'));
      const proxy = new Proxy(new Router({ context }), new Dealer({ context }), { capture });
      const front = await bound(proxy.frontEnd, 'cap-front');
      const back = await bound(proxy.backEnd, 'cap-back');
      const done = proxy.run();
      const worker = track(new Reply({ context }));
      worker.connect(back);
      void (async () => {
        for await (const [body] of worker) await worker.send(`re: ${body}`);
      })();
      const client = track(new Request({ context, routingId: 'client-1' }));
      client.connect(front);
      for (const body of ['a', 'b']) {
        await client.send(body);
        expect(text(await client.receive())).toEqual([`re: ${body}`]);
      }
      const seen: string[][] = [];
      while (seen.length < 4) seen.push(text(await captured.receive()));
      // Requests as the ROUTER received them (routing id, REQ's delimiter, body), replies as the DEALER did.
      expect(seen).toEqual([
        ['client-1', '', 'a'],
        ['client-1', '', 're: a'],
        ['client-1', '', 'b'],
        ['client-1', '', 're: b'],
      ]);
      proxy.terminate();
      await done;
      expect(capture.closed).toBe(false); // the capture socket is the caller's
    });

    it('statistics: messages, frames and bytes received and sent per side, as libzmq counts them', async () => {
      const context = new Context();
      const proxy = new Proxy(new Router({ context }), new Dealer({ context }));
      const front = await bound(proxy.frontEnd, 'stats-front');
      const back = await bound(proxy.backEnd, 'stats-back');
      const zero = { messages: 0, frames: 0, bytes: 0 };
      expect(proxy.statistics()).toEqual({ frontEnd: { received: zero, sent: zero }, backEnd: { received: zero, sent: zero } });
      const done = proxy.run();
      const worker = track(new Dealer({ context }));
      worker.connect(back);
      const client = track(new Dealer({ context, routingId: 'c1' }));
      client.connect(front);
      await client.send(['hello', 'world!']);
      // The worker gets [routing id, frames…]: 3 frames, 2 + 5 + 6 bytes.
      const request = await worker.receive();
      expect(text(request)).toEqual(['c1', 'hello', 'world!']);
      await worker.send([...request, 'extra']); // 4 frames back, 2 + 5 + 6 + 5 bytes
      expect(text(await client.receive())).toEqual(['hello', 'world!', 'extra']);
      const expected: ProxyStatistics = {
        frontEnd: { received: { messages: 1, frames: 3, bytes: 13 }, sent: { messages: 1, frames: 4, bytes: 18 } },
        backEnd: { received: { messages: 1, frames: 4, bytes: 18 }, sent: { messages: 1, frames: 3, bytes: 13 } },
      };
      await until(() => proxy.statistics().frontEnd.sent.messages === 1);
      expect(proxy.statistics()).toEqual(expected);
      // A copy each call: changing it changes nothing.
      proxy.statistics().frontEnd.sent.messages = 99;
      expect(proxy.statistics()).toEqual(expected);
      proxy.terminate();
      await done;
      expect(proxy.statistics()).toEqual(expected);
    });

    it('XSUB/XPUB forwarder: subscriptions go upstream, publications downstream', async () => {
      const context = new Context();
      const proxy = new Proxy(new XSubscriber({ context }), new XPublisher({ context }));
      const front = await bound(proxy.frontEnd, 'fwd-front');
      const back = await bound(proxy.backEnd, 'fwd-back');
      const done = proxy.run();
      // An XPUB upstream, to see the subscription arrive before publishing.
      const publisher = track(new XPublisher({ context }));
      publisher.connect(front);
      const subscriber = track(new Subscriber({ context }));
      subscriber.connect(back);
      subscriber.subscribe('news');
      const [subscription] = await publisher.receive();
      expect(subscription[0]).toBe(1);
      expect(subscription.subarray(1).toString()).toBe('news');
      await publisher.send(['sport', 'x']);
      await publisher.send(['news', 'y']);
      expect(text(await subscriber.receive())).toEqual(['news', 'y']);
      proxy.terminate();
      await done;
    });

    it('one socket as front-end and back-end: a ROUTER proxied to itself echoes to each sender', async () => {
      const context = new Context();
      const router = new Router({ context });
      const proxy = new Proxy(router, router);
      expect(proxy.getSnapshot().context).toMatchObject({ toBackEnd: true, toFrontEnd: false });
      const address = await bound(router, 'self');
      const done = proxy.run();
      const a = track(new Dealer({ context }));
      const b = track(new Dealer({ context }));
      a.connect(address);
      b.connect(address);
      await a.send('from a');
      await b.send('from b');
      expect(text(await a.receive())).toEqual(['from a']);
      expect(text(await b.receive())).toEqual(['from b']);
      proxy.terminate();
      await done;
      expect(router.closed).toBe(true);
    });
  });
}

describe('Proxy: its actor and the capture socket\'s backpressure', () => {
  it('the actor goes idle → running → paused → running → terminated, and the Context\'s inspector sees it', async () => {
    const seen: string[] = [];
    const context = new Context({
      inspect: (e) => {
        if (e.type === '@xstate.event' && (e.actorRef as unknown as { logic?: { id?: string } }).logic?.id === 'proxy') seen.push((e.event as { type: string }).type);
      },
    });
    const proxy = new Proxy(track(new Pull({ context })), track(new Push({ context })));
    const states: unknown[] = [];
    proxy.actor.subscribe((s) => states.push(s.value));
    await proxy.frontEnd.bind('inproc://actor-front');
    await proxy.backEnd.bind('inproc://actor-back');
    const done = proxy.run();
    proxy.pause();
    proxy.resume();
    proxy.terminate();
    await done;
    expect(states).toEqual(['running', 'paused', 'running', 'terminated']);
    expect(seen).toEqual(expect.arrayContaining(['run', 'pause', 'resume', 'terminate']));
  });

  it('a capture socket that cannot take a message holds the proxy back until it can; nothing is lost', async () => {
    const context = new Context();
    const capture = track(new Push({ context }));
    await capture.bind('inproc://slow-capture'); // nobody reads it yet: a PUSH without peers waits
    const proxy = new Proxy(new Pull({ context }), new Push({ context }), { capture });
    await proxy.frontEnd.bind('inproc://slow-front');
    await proxy.backEnd.bind('inproc://slow-back');
    const producer = track(new Push({ context }));
    const consumer = track(new Pull({ context }));
    producer.connect('inproc://slow-front');
    consumer.connect('inproc://slow-back');
    const done = proxy.run();
    await producer.send('one');
    expect(text(await consumer.receive())).toEqual(['one']);
    await producer.send('two');
    // The proxy still waits on the capture with 'one': 'two' stays in the front-end.
    await until(() => proxy.frontEnd.readable);
    expect(proxy.statistics().frontEnd.received.messages).toBe(1);
    const captured = track(new Pull({ context }));
    captured.connect('inproc://slow-capture');
    expect(text(await consumer.receive())).toEqual(['two']);
    expect(text(await captured.receive())).toEqual(['one']);
    expect(text(await captured.receive())).toEqual(['two']);
    proxy.terminate();
    await done;
  });
});

describe('Proxy: a PAIR bridge, inproc to tcp', () => {
  it('carries messages both ways between transports', async () => {
    const context = new Context();
    const proxy = new Proxy(new Pair({ context }), new Pair({ context }));
    await proxy.frontEnd.bind('inproc://bridge');
    await proxy.backEnd.bind('tcp://127.0.0.1:*');
    const done = proxy.run();
    const inside = track(new Pair({ context }));
    const outside = track(new Pair({ context }));
    inside.connect('inproc://bridge');
    outside.connect(proxy.backEnd.lastEndpoint as string);
    await inside.send('out');
    expect(text(await outside.receive())).toEqual(['out']);
    await outside.send(['in', 'two']);
    expect(text(await inside.receive())).toEqual(['in', 'two']);
    proxy.terminate();
    await done;
  });
});
