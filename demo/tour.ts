// The tour of monocoque: `npm run demo`. Each scene prints its steps, each with the socket
// machines' state changes it caused indented under it (see show.ts), within a screenful.

import { batchScene } from './scene-batch.js';
import { dealerRouterScene } from './scene-dealer-router.js';
import { hwmScene } from './scene-hwm.js';
import { inprocScene } from './scene-inproc.js';
import { libzmqScene } from './scene-libzmq.js';
import { pubSubScene } from './scene-pubsub.js';
import { reqRepScene } from './scene-reqrep.js';
import { securityScene } from './scene-security.js';

const scenes: [string, () => Promise<void>][] = [
  ['inproc', inprocScene],
  ['hwm', hwmScene],
  ['batches', batchScene],
  ['req/rep', reqRepScene],
  ['dealer/router', dealerRouterScene],
  ['pub/sub', pubSubScene],
  ['libzmq', libzmqScene],
  ['security', securityScene],
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
