// A HWM changed on a connected socket reaches its existing pipes, as in libzmq >= 4.2 (zeromq.js's
// send/receive tests raise both HWMs after connecting and then send 2,500 messages). Over inproc a
// pipe holds the sender's SNDHWM plus the receiver's RCVHWM; over tcp and ipc each side's own.
//
//   a (connects) ──[ a.SNDHWM + b.RCVHWM ]──▶ b (binds)

import { describe, expect, it } from 'vitest';
import { Context, Pair, Pull, Push } from '../../src/index.js';
import type { Socket } from '../../src/index.js';
import type { Peer } from '../../src/transport/host.js';
import { closeAfterEach } from '../helpers/sockets.js';

const track = closeAfterEach();

/** Sends until the socket would wait (it is not writable): how many messages were queued. */
async function fill(s: Pair | Push): Promise<number> {
  let n = 0;
  while (s.writable) {
    await s.send('x');
    n++;
  }
  return n;
}

async function inprocPair(name: string): Promise<[Pair, Pair]> {
  const context = new Context();
  const a = track(new Pair({ context, linger: 0 }));
  const b = track(new Pair({ context, linger: 0 }));
  await b.bind(`inproc://${name}`);
  a.connect(`inproc://${name}`);
  return [a, b];
}

/** A full pipe given room wakes its writer on a microtask (core/pipe.ts), as a reader draining it does. */
const woken = (): Promise<void> => new Promise<void>((resolve) => queueMicrotask(resolve));

/** The socket's one peer (its pipes), as transports gave it. */
const onlyPeer = (s: Socket): Peer => [...(s as unknown as { peers: Map<number, Peer> }).peers.values()][0] as Peer;

describe('HWM changed after connect (libzmq >= 4.2)', () => {
  it('inproc: raising SNDHWM, then the peer\'s RCVHWM, makes room in the live pipe', async () => {
    const [a, b] = await inprocPair('hwm-raise');
    expect(await fill(a)).toBe(2000); // 1000 + 1000
    a.sendHighWaterMark = 5000;
    await woken();
    expect(await fill(a)).toBe(4000); // 5000 + 1000 in all
    b.receiveHighWaterMark = 5000;
    await woken();
    expect(await fill(a)).toBe(4000); // 5000 + 5000 in all
    expect(b.readable).toBe(true);
  });

  it('inproc: a send waiting on a full pipe goes when the HWM is raised', async () => {
    const [a] = await inprocPair('hwm-wake');
    a.sendHighWaterMark = 1;
    expect(await fill(a)).toBe(1001);
    const waiting = a.send('last');
    a.sendHighWaterMark = 2;
    await waiting;
    expect(a.writable).toBe(false);
  });

  it('inproc: lowering both below what is queued mutes the pipe until the reader drains it', async () => {
    const [a, b] = await inprocPair('hwm-lower');
    for (let i = 0; i < 10; i++) await a.send(String(i));
    expect(a.writable).toBe(true);
    a.sendHighWaterMark = 2;
    b.receiveHighWaterMark = 2;
    expect(a.writable).toBe(false); // 10 queued, room for 4
    for (let i = 0; i < 8; i++) await b.receive();
    await woken();
    expect(a.writable).toBe(true);
    expect(await fill(a)).toBe(2);
  });

  it('inproc: the pipe from the binder grows too (its direction has its own HWMs)', async () => {
    const [a, b] = await inprocPair('hwm-back');
    b.sendHighWaterMark = 10;
    a.receiveHighWaterMark = 10;
    expect(await fill(b)).toBe(20);
  });

  it('inproc, connect before bind: the pipe sized by the connector alone follows it too', async () => {
    const context = new Context();
    const push = track(new Push({ context, linger: 0 }));
    push.connect('inproc://hwm-early');
    push.sendHighWaterMark = 3;
    expect(await fill(push)).toBe(3);
    const pull = track(new Pull({ context, receiveHighWaterMark: 2 }));
    await pull.bind('inproc://hwm-early');
    await woken();
    expect(await fill(push)).toBe(2); // 3 + 2
  });

  it('tcp: the live connection\'s pipes take the new HWMs', async () => {
    const context = new Context();
    const a = track(new Pair({ context, linger: 0 }));
    const b = track(new Pair({ context, linger: 0 }));
    await b.bind('tcp://127.0.0.1:*');
    a.connect(b.lastEndpoint as string);
    await a.send('hello');
    await b.receive(); // both ends attached
    a.sendHighWaterMark = 5000;
    a.receiveHighWaterMark = 7;
    b.receiveHighWaterMark = 5000;
    expect([onlyPeer(a).out.capacity, onlyPeer(a).in.capacity, onlyPeer(b).in.capacity]).toEqual([5000, 7, 5000]);
  });
});
