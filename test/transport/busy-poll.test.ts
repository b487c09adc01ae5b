// Busy polling (the busyPoll option): a receive that waits for an answer from a tcp/ipc peer keeps
// the event loop turning for up to busyPoll µs, backs off when that finds nothing, and shares one
// process-wide cap on how many sockets poll at once; one-way receives, inproc-only sockets and
// every type but REQ (unless asked) never poll.
// No assertion here rests on a wall clock: polling is observed through what the module exposes
// (whether a socket polls, its hits and misses, how many poll at once, turns the chain has taken),
// and time goes by a clock the test holds still or moves, with loop turns it runs itself where it can.

import { describe, expect, it, vi } from 'vitest';
import { BusyPoll, BusyPollGroup, busyPollers, DEFAULT_CAP } from '../../src/socket/busy-poll.js';
import type { BusyPollClock } from '../../src/socket/busy-poll.js';
import { Context } from '../../src/socket/context.js';
import { Dealer, Router } from '../../src/socket/dealer-router.js';
import { Pair } from '../../src/socket/pair.js';
import { Publisher, Subscriber, XPublisher, XSubscriber } from '../../src/socket/pub-sub.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import { Reply, Request } from '../../src/socket/request-reply.js';
import type { Socket } from '../../src/socket/socket.js';
import { text, track, turn } from './helpers.js';

/** A clock that moves only when the test sets `time` (ms), and loop turns the test runs itself. */
class ManualLoop implements BusyPollClock {
  time = 0;
  #due: (() => void)[] = [];
  readonly now = (): number => this.time;
  readonly schedule = (f: () => void): void => {
    this.#due.push(f);
  };
  /** Callbacks waiting for the next turn (the chain, when it runs, keeps exactly one here). */
  get pending(): number {
    return this.#due.length;
  }
  /** One turn of the loop: runs what was scheduled before it. */
  turn(): void {
    for (const f of this.#due.splice(0)) f();
  }
  /** Forgets what was scheduled, as a chain whose callback was lost. */
  drop(): void {
    this.#due = [];
  }
}

/** Moves `sockets` into `group` (a test's own clock, scheduler and cap); returns the group. */
function into(group: BusyPollGroup, ...sockets: Socket[]): BusyPollGroup {
  for (const s of sockets) s.busyPolling.group = group;
  return group;
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
  it('polls until the wait it polls for is answered, and counts that as a hit', () => {
    const loop = new ManualLoop();
    const group = new BusyPollGroup({ clock: loop });
    const poll = new BusyPoll(group);
    const wait = {};
    poll.start(wait, 1000); // 1 ms
    expect([poll.active, group.polling, group.ticking, loop.pending]).toEqual([true, 1, true, 1]);
    loop.time = 0.999;
    loop.turn();
    expect([poll.active, loop.pending]).toEqual([true, 1]); // inside its window: the chain goes on
    poll.ended({}, true); // another wait: not the one polled for
    expect(poll.active).toBe(true);
    poll.ended(wait, true);
    expect([poll.active, group.polling]).toEqual([false, 0]);
    loop.turn(); // the chain finds nobody polling and ends
    expect([group.ticking, loop.pending]).toEqual([false, 0]);
    expect([poll.hits, poll.misses]).toEqual([1, 0]);
  });

  it('stops when the window runs out, then lets 1, 3, 7, … waits pass without polling, up to 63', () => {
    const loop = new ManualLoop();
    const poll = new BusyPoll(new BusyPollGroup({ clock: loop }));
    const polled: number[] = [];
    for (let i = 0; i < 200; i++) {
      const wait = {};
      poll.start(wait, 500);
      if (poll.active) {
        polled.push(i);
        loop.time += 0.499;
        loop.turn();
        expect(poll.active).toBe(true); // 1 µs left
        loop.time += 0.001;
        loop.turn();
        expect(poll.active).toBe(false); // its deadline: a miss
      }
      poll.ended(wait, true); // answered after its window: too late to count
    }
    // After k misses in a row, 2^k - 1 waits pass; k stops growing at 6 (63 waits pass).
    expect(polled).toEqual([0, 2, 6, 14, 30, 62, 126, 190]);
    expect([poll.hits, poll.misses]).toEqual([0, 8]);
  });

  it('a hit ends the back-off; a wait that ends by timeout or failure counts as neither', () => {
    const loop = new ManualLoop();
    const poll = new BusyPoll(new BusyPollGroup({ clock: loop }));
    poll.start({}, 500);
    loop.time += 1;
    loop.turn(); // miss: the next wait is skipped
    poll.start({}, 500);
    expect(poll.active).toBe(false);
    const answered = {};
    poll.start(answered, 500);
    expect(poll.active).toBe(true);
    poll.ended(answered, true); // hit: back-off over
    const timedOut = {};
    poll.start(timedOut, 500);
    expect(poll.active).toBe(true);
    poll.ended(timedOut, false);
    expect(poll.active).toBe(false);
    poll.start({}, 500);
    expect(poll.active).toBe(true);
    poll.stop();
    expect(poll.active).toBe(false);
    expect([poll.hits, poll.misses]).toEqual([1, 1]);
  });

  it('one chain of loop turns serves every polling socket; a chain whose turn was lost is started again', () => {
    const loop = new ManualLoop();
    const group = new BusyPollGroup({ clock: loop, cap: 2 });
    const [p, q] = [new BusyPoll(group), new BusyPoll(group)];
    p.start({}, 1000);
    q.start({}, 2000);
    expect([group.polling, loop.pending]).toEqual([2, 1]);
    loop.time = 1;
    loop.turn(); // p's window is over, q's is not
    expect([p.active, q.active, p.misses, loop.pending, group.ticks]).toEqual([false, true, 1, 1, 1]);
    loop.time = 2;
    loop.turn();
    expect([q.active, group.polling, group.ticking, loop.pending]).toEqual([false, 0, false, 0]);

    // A lost turn (a test that swapped setImmediate out under us): the group believes it still ticks.
    const r = new BusyPoll(group);
    r.start({}, 1_000_000);
    loop.drop();
    const s = new BusyPoll(group);
    loop.time += 50; // less than 100 ms without a turn: still believed to run
    s.start({}, 1000);
    expect(loop.pending).toBe(0);
    s.stop();
    loop.time += 51; // more than 100 ms: the chain was lost, and the next start begins a new one
    s.start({}, 1000);
    expect(loop.pending).toBe(1);
  });

  it('without setImmediate (a browser) nothing polls', () => {
    const group = new BusyPollGroup({ clock: { now: () => 0, schedule: undefined } });
    const poll = new BusyPoll(group);
    poll.start({}, 1000);
    expect([poll.active, group.polling, group.ticking]).toEqual([false, 0, false]);
  });

  it('a test that fakes timers and the clock neither stalls nor stretches a poll', async () => {
    // The process's group took setImmediate and performance.now when the module loaded.
    const realImmediate = setImmediate;
    const realNow = performance.now.bind(performance);
    const realTurn = (): Promise<void> => new Promise((r) => realImmediate(r));
    vi.useFakeTimers({ toFake: ['setTimeout', 'setImmediate', 'performance', 'Date'] });
    try {
      const poll = new BusyPoll();
      const ticks = busyPollers.ticks;
      const end = realNow() + 2;
      poll.start({}, 2000);
      expect(poll.active).toBe(true);
      // Real turns until the real clock is past the 2 ms window; the chain's turn queued before our
      // next one then sees it over. With the faked setImmediate the chain would never turn; with
      // the faked clock the window would never end.
      while (realNow() < end) await realTurn();
      await realTurn();
      await realTurn();
      expect([poll.active, poll.misses]).toEqual([false, 1]);
      expect(busyPollers.ticks).toBeGreaterThan(ticks);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('BusyPoll: the process-wide cap', () => {
  it(`the process lets ${DEFAULT_CAP} socket poll at a time`, () => {
    expect(DEFAULT_CAP).toBe(1);
    expect(busyPollers.cap).toBe(DEFAULT_CAP);
  });

  it('a wait that finds the cap reached does not poll, not even once a place frees, and its back-off is untouched', () => {
    const loop = new ManualLoop();
    const group = new BusyPollGroup({ clock: loop, cap: 2 });
    const polls = [new BusyPoll(group), new BusyPoll(group), new BusyPoll(group)];
    const waits = polls.map(() => ({}));
    polls.forEach((p, i) => p.start(waits[i]!, 1000));
    expect(polls.map((p) => p.active)).toEqual([true, true, false]);
    expect([group.polling, group.capped]).toEqual([2, 1]);
    polls[0]!.ended(waits[0]!, true);
    expect([group.polling, polls[2]!.active]).toEqual([1, false]);
    polls[2]!.ended(waits[2]!, true); // answered, but it was not polling: no hit
    polls[1]!.ended(waits[1]!, true);
    expect(polls.map((p) => [p.hits, p.misses])).toEqual([[1, 0], [1, 0], [0, 0]]);
    const next = {};
    polls[2]!.start(next, 1000); // the capped socket's next wait polls: nothing to back off from
    expect([polls[2]!.active, group.polling]).toEqual([true, 1]);
    polls[2]!.stop();
    expect(group.polling).toBe(0);
  });

  it('a poll that ends by its window, by stop() or by a failed wait frees its place', () => {
    const loop = new ManualLoop();
    const group = new BusyPollGroup({ clock: loop, cap: 1 });
    const [p, q] = [new BusyPoll(group), new BusyPoll(group)];
    const wait = {};
    p.start({}, 1000);
    loop.time += 1;
    loop.turn(); // window over
    q.start(wait, 1000);
    expect(q.active).toBe(true);
    q.ended(wait, false); // a timeout
    p.start({}, 1000); // p backs off once after its miss
    expect([p.active, group.polling]).toEqual([false, 0]);
    p.start({}, 1000);
    expect(p.active).toBe(true);
    p.stop();
    q.start({}, 1000);
    expect([q.active, group.polling, group.capped]).toEqual([true, 1, 0]);
  });
});

describe('busyPoll on sockets', () => {
  it('only a REQ polls by default (50 µs); every other type starts at 0; a bad value is EINVAL naming it, keeping the old one', () => {
    const context = new Context();
    expect(track(new Request({ context })).busyPoll).toBe(50);
    for (const S of [Reply, Router, Dealer, Pair, Pull, Push, Publisher, Subscriber, XPublisher, XSubscriber]) {
      expect(track(new S({ context })).busyPoll, S.name).toBe(0);
    }
    expect(track(new Router({ context, busyPoll: 80 })).busyPoll).toBe(80);
    const pull = track(new Pull({ context, busyPoll: 200 }));
    expect(pull.busyPoll).toBe(200);
    for (const bad of [-1, 1.5, 1_000_001, '50', null]) {
      expect(() => { pull.busyPoll = bad as never; }).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('option busyPoll (ZMQ_BUSY_POLL)') }));
    }
    expect(pull.busyPoll).toBe(200);
    expect(() => new Pull({ context, busyPoll: -5 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('defaults over tcp: a REQ polls after its request; a REP waiting for the next request does not', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    await rep.bind('tcp://127.0.0.1:*');
    const req = track(new Request({ context }));
    req.connect(rep.lastEndpoint!);
    const loop = new ManualLoop(); // time stands still: a window ends only with its wait
    const group = into(new BusyPollGroup({ clock: loop }), req, rep);

    await req.send('question');
    const answer = req.receive();
    expect([req.busyPolling.active, group.polling]).toEqual([true, 1]);
    expect(text(await rep.receive())).toEqual(['question']);
    await rep.send('answer');
    const nextRequest = rep.receive(); // a wait after a send, as REQ's: still, a REP does not poll
    expect(rep.busyPolling.active).toBe(false);
    expect(text(await answer)).toEqual(['answer']);
    expect([req.busyPolling.hits, req.busyPolling.misses, group.polling]).toEqual([1, 0, 0]);

    await req.send('again');
    expect(text(await nextRequest)).toEqual(['again']);
    expect([rep.busyPolling.hits, rep.busyPolling.misses, group.capped]).toEqual([0, 0, 0]); // never even asked
  });

  it('defaults over tcp: a ROUTER does not poll after it answers; with busyPoll set it does', async () => {
    const context = new Context();
    const router = track(new Router({ context }));
    await router.bind('tcp://127.0.0.1:*');
    const dealer = track(new Dealer({ context, routingId: 'd' }));
    dealer.connect(router.lastEndpoint!);
    const loop = new ManualLoop();
    const group = into(new BusyPollGroup({ clock: loop }), router, dealer);

    await dealer.send('job 1');
    expect(text(await router.receive())).toEqual(['d', 'job 1']);
    await router.send(['d', 'done 1']);
    const second = router.receive();
    expect([router.busyPolling.active, group.polling]).toEqual([false, 0]);
    expect(text(await dealer.receive())).toEqual(['done 1']);

    router.busyPoll = 100;
    await dealer.send('job 2');
    expect(text(await second)).toEqual(['d', 'job 2']);
    await router.send(['d', 'done 2']);
    const third = router.receive();
    expect([router.busyPolling.active, group.polling]).toEqual([true, 1]);
    expect(text(await dealer.receive())).toEqual(['done 2']);
    await dealer.send('job 3');
    expect(text(await third)).toEqual(['d', 'job 3']);
    expect([router.busyPolling.hits, router.busyPolling.misses, group.polling]).toEqual([1, 0, 0]);
  });

  it('a receive waiting for an answer keeps the real loop turning until the answer comes, then lets it sleep', async () => {
    const { a, b } = await tcpPairs({ busyPoll: 50 });
    // Real setImmediate, but a clock held still: the window cannot run out before the answer.
    const group = into(new BusyPollGroup({ clock: { now: () => 0, schedule: setImmediate } }), a);
    await b.send('warm');
    expect(text(await a.receive())).toEqual(['warm']);

    await a.send('question');
    const answer = a.receive();
    expect([a.busyPolling.active, group.polling, group.ticking]).toEqual([true, 1, true]);
    const before = group.ticks;
    for (let i = 0; i < 10; i++) await turn();
    // Each of our turns was queued after the chain's: the chain took every one of them.
    expect(group.ticks - before).toBeGreaterThanOrEqual(10);
    expect(text(await b.receive())).toEqual(['question']);
    await b.send('answer');
    expect(text(await answer)).toEqual(['answer']);
    expect([a.busyPolling.active, a.busyPolling.hits, a.busyPolling.misses, group.polling]).toEqual([false, 1, 0, 0]);
    await turn();
    await turn();
    const after = group.ticks;
    expect(group.ticking).toBe(false);
    for (let i = 0; i < 10; i++) await turn();
    expect(group.ticks).toBe(after); // the chain is over: the loop may sleep
  });

  it('after an answer, a second receive with no send() between does not poll', async () => {
    const { a, b } = await tcpPairs({ busyPoll: 1000 });
    const loop = new ManualLoop();
    const group = into(new BusyPollGroup({ clock: loop }), a);
    await a.send('question');
    const answer = a.receive();
    expect(text(await b.receive())).toEqual(['question']);
    await b.send('answer');
    expect(text(await answer)).toEqual(['answer']);
    loop.turn(); // the chain ends
    const more = a.receive();
    expect([a.busyPolling.active, group.polling, group.ticking, loop.pending]).toEqual([false, 0, false, 0]);
    await b.send('later');
    expect(text(await more)).toEqual(['later']);
    expect([a.busyPolling.hits, a.busyPolling.misses, group.capped]).toEqual([1, 0, 0]);
  });

  it('a receive that times out while polling counts neither as a hit nor a miss; busyPoll = 0 stops a poll', async () => {
    const { a, b } = await tcpPairs({ busyPoll: 1000, receiveTimeout: 20 });
    const group = into(new BusyPollGroup({ clock: new ManualLoop() }), a);
    await a.send('unanswered');
    const timedOut = a.receive();
    expect(a.busyPolling.active).toBe(true);
    await expect(timedOut).rejects.toMatchObject({ code: 'EAGAIN' });
    expect([a.busyPolling.active, a.busyPolling.hits, a.busyPolling.misses, group.polling]).toEqual([false, 0, 0, 0]);
    a.receiveTimeout = -1;
    await a.send('again');
    const pending = a.receive();
    expect(a.busyPolling.active).toBe(true);
    a.busyPoll = 0;
    expect([a.busyPolling.active, group.polling]).toEqual([false, 0]);
    await b.receive();
    await b.receive();
    await b.send('late');
    expect(text(await pending)).toEqual(['late']);
    expect([a.busyPolling.hits, a.busyPolling.misses]).toEqual([0, 0]);
  });

  it('a receive with no send() before it does not poll: a one-way stream, or busyPoll 0, or inproc only', async () => {
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
    const loop = new ManualLoop();
    const group = into(new BusyPollGroup({ clock: loop, cap: 3 }), pull, quiet, inproc);
    await quiet.send('unanswered');
    await inproc.send('unanswered');
    const waits = [pull.receive(), quiet.receive(), inproc.receive()];
    expect([pull, quiet, inproc].map((s) => s.busyPolling.active)).toEqual([false, false, false]);
    expect([group.polling, group.capped, loop.pending]).toEqual([0, 0, 0]); // none even asked
    await push.send('second');
    expect(text(await waits[0]!)).toEqual(['second']);
    expect(pull.busyPolling.hits + pull.busyPolling.misses).toBe(0);
    quiet.close();
    inproc.close();
    await Promise.allSettled(waits);
  });

  it('REQ/REP over tcp in one process: every reply arrives while polling (hits), and close stops a poll', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    await rep.bind('tcp://127.0.0.1:*');
    const req = track(new Request({ context }));
    req.connect(rep.lastEndpoint!);
    const group = into(new BusyPollGroup({ clock: new ManualLoop() }), req, rep);
    void (async () => {
      for await (const [m] of rep) await rep.send(m!);
    })().catch(() => {});
    for (let i = 0; i < 20; i++) {
      await req.send(String(i));
      expect(text(await req.receive())).toEqual([String(i)]);
    }
    // A reply needs a turn of the loop (it comes over tcp): every receive waited, polled, was answered.
    expect([req.busyPolling.hits, req.busyPolling.misses]).toEqual([20, 0]);
    expect(rep.busyPolling.hits + rep.busyPolling.misses).toBe(0);

    await req.send('unanswered');
    rep.close();
    const pending = req.receive();
    expect([req.busyPolling.active, group.polling]).toEqual([true, 1]);
    req.close();
    expect([req.busyPolling.active, group.polling]).toEqual([false, 0]);
    await expect(pending).rejects.toMatchObject({ code: 'EAGAIN' });
  });

  it('the cap over tcp: of three REQs waiting at once, two poll (cap 2); the third waits without polling', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    await rep.bind('tcp://127.0.0.1:*');
    const reqs = [0, 1, 2].map(() => {
      const r = track(new Request({ context }));
      r.connect(rep.lastEndpoint!);
      return r;
    });
    const group = into(new BusyPollGroup({ clock: new ManualLoop(), cap: 2 }), ...reqs);
    for (const [i, r] of reqs.entries()) await r.send(`q${i}`);
    const answers = reqs.map((r) => r.receive());
    expect(reqs.map((r) => r.busyPolling.active)).toEqual([true, true, false]);
    expect([group.polling, group.capped]).toEqual([2, 1]);
    for (let i = 0; i < 3; i++) {
      const [m] = await rep.receive();
      await rep.send(m!);
      expect(reqs[2]!.busyPolling.active).toBe(false); // a place freed does not start its poll
    }
    expect((await Promise.all(answers)).map(text)).toEqual([['q0'], ['q1'], ['q2']]);
    expect(reqs.map((r) => [r.busyPolling.hits, r.busyPolling.misses])).toEqual([[1, 0], [1, 0], [0, 0]]);
    await reqs[2]!.send('q3');
    const last = reqs[2]!.receive();
    expect([reqs[2]!.busyPolling.active, group.polling]).toEqual([true, 1]);
    const [m] = await rep.receive();
    await rep.send(m!);
    expect(text(await last)).toEqual(['q3']);
  });

  it('in the process group, two REQs waiting at once: one polls, the other is capped', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    await rep.bind('tcp://127.0.0.1:*');
    const [a, b] = [track(new Request({ context })), track(new Request({ context }))];
    a.connect(rep.lastEndpoint!);
    b.connect(rep.lastEndpoint!);
    await a.send('from a');
    await b.send('from b');
    const capped = busyPollers.capped;
    // Both waits start in one synchronous step: a window can only end on a turn of the loop.
    const waits = [a.receive(), b.receive()];
    expect([a.busyPolling.active, b.busyPolling.active, busyPollers.polling, busyPollers.capped - capped]).toEqual([true, false, 1, 1]);
    for (let i = 0; i < 2; i++) {
      const [m] = await rep.receive();
      await rep.send(m!);
    }
    expect((await Promise.all(waits)).map(text)).toEqual([['from a'], ['from b']]);
    expect(busyPollers.polling).toBe(0);
  });
});
