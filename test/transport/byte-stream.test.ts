// The node:net adapter behind the ByteStream interface, over real loopback tcp: gathered writes in
// order, back-pressure and drain, pause/resume, the peer's FIN as `end`, graceful end and destroy.

import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket as NetSocket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ByteStreamListener } from '../../src/transport/byte-stream.js';
import { NodeStream } from '../../src/transport/node-stream.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** Records what the adapter reports, in order. */
class Recorder implements ByteStreamListener {
  readonly events: string[] = [];
  readonly data: Buffer[] = [];
  #waiters: (() => void)[] = [];
  onStreamData(chunk: Uint8Array): void {
    this.data.push(Buffer.from(chunk));
    this.#wake();
  }
  onStreamDrain(): void {
    this.events.push('drain');
    this.#wake();
  }
  onStreamEnd(): void {
    this.events.push('end');
    this.#wake();
  }
  onStreamClose(): void {
    this.events.push('close');
    this.#wake();
  }
  get received(): Buffer {
    return Buffer.concat(this.data);
  }
  /** Resolves once `cond` holds (checked after each report). */
  async until(cond: () => boolean): Promise<void> {
    while (!cond()) await new Promise<void>((r) => this.#waiters.push(r));
  }
  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}

/** A connected pair: `ours` wrapped in a NodeStream reporting to a Recorder, `theirs` a plain node:net socket. */
async function pair(): Promise<{ stream: NodeStream; ours: NetSocket; theirs: NetSocket; seen: Recorder }> {
  const server: Server = createServer();
  const accepted = new Promise<NetSocket>((r) => server.once('connection', r));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const ours = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
  await new Promise((r) => ours.once('connect', r));
  const theirs = await accepted;
  theirs.on('error', () => {});
  cleanup.push(() => {
    ours.destroy();
    theirs.destroy();
    server.close();
  });
  const stream = new NodeStream(ours);
  const seen = new Recorder();
  stream.open(seen);
  return { stream, ours, theirs, seen };
}

/** Everything `s` receives until it ends. */
function collect(s: NetSocket): Promise<Buffer> {
  const parts: Buffer[] = [];
  s.on('data', (c: Buffer) => parts.push(c));
  return new Promise((r) => s.once('end', () => r(Buffer.concat(parts))));
}

describe('NodeStream (node:net behind ByteStream)', () => {
  it('writes a gathered batch whole and in order', async () => {
    const { stream, theirs } = await pair();
    const got = collect(theirs);
    expect(stream.write([Buffer.from('ab'), Buffer.from('cd'), Buffer.alloc(1000, 'e')])).toBe(true);
    expect(stream.write([Buffer.from('f')])).toBe(true);
    stream.end(-1);
    expect((await got).equals(Buffer.concat([Buffer.from('abcd'), Buffer.alloc(1000, 'e'), Buffer.from('f')]))).toBe(true);
  });

  it('reports data in order, and bytes sent while paused once resumed', async () => {
    const { stream, ours, theirs, seen } = await pair();
    theirs.write('one ');
    await seen.until(() => seen.received.length === 4);
    stream.pause();
    expect(ours.isPaused()).toBe(true);
    theirs.write('two');
    stream.resume();
    expect(ours.isPaused()).toBe(false);
    await seen.until(() => seen.received.length === 7);
    expect(seen.received.toString()).toBe('one two');
  });

  it('refuses more (write returns false) while the peer does not read, and reports drain once it does', async () => {
    const { stream, theirs, seen } = await pair();
    theirs.pause();
    let accepted = true;
    for (let i = 0; i < 1000 && accepted; i++) accepted = stream.write([Buffer.alloc(1 << 20)]);
    expect(accepted).toBe(false);
    theirs.resume();
    await seen.until(() => seen.events.includes('drain'));
  });

  it('takes writes until 256 KiB wait in node:net\'s buffer, not only its 16 KiB (the kernel is kept fed)', async () => {
    const { stream, ours, theirs, seen } = await pair();
    theirs.pause();
    const beyondNode: number[] = []; // what waited in node:net's buffer after writes it said "wait" to, and we took
    let accepted = true;
    for (let i = 0; i < 4000 && accepted; i++) {
      accepted = stream.write([Buffer.alloc(32 * 1024)]);
      if (accepted && ours.writableLength > ours.writableHighWaterMark) beyondNode.push(ours.writableLength);
    }
    expect(accepted).toBe(false);
    expect(ours.writableLength).toBeGreaterThanOrEqual(256 * 1024);
    expect(beyondNode.length).toBeGreaterThan(0);
    expect(Math.max(...beyondNode)).toBeLessThan(256 * 1024);
    theirs.resume();
    await seen.until(() => seen.events.includes('drain'));
  });

  it('reports the peer\'s FIN as end, then close, once each', async () => {
    const { theirs, seen } = await pair();
    theirs.end();
    await seen.until(() => seen.events.includes('close'));
    expect(seen.events).toEqual(['end', 'close']);
  });

  it('end() lets everything written out before it closes', async () => {
    const { stream, theirs, seen } = await pair();
    const got = collect(theirs);
    const big = Buffer.alloc(8 << 20, 'z');
    stream.write([big]);
    stream.end(-1);
    expect((await got).length).toBe(big.length);
    await seen.until(() => seen.events.includes('close'));
    expect(seen.events.filter((e) => e === 'close')).toEqual(['close']);
  });

  it('end(grace) closes after the grace time when the peer does not read', async () => {
    const { stream, ours, theirs, seen } = await pair();
    theirs.pause();
    while (stream.write([Buffer.alloc(1 << 20)]));
    expect(ours.writableLength).toBeGreaterThan(0);
    stream.end(20);
    await seen.until(() => seen.events.includes('close'));
    expect(ours.destroyed).toBe(true);
  });

  it('destroy() closes at once, dropping what was not written, and reports close once', async () => {
    const { stream, ours, theirs, seen } = await pair();
    theirs.pause();
    while (stream.write([Buffer.alloc(1 << 20)]));
    stream.destroy();
    stream.destroy();
    expect(ours.destroyed).toBe(true);
    await seen.until(() => seen.events.includes('close'));
    expect(seen.events).toEqual(['close']);
  });
});
