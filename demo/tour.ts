// The tour of monocoque: `npm run demo`. Each scene prints its steps and the socket machines'
// state changes as they happen.

import { hwmScene } from './scene-hwm.js';
import { inprocScene } from './scene-inproc.js';

const scenes: [string, () => Promise<void>][] = [
  ['inproc', inprocScene],
  ['hwm', hwmScene],
];

for (const [name, run] of scenes) {
  try {
    await run();
  } catch (e) {
    console.error(`scene ${name} failed:`, e);
    process.exitCode = 1;
  }
}
console.log(process.exitCode ? '\nThe tour hit an error.' : '\nTour complete.');
