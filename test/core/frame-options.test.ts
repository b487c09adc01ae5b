import { describe, expect, it } from 'vitest';
import { COPY_AT_SEND, toFrame, toMessage } from '../../src/core/frame.js';
import { describeValue } from '../../src/core/errors.js';
import { defaultOptions, OPTION_SPECS, routingIdBytes, validateOption } from '../../src/core/options.js';

describe('frames', () => {
  it('frame: a Buffer over 128 bytes passes through as the same object', () => {
    const b = Buffer.alloc(COPY_AT_SEND + 1, 1);
    expect(toFrame(b)).toBe(b);
  });

  it('frame: a Uint8Array over 128 bytes becomes a Buffer over the same memory', () => {
    const u = new Uint8Array(COPY_AT_SEND + 3).subarray(1, COPY_AT_SEND + 2);
    const f = toFrame(u);
    expect(Buffer.isBuffer(f)).toBe(true);
    u[0] = 9;
    expect(f[0]).toBe(9);
  });

  it('frame: up to 128 bytes are copied (as zeromq.js does): later changes to the input do not reach the frame', () => {
    expect(COPY_AT_SEND).toBe(128);
    const b = Buffer.alloc(COPY_AT_SEND, 1);
    const u = new Uint8Array([1, 2, 3, 4]).subarray(1, 3);
    const ab = new Uint8Array([5, 6]).buffer;
    const [fb, fu, fab] = [toFrame(b), toFrame(u), toFrame(ab)];
    expect(fb).not.toBe(b);
    expect(Buffer.isBuffer(fu)).toBe(true);
    b.fill(0);
    u[0] = 9;
    new Uint8Array(ab)[0] = 0;
    expect([fb[0], fb[COPY_AT_SEND - 1]]).toEqual([1, 1]);
    expect([...fu]).toEqual([2, 3]);
    expect([...fab]).toEqual([5, 6]);
  });

  it('frame: a wider view is sized in bytes, not elements, for the copy at send', () => {
    // 64 two-byte elements are 128 bytes (copied); 65 are 130 bytes (carried by reference).
    const copied = new Uint16Array(COPY_AT_SEND / 2).fill(0x0101);
    const shared = new Uint16Array(COPY_AT_SEND / 2 + 1).fill(0x0101);
    const [fc, fs] = [toFrame(copied), toFrame(shared)];
    expect([fc.length, fs.length]).toEqual([COPY_AT_SEND, COPY_AT_SEND + 2]);
    copied[0] = 0;
    shared[0] = 0;
    expect([fc[0], fs[0]]).toEqual([1, 0]);
    // A DataView over part of a buffer: its bytes only, copied when small.
    const dv = new DataView(new Uint8Array([1, 2, 3, 4, 5]).buffer, 1, 3);
    expect([...toFrame(dv)]).toEqual([2, 3, 4]);
    // Over a stream's copy limit (the copyAbove argument), a large view is copied too.
    const large = new Uint16Array(2000).fill(0x0202);
    const fl = toFrame(large, 2048);
    large[0] = 0;
    expect([fl.length, fl[0]]).toEqual([4000, 2]);
  });

  it('frame: strings are UTF-8, null is an empty frame, ArrayBuffer is viewed', () => {
    expect([...toFrame('é')]).toEqual([0xc3, 0xa9]);
    expect(toFrame(null).byteLength).toBe(0);
    const ab = new Uint8Array([7, 8]).buffer;
    expect([...toFrame(ab)]).toEqual([7, 8]);
  });

  it('message: an empty array and unsupported frame types are EINVAL', () => {
    expect(() => toMessage([])).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => toMessage([Symbol('x') as never])).toThrow(/^frame 0 of 1 is a symbol \(x\), which is not sendable/);
    expect(() => toMessage(Symbol('y') as never)).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringMatching(/^message is a symbol \(y\),/) }));
  });

  it('message: undefined is no frame (EINVAL naming its place); only null makes an empty frame', () => {
    expect(() => toMessage(undefined as never)).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringMatching(/^message is undefined,/) }));
    expect(() => toMessage(['a', undefined] as never)).toThrow(/^frame 1 of 2 is undefined, which is not sendable/);
    expect(() => toMessage(['a', ['b']] as never)).toThrow(/^frame 1 of 2 is an array of 1 item \(frames may not be nested\)/);
    expect(toMessage(['a', null]).map((f) => f.byteLength)).toEqual([1, 0]);
  });

  it('error messages show values as what they are, never [object Object]', () => {
    expect(describeValue(5n)).toBe('the bigint 5n');
    expect(describeValue(new Number(5))).toBe('a Number object');
    expect(describeValue([1, 2])).toBe('an array of 2 items');
    expect(describeValue(new Uint8Array(3))).toBe('3 bytes');
    expect(describeValue(Symbol('s'))).toBe('a symbol (s)');
    expect(describeValue(Object.create(null))).toBe('a plain object');
    expect(describeValue('x'.repeat(100))).toBe(JSON.stringify(`${'x'.repeat(57)}...`));
    expect(() => validateOption('linger', 5n)).toThrow('option linger (ZMQ_LINGER): the bigint 5n is not an integer in -1..2147483647');
    expect(() => validateOption('linger', {})).toThrow(/a plain object is not an integer/);
  });
});

describe('options', () => {
  it('options: defaults follow libzmq and zeromq.js', () => {
    const o = defaultOptions();
    expect(o.sendHighWaterMark).toBe(1000);
    expect(o.receiveHighWaterMark).toBe(1000);
    expect(o.linger).toBe(-1);
    expect(o.sendTimeout).toBe(-1);
    expect(o.reconnectInterval).toBe(100);
    expect(o.handshakeInterval).toBe(30000);
  });

  it('options: the defaults object names every option once, each with its spec\'s default', () => {
    const o = defaultOptions() as unknown as Record<string, unknown>;
    // Its own and its prototype's: the options most sockets never set live once, on a shared prototype.
    const names: string[] = [];
    for (const name in o) names.push(name);
    expect(names.sort()).toEqual(Object.keys(OPTION_SPECS).sort());
    for (const [name, spec] of Object.entries(OPTION_SPECS)) expect(o[name], name).toBe(spec.default);
  });

  it('options: a negative HWM is EINVAL naming the option, the value and the range', () => {
    expect(() => validateOption('sendHighWaterMark', -5)).toThrow(
      expect.objectContaining({ code: 'EINVAL', message: 'option sendHighWaterMark (ZMQ_SNDHWM): -5 is not an integer in 0..2147483647' }),
    );
  });

  it('options: wrong types and fractions are EINVAL', () => {
    expect(() => validateOption('linger', 1.5)).toThrow(/linger .*1\.5 is not an integer/);
    expect(() => validateOption('linger', '10')).toThrow(/"10" is not an integer/);
    expect(() => validateOption('immediate', 1)).toThrow(/1 is not a boolean/);
    expect(() => validateOption('verbosity', 'loud')).toThrow(/"loud" is not one of null, "allSubs", "allSubsUnsubs"/);
  });

  it('options: routing ids have 1..255 bytes and may not start with a 0 byte', () => {
    expect(validateOption('routingId', 'worker-1')).toBe('worker-1');
    expect(() => validateOption('routingId', '')).toThrow(/0 bytes; a routing id has 1..255 bytes/);
    expect(() => validateOption('routingId', 'x'.repeat(256))).toThrow(/256 bytes/);
    expect(() => validateOption('routingId', '\u0000abc')).toThrow(/starts with a 0 byte/);
  });

  it('options: a routing id given as bytes keeps exactly those bytes (not valid UTF-8 either)', () => {
    const given = new Uint8Array([0xff, 0x80, 0x01]);
    const kept = validateOption('routingId', given) as Uint8Array;
    expect([...kept]).toEqual([0xff, 0x80, 0x01]);
    given[0] = 0x41; // a later change by the caller does not rename the socket
    expect([...(routingIdBytes(kept) as Uint8Array)]).toEqual([0xff, 0x80, 0x01]);
    expect([...(routingIdBytes('é') as Uint8Array)]).toEqual([0xc3, 0xa9]);
    expect(() => validateOption('routingId', new Uint8Array(256).fill(0xff))).toThrow(/256 bytes; a routing id has 1..255 bytes/);
  });
});
