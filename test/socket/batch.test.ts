// The batch calls (issue 15): sendMany and receiveMany move many messages per promise with the same
// rules per message as send() and receive(): small frames copied, HWM waits, routing and filtering,
// multipart whole, order kept, no other call's message in between; a failure says how many went.

import { describe, expect, it } from 'vitest';
import { Context, Dealer, Publisher, Pull, Push, Reply, Request, Router, Subscriber } from '../../src/index.js';
import type { ZmqError } from '../../src/index.js';
import { closeAfterEach, text } from '../helpers/sockets.js';

const track = closeAfterEach();

/** A connected inproc PUSH/PULL pair with the given HWMs. */
async function pushPull(hwm?: number): Promise<{ push: Push; pull: Pull }> {
  const context = new Context();
  const options = hwm === undefined ? {} : { sendHighWaterMark: hwm, receiveHighWaterMark: hwm };
  const pull = track(new Pull({ context, ...options }));
  await pull.bind('inproc://batch');
  const push = track(new Push({ context, ...options }));
  push.connect('inproc://batch');
  return { push, pull };
}

const texts = (messages: Uint8Array[][]) => messages.map((m) => text(m as Buffer[]));

/** What arrives until nothing more is ready (receiveTimeout 0 answers at once). */
async function drain(pull: Pull): Promise<string[][]> {
  pull.receiveTimeout = 0;
  const got: string[][] = [];
  for (;;) {
    try {
      got.push(...texts(await pull.receiveMany()));
    } catch (e) {
      expect((e as ZmqError).code).toBe('EAGAIN');
      return got;
    }
  }
}

describe('sendMany and receiveMany', () => {
  it('many messages, multipart among them, arrive whole and in order; receiveMany takes what is ready, up to max', async () => {
    const { push, pull } = await pushPull();
    await push.sendMany(['a', ['b1', 'b2', ''], 'c', ['d', 'e']]);
    expect(texts(await pull.receiveMany({ max: 3 }))).toEqual([['a'], ['b1', 'b2', ''], ['c']]);
    expect(texts(await pull.receiveMany())).toEqual([['d', 'e']]);
    await push.sendMany([]); // nothing to send: resolves
    // receiveMany waits for the first message, then takes what is ready with it.
    const waiting = pull.receiveMany();
    await push.send('x');
    expect(texts(await waiting)).toEqual([['x']]);
  });

  it('small frames are copied as send() copies them: changing the buffer after the call changes nothing received', async () => {
    const { push, pull } = await pushPull();
    const buffer = Buffer.from('before');
    const big = Buffer.alloc(200, 0x61);
    await push.sendMany([buffer, [buffer, big]]);
    buffer.write('AFTER!');
    const got = await pull.receiveMany();
    expect(text(got[0] as Buffer[])).toEqual(['before']);
    expect((got[1] as Buffer[])[0]!.toString()).toBe('before');
    expect((got[1] as Buffer[])[1]).toBe(big); // over 128 bytes: by reference, as send() does
  });

  it('waits at the HWM and goes on as the peer reads; no other call\'s message comes between its messages', async () => {
    const { push, pull } = await pushPull(2); // inproc: a pipe of SNDHWM + RCVHWM = 4
    const batch = Array.from({ length: 10 }, (_, i) => `m${i}`);
    const sending = push.sendMany(batch);
    const after = push.send('after');
    const got: string[][] = [];
    while (got.length < 11) got.push(...texts(await pull.receiveMany()));
    await sending;
    await after;
    expect(got.map((m) => m[0])).toEqual([...batch, 'after']);
  });

  it('a timeout says how many were queued; those stay queued and the rest are not sent', async () => {
    const { push, pull } = await pushPull(2);
    push.sendTimeout = 20;
    const error = await push.sendMany(['0', '1', '2', '3', '4', '5']).catch((e: ZmqError) => e);
    expect((error as ZmqError).code).toBe('EAGAIN');
    expect((error as ZmqError).sent).toBe(4);
    expect(await drain(pull)).toEqual([['0'], ['1'], ['2'], ['3']]);
  });

  it('a frame that is not bytes refuses the whole call (EINVAL, naming the message): nothing is sent', async () => {
    const { push, pull } = await pushPull();
    const error = await push.sendMany(['ok', ['fine', undefined as never], 'never']).catch((e: ZmqError) => e);
    expect((error as ZmqError).code).toBe('EINVAL');
    expect((error as ZmqError).message).toMatch(/^sendMany\(\): message 1 of 3: frame 1 of 2 is undefined/);
    expect(await drain(pull)).toEqual([]);
    await expect(push.sendMany('abc' as never)).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('must be an array') });
    await expect(pull.receiveMany({ max: 0 })).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('option max is 0') });
  });

  it('REQ: the first message is a request; the second is refused (EFSM, sent 1) and the request stays out', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    await rep.bind('inproc://req');
    const req = track(new Request({ context }));
    req.connect('inproc://req');
    const error = await req.sendMany(['q1', 'q2']).catch((e: ZmqError) => e);
    expect((error as ZmqError).code).toBe('EFSM');
    expect((error as ZmqError).sent).toBe(1);
    expect(text(await rep.receive())).toEqual(['q1']);
    await rep.send('r1');
    // receiveMany on REQ gives its one reply, and then it is REQ's turn to send.
    expect(texts(await req.receiveMany())).toEqual([['r1']]);
  });

  it('ROUTER with mandatory: an unroutable message fails with EHOSTUNREACH and says how many were routed', async () => {
    const context = new Context();
    const router = track(new Router({ context, mandatory: true }));
    await router.bind('inproc://router');
    const dealer = track(new Dealer({ context, routingId: 'd1' }));
    dealer.connect('inproc://router');
    await dealer.send('hello');
    await router.receive();
    const error = await router.sendMany([['d1', 'one'], ['d1', 'two'], ['nobody', 'x'], ['d1', 'never']]).catch((e: ZmqError) => e);
    expect((error as ZmqError).code).toBe('EHOSTUNREACH');
    expect((error as ZmqError).sent).toBe(2);
    expect(texts(await dealer.receiveMany())).toEqual([['one'], ['two']]);
  });

  it('PUB: each message is filtered by topic as send() filters it', async () => {
    const context = new Context();
    const pub = track(new Publisher({ context }));
    await pub.bind('inproc://pub');
    const sub = track(new Subscriber({ context }));
    sub.connect('inproc://pub');
    sub.subscribe('keep');
    await pub.sendMany([['keep', '1'], ['drop', '2'], ['keep.too', '3']]);
    expect(texts(await sub.receiveMany())).toEqual([['keep', '1'], ['keep.too', '3']]);
  });

  it('close() while a batch waits rejects it with EAGAIN and the count that went', async () => {
    const { push } = await pushPull(1); // a pipe of 2
    const sending = push.sendMany(['a', 'b', 'c']).catch((e: ZmqError) => e);
    push.close();
    const error = (await sending) as ZmqError;
    expect(error.code).toBe('EAGAIN');
    expect(error.sent).toBe(2);
  });

  it('a loop of batches yields to the event loop as often as a loop of sends (per 512 messages, not per 512 calls)', async () => {
    const context = new Context();
    const pull = track(new Pull({ context, receiveHighWaterMark: 0 }));
    await pull.bind('inproc://batch-yield');
    const push = track(new Push({ context, sendHighWaterMark: 0 }));
    push.connect('inproc://batch-yield');
    const batch = Array.from({ length: 1000 }, () => 'x');
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    for (let i = 0; i < 40; i++) await push.sendMany(batch); // never waits: the pipes are unbounded
    const sendTurns = turns;
    let got = 0;
    while (got < 40_000) got += (await pull.receiveMany({ max: 1000 })).length;
    ticking = false;
    // Each 1,000-message call passed the limit: the loop turned about once per call, both ways.
    expect(sendTurns).toBeGreaterThanOrEqual(30);
    expect(turns - sendTurns).toBeGreaterThanOrEqual(30);
  });

  it('over tcp, a long batch arrives whole and in order', async () => {
    const pull = track(new Pull());
    await pull.bind('tcp://127.0.0.1:*');
    const push = track(new Push());
    push.connect(pull.lastEndpoint as string);
    const batch = Array.from({ length: 5000 }, (_, i) => [`k${i}`, String(i)]);
    const sending = push.sendMany(batch);
    const got: string[][] = [];
    while (got.length < batch.length) got.push(...texts(await pull.receiveMany()));
    await sending;
    expect(got).toEqual(batch);
  });
});
