// A peer that sends a burst and closes: every message it sent arrives, in order. The receiving
// engine decodes a whole chunk at a time; what does not fit in the socket's pipe (its HWM) waits in
// the engine while reading is paused. node:net can report the peer's FIN while we are paused, right
// after the chunk that carried it; the engine then dropped what was waiting, and a PULL that read
// 20,000 16-byte messages from a PUSH that closed after sending them got 16,872 (tcp) or 17,384
// (ipc), with a libzmq sender too. libzmq delivers them all: it reads no further while its pipe is
// full, so it reaches the end only after the last message. Without the fix three of these four
// fail; the libzmq sender over ipc happens to deliver its FIN late enough to pass either way.

import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import '../../src/transport/register-node.js';
import { Pull, Push } from '../../src/socket/push-pull.js';
import { frame } from '../hardening/lib/wire.js';
import { closedStream, handshakeBytes, own, track } from '../transport/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'monocoque-end-backlog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const endpointFor = (t: 'tcp' | 'ipc'): string => (t === 'tcp' ? 'tcp://127.0.0.1:*' : `ipc://${join(dir, `s${n++}`)}`);

const COUNT = 20_000;

/** The n-th message: its index in 4 bytes, then 12 bytes of filler (16 bytes, the bench's size). */
function numbered(i: number): Buffer {
  const b = Buffer.alloc(16, 0x61);
  b.writeUInt32BE(i, 0);
  return b;
}

/** Receives until COUNT have come or a receive times out; returns the indexes in arrival order. */
async function receiveAll(pull: Pull): Promise<number[]> {
  const got: number[] = [];
  try {
    while (got.length < COUNT) {
      const [frame] = await pull.receive();
      got.push(frame!.readUInt32BE(0));
    }
  } catch (e) {
    if ((e as { code?: string }).code !== 'EAGAIN') throw e;
  }
  return got;
}

const inOrder = Array.from({ length: COUNT }, (_, i) => i);

for (const transport of ['tcp', 'ipc'] as const) {
  describe(`a sender that closes right after a burst, over ${transport}`, () => {
    it('our PUSH: the PULL receives every message, in order', async () => {
      // A receive that waits 2 s ends the count: nothing more is coming.
      const pull = new Pull({ receiveTimeout: 2000 });
      track(pull);
      await pull.bind(endpointFor(transport));
      // linger -1: its close sends everything queued, then the FIN. Its sends complete before we
      // read: what is not in its pipe is in the kernel's buffers or our engine.
      const push = new Push();
      push.connect(pull.lastEndpoint!);
      for (let i = 0; i < COUNT; i++) await push.send(numbered(i));
      push.close();
      expect(await receiveAll(pull)).toEqual(inOrder);
    });

    it('our PUSH binds and the PULL connects (its pipes outlive the stream): every message, in order', async () => {
      const push = new Push();
      await push.bind(endpointFor(transport));
      const pull = new Pull({ receiveTimeout: 2000 });
      track(pull);
      pull.connect(push.lastEndpoint!);
      for (let i = 0; i < COUNT; i++) await push.send(numbered(i));
      push.close();
      expect(await receiveAll(pull)).toEqual(inOrder);
    });

    it('a libzmq PUSH: the PULL receives every message, in order', async () => {
      const pull = new Pull({ receiveTimeout: 2000 });
      track(pull);
      await pull.bind(endpointFor(transport));
      // Its queue holds the whole burst, so its sends complete before we read (a unix socket's
      // buffers hold fewer bytes than tcp's on loopback).
      const push = new zmq.Push({ linger: -1, sendHighWaterMark: COUNT });
      push.connect(pull.lastEndpoint!);
      for (let i = 0; i < COUNT; i++) await push.send(numbered(i));
      push.close();
      expect(await receiveAll(pull)).toEqual(inOrder);
    });
  });
}

describe('a peer that breaks the protocol after a burst', () => {
  it('the messages before the broken frame are delivered, as libzmq delivers them, then the peer is dropped', async () => {
    // maxMessageSize 100: a 200-byte frame after the burst is a violation (EMSGSIZE) that closes
    // the connection. libzmq keeps what it decoded before (`session_base_t::engine_error` flushes
    // the pipe); the engine used to drop the messages it held while the socket's pipe was full.
    const pull = new Pull({ receiveTimeout: 2000, maxMessageSize: 100 });
    track(pull);
    await pull.bind('tcp://127.0.0.1:*');
    const port = Number(new URL(pull.lastEndpoint!.replace('tcp://', 'http://')).port);
    const raw = own(connect(port, '127.0.0.1')); // read, so it sees our FIN; destroyed after the test
    const dropped = closedStream(raw);
    const frames: Buffer[] = [handshakeBytes('PUSH')];
    for (let i = 0; i < COUNT; i++) frames.push(frame(0, numbered(i)));
    frames.push(frame(0, Buffer.alloc(200, 0x62)));
    raw.write(Buffer.concat(frames)); // no FIN: the violation alone ends it
    expect(await receiveAll(pull)).toEqual(inOrder);
    await dropped; // our side closed the connection
  });
});
