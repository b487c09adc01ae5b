// The fuzzer's ledger: a delivered message is credited to the case whose own message it is (it
// carries that case's marker), even when another case's stream carried a copy of the same bytes.

import { describe, expect, it } from 'vitest';
import { DeliveryBook, Permit } from './deliveries.js';
import { FUZZ_PREFIX } from './generators.js';

const frame = (text: string): Uint8Array => new TextEncoder().encode(text);
const marked = (caseIndex: number, n: number): Uint8Array => frame(`${FUZZ_PREFIX}${caseIndex.toString(36)}.${n}:`);

describe('DeliveryBook', () => {
  it('credits a message to the case that owns it before a case that merely permits a copy', () => {
    const book = new DeliveryBook(false);
    // Case 5's stream carried a copy of case 10's second message (a splice): permitted, not its own.
    const copier = new Permit(5, { entries: [{ frames: [marked(10, 1)] }], ordered: true, strict: true });
    const owner = new Permit(10, { entries: [{ frames: [marked(10, 0)] }, { frames: [marked(10, 1)] }], ordered: true, strict: true });
    book.add(copier); // registered first, as the earlier case is
    book.add(owner);
    expect(copier.required).toBe(0);
    expect(owner.required).toBe(2);
    expect(book.check([marked(10, 0)])).toEqual({ ok: true, caseIndex: 10 });
    expect(book.check([marked(10, 1)])).toEqual({ ok: true, caseIndex: 10 });
    expect(owner.complete).toBe(true);
    // The copy, if it comes too, is the other case's to take.
    expect(book.check([marked(10, 1)])).toEqual({ ok: true, caseIndex: 5 });
  });
});
