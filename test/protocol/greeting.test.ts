import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  checkMechanism,
  encodeGreeting,
  GreetingDecoder,
  isZmtp31,
  type GreetingResult,
} from '../../src/protocol/index.js';
import { hex } from './helpers.js';

// PROTOCOL.md §2: our NULL greeting, ZMTP 3.1, padding zero.
const NULL_GREETING = hex(`
  ff 00 00 00 00 00 00 00 00 7f 03 01 4e 55 4c 4c
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00`);

// libzmq tests/testutil.hpp zmtp_greeting_null: same but minor 0 (ZMTP 3.0).
const LIBZMQ_NULL_GREETING_30 = (() => {
  const g = Uint8Array.from(NULL_GREETING);
  g[11] = 0;
  return g;
})();

function greetingWith(mechanism: string, asServer: number, major = 3, minor = 1): Uint8Array {
  const g = new Uint8Array(64);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = major;
  g[11] = minor;
  for (let i = 0; i < mechanism.length; i++) g[12 + i] = mechanism.charCodeAt(i);
  g[32] = asServer;
  return g;
}

function feedAll(chunks: Uint8Array[]): GreetingResult {
  const d = new GreetingDecoder();
  let r: GreetingResult = { done: false };
  for (const c of chunks) {
    r = d.push(c);
    if (r.done) return r;
  }
  return r;
}

describe('greeting: encoding', () => {
  it('encodes the NULL greeting byte for byte as PROTOCOL.md §2', () => {
    expect(Array.from(encodeGreeting('NULL', false))).toEqual(Array.from(NULL_GREETING));
  });

  it('encodes PLAIN and CURVE servers with as-server 1 and clients with 0', () => {
    const plainServer = encodeGreeting('PLAIN', true);
    expect(Array.from(plainServer)).toEqual(Array.from(greetingWith('PLAIN', 1)));
    expect(encodeGreeting('CURVE', false)[32]).toBe(0);
    expect(encodeGreeting('CURVE', true)[32]).toBe(1);
    expect(Array.from(encodeGreeting('CURVE', true).subarray(12, 32))).toEqual(
      Array.from(greetingWith('CURVE', 1).subarray(12, 32)),
    );
  });

  it('never sets as-server for NULL (RFC 23 requires 0)', () => {
    expect(encodeGreeting('NULL', true)[32]).toBe(0);
  });

  it('returns a Node Buffer under Node', () => {
    expect(Buffer.isBuffer(encodeGreeting('NULL', false))).toBe(true);
  });
});

describe('greeting: decoding', () => {
  it('decodes a whole greeting and hands back the bytes after it as a view', () => {
    const chunk = new Uint8Array(70);
    chunk.set(NULL_GREETING);
    chunk.set([4, 25, 5, 82, 69, 65], 64);
    const r = new GreetingDecoder().push(chunk);
    expect(r.done).toBe(true);
    if (!r.done || r.error) throw new Error('expected a greeting');
    expect(r.greeting).toEqual({ major: 3, minor: 1, mechanism: 'NULL', asServer: false });
    expect(Array.from(r.rest)).toEqual([4, 25, 5, 82, 69, 65]);
    expect(r.rest.buffer).toBe(chunk.buffer);
  });

  it('decodes libzmq test greeting as ZMTP 3.0', () => {
    const r = new GreetingDecoder().push(LIBZMQ_NULL_GREETING_30);
    if (!r.done || r.error) throw new Error('expected a greeting');
    expect(r.greeting.minor).toBe(0);
    expect(isZmtp31(r.greeting)).toBe(false);
  });

  it('is not done before 64 bytes and yields an empty rest when the greeting ends the chunk', () => {
    const d = new GreetingDecoder();
    expect(d.push(NULL_GREETING.subarray(0, 63))).toEqual({ done: false });
    const r = d.push(NULL_GREETING.subarray(63));
    if (!r.done || r.error) throw new Error('expected a greeting');
    expect(r.rest.length).toBe(0);
  });

  it('decodes the same greeting whatever the chunk boundaries', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 63 }), { maxLength: 10 }), (cuts) => {
        const sorted = [...cuts].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let prev = 0;
        for (const c of [...sorted, 64]) {
          chunks.push(NULL_GREETING.subarray(prev, c));
          prev = c;
        }
        const r = feedAll(chunks);
        expect(r.done && r.greeting).toEqual({ major: 3, minor: 1, mechanism: 'NULL', asServer: false });
      }),
    );
  });

  it('reads the mechanism name without its NUL padding and reads as-server', () => {
    const r = new GreetingDecoder().push(greetingWith('CURVE', 1));
    expect(r.done && r.greeting).toEqual({ major: 3, minor: 1, mechanism: 'CURVE', asServer: true });
  });

  it('accepts later majors (RFC 37) and counts them as 3.1 behaviour', () => {
    const r = new GreetingDecoder().push(greetingWith('NULL', 0, 4, 0));
    if (!r.done || r.error) throw new Error('expected a greeting');
    expect(r.greeting.major).toBe(4);
    expect(isZmtp31(r.greeting)).toBe(true);
  });

  it('refuses a ZMTP 1.0 peer as soon as octet 0 arrives', () => {
    const r = new GreetingDecoder().push(hex('01'));
    expect(r.done).toBe(true);
    expect(r.done && r.error?.code).toBe('ERR_ZMTP_UNSUPPORTED_VERSION');
    expect(r.done && r.error?.message).toMatch(/ZMTP 1\.0/);
  });

  it('refuses a ZMTP 1.0 long-length peer at octet 9 (bit 0 clear)', () => {
    const d = new GreetingDecoder();
    expect(d.push(hex('ff 00 00 00 00 00 00 00 01')).done).toBe(false);
    const r = d.push(hex('7e'));
    expect(r.done && r.error?.code).toBe('ERR_ZMTP_UNSUPPORTED_VERSION');
  });

  it('refuses a ZMTP 2.0 peer at octet 10 without waiting for 64 bytes', () => {
    const r = new GreetingDecoder().push(hex('ff 00 00 00 00 00 00 00 01 7f 01'));
    expect(r.done && r.error?.code).toBe('ERR_ZMTP_UNSUPPORTED_VERSION');
    expect(r.done && r.error?.message).toMatch(/ZMTP 2\.0/);
  });

  it('keeps returning its verdict once done', () => {
    const bad = new GreetingDecoder();
    const first = bad.push(hex('00'));
    expect(bad.push(NULL_GREETING)).toBe(first);
    const good = new GreetingDecoder();
    good.push(NULL_GREETING);
    const again = good.push(hex('01 02'));
    expect(again.done && Array.from(again.rest ?? [])).toEqual([1, 2]);
  });

  it('never throws and never errs on a valid signature, whatever the other octets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (g) => {
        g[0] = 0xff;
        g[9] |= 1;
        g[10] = Math.max(3, g[10]);
        const r = new GreetingDecoder().push(g);
        expect(r.done && r.error).toBeFalsy();
      }),
    );
  });
});

describe('greeting: mechanism check', () => {
  it('accepts an identical mechanism', () => {
    const r = new GreetingDecoder().push(NULL_GREETING);
    if (!r.done || r.error) throw new Error('expected a greeting');
    expect(checkMechanism('NULL', r.greeting)).toBeUndefined();
  });

  it('reports ERR_ZMTP_MECHANISM_MISMATCH naming both mechanisms', () => {
    const r = new GreetingDecoder().push(greetingWith('PLAIN', 0));
    if (!r.done || r.error) throw new Error('expected a greeting');
    const v = checkMechanism('CURVE', r.greeting);
    expect(v?.code).toBe('ERR_ZMTP_MECHANISM_MISMATCH');
    expect(v?.message).toMatch(/PLAIN/);
    expect(v?.message).toMatch(/CURVE/);
  });

  it('compares all 20 octets: a name with bytes after a NUL does not match', () => {
    const g = greetingWith('NULL', 0);
    g[20] = 0x41;
    const r = new GreetingDecoder().push(g);
    if (!r.done || r.error) throw new Error('expected a greeting');
    expect(checkMechanism('NULL', r.greeting)?.code).toBe('ERR_ZMTP_MECHANISM_MISMATCH');
  });

  it('is case-sensitive', () => {
    const r = new GreetingDecoder().push(greetingWith('null', 0));
    if (!r.done || r.error) throw new Error('expected a greeting');
    expect(checkMechanism('NULL', r.greeting)?.code).toBe('ERR_ZMTP_MECHANISM_MISMATCH');
  });
});
