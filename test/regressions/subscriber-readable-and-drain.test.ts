// Two bugs found by the model-based tests: a Subscriber reported `readable` with only unwanted
// messages queued, and a lingering socket was told `pipes.drained` twice when two peers drained
// in one turn (the second event went to a stopped actor).

import { afterEach, describe, expect, it, vi } from 'vitest';
import { Context } from '../../src/socket/context.js';
import { Dealer } from '../../src/socket/dealer-router.js';
import { Publisher, Subscriber } from '../../src/socket/pub-sub.js';
import { closeAfterEach, tick } from '../helpers/sockets.js';

const track = closeAfterEach();
afterEach(() => vi.restoreAllMocks());

describe('regressions', () => {
  it('subscriber: readable is false when only messages it no longer wants are queued, and a match read ahead is kept', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context }));
    await pub.bind('inproc://b1');
    const sub = track(new Subscriber({ context, receiveTimeout: 0 }));
    sub.connect('inproc://b1');
    sub.subscribe('a');
    await pub.send(['a', '1']);
    sub.unsubscribe('a');
    await tick();
    expect(sub.readable).toBe(false);
    await expect(sub.receive()).rejects.toMatchObject({ code: 'EAGAIN' });
    sub.subscribe('b');
    await tick();
    await pub.send(['x', 'no']);
    await pub.send(['b', 'yes']);
    expect(sub.readable).toBe(true);
    expect((await sub.receive()).map(String)).toEqual(['b', 'yes']);
    expect(sub.readable).toBe(false);
  });

  it('linger: two peers draining in one turn end the lingering once, with no event to a stopped actor', async () => {
    const warn = vi.spyOn(console, 'warn');
    const context = new Context();
    const dealer = new Dealer({ context, sendHighWaterMark: 1, sendTimeout: 0, linger: 0 });
    await dealer.bind('inproc://b2');
    const p1 = new Dealer({ context, receiveHighWaterMark: 1 });
    p1.connect('inproc://b2');
    while (dealer.writable) await dealer.send('x');
    const p2 = new Dealer({ context, receiveHighWaterMark: 1 });
    p2.connect('inproc://b2');
    dealer.linger = -1;
    dealer.close();
    expect(dealer.getSnapshot().value).toBe('lingering');
    p1.close();
    p2.close();
    await dealer.whenReleased();
    await tick();
    expect(dealer.getSnapshot().value).toBe('closed');
    expect(warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('stopped actor'))).toEqual([]);
  });
});
