// Scene: a Push held at its high-water mark and released as the receiver drains.

import { Context, Pull, Push } from '../src/index.js';
import { scene, step, watch } from './show.js';

export async function hwmScene(): Promise<void> {
  const context = new Context();
  scene('HWM: a Push held at its high-water mark, then released');
  const push = watch('push', new Push({ context, sendHighWaterMark: 2 }));
  const pull = watch('pull', new Pull({ context, receiveHighWaterMark: 2 }));
  await push.bind('inproc://hwm');
  pull.connect('inproc://hwm');
  step('inproc pipe capacity = SNDHWM 2 + RCVHWM 2 = 4 messages');
  for (let i = 1; i <= 4; i++) {
    await push.send(`msg ${i}`);
    step(`sent msg ${i}; push.writable = ${push.writable}`);
  }
  let released = false;
  const fifth = push.send('msg 5').then(() => (released = true));
  await new Promise((r) => setTimeout(r, 20));
  step(`msg 5 is waiting (push is mute): released = ${released}`);
  for (let i = 1; i <= 2; i++) step(`pull received ${(await pull.receive())[0]?.toString()}`);
  await fifth;
  step(`after draining to the low-water mark, msg 5 went through: released = ${released}`);
  for (let i = 3; i <= 5; i++) step(`pull received ${(await pull.receive())[0]?.toString()}`);
  push.close();
  pull.close();
}
