// Busy polling (the busyPoll option): a receive that waits for an answer from a tcp/ipc peer keeps
// the event loop turning for up to busyPoll µs and backs off when that finds nothing; one-way
// receives and inproc-only sockets never poll.
// Whether the loop is polling is read from Node's event-loop utilisation: a loop that never sleeps
// in the kernel is ~100% utilised, one that waits on a socket is ~0%.

import { performance } from 'node:perf_hooks';
import { describe, expect, it, vi } from 'vitest';
import { BusyPoll } from '../../src/socket/busy-poll.js';
import { Context } from '../../src/socket/context.js';
import { Pair } from '../../src/socket/pair.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import { Reply, Request } from '../../src/socket/request-reply.js';
import { delay, text, track } from './helpers.js';

/** The share of the next `ms` milliseconds the event loop spent not sleeping. */
async function utilisation(ms: number): Promise<number> {
  const start = performance.eventLoopUtilization();
  await delay(ms);
  return performance.eventLoopUtilization(start).utilization;
}

/** Waits (without polling of its own) until `cond` holds, for at most 2 s. */
async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 2000;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in 2 s');
    await delay(1);
  }
}

/** PAIR `a` (with `options`) bound on tcp, and PAIR `b` connected to it. */
async function tcpPairs(options: { busyPoll: number; receiveTimeout?: number }): Promise<{ a: Pair; b: Pair }> {
  const context = new Context();
  const a = track(new Pair({ context, ...options }));
  await a.bind('tcp://127.0.0.1:*');
  const b = track(new Pair({ context }));
  b.connect(a.lastEndpoint!);
  return { a, b };
}

describe('BusyPoll: window and back-off', () => {
  it('polls until the wait it polls for is answered, and counts that as a hit', async () => {
    const poll = new BusyPoll();
    const wait = {};
    poll.start(wait, 1_000_000);
    expect(poll.active).toBe(true);
    await delay(5);
    expect(poll.active).toBe(true);
    poll.ended({}, true); // another wait: not the one polled for
    expect(poll.active).toBe(true);
    poll.ended(wait, true);
    expect(poll.active).toBe(false);
    expect([poll.hits, poll.misses]).toEqual([1, 0]);
  });

  it('stops when the window runs out, then lets 1, 3, 7, … waits pass without polling', async () => {
    const poll = new BusyPoll();
    const polled: boolean[] = [];
    for (let i = 0; i < 12; i++) {
      const wait = {};
      poll.start(wait, 500);
      polled.push(poll.active);
      await until(() => !poll.active);
      poll.ended(wait, true); // answered after its window: too late to count
    }
    // Polls at waits 0, 2, 6 (after 1 and then 3 skipped); the next would be wait 14.
    expect(polled.map((p, i) => (p ? i : -1)).filter((i) => i >= 0)).toEqual([0, 2, 6]);
    expect([poll.hits, poll.misses]).toEqual([0, 3]);
  });

  it('a hit ends the back-off; a wait that ends by timeout or failure counts as neither', async () => {
    const poll = new BusyPoll();
    poll.start({}, 500);
    await until(() => !poll.active); // miss: the next wait is skipped
    poll.start({}, 500);
    expect(poll.active).toBe(false);
    const answered = {};
    poll.start(answered, 1_000_000);
    expect(poll.active).toBe(true);
    poll.ended(answered, true); // hit: back-off over
    const timedOut = {};
    poll.start(timedOut, 1_000_000);
    expect(poll.active).toBe(true);
    poll.ended(timedOut, false);
    expect(poll.active).toBe(false);
    poll.start({}, 500);
    expect(poll.active).toBe(true);
    poll.stop();
    expect(poll.active).toBe(false);
    expect([poll.hits, poll.misses]).toEqual([1, 1]);
  });

  it('a test that fakes timers and the clock neither stalls nor stretches a poll', async () => {
    const realTimeout = setTimeout;
    vi.useFakeTimers({ toFake: ['setTimeout', 'setImmediate', 'performance', 'Date'] });
    try {
      const poll = new BusyPoll();
      poll.start({}, 2000);
      expect(poll.active).toBe(true);
      await new Promise((resolve) => realTimeout(resolve, 50));
      expect([poll.active, poll.misses]).toEqual([false, 1]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('busyPoll on sockets', () => {
  it('is 50 µs by default, settable, and a bad value is EINVAL naming it, keeping the old one', () => {
    const pull = track(new Pull({ context: new Context(), busyPoll: 200 }));
    expect(track(new Pull({ context: new Context() })).busyPoll).toBe(50);
    expect(pull.busyPoll).toBe(200);
    for (const bad of [-1, 1.5, 1_000_001, '50', null]) {
      expect(() => { pull.busyPoll = bad as never; }).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('option busyPoll (ZMQ_BUSY_POLL)') }));
    }
    expect(pull.busyPoll).toBe(200);
    expect(() => new Pull({ context: new Context(), busyPoll: -5 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('a receive waiting for an answer from a tcp peer keeps the loop busy until the answer comes', async () => {
    const { a, b } = await tcpPairs({ busyPoll: 1_000_000 });
    await b.send('warm');
    expect(text(await a.receive())).toEqual(['warm']);

    await a.send('question');
    const answer = a.receive();
    expect(await utilisation(60)).toBeGreaterThan(0.8);
    expect(a.busyPolling.active).toBe(true);
    expect(text(await b.receive())).toEqual(['question']);
    await b.send('answer');
    expect(text(await answer)).toEqual(['answer']);
    expect([a.busyPolling.active, a.busyPolling.hits, a.busyPolling.misses]).toEqual([false, 1, 0]);
    expect(await utilisation(40)).toBeLessThan(0.5);
  });

  it('after an answer, a second receive with no send() between does not poll', async () => {
    const { a, b } = await tcpPairs({ busyPoll: 1_000_000 });
    await a.send('question');
    const answer = a.receive();
    expect(text(await b.receive())).toEqual(['question']);
    await b.send('answer');
    expect(text(await answer)).toEqual(['answer']);
    const more = a.receive();
    await new Promise((r) => setImmediate(r));
    expect(a.busyPolling.active).toBe(false);
    expect(await utilisation(40)).toBeLessThan(0.5);
    await b.send('later');
    expect(text(await more)).toEqual(['later']);
    expect([a.busyPolling.hits, a.busyPolling.misses]).toEqual([1, 0]);
  });

  it('a receive that times out while polling counts neither as a hit nor a miss; busyPoll = 0 stops a poll', async () => {
    const { a, b } = await tcpPairs({ busyPoll: 1_000_000, receiveTimeout: 20 });
    await a.send('unanswered');
    await expect(a.receive()).rejects.toMatchObject({ code: 'EAGAIN' });
    expect([a.busyPolling.active, a.busyPolling.hits, a.busyPolling.misses]).toEqual([false, 0, 0]);
    a.receiveTimeout = -1;
    await a.send('again');
    const pending = a.receive();
    expect(a.busyPolling.active).toBe(true);
    a.busyPoll = 0;
    expect(a.busyPolling.active).toBe(false);
    await b.receive();
    await b.receive();
    await b.send('late');
    expect(text(await pending)).toEqual(['late']);
  });

  it('a receive with no send() before it does not poll: a one-way stream, or busyPoll 0, or inproc only, lets the loop sleep', async () => {
    const context = new Context();
    const pull = track(new Pull({ context, busyPoll: 150_000 }));
    await pull.bind('tcp://127.0.0.1:*');
    const push = track(new Push({ context }));
    push.connect(pull.lastEndpoint!);
    await push.send('first');
    expect(text(await pull.receive())).toEqual(['first']);
    const quiet = track(new Pair({ context, busyPoll: 0 }));
    await quiet.bind('tcp://127.0.0.1:*');
    track(new Pair({ context })).connect(quiet.lastEndpoint!);
    const inproc = track(new Pair({ context, busyPoll: 150_000 }));
    await inproc.bind('inproc://busy-poll-inproc-only');
    const peer = track(new Pair({ context }));
    peer.connect('inproc://busy-poll-inproc-only');
    await quiet.send('unanswered');
    await inproc.send('unanswered');
    const waits = [pull.receive(), quiet.receive(), inproc.receive()];
    expect(await utilisation(60)).toBeLessThan(0.5);
    expect([pull, quiet, inproc].map((s) => s.busyPolling.active)).toEqual([false, false, false]);
    await push.send('second');
    expect(text(await waits[0]!)).toEqual(['second']);
    expect(pull.busyPolling.hits + pull.busyPolling.misses).toBe(0);
    quiet.close();
    inproc.close();
    await Promise.allSettled(waits);
  });

  it('REQ/REP over tcp in one process: replies arrive while polling (hits), and close stops a poll', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    await rep.bind('tcp://127.0.0.1:*');
    const req = track(new Request({ context, busyPoll: 1_000_000 }));
    req.connect(rep.lastEndpoint!);
    void (async () => {
      for await (const [m] of rep) await rep.send(m!);
    })().catch(() => {});
    for (let i = 0; i < 20; i++) {
      await req.send(String(i));
      expect(text(await req.receive())).toEqual([String(i)]);
    }
    expect(req.busyPolling.hits).toBeGreaterThanOrEqual(19);
    expect(req.busyPolling.misses).toBe(0);

    await req.send('unanswered');
    rep.close();
    const pending = req.receive();
    expect(req.busyPolling.active).toBe(true);
    req.close();
    expect(req.busyPolling.active).toBe(false);
    await expect(pending).rejects.toMatchObject({ code: 'EBADF' });
    expect(await utilisation(40)).toBeLessThan(0.5);
  });
});
