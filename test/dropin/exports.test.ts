// What a zeromq.js v6 program reads from the module itself: the default Context, the libzmq
// version, the capabilities, a default export, and the types its code names.

import { describe, expect, expectTypeOf, it } from 'vitest';
import monocoque, * as zmq from '../../src/index.js';
import * as browser from '../../src/browser.js';
import type { Event, EventOfType, MessageLike, SocketOptions } from '../../src/index.js';
import { closeAfterEach } from '../helpers/sockets.js';

const track = closeAfterEach();

describe('module exports, as zeromq.js has them', () => {
  it('context is the default Context: sockets made without one belong to it', () => {
    expect(zmq.context).toBeInstanceOf(zmq.Context);
    expect(zmq.context).toBe(zmq.defaultContext());
    expect(track(new zmq.Dealer()).context).toBe(zmq.context);
  });

  it('version names the libzmq release whose behaviour we match', () => {
    expect(zmq.version).toBe('4.3.5');
  });

  it('capability: booleans under zeromq.js keys; ipc and curve in Node, no draft sockets', () => {
    expect(Object.keys(zmq.capability).sort()).toEqual(['curve', 'draft', 'gssapi', 'ipc', 'norm', 'pgm', 'tipc']);
    expect(Object.values(zmq.capability).every((v) => typeof v === 'boolean')).toBe(true);
    expect(zmq.capability).toMatchObject({ ipc: true, curve: true, draft: false, pgm: false, gssapi: false });
    // The browser entry shares the object; ipc reads the transports registered in this process.
    expect(browser.capability).toBe(zmq.capability);
    expect(Object.isFrozen(zmq.capability)).toBe(true);
  });

  it('the default export holds every named export, so `import zmq from "monocoque"` works', () => {
    const named = Object.keys(zmq).filter((k) => k !== 'default');
    expect(Object.keys(monocoque).sort()).toEqual(named.sort());
    expect(monocoque.Push).toBe(zmq.Push);
    expect(monocoque.context).toBe(zmq.context);
  });

  it('threadSafe is false on every socket type (ZMQ_THREAD_SAFE), and read-only', () => {
    for (const S of [zmq.Pair, zmq.Push, zmq.Pull, zmq.Request, zmq.Reply, zmq.Dealer, zmq.Router, zmq.Publisher, zmq.Subscriber, zmq.XPublisher, zmq.XSubscriber]) {
      const s = track(new S({ context: new zmq.Context() }));
      expect(s.threadSafe).toBe(false);
      expect(() => ((s as unknown as { threadSafe: boolean }).threadSafe = true)).toThrow(TypeError);
    }
  });

  it('lastEndpoint is read-only to users, as in zeromq.js', async () => {
    const s = track(new zmq.Pair({ context: new zmq.Context() }));
    await s.bind('inproc://last');
    expect(s.lastEndpoint).toBe('inproc://last');
    expect(() => ((s as unknown as { lastEndpoint: string }).lastEndpoint = 'x')).toThrow(TypeError);
  });
});

describe('types a zeromq.js program names', () => {
  it('Event is a union discriminated by type; EventOfType picks one member', () => {
    expectTypeOf<EventOfType<'connect:retry'>['interval']>().toEqualTypeOf<number>();
    expectTypeOf<EventOfType<'bind:error'>['error']>().toEqualTypeOf<zmq.ZmqError>();
    expectTypeOf<EventOfType<'bind'>['address']>().toEqualTypeOf<string>();
    expectTypeOf<EventOfType<'end'>['address']>().toEqualTypeOf<undefined>();
    const describe = (e: Event): string => {
      switch (e.type) {
        case 'connect:retry':
          return `${e.address} in ${e.interval.toFixed(0)} ms`;
        case 'accept:error':
        case 'bind:error':
          return `${e.address}: ${e.error.code}`;
        case 'end':
          return 'end';
        default:
          return e.address ?? '?';
      }
    };
    expect(describe({ type: 'connect:retry', address: 'tcp://a:1', interval: 100 })).toBe('tcp://a:1 in 100 ms');
  });

  it('events.on is generic: the listener gets the event of that type', () => {
    const s = track(new zmq.Dealer({ context: new zmq.Context() }));
    s.events.on('connect:retry', (e) => expectTypeOf(e.interval).toEqualTypeOf<number>());
    s.events.on('accept:error', (e) => expectTypeOf(e.error.errno).toEqualTypeOf<number | undefined>());
    s.events.on('*', (e) => expectTypeOf(e).toEqualTypeOf<Event>());
  });

  it('MessageLike takes numbers and SharedArrayBuffer; SocketOptions<S> are the assignable properties of S', () => {
    expectTypeOf<number>().toMatchTypeOf<MessageLike>();
    expectTypeOf<SharedArrayBuffer>().toMatchTypeOf<MessageLike>();
    expectTypeOf<{ routingId: string }>().toMatchTypeOf<SocketOptions<zmq.Dealer>>();
    expectTypeOf<{ mandatory: boolean }>().toMatchTypeOf<SocketOptions<zmq.Router>>();
    expectTypeOf<{ context: zmq.Context }>().toMatchTypeOf<SocketOptions<zmq.Push>>();
    // Read-only properties and methods are not options.
    expectTypeOf<SocketOptions<zmq.Dealer>>().not.toHaveProperty('threadSafe');
    expectTypeOf<SocketOptions<zmq.Dealer>>().not.toHaveProperty('lastEndpoint');
    expectTypeOf<SocketOptions<zmq.Dealer>>().not.toHaveProperty('send');
  });
});
