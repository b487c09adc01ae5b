// The zeromq.js Context options: read back what was set, TypeError for a wrong type, a read-only
// or an unknown name, and the two that new sockets inherit (blocky, ipv6).

import { describe, expect, it } from 'vitest';
import { Context, Dealer, Push } from '../../src/index.js';
import { closeAfterEach } from '../helpers/sockets.js';

const track = closeAfterEach();

describe('Context options', () => {
  it('defaults as libzmq has them', () => {
    const c = new Context();
    expect([c.blocky, c.ioThreads, c.maxSockets, c.maxSocketsLimit, c.ipv6, c.maxMessageSize, c.threadPriority, c.threadSchedulingPolicy])
      .toEqual([true, 1, 1023, 65535, false, 2 ** 31 - 1, -1, -1]);
  });

  it('each option is taken by the constructor and as a property, and read back', () => {
    const c = new Context({ ioThreads: 4, ipv6: true, maxSockets: 10 });
    expect([c.ioThreads, c.ipv6, c.maxSockets]).toEqual([4, true, 10]);
    c.ioThreads = 2;
    c.threadPriority = 5;
    c.threadSchedulingPolicy = 1;
    c.maxMessageSize = 1024;
    expect([c.ioThreads, c.threadPriority, c.threadSchedulingPolicy, c.maxMessageSize]).toEqual([2, 5, 1, 1024]);
  });

  it('a value of the wrong type is a TypeError; a number out of range is EINVAL; the old value stays', () => {
    const c = new Context();
    expect(() => new Context({ ioThreads: 'many' as never })).toThrow(TypeError);
    expect(() => new Context({ ioThreads: 'many' as never })).toThrow(/^Option value must be a number: Context option ioThreads \(ZMQ_IO_THREADS\) is "many"/);
    expect(() => (c.blocky = 0 as never)).toThrow(/^Option value must be a boolean/);
    expect(() => (c.ioThreads = -1)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => (c.maxSockets = 70000)).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('maxSocketsLimit (65535)') }));
    expect([c.blocky, c.ioThreads, c.maxSockets]).toEqual([true, 1, 1023]);
  });

  it('the Context is sealed: a misspelt or read-only name throws TypeError, in the constructor too', () => {
    const c = new Context();
    expect(() => ((c as unknown as Record<string, number>).ioThread = 2)).toThrow(TypeError);
    expect(() => ((c as unknown as Record<string, number>).maxSocketsLimit = 2)).toThrow(TypeError);
    expect(() => new Context({ ioThread: 2 } as never)).toThrow(TypeError);
    expect(() => new Context({ maxSocketsLimit: 2 } as never)).toThrow(TypeError);
  });

  it('the constructor takes one options object', () => {
    expect(() => new Context(1 as never)).toThrow(/^Options must be an object/);
    expect(() => new Context(null as never)).toThrow(TypeError);
    expect(() => new (Context as unknown as new (...a: unknown[]) => Context)({}, 2)).toThrow(/^Expected 1 argument/);
  });

  it('blocky false (ZMQ_BLOCKY): sockets made afterwards start with linger 0; a linger given still wins', () => {
    const context = new Context();
    expect(track(new Push({ context })).linger).toBe(-1);
    context.blocky = false;
    expect(track(new Push({ context })).linger).toBe(0);
    expect(track(new Push({ context, linger: 50 })).linger).toBe(50);
  });

  it('ipv6 (ZMQ_IPV6): sockets made afterwards start with ipv6 on', () => {
    const context = new Context({ ipv6: true });
    expect(track(new Dealer({ context })).ipv6).toBe(true);
    expect(track(new Dealer({ context, ipv6: false })).ipv6).toBe(false);
  });
});
