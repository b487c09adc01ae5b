import { describe, expect, it } from 'vitest';
import { closeAfterEach, code, settled, text, tick } from '../helpers/sockets.js';
import { Context } from '../../src/socket/context.js';
import { Dealer, Router, routingKey } from '../../src/socket/dealer-router.js';
import { Request } from '../../src/socket/request-reply.js';
import type { SocketEvent } from '../../src/socket/events.js';

const track = closeAfterEach();

describe('Dealer over inproc', () => {
  it('dealer↔dealer: both directions, multipart intact', async () => {
    const context = new Context();
    const a = track(new Dealer({ context }));
    const b = track(new Dealer({ context }));
    await a.bind('inproc://dd');
    b.connect('inproc://dd');
    await b.send(['x', '', 'y']);
    expect(text(await a.receive())).toEqual(['x', '', 'y']);
    await a.send('back');
    expect(text(await b.receive())).toEqual(['back']);
  });

  it('dealer: round-robins out over its peers', async () => {
    const context = new Context();
    const dealer = track(new Dealer({ context }));
    await dealer.bind('inproc://rr');
    const peers = [0, 1, 2].map(() => track(new Dealer({ context })));
    for (const p of peers) p.connect('inproc://rr');
    for (let i = 0; i < 6; i++) await dealer.send(String(i));
    const got = await Promise.all(peers.map(async (p) => [text(await p.receive())[0], text(await p.receive())[0]]));
    expect(got.flat().sort()).toEqual(['0', '1', '2', '3', '4', '5']);
    for (const pair of got) expect(Number(pair[1]) - Number(pair[0])).toBe(3);
  });

  it('dealer: fair-queues in from its peers', async () => {
    const context = new Context();
    const dealer = track(new Dealer({ context }));
    await dealer.bind('inproc://fq');
    const a = track(new Dealer({ context }));
    const b = track(new Dealer({ context }));
    a.connect('inproc://fq');
    b.connect('inproc://fq');
    for (let i = 0; i < 3; i++) {
      await a.send(`a${i}`);
      await b.send(`b${i}`);
    }
    const got: string[] = [];
    for (let i = 0; i < 6; i++) got.push(text(await dealer.receive())[0]!);
    // Alternates between the two peers while both have messages.
    for (let i = 0; i < 6; i += 2) expect([got[i]![0], got[i + 1]![0]].sort()).toEqual(['a', 'b']);
  });

  it('dealer: with no peer a send waits; sendTimeout turns the wait into EAGAIN', async () => {
    const context = new Context();
    const dealer = track(new Dealer({ context, sendTimeout: 20 }));
    expect(dealer.getSnapshot().matches({ open: 'noPeers' })).toBe(true);
    expect(await code(dealer.send('x'))).toBe('EAGAIN');
  });

  it('dealer: waits while every peer is mute, and sends once one drains', async () => {
    const context = new Context();
    const dealer = track(new Dealer({ context, sendHighWaterMark: 1 }));
    const peer = track(new Dealer({ context, receiveHighWaterMark: 1 }));
    await peer.bind('inproc://mute');
    dealer.connect('inproc://mute');
    await dealer.send('1');
    await dealer.send('2');
    expect(dealer.getSnapshot().matches({ open: 'mute' })).toBe(true);
    expect(dealer.getSnapshot().context.peers.list()[0]!.ready).toBe(false);
    const third = dealer.send('3');
    expect(await settled(third)).toBe('waiting');
    expect(text(await peer.receive())).toEqual(['1']);
    expect(text(await peer.receive())).toEqual(['2']);
    await third;
    expect(text(await peer.receive())).toEqual(['3']);
    expect(dealer.getSnapshot().matches({ open: 'ready' })).toBe(true);
  });

  it('dealer: concurrent sends made before any peer exists are delivered in call order', async () => {
    const context = new Context();
    const dealer = track(new Dealer({ context }));
    const sends = Array.from({ length: 20 }, (_, i) => dealer.send(String(i)));
    expect(await settled(sends[0]!)).toBe('waiting');
    const router = track(new Router({ context }));
    await router.bind('inproc://later');
    dealer.connect('inproc://later');
    await Promise.all(sends);
    for (let i = 0; i < 20; i++) expect(text(await router.receive())[1]).toBe(String(i));
  });
});

describe('Router over inproc', () => {
  it('dealer→router: a generated routing id (5 bytes, first byte 0) is prepended and routes the answer', async () => {
    const context = new Context();
    const router = track(new Router({ context }));
    const dealer = track(new Dealer({ context }));
    await router.bind('inproc://gen');
    dealer.connect('inproc://gen');
    await dealer.send(['hello', 'world']);
    const [id, ...body] = await router.receive();
    expect(id!.length).toBe(5);
    expect(id![0]).toBe(0);
    expect(text(body as Buffer[])).toEqual(['hello', 'world']);
    await router.send([id!, 'hi', 'there']);
    expect(text(await dealer.receive())).toEqual(['hi', 'there']);
  });

  it('router: generated ids count up by one per peer (libzmq: 00 + uint32 BE counter)', async () => {
    const context = new Context();
    const router = track(new Router({ context }));
    await router.bind('inproc://count');
    const ids: Buffer[] = [];
    for (let i = 0; i < 3; i++) {
      const d = track(new Dealer({ context }));
      d.connect('inproc://count');
      await d.send('x');
      ids.push((await router.receive())[0]!);
    }
    const n = ids.map((id) => id.readUInt32BE(1));
    expect(n[1]).toBe((n[0]! + 1) >>> 0);
    expect(n[2]).toBe((n[0]! + 2) >>> 0);
  });

  it("router: a peer's routingId option becomes its routing id", async () => {
    const context = new Context();
    const router = track(new Router({ context }));
    const dealer = track(new Dealer({ context, routingId: 'worker-7' }));
    await router.bind('inproc://named');
    dealer.connect('inproc://named');
    await dealer.send('ready');
    expect(text(await router.receive())).toEqual(['worker-7', 'ready']);
    await router.send(['worker-7', 'job']);
    expect(text(await dealer.receive())).toEqual(['job']);
    expect(router.getSnapshot().context.routes.toJSON()[Buffer.from('worker-7').toString('hex')]).toBeDefined();
  });

  it('router↔router: each addresses the other by its routingId', async () => {
    const context = new Context();
    const a = track(new Router({ context, routingId: 'A' }));
    const b = track(new Router({ context, routingId: 'B' }));
    await b.bind('inproc://rr');
    a.connect('inproc://rr');
    await tick();
    await a.send(['B', 'from a']);
    expect(text(await b.receive())).toEqual(['A', 'from a']);
    await b.send(['A', 'from b']);
    expect(text(await a.receive())).toEqual(['B', 'from b']);
  });

  it('router↔router, connect before bind: the connector learns the binder id when the bind arrives', async () => {
    const context = new Context();
    const a = track(new Router({ context, routingId: 'A', mandatory: true }));
    const b = track(new Router({ context, routingId: 'B' }));
    a.connect('inproc://early');
    await tick();
    await b.bind('inproc://early');
    await tick();
    await a.send(['B', 'hello']);
    expect(text(await b.receive())).toEqual(['A', 'hello']);
    const hexB = Buffer.from('B').toString('hex');
    expect(a.getSnapshot().context.peers.list().map((p) => p.routingId)).toEqual([hexB]);
  });

  it('router: a message for an unknown id is dropped; with mandatory it fails with EHOSTUNREACH', async () => {
    const context = new Context();
    const router = track(new Router({ context }));
    const dealer = track(new Dealer({ context, routingId: 'known' }));
    await router.bind('inproc://unknown');
    dealer.connect('inproc://unknown');
    await tick();
    await router.send(['nobody', 'lost']); // dropped silently
    expect(router.mandatory).toBe(false);
    router.mandatory = true;
    expect(router.getSnapshot().matches({ open: { mandatory: 'on' } })).toBe(true);
    expect(await code(router.send(['nobody', 'lost']))).toBe('EHOSTUNREACH');
    await router.send(['known', 'found']);
    expect(text(await dealer.receive())).toEqual(['found']);
  });

  it('router: writable is always true, but with mandatory only while some peer has room (libzmq xhas_out)', async () => {
    const context = new Context();
    const router = track(new Router({ context, sendHighWaterMark: 1 }));
    expect(router.writable).toBe(true); // no peers, no mandatory: a send would be dropped, not wait
    router.mandatory = true;
    expect(router.writable).toBe(false); // nobody to take it
    const dealer = track(new Dealer({ context, routingId: 'd', receiveHighWaterMark: 1 }));
    await router.bind('inproc://wr');
    dealer.connect('inproc://wr');
    await tick();
    expect(router.writable).toBe(true);
    await router.send(['d', '1']);
    await router.send(['d', '2']); // the pipe (1 + 1) is full
    expect(router.writable).toBe(false);
    router.mandatory = false;
    expect(router.writable).toBe(true);
    router.mandatory = true;
    await dealer.receive();
    await dealer.receive();
    expect(router.writable).toBe(true);
  });

  it('router: a lone routing id frame is dropped', async () => {
    const context = new Context();
    const router = track(new Router({ context, mandatory: true }));
    const dealer = track(new Dealer({ context, routingId: 'd' }));
    await router.bind('inproc://lone');
    dealer.connect('inproc://lone');
    await tick();
    await router.send('d');
    await router.send(['d', 'real']);
    expect(text(await dealer.receive())).toEqual(['real']);
  });

  it('router: a message for a mute peer is dropped without mandatory', async () => {
    const context = new Context();
    const router = track(new Router({ context, sendHighWaterMark: 1 }));
    const dealer = track(new Dealer({ context, routingId: 'd', receiveHighWaterMark: 1 }));
    await router.bind('inproc://drop');
    dealer.connect('inproc://drop');
    await tick();
    await router.send(['d', '1']);
    await router.send(['d', '2']);
    expect(router.getSnapshot().context.peers.list()[0]!.ready).toBe(false);
    expect(router.getSnapshot().matches({ open: { mandatory: 'off' } })).toBe(true);
    expect(await settled(router.send(['d', '3']))).toBe('done');
    expect(text(await dealer.receive())).toEqual(['1']);
    expect(text(await dealer.receive())).toEqual(['2']);
    await router.send(['d', '4']); // room again
    expect(text(await dealer.receive())).toEqual(['4']);
  });

  it('router mandatory: a send to a mute peer waits, then goes in order once it drains', async () => {
    const context = new Context();
    const router = track(new Router({ context, sendHighWaterMark: 1, mandatory: true }));
    const dealer = track(new Dealer({ context, routingId: 'd', receiveHighWaterMark: 1 }));
    await router.bind('inproc://wait');
    dealer.connect('inproc://wait');
    await tick();
    await router.send(['d', '1']);
    await router.send(['d', '2']);
    const third = router.send(['d', '3']);
    const fourth = router.send(['d', '4']);
    expect(await settled(third)).toBe('waiting');
    const got: string[] = [];
    for (let i = 0; i < 4; i++) got.push(text(await dealer.receive())[0]!);
    await Promise.all([third, fourth]);
    expect(got).toEqual(['1', '2', '3', '4']);
  });

  it('router mandatory: a send to a mute peer fails with EAGAIN after sendTimeout', async () => {
    const context = new Context();
    const router = track(new Router({ context, sendHighWaterMark: 1, mandatory: true, sendTimeout: 20 }));
    const dealer = track(new Dealer({ context, routingId: 'd', receiveHighWaterMark: 1 }));
    await router.bind('inproc://eagain');
    dealer.connect('inproc://eagain');
    await tick();
    await router.send(['d', '1']);
    await router.send(['d', '2']);
    expect(await code(router.send(['d', '3']))).toBe('EAGAIN');
    // Other peers are unaffected by one mute peer.
    const other = track(new Dealer({ context, routingId: 'e' }));
    other.connect('inproc://eagain');
    await tick();
    await router.send(['e', 'fine']);
    expect(text(await other.receive())).toEqual(['fine']);
  });

  it('router mandatory: a waiting send to a peer that leaves fails with EHOSTUNREACH', async () => {
    const context = new Context();
    const router = track(new Router({ context, sendHighWaterMark: 1, mandatory: true }));
    const dealer = new Dealer({ context, routingId: 'd', receiveHighWaterMark: 1, linger: 0 });
    await router.bind('inproc://leaves');
    dealer.connect('inproc://leaves');
    await tick();
    await router.send(['d', '1']);
    await router.send(['d', '2']);
    const waiting = router.send(['d', '3']);
    expect(await settled(waiting)).toBe('waiting');
    dealer.close(); // the detach is a machine transition: it wakes the waiting send, which re-resolves
    expect(await code(waiting)).toBe('EHOSTUNREACH');
  });

  it('router: a duplicate routing id is refused; the first holder keeps it', async () => {
    const context = new Context();
    const router = track(new Router({ context }));
    const refused: SocketEvent[] = [];
    router.events.on('peer:refused', (e) => refused.push(e));
    await router.bind('inproc://dup');
    const first = track(new Dealer({ context, routingId: 'same' }));
    first.connect('inproc://dup');
    await tick();
    const second = track(new Dealer({ context, routingId: 'same' }));
    second.connect('inproc://dup');
    await tick();
    expect(refused.length).toBe(1);
    expect(router.getSnapshot().context.peers.size).toBe(1);
    await router.send(['same', 'to the first']);
    expect(text(await first.receive())).toEqual(['to the first']);
    expect(second.getSnapshot().matches({ open: 'noPeers' })).toBe(true);
  });

  it('router handover: a newcomer with a taken id takes it over and the old holder is detached', async () => {
    const context = new Context();
    const router = track(new Router({ context, handover: true }));
    expect(router.handover).toBe(true);
    await router.bind('inproc://handover');
    const old = track(new Dealer({ context, routingId: 'same' }));
    const disconnected: SocketEvent[] = [];
    old.events.on('disconnect', (e) => disconnected.push(e));
    old.connect('inproc://handover');
    await tick();
    await old.send('from old');
    expect(text(await router.receive())).toEqual(['same', 'from old']);
    const newcomer = track(new Dealer({ context, routingId: 'same' }));
    newcomer.connect('inproc://handover');
    await tick();
    expect(router.getSnapshot().context.peers.size).toBe(1);
    expect(disconnected.length).toBe(1);
    expect(old.getSnapshot().matches({ open: 'noPeers' })).toBe(true);
    await router.send(['same', 'to the newcomer']);
    expect(text(await newcomer.receive())).toEqual(['to the newcomer']);
    await newcomer.send('from new');
    expect(text(await router.receive())).toEqual(['same', 'from new']);
  });

  it('router: receive fair-queues across peers, each message tagged with its sender', async () => {
    const context = new Context();
    const router = track(new Router({ context }));
    await router.bind('inproc://tags');
    const a = track(new Dealer({ context, routingId: 'a' }));
    const b = track(new Dealer({ context, routingId: 'b' }));
    a.connect('inproc://tags');
    b.connect('inproc://tags');
    for (let i = 0; i < 2; i++) {
      await a.send(`a${i}`);
      await b.send(`b${i}`);
    }
    const got: string[][] = [];
    for (let i = 0; i < 4; i++) got.push(text(await router.receive()));
    for (const [id, body] of got) expect(body!.startsWith(id!)).toBe(true);
    expect(got.map((m) => m[0])).toEqual(expect.arrayContaining(['a', 'b']));
  });

  it('router: a detached peer leaves the identity table', async () => {
    const context = new Context();
    const router = track(new Router({ context, mandatory: true }));
    await router.bind('inproc://leave');
    const dealer = new Dealer({ context, routingId: 'temp', linger: 0 });
    dealer.connect('inproc://leave');
    await tick();
    expect(Object.keys(router.getSnapshot().context.routes.toJSON())).toEqual([Buffer.from('temp').toString('hex')]);
    dealer.close();
    await tick();
    expect(router.getSnapshot().context.routes.toJSON()).toEqual({});
    expect(router.getSnapshot().matches({ open: { peers: 'noPeers' } })).toBe(true);
    expect(await code(router.send(['temp', 'x']))).toBe('EHOSTUNREACH');
  });

  it('routingKey: distinct ids give distinct keys', () => {
    expect(routingKey(Buffer.from([0, 1, 2]))).not.toBe(routingKey(Buffer.from([0, 1, 3])));
    expect(routingKey(Buffer.from('ab'))).toBe('ab');
    const long = Buffer.alloc(200, 0xff);
    expect(routingKey(long).length).toBe(200);
  });
});

// prober (DEALER, REQ or ROUTER, probeRouter) ──attach──▶ ROUTER: an empty message, then the rest.
describe('probeRouter: the machine decides, as a peer attaches', () => {
  const makers = {
    Dealer: (context: Context, probeRouter?: boolean) => new Dealer({ context, routingId: 'prober', probeRouter }),
    Request: (context: Context, probeRouter?: boolean) => new Request({ context, routingId: 'prober', probeRouter }),
    Router: (context: Context, probeRouter?: boolean) => new Router({ context, routingId: 'prober', probeRouter }),
  };

  for (const [name, make] of Object.entries(makers)) {
    it(`${name.toLowerCase()}: the option is machine context (constructor, setter), and the machine's option event alone turns the probe on`, async () => {
      const context = new Context();
      expect(track(make(context, true)).getSnapshot().context.probeRouter).toBe(true);
      const prober = track(make(context));
      expect(prober.getSnapshot().context.probeRouter).toBe(false);
      prober.probeRouter = true;
      expect(prober.getSnapshot().context.probeRouter).toBe(true);
      prober.probeRouter = false;
      expect(prober.getSnapshot().context.probeRouter).toBe(false);
      // Told to the machine only: the class keeps no copy that would decide otherwise.
      prober.actor.send({ type: 'option.changed', name: 'probeRouter', value: true });
      expect(prober.probeRouter).toBe(false);
      const router = track(new Router({ context, receiveTimeout: 0 }));
      await router.bind(`inproc://probe-machine-${name}`);
      prober.connect(`inproc://probe-machine-${name}`);
      const [id, probe] = await router.receive();
      expect(id!.toString()).toBe('prober');
      expect(probe!.byteLength).toBe(0);
    });
  }

  it('router: a send queued to a connect\'s routing id before the peer binds still comes after the probe', async () => {
    const context = new Context();
    const router = track(new Router({ context, probeRouter: true, mandatory: true }));
    router.connect('inproc://probe-first', { routingId: 'worker' });
    await router.send(['worker', 'job']);
    const worker = track(new Router({ context, routingId: 'worker' }));
    await worker.bind('inproc://probe-first');
    const first = await worker.receive();
    expect(first.length).toBe(2);
    expect(first[1]!.byteLength).toBe(0);
    expect(text(await worker.receive())[1]).toBe('job');
  });
});

// router ──connect({ routingId: "w1" })──▶ dealer (binds; announces "own")
describe('Router.connect routing ids live in the machine', () => {
  it('router: the snapshot shows each connect\'s id by endpoint; disconnect removes it; the class reads the machine\'s table', async () => {
    const context = new Context();
    const router = track(new Router({ context, mandatory: true }));
    router.connect('inproc://connect-ids-a', { routingId: 'w1' });
    router.connect('inproc://connect-ids-b');
    expect(JSON.parse(JSON.stringify(router.getSnapshot().context.connectIds))).toEqual({ 'inproc://connect-ids-a': Buffer.from('w1').toString('hex') });
    router.disconnect('inproc://connect-ids-a');
    expect(router.getSnapshot().context.connectIds.size).toBe(0);
    // Told to the machine alone: the connect that follows is known by that id.
    router.actor.send({ type: 'connect.named', endpoint: 'inproc://connect-ids-c', routingId: Buffer.from('w3').toString('hex') });
    const dealer = track(new Dealer({ context, routingId: 'own' }));
    await dealer.bind('inproc://connect-ids-c');
    router.connect('inproc://connect-ids-c');
    await router.send(['w3', 'hi']);
    expect(text(await dealer.receive())).toEqual(['hi']);
    await dealer.send('back');
    expect(text(await router.receive())).toEqual(['w3', 'back']);
  });
});
