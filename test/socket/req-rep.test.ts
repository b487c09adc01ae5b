import { describe, expect, it } from 'vitest';
import { closeAfterEach, code, settled, text, tick } from '../helpers/sockets.js';
import { Context } from '../../src/socket/context.js';
import { Dealer, Router } from '../../src/socket/dealer-router.js';
import { Reply, Request } from '../../src/socket/request-reply.js';

const track = closeAfterEach();

describe('Request and Reply over inproc', () => {
  it('req/rep: request and reply travel in lockstep, multipart intact', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    const req = track(new Request({ context }));
    await rep.bind('inproc://svc');
    req.connect('inproc://svc');
    for (let i = 0; i < 3; i++) {
      await req.send(['ping', String(i), '']);
      expect(text(await rep.receive())).toEqual(['ping', String(i), '']);
      await rep.send(['pong', String(i)]);
      expect(text(await req.receive())).toEqual(['pong', String(i)]);
    }
  });

  it('req: a second send before the reply fails with EFSM', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    const req = track(new Request({ context }));
    await rep.bind('inproc://efsm1');
    req.connect('inproc://efsm1');
    await req.send('a');
    expect(await code(req.send('b'))).toBe('EFSM');
    // The first request is unaffected.
    expect(text(await rep.receive())).toEqual(['a']);
  });

  it('req: receive before any send fails with EFSM', async () => {
    const context = new Context();
    const req = track(new Request({ context }));
    req.connect('inproc://efsm2');
    expect(await code(req.receive())).toBe('EFSM');
  });

  it('req: a receive queued behind a waiting send is accepted and gets the reply', async () => {
    const context = new Context();
    const req = track(new Request({ context }));
    const rep = track(new Reply({ context }));
    const sent = req.send('early'); // no peer yet: waits
    const reply = req.receive();
    expect(await settled(sent)).toBe('waiting');
    await rep.bind('inproc://late');
    req.connect('inproc://late');
    await sent;
    expect(text(await rep.receive())).toEqual(['early']);
    await rep.send('answer');
    expect(text(await reply)).toEqual(['answer']);
  });

  it('req: a send refused at once (bad frame, EAGAIN) does not let a receive wait, so no reply is lost', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    const req = track(new Request({ context }));
    await rep.bind('inproc://refused');
    req.connect('inproc://refused');
    // What Promise.all([send, receive]) does: the receive is made in the same turn as the failed send.
    const bad = req.send(undefined as never);
    const orphan = req.receive();
    expect(await code(bad)).toBe('EINVAL');
    expect(await code(orphan)).toBe('EFSM');
    const lonely = track(new Request({ context, sendTimeout: 0 })); // no peer: EAGAIN at once
    const again = lonely.send('x');
    const orphan2 = lonely.receive();
    expect(await code(again)).toBe('EAGAIN');
    expect(await code(orphan2)).toBe('EFSM');
    // The next real request's reply goes to the next real receive.
    await req.send('hello');
    await rep.send(await rep.receive());
    expect(text(await req.receive())).toEqual(['hello']);
  });

  it('req: a receive waiting behind a send that then times out or is aborted fails with EFSM', async () => {
    const context = new Context();
    const req = track(new Request({ context, sendTimeout: 30 }));
    const sent = req.send('nobody'); // no peer: waits, then EAGAIN
    const reply = req.receive();
    expect(await code(sent)).toBe('EAGAIN');
    expect(await code(reply)).toBe('EFSM');
    const ac = new AbortController();
    const sent2 = req.send('nobody', { signal: ac.signal });
    const reply2 = req.receive();
    ac.abort();
    expect(await code(sent2)).toBe('ECANCELED');
    expect(await code(reply2)).toBe('EFSM');
  });

  it('rep: send before receive, and receive twice without replying, fail with EFSM', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    const req = track(new Request({ context }));
    await rep.bind('inproc://efsm3');
    req.connect('inproc://efsm3');
    expect(await code(rep.send('nothing asked'))).toBe('EFSM');
    await req.send('q');
    await rep.receive();
    expect(await code(rep.receive())).toBe('EFSM');
    await rep.send('a');
    expect(text(await req.receive())).toEqual(['a']);
  });

  it('req: round-robins requests over its peers', async () => {
    const context = new Context();
    const req = track(new Request({ context }));
    const reps = [0, 1, 2].map(() => track(new Reply({ context })));
    for (const [i, r] of reps.entries()) await r.bind(`inproc://rr${i}`);
    for (let i = 0; i < 3; i++) req.connect(`inproc://rr${i}`);
    // Each Reply answers with its own index, for as long as it is open.
    for (const [i, r] of reps.entries()) {
      void (async () => {
        for await (const _ of r) await r.send(String(i));
      })();
    }
    const seen: number[] = [];
    for (let n = 0; n < 6; n++) {
      await req.send(String(n));
      seen.push(Number(text(await req.receive())[0]));
    }
    expect(seen.slice(0, 3).sort()).toEqual([0, 1, 2]);
    expect(seen.slice(3)).toEqual(seen.slice(0, 3));
  });

  it('rep: fair-queues requests from several Requests, each reply to its asker', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    await rep.bind('inproc://fq');
    const reqs = ['a', 'b', 'c'].map(() => track(new Request({ context })));
    for (const r of reqs) r.connect('inproc://fq');
    await tick();
    await Promise.all(reqs.map((r, i) => r.send(`from ${i}`)));
    for (let n = 0; n < 3; n++) {
      const [body] = text(await rep.receive());
      await rep.send(`to ${body!.slice(5)}`);
    }
    const replies = await Promise.all(reqs.map(async (r) => text(await r.receive())[0]));
    expect(replies).toEqual(['to 0', 'to 1', 'to 2']);
  });

  it('req→router: the Router sees [id, "", body] and answers through the same envelope', async () => {
    //  REQ ──["", "hi"]──▶ ROUTER receives [id, "", "hi"]; sends [id, "", "yo"] ──▶ REQ gets ["yo"]
    const context = new Context();
    const router = track(new Router({ context }));
    const req = track(new Request({ context, routingId: 'client-1' }));
    await router.bind('inproc://rt');
    req.connect('inproc://rt');
    await req.send('hi');
    const msg = await router.receive();
    expect(msg.length).toBe(3);
    expect(msg[0]!.toString()).toBe('client-1');
    expect(msg[1]!.length).toBe(0);
    expect(msg[2]!.toString()).toBe('hi');
    await router.send([msg[0]!, '', 'yo']);
    expect(text(await req.receive())).toEqual(['yo']);
  });

  it('req: a reply without the empty delimiter is discarded, the next good one is taken', async () => {
    const context = new Context();
    const router = track(new Router({ context }));
    const req = track(new Request({ context }));
    await router.bind('inproc://bad');
    req.connect('inproc://bad');
    await req.send('q');
    const [id] = await router.receive();
    await router.send([id!, 'no delimiter']);
    await router.send([id!, '']); // delimiter with no body: discarded too
    await router.send([id!, '', 'good']);
    expect(text(await req.receive())).toEqual(['good']);
  });

  it('req: replies only from the peer that was asked; a stray message from another peer is dropped', async () => {
    const context = new Context();
    const r1 = track(new Router({ context }));
    const r2 = track(new Router({ context }));
    const req = track(new Request({ context, routingId: 'me' }));
    await r1.bind('inproc://p1');
    await r2.bind('inproc://p2');
    req.connect('inproc://p1');
    req.connect('inproc://p2');
    await req.send('q');
    const asked = await Promise.race([r1.receive().then(() => r1), r2.receive().then(() => r2)]);
    const other = asked === r1 ? r2 : r1;
    await other.send(['me', '', 'impostor']);
    await tick();
    await asked.send(['me', '', 'genuine']);
    expect(text(await req.receive())).toEqual(['genuine']);
  });

  it('req: stale messages queued before a new request are discarded', async () => {
    const context = new Context();
    const router = track(new Router({ context }));
    const req = track(new Request({ context, routingId: 'r', relaxed: true }));
    await router.bind('inproc://stale');
    req.connect('inproc://stale');
    await req.send('first');
    await router.receive();
    await router.send(['r', '', 'late reply to first']);
    await tick();
    await req.send('second'); // relaxed: allowed, and the late reply is dropped
    await router.receive();
    await router.send(['r', '', 'reply to second']);
    expect(text(await req.receive())).toEqual(['reply to second']);
  });

  it('req relaxed: may send again without waiting for the reply', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    const req = track(new Request({ context, relaxed: true }));
    expect(req.relaxed).toBe(true);
    await rep.bind('inproc://relaxed');
    req.connect('inproc://relaxed');
    await req.send('one');
    await req.send('two');
    expect(text(await rep.receive())).toEqual(['one']);
    await rep.send('answer one');
    expect(text(await rep.receive())).toEqual(['two']);
    await rep.send('answer two');
    // Both replies come from the same peer; without correlate the first one that arrives is taken.
    // (With correlate, see below, only the matching one is.)
    expect(text(await req.receive())).toEqual(['answer one']);
  });

  it('req correlate: a 4-byte id precedes the delimiter and only a reply echoing it is accepted', async () => {
    const context = new Context();
    const router = track(new Router({ context }));
    const req = track(new Request({ context, routingId: 'c', relaxed: true, correlate: true }));
    expect(req.correlate).toBe(true);
    await router.bind('inproc://corr');
    req.connect('inproc://corr');
    await req.send('one');
    const first = await router.receive();
    expect(first.length).toBe(4);
    expect(first[1]!.length).toBe(4);
    expect(first[2]!.length).toBe(0);
    await req.send('two');
    const second = await router.receive();
    // libzmq increments the id per request.
    expect(second[1]!.readUInt32LE(0)).toBe((first[1]!.readUInt32LE(0) + 1) >>> 0);
    // The reply to the first request (old id) is refused; the one echoing the current id is taken.
    await router.send([first[0]!, first[1]!, '', 'answer one']);
    await router.send([second[0]!, second[1]!, '', 'answer two']);
    expect(text(await req.receive())).toEqual(['answer two']);
  });

  it('req correlate: works behind a Reply (the id is part of the envelope Reply echoes)', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    const req = track(new Request({ context, correlate: true }));
    await rep.bind('inproc://corr-rep');
    req.connect('inproc://corr-rep');
    for (let i = 0; i < 3; i++) {
      await req.send(`q${i}`);
      expect(text(await rep.receive())).toEqual([`q${i}`]);
      await rep.send(`a${i}`);
      expect(text(await req.receive())).toEqual([`a${i}`]);
    }
  });

  it('dealer→rep: Reply strips up to the delimiter and puts it back on the reply', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    const dealer = track(new Dealer({ context }));
    await rep.bind('inproc://dr');
    dealer.connect('inproc://dr');
    await dealer.send(['hop-a', 'hop-b', '', 'body', 'more']);
    expect(text(await rep.receive())).toEqual(['body', 'more']);
    await rep.send('answer');
    expect(text(await dealer.receive())).toEqual(['hop-a', 'hop-b', '', 'answer']);
  });

  it('rep: a request with no delimiter is dropped', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    const dealer = track(new Dealer({ context }));
    await rep.bind('inproc://nodelim');
    dealer.connect('inproc://nodelim');
    await dealer.send(['no', 'delimiter']);
    await dealer.send(['only-trailing', '']);
    await dealer.send(['', 'ok']);
    expect(text(await rep.receive())).toEqual(['ok']);
  });

  it('rep: restores a multi-hop envelope REQ → ROUTER → DEALER → REP', async () => {
    //  REQ ──▶ ROUTER(front) ══ app forwards ══▶ DEALER(back) ──▶ REP
    //  REP sees [id, "", body] as [body]; its reply [id, "", reply] goes back the same way.
    const context = new Context();
    const front = track(new Router({ context }));
    const back = track(new Dealer({ context }));
    const rep = track(new Reply({ context }));
    const req = track(new Request({ context }));
    await front.bind('inproc://front');
    await rep.bind('inproc://back');
    back.connect('inproc://back');
    req.connect('inproc://front');

    await req.send(['work', '7']);
    const fromReq = await front.receive();
    expect(fromReq[1]!.length).toBe(0);
    await back.send(fromReq);
    expect(text(await rep.receive())).toEqual(['work', '7']);
    await rep.send('done 7');
    const fromRep = await back.receive();
    expect(fromRep[0]!.equals(fromReq[0]!)).toBe(true);
    await front.send(fromRep);
    expect(text(await req.receive())).toEqual(['done 7']);
  });

  it('rep: a reply to a peer that has gone is dropped silently, and the next request is served', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    await rep.bind('inproc://gone');
    const req1 = track(new Request({ context }));
    req1.connect('inproc://gone');
    await req1.send('q1');
    expect(text(await rep.receive())).toEqual(['q1']);
    req1.close();
    await tick();
    expect(rep.getSnapshot().matches('peerGone')).toBe(true);
    await rep.send('nobody listens');
    const req2 = track(new Request({ context }));
    req2.connect('inproc://gone');
    await req2.send('q2');
    expect(text(await rep.receive())).toEqual(['q2']);
    await rep.send('a2');
    expect(text(await req2.receive())).toEqual(['a2']);
  });

  it('req: the machine shows the turn: idle → awaitingReply → idle', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    const req = track(new Request({ context }));
    await rep.bind('inproc://turns');
    req.connect('inproc://turns');
    expect(req.getSnapshot().matches('idle')).toBe(true);
    await req.send('q');
    expect(req.getSnapshot().matches('awaitingReply')).toBe(true);
    await rep.receive();
    expect(rep.getSnapshot().matches('replying')).toBe(true);
    await rep.send('a');
    expect(rep.getSnapshot().matches('receiving')).toBe(true);
    await req.receive();
    expect(req.getSnapshot().matches('idle')).toBe(true);
  });

  it('req/rep: every turn of every round trip is a transition of each socket\'s actor', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    const req = track(new Request({ context }));
    await rep.bind('inproc://each-turn');
    req.connect('inproc://each-turn');
    const seen: string[] = [];
    req.actor.subscribe((s) => seen.push(`req ${String(s.value)}`));
    rep.actor.subscribe((s) => seen.push(`rep ${String(s.value)}`));
    for (let i = 0; i < 3; i++) {
      await req.send(`q${i}`);
      await rep.send(await rep.receive());
      expect(text(await req.receive())).toEqual([`q${i}`]);
    }
    expect(seen).toEqual([1, 2, 3].flatMap(() => ['req awaitingReply', 'rep replying', 'rep receiving', 'req idle']));
  });

  it('rep: a request left by a peer that has gone is served with a dropped reply (peerGone)', async () => {
    const context = new Context();
    const rep = track(new Reply({ context }));
    const dealer = track(new Dealer({ context }));
    await rep.bind('inproc://left');
    dealer.connect('inproc://left');
    await dealer.send(['', 'first']);
    await dealer.send(['', 'second']);
    expect(text(await rep.receive())).toEqual(['first']);
    await rep.send('to first');
    dealer.close();
    await tick();
    expect(rep.getSnapshot().context.peers.list()).toEqual([]);
    // The second request was queued before the Dealer left: it is still read, and answered into
    // the void.
    expect(text(await rep.receive())).toEqual(['second']);
    expect(rep.getSnapshot().matches('peerGone')).toBe(true);
    await rep.send('to nobody');
    expect(rep.getSnapshot().matches('receiving')).toBe(true);
  });

  it('req: a request waits while the only peer is mute, and goes once it drains', async () => {
    const context = new Context();
    const router = track(new Router({ context, receiveHighWaterMark: 1 }));
    const req = track(new Request({ context, sendHighWaterMark: 1, relaxed: true }));
    await router.bind('inproc://mute');
    req.connect('inproc://mute');
    await req.send('1');
    await req.send('2'); // the pipe (1 + 1) is now full
    expect(req.getSnapshot().context.peers.list().map((p) => p.ready)).toEqual([false]);
    const third = req.send('3');
    expect(await settled(third)).toBe('waiting');
    expect(text(await router.receive()).slice(1)).toEqual(['', '1']);
    expect(text(await router.receive()).slice(1)).toEqual(['', '2']);
    await third;
    expect(text(await router.receive()).slice(1)).toEqual(['', '3']);
  });
});
