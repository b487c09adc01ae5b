import { describe, expect, it } from 'vitest';
import { Pipe, lowWaterMark } from '../../src/core/pipe.js';
import type { PipeReader, PipeWriter } from '../../src/core/pipe.js';

const msg = (s: string) => [new TextEncoder().encode(s)];
const text = (m: Uint8Array[] | undefined) => (m === undefined ? undefined : new TextDecoder().decode(m[0]));

function recorder() {
  const log: string[] = [];
  const reader: PipeReader = { pipeReadable: () => log.push('readable'), pipeEnded: () => log.push('ended') };
  const writer: PipeWriter = { pipeWritable: () => log.push('writable'), pipeDropped: () => log.push('dropped'), pipeDrained: () => log.push('drained') };
  return { log, reader, writer };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('pipe', () => {
  it('pipe: keeps messages in order and reports empty as undefined', () => {
    const p = new Pipe(0);
    for (let i = 0; i < 100; i++) expect(p.write(msg(`m${i}`))).toBe(true);
    for (let i = 0; i < 100; i++) expect(text(p.read())).toBe(`m${i}`);
    expect(p.read()).toBeUndefined();
  });

  it('pipe: goes mute at its HWM and refuses the next write without keeping it', () => {
    const p = new Pipe(3);
    expect(p.write(msg('a'))).toBe(true);
    expect(p.write(msg('b'))).toBe(true);
    expect(p.writable).toBe(true);
    expect(p.write(msg('c'))).toBe(true);
    expect(p.writable).toBe(false);
    expect(p.write(msg('d'))).toBe(false);
    expect(p.size).toBe(3);
    expect([text(p.read()), text(p.read()), text(p.read()), p.read()]).toEqual(['a', 'b', 'c', undefined]);
  });

  it('pipe: becomes writable again only once drained to the low-water mark, and tells the writer once', async () => {
    const { log, writer } = recorder();
    const p = new Pipe(4);
    p.writer = writer;
    for (const s of 'abcd') p.write(msg(s));
    expect(p.lowWater).toBe(2);
    p.read();
    expect(p.writable).toBe(false); // 3 left, above the low-water mark
    p.read();
    expect(p.writable).toBe(true); // 2 left
    await tick();
    expect(log).toEqual(['writable']);
  });

  it('pipe: tells an idle reader once when the first message arrives', () => {
    const { log, reader } = recorder();
    const p = new Pipe(0);
    p.reader = reader;
    p.write(msg('a'));
    p.write(msg('b'));
    expect(log).toEqual(['readable']);
    p.read();
    p.read();
    p.read(); // finds it empty: idle again
    p.write(msg('c'));
    expect(log).toEqual(['readable', 'readable']);
  });

  it('pipe: an ended pipe is drained by its reader before it reports ended', () => {
    const r = recorder();
    const p = new Pipe(0);
    p.reader = r.reader;
    p.writer = r.writer;
    p.write(msg('a'));
    p.end();
    expect(p.write(msg('b'))).toBe(false);
    expect(r.log).toEqual(['readable']);
    expect(text(p.read())).toBe('a');
    expect(r.log).toEqual(['readable', 'ended', 'drained']);
  });

  it('pipe: drop discards what is queued and tells both sides', () => {
    const r = recorder();
    const p = new Pipe(0);
    p.reader = r.reader;
    p.writer = r.writer;
    p.write(msg('a'));
    p.write(msg('b'));
    expect(p.drop()).toBe(2);
    expect(p.read()).toBeUndefined();
    expect(p.write(msg('c'))).toBe(false);
    expect(r.log).toEqual(['readable', 'dropped', 'ended']);
  });

  it('pipe: conflate keeps only the newest message and never fills', () => {
    const p = new Pipe(5, true);
    for (const s of ['1', '2', '3']) expect(p.write(msg(s))).toBe(true);
    expect(p.size).toBe(1);
    expect(p.writable).toBe(true);
    expect(text(p.read())).toBe('3');
  });

  it('pipe: grows past its first ring size without losing order', () => {
    const p = new Pipe(0);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5000; i++) p.write(msg(`${round}-${i}`));
      for (let i = 0; i < 5000; i++) expect(text(p.read())).toBe(`${round}-${i}`);
    }
  });

  it('pipe: resize to a larger HWM makes a full pipe writable again', async () => {
    const { log, writer } = recorder();
    const p = new Pipe(1);
    p.writer = writer;
    p.write(msg('a'));
    expect(p.writable).toBe(false);
    p.resize(3);
    expect(p.writable).toBe(true);
    await tick();
    expect(log).toEqual(['writable']);
  });

  it('pipe: a message taken (not read) counts toward the HWM until released', async () => {
    const { log, writer } = recorder();
    const p = new Pipe(4);
    p.writer = writer;
    for (const s of 'abcd') p.write(msg(s));
    expect([text(p.take()), text(p.take()), text(p.take())]).toEqual(['a', 'b', 'c']);
    expect([p.size, p.queued]).toEqual([1, 4]);
    expect(p.writable).toBe(false); // 1 queued + 3 held
    expect(p.write(msg('e'))).toBe(false);
    p.release(1);
    expect(p.writable).toBe(false); // 3 count: above the low-water mark (2)
    p.release(1);
    expect(p.writable).toBe(true);
    await tick();
    expect(log).toEqual(['writable']);
  });

  it('pipe: an ended pipe is drained only once what was taken is released', () => {
    const { log, reader, writer } = recorder();
    const p = new Pipe(0);
    p.reader = reader;
    p.writer = writer;
    p.write(msg('a'));
    p.end();
    expect(text(p.take())).toBe('a');
    expect(log).toEqual(['readable']);
    p.release(1);
    expect(log).toEqual(['readable', 'ended', 'drained']);
  });

  it('pipe: keepCopies copies the frames of 129 bytes to 2 KiB already queued and written after, and leaves the rest', () => {
    const p = new Pipe(0);
    const small = new Uint8Array(128);
    const mid = new Uint8Array(1024);
    const big = new Uint8Array(4096);
    const before = [small, mid, big];
    p.write(before);
    p.keepCopies(true);
    const after = [mid];
    p.write(after);
    p.keepCopies(false);
    const off = [mid];
    p.write(off);
    const [first, second, third] = [p.read()!, p.read()!, p.read()!];
    expect(first[0]).toBe(small); // copied at send, by the socket
    expect(first[1]).not.toBe(mid);
    expect([...first[1]!]).toEqual([...mid]);
    expect(first[2]).toBe(big); // copied at send, by a socket with a stream endpoint
    expect(second[0]).not.toBe(mid);
    expect(third[0]).toBe(mid);
  });

  it('lowWaterMark: half for small HWMs, HWM minus 1024 for large ones, 0 for unlimited', () => {
    expect(lowWaterMark(0)).toBe(0);
    expect(lowWaterMark(1)).toBe(1);
    expect(lowWaterMark(2)).toBe(1);
    expect(lowWaterMark(2000)).toBe(1000);
    expect(lowWaterMark(10000)).toBe(8976);
  });
});
