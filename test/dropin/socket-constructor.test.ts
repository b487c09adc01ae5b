// zeromq.js's `new Socket(type, options)`: libzmq's socket type number makes the socket of that
// type; arguments of the wrong kind throw at once (TypeError, zeromq.js's words first), and a number
// that is no type monocoque has is EINVAL naming it. The socket classes themselves are unchanged.

import { describe, expect, it } from 'vitest';
import { Context, Dealer, Pair, Publisher, Pull, Push, Reply, Request, Router, Socket, Stream, Subscriber, XPublisher, XSubscriber } from '../../src/index.js';
import { closeAfterEach } from '../helpers/sockets.js';

const track = closeAfterEach();
/** Socket as JavaScript sees it: a class it may call with any arguments. */
const AnySocket = Socket as unknown as new (...args: unknown[]) => Socket;

describe('new Socket(type, options)', () => {
  it.each([
    [0, Pair, 'PAIR'], [1, Publisher, 'PUB'], [2, Subscriber, 'SUB'], [3, Request, 'REQ'], [4, Reply, 'REP'], [5, Dealer, 'DEALER'],
    [6, Router, 'ROUTER'], [7, Pull, 'PULL'], [8, Push, 'PUSH'], [9, XPublisher, 'XPUB'], [10, XSubscriber, 'XSUB'],
  ] as const)('libzmq type %i is a %O, sealed as the class makes it', (n, cls, name) => {
    const s = track(new AnySocket(n, { context: new Context(), linger: 0 }));
    expect(s).toBeInstanceOf(cls);
    expect([s.type, s.linger, Object.isSealed(s)]).toEqual([name, 0, true]);
  });

  it('the socket works: a PUSH and a PULL made by number pass a message', async () => {
    const context = new Context();
    const pull = track(new AnySocket(7, { context })) as Pull;
    const push = track(new AnySocket(8, { context })) as Push;
    await pull.bind('inproc://by-number');
    push.connect('inproc://by-number');
    await push.send('hello');
    expect((await pull.receive()).map(String)).toEqual(['hello']);
  });

  it('a subclass of yours passing a type number gets that socket, with its context and its own methods', async () => {
    // As JavaScript (and the published types, which leave Socket's abstract internals out) see it;
    // zeromq.js's draft sockets are written this way.
    const Base = Socket as unknown as new (type: number, options?: object) => object;
    class MySocket extends Base {
      constructor(options?: object) {
        super(1, options);
      }
      hello(): string {
        return `hello from ${(this as unknown as Socket).type}`;
      }
    }
    const context = new Context();
    const s = track(new MySocket({ context }) as unknown as Socket);
    expect(s).toBeInstanceOf(MySocket);
    expect(s).toBeInstanceOf(Publisher);
    expect((s as unknown as MySocket).hello()).toBe('hello from PUB');
    expect(s.context).toBe(context);
    const a = track(new MySocket() as unknown as Socket);
    const b = track(new MySocket() as unknown as Socket);
    expect(a.context).toBe(b.context);
    await s.bind('inproc://subclass'); // a working PUB
    expect(s.lastEndpoint).toBe('inproc://subclass');
    // The same class with another type would need another prototype chain: a TypeError.
    class Either extends Base {
      constructor(type: number) {
        super(type, { context });
      }
    }
    track(new Either(8) as unknown as Socket);
    expect(() => new Either(7)).toThrow(/class Either already makes Push sockets; super\(\) got the type of a Pull/);
  });

  it('arguments of the wrong kind are a TypeError with zeromq.js words first, thrown at once', () => {
    expect(() => new AnySocket()).toThrow(TypeError);
    expect(() => new AnySocket()).toThrow(/^Socket type must be a number: .*not undefined$/);
    expect(() => new AnySocket('foo', new Context())).toThrow(/^Socket type must be a number: .*not "foo"$/);
    expect(() => new AnySocket(3, 1)).toThrow(TypeError);
    expect(() => new AnySocket(3, 1)).toThrow(/^Options must be an object like \{ linger: 0 \}, not 1$/);
    expect(() => new AnySocket(1, new Context(), 2)).toThrow(TypeError);
    expect(() => new AnySocket(1, new Context(), 2)).toThrow(/^Expected 2 arguments/);
  });

  it('a number that is no libzmq type, or one monocoque lacks, is EINVAL naming it and the accepted ones', () => {
    const thrown = (f: () => unknown): unknown => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return 'nothing thrown';
    };
    expect(thrown(() => new AnySocket(37))).toMatchObject({
      code: 'EINVAL',
      errno: 22,
      message: expect.stringMatching(/^new Socket\(37\): socket type 37 is not a libzmq socket type; accepted: 0 \(PAIR\), 1 \(PUB\), .* 10 \(XSUB\), 11 \(STREAM\)$/),
    });
    expect(thrown(() => new AnySocket(4591, {}))).toMatchObject({ code: 'EINVAL' });
    expect(thrown(() => new AnySocket(1.5))).toMatchObject({ code: 'EINVAL' });
    const stream = new AnySocket(11); // the Node entry has ZMQ_STREAM
    expect(stream).toBeInstanceOf(Stream);
    stream.close();
    expect(thrown(() => new AnySocket(14))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('socket type 14 (ZMQ_RADIO, a DRAFT type)') });
  });

  it('an invalid option is refused by the type\'s own checks', () => {
    expect(() => new AnySocket(1, { context: {} })).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('is not a Context') }));
    expect(() => new AnySocket(5, { linger: 'x' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('called without new, it is the TypeError of any class', () => {
    expect(() => (Socket as unknown as (...a: unknown[]) => unknown)(1)).toThrow(TypeError);
  });
});
