// Hex text of bytes (how subscription prefixes travel in machine events): short and long inputs
// take different paths; both must agree with Node's own hex, and fromHex must undo them.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/core/frame.js';

describe('toHex / fromHex', () => {
  it('agree with Buffer hex and undo each other, on both sides of the long-input path', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
        const hex = toHex(bytes);
        expect(hex).toBe(Buffer.from(bytes).toString('hex'));
        expect([...fromHex(hex)]).toEqual([...bytes]);
      }),
      { numRuns: 500 },
    );
  });

  it('writes a 4 MiB prefix in one pass (a hostile SUBSCRIBE can be this long)', () => {
    const bytes = new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 7) & 0xff);
    const hex = toHex(bytes);
    expect(hex.length).toBe(8 * 1024 * 1024);
    expect(hex.slice(0, 8)).toBe('00070e15');
    expect(hex).toBe(Buffer.from(bytes).toString('hex'));
  });
});
