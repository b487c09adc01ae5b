// Property: random sequences of connect, send, receive and close over Push/Pull never lose,
// reorder (per sender) or duplicate an accepted message. The one loss the rules allow: messages
// queued to a Pull that is closed with them unread.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Context } from '../../src/socket/context.js';
import { Pull, Push } from '../../src/socket/push-pull.js';

type Op =
  | { kind: 'connect' }
  | { kind: 'send'; sender: number }
  | { kind: 'receive'; receiver: number }
  | { kind: 'closeReceiver'; receiver: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'connect' as const }) },
  { weight: 5, arbitrary: fc.nat(2).map((sender) => ({ kind: 'send' as const, sender })) },
  { weight: 4, arbitrary: fc.nat(3).map((receiver) => ({ kind: 'receive' as const, receiver })) },
  { weight: 1, arbitrary: fc.nat(3).map((receiver) => ({ kind: 'closeReceiver' as const, receiver })) },
);

describe('property: Push → Pull delivery', () => {
  it('property: no accepted message is duplicated, reordered per sender, or lost unless its receiver closed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 4 }), async (ops, hwm) => {
        const context = new Context();
        // Three pushers bind; pulls connect to all of them.
        const pushes = [0, 1, 2].map(() => new Push({ context, sendHighWaterMark: hwm, sendTimeout: 0, linger: 0 }));
        for (const [i, p] of pushes.entries()) await p.bind(`inproc://prop-${i}`);
        const pulls: { sock: Pull; open: boolean; got: string[] }[] = [];
        const accepted: string[] = [];
        const lastSeq = new Map<string, number>(); // receiver/sender → last sequence number seen
        const seen = new Set<string>();
        let seq = 0;
        const take = (r: number, msg: Buffer[]) => {
          const [sender, n] = (msg[0] as Buffer).toString().split(':').map(Number) as [number, number];
          const id = `${sender}:${n}`;
          expect(seen.has(id)).toBe(false); // no duplicate
          seen.add(id);
          const key = `${r}/${sender}`;
          expect(n).toBeGreaterThan(lastSeq.get(key) ?? -1); // per-pipe order
          lastSeq.set(key, n);
          pulls[r]?.got.push(id);
        };
        for (const o of ops) {
          if (o.kind === 'connect') {
            const sock = new Pull({ context, receiveHighWaterMark: hwm, receiveTimeout: 0 });
            for (let i = 0; i < 3; i++) sock.connect(`inproc://prop-${i}`);
            pulls.push({ sock, open: true, got: [] });
          } else if (o.kind === 'send') {
            const id = `${o.sender}:${seq++}`;
            try {
              await (pushes[o.sender] as Push).send(id);
              accepted.push(id);
            } catch (e) {
              expect((e as { code: string }).code).toBe('EAGAIN'); // full or no peer: refused, not lost
            }
          } else {
            const p = pulls[o.receiver];
            if (p === undefined || !p.open) continue;
            if (o.kind === 'receive') {
              try {
                take(o.receiver, await p.sock.receive());
              } catch (e) {
                expect((e as { code: string }).code).toBe('EAGAIN');
              }
            } else {
              p.open = false;
              p.sock.close();
            }
          }
        }
        // Drain the open receivers.
        for (const [r, p] of pulls.entries()) {
          if (!p.open) continue;
          while (p.sock.readable) take(r, await p.sock.receive());
        }
        const received = new Set(seen);
        for (const id of received) expect(accepted).toContain(id);
        const anyClosed = pulls.some((p) => !p.open);
        if (!anyClosed) {
          // Every accepted message was either received or is still queued toward... nobody:
          // with all pulls open and drained, nothing may be missing.
          expect([...received].sort()).toEqual([...accepted].sort());
        }
        for (const p of pushes) p.close();
        for (const p of pulls) p.sock.close();
      }),
      { numRuns: 150 },
    );
  });
});
