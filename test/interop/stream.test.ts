// STREAM against real libzmq (the `zeromq` package's zmq.Stream): raw bytes between our Stream and
// libzmq's, each side binding in turn, over tcp and ipc; the open and close notifications as both
// see them; one connection closed from either side; and one script played against both
// implementations by the same plain tcp client, whose transcripts must match.
//
//   ours (bind) ◀──raw tcp──▶ libzmq (connect, routingId "lz")     and the other way round
//   node:net client ──▶ ours | libzmq (bind): open, data, data, close ──▶ the same transcript

import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import type { Socket as NetSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { Context } from '../../src/socket/context.js';
import { Stream } from '../../src/index.js';

type Transport = 'tcp' | 'ipc';
type Binder = 'ours' | 'libzmq';

const dir = mkdtempSync(join(tmpdir(), 'monocoque-stream-interop-'));
let n = 0;
const endpointFor = (t: Transport) => (t === 'tcp' ? 'tcp://127.0.0.1:*' : `ipc://${join(dir, `s${n++}`)}`);

const ours: Stream[] = [];
const theirs: zmq.Stream[] = [];
const clients: NetSocket[] = [];
const mine = (options: { notify?: boolean } = {}): Stream => {
  const s = new Stream({ context: new Context(), linger: 0, ...options });
  ours.push(s);
  return s;
};
const libzmq = (options: { notify?: boolean } = {}): zmq.Stream => {
  const s = new zmq.Stream({ linger: 0, ...options });
  theirs.push(s);
  return s;
};
afterEach(() => {
  for (const s of ours.splice(0)) s.close();
  for (const s of theirs.splice(0)) s.close();
  for (const c of clients.splice(0)) c.destroy();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = (m: Buffer[]) => m.map((f) => f.toString());
const hex = (b: Buffer) => b.toString('hex');

/** Binds one side and connects the other, which names its connection `lz` or `us`. */
async function link(binder: Binder, t: Transport, our: Stream, their: zmq.Stream): Promise<void> {
  const ep = endpointFor(t);
  if (binder === 'ours') {
    await our.bind(ep);
    their.connect(our.lastEndpoint!, { routingId: 'lz' });
  } else {
    await their.bind(ep);
    our.connect(their.lastEndpoint!, { routingId: 'us' });
  }
}

/** Receives until `n` bytes of data came (TCP may split or join what was written), concatenated, with the last id. */
async function receiveBytes(s: { receive(): Promise<Buffer[]> }, n: number): Promise<[Buffer, string]> {
  let id: Buffer = Buffer.alloc(0);
  let got = '';
  while (got.length < n) {
    const [from, data] = (await s.receive()) as [Buffer, Buffer];
    id = from;
    got += data.toString();
  }
  return [id, got];
}

describe.each([
  ['ours', 'tcp'],
  ['libzmq', 'tcp'],
  ['ours', 'ipc'],
  ['libzmq', 'ipc'],
] as [Binder, Transport][])('Stream with libzmq\'s zmq.Stream: %s binds, over %s', (binder, t) => {
  it('both announce the connection as [id, ""], then raw bytes flow both ways under those ids', async () => {
    const our = mine();
    const their = libzmq();
    await link(binder, t, our, their);
    const [ourId, opened] = await our.receive();
    const [theirId, theirOpened] = await their.receive();
    expect([opened.length, theirOpened.length]).toEqual([0, 0]);
    // The connecting side knows its connection by the id its connect named; the binding side by a
    // generated 5-byte id, 00 + a counter.
    const dialled = binder === 'ours' ? theirId : ourId;
    const accepted = binder === 'ours' ? ourId : theirId;
    expect(dialled.toString()).toBe(binder === 'ours' ? 'lz' : 'us');
    expect([accepted.length, accepted[0]]).toEqual([5, 0]);

    await their.send([theirId, 'from libzmq']);
    expect(await receiveBytes(our, 11)).toEqual([ourId, 'from libzmq']);
    await our.send([ourId, 'from monocoque']);
    expect(await receiveBytes(their, 14)).toEqual([theirId, 'from monocoque']);
    // No framing on the wire: what one side sends in two messages may come to the other in one read.
    await our.send([ourId, 'ab']);
    await our.send([ourId, 'cd']);
    expect((await receiveBytes(their, 4))[1]).toBe('abcd');
  });

  it('our send([id, ""]) closes the connection: libzmq sees it go, as [id, ""]', async () => {
    const our = mine();
    const their = libzmq();
    await link(binder, t, our, their);
    const [ourId] = await our.receive();
    const [theirId] = await their.receive();
    await our.send([ourId, 'last words']);
    await our.send([ourId, '']);
    expect(await receiveBytes(their, 10)).toEqual([theirId, 'last words']);
    expect(text(await their.receive())).toEqual([theirId.toString(), '']);
    await expect(our.send([ourId, 'late'])).rejects.toMatchObject({ code: 'EHOSTUNREACH' });
  });

  // (libzmq 4.3.5 closes a connection it was told to close with [id, ""] only when its engine next
  // touches that connection's pipe, which after a small message may be never: so here libzmq's
  // socket closes, which ends its connections at once.)
  it('libzmq\'s side goes: we read what it sent, then see the connection go, as [id, ""]', async () => {
    const our = mine({ notify: true });
    const their = libzmq();
    await link(binder, t, our, their);
    const [ourId] = await our.receive();
    const [theirId] = await their.receive();
    await their.send([theirId, 'bye']);
    expect(await receiveBytes(our, 3)).toEqual([ourId, 'bye']);
    their.close();
    const [goneId, gone] = await our.receive();
    expect([hex(goneId), gone.length]).toEqual([hex(ourId), 0]);
  });

  it('with notify off on both sides, only bytes are received', async () => {
    const our = mine({ notify: false });
    const their = libzmq({ notify: false });
    await link(binder, t, our, their);
    // Neither announces the connection: the connecting side speaks first, under the id it named.
    if (binder === 'ours') {
      await their.send(['lz', 'hi']);
      const [ourId, data] = await receiveBytes(our, 2);
      expect(data).toBe('hi');
      await our.send([ourId, 'ho']);
      expect(await receiveBytes(their, 2)).toEqual([Buffer.from('lz'), 'ho']);
    } else {
      await our.send(['us', 'hi']);
      const [theirId, data] = await receiveBytes(their, 2);
      expect(data).toBe('hi');
      await their.send([theirId, 'ho']);
      expect(await receiveBytes(our, 2)).toEqual([Buffer.from('us'), 'ho']);
    }
  });
});

describe('Stream: the same plain tcp client against ours and libzmq\'s, the same transcript', () => {
  /**
   * Binds `server` and plays a client against it (connect, write, read the reply, write, end, then a
   * second client connects), writing down what the server receives: each id by the order it first
   * came in, its length, the data.
   */
  async function transcript(server: { bind(ep: string): Promise<void>; lastEndpoint: string | null; receive(): Promise<Buffer[]>; send(m: [Buffer, string]): Promise<void> }): Promise<string[]> {
    await server.bind('tcp://127.0.0.1:*');
    const port = Number(server.lastEndpoint!.split(':').pop());
    const out: string[] = [];
    const ids: string[] = [];
    const note = ([id, data]: Buffer[]) => {
      if (!ids.includes(hex(id!))) ids.push(hex(id!));
      out.push(`#${ids.indexOf(hex(id!))} ${id!.length}b ${JSON.stringify(data!.toString())}`);
      return id!;
    };
    const c = netConnect({ host: '127.0.0.1', port });
    clients.push(c);
    c.on('error', () => {});
    const answered = new Promise<string>((r) => c.once('data', (d) => r(d.toString())));
    const id = note(await server.receive());
    c.write('one');
    note(await server.receive());
    await server.send([id, 'reply']);
    out.push(`client got ${JSON.stringify(await answered)}`);
    c.write('two');
    note(await server.receive());
    c.end();
    note(await server.receive());
    const d = netConnect({ host: '127.0.0.1', port });
    clients.push(d);
    note(await server.receive());
    return out;
  }

  it('notifications, data and ids: as libzmq gives them', async () => {
    const theirs = await transcript(libzmq());
    const ours = await transcript(mine());
    expect(theirs).toEqual([
      '#0 5b ""', '#0 5b "one"', 'client got "reply"', '#0 5b "two"', '#0 5b ""', '#1 5b ""',
    ]);
    expect(ours).toEqual(theirs);
  });
});
