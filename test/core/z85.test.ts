import { describe, expect, it } from 'vitest';
import { curveKeyBytes, z85Decode, z85Encode } from '../../src/core/z85.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('Z85 (RFC 32)', () => {
  it('encodes and decodes the RFC test vector', () => {
    const bytes = new Uint8Array([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
    expect(z85Encode(bytes)).toBe('HelloWorld');
    expect(hex(z85Decode('HelloWorld'))).toBe('864fd26fb559f75b');
  });

  it('decodes the libzmq test key to its known bytes, and back', () => {
    const key = 'Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID';
    const bytes = z85Decode(key);
    expect(hex(bytes)).toBe('bb88471d65e2659b30c55a5321cebb5aab2b70a398645c26dca2b2fcb43fc518');
    expect(z85Encode(bytes)).toBe(key);
  });

  it('round-trips the extremes of a group', () => {
    for (const b of [new Uint8Array(4), new Uint8Array(4).fill(0xff), new Uint8Array([1, 2, 3, 4, 250, 251, 252, 253])]) {
      expect(z85Decode(z85Encode(b))).toEqual(b);
    }
    expect(z85Encode(new Uint8Array(4).fill(0xff))).toBe('%nSc0');
  });

  it('refuses what is not Z85, naming the problem', () => {
    expect(() => z85Encode(new Uint8Array(3))).toThrow(/3 bytes is not a multiple of 4/);
    expect(() => z85Decode('Hell')).toThrow(/4 characters is not a multiple of 5/);
    expect(() => z85Decode('Hell"')).toThrow(/"\\"" at offset 4/);
    expect(() => z85Decode('%nSc1')).toThrow(/worth more than 32 bits/);
  });

  it('takes keys as 40 Z85 characters, 41 with a NUL, or 32 bytes', () => {
    const key = 'Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID';
    expect(curveKeyBytes('curvePublicKey', key)).toEqual(z85Decode(key));
    expect(curveKeyBytes('curvePublicKey', `${key}\0`)).toEqual(z85Decode(key));
    const raw = new Uint8Array(32).fill(7);
    const copy = curveKeyBytes('curvePublicKey', raw);
    raw[0] = 0;
    expect(copy[0]).toBe(7);
    expect(() => curveKeyBytes('curveServerKey', 'short')).toThrow(/curveServerKey: a Z85 key has 40 characters; this one has 5/);
    expect(() => curveKeyBytes('curveServerKey', new Uint8Array(31))).toThrow(/32 of them; this one has 31/);
    expect(() => curveKeyBytes('curveServerKey', 5)).toThrow(/not number/);
  });
});
