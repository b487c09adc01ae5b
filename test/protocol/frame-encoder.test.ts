import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  COPY_THRESHOLD,
  encodeCommand,
  encodeMessage,
  FrameDecoder,
  FrameEncoder,
} from '../../src/protocol/index.js';
import { ascii, concat, hex, Recorder } from './helpers.js';
import { type Item, itemArb } from './arbitraries.js';

function gathered(frames: Uint8Array[]): { bytes: number[]; chunks: Uint8Array[]; count: number } {
  const chunks: Uint8Array[] = [];
  const count = encodeMessage(frames, chunks);
  return { bytes: Array.from(concat(chunks)), chunks, count };
}

describe('encoder: encodeMessage', () => {
  it('encodes a one-frame message "hello" as a short last frame', () => {
    const { bytes, count } = gathered([ascii('hello')]);
    expect(bytes).toEqual(Array.from(hex('00 05 68 65 6c 6c 6f')));
    expect(count).toBe(7);
  });

  it('sets MORE on every frame but the last (REQ envelope)', () => {
    expect(gathered([new Uint8Array(0), ascii('hi')]).bytes).toEqual(Array.from(hex('01 00 00 02 68 69')));
  });

  it('uses a short header at 255 bytes and a LONG header at 256', () => {
    const at255 = gathered([new Uint8Array(255)]).bytes;
    expect(at255.slice(0, 2)).toEqual([0x00, 0xff]);
    expect(at255).toHaveLength(257);
    const at256 = gathered([new Uint8Array(256)]).bytes;
    expect(at256.slice(0, 9)).toEqual(Array.from(hex('02 00 00 00 00 00 00 01 00')));
    expect(at256).toHaveLength(265);
  });

  it('copies small frames into one chunk', () => {
    const { chunks } = gathered([ascii('a'), ascii('bb'), ascii('ccc')]);
    expect(chunks).toHaveLength(1);
  });

  it('passes bodies above the copy threshold by reference, without copying', () => {
    const big = new Uint8Array(COPY_THRESHOLD + 1).fill(9);
    const { chunks, count } = gathered([ascii('id'), big, ascii('tail')]);
    expect(chunks).toHaveLength(3);
    expect(chunks[1]).toBe(big);
    expect(Array.from(chunks[0])).toEqual(Array.from(hex('01 02 69 64 03 00 00 00 00 00 00 08 01')));
    expect(Array.from(chunks[2])).toEqual(Array.from(hex('00 04 74 61 69 6c')));
    expect(count).toBe(4 + 9 + big.length + 6);
  });

  it('returns Node Buffers for the chunks it allocates', () => {
    expect(Buffer.isBuffer(gathered([ascii('x')]).chunks[0])).toBe(true);
  });
});

describe('encoder: encodeCommand', () => {
  it('encodes PLAIN HELLO admin/secret as PROTOCOL.md §10', () => {
    const data = hex('05 61 64 6d 69 6e 06 73 65 63 72 65 74');
    expect(Array.from(encodeCommand('HELLO', data))).toEqual(
      Array.from(hex('04 13 05 48 45 4c 4c 4f 05 61 64 6d 69 6e 06 73 65 63 72 65 74')),
    );
  });

  it('encodes a command without data (WELCOME)', () => {
    expect(Array.from(encodeCommand('WELCOME'))).toEqual(Array.from(hex('04 08 07 57 45 4c 43 4f 4d 45')));
  });

  it('uses a LONG header (flags 0x06) iff the body exceeds 255 octets', () => {
    // name-len 1 + "MESSAGE" 7 + data: 247 data -> body 255 short; 248 -> body 256 long.
    const short = encodeCommand('MESSAGE', new Uint8Array(247));
    expect([short[0], short[1], short.length]).toEqual([0x04, 0xff, 257]);
    const long = encodeCommand('MESSAGE', new Uint8Array(248));
    expect(Array.from(long.subarray(0, 9))).toEqual(Array.from(hex('06 00 00 00 00 00 00 01 00')));
    expect(long.length).toBe(265);
  });

  it('refuses an empty, over-long or non-ASCII name with EINVAL', () => {
    expect(() => encodeCommand('')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => encodeCommand('A'.repeat(256))).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => encodeCommand('PÏNG')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('encoder: FrameEncoder batching', () => {
  function encodeWith(enc: FrameEncoder, items: Item[]): Uint8Array {
    for (const item of items) {
      if ('message' in item) enc.writeMessage(item.message);
      else enc.writeCommand(item.command, item.data);
    }
    return concat(enc.flush());
  }

  function reference(items: Item[]): Uint8Array {
    const chunks: Uint8Array[] = [];
    for (const item of items) {
      if ('message' in item) encodeMessage(item.message, chunks);
      else chunks.push(encodeCommand(item.command, item.data));
    }
    return concat(chunks);
  }

  it('produces the same bytes as encodeMessage/encodeCommand for any batch, whatever the pool size', () => {
    fc.assert(
      fc.property(
        fc.array(itemArb, { maxLength: 10 }),
        fc.constantFrom(16, 300, 4096, 65536),
        (items, poolSize) => {
          const enc = new FrameEncoder({ poolSize });
          expect(Array.from(encodeWith(enc, items))).toEqual(Array.from(reference(items)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('batches many small messages into one chunk and counts pending bytes', () => {
    const enc = new FrameEncoder();
    for (let i = 0; i < 100; i++) enc.writeMessage([ascii('topic'), ascii('payload')]);
    expect(enc.pendingBytes).toBe(100 * (7 + 9));
    const chunks = enc.flush();
    expect(chunks).toHaveLength(1);
    expect(enc.pendingBytes).toBe(0);
    expect(enc.flush()).toEqual([]);
  });

  it('starts with a small pool and doubles it as it fills, up to POOL_SIZE (an idle connection holds 4 KiB, not 64)', () => {
    const enc = new FrameEncoder();
    enc.writeMessage([ascii('hello')]);
    const [first] = enc.flush();
    expect(first!.buffer.byteLength).toBe(4096);
    const sizes = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      enc.writeMessage([new Uint8Array(100)]);
      for (const c of enc.flush()) sizes.add(c.buffer.byteLength);
    }
    expect([...sizes].sort((a, b) => a - b)).toEqual([4096, 8192, 16384, 32768, 65536]);
  });

  it('references large bodies between pooled segments', () => {
    const enc = new FrameEncoder();
    const big = new Uint8Array(100_000);
    enc.writeMessage([ascii('a'), big]);
    enc.writeCommand('PING', hex('00 00'));
    const chunks = enc.flush();
    expect(chunks).toHaveLength(3);
    expect(chunks[1]).toBe(big);
  });

  it('references large command data', () => {
    const enc = new FrameEncoder();
    const data = new Uint8Array(COPY_THRESHOLD + 10);
    enc.writeCommand('MESSAGE', data);
    const chunks = enc.flush();
    expect(chunks[1]).toBe(data);
    expect(Array.from(concat(chunks))).toEqual(Array.from(encodeCommand('MESSAGE', data)));
  });

  it('never rewrites bytes handed out by an earlier flush', () => {
    const enc = new FrameEncoder({ poolSize: 64 });
    enc.writeMessage([ascii('first')]);
    const first = enc.flush();
    const snapshot = Array.from(concat(first));
    for (let i = 0; i < 50; i++) enc.writeMessage([ascii(`message ${i}`)]);
    enc.flush();
    expect(Array.from(concat(first))).toEqual(snapshot);
  });

  it('writeFrame sets MORE explicitly', () => {
    const enc = new FrameEncoder();
    enc.writeFrame(ascii('a'), true);
    enc.writeFrame(ascii('b'), false);
    expect(Array.from(concat(enc.flush()))).toEqual(Array.from(hex('01 01 61 00 01 62')));
  });

  it('round-trips through the decoder', () => {
    fc.assert(
      fc.property(fc.array(itemArb, { minLength: 1, maxLength: 6 }), (items) => {
        const sink = new Recorder();
        expect(new FrameDecoder().push(encodeWith(new FrameEncoder(), items), sink)).toBeUndefined();
        expect(sink.events.length).toBe(items.length);
      }),
      { numRuns: 100 },
    );
  });
});
