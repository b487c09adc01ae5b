// STREAM (libzmq ZMQ_STREAM) against peers that speak no ZeroMQ: plain node:net servers and clients,
// node:http both ways. Routing ids (generated, or named by a connect), the open and close
// notifications, raw bytes both ways, closing one connection with an empty frame, the errors of
// unknown ids and malformed messages, back-pressure, and descriptors released by close(). The
// machine's rules are stepped purely first.
//
//   node:net client ──tcp──▶ our Stream (bind)      [id, ""] on open, [id, chunk] per read, [id, ""] on close
//   our Stream (connect) ──tcp──▶ node:net server   send([id, bytes]) writes bytes; send([id, ""]) closes

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket as NetSocket } from 'node:net';
import { get as httpGet, createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import { forkable } from '../../machines/forkable.js';
import type { PeerEntry } from '../../machines/peers.js';
import { connectionRoutingId, isRoutingIdTaken, sendOutcome, streamMachine } from '../../machines/stream.js';
import type { StreamEvent } from '../../machines/stream.js';
import { RouteTable } from '../../machines/router.js';
import { Context } from '../../src/socket/context.js';
import { Socket, Stream } from '../../src/index.js';
import type { SocketEvent } from '../../src/index.js';
import { openConnections } from '../../src/transport/net-transport.js';
import { Pipe } from '../../src/core/pipe.js';
import { RawEngine } from '../../src/transport/raw-engine.js';
import type { ByteStreamListener } from '../../src/transport/byte-stream.js';
import { memoryStreams } from '../transport/memory-stream.js';
import { canSeeDescriptors, holdsDescriptor, socketInode } from '../hardening/lib/descriptors.js';
import { code, until } from '../helpers/sockets.js';
import { closedStream, countEvents, delay, nextEvent, own, reconnectIntervals, text, track } from '../transport/helpers.js';

// ---- the machine, stepped purely ----

const fork = forkable(streamMachine);
const attach = (peerId: number, routingId?: string) =>
  ({ type: 'peer.attached', peerId, endpoint: 'tcp://127.0.0.1:1', peerType: '', ...(routingId === undefined ? {} : { routingId }) }) as const;

function machineAfter(events: StreamEvent[], nextGeneratedId = 0x10) {
  let [s] = initialTransition(fork, { nextGeneratedId });
  for (const e of events) [s] = transition(fork, s, e);
  return s;
}

describe('stream machine', () => {
  it('stream machine: each connection gets the next generated id, 00 + a uint32 counter, or the id its connect named', () => {
    const s = machineAfter([attach(1), attach(2, '7765623031'), attach(3)], 0xfffffffe);
    expect(s.value).toEqual({ open: 'attached' });
    expect(s.context.routes.toJSON()).toEqual({ '00fffffffe': 1, '7765623031': 2, '00ffffffff': 3 });
    expect(s.context.peers.get(2)?.routingId).toBe('7765623031');
    // The counter wraps as a uint32, as libzmq's does.
    expect(s.context.nextGeneratedId).toBe(0);
  });

  it('stream machine: a named id another connection holds is not taken from it: the newcomer gets a generated one', () => {
    const s = machineAfter([attach(1, 'aa'), attach(2, 'aa')]);
    expect(s.context.routes.toJSON()).toEqual({ aa: 1, '0000000010': 2 });
    expect(isRoutingIdTaken(s.context.routes, 'aa')).toBe(true);
    expect(connectionRoutingId(s.context.routes, 'aa', 7)).toEqual({ id: '0000000007', generated: true });
    expect(connectionRoutingId(s.context.routes, 'bb', 7)).toEqual({ id: 'bb', generated: false });
  });

  it('stream machine: a connection leaving leaves the table; the last one takes the machine to noPeers', () => {
    const s = machineAfter([attach(1), attach(2), { type: 'peer.detached', peerId: 1 }]);
    expect(s.context.routes.toJSON()).toEqual({ '0000000011': 2 });
    const t = transition(fork, s, { type: 'peer.detached', peerId: 2 })[0];
    expect(t.value).toEqual({ open: 'noPeers' });
    expect(t.context.routes.size).toBe(0);
    // A peer it never knew changes nothing.
    expect(transition(fork, t, { type: 'pipe.muted', peerId: 9 })[0].context.peers.size).toBe(0);
  });

  it('stream machine: mute and ready flags follow the pipe edges', () => {
    const s = machineAfter([attach(1), { type: 'pipe.muted', peerId: 1 }]);
    expect(s.context.peers.get(1)?.ready).toBe(false);
    expect(transition(fork, s, { type: 'pipe.ready', peerId: 1 })[0].context.peers.get(1)?.ready).toBe(true);
  });

  it('sendOutcome: exactly [id, data]; unknown id unreachable; empty data closes; a mute connection waits', () => {
    const ready: PeerEntry = { id: 1, endpoint: 'tcp://x:1', peerType: '', ready: true };
    const mute: PeerEntry = { ...ready, ready: false };
    expect(sendOutcome(1, ready, 0)).toBe('malformed');
    expect(sendOutcome(3, ready, 5)).toBe('malformed');
    expect(sendOutcome(2, undefined, 5)).toBe('unreachable');
    expect(sendOutcome(2, ready, 0)).toBe('close');
    expect(sendOutcome(2, mute, 0)).toBe('close'); // closing needs no room in the pipe
    expect(sendOutcome(2, mute, 5)).toBe('wait');
    expect(sendOutcome(2, ready, 5)).toBe('deliver');
    expect(isRoutingIdTaken(new RouteTable(), '00')).toBe(false);
  });
});

// ---- the raw engine, over an in-memory byte stream ----

/** A raw engine on one end of a memory stream, its host's reports, and the peer's end read as text. */
function rawEngine(notify = true) {
  const [ours, theirs] = memoryStreams();
  const reports: string[] = [];
  const engine: RawEngine = new RawEngine(ours, {
    rawStreamOpened: (e) => reports.push(e === engine ? 'opened' : 'stale'),
    engineClosed: (e) => reports.push(e === engine ? 'closed' : 'stale'),
  }, { notify });
  let peerGot = '';
  let peerClosed = false;
  const listener: ByteStreamListener = {
    onStreamData: (c) => (peerGot += Buffer.from(c).toString()),
    onStreamDrain: () => {},
    onStreamEnd: () => {},
    onStreamClose: () => (peerClosed = true),
  };
  theirs.open(listener);
  const out = new Pipe(10);
  const inn = new Pipe(10);
  const read = () => {
    const got: string[] = [];
    for (let m = inn.read(); m !== undefined; m = inn.read()) got.push(m.map((f) => Buffer.from(f).toString()).join('|'));
    return got;
  };
  return { engine, ours, theirs, reports, out, inn, read, peer: () => ({ got: peerGot, closed: peerClosed }) };
}

const turns = async (n = 4) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('raw engine', () => {
  it('raw engine: reports the stream open on a microtask; bytes read before attach come after the open notification', async () => {
    const r = rawEngine();
    r.engine.start();
    expect(r.reports).toEqual([]);
    await Promise.resolve();
    expect(r.reports).toEqual(['opened']);
    r.theirs.write([Buffer.from('early')]);
    await turns();
    r.engine.attach(r.out, r.inn);
    expect(r.read()).toEqual(['', 'early']);
    r.theirs.write([Buffer.from('a')]);
    r.theirs.write([Buffer.from('b')]);
    await turns();
    expect(r.read()).toEqual(['a', 'b']); // one message per chunk read
  });

  it('raw engine: writes each queued message\'s bytes as they are, no framing', async () => {
    const r = rawEngine();
    r.engine.start();
    await Promise.resolve();
    r.engine.attach(r.out, r.inn);
    r.out.write([Buffer.from('GET / HTTP/1.0\r\n')]);
    r.out.write([Buffer.from('\r\n')]);
    await turns();
    expect(r.peer().got).toBe('GET / HTTP/1.0\r\n\r\n');
  });

  it('raw engine: the peer\'s FIN: what it sent, then the close notification, then the host is told', async () => {
    const r = rawEngine();
    r.engine.start();
    await Promise.resolve();
    r.engine.attach(r.out, r.inn);
    r.theirs.write([Buffer.from('last')]);
    r.theirs.end(0);
    await turns();
    expect(r.read()).toEqual(['', 'last', '']);
    expect(r.reports).toEqual(['opened', 'closed']);
  });

  it('raw engine: without notify, only bytes; our own end is not reported and writes what is queued first', async () => {
    const r = rawEngine(false);
    r.engine.start();
    await Promise.resolve();
    r.engine.attach(r.out, r.inn);
    r.ours.accepting = false; // the peer takes no more: flushes stop, but end() hands over everything
    r.out.write([Buffer.from('one')]);
    await turns();
    r.out.write([Buffer.from('two')]);
    r.engine.end(-1);
    await turns();
    expect(r.peer()).toEqual({ got: 'onetwo', closed: true });
    expect(r.read()).toEqual([]);
    expect(r.reports).toEqual(['opened']);
  });

  it('raw engine: let go of (stall), the stream closes and the host hears of it, the pipes hear nothing', async () => {
    const r = rawEngine();
    r.engine.start();
    await Promise.resolve();
    r.engine.attach(r.out, r.inn);
    expect(r.read()).toEqual(['']);
    r.engine.stall(10);
    await turns();
    expect([r.reports, r.read(), r.peer().closed]).toEqual([['opened', 'closed'], [], true]);
  });
});

// ---- the socket, against plain node:net and node:http peers ----

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});
const dir = mkdtempSync(join(tmpdir(), 'monocoque-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const portOf = (s: Stream): number => Number(s.lastEndpoint!.split(':').pop());
const hex = (b: Buffer) => b.toString('hex');

/** A plain tcp client of ours, connected to `port`, read into `chunks`. */
async function client(port: number): Promise<NetSocket & { chunks: Buffer[] }> {
  const c = own(netConnect({ host: '127.0.0.1', port })) as NetSocket & { chunks: Buffer[] };
  c.chunks = [];
  c.on('data', (d: Buffer) => c.chunks.push(d));
  await new Promise((r) => c.once('connect', r));
  return c;
}

/** A node:net echo server on 127.0.0.1; its connections are listed as they come. */
async function echoServer(): Promise<{ port: number; connections: NetSocket[]; next(): Promise<NetSocket> }> {
  const connections: NetSocket[] = [];
  const waiting: ((s: NetSocket) => void)[] = [];
  const server = createServer((s) => {
    s.on('error', () => {});
    s.on('data', (d) => s.write(d));
    connections.push(s);
    waiting.shift()?.(s);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, connections, next: () => new Promise((r) => waiting.push(r)) };
}

const stream = (options: ConstructorParameters<typeof Stream>[0] = {}) => track(new Stream({ context: new Context(), linger: 0, ...options }));

describe('Stream as a server (bind), plain tcp clients', () => {
  it('stream: a connection is announced as [id, ""], each chunk read is [id, data], and its close as [id, ""] again', async () => {
    const s = stream();
    await s.bind('tcp://127.0.0.1:*');
    const c = await client(portOf(s));
    const [id, opened] = await s.receive();
    expect(id.length).toBe(5);
    expect(id[0]).toBe(0); // generated: 00 + a counter (libzmq stream.cpp)
    expect(opened.length).toBe(0);
    c.write('hello');
    expect(text(await s.receive())).toEqual([id.toString(), 'hello']);
    // TCP has no message boundaries: each read is one message, whatever the peer's writes were.
    c.write('one');
    expect(text(await s.receive())[1]).toBe('one');
    c.write('two');
    expect(text(await s.receive())[1]).toBe('two');
    c.end();
    const [closedId, closed] = await s.receive();
    expect([hex(closedId), closed.length]).toEqual([hex(id), 0]);
    // The notification is read; the machine's edge to noPeers follows the stream's close.
    await until(() => JSON.stringify(s.getSnapshot().value) === JSON.stringify({ open: 'noPeers' }));
    expect(s.getSnapshot().value).toEqual({ open: 'noPeers' });
  });

  it('stream: data sent to a connection reaches the peer as it is, byte for byte', async () => {
    const s = stream();
    await s.bind('tcp://127.0.0.1:*');
    const c = await client(portOf(s));
    const [id] = await s.receive();
    const body = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
    await s.send([id, 'abc']);
    await s.send([id, body]);
    await s.send([id, Buffer.from([0, 1, 2])]);
    while (Buffer.concat(c.chunks).length < 306) await delay(5);
    expect(Buffer.concat(c.chunks)).toEqual(Buffer.concat([Buffer.from('abc'), body, Buffer.from([0, 1, 2])]));
  });

  it('stream: two clients get two ids, and each answer goes to its own client', async () => {
    const s = stream();
    await s.bind('tcp://127.0.0.1:*');
    const a = await client(portOf(s));
    const [idA] = await s.receive();
    const b = await client(portOf(s));
    const [idB] = await s.receive();
    expect(hex(idA)).not.toBe(hex(idB));
    // Consecutive generated ids.
    expect(idB.readUInt32BE(1)).toBe((idA.readUInt32BE(1) + 1) >>> 0);
    await s.send([idB, 'to b']);
    await s.send([idA, 'to a']);
    while (a.chunks.length === 0 || b.chunks.length === 0) await delay(5);
    expect([Buffer.concat(a.chunks).toString(), Buffer.concat(b.chunks).toString()]).toEqual(['to a', 'to b']);
  });

  it('stream: send([id, ""]) writes what was queued for that connection, then closes it; the id is unknown from then on', async () => {
    const s = stream({ linger: -1 }); // (a closing connection writes for up to `linger` ms)
    await s.bind('tcp://127.0.0.1:*');
    const c = await client(portOf(s));
    const [id] = await s.receive();
    const closedByUs = closedStream(c);
    const big = Buffer.alloc(2_000_000, 'x');
    await s.send([id, big]);
    await s.send([id, '']);
    expect(await code(s.send([id, 'late']))).toBe('EHOSTUNREACH');
    await closedByUs;
    expect(Buffer.concat(c.chunks).length).toBe(big.length);
    // Our own close is not announced (libzmq's raw engine reports only the peer's).
    const other = await client(portOf(s));
    const [next, opened] = await s.receive();
    expect([hex(next) === hex(id), opened.length]).toEqual([false, 0]);
    other.destroy();
  });

  it('stream: the connection\'s monitor events name its routing id and address; no handshake event on a raw stream', async () => {
    const s = stream();
    const seen: SocketEvent[] = [];
    s.events.on('*', (e) => seen.push(e));
    await s.bind('tcp://127.0.0.1:*');
    const gone = nextEvent(s, 'disconnect');
    const c = await client(portOf(s));
    const [id] = await s.receive();
    c.end();
    const e = await gone;
    expect(hex(Buffer.from(e.peer!.routingId!))).toBe(hex(id));
    expect(e.peer?.remoteAddress).toBe(`127.0.0.1:${c.localPort}`);
    expect(seen.map((x) => x.type)).toEqual(['bind', 'accept', 'disconnect']);
  });

  it('stream: with notify off, only data comes; notify reads back and takes effect for connections opened after', async () => {
    const s = stream({ notify: false });
    expect(s.notify).toBe(false);
    await s.bind('tcp://127.0.0.1:*');
    const c = await client(portOf(s));
    c.write('first');
    const [id, data] = await s.receive();
    expect(data.toString()).toBe('first');
    s.notify = true;
    c.end();
    const d = await client(portOf(s));
    const [id2, opened] = await s.receive();
    expect([hex(id2) !== hex(id), opened.length]).toEqual([true, 0]);
    d.destroy();
    expect((await s.receive())[1].length).toBe(0);
  });

  it('stream: notify is checked (EINVAL), also in the constructor, and reached by libzmq\'s id 73', () => {
    expect(() => new Stream({ notify: 1 as unknown as boolean })).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('option notify (ZMQ_STREAM_NOTIFY): 1 is not a boolean') }));
    const s = stream();
    expect(s.notify).toBe(true);
    expect(() => (s.notify = 'no' as unknown as boolean)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    const low = s as unknown as { setBoolOption(o: number, v: boolean): void; getBoolOption(o: number): boolean };
    low.setBoolOption(73, false);
    expect([s.notify, low.getBoolOption(73)]).toEqual([false, false]);
    expect(low.getBoolOption(39)).toBe(false); // others as every socket: ZMQ_IMMEDIATE
  });

  it('stream: an http request through node:http gets the answer the Stream writes', async () => {
    const s = stream();
    await s.bind('tcp://127.0.0.1:*');
    const serve = (async () => {
      for await (const [id, data] of s) {
        if (data.length === 0) continue;
        expect(data.toString().split('\r\n')[0]).toBe('GET /foo HTTP/1.1');
        await s.send([id, 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nHello world!']);
        await s.send([id, '']);
        return;
      }
    })();
    const body = await new Promise<string>((resolve, reject) => {
      httpGet(`http://127.0.0.1:${portOf(s)}/foo`, (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve(b));
      }).on('error', reject);
    });
    await serve;
    expect(body).toBe('Hello world!');
  });
});

describe('Stream as a client (connect), plain tcp servers', () => {
  it('stream: connect with a routingId: a send queues before the connection opens, then [id, ""] and the echo come back under that id', async () => {
    const echo = await echoServer();
    const s = stream();
    s.connect(`tcp://127.0.0.1:${echo.port}`, { routingId: 'echo' });
    await s.send(['echo', 'hello']);
    expect(text(await s.receive())).toEqual(['echo', '']);
    expect(text(await s.receive())).toEqual(['echo', 'hello']);
  });

  it('stream: the connection keeps its id across reconnects: [id, ""] when the server drops it, [id, ""] when it is back', async () => {
    const echo = await echoServer();
    const s = stream({ reconnectInterval: 10 });
    s.connect(`tcp://127.0.0.1:${echo.port}`);
    const first = echo.next();
    const [id, opened] = await s.receive();
    expect(opened.length).toBe(0);
    (await first).destroy();
    expect((await s.receive()).map(hex)).toEqual([hex(id), '']);
    expect((await s.receive()).map(hex)).toEqual([hex(id), '']); // reconnected, same id
    await s.send([id, 'again']);
    expect(text(await s.receive())[1]).toBe('again');
  });

  it('stream: send([id, ""]) on a dialled connection closes it for good; connect() may dial it again', async () => {
    const echo = await echoServer();
    const s = stream({ reconnectInterval: 10 });
    const retries = countEvents(s, 'connect:retry');
    const address = `tcp://127.0.0.1:${echo.port}`;
    s.connect(address, { routingId: 'x' });
    const conn = echo.next();
    expect(text(await s.receive())).toEqual(['x', '']);
    const theirs = await conn;
    await s.send(['x', 'bye']);
    await s.send(['x', '']);
    await closedStream(theirs);
    expect(await code(s.send(['x', 'late']))).toBe('EHOSTUNREACH');
    // No redial: while a sentinel with the same interval retries ten times, ours plans no attempt.
    await reconnectIntervals(10, 10);
    expect(retries.n).toBe(0);
    expect(echo.connections.length).toBe(1);
    s.connect(address, { routingId: 'x' });
    expect(text(await s.receive())).toEqual(['x', '']);
    expect(echo.connections.length).toBe(2);
  });

  it('stream: a connect naming the routing id of another connection is EINVAL, and a malformed one too', async () => {
    const echo = await echoServer();
    const other = await echoServer();
    const s = stream();
    s.connect(`tcp://127.0.0.1:${echo.port}`, { routingId: 'dup' });
    expect(() => s.connect(`tcp://127.0.0.1:${other.port}`, { routingId: 'dup' })).toThrow(
      expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('647570 (hex) is the routing id of another connection') }),
    );
    expect(() => s.connect(`tcp://127.0.0.1:${other.port}`, { routingId: Buffer.from([0, 1]) })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => s.connect(`tcp://127.0.0.1:${other.port}`, 'id' as never)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    // A connect to the same address again is nothing new.
    s.connect(`tcp://127.0.0.1:${echo.port}`, { routingId: 'dup' });
    expect(text(await s.receive())).toEqual(['dup', '']);
  });

  it('stream: the routing ids connect() named are machine context by endpoint; a disconnect frees the id for another connect', async () => {
    const echo = await echoServer();
    const other = await echoServer();
    const s = stream();
    const first = `tcp://127.0.0.1:${echo.port}`;
    s.connect(first, { routingId: 'one' });
    expect(JSON.parse(JSON.stringify(s.getSnapshot().context.connectIds))).toEqual({ [first]: Buffer.from('one').toString('hex') });
    // Named by a connect only (told to the machine, no connection yet): another connect may not take it.
    s.actor.send({ type: 'connect.named', endpoint: 'tcp://127.0.0.1:1', routingId: Buffer.from('two').toString('hex') });
    expect(() => s.connect(`tcp://127.0.0.1:${other.port}`, { routingId: 'two' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    s.actor.send({ type: 'connect.dropped', endpoint: 'tcp://127.0.0.1:1' });
    s.connect(`tcp://127.0.0.1:${other.port}`, { routingId: 'two' });
    // Each connection opens under its id (in whichever order the two opens come).
    const opened = [text(await s.receive()), text(await s.receive())].map((m) => m.join('/'));
    expect(opened.sort()).toEqual(['one/', 'two/']);
  });

  it('stream: an http request to node:http, as zeromq.js\'s test makes it', async () => {
    const http = createHttpServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 12 });
      res.end('Hello world!');
    });
    servers.push(http as unknown as Server);
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as AddressInfo).port;
    const s = stream();
    const routingId = 'abcdef1234567890';
    s.connect(`tcp://127.0.0.1:${port}`, { routingId });
    await s.send([routingId, `GET /foo HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`]);
    let response = '';
    for await (const [id, data] of s) {
      expect(id.toString()).toBe(routingId);
      response += data.toString();
      if (response.endsWith('Hello world!')) break;
    }
    expect(response.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  });

  it('stream: over ipc, as a server and as a client', async () => {
    const s = stream();
    const path = join(dir, 'server');
    await s.bind(`ipc://${path}`);
    const c = own(netConnect({ path }));
    const [id, opened] = await s.receive();
    expect(opened.length).toBe(0);
    c.write('over ipc');
    expect(text(await s.receive())).toEqual([id.toString(), 'over ipc']);

    const path2 = join(dir, 'echo');
    const server = createServer((x) => x.on('data', (d) => x.write(d)));
    servers.push(server);
    await new Promise<void>((r) => server.listen(path2, r));
    const t = stream();
    t.connect(`ipc://${path2}`, { routingId: 'e' });
    await t.send(['e', 'ping']);
    expect(text(await t.receive())).toEqual(['e', '']);
    expect(text(await t.receive())).toEqual(['e', 'ping']);
  });
});

describe('Stream: what it refuses', () => {
  it('stream: an id no connection has is EHOSTUNREACH, naming it; the socket goes on', async () => {
    const s = stream();
    expect(s.getSnapshot().value).toEqual({ open: 'noPeers' });
    expect(s.writable).toBe(true); // libzmq stream_t::xhas_out: always
    await expect(s.send(['nobody', 'x'])).rejects.toMatchObject({ code: 'EHOSTUNREACH', message: expect.stringContaining('no connection has routing id 6e6f626f6479 (hex)') });
  });

  it('stream: a message that is not [id, data] is EINVAL, saying what it must be', async () => {
    const s = stream();
    await s.bind('tcp://127.0.0.1:*');
    const c = await client(portOf(s));
    const [id] = await s.receive();
    await expect(s.send(id)).rejects.toMatchObject({ code: 'EINVAL', message: 'send on STREAM: a message is 2 frames, [routing id, data] (empty data closes that connection), not 1 frame' });
    await expect(s.send([id, 'a', 'b'])).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('not 3 frames') });
    // In a batch: the messages before it are sent, and `sent` says how many.
    await expect(s.sendMany([[id, 'ok'], [id]])).rejects.toMatchObject({ code: 'EINVAL', sent: 1 });
    while (c.chunks.length === 0) await delay(5);
    expect(Buffer.concat(c.chunks).toString()).toBe('ok');
  });

  it('stream: inproc is ENOCOMPATPROTO, for bind and connect', async () => {
    const s = stream();
    await expect(s.bind('inproc://raw')).rejects.toMatchObject({ code: 'ENOCOMPATPROTO', message: expect.stringContaining('tcp:// or ipc://') });
    expect(() => s.connect('inproc://raw')).toThrow(expect.objectContaining({ code: 'ENOCOMPATPROTO' }));
  });

  it('stream: a connection at its HWM makes send wait (EAGAIN after sendTimeout), and the wait ends when the peer reads', async () => {
    const s = stream({ sendHighWaterMark: 1, sendTimeout: 100 });
    await s.bind('tcp://127.0.0.1:*');
    const c = await client(portOf(s));
    c.pause(); // reads nothing: the kernel's buffers fill, then node's, then our pipe
    const [id] = await s.receive();
    const chunk = Buffer.alloc(1 << 20, 'y');
    let sent = 0;
    let refused = '';
    while (sent < 256) {
      refused = await code(s.send([id, chunk]));
      if (refused !== 'resolved') break;
      sent++;
    }
    expect(refused).toBe('EAGAIN');
    let received = 0;
    c.on('data', (d: Buffer) => (received += d.length));
    c.resume();
    s.sendTimeout = -1;
    await s.send([id, chunk]);
    while (received < (sent + 1) * chunk.length) await delay(5);
    expect(received).toBe((sent + 1) * chunk.length);
  });

  it('stream: what a fast peer sends arrives whole and in order through a small receive HWM', async () => {
    const s = stream({ receiveHighWaterMark: 2 });
    await s.bind('tcp://127.0.0.1:*');
    const c = await client(portOf(s));
    await s.receive();
    const all = Buffer.from(Array.from({ length: 4_000_000 }, (_, i) => (i * 7) & 0xff));
    c.write(all);
    const got: Buffer[] = [];
    let n = 0;
    while (n < all.length) {
      const [, data] = await s.receive();
      got.push(data);
      n += data.length;
      if (got.length % 16 === 0) await delay(1); // a slow reader
    }
    expect(Buffer.concat(got).equals(all)).toBe(true);
  });
});

describe('Stream: the socket', () => {
  it('new Socket(11) (ZMQ_STREAM) is a Stream, with its options', () => {
    const AnySocket = Socket as unknown as new (...args: unknown[]) => Socket;
    const s = track(new AnySocket(11, { context: new Context(), notify: false })) as Stream;
    expect(s).toBeInstanceOf(Stream);
    expect([s.type, s.notify, Object.isSealed(s)]).toEqual(['STREAM', false, true]);
    expect((s as unknown as { getInt32Option(o: number): number }).getInt32Option(16)).toBe(11); // ZMQ_TYPE
  });

  it.skipIf(!canSeeDescriptors)('stream: close() releases the descriptors of accepted and dialled connections', async () => {
    const before = openConnections();
    const echo = await echoServer();
    const s = stream();
    await s.bind('tcp://127.0.0.1:*');
    const port = portOf(s); // (lastEndpoint names the connect below, once made)
    const c = await client(port);
    s.connect(`tcp://127.0.0.1:${echo.port}`, { routingId: 'out' });
    const theirs = await echo.next();
    await s.receive();
    await s.receive();
    const accepted = socketInode(port, c.localPort!);
    const dialled = socketInode(theirs.remotePort!, echo.port);
    expect([accepted, dialled].every((i) => i !== undefined && holdsDescriptor(i))).toBe(true);
    expect(openConnections()).toBe(before + 2);
    const closed = [closedStream(c), closedStream(theirs)];
    s.close();
    await Promise.all(closed);
    // Our ends close as node:net gets to them: wait for the kernel to let go, however long it takes.
    await until(() => !holdsDescriptor(accepted!) && !holdsDescriptor(dialled!));
    expect([holdsDescriptor(accepted!), holdsDescriptor(dialled!)]).toEqual([false, false]);
    expect(openConnections()).toBe(before);
  });

  it('stream: the README\'s Stream example runs and prints what its comment says', () => {
    const root = resolve(import.meta.dirname, '../..');
    const block = /## Stream: raw TCP[\s\S]*?```ts\n([\s\S]*?)```/.exec(readFileSync(join(root, 'README.md'), 'utf8'))?.[1];
    expect(block).toBeDefined();
    const file = join(dir, 'readme-stream.mts');
    writeFileSync(file, (block as string).replace("from 'monocoque'", `from ${JSON.stringify(join(root, 'src/index.ts'))}`));
    const out = execFileSync(join(root, 'node_modules/.bin/tsx'), [file], { cwd: root, encoding: 'utf8', timeout: 20_000 });
    expect(out).toBe('Hello\n');
  });
});
