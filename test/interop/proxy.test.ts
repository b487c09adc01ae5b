// Our Proxy between real libzmq peers (the `zeromq` package), over tcp and ipc, our proxy binding or
// connecting to libzmq's bound sockets: request-reply through ROUTER/DEALER, a pub-sub forwarder
// through XSUB/XPUB with a capture socket, and pause/resume with libzmq on both sides.
//
//   zeromq.js REQ, DEALER ──▶ our ROUTER ══ Proxy ══ our DEALER ──▶ zeromq.js REP ×2
//                          ◀──                                  ◀──
//   zeromq.js XPUB ──▶ our XSUB ══ Proxy ══ our XPUB ──▶ zeromq.js SUB
//                                  └── capture: our PUSH ──▶ zeromq.js PULL

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import '../../src/transport/register-node.js';
import { Context } from '../../src/socket/context.js';
import { Dealer, Router } from '../../src/socket/dealer-router.js';
import { Proxy } from '../../src/socket/proxy.js';
import { XPublisher, XSubscriber } from '../../src/socket/pub-sub.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import type { Socket } from '../../src/socket/socket.js';

type Transport = 'tcp' | 'ipc';
/** Who binds: our proxy's sockets, or the libzmq peers (the proxy connects). */
type Binder = 'proxy' | 'libzmq';

const dir = mkdtempSync(join(tmpdir(), 'monocoque-proxy-interop-'));
let n = 0;
const endpointFor = (t: Transport) => (t === 'tcp' ? 'tcp://127.0.0.1:*' : `ipc://${join(dir, `p${n++}`)}`);

const ours: Socket[] = [];
const theirs: zmq.Socket[] = [];
const proxies: Proxy[] = [];
const mine = <T extends Socket>(s: T): T => (ours.push(s), s);
const libzmq = <T extends zmq.Socket>(s: T): T => (theirs.push(s), s);
afterEach(() => {
  // A proxy a test left running (it failed half way) ends, closing its sockets.
  for (const p of proxies.splice(0)) if (p.getSnapshot().matches('running') || p.getSnapshot().matches('paused')) p.terminate();
  for (const s of ours.splice(0)) s.close();
  for (const s of theirs.splice(0)) s.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = (m: Buffer[]) => m.map((f) => f.toString());
const tick = () => new Promise((r) => setTimeout(r, 0));
/** Waits, turn by turn, until `condition` holds (a fact that must come; no time limit of ours). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await tick();
}

/** Links one of our sockets with one of libzmq's: whoever `binder` names binds, the other connects. */
async function link(binder: Binder, t: Transport, our: Socket, their: zmq.Socket): Promise<void> {
  if (binder === 'proxy') {
    await our.bind(endpointFor(t));
    their.connect(our.lastEndpoint as string);
  } else {
    await their.bind(endpointFor(t));
    our.connect(their.lastEndpoint as string);
  }
}

function track<T extends Proxy>(p: T): T {
  proxies.push(p);
  return p;
}

const CASES: [Transport, Binder][] = [
  ['tcp', 'proxy'],
  ['tcp', 'libzmq'],
  ['ipc', 'proxy'],
  ['ipc', 'libzmq'],
];

describe.each(CASES)('our Proxy between libzmq peers over %s, %s binding', (t, binder) => {
  it('request-reply: libzmq REQ and DEALER clients → our ROUTER/DEALER → two libzmq REP workers, and back', async () => {
    const context = new Context();
    const proxy = track(new Proxy(new Router({ context }), new Dealer({ context })));
    const workers = [libzmq(new zmq.Reply()), libzmq(new zmq.Reply())];
    const req = libzmq(new zmq.Request());
    const dealer = libzmq(new zmq.Dealer({ routingId: 'libzmq-dealer' }));
    if (binder === 'proxy') {
      await link(binder, t, proxy.backEnd, workers[0] as zmq.Socket);
      (workers[1] as zmq.Reply).connect(proxy.backEnd.lastEndpoint as string);
      await link(binder, t, proxy.frontEnd, req);
      dealer.connect(proxy.frontEnd.lastEndpoint as string);
    } else {
      // The proxy connects to each libzmq socket: two workers, two clients.
      for (const s of [...workers, req, dealer]) {
        await s.bind(endpointFor(t));
        (s === req || s === dealer ? proxy.frontEnd : proxy.backEnd).connect(s.lastEndpoint as string);
      }
    }
    const done = proxy.run();
    for (const [i, w] of workers.entries()) {
      void (async () => {
        for await (const [body] of w) await w.send(`${body.toString()} (worker ${i})`);
      })();
    }

    const reqAnswers: string[] = [];
    for (let k = 0; k < 4; k++) {
      await req.send(`req ${k}`);
      reqAnswers.push(text(await req.receive())[0] as string);
    }
    expect(reqAnswers.map((a) => a.replace(/ \(worker \d\)$/, ''))).toEqual(['req 0', 'req 1', 'req 2', 'req 3']);
    // A DEALER speaks to REP with the empty delimiter REQ adds for it.
    await dealer.send(['', 'from dealer']);
    const [empty, body] = await dealer.receive();
    expect(empty.length).toBe(0);
    expect(body.toString()).toMatch(/^from dealer \(worker \d\)$/);

    const stats = proxy.statistics();
    expect(stats.frontEnd.received.messages).toBe(5);
    expect(stats.backEnd.sent.messages).toBe(5);
    await until(() => proxy.statistics().frontEnd.sent.messages === 5);
    expect(proxy.statistics().backEnd.received.messages).toBe(5);
    proxy.terminate();
    await done;
    expect(proxy.frontEnd.closed && proxy.backEnd.closed).toBe(true);
  });

  it('forwarder with capture: libzmq XPUB → our XSUB/XPUB → libzmq SUB; the capture (our PUSH) feeds a libzmq PULL', async () => {
    const context = new Context();
    const capture = mine(new Push({ context }));
    const captured = libzmq(new zmq.Pull());
    await link(binder, t, capture, captured);
    const proxy = track(new Proxy(new XSubscriber({ context }), new XPublisher({ context }), { capture }));
    const publisher = libzmq(new zmq.XPublisher());
    const subscriber = libzmq(new zmq.Subscriber());
    await link(binder, t, proxy.frontEnd, publisher);
    await link(binder, t, proxy.backEnd, subscriber);
    const done = proxy.run();

    subscriber.subscribe('news');
    // Asked for before anything is published: a libzmq SUB that binds attends to a new
    // connection (and sends it its subscriptions) only while something of it is under way.
    const arriving = subscriber.receive();
    // The subscription travels upstream through the proxy, to libzmq's XPUB.
    const [subscription] = await publisher.receive();
    expect([subscription[0], subscription.subarray(1).toString()]).toEqual([1, 'news']);
    await publisher.send(['sport', 'ignored']);
    await publisher.send(['news', 'kept']);
    expect(text(await arriving)).toEqual(['news', 'kept']);

    // The capture saw every message, either way: the subscription going up, the publication coming
    // down ('sport' never left libzmq's XPUB: nobody subscribed to it).
    const seen: string[][] = [];
    while (seen.length < 2) seen.push(text(await captured.receive()));
    expect(seen).toEqual([['\u0001news'], ['news', 'kept']]);
    expect(proxy.statistics().frontEnd.received.messages).toBe(1);
    proxy.terminate();
    await done;
  });

  it('pause and resume: libzmq PUSH → our PULL/PUSH → libzmq PULL; messages wait in the front-end while paused', async () => {
    const context = new Context();
    const proxy = track(new Proxy(new Pull({ context }), new Push({ context })));
    const producer = libzmq(new zmq.Push());
    const consumer = libzmq(new zmq.Pull());
    await link(binder, t, proxy.frontEnd, producer);
    await link(binder, t, proxy.backEnd, consumer);
    const done = proxy.run();
    await producer.send('before');
    expect(text(await consumer.receive())).toEqual(['before']);

    proxy.pause();
    await producer.send(['during', 'pause']);
    await until(() => proxy.frontEnd.readable);
    expect(proxy.statistics().frontEnd.received.messages).toBe(1);
    proxy.resume();
    expect(text(await consumer.receive())).toEqual(['during', 'pause']);
    proxy.terminate();
    await done;
  });
});
