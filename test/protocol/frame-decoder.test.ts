import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import {
  encodeCommand,
  encodeMessage,
  FrameDecoder,
  type FrameSink,
} from '../../src/protocol/index.js';
import { ascii, concat, hex, Recorder } from './helpers.js';
import { cut, type Item, itemArb } from './arbitraries.js';

function encodeItems(items: Item[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const item of items) {
    if ('message' in item) encodeMessage(item.message, chunks);
    else chunks.push(encodeCommand(item.command, item.data));
  }
  return concat(chunks);
}

function decode(chunks: Uint8Array[], opts?: { maxMessageSize?: number }) {
  const decoder = new FrameDecoder(opts);
  const sink = new Recorder();
  let violation;
  for (const c of chunks) {
    violation = decoder.push(c, sink);
    if (violation) break;
  }
  return { events: sink.events, violation, decoder };
}

const asArrays = (events: Item[]) =>
  events.map((e) =>
    'message' in e
      ? { message: e.message.map((f) => Array.from(f)) }
      : { command: e.command, data: Array.from(e.data) },
  );

describe('decoder: hand-written frames (PROTOCOL.md §3)', () => {
  it('a short last frame "hello" yields a one-frame message', () => {
    const { events, violation } = decode([hex('00 05 68 65 6c 6c 6f')]);
    expect(violation).toBeUndefined();
    expect(asArrays(events)).toEqual([{ message: [Array.from(ascii('hello'))] }]);
  });

  it('an empty MORE frame then a body yields a two-frame message (REQ delimiter)', () => {
    const { events } = decode([hex('01 00 00 02 68 69')]);
    expect(asArrays(events)).toEqual([{ message: [[], [0x68, 0x69]] }]);
  });

  it('a long frame of 256 bytes yields one frame', () => {
    const body = Uint8Array.from({ length: 256 }, (_, i) => i);
    const { events } = decode([concat([hex('02 00 00 00 00 00 00 01 00'), body])]);
    expect(asArrays(events)).toEqual([{ message: [Array.from(body)] }]);
  });

  it('a LONG header announcing a small size is accepted', () => {
    const { events, violation } = decode([hex('02 00 00 00 00 00 00 00 02 61 62')]);
    expect(violation).toBeUndefined();
    expect(asArrays(events)).toEqual([{ message: [[0x61, 0x62]] }]);
  });

  it('reserved flag bits are ignored', () => {
    const { events, violation } = decode([hex('f9 01 61 f8 01 62')]);
    expect(violation).toBeUndefined();
    expect(asArrays(events)).toEqual([{ message: [[0x61], [0x62]] }]);
  });

  it('a command yields its name and the data after the name', () => {
    const { events } = decode([hex('04 0a 04 50 49 4e 47 00 00 4c 4f 4c')]);
    expect(asArrays(events)).toEqual([{ command: 'PING', data: [0, 0, 0x4c, 0x4f, 0x4c] }]);
  });

  it('a long command (flags 0x06) is accepted', () => {
    const { events } = decode([hex('06 00 00 00 00 00 00 00 05 04 50 4f 4e 47')]);
    expect(asArrays(events)).toEqual([{ command: 'PONG', data: [] }]);
  });

  it('a command with MORE set is still a command (libzmq is lenient)', () => {
    const { events } = decode([hex('05 05 04 50 4f 4e 47')]);
    expect(asArrays(events)).toEqual([{ command: 'PONG', data: [] }]);
  });

  it('an unknown command name is reported as spelled', () => {
    const { events } = decode([hex('04 04 03 46 4f 4f')]);
    expect(asArrays(events)).toEqual([{ command: 'FOO', data: [] }]);
  });

  it('a command between the frames of a message is delivered at once and the message stays whole', () => {
    const { events } = decode([hex('01 01 61 04 05 04 50 49 4e 47 00 01 62')]);
    expect(asArrays(events)).toEqual([
      { command: 'PING', data: [] },
      { message: [[0x61], [0x62]] },
    ]);
  });

  it('a long frame split over three chunks yields one frame', () => {
    const body = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const stream = concat([hex('02 00 00 00 00 00 00 01 2c'), body]);
    const { events } = decode([stream.subarray(0, 4), stream.subarray(4, 100), stream.subarray(100)]);
    expect(asArrays(events)).toEqual([{ message: [Array.from(body)] }]);
  });
});

describe('decoder: buffers', () => {
  it('hands out views into the chunk for frames that arrive whole', () => {
    const chunk = Buffer.from(hex('01 03 61 62 63 00 02 64 65'));
    const got: Uint8Array[][] = [];
    new FrameDecoder().push(chunk, { onMessage: (f) => got.push(f), onCommand: () => {} });
    expect(got).toHaveLength(1);
    for (const f of got[0]) {
      expect(f.buffer).toBe(chunk.buffer);
      expect(Buffer.isBuffer(f)).toBe(true);
    }
    expect(got[0][0].byteOffset).toBe(chunk.byteOffset + 2);
  });

  it('hands out Buffers over the same memory when a chunk is a plain Uint8Array part-way into its buffer', () => {
    const memory = new Uint8Array(32);
    memory.set(hex('01 03 61 62 63 00 02 64 65'), 7);
    const chunk = memory.subarray(7, 16);
    const got: Uint8Array[][] = [];
    new FrameDecoder().push(chunk, { onMessage: (f) => got.push(f), onCommand: () => {} });
    const [abc, de] = got[0] as [Uint8Array, Uint8Array];
    expect([Buffer.isBuffer(abc), Buffer.isBuffer(de)]).toEqual([true, true]);
    expect([abc.byteOffset, abc.length, de.byteOffset, de.length]).toEqual([9, 3, 14, 2]);
    memory[9] = 0x7a; // the same memory: no copy was made
    expect(Buffer.from(abc).toString()).toBe('zbc');
    expect(Buffer.from(de).toString()).toBe('de');
  });

  it('hands out command data as a view into the chunk', () => {
    const chunk = hex('04 0b 09 53 55 42 53 43 52 49 42 45 41');
    let data: Uint8Array | undefined;
    new FrameDecoder().push(chunk, { onMessage: () => {}, onCommand: (_n, d) => (data = d) });
    expect(data?.buffer).toBe(chunk.buffer);
    expect(Array.from(data ?? [])).toEqual([0x41]);
  });

  it('copies a frame spanning chunks into a fresh Node Buffer', () => {
    // A Buffer over its own ArrayBuffer (small Buffer.from() copies share Node's pool with allocUnsafe).
    const stream = Buffer.from(hex('00 04 61 62 63 64').buffer);
    const got: Uint8Array[] = [];
    const sink: FrameSink = { onMessage: (f) => got.push(...f), onCommand: () => {} };
    const d = new FrameDecoder();
    d.push(stream.subarray(0, 3), sink);
    d.push(stream.subarray(3), sink);
    expect(Buffer.isBuffer(got[0])).toBe(true);
    expect(got[0].buffer).not.toBe(stream.buffer);
    stream.fill(0);
    expect(Array.from(got[0])).toEqual([0x61, 0x62, 0x63, 0x64]);
  });

  it('reassembles a frame larger than the eager limit from many chunks', () => {
    const size = 3 * 1024 * 1024 + 17;
    const body = Uint8Array.from({ length: size }, (_, i) => (i * 31) & 0xff);
    const chunks: Uint8Array[] = [];
    encodeMessage([body], chunks);
    const stream = concat(chunks);
    const parts = cut(stream, [5, 65536, 1_000_000, 2_000_000, 3_000_000]);
    const got: Uint8Array[] = [];
    const d = new FrameDecoder();
    for (const p of parts) expect(d.push(p, { onMessage: (f) => got.push(...f), onCommand: () => {} })).toBeUndefined();
    expect(got).toHaveLength(1);
    expect(Buffer.isBuffer(got[0])).toBe(true);
    expect(Buffer.compare(Buffer.from(got[0]), Buffer.from(body))).toBe(0);
  });
});

describe('decoder: limits and violations', () => {
  it('detects a frame over maxMessageSize from the header, before the body arrives', () => {
    const d = new FrameDecoder({ maxMessageSize: 100 });
    const v = d.push(hex('00 65'), new Recorder());
    expect(v?.code).toBe('EMSGSIZE');
    expect(v?.message).toMatch(/101/);
  });

  it('detects an oversize long header split across chunks', () => {
    const d = new FrameDecoder({ maxMessageSize: 1000 });
    const sink = new Recorder();
    expect(d.push(hex('02 00 00 00'), sink)).toBeUndefined();
    expect(d.push(hex('00 00 00 10 00'), sink)?.code).toBe('EMSGSIZE');
  });

  it('applies maxMessageSize per frame, commands included, and accepts a frame of exactly the limit', () => {
    const ok = decode([hex('01 02 61 62 00 02 63 64')], { maxMessageSize: 2 });
    expect(ok.violation).toBeUndefined();
    expect(ok.events).toHaveLength(1);
    expect(decode([hex('04 05 04 50 49 4e 47')], { maxMessageSize: 4 }).violation?.code).toBe('EMSGSIZE');
  });

  it('treats maxMessageSize -1 as unlimited', () => {
    const body = new Uint8Array(70000);
    const chunks: Uint8Array[] = [];
    encodeMessage([body], chunks);
    expect(decode([concat(chunks)], { maxMessageSize: -1 }).events).toHaveLength(1);
  });

  it('refuses an 8-byte size above 2^53-1', () => {
    const v = decode([hex('02 00 20 00 00 00 00 00 00')]).violation;
    expect(v?.code).toBe('EMSGSIZE');
    expect(v?.message).toMatch(/9007199254740992/);
    expect(decode([hex('02 ff ff ff ff ff ff ff ff')]).violation?.code).toBe('EMSGSIZE');
  });

  it('waits without allocating for a declared size of exactly 2^53-1', () => {
    const { violation, decoder } = decode([hex('02 00 1f ff ff ff ff ff ff 61 62')]);
    expect(violation).toBeUndefined();
    expect(decoder.inMessage).toBe(true);
  });

  it('refuses a command with name length 0', () => {
    expect(decode([hex('04 02 00 41')]).violation?.code).toBe('ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED');
  });

  it('refuses a command whose name is longer than its body', () => {
    expect(decode([hex('04 03 05 52 45')]).violation?.code).toBe('ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED');
  });

  it('refuses an empty command frame', () => {
    expect(decode([hex('04 00')]).violation?.code).toBe('ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED');
  });

  it('stays failed: later chunks return the same violation and deliver nothing', () => {
    const d = new FrameDecoder({ maxMessageSize: 1 });
    const sink = new Recorder();
    const v = d.push(hex('00 02 61 62'), sink);
    expect(d.push(hex('00 01 61'), sink)).toBe(v);
    expect(sink.events).toEqual([]);
  });

  it('garbage never throws: random bytes yield frames or a violation', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }),
        fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
        (chunks, max) => {
          const d = new FrameDecoder({ maxMessageSize: max });
          const sink = new Recorder();
          for (const c of chunks) {
            const v = d.push(c, sink);
            if (v !== undefined) {
              expect(typeof v.code).toBe('string');
              expect(typeof v.message).toBe('string');
              break;
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('decoder: control', () => {
  it('reset() discards a partial message', () => {
    const d = new FrameDecoder();
    const sink = new Recorder();
    d.push(hex('01 01 61 00 05 62'), sink);
    expect(d.inMessage).toBe(true);
    d.reset();
    expect(d.inMessage).toBe(false);
    d.push(hex('00 01 63'), sink);
    expect(asArrays(sink.events)).toEqual([{ message: [[0x63]] }]);
  });

  it('stop() from the sink ends decoding after the current frame', () => {
    const d = new FrameDecoder();
    const seen: string[] = [];
    const sink: FrameSink = {
      onMessage: () => seen.push('message'),
      onCommand: (name) => {
        seen.push(name);
        d.stop();
      },
    };
    expect(d.push(hex('04 06 05 52 45 41 44 59 00 01 61'), sink)).toBeUndefined();
    d.push(hex('00 01 61'), sink);
    expect(seen).toEqual(['READY']);
  });
});

describe('decoder: properties', () => {
  it('encode then decode is identity for random messages and commands', () => {
    fc.assert(
      fc.property(fc.array(itemArb, { maxLength: 8 }), (items) => {
        const { events, violation } = decode([encodeItems(items)]);
        expect(violation).toBeUndefined();
        expect(asArrays(events)).toEqual(asArrays(items));
      }),
      { numRuns: 300 },
    );
  });

  it('every cut of a valid stream into chunks decodes to the same messages and commands', () => {
    fc.assert(
      fc.property(
        fc.array(itemArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (items, offsets) => {
          const stream = encodeItems(items);
          const { events, violation } = decode(cut(stream, offsets));
          expect(violation).toBeUndefined();
          expect(asArrays(events)).toEqual(asArrays(items));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a stream fed one byte at a time decodes to the same messages', () => {
    fc.assert(
      fc.property(fc.array(itemArb, { minLength: 1, maxLength: 3 }), (items) => {
        const stream = encodeItems(items);
        const bytes = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
        expect(asArrays(decode(bytes).events)).toEqual(asArrays(items));
      }),
      { numRuns: 50 },
    );
  });
});

describe('decoder: without Node Buffer (browser)', () => {
  it('hands out plain Uint8Arrays for frames spanning chunks', async () => {
    vi.stubGlobal('Buffer', undefined);
    vi.resetModules();
    try {
      const { FrameDecoder: BrowserDecoder } = await import('../../src/protocol/frame-decoder.js');
      const got: Uint8Array[] = [];
      const d = new BrowserDecoder();
      const sink = { onMessage: (f: Uint8Array[]) => got.push(...f), onCommand: () => {} };
      d.push(hex('00 03 61'), sink);
      d.push(hex('62 63'), sink);
      expect(got[0]).toBeInstanceOf(Uint8Array);
      expect(got[0].constructor).toBe(Uint8Array);
      expect(Array.from(got[0])).toEqual([0x61, 0x62, 0x63]);
    } finally {
      vi.unstubAllGlobals();
      vi.resetModules();
    }
  });
});
