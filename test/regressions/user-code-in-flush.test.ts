// User code that runs inside a socket's own send or receive. Observers of a socket's actor
// (`actor.subscribe`, a Context's `inspect`) hear the transitions a message causes at once, in the
// middle of the flush that hands waiting calls their turn: a write that fills a pipe mutes it, a
// REP's read starts its turn. Whatever they do there (abort a waiting call, call receive(), close
// the socket) must not settle the wrong call, lose a message or send one twice. Each test failed
// before the flushes checked which call was in flight (src/socket/socket.ts, #sendInFlight).

import { connect } from 'node:net';
import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { Context, Dealer, Pull, Push, Reply, Request, Stream } from '../../src/index.js';
import { loopHolds } from '../../src/transport/keep-alive.js';
import { closeAfterEach, text } from '../helpers/sockets.js';

const track = closeAfterEach();

/** How a call ended: 'resolved', or the error's code. */
function outcome(p: Promise<unknown>): Promise<string> {
  return p.then(() => 'resolved', (e: { code?: string }) => e.code ?? String(e));
}

/** Whether a state value (of a socket machine: `{ open: 'mute' }`) names `state`. */
function isIn(value: unknown, state: string): boolean {
  return JSON.stringify(value).includes(`"${state}"`);
}

/**
 * A PUSH -> PULL link whose pipe holds two messages and is full: sends made now wait. Reading one
 * frees one place (the pipe wakes its writer at one message), so exactly one waiting send is
 * written then, and it fills the pipe again: the edge the observers below act on.
 */
async function fullPushPull(address: string): Promise<{ push: Push; pull: Pull }> {
  const context = new Context();
  const push = track(new Push({ context, sendHighWaterMark: 1 }));
  const pull = track(new Pull({ context, receiveHighWaterMark: 1 }));
  await pull.bind(address);
  push.connect(address);
  await push.send('m0');
  await push.send('m1');
  return { push, pull };
}

/** Runs `act` once, the next time `push` goes mute (a write filled its pipe) after the returned arm() is called. */
function onMute(push: Push, act: () => void): () => void {
  let armed = false;
  push.actor.subscribe((s) => {
    if (armed && isIn(s.value, 'mute')) {
      armed = false;
      act();
    }
  });
  return () => {
    armed = true;
  };
}

async function receiveTexts(socket: { receive(): Promise<Buffer[]> }, n: number): Promise<string[]> {
  const got: string[] = [];
  for (let i = 0; i < n; i++) got.push(...text(await socket.receive()));
  return got;
}

describe('user code inside a flush', () => {
  //   PULL reads m0 -> PUSH's pipe has room -> flush: A is written -> the pipe is full again
  //   -> the machine goes mute -> the observer aborts A, whose message has just gone
  it('an observer that aborts the send whose message is going: that send completes, and the sends behind it go in order', async () => {
    const { push, pull } = await fullPushPull('inproc://in-flight-abort');
    const abort = new AbortController();
    const arm = onMute(push, () => abort.abort());
    const calls = [outcome(push.send('A', { signal: abort.signal })), outcome(push.send('B')), outcome(push.send('C'))];
    arm();
    expect(await receiveTexts(pull, 1)).toEqual(['m0']);
    expect(await calls[0]).toBe('resolved');
    expect(abort.signal.aborted).toBe(true);
    expect(await receiveTexts(pull, 3)).toEqual(['m1', 'A', 'B']);
    expect(await receiveTexts(pull, 1)).toEqual(['C']);
    expect(await Promise.all(calls)).toEqual(['resolved', 'resolved', 'resolved']);
  });

  it('an abort of a sendMany whose message is going stops the batch after that message, counted in `sent`', async () => {
    const { push, pull } = await fullPushPull('inproc://in-flight-batch');
    const abort = new AbortController();
    const arm = onMute(push, () => abort.abort());
    const batch = push.sendMany(['A', 'B', 'C'], { signal: abort.signal }).then(() => undefined, (e: { code: string; sent: number }) => e);
    const after = outcome(push.send('D'));
    arm();
    expect(await receiveTexts(pull, 1)).toEqual(['m0']);
    expect(await batch).toMatchObject({ code: 'ECANCELED', sent: 1 });
    expect(await receiveTexts(pull, 3)).toEqual(['m1', 'A', 'D']);
    expect(await after).toBe('resolved');
  });

  //   REQ sends -> REP's waiting receive reads it -> REP's machine: replying -> the observer aborts
  //   that receive, whose message it has just taken
  it('an observer that aborts the receive whose message it is taking: the receive gets it, and REP answers', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    const req = track(new Request({ context }));
    await rep.bind('inproc://in-flight-rep');
    req.connect('inproc://in-flight-rep');
    const abort = new AbortController();
    rep.actor.subscribe((s) => {
      if (isIn(s.value, 'replying')) abort.abort();
    });
    const request = rep.receive({ signal: abort.signal });
    await req.send('ping');
    expect(text(await request)).toEqual(['ping']);
    expect(abort.signal.aborted).toBe(true);
    await rep.send('pong');
    expect(text(await req.receive())).toEqual(['pong']);
  });

  it('the same for a receiveMany: it resolves with its batch', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    const req = track(new Request({ context }));
    await rep.bind('inproc://in-flight-many');
    req.connect('inproc://in-flight-many');
    await req.send('ping');
    const abort = new AbortController();
    let armed = true;
    req.actor.subscribe(() => {
      if (armed) {
        armed = false; // REQ's first edge from here: the reply came
        abort.abort();
      }
    });
    const replies = req.receiveMany({ signal: abort.signal });
    expect(text((await rep.receive()) as Buffer[])).toEqual(['ping']);
    await rep.send('pong');
    expect((await replies).map(text)).toEqual([['pong']]);
  });

  //   REQ binds, two sends wait for a peer; REP connects -> REQ's flush writes request-1 -> REP's
  //   waiting receive reads it -> the Context's inspector hears `request.received` and aborts the
  //   send of request-1, inside REQ's own xsend
  it("a Context inspector that aborts a REQ's send while its request is being read: the send completes, the next one fails with EFSM", async () => {
    let onRequest: (() => void) | undefined;
    const context = new Context({
      inspect: (e: InspectionEvent) => {
        if (e.type === '@xstate.event' && e.event.type === 'request.received') onRequest?.();
      },
    });
    const rep = track(new Reply({ context }));
    const req = track(new Request({ context }));
    await req.bind('inproc://in-flight-inspect');
    const abort = new AbortController();
    onRequest = () => {
      onRequest = undefined;
      abort.abort();
    };
    const got = rep.receive();
    const first = outcome(req.send('request-1', { signal: abort.signal }));
    const second = outcome(req.send('request-2'));
    rep.connect('inproc://in-flight-inspect');
    expect(text(await got)).toEqual(['request-1']);
    expect(await first).toBe('resolved');
    expect(await second).toBe('EFSM');
    expect(abort.signal.aborted).toBe(true);
  });

  //   D has two peers, each pipe full; both peers read one -> D's flush writes A to p1 -> p1's
  //   pipe is full -> mute -> the observer calls d.receive(), which must not flush D again under
  //   the flush that is writing A
  it('an observer that calls receive() inside a flush: every waiting send goes once, none is lost', async () => {
    const context = new Context();
    const d = track(new Dealer({ context, sendHighWaterMark: 1 }));
    const p1 = track(new Dealer({ context, receiveHighWaterMark: 1 }));
    const p2 = track(new Dealer({ context, receiveHighWaterMark: 1 }));
    await d.bind('inproc://in-flight-nested');
    p1.connect('inproc://in-flight-nested');
    p2.connect('inproc://in-flight-nested');
    for (const m of ['m0', 'm1', 'm2', 'm3']) await d.send(m);
    const readyPeers = (s: { context: unknown }) => [...(s.context as { peers: Iterable<{ ready: boolean }> }).peers].filter((p) => p.ready).length;
    let armed = false;
    let ready = readyPeers(d.actor.getSnapshot()); // 0: both pipes are full
    let nested: Promise<unknown> | undefined;
    d.actor.subscribe((s) => {
      const now = readyPeers(s); // one fewer: a write filled a pipe (inside D's flush)
      if (armed && now < ready) {
        armed = false;
        nested = d.receive().catch(() => undefined);
      }
      ready = now;
    });
    const calls = [outcome(d.send('A')), outcome(d.send('B')), outcome(d.send('C'))];
    armed = true;
    // Each peer reads one in the same turn: both pipes have room when D's flush runs.
    const firsts = await Promise.all([receiveTexts(p1, 1), receiveTexts(p2, 1)]);
    expect(firsts).toEqual([['m0'], ['m1']]);
    expect(nested).toBeDefined();
    const [a, b] = await Promise.all([receiveTexts(p1, 3), receiveTexts(p2, 2)]);
    expect([...a, ...b].sort()).toEqual(['A', 'B', 'C', 'm2', 'm3']);
    expect(await Promise.all(calls)).toEqual(['resolved', 'resolved', 'resolved']);
  });

  it('an observer that closes the socket while a send is going: each waiting call is settled once (the loop holds count right)', async () => {
    const context = new Context();
    // Another socket's waiting receive holds the loop throughout: a second release of the closed
    // socket's call would take that hold away.
    const other = track(new Pull({ context }));
    await other.bind('inproc://in-flight-other');
    const otherWaits = other.receive();
    const { push, pull } = await fullPushPull('inproc://in-flight-close');
    const base = loopHolds();
    const arm = onMute(push, () => push.close());
    const sent = outcome(push.send('A'));
    const behind = outcome(push.send('B'));
    expect(loopHolds()).toBe(base + 2);
    arm();
    expect(await receiveTexts(pull, 1)).toEqual(['m0']);
    // close() settled both, A while it was being written; A's message leaves as those queued before a close do
    expect(await sent).toBe('EAGAIN');
    expect(await behind).toBe('EAGAIN');
    expect(loopHolds()).toBe(base);
    expect(await receiveTexts(pull, 2)).toEqual(['m1', 'A']);
    const otherPush = track(new Push({ context }));
    otherPush.connect('inproc://in-flight-other');
    await otherPush.send('still held');
    expect(text(await otherWaits)).toEqual(['still held']);
  });

  //   STREAM, pipe to connection 1 full; waiting: d2 for 1, the empty frame that closes 1, hello for 2.
  //   The close-send goes -> connection 1 closes -> 'disconnect' reaches the listener, which aborts
  //   that send, inside its own xsend
  it('a monitor listener that aborts the STREAM send that closed its connection: that send completes, the next goes to the other peer', async () => {
    const s = track(new Stream({ sendHighWaterMark: 1 }));
    await s.bind('tcp://127.0.0.1:*');
    const port = Number((s.lastEndpoint as string).split(':').pop());
    // One at a time, so that each notification's routing id is known to be that client's.
    const connectOne = async () => {
      const socket = connect(port, '127.0.0.1');
      const [id, data] = (await s.receive()) as [Buffer, Buffer];
      expect(data.length).toBe(0); // the connection's notification
      const c = { socket, id, data: '', closed: new Promise<void>((r) => socket.on('close', () => r())) };
      socket.on('data', (b: Buffer) => (c.data += b.toString()));
      return c;
    };
    const one = await connectOne();
    const two = await connectOne();
    const abort = new AbortController();
    s.events.on('disconnect', () => abort.abort());
    const [id1, id2] = [one.id, two.id];
    const calls = [
      outcome(s.send([id1, 'd1'])),
      outcome(s.send([id1, 'd2'])),
      outcome(s.send([id1, ''], { signal: abort.signal })),
      outcome(s.send([id2, 'hello'])),
    ];
    expect(await calls[2]).toBe('resolved');
    expect(abort.signal.aborted).toBe(true);
    expect(await Promise.all(calls)).toEqual(['resolved', 'resolved', 'resolved', 'resolved']);
    await one.closed;
    expect(one.data).toBe('d1d2');
    while (two.data !== 'hello') await new Promise((r) => two.socket.once('data', r));
    two.socket.destroy();
  });

  // Inproc, REQ's write of its request wakes the REP's waiting receive inside that very send, so an
  // observer of the REP runs before REQ's machine has heard `request.sent`.
  describe('a REQ whose request is read while it writes it', () => {
    async function pair(address: string): Promise<{ req: Request; rep: Reply }> {
      const context = new Context();
      const rep = track(new Reply({ context }));
      const req = track(new Request({ context }));
      await rep.bind(address);
      req.connect(address);
      return { req, rep };
    }

    it("a reply sent at once from the REP's observer is this request's reply, not a stale one", async () => {
      const { req, rep } = await pair('inproc://in-flight-req-reply');
      rep.actor.subscribe((s) => {
        if (isIn(s.value, 'replying')) void rep.send('pong');
      });
      const request = rep.receive();
      await req.send('ping');
      expect(text(await request)).toEqual(['ping']);
      expect(text(await req.receive())).toEqual(['pong']);
      expect(req.getSnapshot().value).toBe('idle');
    });

    it.each([
      ['send()', (req: Request) => req.send('q2')],
      ['sendMany()', (req: Request) => req.sendMany(['q2'])],
    ] as const)("a second request by %s from the REP's observer is refused (EFSM), as after the first", async (how, second) => {
      const { req, rep } = await pair(`inproc://in-flight-req-twice-${how}`);
      let refused: Promise<string> | undefined;
      rep.actor.subscribe((s) => {
        if (refused === undefined && isIn(s.value, 'replying')) refused = outcome(second(req));
      });
      const request = rep.receive();
      expect(await outcome(req.send('q1'))).toBe('resolved');
      expect(await refused).toBe('EFSM');
      expect(text(await request)).toEqual(['q1']);
      await rep.send('a1');
      expect(text(await req.receive())).toEqual(['a1']);
      // REP got one request and answered it: it now waits for the next, which REQ may send
      const next = rep.receive();
      await req.send('q3');
      expect(text(await next)).toEqual(['q3']);
    });

    it('a receive whose reply is being taken keeps it, when user code there makes a send fail', async () => {
      const { req, rep } = await pair('inproc://in-flight-req-fail');
      await req.send('q1');
      expect(text(await rep.receive())).toEqual(['q1']);
      const reply = req.receive();
      let failed: Promise<string> | undefined;
      req.actor.subscribe((s) => {
        if (failed === undefined && !isIn(s.value, 'awaitingReply')) {
          // the reply is being read: a new request that waits (no peer) and is aborted fails the
          // receives waiting behind it, which must not include the one taking this reply
          req.disconnect('inproc://in-flight-req-fail');
          const abort = new AbortController();
          failed = outcome(req.send('q2', { signal: abort.signal }));
          abort.abort();
        }
      });
      await rep.send('a1');
      expect(await failed).toBe('ECANCELED');
      expect(text(await reply)).toEqual(['a1']);
    });
  });
});
