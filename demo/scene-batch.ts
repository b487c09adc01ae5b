// Scene: batches. sendMany and receiveMany move many messages per promise, with send()'s and
// receive()'s rules for each: the HWM holds the rest of a batch back, and a failure says how many went.

import { Context, Pull, Push } from '../src/index.js';
import type { ZmqError } from '../src/index.js';
import { act, scene, step, watch } from './show.js';

const names = (messages: Uint8Array[][]) => messages.map((m) => Buffer.from(m[0] as Uint8Array).toString()).join(' ');

/** Messages per second through an inproc PUSH/PULL pair, one promise per message or per batch. */
async function rate(batch: number, total: number): Promise<number> {
  const context = new Context();
  const pull = new Pull({ context });
  await pull.bind('inproc://rate');
  const push = new Push({ context });
  push.connect('inproc://rate');
  const payload = Buffer.alloc(16);
  const messages = Array.from({ length: batch }, () => payload);
  const t0 = performance.now();
  const receiving = (async () => {
    for (let got = 0; got < total;) got += batch === 1 ? ((await pull.receive()), 1) : (await pull.receiveMany()).length;
  })();
  for (let sent = 0; sent < total; sent += batch) await (batch === 1 ? push.send(payload) : push.sendMany(messages));
  await receiving;
  const seconds = (performance.now() - t0) / 1000;
  push.close();
  pull.close();
  return total / seconds;
}

export async function batchScene(): Promise<void> {
  const context = new Context();
  scene('Batches: many messages per promise, the same rules per message');
  const { push, pull } = await act('push (SNDHWM 4) bound inproc://batch, pull (RCVHWM 4) connected', async () => {
    const push = watch('push', new Push({ context, sendHighWaterMark: 4 }));
    const pull = watch('pull', new Pull({ context, receiveHighWaterMark: 4 }));
    await push.bind('inproc://batch');
    pull.connect('inproc://batch');
    return { push, pull };
  });
  const ten = Array.from({ length: 10 }, (_, i) => `m${i}`);
  let done = false;
  const { sending } = await act(
    () => `push.sendMany(m0..m9): 8 fit the pipe (4 + 4), the rest wait; resolved = ${done}`,
    async () => {
      const sending = push.sendMany(ten).then(() => (done = true));
      await new Promise((r) => setTimeout(r, 20));
      return { sending };
    },
  );
  await act((got) => `pull.receiveMany() took ${got.length} in one call: ${names(got)}`, () => pull.receiveMany());
  await act(() => `the pipe drained, the last two went: resolved = ${done}`, () => sending);
  await act((got) => `pull.receiveMany({ max: 1 }) took ${names(got)}`, () => pull.receiveMany({ max: 1 }));
  await act((got) => `pull.receiveMany() took ${names(got)}`, () => pull.receiveMany());

  push.sendTimeout = 20;
  await act(
    (e) => `nobody reads, sendTimeout 20: sendMany of 12 fails: ${e.code} with error.sent = ${e.sent} (those stay queued)`,
    () => push.sendMany(Array.from({ length: 12 }, (_, i) => `n${i}`)).then(() => { throw new Error('sendMany should have timed out'); }, (e: ZmqError) => e),
  );
  await act('push and pull closed', () => {
    push.close();
    pull.close();
  });

  step('when to use it: streams of small messages, where one promise per message is most of the cost');
  // Each measured after a first run (the JIT's warm-up), on a quiet machine or not: an indication.
  await rate(1, 500_000);
  const one = await rate(1, 300_000);
  await rate(256, 500_000);
  const many = await rate(256, 300_000);
  step(`16-byte messages over inproc here: ${(one / 1e6).toFixed(1)} M/s with send(), ${(many / 1e6).toFixed(1)} M/s with sendMany of 256`);
}
