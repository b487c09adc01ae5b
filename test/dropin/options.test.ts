// Socket options as zeromq.js guards them: sockets are sealed, so a misspelt name throws instead of
// doing nothing, and an option set after bind/connect that only later ones read warns.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Context, Dealer, Pair, Publisher, Pull, Push, Reply, Request, Router, Subscriber, XPublisher, XSubscriber } from '../../src/index.js';
import { closeAfterEach } from '../helpers/sockets.js';

const track = closeAfterEach();
const CLASSES = { Pair, Push, Pull, Request, Reply, Dealer, Router, Publisher, Subscriber, XPublisher, XSubscriber };

describe('options: sealed sockets', () => {
  it.each(Object.keys(CLASSES))('%s: a misspelt property throws TypeError; a known one is set', (name) => {
    const S = CLASSES[name as keyof typeof CLASSES] as new (o?: object) => Dealer;
    const s = track(new S({ context: new Context() }));
    expect(Object.isSealed(s)).toBe(true);
    expect(() => ((s as unknown as Record<string, number>).lingr = 0)).toThrow(TypeError);
    expect('lingr' in s).toBe(false);
    s.linger = 0;
    expect(s.linger).toBe(0);
  });

  it('an unknown or read-only name given to the constructor is a TypeError naming it', () => {
    const context = new Context();
    expect(() => new Dealer({ context, lingr: 0 } as never)).toThrow(TypeError);
    expect(() => new Dealer({ context, lingr: 0 } as never)).toThrow(/^option "lingr" is not an option of a DEALER socket/);
    expect(() => new Dealer({ context, securityMechanism: 'null' } as never)).toThrow(TypeError);
  });

  it('a subclass of yours is not sealed: it may add fields', () => {
    class Tagged extends Push {
      tag = 'mine';
    }
    const t = track(new Tagged({ context: new Context() }));
    expect(t.tag).toBe('mine');
    expect(Object.isSealed(t)).toBe(false);
  });
});

describe('options: set after bind or connect', () => {
  let warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  beforeEach(() => {
    warnings = [];
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });
  const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
  const LATE = 'Socket option will not take effect until next connect/bind.';

  it('an option read when a bind or connect starts warns, after a connect, during a bind, and after one', async () => {
    const context = new Context();
    const a = track(new Dealer({ context }));
    a.connect('inproc://late-a');
    a.routingId = 'after-connect';
    const b = track(new Dealer({ context }));
    const bound = b.bind('inproc://late-b');
    b.heartbeatInterval = 100;
    await bound;
    b.curveServer = false;
    await settle();
    expect(warnings).toEqual([LATE, LATE, LATE]);
  });

  it('no warning before any endpoint, nor for options that act at once (timeouts, linger, REQ and ROUTER flags)', async () => {
    const context = new Context();
    const d = track(new Dealer({ context }));
    d.routingId = 'before';
    d.connect('inproc://quiet');
    d.sendTimeout = 5;
    d.receiveTimeout = 5;
    d.linger = 0;
    const req = track(new Request({ context }));
    req.connect('inproc://quiet');
    req.relaxed = true;
    req.correlate = true;
    const router = track(new Router({ context }));
    await router.bind('inproc://quiet');
    router.mandatory = true;
    await settle();
    expect(warnings).toEqual([]);
  });

  it('after every endpoint is gone, setting is quiet again', async () => {
    const d = track(new Dealer({ context: new Context() }));
    await d.bind('inproc://gone');
    await d.unbind('inproc://gone');
    d.routingId = 'again';
    await settle();
    expect(warnings).toEqual([]);
  });
});
