// fast-check arbitraries for codec properties: frames around the short/long boundary, messages and
// commands, and a way to cut a byte stream into chunks.

import fc from 'fast-check';

/** A frame body, biased towards the interesting sizes: empty, 255/256 (short/long), 300, and large. */
export const frameArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(0, 1, 254, 255, 256, 257, 300)
      .chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
  },
  {
    // Around the encoder's copy threshold (2 KiB) and well above it.
    weight: 1,
    arbitrary: fc
      .constantFrom(2047, 2048, 2049, 9000)
      .map((n) => Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff)),
  },
);

export const messageArb = fc.array(frameArb, { minLength: 1, maxLength: 5 });

export const commandNameArb = fc.constantFrom('PING', 'PONG', 'SUBSCRIBE', 'CANCEL', 'X', 'CUSTOM-COMMAND');

export type Item = { message: Uint8Array[] } | { command: string; data: Uint8Array };

export const itemArb: fc.Arbitrary<Item> = fc.oneof(
  { weight: 3, arbitrary: messageArb.map((message) => ({ message })) },
  { weight: 1, arbitrary: fc.record({ command: commandNameArb, data: frameArb }) },
);

/** Cuts `bytes` at the given offsets (any order, duplicates allowed) into subarray chunks. */
export function cut(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(prev, p));
    prev = p;
  }
  return chunks;
}
