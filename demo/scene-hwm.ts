// Scene: a Push held at its high-water mark and released as the receiver drains.

import { Context, Pull, Push } from '../src/index.js';
import { act, scene, step, watch } from './show.js';

export async function hwmScene(): Promise<void> {
  const context = new Context();
  scene('HWM: a Push held at its high-water mark, then released');
  const { push, pull } = await act('push (SNDHWM 2) bound inproc://hwm, pull (RCVHWM 2) connected', async () => {
    const push = watch('push', new Push({ context, sendHighWaterMark: 2 }));
    const pull = watch('pull', new Pull({ context, receiveHighWaterMark: 2 }));
    await push.bind('inproc://hwm');
    pull.connect('inproc://hwm');
    return { push, pull };
  });
  step('inproc pipe capacity = SNDHWM 2 + RCVHWM 2 = 4 messages');
  for (let i = 1; i <= 4; i++) await act(() => `sent msg ${i}; push.writable = ${push.writable}`, () => push.send(`msg ${i}`));
  let released = false;
  const { fifth } = await act(
    () => `msg 5 is waiting (push is mute): released = ${released}`,
    async () => {
      const fifth = push.send('msg 5').then(() => (released = true));
      await new Promise((r) => setTimeout(r, 20));
      return { fifth }; // wrapped: returning the promise itself would wait for it
    },
  );
  const receive = async () => (await pull.receive())[0]?.toString();
  for (let i = 1; i <= 2; i++) await act((got) => `pull received ${got}`, receive);
  await act(() => `after draining to the low-water mark, msg 5 went through: released = ${released}`, () => fifth);
  for (let i = 3; i <= 5; i++) await act((got) => `pull received ${got}`, receive);
  await act('push and pull closed', () => {
    push.close();
    pull.close();
  });
}
