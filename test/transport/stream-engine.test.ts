// When the engine writes: the first message after a quiet spell goes to node:net before the
// sender's code resumes (a round trip waits for no turn of the loop), and what follows in the same
// turn is one batch. The stream is a stand-in that records writes; the bytes are checked with the
// decoder.

import { EventEmitter } from 'node:events';
import type { Socket as NetSocket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Pipe } from '../../src/core/pipe.js';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';
import { readyCommand } from '../../src/protocol/commands.js';
import { encodeGreeting } from '../../src/protocol/greeting.js';
import { StreamEngine } from '../../src/transport/stream-engine.js';
import type { EngineHost } from '../../src/transport/stream-engine.js';

/** Records each corked batch node:net would get (a write outside cork is a batch of one). */
class RecordingStream extends EventEmitter {
  batches: Uint8Array[][] = [];
  #corked: Uint8Array[] | undefined;
  destroyed = false;
  writableLength = 0;
  setNoDelay(): void {}
  pause(): void {}
  resume(): void {}
  destroy(): void {
    this.destroyed = true;
  }
  cork(): void {
    this.#corked = [];
  }
  uncork(): void {
    if (this.#corked !== undefined && this.#corked.length > 0) this.batches.push(this.#corked);
    this.#corked = undefined;
  }
  /** Set to false to play a peer that does not read: every write is taken but refuses more. */
  accepting = true;
  write(chunk: Uint8Array): boolean {
    if (this.#corked !== undefined) this.#corked.push(chunk);
    else this.batches.push([chunk]);
    return this.accepting;
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The messages (one frame each, as strings) in a run of written bytes. */
function bodies(batches: Uint8Array[][]): string[] {
  const out: string[] = [];
  const violation = new FrameDecoder({ maxMessageSize: -1 }).push(Buffer.concat(batches.flat()), {
    onMessage: (frames) => out.push(frames.map((f) => Buffer.from(f).toString()).join('|')),
    onCommand: (name) => out.push(`command ${name}`),
  });
  expect(violation).toBeUndefined();
  return out;
}

/** An engine past its handshake with a PULL peer, its pipes attached, its greeting and READY written. */
async function activeEngine(): Promise<{ stream: RecordingStream; out: Pipe; engine: StreamEngine }> {
  const stream = new RecordingStream();
  let ready = false;
  const host = {
    engineGreeted() {},
    engineReady() {
      ready = true;
    },
    engineFailed() {},
    engineClosed() {},
    engineTraffic() {},
    enginePinged() {},
  } satisfies EngineHost;
  const engine = new StreamEngine(stream as unknown as NetSocket, host, { socketType: 'PUSH', maxMessageSize: -1 });
  engine.start();
  stream.emit('data', Buffer.from(encodeGreeting('NULL', false)));
  stream.emit('data', Buffer.from(readyCommand('PULL')));
  expect(ready).toBe(true);
  const out = new Pipe(1000);
  engine.attach(out, new Pipe(1000));
  await nextTurn();
  await nextTurn();
  stream.batches = [];
  return { stream, out, engine };
}

/** A PING command frame (RFC 37): TTL 0 and a context naming it. */
function ping(context: string): Buffer {
  const body = Buffer.concat([Buffer.from([4]), Buffer.from('PING'), Buffer.from([0, 0]), Buffer.from(context)]);
  return Buffer.concat([Buffer.from([0x04, body.length]), body]);
}

/** The PONG contexts in the written bytes. */
function pongs(batches: Uint8Array[][]): string[] {
  const out: string[] = [];
  new FrameDecoder({ maxMessageSize: -1 }).push(Buffer.concat(batches.flat()), {
    onMessage: () => {},
    onCommand: (name, data) => {
      if (name === 'PONG') out.push(Buffer.from(data).toString());
    },
  });
  return out;
}

describe('stream engine writes', () => {
  it('engine: the first message after a quiet spell is written before the sender resumes', async () => {
    const { stream, out } = await activeEngine();
    out.write([Buffer.from('ping')]);
    await Promise.resolve(); // the sender's `await send()` resumes after one microtask
    expect(bodies(stream.batches)).toEqual(['ping']);
    // After the loop has gone round, the next message is again the first of a quiet spell.
    await nextTurn();
    stream.batches = [];
    out.write([Buffer.from('pong')]);
    await Promise.resolve();
    expect(bodies(stream.batches)).toEqual(['pong']);
  });

  it('engine: messages following the first in the same turn go out together in one batch', async () => {
    const { stream, out } = await activeEngine();
    out.write([Buffer.from('m0')]);
    await Promise.resolve();
    for (let i = 1; i <= 50; i++) {
      out.write([Buffer.from(`m${i}`)]);
      await Promise.resolve();
    }
    expect(stream.batches.length).toBe(1);
    await nextTurn();
    expect(stream.batches.length).toBe(2);
    expect(bodies(stream.batches)).toEqual(Array.from({ length: 51 }, (_, i) => `m${i}`));
  });

  it('engine: a sender that keeps going turn after turn gets one batch per turn, no lone first message', async () => {
    const { stream, out } = await activeEngine();
    let n = 0;
    for (let turn = 0; turn < 4; turn++) {
      for (let i = 0; i < 10; i++) {
        out.write([Buffer.from(`m${n++}`)]);
        await Promise.resolve(); // as `await send()` does
      }
      await nextTurn();
    }
    // The first message went alone (the quiet spell's), then one batch per turn.
    expect(stream.batches.map((b) => bodies([b]).length)).toEqual([1, 9, 10, 10, 10]);
    // Once a turn passes with nothing to send, the next message is again written at once.
    await nextTurn();
    await nextTurn();
    stream.batches = [];
    out.write([Buffer.from('after')]);
    await Promise.resolve();
    expect(bodies(stream.batches)).toEqual(['after']);
  });

  it('engine: a peer that floods PINGs and does not read gets one PONG for all of them, after drain', async () => {
    const { stream } = await activeEngine();
    stream.emit('data', ping('p0'));
    await nextTurn();
    expect(pongs(stream.batches)).toEqual(['p0']);
    stream.accepting = false; // node:net now refuses more: the peer is not reading
    stream.emit('data', ping('p1'));
    await nextTurn();
    for (let i = 2; i < 10_000; i++) stream.emit('data', ping(`p${i}`));
    await nextTurn();
    expect(pongs(stream.batches)).toEqual(['p0', 'p1']); // p1's write is the one that was refused
    stream.accepting = true;
    stream.emit('drain');
    expect(pongs(stream.batches)).toEqual(['p0', 'p1', 'p9999']); // the newest, once
    stream.emit('data', ping('after'));
    await nextTurn();
    expect(pongs(stream.batches)).toEqual(['p0', 'p1', 'p9999', 'after']);
  });
});
