// Publisher, Subscriber, XPublisher and XSubscriber over inproc. Subscriptions travel as
// `0x01`+prefix / `0x00`+prefix messages from the subscribing side to the publishing side:
//
//   Subscriber ──0x01 "A"──▶ Publisher        subscribe (counted at the SUB, a set at the PUB)
//   Subscriber ◀── "A…" ──── Publisher        only matching messages; a full SUB misses them
//   XSubscriber ── "hi" ───▶ XPublisher       upstream data reaches the XPUB application

import { describe, expect, it } from 'vitest';
import { closeAfterEach, settled, text, tick } from '../helpers/sockets.js';
import { Context } from '../../src/socket/context.js';
import { Publisher, Subscriber, XPublisher, XSubscriber } from '../../src/socket/pub-sub.js';
import type { Socket } from '../../src/socket/socket.js';

const track = closeAfterEach();
const bytes = (...b: number[]) => Buffer.from(b);
/** A subscription message as the XPUB application sees it: flag byte then the prefix. */
const sub = (prefix: string) => Buffer.concat([bytes(1), Buffer.from(prefix)]);
const cancel = (prefix: string) => Buffer.concat([bytes(0), Buffer.from(prefix)]);

/** Receives every message queued now (receiveTimeout must be 0 on the socket). */
async function drain(s: Socket): Promise<Buffer[][]> {
  const out: Buffer[][] = [];
  for (;;) {
    try {
      out.push(await s.receive());
    } catch (e) {
      expect((e as { code: string }).code).toBe('EAGAIN');
      return out;
    }
  }
}

describe('Publisher and Subscriber over inproc', () => {
  it('pub/sub: only messages whose first frame starts with a subscribed string prefix arrive, whole', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context }));
    const s = track(new Subscriber({ context, receiveTimeout: 0 }));
    await pub.bind('inproc://weather');
    s.connect('inproc://weather');
    s.subscribe('weather.');
    await pub.send(['weather.oslo', '-3']);
    await pub.send(['sports.oslo', '2-1']);
    await pub.send('weather'); // shorter than the prefix: no match
    await pub.send(['weather.rome', '18', '']);
    expect((await drain(s)).map(text)).toEqual([['weather.oslo', '-3'], ['weather.rome', '18', '']]);
  });

  it('pub/sub: byte prefixes match byte-wise, 0x00 and 0xFF included', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context }));
    const s = track(new Subscriber({ context, receiveTimeout: 0 }));
    await pub.bind('inproc://bytes');
    s.connect('inproc://bytes');
    s.subscribe(new Uint8Array([0x00, 0xff]), bytes(0xff));
    for (const f of [bytes(0x00, 0xff, 0x01), bytes(0x00, 0xfe), bytes(0xff), bytes(0x00), bytes(0x01, 0xff), bytes(0xff, 0x00), bytes(0x00, 0xff)]) await pub.send(f);
    expect((await drain(s)).map((m) => [...(m[0] as Buffer)])).toEqual([[0x00, 0xff, 0x01], [0xff], [0xff, 0x00], [0x00, 0xff]]);
    expect(s.getSnapshot().context.subscriptions.toJSON()).toEqual({ '00ff': 1, ff: 1 });
  });

  it('pub/sub: string prefixes are UTF-8 whatever their length: short ASCII, over 64 characters, non-ASCII, a lone surrogate', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context }));
    const s = track(new Subscriber({ context, receiveTimeout: 0 }));
    await pub.bind('inproc://utf8');
    s.connect('inproc://utf8');
    const long = `t${'x'.repeat(80)}`;
    s.subscribe('a.', long, 'é.', '\ud800');
    expect(s.getSnapshot().context.subscriptions.toJSON()).toEqual({
      [Buffer.from('a.').toString('hex')]: 1,
      [Buffer.from(long).toString('hex')]: 1,
      c3a92e: 1, // 'é.' in UTF-8
      efbfbd: 1, // a lone surrogate encodes as U+FFFD
    });
    for (const topic of ['a.1', `${long}!`, 'é.2', 'e.3', '\ufffd4', 'b.5']) await pub.send(topic);
    expect((await drain(s)).map(text)).toEqual([['a.1'], [`${long}!`], ['é.2'], ['\ufffd4']]);
  });

  it('pub/sub: a prefix buffer changed after subscribe() changes nothing the socket holds', async () => {
    const context = new Context();
    const s = track(new Subscriber({ context, receiveTimeout: 0 }));
    const prefix = Buffer.from('AB');
    s.subscribe(prefix);
    prefix[0] = 0x5a; // 'Z'
    expect(s.getSnapshot().context.subscriptions.toJSON()).toEqual({ 4142: 1 });
    s.unsubscribe(Buffer.from('AB'));
    s.unsubscribe(prefix); // 'ZB' was never subscribed: ignored
    expect(s.getSnapshot().context.subscriptions.toJSON()).toEqual({});
  });

  it('pub/sub: subscribe() with no argument is the empty prefix: everything, empty frames too; unsubscribe() undoes it', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context }));
    const s = track(new Subscriber({ context, receiveTimeout: 0 }));
    await pub.bind('inproc://all');
    s.connect('inproc://all');
    expect(await drain(s)).toEqual([]);
    await pub.send('before'); // nobody subscribed yet: dropped at the publisher
    s.subscribe();
    await pub.send('x');
    await pub.send(null);
    await pub.send(['', 'y']);
    expect((await drain(s)).map(text)).toEqual([['x'], [''], ['', 'y']]);
    s.unsubscribe();
    await pub.send('z');
    expect(await drain(s)).toEqual([]);
    expect(pub.getSnapshot().context.subscriptions.toJSON()).toEqual({});
  });

  it('pub/sub: subscriptions are counted: "A" twice then one unsubscribe is still subscribed', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context }));
    const s = track(new Subscriber({ context, receiveTimeout: 0 }));
    await pub.bind('inproc://count');
    s.connect('inproc://count');
    s.subscribe('A', 'A');
    expect(s.getSnapshot().context.subscriptions.toJSON()).toEqual({ '41': 2 });
    s.unsubscribe('A');
    expect(s.getSnapshot().context.subscriptions.toJSON()).toEqual({ '41': 1 });
    await pub.send('A1');
    expect((await drain(s)).map(text)).toEqual([['A1']]);
    const [peer] = s.getSnapshot().context.peers.list();
    expect(peer).toBeDefined();
    // The publisher holds a set of subscribers per prefix; it heard no cancel yet.
    expect(Object.keys(pub.getSnapshot().context.subscriptions.toJSON())).toEqual(['41']);
    s.unsubscribe('A');
    expect(s.getSnapshot().context.subscriptions.toJSON()).toEqual({});
    expect(pub.getSnapshot().context.subscriptions.toJSON()).toEqual({});
    await pub.send('A2');
    expect(await drain(s)).toEqual([]);
    // Unsubscribing what is not subscribed changes nothing.
    s.unsubscribe('B');
    expect(s.getSnapshot().context.subscriptions.toJSON()).toEqual({});
  });

  it('pub/sub: subscriptions made before connect are replayed on attach, and later ones travel at once', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context }));
    await pub.bind('inproc://early');
    const s = track(new Subscriber({ context, receiveTimeout: 0 }));
    s.subscribe('early');
    s.connect('inproc://early');
    s.subscribe('late');
    await pub.send('early bird');
    await pub.send('late comer');
    await pub.send('other');
    expect((await drain(s)).map(text)).toEqual([['early bird'], ['late comer']]);
  });

  it('pub/sub: a publisher that arrives later (sub binds, pub connects) gets every subscription replayed', async () => {
    const context = new Context();
    const s = track(new Subscriber({ context, receiveTimeout: 0 }));
    await s.bind('inproc://late-pub');
    s.subscribe('a', 'a', 'b');
    const pub = track(new Publisher({ context }));
    pub.connect('inproc://late-pub');
    // Each prefix is replayed once, whatever its count.
    const [entry] = pub.getSnapshot().context.peers.list();
    expect(pub.getSnapshot().context.subscriptions.toJSON()).toEqual({ '61': [entry!.id], '62': [entry!.id] });
    await pub.send('a1');
    await pub.send('b1');
    await pub.send('c1');
    expect((await drain(s)).map(text)).toEqual([['a1'], ['b1']]);
    // A second publisher gets the same replay.
    const pub2 = track(new Publisher({ context }));
    pub2.connect('inproc://late-pub');
    await pub2.send('b2');
    expect((await drain(s)).map(text)).toEqual([['b2']]);
  });

  it('pub/sub: connect before bind: the subscriptions wait in the pipe and reach the publisher when it binds', async () => {
    const context = new Context();
    const s = track(new Subscriber({ context, receiveTimeout: 0 }));
    s.connect('inproc://cbb');
    s.subscribe('k');
    const pub = track(new Publisher({ context }));
    await pub.bind('inproc://cbb');
    await pub.send('k1');
    await pub.send('j1');
    expect((await drain(s)).map(text)).toEqual([['k1']]);
  });

  it('pub/sub: replayed subscriptions count against SNDHWM; those that do not fit are dropped silently', async () => {
    const context = new Context();
    const s = track(new Subscriber({ context, receiveTimeout: 0, sendHighWaterMark: 2 }));
    s.subscribe('d', 'c', 'b', 'a');
    // Connecting before the bind gives a pipe of SNDHWM (2): the replay (in byte order) fills it.
    s.connect('inproc://replay-hwm');
    const pub = track(new Publisher({ context }));
    await pub.bind('inproc://replay-hwm');
    for (const t of ['a', 'b', 'c', 'd']) await pub.send(t);
    expect((await drain(s)).map(text)).toEqual([['a'], ['b']]);
    // The subscriber still counts all four: it filters on receive and would replay them all again.
    expect(Object.keys(s.getSnapshot().context.subscriptions.toJSON()).sort()).toEqual(['61', '62', '63', '64']);
  });

  it('pub: never waits on a full subscriber: that one misses messages while another with room gets them all', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context, sendHighWaterMark: 1, sendTimeout: 0 }));
    const slow = track(new Subscriber({ context, receiveHighWaterMark: 1, receiveTimeout: 0 }));
    const fast = track(new Subscriber({ context, receiveHighWaterMark: 100, receiveTimeout: 0 }));
    await pub.bind('inproc://fanout');
    slow.connect('inproc://fanout');
    fast.connect('inproc://fanout');
    slow.subscribe();
    fast.subscribe();
    expect(pub.getSnapshot().value).toEqual({ open: 'flowing' });
    // slow's pipe holds 1 + 1 = 2 messages; sendTimeout 0 would reject any send that waited.
    for (let i = 0; i < 5; i++) await pub.send(`m${i}`);
    expect(pub.writable).toBe(true);
    expect(pub.getSnapshot().value).toEqual({ open: 'congested' });
    expect(pub.getSnapshot().context.peers.list().map((p) => p.ready)).toEqual([false, true]);
    expect((await drain(fast)).map(text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'].map((m) => [m]));
    expect((await drain(slow)).map(text)).toEqual([['m0'], ['m1']]);
    await tick(); // the drained pipe wakes its writer on a microtask
    expect(pub.getSnapshot().value).toEqual({ open: 'flowing' });
    await pub.send('m5');
    expect((await drain(slow)).map(text)).toEqual([['m5']]);
  });

  it('sub: filters again on receive: messages queued before an unsubscribe are not delivered after it', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context }));
    const s = track(new Subscriber({ context, receiveTimeout: 0 }));
    await pub.bind('inproc://refilter');
    s.connect('inproc://refilter');
    s.subscribe('A', 'B');
    await pub.send('A1');
    await pub.send('B1');
    await pub.send('A2');
    s.unsubscribe('A');
    expect((await drain(s)).map(text)).toEqual([['B1']]);
  });

  it('pub: a steady stream of messages to subscribers with room is no machine event', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context }));
    await pub.bind('inproc://quiet');
    const subs = [0, 1, 2].map(() => track(new Subscriber({ context, receiveTimeout: 0 })));
    for (const s of subs) {
      s.connect('inproc://quiet');
      s.subscribe('t');
    }
    let transitions = 0;
    const watch = pub.actor.subscribe(() => transitions++);
    for (let i = 0; i < 200; i++) await pub.send(['t', String(i)]);
    watch.unsubscribe();
    expect(transitions).toBe(0);
    for (const s of subs) expect(await drain(s)).toHaveLength(200);
  });

  it('pub: a message goes once to a subscriber holding several matching prefixes', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context }));
    const s = track(new Subscriber({ context, receiveTimeout: 0 }));
    await pub.bind('inproc://overlap');
    s.connect('inproc://overlap');
    s.subscribe('', 'a', 'ab');
    await pub.send('abc');
    expect((await drain(s)).map(text)).toEqual([['abc']]);
  });

  it('pub: a detached subscriber is forgotten; the others keep receiving', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context }));
    const a = track(new Subscriber({ context, receiveTimeout: 0 }));
    const b = track(new Subscriber({ context, receiveTimeout: 0 }));
    await pub.bind('inproc://detach');
    a.connect('inproc://detach');
    b.connect('inproc://detach');
    a.subscribe('t');
    b.subscribe('t');
    a.disconnect('inproc://detach');
    expect(pub.getSnapshot().context.peers.size).toBe(1);
    expect(Object.values(pub.getSnapshot().context.subscriptions.toJSON())).toHaveLength(1);
    await pub.send('t1');
    expect((await drain(b)).map(text)).toEqual([['t1']]);
    expect(await drain(a)).toEqual([]);
  });

  it('conflate: a conflating subscriber keeps only the newest message', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context }));
    const s = track(new Subscriber({ context, conflate: true, receiveTimeout: 0 }));
    expect(s.conflate).toBe(true);
    await pub.bind('inproc://conflate');
    s.connect('inproc://conflate');
    s.subscribe('');
    for (let i = 0; i < 5; i++) await pub.send(`v${i}`);
    expect((await drain(s)).map(text)).toEqual([['v4']]);
  });

  it('pub and sub refuse what they cannot do: receive on PUB, send on SUB (ENOTSUP), a bad prefix (EINVAL), subscribe after close (EBADF)', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context }));
    const s = track(new Subscriber({ context }));
    await expect(pub.receive()).rejects.toMatchObject({ code: 'ENOTSUP' });
    await expect(s.send('x')).rejects.toMatchObject({ code: 'ENOTSUP' });
    expect(() => s.subscribe(42 as never)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    // An option name the type does not have is a TypeError, as in zeromq.js.
    expect(() => new Subscriber({ context, noDrop: true } as never)).toThrow(TypeError);
    s.close();
    expect(() => s.subscribe('a')).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('sub invertMatching: the machine holds it (constructor and setter), and receive filters by what the machine holds', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context }));
    await pub.bind('inproc://sub-invert');
    const inverted = track(new Subscriber({ context, invertMatching: true, receiveTimeout: 0 }));
    expect(inverted.getSnapshot().context.invertMatching).toBe(true);
    const s = track(new Subscriber({ context, receiveTimeout: 0 }));
    expect(s.getSnapshot().context.invertMatching).toBe(false);
    s.connect('inproc://sub-invert');
    s.subscribe('');
    await pub.send('a-1');
    // Set after construction: the machine hears it, and the message already queued is filtered by it.
    s.invertMatching = true;
    expect(s.invertMatching).toBe(true);
    expect(s.getSnapshot().context.invertMatching).toBe(true);
    expect(await drain(s)).toEqual([]);
    s.invertMatching = false;
    await pub.send('a-2');
    // Receive reads the machine's context, not a copy in the class: an event to the machine alone
    // turns the filter around.
    s.actor.send({ type: 'configure', invertMatching: true });
    expect(s.invertMatching).toBe(false);
    expect(await drain(s)).toEqual([]);
    s.actor.send({ type: 'configure', invertMatching: false });
    await pub.send('a-3');
    expect((await drain(s)).map(text)).toEqual([['a-3']]);
  });

  it('pub noDrop: a send that matches a full subscriber waits instead of dropping', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context, noDrop: true, sendHighWaterMark: 1 }));
    expect(pub.noDrop).toBe(true);
    expect(pub.getSnapshot().context.whenMute).toBe('wait');
    const s = track(new Subscriber({ context, receiveHighWaterMark: 1, receiveTimeout: 0 }));
    await pub.bind('inproc://pub-nodrop');
    s.connect('inproc://pub-nodrop');
    s.subscribe();
    await pub.send('0');
    await pub.send('1');
    const third = pub.send('2');
    expect(await settled(third)).toBe('waiting');
    expect(text(await s.receive())).toEqual(['0']);
    expect(await settled(third)).toBe('done');
    expect((await drain(s)).map(text)).toEqual([['1'], ['2']]);
  });
});

describe('XPublisher over inproc', () => {
  async function rig(verbosity: null | 'allSubs' | 'allSubsUnsubs') {
    const context = new Context();
    const xpub = track(new XPublisher({ context, verbosity, receiveTimeout: 0 }));
    await xpub.bind('inproc://xpub');
    const s1 = track(new Subscriber({ context }));
    const s2 = track(new Subscriber({ context }));
    s1.connect('inproc://xpub');
    s2.connect('inproc://xpub');
    // s1 subscribes "A" twice, s2 once; then both undo everything.
    s1.subscribe('A', 'A');
    s2.subscribe('A');
    const subs = await drain(xpub);
    s1.unsubscribe('A'); // count 2 -> 1 at s1: nothing travels
    s1.unsubscribe('A'); // count 1 -> 0: the cancel travels; s2 still wants "A"
    const afterFirst = await drain(xpub);
    s2.unsubscribe('A');
    const afterLast = await drain(xpub);
    return { xpub, subs, afterFirst, afterLast };
  }

  it('xpub default verbosity: sees the first subscribe of a prefix and the cancel of its last subscriber only', async () => {
    const { subs, afterFirst, afterLast } = await rig(null);
    expect(subs).toEqual([[sub('A')]]);
    expect(afterFirst).toEqual([]);
    expect(afterLast).toEqual([[cancel('A')]]);
  });

  it('xpub allSubs: sees every subscribe, repeats included, but only the last cancel', async () => {
    const { xpub, subs, afterFirst, afterLast } = await rig('allSubs');
    expect(xpub.verbosity).toBe('allSubs');
    expect(subs).toEqual([[sub('A')], [sub('A')], [sub('A')]]);
    expect(afterFirst).toEqual([]);
    expect(afterLast).toEqual([[cancel('A')]]);
  });

  it('xpub allSubsUnsubs: sees every subscribe and every cancel that travels', async () => {
    const { xpub, subs, afterFirst, afterLast } = await rig('allSubsUnsubs');
    expect(xpub.getSnapshot().context.verbosity).toBe('allSubsUnsubs');
    expect(subs).toEqual([[sub('A')], [sub('A')], [sub('A')]]);
    expect(afterFirst).toEqual([[cancel('A')]]);
    expect(afterLast).toEqual([[cancel('A')]]);
  });

  it('xpub: verbosity can be changed on a live socket', async () => {
    const context = new Context();
    const xpub = track(new XPublisher({ context, receiveTimeout: 0 }));
    await xpub.bind('inproc://xpub-live');
    const s = track(new Subscriber({ context }));
    s.connect('inproc://xpub-live');
    s.subscribe('q');
    s.subscribe('q');
    expect(await drain(xpub)).toEqual([[sub('q')]]);
    xpub.verbosity = 'allSubs';
    s.subscribe('q');
    expect(await drain(xpub)).toEqual([[sub('q')]]);
    expect(() => (xpub.verbosity = 'loud' as never)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(xpub.verbosity).toBe('allSubs');
  });

  it('xpub: a subscriber closing yields cancels for the prefixes nobody wants any more', async () => {
    const context = new Context();
    const xpub = track(new XPublisher({ context, receiveTimeout: 0 }));
    await xpub.bind('inproc://xpub-close');
    const s1 = track(new Subscriber({ context }));
    const s2 = track(new Subscriber({ context }));
    s1.connect('inproc://xpub-close');
    s2.connect('inproc://xpub-close');
    s1.subscribe('B', 'A');
    s2.subscribe('B');
    expect(await drain(xpub)).toEqual([[sub('B')], [sub('A')]]);
    s1.close();
    await s1.whenReleased();
    expect(await drain(xpub)).toEqual([[cancel('A')]]);
    expect(Object.keys(xpub.getSnapshot().context.subscriptions.toJSON())).toEqual(['42']);
    s2.close();
    await s2.whenReleased();
    expect(await drain(xpub)).toEqual([[cancel('B')]]);
    expect(xpub.getSnapshot().context.subscriptions.toJSON()).toEqual({});
  });

  it('xpub allSubsUnsubs: a subscriber closing yields a cancel for every prefix it held, in byte order', async () => {
    const context = new Context();
    const xpub = track(new XPublisher({ context, verbosity: 'allSubsUnsubs', receiveTimeout: 0 }));
    await xpub.bind('inproc://xpub-close-v');
    const s1 = track(new Subscriber({ context }));
    const s2 = track(new Subscriber({ context }));
    s1.connect('inproc://xpub-close-v');
    s2.connect('inproc://xpub-close-v');
    s1.subscribe('B', 'A');
    s2.subscribe('B');
    await drain(xpub);
    s1.close();
    await s1.whenReleased();
    expect(await drain(xpub)).toEqual([[cancel('A')], [cancel('B')]]);
  });

  it('xpub: fans out by prefix like a publisher, and a receive that waits is woken by a subscription', async () => {
    const context = new Context();
    const xpub = track(new XPublisher({ context }));
    await xpub.bind('inproc://xpub-fan');
    const s = track(new Subscriber({ context, receiveTimeout: 0 }));
    s.connect('inproc://xpub-fan');
    const waiting = xpub.receive();
    expect(await settled(waiting)).toBe('waiting');
    s.subscribe(bytes(0x00));
    expect(await waiting).toEqual([bytes(0x01, 0x00)]);
    await xpub.send(bytes(0x00, 0x07));
    await xpub.send(bytes(0x01, 0x00));
    expect((await drain(s)).map((m) => [...(m[0] as Buffer)])).toEqual([[0x00, 0x07]]);
  });

  it('xpub noDrop: waits while a matching subscriber is full, EAGAIN once sendTimeout passes; others are not held up', async () => {
    const context = new Context();
    const xpub = track(new XPublisher({ context, noDrop: true, sendHighWaterMark: 1, receiveTimeout: 0 }));
    expect(xpub.getSnapshot().context.whenMute).toBe('wait');
    await xpub.bind('inproc://nodrop');
    const a = track(new Subscriber({ context, receiveHighWaterMark: 1, receiveTimeout: 0 }));
    const b = track(new Subscriber({ context, receiveHighWaterMark: 1, receiveTimeout: 0 }));
    a.connect('inproc://nodrop');
    b.connect('inproc://nodrop');
    a.subscribe('A');
    b.subscribe('B');
    await xpub.send('A0');
    await xpub.send('A1'); // a's pipe (1 + 1) is full now
    expect(xpub.getSnapshot().value).toEqual({ open: 'congested' });
    const blocked = xpub.send('A2');
    expect(await settled(blocked)).toBe('waiting');
    expect(xpub.writable).toBe(false);
    expect(text(await a.receive())).toEqual(['A0']);
    expect(await settled(blocked)).toBe('done');
    // a's pipe is full again (A1, A2), but no send waits: XPUB reports writable, as libzmq's
    // xhas_out does; a message for b would go through.
    expect(xpub.writable).toBe(true);
    await xpub.send('B0');
    expect((await drain(b)).map(text)).toEqual([['B0']]);
    expect((await drain(a)).map(text)).toEqual([['A1'], ['A2']]);
    // Full again, with a timeout this time: nothing is delivered to anyone.
    await xpub.send('A3');
    await xpub.send('A4');
    xpub.sendTimeout = 20;
    await expect(xpub.send('A5')).rejects.toMatchObject({ code: 'EAGAIN' });
    expect((await drain(a)).map(text)).toEqual([['A3'], ['A4']]);
  });

  // XPUB (welcomeMessage) ──attach──▶ SUB (subscribed "hi"): the welcome, before any message published.
  it('xpub welcomeMessage: the machine holds it (constructor, setter), and the machine\'s configure alone decides what a new subscriber gets', async () => {
    const context = new Context();
    const hex = (s: string) => Buffer.from(s).toString('hex');
    expect(track(new XPublisher({ context, welcomeMessage: 'hi, welcome' })).getSnapshot().context.welcomeMessage).toBe(hex('hi, welcome'));
    const xpub = track(new XPublisher({ context }));
    expect(xpub.getSnapshot().context.welcomeMessage).toBe(null);
    xpub.welcomeMessage = Buffer.from([0x68, 0x69, 0x00, 0xff]);
    expect(xpub.getSnapshot().context.welcomeMessage).toBe('686900ff');
    xpub.welcomeMessage = null;
    expect(xpub.getSnapshot().context.welcomeMessage).toBe(null);
    // Told to the machine only: the class keeps no copy that would decide otherwise.
    xpub.actor.send({ type: 'configure', welcomeMessage: hex('hi there') });
    expect(xpub.welcomeMessage).toBe(null);
    await xpub.bind('inproc://xpub-welcome-machine');
    const s = track(new Subscriber({ context, receiveTimeout: 0 }));
    s.subscribe('hi');
    s.connect('inproc://xpub-welcome-machine');
    await xpub.send('hi, after');
    expect((await drain(s)).map(text)).toEqual([['hi there'], ['hi, after']]);
  });

  it('xpub noDrop: a message no full subscriber wants is sent at once', async () => {
    const context = new Context();
    const xpub = track(new XPublisher({ context, noDrop: true, sendHighWaterMark: 1, sendTimeout: 0 }));
    await xpub.bind('inproc://nodrop-other');
    const a = track(new Subscriber({ context, receiveHighWaterMark: 1, receiveTimeout: 0 }));
    const b = track(new Subscriber({ context, receiveHighWaterMark: 1, receiveTimeout: 0 }));
    a.connect('inproc://nodrop-other');
    b.connect('inproc://nodrop-other');
    a.subscribe('A');
    b.subscribe('B');
    await xpub.send('A0');
    await xpub.send('A1');
    await expect(xpub.send('A2')).rejects.toMatchObject({ code: 'EAGAIN' });
    await xpub.send('B0');
    await xpub.send('C0'); // nobody wants it
    expect((await drain(b)).map(text)).toEqual([['B0']]);
    expect((await drain(a)).map(text)).toEqual([['A0'], ['A1']]);
  });
});

describe('Subscriber: many subscribe() calls in one turn', () => {
  /** One turn of the event loop as the batches count them (they go out on setImmediate). */
  const nextTurn = () => new Promise((r) => setImmediate(r));

  /** An XPUB at inproc://many, a Subscriber connected to it, and the subscription events the Subscriber's machine hears. */
  async function rig(subscriberOptions: { sendHighWaterMark?: number } = { sendHighWaterMark: 0 }, xpubOptions: { receiveHighWaterMark?: number } = { receiveHighWaterMark: 0 }) {
    const heard: { type: string; prefixes: string[] }[] = [];
    let s: Subscriber | undefined;
    const context = new Context({
      inspect: (e) => {
        if (e.type !== '@xstate.event' || s === undefined || e.actorRef !== s.actor) return;
        const ev = e.event as { type: string; prefix?: string; prefixes?: string[] };
        if (ev.type === 'subscribe' || ev.type === 'subscribe.batch') heard.push({ type: ev.type, prefixes: ev.prefixes ?? [ev.prefix!] });
      },
    });
    const xpub = track(new XPublisher({ context, verbosity: 'allSubs', receiveTimeout: 0, ...xpubOptions }));
    await xpub.bind('inproc://many');
    s = track(new Subscriber({ context, receiveTimeout: 0, ...subscriberOptions }));
    s.connect('inproc://many');
    await tick();
    return { xpub, s, heard };
  }
  const hex = (text: string) => Buffer.from(text).toString('hex');

  it('the first 256 are told one by one; the rest wait for batches of at most 512, one a turn, in order, and all arrive', async () => {
    const { xpub, s, heard } = await rig();
    for (let i = 0; i < 1300; i++) s.subscribe(`t${i}`);
    // Within the caller's turn: 256 events, the rest waiting (their cost to the loop is a push each).
    expect(heard.length).toBe(256);
    expect(heard.every((h) => h.type === 'subscribe')).toBe(true);
    await nextTurn();
    expect(heard.length).toBe(257); // one batch on the next turn, not all of them
    await nextTurn();
    expect(heard.length).toBe(258);
    for (let turns = 0; turns < 10 && heard.length < 259; turns++) await nextTurn();
    const batches = heard.slice(256);
    expect(batches.map((b) => [b.type, b.prefixes.length])).toEqual([['subscribe.batch', 512], ['subscribe.batch', 512], ['subscribe.batch', 20]]);
    const told = heard.flatMap((h) => h.prefixes);
    expect(told).toEqual(Array.from({ length: 1300 }, (_, i) => hex(`t${i}`)));
    expect(s.getSnapshot().context.subscriptions.size).toBe(1300);
    // The publisher sees every one, in the order of the calls.
    const seen: string[] = [];
    for (let turns = 0; turns < 50 && seen.length < 1300; turns++) {
      for (const [notice] of await drain(xpub)) seen.push(notice.subarray(1).toString());
      await tick();
    }
    expect(seen).toEqual(Array.from({ length: 1300 }, (_, i) => `t${i}`));
  });

  it("the waiting ones are the machine's: its snapshot lists them as pending, in order, until a batch counts them", async () => {
    const { xpub, s } = await rig();
    for (let i = 0; i < 300; i++) s.subscribe(`p${i}`);
    const context = s.getSnapshot().context;
    expect(context.subscriptions.size).toBe(256);
    expect(context.pending.size).toBe(44);
    expect((JSON.parse(JSON.stringify(context)) as { pending: string[] }).pending).toEqual(Array.from({ length: 44 }, (_, i) => hex(`p${256 + i}`)));
    await nextTurn();
    expect(s.getSnapshot().context.pending.size).toBe(0);
    expect(s.getSnapshot().context.subscriptions.size).toBe(300);
    // The machine's list is what the socket applies: a subscribe told to the actor alone is in the
    // receive filter once the socket reads. (zz1 reaches the SUB while it takes everything, and waits
    // unread after that subscription is undone.)
    s.subscribe();
    await tick();
    await drain(xpub);
    await xpub.send('zz1');
    await tick();
    s.unsubscribe();
    s.actor.send({ type: 'subscribe.queued', prefix: hex('zz') } as never);
    expect(s.getSnapshot().context.pending.size).toBe(1);
    expect(text(await s.receive())).toEqual(['zz1']);
    expect(s.getSnapshot().context.pending.size).toBe(0);
  });

  it('with the default sendHighWaterMark, a pipe filling up does not pull the whole queue into one turn', async () => {
    // 10,000 subscriptions against an inproc pipe of 1,000: the pipe's mute edge (a machine event)
    // comes in the middle of a batch, and must not carry the rest of the queue with it.
    const { s, heard } = await rig({}, {});
    for (let i = 0; i < 10_000; i++) s.subscribe(`m${i}`);
    const perTurn: number[] = [];
    for (let turns = 0; turns < 40 && heard.flatMap((h) => h.prefixes).length < 10_000; turns++) {
      const before = heard.flatMap((h) => h.prefixes).length;
      await nextTurn();
      perTurn.push(heard.flatMap((h) => h.prefixes).length - before);
    }
    expect(heard.flatMap((h) => h.prefixes)).toEqual(Array.from({ length: 10_000 }, (_, i) => hex(`m${i}`)));
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(512);
  });

  it('the 256 are counted per turn of the event loop, not per microtask: awaits inside the loop do not reset them', async () => {
    const { s, heard } = await rig();
    for (let i = 0; i < 1000; i++) {
      s.subscribe(`a${i}`);
      if (i % 100 === 99) await null; // a microtask, still this turn
    }
    expect(heard.length).toBe(256);
    for (let turns = 0; turns < 10 && heard.flatMap((h) => h.prefixes).length < 1000; turns++) await nextTurn();
    expect(heard.slice(256).map((h) => [h.type, h.prefixes.length])).toEqual([['subscribe.batch', 512], ['subscribe.batch', 232]]);
  });

  it('a waiting subscribe is in the receive filter at once, and an unsubscribe after it is told after it', async () => {
    const { xpub, s } = await rig();
    s.subscribe();
    await tick();
    await drain(xpub);
    await xpub.send('k299'); // in the Subscriber's queue, unread
    await tick();
    s.unsubscribe(); // nothing subscribed now
    for (let i = 0; i < 300; i++) s.subscribe(`k${i}`); // k256..k299 wait
    // The filter reads every subscribe made, waiting ones included: k299 matches.
    expect(text(await s.receive())).toEqual(['k299']);
    for (let i = 0; i < 300; i++) s.subscribe(`u${i}`);
    s.unsubscribe('u299'); // after its subscribe, which is told first: the count goes 1 -> 0
    const held = s.getSnapshot().context.subscriptions.toJSON() as Record<string, number>;
    expect([held[hex('u298')], held[hex('u299')], held[hex('k299')]]).toEqual([1, undefined, 1]);
  });

  it('close() tells the machine the waiting subscribes first, then closes', async () => {
    const { s, heard } = await rig();
    let closeAt = -1;
    s.actor.subscribe(() => {
      // Out of `open` (an object value), into `lingering` or `closed` (a string).
      if (closeAt < 0 && typeof s.getSnapshot().value === 'string') closeAt = heard.length;
    });
    for (let i = 0; i < 400; i++) s.subscribe(`c${i}`);
    s.close();
    expect(heard.map((h) => [h.type, h.prefixes.length]).slice(255)).toEqual([['subscribe', 1], ['subscribe.batch', 144]]);
    expect(heard.flatMap((h) => h.prefixes)).toEqual(Array.from({ length: 400 }, (_, i) => hex(`c${i}`)));
    expect(closeAt).toBe(257); // the machine left `open` after hearing all 400
  });
});

describe('XSubscriber over inproc', () => {
  it('xsub ↔ pub: raw 0x01/0x00 messages subscribe and cancel, counted; other messages are discarded by the PUB', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context }));
    const xsub = track(new XSubscriber({ context, receiveTimeout: 0 }));
    await pub.bind('inproc://xsub-pub');
    xsub.connect('inproc://xsub-pub');
    await xsub.send(sub('n'));
    await xsub.send(sub('n'));
    await xsub.send('not a subscription');
    expect(xsub.getSnapshot().context.subscriptions.toJSON()).toEqual({ '6e': 2 });
    await pub.send('n1');
    await pub.send('m1');
    expect((await drain(xsub)).map(text)).toEqual([['n1']]);
    await xsub.send(cancel('n'));
    await pub.send('n2');
    expect((await drain(xsub)).map(text)).toEqual([['n2']]);
    await xsub.send(cancel('n'));
    await pub.send('n3');
    expect(await drain(xsub)).toEqual([]);
    expect(pub.getSnapshot().context.subscriptions.toJSON()).toEqual({});
  });

  it('xsub ↔ xpub: upstream messages reach the XPUB application whole and in order, between the subscriptions', async () => {
    const context = new Context();
    const xpub = track(new XPublisher({ context, receiveTimeout: 0 }));
    const xsub = track(new XSubscriber({ context, receiveTimeout: 0 }));
    await xpub.bind('inproc://x2x');
    xsub.connect('inproc://x2x');
    await xsub.send('hello');
    await xsub.send(sub('t'));
    await xsub.send(['multi', 'part']);
    await xsub.send([sub('t'), 'x']); // more than one frame: data, not a subscription
    await xsub.send(''); // an empty frame: data
    expect(await drain(xpub)).toEqual([[Buffer.from('hello')], [sub('t')], [Buffer.from('multi'), Buffer.from('part')], [sub('t'), Buffer.from('x')], [Buffer.alloc(0)]]);
    expect(xsub.writable).toBe(true);
    await xpub.send(['t', 'payload']);
    expect((await drain(xsub)).map(text)).toEqual([['t', 'payload']]);
  });

  it('xsub: upstream messages go to every publisher; with none they are dropped and send still completes', async () => {
    const context = new Context();
    const xsub = track(new XSubscriber({ context, sendTimeout: 0 }));
    await xsub.send('into the void');
    await xsub.bind('inproc://xsub-many');
    const p1 = track(new XPublisher({ context, receiveTimeout: 0 }));
    const p2 = track(new XPublisher({ context, receiveTimeout: 0 }));
    p1.connect('inproc://xsub-many');
    p2.connect('inproc://xsub-many');
    await xsub.send('to all');
    expect((await drain(p1)).map(text)).toEqual([['to all']]);
    expect((await drain(p2)).map(text)).toEqual([['to all']]);
  });

  it('xpub ↔ sub: the XPUB application sees the subscription and publishes to it', async () => {
    const context = new Context();
    const s = track(new Subscriber({ context, receiveTimeout: 0 }));
    await s.bind('inproc://xpub-sub');
    s.subscribe('news');
    const xpub = track(new XPublisher({ context, receiveTimeout: 0 }));
    xpub.connect('inproc://xpub-sub');
    expect(await drain(xpub)).toEqual([[sub('news')]]);
    await xpub.send(['news', '1']);
    await xpub.send(['olds', '1']);
    expect((await drain(s)).map(text)).toEqual([['news', '1']]);
  });
});
