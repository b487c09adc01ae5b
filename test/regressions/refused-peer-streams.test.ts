// Issue 11: a tcp peer refused after its handshake (a second PAIR peer, a taken routing id) or
// evicted by ROUTER handover kept its stream paused and unread, so its half-close or close was never
// seen once it had sent anything, and its file descriptor stayed until our socket closed. libzmq
// 4.3.5 (measured against raw peers) keeps such a stream open and reads it until it holds what it
// cannot deliver (RCVHWM messages; one for an evicted holder); a peer that goes before that is
// closed, one that goes after is not. We decode and drop up to the receive HWM, then read on and
// drop the bytes, so a peer's end is always seen (see StreamEngine.stall). Each test below
// checks that the refused stream is still open while the peer stays (closing it would make a live
// peer reconnect and be refused every reconnect interval), and that our descriptor for it is gone
// once the peer half-closes. Failed handshakes and protocol errors close at once.
//
//   raw client A ──handshake──▶ our socket (bound)   A attached
//   raw client B ──handshake──▶ our socket           B refused (or A evicted): stream kept, open
//   B.end() ─────── FIN ──────▶ engine sees it ──▶ stream destroyed ──FIN──▶ B 'close'; our fd gone

import { connect } from 'node:net';
import type { Socket as NetSocket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { encodeGreeting, pingCommand, readyCommand } from '../../src/protocol/index.js';
import { Context } from '../../src/socket/context.js';
import { Router } from '../../src/socket/dealer-router.js';
import { Pair } from '../../src/socket/pair.js';
import type { Socket } from '../../src/socket/socket.js';
import { holdsDescriptor, socketInode as findInode } from '../hardening/lib/descriptors.js';
import { closedStream, greeting, handshakeBytes, nextEvent, own, rawServer, text, track, delay } from '../transport/helpers.js';

/** The inode of the tcp socket from `localPort` to `remotePort` on 127.0.0.1 (from /proc/net/tcp). */
function socketInode(localPort: number, remotePort: number): string {
  const inode = findInode(localPort, remotePort);
  if (inode === undefined) throw new Error(`no open tcp socket from port ${localPort} to port ${remotePort} in /proc/net/tcp`);
  return inode;
}

const portOf = (s: Socket): number => Number(s.lastEndpoint!.split(':').pop());

/** A raw client that connected and wrote `hello` (greeting and more, by hand). */
async function rawClient(port: number, hello: Buffer): Promise<NetSocket> {
  const c = own(connect({ host: '127.0.0.1', port }));
  await new Promise((r) => c.once('connect', r));
  c.write(hello);
  return c;
}

/** Our (server-side) descriptor for a raw client's connection. */
const ourSide = (port: number, client: NetSocket): string => socketInode(port, client.localPort!);

const dealerHello = (id: string): Buffer => Buffer.concat([encodeGreeting('NULL', false), readyCommand('DEALER', Buffer.from(id))]);

const message = (body: string): Buffer => Buffer.concat([Buffer.from([0x00, body.length]), Buffer.from(body)]);

/** The remote addresses of the `disconnect` events `socket` emits from now on. */
function disconnects(socket: Socket): (string | undefined)[] {
  const from: (string | undefined)[] = [];
  socket.events.on('disconnect', (e) => from.push(e.peer?.remoteAddress));
  return from;
}

/**
 * The refused client sends a message (it does not know it was refused: read and dropped, under the
 * HWM; a paused node:net stream holding it would never report the FIN that follows), half-closes,
 * and we wait for our side to close in turn and check our descriptor went with it.
 */
async function sendHalfCloseAndCheck(client: NetSocket, fd: string): Promise<void> {
  expect(holdsDescriptor(fd)).toBe(true); // still open while the peer stays
  client.write(message('dropped'));
  client.end();
  await closedStream(client);
  expect(holdsDescriptor(fd)).toBe(false);
}

describe.skipIf(process.platform !== 'linux')('refused and failed peers\' streams are closed (issue 11)', () => {
  it('a second PAIR peer: kept open while it stays, closed when it half-closes', async () => {
    const pair = track(new Pair({ context: new Context() }));
    await pair.bind('tcp://127.0.0.1:*');
    const port = portOf(pair);
    const attached = nextEvent(pair, 'handshake');
    const a = await rawClient(port, handshakeBytes('PAIR'));
    await attached;
    const refused = nextEvent(pair, 'peer:refused');
    const b = await rawClient(port, handshakeBytes('PAIR'));
    await refused;
    const gone = disconnects(pair);
    const from = `127.0.0.1:${b.localPort}`;
    await sendHalfCloseAndCheck(b, ourSide(port, b));
    expect(gone).toEqual([from]); // reported when its stream ended, as libzmq does
    // The first peer was never disturbed, and nothing of the refused one came through.
    a.write(message('hi'));
    expect(text(await pair.receive())).toEqual(['hi']);
  });

  it('a second PAIR peer that sent more than the receive HWM before it half-closes: closed too', async () => {
    // Past the HWM the engine stops decoding what the refused peer sends but reads on, so the FIN
    // that follows is seen (stopping reading there, as libzmq does, kept our descriptor until the
    // socket closed). Sent apart, so that bytes come after the read in which the budget ran out:
    // with one loop turn between the writes the old engine passed this test too (perhaps node:net
    // reports a FIN to a paused stream with nothing buffered; not pinned down).
    const receiveHighWaterMark = 2;
    const pair = track(new Pair({ context: new Context(), receiveHighWaterMark }));
    await pair.bind('tcp://127.0.0.1:*');
    const port = portOf(pair);
    const attached = nextEvent(pair, 'handshake');
    await rawClient(port, handshakeBytes('PAIR'));
    await attached;
    const refused = nextEvent(pair, 'peer:refused');
    const b = await rawClient(port, handshakeBytes('PAIR'));
    await refused;
    const fd = ourSide(port, b);
    for (let i = 0; i < 3 * receiveHighWaterMark; i++) {
      await new Promise<void>((resolve) => b.write(message(`dropped ${i}`), () => resolve()));
      await delay(50); // spacing, not a proof: the FIN's close is what the test waits for
    }
    await sendHalfCloseAndCheck(b, fd);
  });

  it('a ROUTER peer announcing a routing id another peer holds: kept open while it stays, closed when it half-closes', async () => {
    const router = track(new Router({ context: new Context() }));
    await router.bind('tcp://127.0.0.1:*');
    const port = portOf(router);
    const attached = nextEvent(router, 'handshake');
    const a = await rawClient(port, dealerHello('x'));
    await attached;
    const refused = nextEvent(router, 'peer:refused');
    const b = await rawClient(port, dealerHello('x'));
    await refused;
    const gone = disconnects(router);
    const from = `127.0.0.1:${b.localPort}`;
    await sendHalfCloseAndCheck(b, ourSide(port, b));
    expect(gone).toEqual([from]);
    a.write(message('hi'));
    expect(text(await router.receive())).toEqual(['x', 'hi']);
  });

  it('a holder evicted by ROUTER handover: kept open while it stays, closed when it half-closes', async () => {
    const router = track(new Router({ context: new Context(), handover: true }));
    await router.bind('tcp://127.0.0.1:*');
    const port = portOf(router);
    const attached = nextEvent(router, 'handshake');
    const a = await rawClient(port, dealerHello('x'));
    await attached;
    const evicted = nextEvent(router, 'disconnect');
    const b = await rawClient(port, dealerHello('x'));
    await evicted;
    await sendHalfCloseAndCheck(a, ourSide(port, a));
    b.write(message('hi'));
    expect(text(await router.receive())).toEqual(['x', 'hi']);
  });

  it('a peer we refused on a connection we made: closed when it half-closes, then dialled again', async () => {
    const first = await rawServer((s) => s.write(handshakeBytes('PAIR')));
    // After its handshake, a PING: its PONG tells the test our side has taken the handshake (and refused the peer).
    const second = await rawServer((s) => s.write(Buffer.concat([handshakeBytes('PAIR'), pingCommand(0, Buffer.from('k'))])));
    const pair = track(new Pair({ context: new Context(), reconnectInterval: 10 }));
    pair.connect(first.endpoint); // the PAIR's one peer
    pair.connect(second.endpoint); // refused at connect time; its streams are kept open, unused
    const s = await second.nextConnection();
    await new Promise<void>((resolve) => {
      const look = (): void => {
        if (Buffer.concat(second.received[0]).includes('PONG')) resolve();
        else s.once('data', () => setImmediate(look));
      };
      look();
    });
    const redial = second.nextConnection();
    await sendHalfCloseAndCheck(s, socketInode(s.remotePort!, s.localPort!));
    await redial; // as libzmq's connecter does after its stream ends
  });

  it('an incompatible socket type (PUSH to PAIR): closed in the handshake', async () => {
    const pair = track(new Pair({ context: new Context() }));
    await pair.bind('tcp://127.0.0.1:*');
    const failed = nextEvent(pair, 'handshake:error:protocol');
    const c = await rawClient(portOf(pair), handshakeBytes('PUSH'));
    const fd = ourSide(portOf(pair), c);
    await failed;
    await closedStream(c);
    expect(holdsDescriptor(fd)).toBe(false);
  });

  it('a mechanism mismatch (PLAIN to NULL): closed in the handshake', async () => {
    const pair = track(new Pair({ context: new Context() }));
    await pair.bind('tcp://127.0.0.1:*');
    const failed = nextEvent(pair, 'handshake:error:protocol');
    const c = await rawClient(portOf(pair), greeting({ mechanism: 'PLAIN' }));
    const fd = ourSide(portOf(pair), c);
    await failed;
    await closedStream(c);
    expect(holdsDescriptor(fd)).toBe(false);
  });

  it('a handshake timeout (greeting, then silence): closed when handshakeInterval runs out', async () => {
    const pair = track(new Pair({ context: new Context(), handshakeInterval: 50 }));
    await pair.bind('tcp://127.0.0.1:*');
    const failed = nextEvent(pair, 'handshake:error:other');
    const c = await rawClient(portOf(pair), greeting());
    const fd = ourSide(portOf(pair), c);
    await failed;
    await closedStream(c);
    expect(holdsDescriptor(fd)).toBe(false);
  });

  it('a protocol error after the handshake (a frame over maxMessageSize): closed at once', async () => {
    const pair = track(new Pair({ context: new Context(), maxMessageSize: 64 }));
    await pair.bind('tcp://127.0.0.1:*');
    const attached = nextEvent(pair, 'handshake');
    const c = await rawClient(portOf(pair), handshakeBytes('PAIR'));
    await attached;
    const fd = ourSide(portOf(pair), c);
    const gone = nextEvent(pair, 'disconnect');
    c.write(Buffer.concat([Buffer.from([0x00, 100]), Buffer.alloc(100)]));
    await gone;
    await closedStream(c);
    expect(holdsDescriptor(fd)).toBe(false);
  });
});
