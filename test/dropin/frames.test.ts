// What send() takes, as zeromq.js's MessageLike and its outgoing message: numbers and other values
// go as their String(), SharedArrayBuffer as its bytes; a missing frame is still refused.

import { describe, expect, it } from 'vitest';
import { Context, Pair } from '../../src/index.js';
import type { MessageLike } from '../../src/index.js';
import { COPY_AT_SEND, toFrame, toMessage } from '../../src/core/frame.js';
import { closeAfterEach, text } from '../helpers/sockets.js';

const track = closeAfterEach();

async function pair(name: string): Promise<[Pair, Pair]> {
  const context = new Context();
  const a = track(new Pair({ context }));
  const b = track(new Pair({ context }));
  await a.bind(`inproc://${name}`);
  b.connect(`inproc://${name}`);
  return [a, b];
}

describe('frames: values coerced to text', () => {
  it('numbers, booleans, bigints and plain objects are sent as String(value)', () => {
    const values: unknown[] = [16.19, -0, Number.NaN, true, false, 12n, {}, { toString: () => 'custom' }, new Date(0)];
    const got = values.map((v) => Buffer.from(toFrame(v as MessageLike)).toString());
    expect(got).toEqual(['16.19', '0', 'NaN', 'true', 'false', '12', '[object Object]', 'custom', String(new Date(0))]);
  });

  it('a function and a promise go as their text too, over a socket', async () => {
    const [a, b] = await pair('coerce');
    const f = function named(): void {};
    await a.send([f as never, Promise.resolve() as never, 7]);
    expect(text(await b.receive())).toEqual([String(f), '[object Promise]', '7']);
  });

  it('undefined, symbols and nested arrays are still refused (EINVAL naming the frame)', () => {
    expect(() => toMessage(undefined as never)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => toMessage(['a', Symbol('s') as never])).toThrow(/^frame 1 of 2 is a symbol \(s\), which is not sendable/);
    expect(() => toMessage(['a', [1] as never])).toThrow(/frames may not be nested/);
  });
});

describe('frames: SharedArrayBuffer', () => {
  it('a small one is copied at send: a later change does not reach the message', () => {
    const sab = new SharedArrayBuffer(4);
    new Uint8Array(sab).set([1, 2, 3, 4]);
    const frame = toFrame(sab);
    new Uint8Array(sab)[0] = 9;
    expect([...frame]).toEqual([1, 2, 3, 4]);
  });

  it('a large one is carried by reference, as other bytes over the copy size are', () => {
    const sab = new SharedArrayBuffer(COPY_AT_SEND + 1);
    const frame = toFrame(sab);
    expect(frame.buffer).toBe(sab);
    expect(frame.byteLength).toBe(COPY_AT_SEND + 1);
  });

  it('a view over shared memory is sent as its bytes', async () => {
    const [a, b] = await pair('shared');
    const view = new Uint8Array(new SharedArrayBuffer(8), 2, 3);
    view.set([104, 105, 33]);
    await a.send([new SharedArrayBuffer(0), view]);
    expect(text(await b.receive())).toEqual(['', 'hi!']);
  });
});
